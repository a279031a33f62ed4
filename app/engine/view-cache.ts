// ViewCache: an LRU of mapped windows of one native source, under a byte budget.
//
// Windows start at multiples of `viewSize` (itself a multiple of the addon's granularity, so every
// window is aligned as MapViewOfFile/mmap require) and are clipped to the source size. A reader
// *pins* the window it copies from (acquire → read → release); eviction never unmaps a pinned
// window: it is retired instead (dropped from the cache, unmapped on its last release). The addon
// would also defer an unmap until its in-flight reads finish, but we do not lean on that.
//
// The budget is strict for async readers: when every mapped byte is pinned, `acquire` waits for a
// release. Sync readers cannot wait, so they may overshoot briefly; the overshoot is trimmed on
// their release.

import type { NativeSource, NativeView } from "../../native/index";
import { HexmapError } from "./errors";

export const MiB = 1024 * 1024;
export const DEFAULT_VIEW_SIZE = 64 * MiB;
export const DEFAULT_MAX_VIEWS = 8;

/** `offset` rounded down to a multiple of `unit` (a window start that maps as the OS requires). */
export function alignDown(offset: number, unit: number): number {
  return offset - (offset % unit);
}

export interface ViewCacheOptions {
  /** The addon's allocation granularity (64 KiB on Windows, the page size on POSIX). */
  granularity: number;
  /** Bytes per window; a positive multiple of granularity. Default 64 MiB. */
  viewSize?: number;
  /** Budget for all mapped windows together; at least viewSize. Default 8 × viewSize. */
  maxBytes?: number;
}

export interface ViewCacheStats {
  /** Windows currently mapped (cached + retired-but-pinned). */
  views: number;
  mappedBytes: number;
  /** Highest mappedBytes ever observed. */
  peakMappedBytes: number;
  pinned: number;
  viewSize: number;
  maxBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** A pinned window. Call release() exactly once (extra calls are ignored). */
export interface ViewLease {
  /** Source offset of the window's first byte. */
  readonly offset: number;
  readonly length: number;
  readonly view: NativeView;
  release(): void;
}

interface Entry {
  start: number;
  length: number;
  view: NativeView;
  pins: number;
  /** Out of the cache; unmap when pins reaches 0. */
  retired: boolean;
}

export class ViewCache {
  readonly viewSize: number;
  readonly maxBytes: number;
  private readonly source: NativeSource;
  /** Live windows by start offset; Map order is LRU order (oldest first). */
  private readonly entries = new Map<number, Entry>();
  private readonly retired = new Set<Entry>();
  private waiters: Array<() => void> = [];
  private mapped = 0;
  private peak = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private closed = false;

  constructor(source: NativeSource, options: ViewCacheOptions) {
    const g = options.granularity;
    if (!Number.isSafeInteger(g) || g <= 0) throw new HexmapError("EINVAL", `Bad granularity ${g}`);
    const viewSize = options.viewSize ?? Math.max(g, DEFAULT_VIEW_SIZE - (DEFAULT_VIEW_SIZE % g));
    if (!Number.isSafeInteger(viewSize) || viewSize <= 0 || viewSize % g !== 0) {
      throw new HexmapError("EINVAL", `viewSize must be a positive multiple of ${g} bytes, got ${viewSize}`);
    }
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_VIEWS * viewSize;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < viewSize) {
      throw new HexmapError("EINVAL", `maxBytes must be at least viewSize (${viewSize}), got ${maxBytes}`);
    }
    this.source = source;
    this.viewSize = viewSize;
    this.maxBytes = maxBytes;
  }

