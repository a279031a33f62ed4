// Typed entry point to the native addon (native/src/addon.cc). The addon is found with
// node-gyp-build: native/build/Release/hexmap.node in a source checkout, or
// native/prebuilds/<platform>-<arch>/*.node when a prebuild is present (the win32-x64 one is
// cross-built with mingw-w64 and tested under Wine).
//
// All offsets and lengths are JS numbers that must be non-negative safe integers; the addon
// rejects anything else with code "EINVAL". Errors thrown or rejected by the addon are Errors
// with a stable `code` (ENOENT, EACCES, EISDIR, EBUSY, EIO, EINVAL, ERANGE, ECLOSED, ...), and
// `syscall`/`errno` when an OS call failed (errno is the positive errno on POSIX, GetLastError()
// on Windows). The message is a sentence a user can act on. Codes used by the bindings:
//   EINVAL  an argument of the wrong type, or a number that is not a non-negative safe integer
//   ERANGE  a range outside the view or the source, a misaligned or empty map()
//   EACCES  writing through a read-only view / mapping a writable view of a read-only source
//   ECLOSED the view was unmapped or its source closed
//   EIO     the mapped bytes faulted (file truncated by another program, I/O error)
// Promise-returning methods never throw: bad arguments reject.
//
// Lifetimes: a view keeps its source's OS handle open (the source really closes once its last
// view is unmapped). Operations in flight pin their view, so unmap()/close() while a read runs
// is safe: the read completes, later calls fail with ECLOSED. Garbage-collected sources and
// views release their OS resources; explicit close()/unmap() is still preferred.

import * as path from "node:path";

export interface NativeError extends Error {
  code: string;
  syscall?: string;
  errno?: number;
}

/** Live OS resources in this process (all addon instances), for leak tests. */
export interface NativeStats {
  sources: number; // open sources
  views: number; // mapped views
  mappedBytes: number; // sum of mapped view lengths
}

/**
 * A job running on worker threads. `cancel()` makes it stop within one chunk (256 KiB by
 * default; well under 100 ms): the promise then RESOLVES with `canceled: true` and the partial
 * result (it does not reject). Closing the source cancels its jobs the same way. Callbacks run on
 * the main thread, never after the promise settles; an exception thrown by one is reported as
 * an uncaught exception.
 */
export interface NativeJob<T> {
  readonly promise: Promise<T>;
  cancel(): void;
}

/** Tuning knobs shared by scan jobs; the defaults are what the app uses. */
export interface ScanTuning {
  /** Bytes mapped at a time (rounded up to the granularity; grown to hold a chunk). Default 32 MiB (per thread). */
  windowSize?: number;
  /** Bytes copied out of the window (through the fault guard) and scanned at a time; at most 4 MiB. Default 256 KiB. */
  chunkSize?: number;
  /** Threads for find-all and plain newline counts (slices of >= 32 MiB). 0/undefined: CPU count, at most 4. */
  threads?: number;
  /** Called at most every ~50 ms with bytes scanned so far and the size of the range. */
  onProgress?: (scanned: number, total: number) => void;
}

/**
 * Byte search. A data byte d matches pattern byte i when (d & mask[i]) == (pattern[i] & mask[i]);
 * mask defaults to 0xFF everywhere, a wildcard is mask 0. ignoreCase folds ASCII letters (A-Z,
 * a-z) of fully masked pattern bytes. Every start offset that matches counts, overlapping ones too
 * ("aa" occurs 3 times in "aaaa").
 */
export interface NativeSearchOptions extends ScanTuning {
  pattern: Uint8Array;
  mask?: Uint8Array;
  ignoreCase?: boolean;
  /**
   * forward: the first match starting at or after `from` (default 0);
   * backward: the last match starting before `from` (default: `to`);
   * all: every match starting at or after `from`, streamed to onHits in increasing order.
   */
  direction?: "forward" | "backward" | "all";
  from?: number;
  /** End of the range searched (default: size at the start of the job); a match must end at or before it. */
  to?: number;
  /** all: at most this many hits are passed to onHits (default 1000; 0 just counts). `total` still counts every match. */
  maxHits?: number;
  /** all: batches of hit offsets, in increasing order across calls. */
  onHits?: (hits: Float64Array) => void;
}

export interface NativeSearchResult {
  /** forward/backward: the offset found, or -1. all: -1. */
  hit: number;
  /** all: the exact number of matches in the range (as far as scanned when canceled); forward/backward: 0 or 1. */
  total: number;
  /** all: hits passed to onHits (min(total, maxHits)). */
  kept: number;
  scanned: number;
  canceled: boolean;
}

