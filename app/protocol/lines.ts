// Protocol for the log view (issue 6): a document shown as lines. Part of the one contract:
// messages.ts puts LINES_REQUESTS in its Request union, LinesResultMap in its ResultMap and
// LinesEvent in its Event union. Kept in its own module so the line view's messages read as one piece.
//
// A client first asks `sniff` (text or binary, which encoding), then `lines-index` — a detached
// job (reply {jobId} at once; `index-progress` events; `job-done` last; `cancel {jobId}` stops it,
// the indexed prefix stays usable). `lines`, `lines-pick`, `line-text`, `line-at-offset` and
// `line-start` work before, while and after indexing: a line past the indexed part is found by a
// memory-speed scan from the nearest sample.
//
// Every reply carries the line document's `generation`: it bumps when the file is rotated
// (follow mode) or the index is rebuilt for another newline width (UTF-16 ↔ 8-bit); a client
// drops replies of an older generation and refetches on `lines-changed`.
//
// Lines are those of the document as edited (unsaved inserts, deletes and overwrites included),
// not of the file as saved. Replies also carry the document `version` (its generation) they were
// answered for. When the document changes — an edit in any window, undo/redo, save, revert,
// reload, a change on disk — the host sends `lines-changed {kind: "edited", previousVersion,
// changedFrom?}`: bytes before `changedFrom` are as they were at `previousVersion` (no
// changedFrom: no byte changed, e.g. a save), so lines ending before it stay valid and every
// other line must be fetched again; the index re-indexes from there on its own (`index-progress`
// of a `lines-index` job), and a client drops replies of an older version.
//
// `follow {on}`: the host watches the file (tail -F). `lines-changed {kind: "grew"}` when lines
// were appended (the index extends over the tail only); `{kind: "rotated"}` when the file was
// truncated or replaced: the host reopened the path under the same docId, the generation moved on,
// and every line must be fetched again.
//
// `filter {regex, flags}`: a detached job on a worker thread. Matching line numbers (1-based, the
// file's real numbers, increasing) stream as `filter-hits` batches; `job-progress {op: "filter"}`
// counts bytes; job-done carries FilterDone. Each line is matched on its first
// MAX_FILTER_LINE_BYTES bytes; a line the regex takes longer than FILTER_LINE_TIMEOUT_MS on
// (catastrophic backtracking) is skipped and listed, so no regex can hold the host.

import { z } from "zod";

import { docId, offset, positive as lineNo, reqId } from "./fields";

export const LINE_ENCODINGS = ["utf-8", "utf-16le", "utf-16be", "latin1"] as const;
export type LineEncoding = (typeof LINE_ENCODINGS)[number];
/** Most lines one `lines` request returns. */
export const MAX_LINES_PER_REQUEST = 10_000;
/** Most line numbers one `lines-pick` request names. */
export const MAX_LINES_PICK = 1000;
/** Longest cut a `lines` request may ask for (maxLineBytes). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Largest slice of a long line one `line-text` returns. */
export const MAX_LINE_SLICE = 4 * 1024 * 1024;
/** Longest regex source accepted. */
export const MAX_REGEX_CHARS = 4096;
/** A filter matches each line on at most its first this many bytes. */
export const MAX_FILTER_LINE_BYTES = 64 * 1024;
/** A line the regex spends longer than this on is skipped (and listed in FilterDone.skipped). */
export const FILTER_LINE_TIMEOUT_MS = 1000;
/** Matches a filter keeps and streams at most (the count goes on). */
export const MAX_FILTER_MATCHES = 1_000_000;

const encoding = z.enum(LINE_ENCODINGS);