  /**
   * Pins the window holding `offset` (which must be < sourceSize), mapping it if needed. Waits
   * while the budget is fully pinned by other readers.
   */
  async acquire(offset: number, sourceSize: number): Promise<ViewLease> {
    for (;;) {
      const lease = this.tryAcquire(offset, sourceSize, false);
      if (lease) return lease;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Like acquire, but never waits: may exceed the budget until the lease is released. */
  acquireSync(offset: number, sourceSize: number): ViewLease {
    return this.tryAcquire(offset, sourceSize, true)!;
  }

  /**
   * Drops every window that reaches past `fromOffset` (the source's new end), and windows that
   * were clipped at exactly `fromOffset` (the source grew: they can now be longer).
   */
  invalidate(fromOffset: number): void {
    for (const entry of [...this.entries.values()]) {
      const end = entry.start + entry.length;
      if (end > fromOffset || (end === fromOffset && entry.length < this.viewSize)) this.drop(entry);
    }
    this.wake();
  }

  /** Drops every window (pinned ones are unmapped as soon as their readers finish). */
  clear(): void {
    for (const entry of [...this.entries.values()]) this.drop(entry);
    this.wake();
  }

  /** clear(), and make every later or waiting acquire fail with EBADDOC. */
  close(): void {
    this.closed = true;
    this.clear();
  }

  stats(): ViewCacheStats {
    let pinned = 0;
    for (const e of this.entries.values()) if (e.pins > 0) pinned++;
    pinned += this.retired.size;
    return {
      views: this.entries.size + this.retired.size,
      mappedBytes: this.mapped,
      peakMappedBytes: this.peak,
      pinned,
      viewSize: this.viewSize,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  private tryAcquire(offset: number, sourceSize: number, force: boolean): ViewLease | undefined {
    if (this.closed) throw new HexmapError("EBADDOC", "The document is closed");
    if (offset < 0 || offset >= sourceSize) {
      throw new HexmapError("ERANGE", `Offset ${offset} is outside the source (size ${sourceSize})`);
    }
    const start = alignDown(offset, this.viewSize);
    const length = Math.min(this.viewSize, sourceSize - start);
    let entry = this.entries.get(start);
    if (entry && offset >= entry.start + entry.length) {
      // Clipped at an older, smaller size: replace with a longer window.
      this.drop(entry);
      entry = undefined;
    }
    if (entry) {
      this.hits++;
      this.entries.delete(start);
      this.entries.set(start, entry);
    } else {
      if (!this.makeRoom(length) && !force) return undefined;
      this.misses++;
      const view = this.source.map(start, length);
      entry = { start, length, view, pins: 0, retired: false };
      this.entries.set(start, entry);
      this.mapped += length;
      if (this.mapped > this.peak) this.peak = this.mapped;
    }
    entry.pins++;
    const pinned = entry;
    let released = false;
    return {
      offset: pinned.start,
      length: pinned.length,
      view: pinned.view,
      release: () => {
        if (released) return;
        released = true;
        this.unpin(pinned);
      },
    };
  }

  /** Evicts least-recently-used unpinned windows until `need` more bytes fit. */
  private makeRoom(need: number): boolean {
    if (this.mapped + need <= this.maxBytes) return true;
    for (const entry of [...this.entries.values()]) {
      if (entry.pins > 0) continue;
      this.drop(entry);
      this.evictions++;
      if (this.mapped + need <= this.maxBytes) return true;
    }
    return false;
  }

  private unpin(entry: Entry): void {
    entry.pins--;
    if (entry.pins > 0) return;
    if (entry.retired) {
      this.retired.delete(entry);
      this.unmap(entry);
    } else if (this.mapped > this.maxBytes) {
      this.makeRoom(0);
    }
    this.wake();
  }

  private drop(entry: Entry): void {
    this.entries.delete(entry.start);
    if (entry.pins > 0) {
      entry.retired = true;
      this.retired.add(entry);
    } else {
      this.unmap(entry);
    }
  }

  private unmap(entry: Entry): void {
    this.mapped -= entry.length;
    try {
      entry.view.unmap();
    } catch {
      // Unmapping cannot usefully fail; the source's close() unmaps whatever is left.
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
