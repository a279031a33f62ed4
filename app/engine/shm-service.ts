// Shared memory behind the Service: a LiveSharedMemory is the pool's document for a named section.
// It wraps the engine's pieces (shm.ts, live.ts) in the shape the pool and the protocol need:
//
//   - reads go through the section's Document like a file's;
//   - edits apply at once through a ShmEditLog (undoable; there is nothing to save), and bump the
//     generation so every client re-reads its pages;
//   - ONE LiveWatcher per section watches the union of what its clients have on screen (`watch`),
//     at the shortest interval any of them asked for, paused while every client is paused (its
//     page is hidden) or none watches. A change bumps the generation and is reported to every
//     holder as `bytes-changed`.
//
// The section never changes size (POSIX ftruncate by another program aside, which reads report as
// EIO like a truncated file), so checkSize() reports no change.

import { Document } from "./document";
import { HexmapError } from "./errors";
import { DEFAULT_LIVE_INTERVAL_MS, LiveWatcher, ShmEditLog, normalizeRanges, type ByteRange } from "./live";
import { openSharedMemoryDocument, sharedMemorySourceOf, type ShmOpenOptions } from "./shm";

/** Largest fill of a shared-memory section in one request (it is written at once and kept for undo). */
export const SHM_FILL_MAX = 64 * 1024 * 1024;
import {
  MAX_BYTES_CHANGED_RANGES,
  MAX_UNDO_BYTES_IN_REPLY,
  MAX_WATCH_BYTES,
  type DocumentKind,
  type EditResult,
  type EditState,
  type UndoResult,
} from "../protocol/messages";

/** What one client watches. */
interface ClientWatch {
  ranges: ByteRange[];
  intervalMs: number;
  paused: boolean;
}

export interface WatchResult {
  /** The client's ranges as watched: sorted, merged, clamped to the section. */
  ranges: ByteRange[];
  intervalMs: number;
  paused: boolean;
}

/** Called with each outside change: the changed ranges and the document's new generation. */
export type BytesChangedListener = (ranges: ByteRange[], generation: number) => void;

export class LiveSharedMemory {
  readonly kind: DocumentKind = "shm";
  readonly document: Document;
  /** True when opening created the section. */
  readonly created: boolean;
  private readonly log: ShmEditLog;
  private watcher: LiveWatcher | null = null;
  private readonly clients = new Map<object, ClientWatch>();
  private readonly listeners = new Set<BytesChangedListener>();

  /** Opens (or with `create`, creates) a section. Throws HexmapError (ENOENT, EEXIST, EACCES, EINVAL). */
  static open(name: string, options: Pick<ShmOpenOptions, "create" | "readOnly" | "native"> = {}): LiveSharedMemory {
    return new LiveSharedMemory(openSharedMemoryDocument(name, options));
  }

  constructor(document: Document) {
    if (document.kind !== "shm") throw new HexmapError("EINVAL", `${document.name} is not shared memory`);
    this.document = document;
    this.created = sharedMemorySourceOf(document)?.created ?? false;
    this.log = new ShmEditLog(document);
  }

  get name(): string {
    return this.document.name;
  }
  get readOnly(): boolean {
    return this.document.readOnly;
  }
  get size(): number {
    return this.document.size;
  }
  get generation(): number {
    return this.document.generation;
  }
  get closed(): boolean {
    return this.document.closed;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.document.read(offset, length);
  }

  checkSize(): { changed: boolean; size: number } {
    return { changed: false, size: this.size };
  }

  onBytesChanged(cb: BytesChangedListener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    this.clients.clear();
    this.listeners.clear();
    this.document.close();
  }

  // ---- live view -----------------------------------------------------------------------------

