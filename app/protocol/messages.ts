// The one contract between the engine Service, the transports (Electron IPC, WebSocket) and the
// renderer. Every request is one member of a discriminated union on `type`; every request gets
// exactly one reply carrying its `id`: {ok:true, result} or {ok:false, error:{code, message}}.
// Events carry `event` instead of `id`. Runtime validation (zod) happens at each transport
// boundary with `parseRequest`; inside, the types are trusted.
//
// Offsets and lengths are JS numbers: non-negative safe integers (exact up to 2^53 − 1 bytes).

import { z } from "zod";

/** Largest read a single request may ask for (the renderer reads 64 KiB pages). */
export const MAX_READ_LENGTH = 16 * 1024 * 1024;
/** Largest write/edit payload in one request. */
export const MAX_EDIT_LENGTH = 16 * 1024 * 1024;

const offset = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const docId = z.string().regex(/^d[0-9]{1,9}$/, "not a document id");
const reqId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const ErrorCode = [
  "EINVAL", // malformed request or argument
  "EBADDOC", // unknown or closed document id
  "ERANGE", // offset/length outside the document
  "ENOENT", // no such file or section
  "EISDIR", // path is a directory
  "EACCES", // permission denied / document is read-only
  "EBUSY", // locked by another program (sharing violation)
  "EIO", // I/O error or a fault while reading mapped memory (file truncated underneath)
  "ENOTSUP", // request not supported by this host or document kind
  "ECANCELED", // job cancelled
  "ECHANGED", // file changed on disk since it was opened/saved
  "ETOOBIG", // payload or result too large
  "EINTERNAL", // a bug: reported, never crashes the host
] as const;
export type ErrorCode = (typeof ErrorCode)[number];

export interface ProtocolError {
  code: ErrorCode | string;
  message: string;
}

export const DocumentKind = ["file", "shm"] as const;
export type DocumentKind = (typeof DocumentKind)[number];

export interface DocumentInfo {
  docId: string;
  kind: DocumentKind;
  /** File path or section name, as the user gave it. */
  name: string;
  size: number;
  readOnly: boolean;
  /** Bumps on every change (edit, undo, save, size change on disk). Pages are tagged with it. */
  generation: number;
}

// ---- Requests ---------------------------------------------------------------------------------

export const OpenRequest = z.strictObject({
  id: reqId,
  type: z.literal("open"),
  path: z.string().min(1).max(32767),
  readOnly: z.boolean().optional(),
});
export const ListRequest = z.strictObject({ id: reqId, type: z.literal("list") });
export const InfoRequest = z.strictObject({ id: reqId, type: z.literal("info"), docId });
export const ReadRequest = z.strictObject({
  id: reqId,
  type: z.literal("read"),
  docId,
  offset,
  length: z.number().int().positive().max(MAX_READ_LENGTH),
});
export const CloseRequest = z.strictObject({ id: reqId, type: z.literal("close"), docId });

export const Request = z.discriminatedUnion("type", [
  OpenRequest,
  ListRequest,
  InfoRequest,
  ReadRequest,
  CloseRequest,
]);
export type Request = z.infer<typeof Request>;
export type RequestType = Request["type"];

// ---- Results (by request type) ----------------------------------------------------------------

export interface ReadResult {
  docId: string;
  offset: number;
  /** The bytes at offset (shorter than asked at the end of the document). */
  bytes: Uint8Array;
  /** Generation the bytes belong to. */
  generation: number;
  size: number;
}

export interface ResultMap {
  open: DocumentInfo;
  list: { documents: DocumentInfo[] };
  info: DocumentInfo;
  read: ReadResult;
  close: { docId: string };
}

export type Reply<T extends RequestType = RequestType> =
  | { id: number; ok: true; result: ResultMap[T] }
  | { id: number; ok: false; error: ProtocolError };

// ---- Events -----------------------------------------------------------------------------------

export type Event =
  | { event: "size-changed"; docId: string; size: number; generation: number }
  | { event: "file-changed"; docId: string; generation: number; reason: string }
  | { event: "document-closed"; docId: string; reason: string };

// ---- Validation -------------------------------------------------------------------------------

export type ParseResult = { ok: true; request: Request } | { ok: false; id: number | null; error: ProtocolError };

/** Validates an untrusted message. Never throws. */
export function parseRequest(message: unknown): ParseResult {
  const parsed = Request.safeParse(message);
  if (parsed.success) return { ok: true, request: parsed.data };
  const rawId = (message as { id?: unknown } | null)?.id;
  const id = typeof rawId === "number" && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : null;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length ? ` at "${issue.path.join(".")}"` : "";
  return {
    ok: false,
    id,
    error: { code: "EINVAL", message: `Malformed request${where}: ${issue?.message ?? "invalid"}` },
  };
}
