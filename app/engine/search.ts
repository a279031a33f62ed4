// Search and newline counting over a document's bytes as they are on disk, run by the addon's
// scan jobs (worker threads over mapped windows, fault-guarded; see native/src/scan.h).
//
// What is searched: the raw file. Pending edits (the overlay of issue 4) are NOT merged in: a
// hit is an offset in the file as saved. Merging would mean scanning the overlay's runs in JS
// and the gaps natively, with matches straddling an edit verified against merged bytes.
//
// Cancel: abort the signal. The promise then RESOLVES with canceled: true and what was found so
// far (hits streamed, total counted up to where the scan stopped); it does not reject. The
// native job stops within one 256 KiB chunk, so this takes well under 100 ms.

import { scannerOf, type NativeAddon, type NativeScanner, type NativeSource } from "../../native/index";
import { Document, loadAddon } from "./document";
import { HexmapError, checkOffset, toHexmapError } from "./errors";
import { compilePattern, type PatternSpec, type SearchPattern } from "./pattern";

export type SearchDirection = "forward" | "backward" | "all";

/** Hits kept (returned and streamed) by a find-all when the request does not say. */
export const DEFAULT_MAX_HITS = 10_000;

/** A document, a native source opened elsewhere (not closed here), or a file path. */
export type ScanTarget = Document | NativeSource | { path: string };

export interface SearchRequest {
  pattern: SearchPattern | PatternSpec;
  /** forward/all: first offset a match may start at (default 0); backward: matches start before it (default: the end). */
  from?: number;
  /** End of the range (default: the size when the search starts). */
  to?: number;
  direction?: SearchDirection;
  /** all: hits kept and streamed (default DEFAULT_MAX_HITS; 0 only counts); `total` counts every match. */
  maxHits?: number;
  /** Scan tuning, for tests and benchmarks (see NativeSearchOptions). */
  threads?: number;
  windowSize?: number;
  chunkSize?: number;
}

export interface JobHandlers {
  /** Bytes scanned so far and the size of the range, at most every ~50 ms. */
  onProgress?: (scanned: number, total: number) => void;
  signal?: AbortSignal;
  /** The addon (tests may inject one). Default loadNative(). */
  native?: NativeAddon;
}

export interface SearchHandlers extends JobHandlers {
  /** all: batches of hit offsets, increasing across calls. */
  onHits?: (hits: number[]) => void;
}

export interface SearchResult {
  /** forward/backward: [offset] or []; all: the first min(total, maxHits) offsets. */
  hits: number[];
  /** all: every match in the range (overlapping ones included); forward/backward: hits.length. */
  total: number;
  canceled: boolean;
  /** Bytes examined. */
  scanned: number;
  pattern: SearchPattern;
}

interface Opened {
  source: NativeSource & NativeScanner;
  name: string;
  release: () => void;
}

/**
 * A read-only native source over a document's file or shared memory, able to run scan jobs. The
 * document's own windows serve the viewer; a scan maps its own. `op` names the open ("open for
 * searching") and the scan ("search") in errors. The caller closes it.
 */
export function openDocumentScanner(doc: Document, native: NativeAddon | undefined, op: { open: string; scan: string }): NativeSource & NativeScanner {
  const addon = loadAddon(native);
  let source: NativeSource;
  try {
    source = doc.kind === "shm" ? addon.openShm(doc.name) : addon.openFile(doc.name);
  } catch (err) {
    throw toHexmapError(err, { path: doc.name, op: op.open });
  }
  return scanner(source, doc.name, op.scan);
}

function openTarget(target: ScanTarget, native?: NativeAddon): Opened {
  if (target instanceof Document) {
    if (target.closed) throw new HexmapError("EBADDOC", `The document ${target.name} is closed`);
    const source = openDocumentScanner(target, native, { open: "open for searching", scan: "search" });
    return { source, name: target.name, release: () => source.close() };
  }
  if (typeof (target as NativeSource).map === "function") {
    return { source: scanner(target as NativeSource, "the source", "search"), name: "the source", release: () => {} };
  }
  const path = (target as { path?: unknown }).path;
  if (typeof path !== "string" || path.length === 0) throw new HexmapError("EINVAL", "A search needs a document, a source or a file path");
  const addon = loadAddon(native);
  let source: NativeSource;
  try {
    source = addon.openFile(path);
  } catch (err) {
    throw toHexmapError(err, { path, op: "open" });
  }
  return { source: scanner(source, path, "search"), name: path, release: () => source.close() };
}

function scanner(source: NativeSource, name: string, op: string): NativeSource & NativeScanner {
  try {
    return scannerOf(source);
  } catch (err) {
    source.close();
    throw toHexmapError(err, { path: name, op });
  }
}

/**
 * A handler that throws must not become an uncaught exception in the addon's callback: the
 * first error cancels the job, later calls are skipped, and the job's promise rejects with it.
 */
class CallbackGuard {
  job: { cancel(): void } | undefined;
  private error: { value: unknown } | undefined;
  wrap<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.error) return;
      try {
        fn(...args);
      } catch (err) {
        this.error = { value: err };
        this.job?.cancel();
      }
    };
  }
  rethrow(): void {
    if (this.error) throw this.error.value;
  }
  /** The handler's own error passes through unconverted. */
  isOwn(err: unknown): boolean {
    return this.error !== undefined && this.error.value === err;
  }
}

function isPatternSpec(p: SearchPattern | PatternSpec): p is PatternSpec {
  return typeof p === "object" && p !== null && "kind" in p;
}

function optionalIndex(value: unknown, name: string): number | undefined {
  return value === undefined ? undefined : checkOffset(value, name);
}

