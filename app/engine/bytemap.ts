// The byte map: an overview of a whole document of any size as N slices (default 1024), each
// classified by sampling a few KiB of it — zeros, text, low-entropy binary, high-entropy (random,
// compressed, encrypted) — with its Shannon entropy in bits per byte.
//
// Coarse to fine, so a map appears at once and sharpens: pass 0 samples 64 slices spread over the
// file and fills the others from their nearest sampled neighbour (a full map after 64 reads, which
// is what makes a 64 GiB file show up in well under a second); pass 1 samples every slice once, in
// an order that refines evenly over the file; later passes add samples at other places inside each
// slice (up to samplesPerSlice). Partial maps go to onProgress. The number of reads is bounded by
// coarse + slices × samplesPerSlice whatever the file size.
//
// Also: byteHistogram, the exact count of each byte value over a range (streamed, progress, cancel).

import { HexmapError } from "./errors";
import {
  DEFAULT_CHUNK,
  asBuffer,
  clampRange,
  forEachChunk,
  throwIfAborted,
  type ByteSource,
  type JobOptions,
} from "./hash";

/** Slice classes. 0 only appears for a document with no bytes. */
export const ByteClass = { unknown: 0, zeros: 1, text: 2, binary: 3, random: 4 } as const;
export type ByteClass = (typeof ByteClass)[keyof typeof ByteClass];
export const BYTE_CLASS_NAMES = ["unknown", "zeros", "text", "binary", "random"] as const;

/** Printable ASCII plus tab, LF, VT, FF, CR (what text files are made of). */
const TEXTISH = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) TEXTISH[b] = 1;
for (const b of [0x09, 0x0a, 0x0b, 0x0c, 0x0d]) TEXTISH[b] = 1;

/** Share of text bytes above which a sample is text. */
export const TEXT_SHARE = 0.9;
/** Entropy (bits/byte) above which a sample is high-entropy; scaled down for tiny samples. */
export const RANDOM_ENTROPY = 7.2;

/** Shannon entropy in bits per byte of a histogram of `n` bytes (0 for n = 0). */
export function entropyOf(hist: ArrayLike<number>, n: number): number {
  if (n <= 0) return 0;
  let h = 0;
  for (let i = 0; i < 256; i++) {
    const c = hist[i]!;
    if (c > 0) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

/**
 * Bytes of `bytes` that belong to well-formed multi-byte UTF-8 sequences (so text in other
 * languages than English still counts as text). Lead/continuation ranges only; cheap on samples.
 */
export function utf8MultibyteBytes(bytes: Uint8Array): number {
  let count = 0;
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const b = bytes[i]!;
    const len = b < 0xc2 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 1;
    if (len === 1 || i + len > n) {
      i++;
      continue;
    }
    let ok = true;
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) {
        ok = false;
        break;
      }
    }
    if (ok) {
      count += len;
      i += len;
    } else i++;
  }
  return count;
}

/**
 * Class of a histogram of `n` bytes; `utf8Bytes` of them are in multi-byte UTF-8 sequences
 * (utf8MultibyteBytes) and count as text.
 */
export function classify(hist: ArrayLike<number>, n: number, entropy = entropyOf(hist, n), utf8Bytes = 0): ByteClass {
  if (n <= 0) return ByteClass.unknown;
  if (hist[0] === n) return ByteClass.zeros;
  let text = utf8Bytes;
  for (let i = 0; i < 256; i++) if (TEXTISH[i]) text += hist[i]!;
  if (text >= TEXT_SHARE * n) return ByteClass.text;
  // A sample of n bytes cannot show more than log2(n) bits per byte.
  if (entropy >= Math.min(RANDOM_ENTROPY, 0.85 * Math.log2(n))) return ByteClass.random;
  return ByteClass.binary;
}

/** Adds the byte counts of `bytes` into `hist` (at `base`). */
export function countBytes(bytes: Uint8Array, hist: Uint32Array | Float64Array, base = 0): void {
  for (let i = 0; i < bytes.length; i++) {
    const k = base + bytes[i]!;
    hist[k] = hist[k]! + 1;
  }
}

/** Slice i of `slices` over `size` bytes: [start, end). Every slice is at least one byte. */
export function sliceRange(size: number, slices: number, i: number): [number, number] {
  return [sliceStart(size, slices, i), sliceStart(size, slices, i + 1)];
}

function sliceStart(size: number, slices: number, i: number): number {
  if (i >= slices) return size;
  // floor(i*size/slices) without losing precision for sizes near 2^53.
  const q = Math.floor(size / slices);
  const r = size - q * slices;
  return i * q + Math.floor((i * r) / slices);
}

/** The slice holding byte `offset` (for a click on the map, inverse of sliceRange). */
export function sliceOf(size: number, slices: number, offset: number): number {
  if (slices <= 0) return 0;
  let i = Math.min(slices - 1, Math.floor((offset / size) * slices));
  while (i > 0 && sliceStart(size, slices, i) > offset) i--;
  while (i < slices - 1 && sliceStart(size, slices, i + 1) <= offset) i++;
  return i;
}

