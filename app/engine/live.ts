// Live documents (shared memory): other processes change the bytes under us at any time, and
// our own edits land immediately.
//
//   LiveWatcher   re-reads the watched (visible) ranges every intervalMs (default 100 ms) and
//                 reports the byte ranges that differ from the last look. Memory is bounded: it
//                 keeps one snapshot of the watched ranges, nothing else.
//   ShmEditLog    immediate writes with undo/redo: a write records the bytes it replaces, undo
//                 writes them back. Another process may have changed those bytes in between:
//                 undo restores what *we* replaced (last writer wins, as with any shared memory).

import type { Document } from "./document";
import { HexmapError, checkOffset } from "./errors";
import { writeShm } from "./shm";

export interface ByteRange {
  offset: number;
  length: number;
}

export interface LiveChange {
  /** Changed bytes since the last look, sorted, disjoint, within the watched ranges. */
  ranges: ByteRange[];
  /** Counts the changes reported by this watcher (1 for the first). */
  generation: number;
}

/** What a LiveWatcher reads from: a Document fits. */
export interface LiveReader {
  read(offset: number, length: number): Promise<Buffer>;
  readonly size: number;
}

export interface LiveWatcherOptions {
  /** Milliseconds between looks (after the previous look finished). Default 100, at least 10. */
  intervalMs?: number;
  /** Upper bound for the watched bytes together (the snapshot's size). Default 16 MiB. */
  maxWatchedBytes?: number;
  /** Start paused (resume() starts looking). Default false. */
  paused?: boolean;
}

interface Watched {
  offset: number;
  length: number;
  /** Bytes at the last look (may be shorter than length when the source was shorter). */
  snap: Buffer;
  /** Parts of [offset, offset+length) whose previous bytes are known (absolute ranges). */
  known: ByteRange[];
}

export const DEFAULT_LIVE_INTERVAL_MS = 100;
const DEFAULT_MAX_WATCHED = 16 * 1024 * 1024;

/** Sorts and merges ranges (overlapping or touching ones become one); drops empty ones. */
export function normalizeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = ranges
    .map((r) => ({ offset: checkOffset(r.offset, "offset"), length: checkOffset(r.length, "length") }))
    .filter((r) => r.length > 0)
    .sort((a, b) => a.offset - b.offset);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/** Runs of differing bytes between a and b over [from, to) (indexes into both), as absolute ranges. */
function diffRuns(a: Buffer, b: Buffer, from: number, to: number, base: number, out: ByteRange[]): void {
  if (to <= from) return;
  if (a.compare(b, from, to, from, to) === 0) return;
  let i = from;
  while (i < to) {
    if (a[i] === b[i]) {
      i++;
      continue;
    }
    const start = i;
    while (i < to && a[i] !== b[i]) i++;
    const last = out[out.length - 1];
    if (last && last.offset + last.length === base + start) last.length += i - start;
    else out.push({ offset: base + start, length: i - start });
  }
}

