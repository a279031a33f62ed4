// Comparing two documents byte for byte, at memory speed: chunks are compared with Buffer.equals
// (memcmp), and only an unequal chunk is searched for its exact differing bytes, by splitting it
// in halves with equals until the pieces are small, then a byte loop. Identical stretches (most of
// two similar multi-gigabyte files) therefore cost one memcmp per chunk.
//
// Like `cmp`, a comparison covers the common length of the two documents; bytes past the shorter
// end are not "differing bytes" but reported once as `eof` (cmp: "EOF on B after byte N").

import { HexmapError, checkOffset } from "./errors";
import {
  chunkSizeOf,
  clampRange,
  readExactly,
  throwIfAborted,
  yieldToEventLoop,
  type ByteSource,
  type JobOptions,
} from "./hash";

/** One differing byte: its offset and the two values. */
export interface ByteDifference {
  offset: number;
  a: number;
  b: number;
}

/** Which side ends first, when the sizes differ. */
export interface EofInfo {
  /** "a" when A is the shorter document, else "b". */
  shorter: "a" | "b";
  /** The shorter document's size (cmp's "after byte N"). */
  at: number;
}

export function eofOf(a: ByteSource, b: ByteSource): EofInfo | null {
  if (a.size === b.size) return null;
  return a.size < b.size ? { shorter: "a", at: a.size } : { shorter: "b", at: b.size };
}

export interface CompareRangeOptions extends JobOptions {
  /** First offset compared. Default 0. */
  from?: number;
  /** Bytes compared from `from`. Default: to the end of the common length (clamped there). */
  length?: number;
}

/** Pieces at most this long are searched byte by byte. */
const LEAF = 64;

/** Calls `hit` for each differing index in [lo, hi) of x vs y, ascending; stops when it returns true. */
function diffsForward(x: Buffer, y: Buffer, lo: number, hi: number, hit: (i: number) => boolean): boolean {
  if (x.subarray(lo, hi).equals(y.subarray(lo, hi))) return false;
  if (hi - lo <= LEAF) {
    for (let i = lo; i < hi; i++) if (x[i] !== y[i] && hit(i)) return true;
    return false;
  }
  const mid = lo + ((hi - lo) >>> 1);
  return diffsForward(x, y, lo, mid, hit) || diffsForward(x, y, mid, hi, hit);
}

/** Like diffsForward, descending. */
function diffsBackward(x: Buffer, y: Buffer, lo: number, hi: number, hit: (i: number) => boolean): boolean {
  if (x.subarray(lo, hi).equals(y.subarray(lo, hi))) return false;
  if (hi - lo <= LEAF) {
    for (let i = hi - 1; i >= lo; i--) if (x[i] !== y[i] && hit(i)) return true;
    return false;
  }
  const mid = lo + ((hi - lo) >>> 1);
  return diffsBackward(x, y, mid, hi, hit) || diffsBackward(x, y, lo, mid, hit);
}

/** Number of differing bytes of x vs y in [lo, hi). */
function countIn(x: Buffer, y: Buffer, lo: number, hi: number): number {
  if (x.subarray(lo, hi).equals(y.subarray(lo, hi))) return 0;
  if (hi - lo <= LEAF) {
    let n = 0;
    for (let i = lo; i < hi; i++) if (x[i] !== y[i]) n++;
    return n;
  }
  const mid = lo + ((hi - lo) >>> 1);
  return countIn(x, y, lo, mid) + countIn(x, y, mid, hi);
}

/**
 * Visits the chunk pairs of [start, end) in the given direction with the next pair's reads in
 * flight. `visit` returns true to stop. Progress counts bytes done of the whole range.
 */
