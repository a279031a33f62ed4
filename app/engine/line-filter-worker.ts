// The filter's worker thread (started by line-filter.ts, never imported): reads the file with
// plain positional reads — or, for an edited document, asks the main thread for each chunk of the
// snapshot through a shared buffer and waits for it (Atomics.wait: reads stay synchronous here) — splits it into lines exactly as the LineIndex numbers them (line n
// starts after the (n-1)-th newline; UTF-16 newlines are 2-byte units at even offsets), and tests
// each line — its first `capBytes` bytes, decoded, without the CR of a CRLF — against the regex.
//
// It tells the main thread what it is doing through shared memory (the line under test and when
// it started), so the main thread can terminate it when one line takes the regex too long and
// start a new worker past that line. Matches go out in batches that also say how far they reach
// (`upTo`, `nextOffset`): a new worker resumes exactly after the last batch sent.

import * as fs from "node:fs";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

export interface FilterWorkerData {
  path: string;
  /** Byte offset where line `fromLine` starts; scan up to `end` (exclusive). */
  start: number;
  end: number;
  fromLine: number;
  encoding: "utf-8" | "utf-16le" | "utf-16be" | "latin1";
  regex: string;
  flags: string;
  /** Stop after this many matches. */
  maxMatches: number;
  capBytes: number;
  /** Lines not to test (they hung an earlier worker). */
  skip: number[];
  /** [lineUnderTest, lineOffset, testStartedAtMs, bytesDone] */
  shared: SharedArrayBuffer;
  /** An edited document: read through the main thread (see READ_* below) instead of the file. */
  channel?: SharedArrayBuffer;
}

/**
 * The read channel: Int32 [state, gotLength, wantLength, 0], Float64 [offset] at byte 16, the bytes
 * from byte 24. The worker writes offset and wantLength, sets state READ_ASKED and posts "read";
 * the main thread fills the bytes, gotLength, and sets state READ_DONE (or READ_FAILED).
 */
export const READ_IDLE = 0;
export const READ_ASKED = 1;
export const READ_DONE = 2;
export const READ_FAILED = 3;
export const READ_HEADER = 24;

export type FilterWorkerMessage =
  | { type: "batch"; lines: number[]; upTo: number; nextOffset: number; cappedLines: number }
  | { type: "done"; lastLine: number; nextOffset: number; cappedLines: number; reachedEnd: boolean }
  | { type: "error"; message: string }
  | { type: "read" };

const CHUNK = 1024 * 1024;
const BATCH_MS = 50;
const BATCH_HITS = 4096;

