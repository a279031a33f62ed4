// Checksums of a range of a document (or all of it): CRC-32, MD5, SHA-1, SHA-256, several in one
// pass. The bytes stream through the document's mapped reads in chunks with the next read already
// in flight while the current chunk is hashed, so the disk and the hash overlap and the event loop
// is never held for more than one chunk (a few ms). Progress per chunk; cancel with an
// AbortSignal, checked between chunks (rejects with HexmapError ECANCELED).
//
// This module also holds the small job helpers (ByteSource, JobOptions, the read pipeline) that
// compare.ts and bytemap.ts share.

import { createHash, type Hash } from "node:crypto";
import * as zlib from "node:zlib";
import { HexmapError, checkOffset } from "./errors";

// ---- shared job helpers -----------------------------------------------------------------------

/** What a job needs of a document: a Document, an Editor (edits merged), or a test double. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset+length), clamped at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface JobOptions {
  /** Cancels the job: it rejects with HexmapError ECANCELED at the next chunk boundary. */
  signal?: AbortSignal;
  /** Called after each chunk with bytes done so far and the total (callers throttle if needed). */
  onProgress?: (done: number, total: number) => void;
  /** Bytes per read. Default 4 MiB. */
  chunkSize?: number;
}

export const DEFAULT_CHUNK = 4 * 1024 * 1024;
/** Chunks hashed/compared per job are limited by Document.read's 1 GiB cap; keep them modest. */
const MAX_CHUNK = 256 * 1024 * 1024;

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new HexmapError("ECANCELED", "The job was cancelled");
}

export function chunkSizeOf(options: JobOptions): number {
  const n = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_CHUNK) {
    throw new HexmapError("EINVAL", `chunkSize must be an integer in 1..${MAX_CHUNK}, got ${n}`);
  }
  return n;
}

/**
 * Validates [offset, offset+length) against `size` like Document.read does: offset past the end
 * is ERANGE, the length is clamped at the end (undefined = to the end). Returns the clamped length.
 */
export function clampRange(size: number, offset: number, length: number | undefined, what = "the document"): number {
  checkOffset(offset, "offset");
  if (length !== undefined) checkOffset(length, "length");
  if (offset > size) throw new HexmapError("ERANGE", `Offset ${offset} is past the end of ${what} (size ${size})`);
  return length === undefined ? size - offset : Math.min(length, size - offset);
}

/** A Buffer view of any Uint8Array, without copying (for Buffer.equals = memcmp). */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * Reads exactly `length` bytes or fails with EIO (the source shrank under the job). The promise
 * is marked handled at once: read-ahead callers start the next chunk's read and await it only
 * after consuming (and yielding on) the current one, and a rejection in between (document
 * closed, EIO) must not be reported as an unhandled rejection. Awaiting it still throws.
 */
export function readExactly(src: ByteSource, offset: number, length: number, what = "the document"): Promise<Buffer> {
  const p = (async () => {
    const buf = asBuffer(await src.read(offset, length));
    if (buf.length !== length) {
      throw new HexmapError("EIO", `${what} is shorter than it was (changed on disk?): got ${buf.length} of ${length} bytes at offset ${offset}`);
    }
    return buf;
  })();
  p.catch(() => undefined);
  return p;
}

/**
 * Calls `consume` on consecutive chunks of [offset, offset+length), in order, with the read of
 * the next chunk already in flight (two reads outstanding at most: the one being consumed and
 * the next). Checks the signal before each chunk. `consume` may return true to stop early.
 */
export async function forEachChunk(
  src: ByteSource,
  offset: number,
  length: number,
  options: JobOptions,
  consume: (chunk: Buffer, at: number) => boolean | void,
): Promise<void> {
  const chunk = chunkSizeOf(options);
  const end = offset + length;
  const read = (at: number) => readExactly(src, at, Math.min(chunk, end - at));
  throwIfAborted(options.signal);
  if (length === 0) {
    options.onProgress?.(0, 0);
    return;
  }
  let at = offset;
  let pending: Promise<Buffer> | undefined = read(at);
  try {
    while (pending) {
      const buf: Buffer = await pending;
      pending = undefined;
      const next = at + buf.length;
      if (next < end) pending = read(next);
      throwIfAborted(options.signal);
      if (consume(buf, at) === true) return;
      at = next;
      options.onProgress?.(at - offset, length);
      // Let I/O callbacks and other requests run between chunks even if reads resolve at once.
      if (pending) await yieldToEventLoop();
    }
  } finally {
    // A read still in flight after a cancel or an error: nobody will await it.
    if (pending) pending.catch(() => undefined);
  }
}

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ---- CRC-32 -----------------------------------------------------------------------------------