export class LiveWatcher {
  readonly intervalMs: number;
  readonly maxWatchedBytes: number;
  private readonly reader: LiveReader;
  private watched: Watched[] = [];
  private timer: NodeJS.Timeout | undefined;
  private isPaused: boolean;
  private isClosed = false;
  private inFlight: Promise<LiveChange | null> | undefined;
  private gen = 0;
  private readonly changeListeners = new Set<(change: LiveChange) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  constructor(reader: LiveReader, options: LiveWatcherOptions = {}) {
    const interval = options.intervalMs ?? DEFAULT_LIVE_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 10) throw new HexmapError("EINVAL", `intervalMs must be at least 10, got ${interval}`);
    this.intervalMs = interval;
    this.maxWatchedBytes = checkOffset(options.maxWatchedBytes ?? DEFAULT_MAX_WATCHED, "maxWatchedBytes");
    this.reader = reader;
    this.isPaused = options.paused ?? false;
    this.schedule();
  }

  get paused(): boolean {
    return this.isPaused;
  }
  get closed(): boolean {
    return this.isClosed;
  }
  /** Number of changes reported so far. */
  get generation(): number {
    return this.gen;
  }
  /** The watched ranges (normalized). */
  get ranges(): ByteRange[] {
    return this.watched.map((w) => ({ offset: w.offset, length: w.length }));
  }

  onChange(cb: (change: LiveChange) => void): () => void {
    this.changeListeners.add(cb);
    return () => this.changeListeners.delete(cb);
  }

  /**
   * Read failures seen by the timed looks (an EIO...); the watcher keeps looking, except after
   * EBADDOC (the document was closed), when it closes itself.
   */
  onError(cb: (err: Error) => void): () => void {
    this.errorListeners.add(cb);
    return () => this.errorListeners.delete(cb);
  }

  /**
   * Watches these ranges from now on (typically the visible rows). Bytes that were already
   * watched keep their snapshot, so scrolling does not hide a change; newly watched bytes are
   * taken as they are at the next look (nothing is reported for them until the look after).
   */
  setRanges(ranges: readonly ByteRange[]): void {
    this.assertOpen();
    const next = normalizeRanges(ranges);
    const total = next.reduce((n, r) => n + r.length, 0);
    if (total > this.maxWatchedBytes) {
      throw new HexmapError("ETOOBIG", `Cannot watch ${total} bytes live (at most ${this.maxWatchedBytes}); watch the visible rows only`);
    }
    const old = this.watched;
    this.watched = next.map((r) => {
      const snap = Buffer.alloc(r.length);
      const known: ByteRange[] = [];
      let valid = 0; // bytes of snap copied contiguously from the start (for snap's length)
      for (const o of old) {
        const start = Math.max(r.offset, o.offset);
        const end = Math.min(r.offset + r.length, o.offset + o.snap.length);
        if (end <= start) continue;
        o.snap.copy(snap, start - r.offset, start - o.offset, end - o.offset);
        for (const k of o.known) {
          const ks = Math.max(start, k.offset);
          const ke = Math.min(end, k.offset + k.length);
          if (ke > ks) known.push({ offset: ks, length: ke - ks });
        }
        valid = Math.max(valid, end - r.offset);
      }
      return { offset: r.offset, length: r.length, snap: snap.subarray(0, valid), known };
    });
  }

  /** Stops looking (e.g. the view is hidden). Changes meanwhile are reported after resume(). */
  pause(): void {
    this.isPaused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    this.assertOpen();
    if (!this.isPaused) return;
    this.isPaused = false;
    this.schedule();
  }

  /**
   * Looks now (also while paused): re-reads the watched ranges, reports and returns the change,
   * or null when nothing changed. Concurrent calls share one look.
   */
  poll(): Promise<LiveChange | null> {
    this.assertOpen();
    this.inFlight ??= this.look().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Our own write: take these bytes as already seen, so a write through this process is not
   * reported back as an outside change. (Call it only when the UI shows the edit by itself.)
   */
  noteWrite(offset: number, bytes: Uint8Array): void {
    for (const w of this.watched) {
      const start = Math.max(offset, w.offset);
      const end = Math.min(offset + bytes.length, w.offset + w.snap.length);
      if (end > start) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(w.snap, start - w.offset, start - offset, end - offset);
    }
  }

  /** Stops for good and drops the snapshot. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watched = [];
    this.changeListeners.clear();
    this.errorListeners.clear();
  }

  private schedule(): void {
    if (this.isClosed || this.isPaused || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.isClosed || this.isPaused) return;
      this.poll()
        .catch((err: unknown) => {
          this.reportError(err);
          // The document is gone: nothing more to watch.
          if ((err as { code?: unknown } | null)?.code === "EBADDOC") this.close();
        })
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async look(): Promise<LiveChange | null> {
    const watched = this.watched;
    const size = this.reader.size;
    const changed: ByteRange[] = [];
    for (const w of watched) {
      const n = Math.max(0, Math.min(w.length, size - w.offset));
      const now = n > 0 ? await this.reader.read(w.offset, n) : Buffer.alloc(0);
      if (this.isClosed || this.watched !== watched) return null; // ranges replaced during the look
      for (const k of w.known) {
        const from = k.offset - w.offset;
        const to = Math.min(from + k.length, w.snap.length, now.length);
        diffRuns(w.snap, now, from, to, w.offset, changed);
      }
      // Keep the bytes (a copy, so a reused read buffer cannot alias the snapshot).
      w.snap = Buffer.from(now);
      w.known = now.length > 0 ? [{ offset: w.offset, length: now.length }] : [];
    }
    if (changed.length === 0) return null;
    const change: LiveChange = { ranges: changed, generation: ++this.gen };
    for (const cb of [...this.changeListeners]) {
      try {
        cb(change);
      } catch (err) {
        this.reportError(err);
      }
    }
    return change;
  }

  private reportError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    for (const cb of [...this.errorListeners]) {
      try {
        cb(e);
      } catch {
        // A listener that throws must not stop the watcher.
      }
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new HexmapError("EBADDOC", "The live watcher is closed");
  }
}

// ---- Immediate writes with undo ----------------------------------------------------------------

interface LogEntry {
  offset: number;
  before: Buffer;
  after: Buffer;
}

export interface ShmEditLogOptions {
  /** Undo history budget (old + new bytes of every step). The oldest steps go first. Default 64 MiB. */
  maxBytes?: number;
}