async function scanPairs(
  a: ByteSource,
  b: ByteSource,
  start: number,
  end: number,
  backward: boolean,
  options: JobOptions,
  visit: (x: Buffer, y: Buffer, at: number) => boolean,
): Promise<void> {
  const chunk = chunkSizeOf(options);
  const total = end - start;
  throwIfAborted(options.signal);
  if (total <= 0) {
    options.onProgress?.(0, 0);
    return;
  }
  // Chunks are aligned to multiples of `chunk` so forward and backward scans read the same pieces.
  const pieceAt = (pos: number): [number, number] => {
    if (!backward) return [pos, Math.min(end, pos - (pos % chunk) + chunk)];
    const lo = Math.max(start, (pos - 1) - ((pos - 1) % chunk));
    return [lo, pos];
  };
  const readPair = (lo: number, hi: number) => {
    const p = Promise.all([readExactly(a, lo, hi - lo, "the first document"), readExactly(b, lo, hi - lo, "the second document")]);
    p.catch(() => undefined); // a read-ahead must not reject unhandled (see readExactly); awaiting it still throws
    return p;
  };
  let pos = backward ? end : start;
  let [lo, hi] = pieceAt(pos);
  let pending: Promise<[Buffer, Buffer]> | undefined = readPair(lo, hi);
  let done = 0;
  try {
    while (pending) {
      const [x, y]: [Buffer, Buffer] = await pending;
      pending = undefined;
      const at = lo;
      const n = hi - lo;
      pos = backward ? lo : hi;
      if (backward ? pos > start : pos < end) {
        [lo, hi] = pieceAt(pos);
        pending = readPair(lo, hi);
      }
      throwIfAborted(options.signal);
      if (visit(x, y, at)) return;
      done += n;
      options.onProgress?.(done, total);
      if (pending) await yieldToEventLoop();
    }
  } finally {
    if (pending) pending.catch(() => undefined);
  }
}

function commonRange(a: ByteSource, b: ByteSource, from: number, length: number | undefined): [number, number] {
  const common = Math.min(a.size, b.size);
  const n = clampRange(common, from, length, "the shorter document");
  return [from, from + n];
}

/** First differing offset ≥ `from` (within the common length, and `length` if given), or null. */
export async function findNextDifference(a: ByteSource, b: ByteSource, options: CompareRangeOptions = {}): Promise<ByteDifference | null> {
  const [start, end] = commonRange(a, b, options.from ?? 0, options.length);
  let found: ByteDifference | null = null;
  await scanPairs(a, b, start, end, false, options, (x, y, at) =>
    diffsForward(x, y, 0, x.length, (i) => {
      found = { offset: at + i, a: x[i]!, b: y[i]! };
      return true;
    }),
  );
  return found;
}

export interface FindPreviousOptions extends JobOptions {
  /** Searches offsets < before. Default: the common length. Clamped to the common length. */
  before?: number;
  /** Lowest offset searched. Default 0. */
  limit?: number;
}

/** Last differing offset < `before` (and ≥ `limit`), or null. */
export async function findPreviousDifference(a: ByteSource, b: ByteSource, options: FindPreviousOptions = {}): Promise<ByteDifference | null> {
  const common = Math.min(a.size, b.size);
  const before = options.before ?? common;
  const limit = options.limit ?? 0;
  checkOffset(before, "before");
  checkOffset(limit, "limit");
  const end = Math.min(before, common);
  const start = Math.min(limit, end);
  let found: ByteDifference | null = null;
  await scanPairs(a, b, start, end, true, options, (x, y, at) =>
    diffsBackward(x, y, 0, x.length, (i) => {
      found = { offset: at + i, a: x[i]!, b: y[i]! };
      return true;
    }),
  );
  return found;
}

export interface CountResult {
  from: number;
  /** Bytes compared (the common length from `from`, or `length` clamped to it). */
  length: number;
  /** Differing bytes among them (exact). */
  differences: number;
  /** Set when the documents' sizes differ. */
  eof: EofInfo | null;
}