export interface ByteMapOptions {
  /** Slices in the map. Default 1024; fewer for documents with fewer bytes. At most 65536. */
  slices?: number;
  /** Bytes per sample. Default 4096. */
  sampleSize?: number;
  /** Most samples taken per slice (at different places in it). Default 4. */
  samplesPerSlice?: number;
  /** Slices sampled in the first, coarse pass. Default 64. */
  coarse?: number;
  /** Reads in flight. Default 8. */
  concurrency?: number;
  signal?: AbortSignal;
  /**
   * Partial maps: once after the coarse pass (a full map, estimated between samples), then at most
   * every progressIntervalMs, and a last one with done = true. Snapshots are copies.
   */
  onProgress?: (map: ByteMapSnapshot) => void;
  /** Default 100 ms. */
  progressIntervalMs?: number;
}

export interface ByteMapSnapshot {
  size: number;
  /** Slice i is sliceRange(size, slices, i). */
  slices: number;
  /** ByteClass per slice (estimated from the nearest sampled slice where samples[i] is 0). */
  classes: Uint8Array;
  /** Shannon entropy, bits per byte, per slice (same estimate rule). */
  entropy: Float32Array;
  /** Samples taken inside each slice so far; 0 = value borrowed from a neighbour. */
  samples: Uint8Array;
  /** Slices whose samples cover every one of their bytes (the values are exact). */
  exact: Uint8Array;
  /** 0 = coarse pass, 1 = one sample per slice, 2… = extra samples per slice. */
  pass: number;
  reads: number;
  totalReads: number;
  bytesRead: number;
  done: boolean;
}

interface Task {
  slice: number;
  /** Which sample of the slice (0 = the middle, then 0, 1, 1/2, 1/4, 3/4, …). */
  k: number;
  pass: number;
}

/** Position (0..1) of sample k inside a slice: the middle first, then both ends, then halves. */
function sampleFraction(k: number): number {
  if (k === 0) return 0.5;
  if (k === 1) return 0;
  if (k === 2) return 1;
  // 3 → 1/4, 4 → 3/4, 5 → 1/8, 6 → 3/8, …
  const j = k - 3;
  const level = Math.floor(Math.log2(j + 2));
  const first = 2 ** level - 2;
  const den = 2 ** (level + 1);
  return (2 * (j - first) + 1) / den;
}

function bitReverse(i: number, bits: number): number {
  let r = 0;
  for (let b = 0; b < bits; b++) r = (r << 1) | ((i >>> b) & 1);
  return r >>> 0;
}