/** Text or binary, and the encoding, from the first 8 KiB. */
export const SniffRequest = z.strictObject({ id: reqId, type: z.literal("sniff"), docId });
/** Builds (or resumes) the line index: a detached job. A different newline width rebuilds it. */
export const LinesIndexRequest = z.strictObject({
  id: reqId,
  type: z.literal("lines-index"),
  docId,
  encoding: z.union([z.literal("auto"), encoding]).optional(),
});
/** Lines from..from+count-1 for display; a line longer than maxLineBytes (default 4096) is cut. */
export const LinesRequest = z.strictObject({
  id: reqId,
  type: z.literal("lines"),
  docId,
  from: lineNo,
  count: z.number().int().nonnegative().max(MAX_LINES_PER_REQUEST),
  maxLineBytes: z.number().int().positive().max(MAX_LINE_BYTES).optional(),
  /** Decode as (same newline width as the index: latin1 for a utf-8 index, and back). */
  encoding: encoding.optional(),
});
/** The given lines (filter view rows), in the order asked; numbers past the end are left out. */
export const LinesPickRequest = z.strictObject({
  id: reqId,
  type: z.literal("lines-pick"),
  docId,
  numbers: z.array(lineNo).max(MAX_LINES_PICK),
  maxLineBytes: z.number().int().positive().max(MAX_LINE_BYTES).optional(),
  encoding: encoding.optional(),
});
/** A slice of one line (a long line viewed whole): ask again from `end` until `done`. */
export const LineTextRequest = z.strictObject({
  id: reqId,
  type: z.literal("line-text"),
  docId,
  line: lineNo,
  offset: offset.optional(),
  length: z.number().int().positive().max(MAX_LINE_SLICE).optional(),
  encoding: encoding.optional(),
});
/** The line holding the byte at `offset` (hex view → line view). */
export const LineAtOffsetRequest = z.strictObject({ id: reqId, type: z.literal("line-at-offset"), docId, offset });
/** The byte offset where a line starts (line view → hex view), null past the end. */
export const LineStartRequest = z.strictObject({ id: reqId, type: z.literal("line-start"), docId, line: lineNo });
/** Follow the file like tail -F (on), or stop (off). */
export const FollowRequest = z.strictObject({ id: reqId, type: z.literal("follow"), docId, on: z.boolean() });
/** Lines matching a JavaScript regular expression (flags: any of i, m, s, u), a detached job. */
export const FilterRequest = z.strictObject({
  id: reqId,
  type: z.literal("filter"),
  docId,
  regex: z.string().min(1).max(MAX_REGEX_CHARS),
  flags: z.string().regex(/^[imsu]{0,4}$/, "flags must be some of i, m, s, u").optional(),
  /** First line to look at (default 1). */
  from: lineNo.optional(),
  /** Stop after this many matches (find next: 1). Default MAX_FILTER_MATCHES. */
  maxMatches: z.number().int().positive().max(MAX_FILTER_MATCHES).optional(),
  encoding: encoding.optional(),
});

export const LINES_REQUESTS = [
  SniffRequest,
  LinesIndexRequest,
  LinesRequest,
  LinesPickRequest,
  LineTextRequest,
  LineAtOffsetRequest,
  LineStartRequest,
  FollowRequest,
  FilterRequest,
] as const;

export interface LineInfo {
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line in the file, and its length in bytes without the newline. */
  offset: number;
  length: number;
  /** Display text (control characters made visible; of the first maxLineBytes when truncated). */
  text: string;
  truncated: boolean;
}

/** Where the index stands; every lines reply carries it. */
export interface LineIndexState {
  docId: string;
  generation: number;
  /** The document's generation the index and this reply reflect (bumps on every edit, undo, save…). */
  version: number;
  /** The document has unsaved edits, and these are its lines. */
  edited: boolean;
  encoding: LineEncoding;
  /** Lines known so far (exact when complete; a lower bound while indexing). */
  lineCount: number;
  newlineCount: number;
  indexedBytes: number;
  size: number;
  complete: boolean;
  building: boolean;
  following: boolean;
}

export interface SniffResult {
  docId: string;
  text: boolean;
  encoding: LineEncoding;
  bomLength: number;
  reason: string;
  /** The first bytes hold a line break: with `text`, the line view is the better default. */
  hasNewline: boolean;
}

export interface LinesResult extends LineIndexState {
  lines: LineInfo[];
}

export interface LineTextResult {
  docId: string;
  generation: number;
  version: number;
  number: number;
  lineOffset: number;
  lineLength: number;
  /** Bytes [offset, end) of the line, decoded. */
  offset: number;
  end: number;
  text: string;
  done: boolean;
}

export interface LinesIndexDone extends LineIndexState {
  canceled: boolean;
}

export interface FilterDone {
  /** Lines that matched (the scan stops at maxMatches). */
  matches: number;
  canceled: boolean;
  /** The scan reached the end of the (indexed-at-start) file. */
  complete: boolean;
  from: number;
  /** The last line looked at, and the bytes scanned. */
  lastLine: number;
  scannedBytes: number;
  /** Lines longer than MAX_FILTER_LINE_BYTES (matched on their beginning only). */
  cappedLines: number;
  /** Lines skipped because the regex took too long on them (at most 100 listed). */
  skipped: number[];
  generation: number;
  /** The document version the filter read (a later edit does not change its results). */
  version: number;
}

export interface LinesResultMap {
  sniff: SniffResult;
  "lines-index": { jobId: string; generation: number };
  lines: LinesResult;
  "lines-pick": LinesResult;
  "line-text": LineTextResult;
  "line-at-offset": { docId: string; generation: number; version: number; offset: number; line: number };
  "line-start": { docId: string; generation: number; version: number; line: number; offset: number | null };
  follow: LineIndexState;
  filter: { jobId: string; generation: number };
}

export type LinesEvent =
  | ({ event: "index-progress"; jobId: string } & LineIndexState)
  | ({
      event: "lines-changed";
      kind: "grew" | "rotated" | "error" | "edited";
      reason?: string;
      message?: string;
      /** edited: the version the client may have lines of. */
      previousVersion?: number;
      /** edited: bytes before this offset did not change since previousVersion; absent: none changed. */
      changedFrom?: number;
    } & LineIndexState)
  | { event: "filter-hits"; jobId: string; docId: string; generation: number; version: number; lines: number[] };

export type LinesJobOp = "lines-index" | "filter";
export type LinesDone = LinesIndexDone | FilterDone;