/**
 * Runs one search. Rejects with a HexmapError: EINVAL (bad pattern or request), ERANGE (from/to
 * past the end), ENOENT/EACCES (cannot open), EIO (the file was truncated during the scan),
 * EBADDOC (closed document).
 */
export async function startSearch(target: ScanTarget, request: SearchRequest, handlers: SearchHandlers = {}): Promise<SearchResult> {
  if (typeof request !== "object" || request === null) throw new HexmapError("EINVAL", "A search request must be an object");
  const pattern = isPatternSpec(request.pattern) ? compilePattern(request.pattern) : request.pattern;
  if (!(pattern?.bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "The search pattern has no bytes");
  const direction = request.direction ?? "forward";
  if (direction !== "forward" && direction !== "backward" && direction !== "all") {
    throw new HexmapError("EINVAL", `direction must be "forward", "backward" or "all", got ${JSON.stringify(direction)}`);
  }
  const from = optionalIndex(request.from, "from");
  const to = optionalIndex(request.to, "to");
  const maxHits = optionalIndex(request.maxHits, "maxHits") ?? DEFAULT_MAX_HITS;
  const { signal } = handlers;
  if (signal?.aborted) return { hits: [], total: 0, canceled: true, scanned: 0, pattern };

  const opened = openTarget(target, handlers.native);
  const kept: number[] = [];
  const callbacks = new CallbackGuard();
  try {
    const job = opened.source.search({
      pattern: pattern.bytes,
      ...(pattern.mask ? { mask: pattern.mask } : {}),
      direction,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      maxHits,
      ...(request.threads !== undefined ? { threads: request.threads } : {}),
      ...(request.windowSize !== undefined ? { windowSize: request.windowSize } : {}),
      ...(request.chunkSize !== undefined ? { chunkSize: request.chunkSize } : {}),
      ...(handlers.onProgress ? { onProgress: callbacks.wrap(handlers.onProgress) } : {}),
      onHits: callbacks.wrap((batch: Float64Array) => {
        const hits = Array.from(batch);
        for (const h of hits) kept.push(h);
        handlers.onHits?.(hits);
      }),
    });
    callbacks.job = job;
    const cancel = () => job.cancel();
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      const r = await job.promise;
      callbacks.rethrow();
      const hits = direction === "all" ? kept : r.hit >= 0 ? [r.hit] : [];
      return { hits, total: direction === "all" ? r.total : hits.length, canceled: r.canceled, scanned: r.scanned, pattern };
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
  } catch (err) {
    if (callbacks.isOwn(err)) throw err;
    throw toHexmapError(err, { path: opened.name, op: "search" });
  } finally {
    opened.release();
  }
}

export interface NewlineRequest {
  from?: number;
  to?: number;
  /** "utf16le"/"utf16be" count U+000A code units at from, from+2, ...; default bytes (UTF-8, ASCII, Latin-1). */
  encoding?: "bytes" | "utf16le" | "utf16be";
  /** K > 0: report the offset of newline K, 2K, ... (the newline itself; line j*K starts after it). */
  sampleEvery?: number;
  threads?: number;
  windowSize?: number;
  chunkSize?: number;
}

export interface NewlineHandlers extends JobHandlers {
  /** Sample offsets in batches (increasing). Without it they come back in the result. */
  onSamples?: (offsets: Float64Array) => void;
}

export interface NewlineResult {
  /** Newlines in the range: `wc -l`'s line count for the whole file. */
  newlines: number;
  canceled: boolean;
  scanned: number;
  samples?: Float64Array;
}

/** Counts newlines on worker threads (the primitive under the line index of issue 6). */
export async function countNewlines(target: ScanTarget, request: NewlineRequest = {}, handlers: NewlineHandlers = {}): Promise<NewlineResult> {
  const from = optionalIndex(request.from, "from");
  const to = optionalIndex(request.to, "to");
  const sampleEvery = optionalIndex(request.sampleEvery, "sampleEvery");
  const encoding = request.encoding ?? "bytes";
  if (encoding !== "bytes" && encoding !== "utf16le" && encoding !== "utf16be") {
    throw new HexmapError("EINVAL", `encoding must be "bytes", "utf16le" or "utf16be", got ${JSON.stringify(encoding)}`);
  }
  if (handlers.signal?.aborted) return { newlines: 0, canceled: true, scanned: 0 };
  const opened = openTarget(target, handlers.native);
  const callbacks = new CallbackGuard();
  try {
    const job = opened.source.countLines({
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      unit: encoding === "bytes" ? 1 : 2,
      bigEndian: encoding === "utf16be",
      ...(sampleEvery !== undefined ? { sampleEvery } : {}),
      ...(request.threads !== undefined ? { threads: request.threads } : {}),
      ...(request.windowSize !== undefined ? { windowSize: request.windowSize } : {}),
      ...(request.chunkSize !== undefined ? { chunkSize: request.chunkSize } : {}),
      ...(handlers.onProgress ? { onProgress: callbacks.wrap(handlers.onProgress) } : {}),
      ...(handlers.onSamples ? { onSamples: callbacks.wrap(handlers.onSamples) } : {}),
    });
    callbacks.job = job;
    const cancel = () => job.cancel();
    handlers.signal?.addEventListener("abort", cancel, { once: true });
    try {
      const r = await job.promise;
      callbacks.rethrow();
      return { newlines: r.newlines, canceled: r.canceled, scanned: r.scanned, ...(r.samples ? { samples: r.samples } : {}) };
    } finally {
      handlers.signal?.removeEventListener("abort", cancel);
    }
  } catch (err) {
    if (callbacks.isOwn(err)) throw err;
    throw toHexmapError(err, { path: opened.name, op: "count lines in" });
  } finally {
    opened.release();
  }
}
