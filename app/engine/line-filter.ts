// Regex filter for the log view: which lines of a file match a JavaScript regular expression.
// The matching runs on a worker thread (line-filter-worker.ts), never on the host's main thread,
// and a watchdog here guards against catastrophic regexes: when the worker has been inside one
// line's test for longer than `lineTimeoutMs`, it is terminated and a fresh worker carries on
// after that line (the line is reported as skipped). Cancel terminates the worker at once.
// Each line is matched on its first `capBytes` bytes (64 KiB): a 4 GiB line costs a scan, not
// a 4 GiB string. An edited document (`source`: a snapshot) is read by this thread, a chunk at a
// time as the worker asks for it (a shared buffer and Atomics), so the worker sees unsaved edits.

import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { HexmapError, toHexmapError } from "./errors";
import { READ_DONE, READ_HEADER, type FilterWorkerData, type FilterWorkerMessage } from "./line-filter-worker";
import type { TextEncoding } from "./line-index";

export const DEFAULT_CAP_BYTES = 64 * 1024;
export const DEFAULT_LINE_TIMEOUT_MS = 1000;
const MAX_SKIPPED_LISTED = 100;
const MAX_RESTARTS = 10_000;

/** Compiles the regex as the worker will (no g/y: each line is tested on its own). EINVAL with the engine's sentence. */
export function compileFilterRegex(source: string, flags = ""): RegExp {
  if (typeof source !== "string" || source.length === 0) throw new HexmapError("EINVAL", "The regular expression is empty");
  if (!/^[imsu]*$/.test(flags) || new Set(flags).size !== flags.length) {
    throw new HexmapError("EINVAL", `Regular expression flags must be some of i, m, s, u (each once), got ${JSON.stringify(flags)}`);
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new HexmapError("EINVAL", `Invalid regular expression: ${err instanceof Error ? err.message.replace(/^Invalid regular expression: /, "") : String(err)}`);
  }
}

/** Bytes the worker asks for at once (its chunk). */
const READ_CHUNK = 1024 * 1024;

export interface FilterOptions {
  path: string;
  /** Read this (an edited document's snapshot) instead of the file at `path`. */
  source?: { read(offset: number, length: number): Promise<Uint8Array> };
  /** Byte offset where line `fromLine` starts; lines are scanned up to `end` (exclusive). */
  start: number;
  end: number;
  fromLine: number;
  encoding: TextEncoding;
  regex: string;
  flags?: string;
  maxMatches?: number;
  capBytes?: number;
  lineTimeoutMs?: number;
  signal?: AbortSignal;
  /** Matching line numbers, increasing, in batches. */
  onHits?(lines: number[]): void;
  /** Bytes scanned of end - start. */
  onProgress?(done: number, total: number): void;
}

export interface FilterOutcome {
  matches: number;
  canceled: boolean;
  /** Reached `end` (not stopped by maxMatches or cancel). */
  complete: boolean;
  lastLine: number;
  scannedBytes: number;
  cappedLines: number;
  skipped: number[];
}

function workerPath(): string {
  return path.join(__dirname, "line-filter-worker.js");
}

