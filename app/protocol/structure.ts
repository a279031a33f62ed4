// Protocol of the Structure panel (issue 15): a document parsed by a Kaitai Struct format. Part of
// the one contract: messages.ts puts these requests in its Request union and these results in its
// ResultMap. `struct-parse` is a job (job-progress events with op "struct-parse", cancel by jobId).
//
// A user's own .ksy travels as TEXT (the file and its imports, read by the page from files the
// user picked), never as a path: the browser host cannot show a native dialog, and a path from
// the renderer must not make the host read files the user did not give it.

import { z } from "zod";
import { docId, offset, reqId } from "./fields";

/** A .ksy text (and each import) at most this long; at most this many files. */
export const MAX_KSY_TEXT = 2 * 1024 * 1024;
export const MAX_KSY_UPLOAD_FILES = 64;
/** The panel's default node cap, and the most a client may ask for. */
export const STRUCT_PANEL_NODES = 20_000;
export const MAX_STRUCT_NODES = 200_000;

const ksyFile = z.strictObject({
  /** File name as picked ("elf.ksy", "common/vlq.ksy"); imports are matched by it. */
  name: z.string().min(1).max(255),
  text: z.string().max(MAX_KSY_TEXT),
});

export const StructFormatSpec = z.discriminatedUnion("kind", [
  /** Chosen by magic bytes among the shipped formats (none may match). */
  z.strictObject({ kind: z.literal("auto") }),
  z.strictObject({ kind: z.literal("shipped"), name: z.string().min(1).max(64) }),
  /** The main .ksy first, then the files its imports may name. */
  z.strictObject({ kind: z.literal("ksy"), files: z.array(ksyFile).min(1).max(MAX_KSY_UPLOAD_FILES) }),
]);
export type StructFormatSpec = z.infer<typeof StructFormatSpec>;

export const StructFormatsRequest = z.strictObject({ id: reqId, type: z.literal("struct-formats") });
export const StructParseRequest = z.strictObject({
  id: reqId,
  type: z.literal("struct-parse"),
  docId,
  format: StructFormatSpec,
  offset: offset.optional(),
  maxNodes: z.number().int().positive().max(MAX_STRUCT_NODES).optional(),
});

export const STRUCT_REQUESTS = [StructFormatsRequest, StructParseRequest] as const;
export type StructRequest = z.infer<typeof StructFormatsRequest> | z.infer<typeof StructParseRequest>;
export type StructJobOp = "struct-parse";

/** One node of the tree (the CLI's JSON, app/structure/sandbox.ts OutNode). */
export interface StructTreeNode {
  name: string;
  type: string;
  offset: number;
  size: number;
  value?: number | string | boolean | null;
  enum?: string | null;
  enumType?: string;
  fields?: StructTreeNode[];
  items?: StructTreeNode[];
  error?: string;
  partial?: boolean;
  truncated?: boolean;
  edit?: { kind: "int" | "float" | "str"; size: number; signed?: boolean; le?: boolean; encoding?: string };
  processed?: boolean;
  instance?: boolean;
}

export interface StructParseResult {
  docId: string;
  /** The format used (its meta/id), or null when `auto` found none. */
  format: string | null;
  /** Chosen by magic (format kind auto). */
  detected: boolean;
  tree: StructTreeNode | null;
  partial: boolean;
  /** Why parsing stopped (also on the failing node). */
  error?: string;
  nodes: number;
  compileMs: number;
  parseMs: number;
  /** Document generation parsed. */
  generation: number;
}

export interface StructResultMap {
  "struct-formats": { formats: { name: string; title: string }[] };
  "struct-parse": StructParseResult;
}
