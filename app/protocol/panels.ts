// Protocol for the panels that help understand the bytes (issue 8): byte map, histogram,
// checksums, compare, export of a selection, bookmarks. Part of the one contract: messages.ts puts
// these requests in its Request union, these results in its ResultMap and these events in its
// Event union. Kept in its own module so the panels' messages read as one piece.
//
// Long requests are jobs (like save): the host sends `job-progress {jobId, docId, op, done, total}`
// events while they run (the first one, done = total = 0, names the jobId before any work), the
// reply when they end, and `cancel {jobId}` stops them with ECANCELED. The byte map also sends
// `bytemap-partial` events: whole maps that sharpen as sampling goes on.

import { z } from "zod";

import { docId, filePath, offset, positive, reqId } from "./fields";

import { HASH_ALGORITHM_NAMES, MAX_BOOKMARKS, MAX_BOOKMARK_NAME, MAX_BYTEMAP_SLICES, type HashAlgorithmName } from "./panel-constants";
export * from "./panel-constants";

/** Byte map of the whole document: a job; partial maps arrive as `bytemap-partial` events. */
export const BytemapRequest = z.strictObject({
  id: reqId,
  type: z.literal("bytemap"),
  docId,
  slices: z.number().int().min(1).max(MAX_BYTEMAP_SLICES),
});
/** Exact byte-value counts of [offset, offset+length) (clamped at the end): a job. */
export const HistogramRequest = z.strictObject({ id: reqId, type: z.literal("histogram"), docId, offset, length: positive });
/** Checksums of [offset, offset+length) (default: the whole document): a job. */
export const HashRequest = z.strictObject({
  id: reqId,
  type: z.literal("hash"),
  docId,
  offset: offset.optional(),
  length: offset.optional(),
  algorithms: z.array(z.enum(HASH_ALGORITHM_NAMES)).min(1).max(4),
});
/**
 * Compares two open documents over their common length: `next` = first difference at or after
 * `from`, `previous` = last difference before `from`, `count` = differing bytes from `from` (to
 * `from + length` if given). A job.
 */
export const CompareRequest = z.strictObject({
  id: reqId,
  type: z.literal("compare"),
  docId,
  otherDocId: docId,
  op: z.enum(["next", "previous", "count"]),
  from: offset,
  length: offset.optional(),
});
/**
 * Writes [offset, offset+length) (edits applied) to a new file at `path` (absolute): streamed to a
 * temporary file beside it, then renamed. A job; EEXIST unless `overwrite`.
 */
export const ExportRequest = z.strictObject({
  id: reqId,
  type: z.literal("export"),
  docId,
  offset,
  length: positive,
  path: filePath,
  overwrite: z.boolean().optional(),
});

/** A named, coloured range of a file. */
export const Bookmark = z.strictObject({
  name: z.string().max(MAX_BOOKMARK_NAME),
  offset,
  length: positive,
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, "color must be #rrggbb"),
});
export type Bookmark = z.infer<typeof Bookmark>;
export const BookmarkList = z.array(Bookmark).max(MAX_BOOKMARKS);

/** The bookmarks kept for the document's file (in the app's user data, not next to the file). */
export const BookmarksGetRequest = z.strictObject({ id: reqId, type: z.literal("bookmarks-get"), docId });
/** Replaces the document's bookmarks (every one must lie inside the document). */
export const BookmarksSetRequest = z.strictObject({ id: reqId, type: z.literal("bookmarks-set"), docId, bookmarks: BookmarkList });

export const PANEL_REQUESTS = [
  BytemapRequest,
  HistogramRequest,
  HashRequest,
  CompareRequest,
  ExportRequest,
  BookmarksGetRequest,
  BookmarksSetRequest,
] as const;

export type PanelRequest =
  | z.infer<typeof BytemapRequest>
  | z.infer<typeof HistogramRequest>
  | z.infer<typeof HashRequest>
  | z.infer<typeof CompareRequest>
  | z.infer<typeof ExportRequest>
  | z.infer<typeof BookmarksGetRequest>
  | z.infer<typeof BookmarksSetRequest>;

// ---- Results ------------------------------------------------------------------------------------

export interface ByteMapData {
  docId: string;
  size: number;
  /** Slice i covers [floor(i·size/slices), floor((i+1)·size/slices)). May be fewer than asked for tiny documents. */
  slices: number;
  /** Class per slice (index into BYTEMAP_CLASSES). */
  classes: number[];
  /** Shannon entropy per slice, bits per byte, two decimals. */
  entropy: number[];
  /** 0 = coarse estimate, 1 = every slice sampled once, 2… = more samples per slice. */
  pass: number;
  done: boolean;
}

export interface HistogramData {
  docId: string;
  offset: number;
  length: number;
  /** counts[v] = bytes with value v. */
  counts: number[];
  entropy: number;
}

export interface HashData {
  docId: string;
  offset: number;
  length: number;
  /** Lowercase hex per requested algorithm. */
  digests: Partial<Record<HashAlgorithmName, string>>;
}

export interface CompareData {
  op: "next" | "previous" | "count";
  /** next/previous: the difference found (offset and both byte values), or null. */
  difference?: { offset: number; a: number; b: number } | null;
  /** count: differing bytes in [from, from + length). */
  differences?: number;
  from: number;
  length?: number;
  /** Set when the sizes differ: which document is shorter, and its size. */
  eof: { shorter: "a" | "b"; at: number } | null;
}

export interface BookmarksData {
  docId: string;
  bookmarks: Bookmark[];
}

export interface PanelResultMap {
  bytemap: ByteMapData;
  histogram: HistogramData;
  hash: HashData;
  compare: CompareData;
  export: { docId: string; path: string; bytesWritten: number; durationMs: number };
  "bookmarks-get": BookmarksData;
  "bookmarks-set": BookmarksData;
}

// ---- Events ---------------------------------------------------------------------------------------

export type PanelJobOp = "bytemap" | "histogram" | "hash" | "compare" | "export";

/** A sharper byte map while the `bytemap` job `jobId` runs (the reply carries the final one). */
export type PanelEvent = { event: "bytemap-partial"; jobId: string; docId: string; map: ByteMapData };