type ZlibCrc32 = (data: Uint8Array | string, value?: number) => number;
/** zlib.crc32 exists from Node 20.15 / 22.2; older runtimes (and some Electron builds) lack it. */
const zlibCrc32: ZlibCrc32 | undefined = (zlib as unknown as { crc32?: ZlibCrc32 }).crc32;

let table: Int32Array | undefined;
function crcTable(): Int32Array {
  if (table) return table;
  // Slicing-by-4 tables for the reflected polynomial 0xEDB88320 (the zip / PNG / Ethernet CRC).
  table = new Int32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let t = 1; t < 4; t++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
}

/** Table-driven CRC-32 (the fallback when zlib.crc32 is missing); `value` continues a CRC. */
export function crc32Table(data: Uint8Array, value = 0): number {
  const t = crcTable();
  let c = ~value;
  let i = 0;
  const n = data.length;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `value` (0 to start). zlib's when present, else the table. */
export function crc32(data: Uint8Array, value = 0): number {
  return zlibCrc32 ? zlibCrc32(data, value) >>> 0 : crc32Table(data, value);
}

export const crc32Implementation: "zlib" | "table" = zlibCrc32 ? "zlib" : "table";

// ---- hashing ----------------------------------------------------------------------------------

export const HASH_ALGORITHMS = ["crc32", "md5", "sha1", "sha256"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return (HASH_ALGORITHMS as readonly string[]).includes(name);
}

export interface HashOptions extends JobOptions {
  /** Default 0. */
  offset?: number;
  /** Default: to the end. Clamped at the end of the document. */
  length?: number;
  /** Default ["sha256"]. Duplicates are ignored. */
  algorithms?: readonly HashAlgorithm[];
}

export interface HashResult {
  offset: number;
  /** Bytes hashed (the requested length clamped at the end). */
  length: number;
  /** Lowercase hex per requested algorithm (CRC-32: 8 digits). */
  digests: Partial<Record<HashAlgorithm, string>>;
}

/** An incremental multi-algorithm hasher (also handy for tests and for hashing expected bytes). */
export class MultiHash {
  private readonly hashes = new Map<HashAlgorithm, Hash>();
  private crc: number | undefined;

  constructor(algorithms: readonly HashAlgorithm[]) {
    for (const a of algorithms) {
      if (!isHashAlgorithm(a)) throw new HexmapError("EINVAL", `Unknown hash algorithm ${JSON.stringify(a)} (use ${HASH_ALGORITHMS.join(", ")})`);
      if (a === "crc32") this.crc = 0;
      else if (!this.hashes.has(a)) this.hashes.set(a, createHash(a));
    }
    if (this.crc === undefined && this.hashes.size === 0) throw new HexmapError("EINVAL", "No hash algorithm given");
  }

  update(data: Uint8Array): this {
    if (this.crc !== undefined) this.crc = crc32(data, this.crc);
    for (const h of this.hashes.values()) h.update(data);
    return this;
  }

  digest(): Partial<Record<HashAlgorithm, string>> {
    const out: Partial<Record<HashAlgorithm, string>> = {};
    for (const a of HASH_ALGORITHMS) {
      if (a === "crc32") {
        if (this.crc !== undefined) out.crc32 = this.crc.toString(16).padStart(8, "0");
      } else {
        const h = this.hashes.get(a);
        if (h) out[a] = h.digest("hex");
      }
    }
    return out;
  }
}

/** Hashes [offset, offset+length) of `src` with every requested algorithm in one pass. */
export async function hashRange(src: ByteSource, options: HashOptions = {}): Promise<HashResult> {
  const offset = options.offset ?? 0;
  const length = clampRange(src.size, offset, options.length);
  const hasher = new MultiHash(options.algorithms ?? ["sha256"]);
  await forEachChunk(src, offset, length, options, (chunk) => {
    hasher.update(chunk);
  });
  return { offset, length, digests: hasher.digest() };
}
