// Protocol for search (issue 5). Part of the one contract: messages.ts puts SearchRequest in its
// Request union, `search` in its ResultMap and these events in its Event union.
//
// A search is a detached job: the reply `{jobId}` comes at once (or an error: EINVAL with the
// pattern parser's sentence, EBADDOC, ERANGE), then events for that jobId, to the client that
// started it only:
//   job-progress {jobId, docId, op: "search", done, total}   bytes scanned, ~10 a second
//   search-hit   {jobId, docId, offsets}                      find-all hits, batched, increasing
//   job-done     {jobId, docId, op: "search", result | error} always the last event of the job
// `cancel {jobId}` stops it within 100 ms: job-done then carries result.canceled = true and what
// was found so far. A job also ends (canceled) when its document closes or its client goes away.
//
// What is searched: the document as the user sees it, unsaved edits included, frozen when the
// search starts (a snapshot: app/engine/snapshot-search.ts — long file pieces are scanned by the
// addon in mapped windows, added bytes and piece boundaries in JavaScript). result.version names
// the version read, so the UI can shift or drop hits for edits made since.

import { z } from "zod";

import { docId, offset, reqId } from "./fields";
import type { EditState } from "./messages";

import { MAX_REGEX_PATTERN_CHARS, MAX_SEARCH_HITS, MAX_SEARCH_PATTERN_CHARS, SEARCH_ENCODINGS } from "./search-constants";
export * from "./search-constants";

export const SearchPatternSpec = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("hex"), hex: z.string().max(MAX_SEARCH_PATTERN_CHARS) }),
  z.strictObject({
    kind: z.literal("text"),
    text: z.string().max(MAX_SEARCH_PATTERN_CHARS),
    encoding: z.enum(SEARCH_ENCODINGS),
    ignoreCase: z.boolean().optional(),
  }),
  // A regular expression over the bytes (app/engine/regex.ts: grep -P syntax, linear time):
  // matches are non-overlapping, leftmost-first, and of any length — their lengths come with
  // them (search-hit `lengths`, SearchDone `lengths`).
  z.strictObject({
    kind: z.literal("regex"),
    regex: z.string().max(MAX_REGEX_PATTERN_CHARS),
    ignoreCase: z.boolean().optional(),
    utf8: z.boolean().optional(),
  }),
]);
export type SearchPatternSpec = z.infer<typeof SearchPatternSpec>;

/**
 * Matches lie inside [0, to) (`to` defaults to the size):
 * forward: the first match starting at or after `from` (default 0);
 * backward: the last match starting before `from` (default: `to`);
 * all: every match starting at or after `from`, streamed as `search-hit` events.
 */
export const SearchRequest = z.strictObject({
  id: reqId,
  type: z.literal("search"),
  docId,
  pattern: SearchPatternSpec,
  direction: z.enum(["forward", "backward", "all"]),
  from: offset.optional(),
  to: offset.optional(),
  maxHits: z.number().int().nonnegative().max(MAX_SEARCH_HITS).optional(),
});
export type SearchRequest = z.infer<typeof SearchRequest>;
export type SearchDirection = SearchRequest["direction"];

/** What `job-done` carries for a search that ran (canceled or not). */
export interface SearchDone {
  direction: SearchDirection;
  /** forward/backward: [offset] or []; all: [] (the hits came as search-hit events). */
  hits: number[];
  /** all: every match in the range, overlapping ones included (exact, even past maxHits); else hits.length. */
  total: number;
  /** all: hits sent as search-hit events (min(total, maxHits)). */
  kept: number;
  canceled: boolean;
  /** Bytes examined. */
  scanned: number;
  /** The range searched. */
  from: number;
  to: number;
  /** Encoded pattern length in bytes (a hit covers [offset, offset + patternLength)); regex: the longest hit's length (0 when none). */
  patternLength: number;
  /** Regex only: each hit's length, parallel to `hits` (find all: to the search-hit offsets). */
  lengths?: number[];
  /** How the pattern reads: hex "DE AD ?? EF" or text "…" (utf16le, ignore case). */
  description: string;
  /** Always false now: an edited document is searched as the user sees it (kept for older clients). */
  pendingEdits: boolean;
  /** The document version (generation) the search read: older than the document's now = results from before later edits. */
  version: number;
}

export type SearchEvent =
  | { event: "search-hit"; jobId: string; docId: string; offsets: number[]; lengths?: number[] };

export type SearchJobOp = "search" | "replace-all";

/** Longest replacement accepted (bytes). */
export const MAX_REPLACEMENT_BYTES = 1024 * 1024;

/**
 * Replace all (Find & Replace): every non-overlapping match of `pattern`, left to right (the first
 * `max` only, when given), in the document as the user sees it, gives way to `bytes` — ONE undo
 * step. Runs as a job (job-progress op "replace-all", `cancel {jobId}`); the reply comes when it
 * ends. Nothing is written to the file until Save. EACCES on a read-only document; EINVAL for a
 * regex that can match nothing; EBUSY when the document changed while its matches were found.
 */
export const ReplaceAllRequest = z.strictObject({
  id: reqId,
  type: z.literal("replace-all"),
  docId,
  pattern: SearchPatternSpec,
  /** The replacement (may be empty: deletes the matches); `bytes` so it travels in the binary frame. */
  bytes: z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "bytes (the replacement) must be a Uint8Array" })
    .refine((b) => b.length <= MAX_REPLACEMENT_BYTES, { message: `the replacement must hold at most ${MAX_REPLACEMENT_BYTES} bytes` }),
  max: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});
export type ReplaceAllRequest = z.infer<typeof ReplaceAllRequest>;

export interface ReplaceAllResult extends EditState {
  /** Matches replaced (0: nothing matched, or canceled before replacing: the document is unchanged). */
  replaced: number;
  canceled: boolean;
  /** The changed range in the document now: the first match's start to the last replacement's end (start = end = 0 when nothing changed). */
  start: number;
  end: number;
  /** The document's size before the replace. */
  sizeBefore: number;
}
