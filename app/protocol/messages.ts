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
  "EDISCONNECTED", // the transport closed before the reply came (client side only)
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
/**
 * Like `open`, for a file the user dropped on the window: the path comes from the File object
 * (Electron: webUtils.getPathForFile in the preload). Handled exactly like `open` — same checks,
 * same errors — and tagged so the host can record it as a recent document. It grants nothing
 * `open` does not: the renderer may already open any path the user types.
 */
export const OpenDroppedRequest = z.strictObject({
  id: reqId,
  type: z.literal("open-dropped"),
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
  OpenDroppedRequest,
  ListRequest,
  InfoRequest,
  ReadRequest,
  CloseRequest,
]);
export type Request = z.infer<typeof Request>;
export type RequestType = Request["type"];
/** The fields of a request of type T, without `id` and `type` (what ProtocolClient.request takes). */
export type RequestParams<T extends RequestType> = Omit<Extract<Request, { type: T }>, "id" | "type">;

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
  "open-dropped": DocumentInfo;
  list: { documents: DocumentInfo[] };
  info: DocumentInfo;
  read: ReadResult;
  close: { docId: string };
}

/**
 * `id` is null only in the error reply to a message whose own id could not be read (not an
 * object, or no valid id): such a reply matches no pending request.
 */
export type Reply<T extends RequestType = RequestType> =
  | { id: number; ok: true; result: ResultMap[T] }
  | { id: number | null; ok: false; error: ProtocolError };

// ---- Events -----------------------------------------------------------------------------------

export type Event =
  | { event: "size-changed"; docId: string; size: number; generation: number }
  | { event: "file-changed"; docId: string; generation: number; reason: string }
  | { event: "document-closed"; docId: string; reason: string }
  /**
   * The host opened a document for this client without a request from it: File ▸ Open dialog,
   * a file on the command line, a second launch, a recent file. The client may now address it.
   */
  | { event: "document-opened"; docId: string; info: DocumentInfo; reason: string };
export type EventName = Event["event"];

/** Anything a host sends to a client. */
export type ServerMessage = Reply | Event;

export function isEvent(message: ServerMessage): message is Event {
  return typeof (message as { event?: unknown }).event === "string";
}

// ---- Menu commands (Electron shell → renderer) -----------------------------------------------

/**
 * Commands the application menu sends to the renderer (window.hexmap.onMenuCommand). The menu's
 * Open is handled in the main process (dialog) and arrives as a `document-opened` event instead.
 */
export const MenuCommand = ["goto", "close"] as const;
export type MenuCommand = (typeof MenuCommand)[number];

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