/** Builds the byte map of `src`. Resolves with the final map; rejects ECANCELED on abort. */
export async function buildByteMap(src: ByteSource, options: ByteMapOptions = {}): Promise<ByteMapSnapshot> {
  const size = src.size;
  const wanted = options.slices ?? 1024;
  const sampleSize = options.sampleSize ?? 4096;
  const perSlice = options.samplesPerSlice ?? 4;
  const concurrency = options.concurrency ?? 8;
  const interval = options.progressIntervalMs ?? 100;
  for (const [name, v, max] of [
    ["slices", wanted, 65536],
    ["sampleSize", sampleSize, 16 * 1024 * 1024],
    ["samplesPerSlice", perSlice, 255],
    ["concurrency", concurrency, 256],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new HexmapError("EINVAL", `${name} must be an integer in 1..${max}, got ${v}`);
  }
  const slices = Math.min(wanted, size);
  const coarse = Math.min(options.coarse ?? 64, slices);
  if (!Number.isSafeInteger(coarse) || coarse < 0) throw new HexmapError("EINVAL", `coarse must be a non-negative integer, got ${coarse}`);
  throwIfAborted(options.signal);

  const hist = new Uint32Array(slices * 256);
  const bytes = new Float64Array(slices); // bytes sampled per slice
  const utf8 = new Float64Array(slices); // of which in multi-byte UTF-8 sequences
  const classes = new Uint8Array(slices);
  const entropy = new Float32Array(slices);
  const samples = new Uint8Array(slices);
  const exact = new Uint8Array(slices);
  const maxSamples = new Uint8Array(slices);
  for (let i = 0; i < slices; i++) {
    const [s, e] = sliceRange(size, slices, i);
    maxSamples[i] = Math.min(perSlice, Math.ceil((e - s) / sampleSize));
  }

  // The plan: coarse slices, then every other slice once (bit-reversed order spreads the reads
  // over the file, so the estimate sharpens everywhere at once), then extra samples per slice.
  const tasks: Task[] = [];
  const isCoarse = new Uint8Array(slices);
  for (let j = 0; j < coarse; j++) {
    const i = Math.floor(((j + 0.5) * slices) / coarse);
    if (!isCoarse[i]) {
      isCoarse[i] = 1;
      tasks.push({ slice: i, k: 0, pass: 0 });
    }
  }
  const coarseCount = tasks.length;
  const bits = Math.max(1, Math.ceil(Math.log2(slices)));
  const order: number[] = [];
  for (let r = 0; r < 2 ** bits; r++) {
    const i = bitReverse(r, bits);
    if (i < slices) order.push(i);
  }
  for (const i of order) if (!isCoarse[i]) tasks.push({ slice: i, k: 0, pass: 1 });
  for (let k = 1; k < perSlice; k++) for (const i of order) if (k < maxSamples[i]!) tasks.push({ slice: i, k, pass: k + 1 });

  let reads = 0;
  let bytesRead = 0;
  let pass = 0;
  let lastReport = 0;

  const snapshot = (done: boolean): ByteMapSnapshot => {
    const c = classes.slice();
    const h = entropy.slice();
    fillFromNeighbours(samples, c, h);
    return {
      size,
      slices,
      classes: c,
      entropy: h,
      samples: samples.slice(),
      exact: exact.slice(),
      pass,
      reads,
      totalReads: tasks.length,
      bytesRead,
      done,
    };
  };

  const apply = (task: Task, data: Uint8Array, start: number, sliceStartAt: number, sliceEnd: number) => {
    const i = task.slice;
    countBytes(data, hist, i * 256);
    bytes[i] = bytes[i]! + data.length;
    utf8[i] = utf8[i]! + utf8MultibyteBytes(data);
    samples[i] = samples[i]! + 1;
    const view = hist.subarray(i * 256, i * 256 + 256);
    const h = entropyOf(view, bytes[i]!);
    entropy[i] = h;
    classes[i] = classify(view, bytes[i]!, h, utf8[i]!);
    if (start === sliceStartAt && data.length === sliceEnd - sliceStartAt) exact[i] = 1;
  };

  const run = async (from: number, to: number) => {
    let next = from;
    let failed = false;
    const worker = async () => {
      try {
        await work();
      } catch (err) {
        failed = true; // the other workers stop at their next task
        throw err;
      }
    };
    const work = async () => {
      while (next < to && !failed) {
        throwIfAborted(options.signal);
        const task = tasks[next++]!;
        const [s, e] = sliceRange(size, slices, task.slice);
        const len = Math.min(sampleSize, e - s);
        const at = s + Math.round((e - s - len) * sampleFraction(task.k));
        const data = await src.read(at, len);
        throwIfAborted(options.signal);
        reads++;
        bytesRead += data.length;
        if (data.length === 0) throw new HexmapError("EIO", `Short read at offset ${at} (the document shrank?)`);
        apply(task, data, at, s, e);
        pass = Math.max(pass, task.pass);
        if (options.onProgress && task.pass > 0 && Date.now() - lastReport >= interval) {
          lastReport = Date.now();
          options.onProgress(snapshot(false));
        }
      }
    };
    const workers = Array.from({ length: Math.min(concurrency, to - from) }, () => worker());
    // Wait for all (so no read outlives the job), then report the first failure.
    const results = await Promise.allSettled(workers);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (rejected) throw rejected.reason;
  };

  await run(0, coarseCount);
  lastReport = Date.now();
  if (tasks.length > coarseCount) options.onProgress?.(snapshot(false));
  await run(coarseCount, tasks.length);
  const final = snapshot(true);
  options.onProgress?.(final);
  return final;
}

/** Slices without samples take the values of the nearest sampled slice (ties: the left one). */
function fillFromNeighbours(samples: Uint8Array, classes: Uint8Array, entropy: Float32Array): void {
  const n = samples.length;
  const left = new Int32Array(n);
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (samples[i]) last = i;
    left[i] = last;
  }
  let right = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (samples[i]) {
      right = i;
      continue;
    }
    const l = left[i]!;
    let src = -1;
    if (l < 0) src = right;
    else if (right < 0) src = l;
    else src = i - l <= right - i ? l : right;
    if (src >= 0) {
      classes[i] = classes[src]!;
      entropy[i] = entropy[src]!;
    }
  }
}

// ---- histogram ----------------------------------------------------------------------------------

export interface HistogramOptions extends JobOptions {
  offset?: number;
  length?: number;
}

export interface HistogramResult {
  offset: number;
  length: number;
  /** counts[v] = number of bytes with value v. */
  counts: number[];
  /** Shannon entropy of the range, bits per byte. */
  entropy: number;
}

let zeroChunk: Buffer | undefined;

/** Exact byte-value histogram of a range. All-zero chunks (holes of sparse files) cost one memcmp. */
export async function byteHistogram(src: ByteSource, options: HistogramOptions = {}): Promise<HistogramResult> {
  const offset = options.offset ?? 0;
  const length = clampRange(src.size, offset, options.length);
  const totals = new Float64Array(256);
  const counts = new Uint32Array(256);
  await forEachChunk(src, offset, length, options, (chunk) => {
    const buf = asBuffer(chunk);
    if (!zeroChunk || zeroChunk.length < buf.length) zeroChunk = Buffer.alloc(Math.max(buf.length, DEFAULT_CHUNK));
    if (buf.equals(zeroChunk.subarray(0, buf.length))) {
      totals[0] = totals[0]! + buf.length;
      return;
    }
    counts.fill(0);
    countBytes(buf, counts);
    for (let v = 0; v < 256; v++) totals[v] = totals[v]! + counts[v]!;
  });
  const list = Array.from(totals);
  return { offset, length, counts: list, entropy: entropyOf(list, length) };
}
