// Lines of one document for the line view, fetched from the host by number and kept in a
// bounded map. Contiguous lines come in aligned blocks (`lines`); scattered ones (the filter
// view's rows) with `lines-pick`. Every reply carries the line document's generation: replies of
// an older one are dropped, and reset() (rotation, another encoding) forgets everything.
//
// Lines are those of the edited document, and replies carry its version too. An edit (here, in
// another window, undo/redo, save) arrives as `lines-changed {kind: "edited"}`: edited() keeps
// the lines that end before the first changed byte and forgets the rest; a reply of an older
// version is dropped (and the block asked again), one of a newer version replaces everything.

import type { HexmapApi } from "../api";
import type { LineEncoding, LineIndexState, LineInfo, LinesEvent, LinesResult } from "../../../app/protocol/lines";

export const BLOCK_LINES = 256;
/** Lines cut beyond this many bytes (the rest is shown on demand). */
export const CUT_BYTES = 4096;
const CAPACITY = 20_000;
const MAX_IN_FLIGHT = 3;

export class LineCache {
  private readonly lines = new Map<number, LineInfo>();
  private readonly pending = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private inFlight = 0;
  private queue: { key: string; run: () => Promise<boolean | void> }[] = [];
  version = 0;
  generation = 0;
  /** The document version the cached lines are of. */
  docVersion = 0;
  encoding: LineEncoding | undefined;
  /** The latest index state any reply carried. */
  onState: ((s: LineIndexState) => void) | null = null;
  onError: ((err: unknown) => void) | null = null;

  constructor(
    private readonly api: HexmapApi,
    readonly docId: string,
  ) {}

  subscribe = (cb: () => void): (() => void) => {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  };

  private bump(): void {
    this.version++;
    for (const cb of [...this.listeners]) cb();
  }

  get(n: number): LineInfo | undefined {
    return this.lines.get(n);
  }

  /** Forgets every line (a new generation, another encoding). */
  reset(generation?: number): void {
    if (generation !== undefined) this.generation = generation;
    this.lines.clear();
    this.pending.clear();
    this.queue = [];
    this.bump();
  }

  /** Forgets lines from `n` on (the file grew: the last line may have grown too). */
  dropFrom(n: number): void {
    for (const k of [...this.lines.keys()]) if (k >= n) this.lines.delete(k);
    for (const key of [...this.pending]) if (key.startsWith("b") && Number(key.slice(1)) + BLOCK_LINES > n) this.pending.delete(key);
    this.bump();
  }

  /**
   * The document changed: keep the lines wholly before `changedFrom` (their bytes and newline are
   * as they were at previousVersion), forget the others. Returns whether any line was dropped.
   */
  edited(e: Extract<LinesEvent, { event: "lines-changed" }>): boolean {
    if (e.generation > this.generation) {
      this.reset(e.generation);
      this.docVersion = e.version;
      return true;
    }
    if (e.version <= this.docVersion) return false; // a newer reply came first (and cleared)
    const known = e.previousVersion === this.docVersion;
    this.docVersion = e.version;
    if (known && e.changedFrom === undefined) return false;
    const from = known ? (e.changedFrom ?? 0) : 0;
    // A UTF-16 newline is 2 bytes: keep a line only when that much fits before the change.
    for (const [n, l] of [...this.lines]) if (l.offset + l.length + 2 > from) this.lines.delete(n);
    this.pending.clear();
    this.queue = [];
    this.bump();
    return true;
  }

  private accept(r: LinesResult): boolean {
    if (r.generation < this.generation) return false;
    if (r.generation > this.generation) {
      this.lines.clear();
      this.generation = r.generation;
    }
    if (r.version < this.docVersion) return false; // answered for an older version of the document
    if (r.version > this.docVersion) {
      this.lines.clear();
      this.docVersion = r.version;
    }
    if (this.lines.size + r.lines.length > CAPACITY) this.lines.clear();
    for (const l of r.lines) this.lines.set(l.number, l);
    this.onState?.(r);
    this.bump();
    return true;
  }

  private enqueue(key: string, run: () => Promise<boolean | void>): void {
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.queue.push({ key, run });
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length) {
      const job = this.queue.shift()!;
      this.inFlight++;
      let stale = false;
      job
        .run()
        .then((accepted) => {
          stale = accepted === false;
        })
        .catch((err) => this.onError?.(err))
        .finally(() => {
          this.inFlight--;
          this.pending.delete(job.key);
          this.pump();
          // A dropped reply (the document changed meanwhile): let the view ask again.
          if (stale) this.bump();
        });
    }
  }

  /** Lines from..to (inclusive) in aligned blocks; the visible ones first. */
  wantRange(from: number, to: number): void {
    // A newer want replaces queued (not yet sent) ones: a fast scroll never waits behind old rows.
    for (const q of this.queue) this.pending.delete(q.key);
    this.queue = [];
    const first = Math.floor((Math.max(1, from) - 1) / BLOCK_LINES);
    const last = Math.floor((Math.max(1, to) - 1) / BLOCK_LINES);
    for (let b = first; b <= last; b++) {
      const start = b * BLOCK_LINES + 1;
      let missing = false;
      for (let n = Math.max(start, from); n <= Math.min(start + BLOCK_LINES - 1, to); n++) {
        if (!this.lines.has(n)) {
          missing = true;
          break;
        }
      }
      if (!missing) continue;
      const gen = this.generation;
      const enc = this.encoding;
      this.enqueue(`b${start}`, async () => {
        const r = await this.api.request("lines", { docId: this.docId, from: start, count: BLOCK_LINES, maxLineBytes: CUT_BYTES, ...(enc ? { encoding: enc } : {}) });
        return gen === this.generation && enc === this.encoding && this.accept(r);
      });
    }
  }

  /** These (scattered) lines: the filter view's rows. */
  wantNumbers(numbers: number[]): void {
    const missing = numbers.filter((n) => !this.lines.has(n));
    if (!missing.length) return;
    for (const q of this.queue) this.pending.delete(q.key);
    this.queue = [];
    for (let i = 0; i < missing.length; i += 500) {
      const part = missing.slice(i, i + 500);
      const gen = this.generation;
      const enc = this.encoding;
      this.enqueue(`p${part[0]}-${part[part.length - 1]}-${part.length}`, async () => {
        const r = await this.api.request("lines-pick", { docId: this.docId, numbers: part, maxLineBytes: CUT_BYTES, ...(enc ? { encoding: enc } : {}) });
        return gen === this.generation && enc === this.encoding && this.accept(r);
      });
    }
  }
}

/** "12.3 MB" for the cut-off part of a long line. */
export function sizeLabel(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
