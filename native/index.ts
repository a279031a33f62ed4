// Typed entry point to the native addon (native/src/addon.cc). The addon is found with
// node-gyp-build: native/build/Release/hexmap.node in a source checkout, or
// native/prebuilds/<platform>-<arch>/*.node when a prebuild is present (the win32-x64 one is
// cross-built with mingw-w64 and tested under Wine).
//
// All offsets and lengths are JS numbers that must be non-negative safe integers; the addon
// rejects anything else with code "EINVAL". Errors thrown or rejected by the addon are Errors
// with a stable `code` (ENOENT, EACCES, EISDIR, EBUSY, EIO, EINVAL, ERANGE, ECLOSED, ...), and
// `syscall`/`errno` when an OS call failed.

import * as path from "node:path";

export interface NativeError extends Error {
  code: string;
  syscall?: string;
  errno?: number;
}

export interface NativeStats {
  sources: number; // open sources
  views: number; // mapped views
  mappedBytes: number; // sum of mapped view lengths
}

export interface NativeView {
  /** Offset of the first byte of the window in the source (a multiple of granularity). */
  readonly offset: number;
  readonly length: number;
  readonly writable: boolean;
  /** Copies `length` bytes at `at` (relative to the view) into a new JS-owned Buffer, on a worker thread. */
  read(at: number, length: number): Promise<Buffer>;
  readSync(at: number, length: number): Buffer;
  /** Copies data into the view at `at` (guarded). The view must be writable. */
  write(at: number, data: Uint8Array): Promise<void>;
  writeSync(at: number, data: Uint8Array): void;
  /** FlushViewOfFile / msync(MS_SYNC) of [at, at+length) (default: the whole view), on a worker. */
  flush(at?: number, length?: number): Promise<void>;
  /** Unmaps the window. Idempotent; operations in flight finish first; later ones fail with ECLOSED. */
  unmap(): void;
  readonly closed: boolean;
}

export interface NativeSource {
  readonly kind: "file" | "shm";
  readonly writable: boolean;
  /** Size now, as the OS reports it (fstat / GetFileSizeEx / section size). */
  size(): number;
  /**
   * Maps [offset, offset+length). offset must be a multiple of `granularity`, length > 0 and the
   * range within size() (else ERANGE). writable needs a writable source (else EACCES).
   */
  map(offset: number, length: number, writable?: boolean): NativeView;
  /** FlushFileBuffers / fsync on a worker. No-op for shared memory. */
  sync(): Promise<void>;
  /** Unmaps every view of this source and closes it. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

export interface NativeAddon {
  /** 65536 on Windows, the page size on POSIX. */
  readonly granularity: number;
  readonly pageSize: number;
  readonly backend: "win32" | "posix";
  openFile(path: string, options?: { writable?: boolean }): NativeSource;
  /** Creates (or opens, if it exists with this size) a named section. */
  createShm(name: string, size: number): NativeSource & { readonly existed: boolean };
  openShm(name: string, options?: { writable?: boolean }): NativeSource;
  /** POSIX shm_unlink; no-op on Windows. */
  unlinkShm(name: string): void;
  stats(): NativeStats;
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
    cached = nodeGypBuild(nativeDir) as NativeAddon;
  }
  return cached;
}

function findNativeDir(from: string): string {
  // Walk up to the folder holding package.json, then into native/.
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "native", "binding.gyp");
    try {
      require("node:fs").accessSync(candidate);
      return path.join(dir, "native");
    } catch {
      /* keep walking */
    }
    dir = path.dirname(dir);
  }
  return path.join(from, "..", "..", "native");
}