export interface NativeLineCountOptions extends ScanTuning {
  from?: number;
  to?: number;
  /** 1 (default): count 0x0A bytes. 2: count UTF-16 code units U+000A at from, from+2, ... (a trailing odd byte is ignored). */
  unit?: 1 | 2;
  /** unit 2: big-endian units (00 0A) instead of little-endian (0A 00). */
  bigEndian?: boolean;
  /**
   * K > 0: also report the offset of newline number K, 2K, 3K, ... (1-based; the offset of the
   * newline itself, so line number j*K, 0-based, starts right after it). Sampled counts run
   * as a single pass (no threads).
   */
  sampleEvery?: number;
  /** Batches of sample offsets in increasing order; without it they come in the result's `samples`. */
  onSamples?: (offsets: Float64Array) => void;
}

export interface NativeLineCountResult {
  newlines: number;
  scanned: number;
  canceled: boolean;
  /** Sample offsets, when sampleEvery > 0 and no onSamples was given. */
  samples?: Float64Array;
}

export interface NativeView {
  /** Offset of the first byte of the window in the source (a multiple of granularity). */
  readonly offset: number;
  readonly length: number;
  readonly writable: boolean;
  /**
   * Copies `length` bytes at `at` (relative to the view) into a new JS-owned Buffer, on a worker
   * thread. [at, at+length) must lie within the view (else ERANGE); length 0 gives an empty
   * Buffer. Rejects with EIO if the pages fault (the file was truncated under the view).
   * A single read is limited by Node's Buffer size (ERR_BUFFER_TOO_LARGE beyond 4 GiB).
   */
  read(at: number, length: number): Promise<Buffer>;
  /** read() on the calling thread; throws instead of rejecting. */
  readSync(at: number, length: number): Buffer;
  /**
   * readSync() when every page of the range is in memory now (mincore), so the copy cannot wait
   * for the disk; undefined otherwise, and always on Windows (use read() then). At most 1 MiB
   * (256 pages) is checked; longer ranges give undefined. Optional for test doubles.
   */
  readIfResident?(at: number, length: number): Buffer | undefined;
  /**
   * Copies data (any TypedArray, DataView or ArrayBuffer) into the view at `at` (guarded), on a
   * worker; the bytes are copied before the call returns, so the caller may reuse `data`. The
   * view must be writable (else EACCES) and the range within it (else ERANGE).
   */
  write(at: number, data: Uint8Array): Promise<void>;
  writeSync(at: number, data: Uint8Array): void;
  /** FlushViewOfFile / msync(MS_SYNC) of [at, at+length) (default: at=0, to the end of the view), on a worker. */
  flush(at?: number, length?: number): Promise<void>;
  /** Unmaps the window. Idempotent; operations in flight finish first; later ones fail with ECLOSED. */
  unmap(): void;
  /** True once unmap() or the source's close() was called. */
  readonly closed: boolean;
}