  /**
   * Sets what `client` has on screen (replacing its earlier ranges; [] stops watching for it).
   * Ranges are clamped to the section; an offset past the end is ERANGE. intervalMs defaults to
   * 100. The union over all clients is bounded (ETOOBIG).
   */
  watch(client: object, ranges: readonly ByteRange[], intervalMs = DEFAULT_LIVE_INTERVAL_MS): WatchResult {
    this.assertOpen();
    const size = this.size;
    for (const r of ranges) {
      if (r.offset > size) throw new HexmapError("ERANGE", `Offset ${r.offset} is past the end of ${this.name} (size ${size})`);
    }
    const clamped = normalizeRanges(ranges.map((r) => ({ offset: r.offset, length: Math.min(r.length, size - r.offset) })));
    const previous = this.clients.get(client);
    const next: ClientWatch = { ranges: clamped, intervalMs, paused: previous?.paused ?? false };
    this.clients.set(client, next);
    try {
      this.reconcile();
    } catch (err) {
      if (previous) this.clients.set(client, previous);
      else this.clients.delete(client);
      this.reconcile();
      throw err;
    }
    return { ranges: clamped.map((r) => ({ ...r })), intervalMs, paused: next.paused };
  }

  /** Pauses or resumes `client`'s watching (its page was hidden or shown). */
  pauseWatch(client: object, paused: boolean): { paused: boolean } {
    this.assertOpen();
    const w = this.clients.get(client);
    if (w) w.paused = paused;
    else this.clients.set(client, { ranges: [], intervalMs: DEFAULT_LIVE_INTERVAL_MS, paused });
    this.reconcile();
    return { paused };
  }

  /** Forgets a client (it closed the document or went away). */
  unwatch(client: object): void {
    if (!this.clients.delete(client) || this.closed) return;
    this.reconcile();
  }

  /** The watcher's state, for tests: null when there is none. */
  watchState(): { ranges: ByteRange[]; intervalMs: number; paused: boolean } | null {
    const w = this.watcher;
    return w ? { ranges: w.ranges, intervalMs: w.intervalMs, paused: w.paused } : null;
  }

  /** Brings the one watcher in line with what the clients want. */
  private reconcile(): void {
    const active = [...this.clients.values()].filter((c) => !c.paused && c.ranges.length > 0);
    if (active.length === 0) {
      this.watcher?.pause();
      return;
    }
    const union = normalizeRanges(active.flatMap((c) => c.ranges));
    const total = union.reduce((n, r) => n + r.length, 0);
    // A few clients' screens at most: more than that means someone is watching far too much.
    if (total > 4 * MAX_WATCH_BYTES) {
      throw new HexmapError("ETOOBIG", `Too many bytes watched live on ${this.name} (${total}); watch the visible rows only`);
    }
    const intervalMs = Math.min(...active.map((c) => c.intervalMs));
    if (!this.watcher || this.watcher.intervalMs !== intervalMs) {
      const old = this.watcher;
      const w = new LiveWatcher(this.document, { intervalMs, maxWatchedBytes: 4 * MAX_WATCH_BYTES, paused: true });
      w.onChange((change) => this.changed(change.ranges));
      w.onError(() => {
        /* a failed look (EIO) is retried at the next tick; reads show the error to the user */
      });
      old?.close();
      this.watcher = w;
    }
    this.watcher.setRanges(union);
    this.watcher.resume();
    // Look now: newly watched bytes get their baseline at once (a change right after the client
    // asked is then reported), and a change made while everyone was paused is reported now.
    this.watcher.poll().catch(() => {
      /* a failed look (EIO) is retried at the next tick */
    });
  }

  private changed(ranges: ByteRange[]): void {
    if (this.closed) return;
    const generation = this.document.noteChange();
    const reported = coarsen(ranges, MAX_BYTES_CHANGED_RANGES);
    for (const cb of [...this.listeners]) {
      try {
        cb(reported, generation);
      } catch {
        /* one listener's bug must not stop the others */
      }
    }
  }

  // ---- immediate edits -----------------------------------------------------------------------