/** The range a write/undo/redo touched, and the log's generation after it. */
export interface AppliedEdit extends ByteRange {
  generation: number;
}

/**
 * Edits of a shared-memory document, applied at once, undoable. Operations run one at a time in
 * call order (each reads the bytes it replaces, then writes).
 */
export class ShmEditLog {
  readonly maxBytes: number;
  private readonly doc: Document;
  private readonly undoStack: LogEntry[] = [];
  private readonly redoStack: LogEntry[] = [];
  private held = 0;
  private gen = 0;
  /** Group key of the last write (undefined after undo/redo or an ungrouped write). */
  private lastGroup: string | number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(doc: Document, options: ShmEditLogOptions = {}) {
    this.doc = doc;
    this.maxBytes = checkOffset(options.maxBytes ?? 64 * 1024 * 1024, "maxBytes");
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }
  /** Undo steps held now. */
  get depth(): number {
    return this.undoStack.length;
  }
  /** Bumps on every write, undo and redo. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Writes `bytes` at `offset` now, remembering the bytes it replaces. Consecutive writes with the
   * same `group` key that touch or overlap the previous one become one undo step (typing).
   */
  write(offset: number, bytes: Uint8Array, options: { group?: string | number } = {}): Promise<AppliedEdit> {
    return this.serial(async () => {
      checkOffset(offset, "offset");
      if (!(bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "bytes must be a Uint8Array");
      if (offset + bytes.length > this.doc.size) {
        throw new HexmapError("ERANGE", `Cannot write ${bytes.length} bytes at offset ${offset}: ${this.doc.name} has ${this.doc.size} bytes`);
      }
      const after = Buffer.from(bytes);
      const before = await this.doc.read(offset, after.length);
      await writeShm(this.doc, offset, after);
      const last = this.undoStack[this.undoStack.length - 1];
      const group = options.group;
      if (
        group !== undefined &&
        group === this.lastGroup &&
        last &&
        this.redoStack.length === 0 &&
        offset <= last.offset + last.after.length &&
        offset + after.length >= last.offset
      ) {
        this.undoStack.pop();
        this.held -= last.before.length + last.after.length;
        this.push(mergeEntries(last, { offset, before, after }));
      } else {
        this.redoStack.length = 0;
        this.push({ offset, before, after });
      }
      this.lastGroup = group;
      return { offset, length: after.length, generation: ++this.gen };
    });
  }

  /** Writes back the bytes the last write replaced; null when there is nothing to undo. */
  undo(): Promise<AppliedEdit | null> {
    return this.serial(async () => {
      const entry = this.undoStack[this.undoStack.length - 1];
      if (!entry) return null;
      this.lastGroup = undefined;
      await writeShm(this.doc, entry.offset, entry.before);
      this.undoStack.pop();
      this.held -= entry.before.length + entry.after.length;
      this.redoStack.push(entry);
      return { offset: entry.offset, length: entry.before.length, generation: ++this.gen };
    });
  }

  redo(): Promise<AppliedEdit | null> {
    return this.serial(async () => {
      const entry = this.redoStack[this.redoStack.length - 1];
      if (!entry) return null;
      this.lastGroup = undefined;
      await writeShm(this.doc, entry.offset, entry.after);
      this.redoStack.pop();
      this.push(entry);
      return { offset: entry.offset, length: entry.after.length, generation: ++this.gen };
    });
  }

  private push(entry: LogEntry): void {
    this.undoStack.push(entry);
    this.held += entry.before.length + entry.after.length;
    while (this.held > this.maxBytes && this.undoStack.length > 1) {
      const dropped = this.undoStack.shift()!;
      this.held -= dropped.before.length + dropped.after.length;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** One undo step covering two touching or overlapping ones: the older `before`, the newer `after`. */
function mergeEntries(older: LogEntry, newer: LogEntry): LogEntry {
  const start = Math.min(older.offset, newer.offset);
  const end = Math.max(older.offset + older.after.length, newer.offset + newer.after.length);
  const before = Buffer.alloc(end - start);
  newer.before.copy(before, newer.offset - start);
  older.before.copy(before, older.offset - start);
  const after = Buffer.alloc(end - start);
  older.after.copy(after, older.offset - start);
  newer.after.copy(after, newer.offset - start);
  return { offset: start, before, after };
}