export interface NativeSource {
  readonly kind: "file" | "shm";
  readonly writable: boolean;
  /** Size now, as the OS reports it (fstat / GetFileSizeEx / section size). */
  size(): number;
  /**
   * Maps [offset, offset+length). offset must be a multiple of `granularity`, length > 0 and the
   * range within size() (else ERANGE). writable (default false) needs a writable source (else
   * EACCES). A zero-length source opens fine but has nothing to map: any map() is ERANGE.
   */
  map(offset: number, length: number, writable?: boolean): NativeView;
  /** FlushFileBuffers / fsync on a worker. No-op for shared memory. */
  sync(): Promise<void>;
  /**
   * Scan jobs. Always present on the addon's sources; optional in this type only so that test
   * doubles of NativeSource need not implement them (use scannerOf() to get them typed).
   */
  search?: NativeScanner["search"];
  countLines?: NativeScanner["countLines"];
  /**
   * The data ranges (not holes) of [from, to) as [start0, end0, start1, end1, …], at most `max`
   * of them (go on from the last end for more): SEEK_DATA/SEEK_HOLE on POSIX,
   * FSCTL_QUERY_ALLOCATED_RANGES on Windows. Where the OS cannot say, all of it is data; past
   * the end of file is reported as data. Optional for test doubles.
   */
  dataRanges?(from: number, to: number, max: number): Float64Array;
  /** Unmaps every view of this source (after their in-flight operations) and closes it. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/** The scan jobs of a source (see scannerOf). */
export interface NativeScanner {
  /**
   * Searches the source on worker threads, mapping its own windows one at a time (map → copy
   * chunks through the fault guard → scan → unmap), so memory stays bounded whatever the size.
   * Bad options reject the promise (EINVAL: empty/all-wildcard pattern, mask length, direction;
   * ERANGE: from/to outside the source; ECLOSED: closed source). A file truncated under the scan
   * rejects with EIO.
   */
  search(options: NativeSearchOptions): NativeJob<NativeSearchResult>;
  /** Counts newlines (wc -l's definition) in [from, to) on worker threads, like search(). */
  countLines(options?: NativeLineCountOptions): NativeJob<NativeLineCountResult>;
}

/** The source with its scan jobs typed; throws ENOTSUP for a source without them (a test double). */
export function scannerOf(source: NativeSource): NativeSource & NativeScanner {
  if (typeof source.search !== "function" || typeof source.countLines !== "function") {
    const err = new Error("This source cannot run scan jobs (search, countLines).") as NativeError;
    err.code = "ENOTSUP";
    throw err;
  }
  return source as NativeSource & NativeScanner;
}

export interface NativeAddon {
  /** 65536 on Windows, the page size on POSIX. */
  readonly granularity: number;
  readonly pageSize: number;
  readonly backend: "win32" | "posix";
  /**
   * Opens a regular file, read-only unless options.writable. Other programs may keep reading and
   * writing it. Directories fail with EISDIR, FIFOs/devices with EINVAL, missing files ENOENT.
   */
  openFile(path: string, options?: { writable?: boolean }): NativeSource;
  /**
   * Creates (or opens, if it exists with this size: `existed` is then true) a named section,
   * always writable. size >= 1. Exists with another size → EEXIST. POSIX names are "name" or
   * "/name" (the same object) without further '/'.
   */
  createShm(name: string, size: number): NativeSource & { readonly existed: boolean };
  /** Opens an existing section (ENOENT if there is none), read-only unless options.writable. */
  openShm(name: string, options?: { writable?: boolean }): NativeSource;
  /** POSIX shm_unlink (ENOENT if there is no such name; live mappings stay valid); no-op on Windows. */
  unlinkShm(name: string): void;
  stats(): NativeStats;
  /**
   * Scan jobs (search/countLines) running now; each maps one window at a time of its own (not
   * counted in stats().views). Always present on the addon; optional for test doubles.
   */
  scanJobs?(): number;
  /**
   * Puts `replacement` (a complete, synced file in the same folder) in place of `target`.
   * Windows: ReplaceFileW (the target's ACL, attributes, alternate streams and creation time
   * kept; EBUSY when another program holds the target open without sharing deletion); POSIX:
   * rename(2). On failure the target is unchanged. Optional for test doubles.
   */
  replaceFile?(target: string, replacement: string): void;
  /**
   * Copies [inOffset, inOffset+length) of descriptor inFd into outFd at outOffset in the kernel,
   * on a worker (Linux copy_file_range; holes of the source skipped; shared extents where the
   * file system can). Resolves to the data bytes copied. Rejects with ENOTSUP where there is no
   * such copy (Windows, macOS, across file systems …): copy through memory then; ECHANGED when
   * the source is shorter than the range. Optional for test doubles.
   */
  copyFileRange?(inFd: number, outFd: number, inOffset: number, outOffset: number, length: number): Promise<number>;
}

let cached: NativeAddon | undefined;

/** Loads the addon once. HEXMAP_NATIVE may point at a specific .node file (used by the Wine leg). */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  const explicit = process.env.HEXMAP_NATIVE;
  if (explicit) {
    cached = require(path.resolve(explicit)) as NativeAddon;
  } else {
    // dist/native/index.js or native/index.ts: the addon's folder is <repo>/native either way.
    const nativeDir = findNativeDir(__dirname);
    const nodeGypBuild = require("node-gyp-build") as (dir: string) => unknown;
    try {
      cached = nodeGypBuild(nativeDir) as NativeAddon;
    } catch (err) {
      // node-gyp-build prefers build/Release over prebuilds/. In a tree shared between hosts (a
      // Linux build beside the mingw win32 prebuild) that binary is for another OS ("not a valid
      // Win32 application"): fall back to this platform's prebuild.
      const prebuild = path.join(nativeDir, "prebuilds", `${process.platform}-${process.arch}`, "hexmap.node");
      if (!require("node:fs").existsSync(prebuild)) throw err;
      cached = require(prebuild) as NativeAddon;
    }
  }
  return cached;
}

function findNativeDir(from: string): string {
  // Walk up to the folder whose native/ holds binding.gyp (a source checkout) or a built addon (a
  // package). Inside a packaged Electron app the .node files are unpacked beside app.asar.
  const fs = require("node:fs") as typeof import("node:fs");
  let dir = from.replace(/app\.asar(?=[\\/]|$)/, "app.asar.unpacked");
  for (let i = 0; i < 6; i++) {
    const native = path.join(dir, "native");
    if (["binding.gyp", "prebuilds", path.join("build", "Release")].some((p) => fs.existsSync(path.join(native, p)))) {
      return native;
    }
    dir = path.dirname(dir);
  }
  return path.join(from, "..", "..", "native");
}
