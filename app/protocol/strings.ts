// Protocol for the Strings panel (issue 16): the printable runs of a document, as
// app/engine/strings.ts finds them (GNU `strings -a` for ASCII/Latin-1, `strings -el` for
// UTF-16LE). Part of the one contract: messages.ts puts STRINGS_REQUESTS in its Request union,
// StringsResultMap in its ResultMap and StringsEvent in its Event union.
//
// `strings` is a job like the panels' (app/protocol/panels.ts): the first `job-progress` event
// (done = total = 0) names the jobId, then `strings-found {jobId, docId, strings}` batches in
// offset order and `job-progress {op: "strings"}` (bytes scanned) while it runs, and the reply
// when it ends: the exact total, however many were listed. `cancel {jobId}` stops it with
// ECANCELED (the batches already sent stay valid). What is scanned: the document as the user
// sees it, unsaved edits included, frozen when the job starts (an editor snapshot).

import { z } from "zod";

import { docId, reqId } from "./fields";

import { MAX_STRINGS_LISTED, MAX_STRINGS_MIN_LENGTH, STRINGS_REQUEST_ENCODINGS, type StringsRequestEncoding } from "./strings-constants";
export * from "./strings-constants";

export const StringsRequest = z.strictObject({
  id: reqId,
  type: z.literal("strings"),
  docId,
  /** Shortest run listed, in characters (default 4). */
  minLength: z.number().int().min(1).max(MAX_STRINGS_MIN_LENGTH).optional(),
  /** Default ascii; all: both, merged by offset. */
  encoding: z.enum(STRINGS_REQUEST_ENCODINGS).optional(),
  /** List at most this many (default and most MAX_STRINGS_LISTED; 0: count only). */
  maxResults: z.number().int().nonnegative().max(MAX_STRINGS_LISTED).optional(),
});
export type StringsRequest = z.infer<typeof StringsRequest>;

export const STRINGS_REQUESTS = [StringsRequest] as const;

export interface StringEntry {
  /** Byte offset of the first character. */
  offset: number;
  /** Bytes the string covers (characters × 2 for UTF-16LE). */
  length: number;
  encoding: "ascii" | "utf16le";
  /** Its characters (the first MAX_STRING_TEXT of them). */
  text: string;
  /** `text` holds only the first MAX_STRING_TEXT characters. */
  truncated?: boolean;
}

export interface StringsResult {
  docId: string;
  /** Every string found (exact, also past maxResults). */
  total: number;
  /** Strings sent in strings-found events (min(total, maxResults)). */
  listed: number;
  minLength: number;
  encoding: StringsRequestEncoding;
  /** Bytes scanned (the document's size when the job started). */
  scanned: number;
  /** The document version (generation) that was read. */
  version: number;
}

export interface StringsResultMap {
  strings: StringsResult;
}

export type StringsEvent = { event: "strings-found"; jobId: string; docId: string; strings: StringEntry[] };

export type StringsJobOp = "strings";