/** Exact number of differing bytes in the range. */
export async function countDifferences(a: ByteSource, b: ByteSource, options: CompareRangeOptions = {}): Promise<CountResult> {
  const [start, end] = commonRange(a, b, options.from ?? 0, options.length);
  let differences = 0;
  await scanPairs(a, b, start, end, false, options, (x, y) => {
    differences += countIn(x, y, 0, x.length);
    return false;
  });
  return { from: start, length: end - start, differences, eof: eofOf(a, b) };
}

/**
 * Batches of differing bytes, in order: offsets plus both values, as parallel arrays (cheap to
 * format by the million). A batch holds the differences of one chunk, or fewer when `max` stops.
 */
export interface DifferenceBatch {
  offsets: number[];
  a: number[];
  b: number[];
}

export interface IterateOptions extends CompareRangeOptions {
  /** Stop after this many differences. Default: no limit. */
  max?: number;
}

/**
 * Streams the differences of the range batch by batch (cmp -l's order). Reads stay two chunks
 * ahead at most; a consumer that awaits between batches (e.g. output backpressure) pauses the scan.
 */
export async function* iterateDifferences(a: ByteSource, b: ByteSource, options: IterateOptions = {}): AsyncGenerator<DifferenceBatch> {
  const max = options.max ?? Infinity;
  if (max !== Infinity && (!Number.isSafeInteger(max) || max < 0)) throw new HexmapError("EINVAL", `max must be a non-negative integer, got ${max}`);
  const [start, end] = commonRange(a, b, options.from ?? 0, options.length);
  if (max === 0) return;
  const chunk = chunkSizeOf(options);
  const total = end - start;
  throwIfAborted(options.signal);
  let found = 0;
  let pos = start;
  const readPair = (lo: number, n: number) => {
    const p = Promise.all([readExactly(a, lo, n, "the first document"), readExactly(b, lo, n, "the second document")]);
    p.catch(() => undefined); // a read-ahead must not reject unhandled (see readExactly); awaiting it still throws
    return p;
  };
  const sizeAt = (p: number) => Math.min(end, p - (p % chunk) + chunk) - p;
  let pending: Promise<[Buffer, Buffer]> | undefined = pos < end ? readPair(pos, sizeAt(pos)) : undefined;
  try {
    while (pending) {
      const [x, y]: [Buffer, Buffer] = await pending;
      pending = undefined;
      const at = pos;
      pos += x.length;
      if (pos < end) pending = readPair(pos, sizeAt(pos));
      throwIfAborted(options.signal);
      const batch: DifferenceBatch = { offsets: [], a: [], b: [] };
      const stopped = diffsForward(x, y, 0, x.length, (i) => {
        batch.offsets.push(at + i);
        batch.a.push(x[i]!);
        batch.b.push(y[i]!);
        return ++found >= max;
      });
      options.onProgress?.(pos - start, total);
      if (batch.offsets.length > 0) yield batch;
      if (stopped) return;
      if (pending) await yieldToEventLoop();
    }
  } finally {
    if (pending) pending.catch(() => undefined);
  }
}

export interface ListResult {
  differences: ByteDifference[];
  /** True when `max` stopped the listing before the end of the range. */
  truncated: boolean;
  eof: EofInfo | null;
}

/** The first `max` differing bytes (default 1000) from `from`, with both values. */
export async function listDifferences(a: ByteSource, b: ByteSource, options: IterateOptions = {}): Promise<ListResult> {
  const max = options.max ?? 1000;
  const differences: ByteDifference[] = [];
  // Ask for one more than max to know whether the list is complete.
  for await (const batch of iterateDifferences(a, b, { ...options, max: max + 1 })) {
    for (let i = 0; i < batch.offsets.length; i++) differences.push({ offset: batch.offsets[i]!, a: batch.a[i]!, b: batch.b[i]! });
  }
  const truncated = differences.length > max;
  if (truncated) differences.length = max;
  return { differences, truncated, eof: eofOf(a, b) };
}