/** Runs the filter; resolves when it ends (a cancel resolves with canceled: true). Rejects on I/O errors. */
export function runFilter(o: FilterOptions): Promise<FilterOutcome> {
  compileFilterRegex(o.regex, o.flags ?? "");
  const maxMatches = o.maxMatches ?? Number.MAX_SAFE_INTEGER;
  const capBytes = o.capBytes ?? DEFAULT_CAP_BYTES;
  const timeoutMs = o.lineTimeoutMs ?? DEFAULT_LINE_TIMEOUT_MS;
  const total = Math.max(0, o.end - o.start);
  return new Promise<FilterOutcome>((resolve, reject) => {
    let matches = 0;
    let cappedLines = 0;
    const skipped: number[] = [];
    let skippedCount = 0;
    // Where a new worker resumes: after the last batch received.
    let resumeLine = o.fromLine;
    let resumeOffset = o.start;
    let settled = false;
    let worker: Worker | null = null;
    let shared: Float64Array | null = null;
    let watchdog: NodeJS.Timeout | null = null;
    let restarts = 0;
    const skipList: number[] = [];

    const finish = (out: Omit<FilterOutcome, "matches" | "cappedLines" | "skipped" | "scannedBytes"> & { scannedBytes?: number }) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve({
        matches,
        cappedLines,
        skipped,
        scannedBytes: out.scannedBytes ?? Math.min(total, Math.max(0, resumeOffset - o.start)),
        canceled: out.canceled,
        complete: out.complete,
        lastLine: out.lastLine,
      });
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      if (watchdog) clearInterval(watchdog);
      watchdog = null;
      o.signal?.removeEventListener("abort", onAbort);
      const w = worker;
      worker = null;
      if (w) void w.terminate();
    };
    const onAbort = () => finish({ canceled: true, complete: false, lastLine: resumeLine - 1 });
    if (o.signal?.aborted) {
      finish({ canceled: true, complete: false, lastLine: o.fromLine - 1, scannedBytes: 0 });
      return;
    }
    o.signal?.addEventListener("abort", onAbort);

    const start = () => {
      const sab = new SharedArrayBuffer(4 * 8);
      shared = new Float64Array(sab);
      const data: FilterWorkerData = {
        path: o.path,
        start: resumeOffset,
        end: o.end,
        fromLine: resumeLine,
        encoding: o.encoding,
        regex: o.regex,
        flags: o.flags ?? "",
        maxMatches: maxMatches - matches,
        capBytes,
        skip: skipList.slice(),
        shared: sab,
      };
      const channel = o.source ? new SharedArrayBuffer(READ_HEADER + READ_CHUNK) : null;
      if (channel) data.channel = channel;
      const w = new Worker(workerPath(), { workerData: data });
      worker = w;
      const base = resumeOffset;
      w.on("message", (m: FilterWorkerMessage) => {
        if (worker !== w || settled) return;
        if (m.type === "read") {
          if (!channel || !o.source) return;
          const ctrl = new Int32Array(channel, 0, 4);
          const offset = new Float64Array(channel, 16, 1)[0]!;
          const want = ctrl[2]!;
          o.source.read(offset, want).then(
            (buf) => {
              if (worker !== w || settled) return;
              const n = Math.min(buf.length, want);
              new Uint8Array(channel, READ_HEADER).set(buf.subarray(0, n), 0);
              ctrl[1] = n;
              Atomics.store(ctrl, 0, READ_DONE);
              Atomics.notify(ctrl, 0);
            },
            (err: unknown) => fail(toHexmapError(err, { path: o.path, op: "filter the lines of" })),
          );
          return;
        }
        if (m.type === "error") {
          fail(new HexmapError("EIO", `The filter could not read ${o.path}: ${m.message}`));
          return;
        }
        if (m.type === "batch") {
          if (m.lines.length) {
            matches += m.lines.length;
            o.onHits?.(m.lines);
          }
          cappedLines += m.cappedLines;
          resumeLine = m.upTo + 1;
          resumeOffset = m.nextOffset;
          o.onProgress?.(Math.min(total, Math.max(resumeOffset, base + (shared?.[3] ?? 0)) - o.start), total);
          return;
        }
        cappedLines += m.cappedLines;
        resumeLine = m.lastLine + 1;
        resumeOffset = m.nextOffset;
        o.onProgress?.(total, total);
        finish({ canceled: false, complete: m.reachedEnd, lastLine: m.lastLine, scannedBytes: m.reachedEnd ? total : Math.max(0, resumeOffset - o.start) });
      });
      w.on("error", (err) => {
        if (worker === w) fail(new HexmapError("EINTERNAL", `The filter worker failed: ${err.message}`));
      });
      w.on("exit", (code) => {
        if (worker === w && !settled) fail(new HexmapError("EINTERNAL", `The filter worker stopped (exit code ${code})`));
      });
    };

    // The watchdog: a line under test for too long is skipped by a fresh worker.
    watchdog = setInterval(() => {
      if (settled || !shared || !worker) return;
      const began = shared[2]!;
      if (began > 0 && Date.now() - began > timeoutMs) {
        const stuck = shared[0]!;
        const old = worker;
        worker = null; // its messages and exit are ignored from now on
        void old.terminate();
        skippedCount++;
        if (skipped.length < MAX_SKIPPED_LISTED) skipped.push(stuck);
        skipList.push(stuck);
        if (++restarts > MAX_RESTARTS) {
          fail(new HexmapError("ETOOBIG", "The regular expression is too slow on this file (too many lines skipped)"));
          return;
        }
        start();
      } else {
        o.onProgress?.(Math.min(total, Math.max(0, resumeOffset - o.start)), total);
      }
    }, Math.max(20, Math.min(250, timeoutMs / 4)));
    watchdog.unref?.();
    start();
  });
}