function run(d: FilterWorkerData): void {
  const port = parentPort!;
  const state = new Float64Array(d.shared);
  const re = new RegExp(d.regex, d.flags);
  const unit = d.encoding === "utf-16le" || d.encoding === "utf-16be" ? 2 : 1;
  const skip = new Set(d.skip);
  const channel = d.channel;
  const fd = channel ? -1 : fs.openSync(d.path, "r");
  const chunk = Buffer.allocUnsafe(CHUNK);
  const ctrl = channel ? new Int32Array(channel, 0, 4) : null;
  const at = channel ? new Float64Array(channel, 8 * 2, 1) : null;
  const bytes = channel ? new Uint8Array(channel, READ_HEADER) : null;
  /** Reads up to `want` bytes at `pos` into chunk; the count read. */
  const readAt = (want: number, pos: number): number => {
    if (!ctrl || !at || !bytes) return fs.readSync(fd, chunk, 0, want, pos);
    at[0] = pos;
    ctrl[2] = Math.min(want, bytes.length);
    Atomics.store(ctrl, 0, READ_ASKED);
    port.postMessage({ type: "read" } satisfies FilterWorkerMessage);
    while (Atomics.load(ctrl, 0) === READ_ASKED) Atomics.wait(ctrl, 0, READ_ASKED, 1000);
    if (Atomics.load(ctrl, 0) !== READ_DONE) throw new Error("the edited document could not be read");
    const got = ctrl[1]!;
    chunk.set(bytes.subarray(0, got), 0);
    Atomics.store(ctrl, 0, READ_IDLE);
    return got;
  };
  // The beginning of the current line (up to capBytes + 2 bytes: room for a CR).
  const keep = d.capBytes + 2 * unit;
  const lineBuf = Buffer.allocUnsafe(keep);
  let lineFill = 0;
  let lineLen = 0;
  let lineNo = d.fromLine;
  let lineOffset = d.start;
  let pos = d.start;
  let matches = 0;
  let capped = 0;
  let batch: number[] = [];
  let lastPost = Date.now();
  let counter = 0;
  const newline = d.encoding === "utf-16le" ? Buffer.from([0x0a, 0x00]) : d.encoding === "utf-16be" ? Buffer.from([0x00, 0x0a]) : Buffer.from([0x0a]);

  const post = (force: boolean) => {
    const now = Date.now();
    if (!force && batch.length < BATCH_HITS && now - lastPost < BATCH_MS) return;
    lastPost = now;
    port.postMessage({ type: "batch", lines: batch, upTo: lineNo - 1, nextOffset: lineOffset, cappedLines: capped } satisfies FilterWorkerMessage);
    batch = [];
    capped = 0;
  };

  const decode = (b: Buffer): string => {
    let s = b;
    if (lineOffset === 0) {
      if (d.encoding === "utf-8" && s[0] === 0xef && s[1] === 0xbb && s[2] === 0xbf) s = s.subarray(3);
      else if (unit === 2 && s.length >= 2 && ((s[0] === 0xff && s[1] === 0xfe) || (s[0] === 0xfe && s[1] === 0xff))) s = s.subarray(2);
    }
    switch (d.encoding) {
      case "utf-8":
        return s.toString("utf8");
      case "latin1":
        return s.toString("latin1");
      case "utf-16le":
        return s.toString("utf16le", 0, s.length - (s.length % 2));
      case "utf-16be": {
        const c = Buffer.from(s.subarray(0, s.length - (s.length % 2)));
        c.swap16();
        return c.toString("utf16le");
      }
    }
  };

  /** The line [lineOffset, lineOffset + lineLen) ended: test it. Returns false to stop. */
  const endLine = (): boolean => {
    if (!skip.has(lineNo)) {
      let n = Math.min(lineFill, lineLen);
      const isCapped = lineLen > d.capBytes;
      if (isCapped) {
        capped++;
        n = Math.min(n, d.capBytes);
      } else if (n >= unit) {
        // Drop the CR of a CRLF ending.
        if (unit === 1 && lineBuf[n - 1] === 0x0d) n--;
        else if (d.encoding === "utf-16le" && lineBuf[n - 2] === 0x0d && lineBuf[n - 1] === 0) n -= 2;
        else if (d.encoding === "utf-16be" && lineBuf[n - 2] === 0 && lineBuf[n - 1] === 0x0d) n -= 2;
      }
      const text = decode(lineBuf.subarray(0, n));
      state[0] = lineNo;
      state[1] = lineOffset;
      state[2] = Date.now();
      const hit = re.test(text);
      state[2] = 0;
      if (hit) {
        batch.push(lineNo);
        matches++;
      }
    }
    lineNo++;
    lineOffset = lineOffset + lineLen + unit;
    lineLen = 0;
    lineFill = 0;
    if (matches >= d.maxMatches) return false;
    if ((++counter & 63) === 0) post(false);
    return true;
  };

  const append = (src: Buffer, from: number, to: number) => {
    const take = Math.min(to - from, keep - lineFill);
    if (take > 0) {
      src.copy(lineBuf, lineFill, from, from + take);
      lineFill += take;
    }
    lineLen += to - from;
  };

  let stopped = false;
  try {
    outer: while (pos < d.end) {
      const want = Math.min(CHUNK, d.end - pos);
      const got = readAt(want, pos);
      if (got <= 0) break; // truncated under us: stop at what exists
      const buf = chunk.subarray(0, got - (unit === 2 ? got % 2 : 0));
      if (buf.length === 0) break;
      let i = 0;
      while (i < buf.length) {
        let nl = buf.indexOf(newline, i);
        // UTF-16: a newline unit starts at an even file offset (pos is even, so an even index).
        while (unit === 2 && nl >= 0 && nl % 2 !== 0) nl = buf.indexOf(newline, nl + 1);
        if (nl < 0) {
          append(buf, i, buf.length);
          break;
        }
        append(buf, i, nl);
        if (!endLine()) {
          stopped = true;
          break outer;
        }
        i = nl + unit;
      }
      pos += buf.length;
      state[3] = pos - d.start;
    }
    // A last line without a newline.
    if (!stopped && lineLen > 0 && pos >= d.end) {
      if (!endLine()) stopped = true;
    }
    post(true);
    port.postMessage({
      type: "done",
      lastLine: lineNo - 1,
      nextOffset: lineOffset,
      cappedLines: capped,
      reachedEnd: !stopped,
    } satisfies FilterWorkerMessage);
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

// line-filter.ts imports this module's constants: run only as the worker.
if (!isMainThread && parentPort) {
  try {
    run(workerData as FilterWorkerData);
  } catch (err) {
    parentPort.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) } satisfies FilterWorkerMessage);
  }
}