  state(docId: string): EditState {
    return {
      docId,
      generation: this.generation,
      size: this.size,
      // Nothing is ever pending: every edit is already in the section.
      dirty: false,
      editCount: this.log.depth,
      canUndo: this.log.canUndo,
      canRedo: this.log.canRedo,
      hasJournal: false,
    };
  }

  async edit(docId: string, offset: number, bytes: Uint8Array, group?: string | number): Promise<EditResult> {
    this.assertWritable();
    const applied = await this.log.write(offset, bytes, group === undefined ? {} : { group });
    this.applied(applied.offset, Buffer.from(bytes));
    return { ...this.state(docId), start: applied.offset, end: applied.offset + applied.length };
  }

  /**
   * Writes `length` bytes of `byte` now. The bytes (and their undo copy) live in memory, so a fill
   * is bounded by the section and by SHM_FILL_MAX; checked before anything is allocated or written.
   */
  fill(docId: string, offset: number, length: number, byte: number): Promise<EditResult> {
    const size = this.size;
    if (offset > size || length > size - offset) {
      return Promise.reject(new HexmapError("ERANGE", `A fill of ${length} bytes at offset ${offset} runs past the end of ${this.name} (size ${size}); a section cannot grow`));
    }
    if (length > SHM_FILL_MAX) {
      return Promise.reject(new HexmapError("ETOOBIG", `A fill of ${length} bytes is too large for shared memory at once (at most ${SHM_FILL_MAX}): it is written at once and kept for undo; fill less`));
    }
    return this.edit(docId, offset, Buffer.alloc(length, byte));
  }

  async undoRedo(docId: string, which: "undo" | "redo"): Promise<UndoResult> {
    this.assertWritable();
    const applied = which === "undo" ? await this.log.undo() : await this.log.redo();
    if (!applied) return { ...this.state(docId), changed: null };
    const now = await this.document.read(applied.offset, applied.length);
    this.applied(applied.offset, now);
    const out: UndoResult = { ...this.state(docId), changed: { start: applied.offset, end: applied.offset + applied.length } };
    if (applied.length <= MAX_UNDO_BYTES_IN_REPLY) out.bytes = new Uint8Array(now);
    return out;
  }

  /** Our own write: not an outside change for the watcher; a new generation for every client. */
  private applied(offset: number, bytes: Uint8Array): void {
    this.watcher?.noteWrite(offset, bytes);
    this.document.noteChange();
  }

  private assertOpen(): void {
    if (this.closed) throw new HexmapError("EBADDOC", `The document ${this.name} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) {
      throw new HexmapError("EACCES", `Shared memory "${this.name}" is open read-only: open it again without “read-only” to change it`);
    }
  }
}

export function isLiveSharedMemory(doc: unknown): doc is LiveSharedMemory {
  return doc instanceof LiveSharedMemory;
}

/**
 * At most `max` ranges: when there are more, the smallest gaps between them are closed (the
 * ranges then cover some unchanged bytes too, which the client merely highlights).
 */
export function coarsen(ranges: readonly ByteRange[], max: number): ByteRange[] {
  const out = ranges.map((r) => ({ ...r }));
  if (out.length <= max) return out;
  const gaps = out.slice(1).map((r, i) => r.offset - (out[i]!.offset + out[i]!.length));
  const sorted = [...gaps].sort((a, b) => a - b);
  const threshold = sorted[out.length - max - 1]!;
  const merged: ByteRange[] = [];
  let budget = out.length - max; // gaps equal to the threshold close only while needed
  for (let i = 0; i < out.length; i++) {
    const r = out[i]!;
    const last = merged[merged.length - 1];
    const gap = i > 0 ? gaps[i - 1]! : Infinity;
    if (last && budget > 0 && gap <= threshold) {
      last.length = r.offset + r.length - last.offset;
      budget--;
    } else {
      merged.push(r);
    }
  }
  return merged;
}
