// The one contract between the engine Service, the transports (Electron IPC, WebSocket) and the
// renderer. Every request is one member of a discriminated union on `type`; every request gets
// exactly one reply carrying its `id`: {ok:true, result} or {ok:false, error:{code, message}}.
// Events carry `event` instead of `id`. Runtime validation (zod) happens at each transport
// boundary with `parseRequest`; inside, the types are trusted.
//
// Offsets and lengths are JS numbers: non-negative safe integers (exact up to 2^53 − 1 bytes).

import { z } from "zod";
import { docId, filePath, offset, reqId } from "./fields";
import { PANEL_REQUESTS, type PanelEvent, type PanelJobOp, type PanelResultMap } from "./panels";
import { ReplaceAllRequest, SearchRequest, type ReplaceAllResult, type SearchDone, type SearchEvent, type SearchJobOp } from "./search";
import { LINES_REQUESTS, type LinesDone, type LinesEvent, type LinesJobOp, type LinesResultMap } from "./lines";
import { STRUCT_REQUESTS, type StructJobOp, type StructResultMap } from "./structure";
import { STRINGS_REQUESTS, type StringsEvent, type StringsJobOp, type StringsResultMap } from "./strings";

/** Largest read a single request may ask for (the renderer reads 64 KiB pages). */
export const MAX_READ_LENGTH = 16 * 1024 * 1024;
/** Largest write/edit payload in one request. */
export const MAX_EDIT_LENGTH = 16 * 1024 * 1024;

/** Longest repeating pattern of a fill (a fill of any length is one piece: it costs no memory per byte). */
export const MAX_FILL_PATTERN = 4096;
/**
 * A read reply lists at most this many edited runs (`edited`); beyond that it sends `editedMask`
 * (reads up to MAX_EDITED_MASK_READ) or marks the list `editedTruncated` (read smaller spans).
 * Both keep a binary frame's JSON header well under the codec's MAX_BINARY_HEADER.
 */
export const MAX_EDITED_RANGES = 2048;
export const MAX_EDITED_MASK_READ = 256 * 1024;
/** undo/redo replies carry the changed range's new bytes when it is at most this long. */
export const MAX_UNDO_BYTES_IN_REPLY = 64 * 1024;


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
  "EEXIST", // a shared-memory section of that name exists with another size
  "ENOSPC", // not enough free space on the disk for a save (checked before anything is written)
  "ETOOBIG", // payload or result too large
  "EFORMAT", // a structure format (.ksy) that does not parse or compile (app/structure/ksy.ts)
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
  // ---- editing (absent = false / 0: a document kind that cannot be edited) ----
  /** Differs from the file on disk (unsaved edits). */
  dirty?: boolean;
  /** Undo steps between now and the last save/open. */
  editCount?: number;
  canUndo?: boolean;
  canRedo?: boolean;
  /** An interrupted save's journal sits next to the file: offer roll forward / roll back (`recover`). */
  hasJournal?: boolean;
  /** Why a document the user asked to edit was opened read-only (e.g. no write permission). */
  readOnlyReason?: string;
  /** An editable file's size on disk (as of open / the last save); `size` includes unsaved inserts and deletes. */
  savedSize?: number;
}

/** A document's editing state: edit/fill/undo/redo/save replies and `document-changed` carry it. */
export interface EditState {
  docId: string;
  generation: number;
  size: number;
  dirty: boolean;
  editCount: number;
  canUndo: boolean;
  canRedo: boolean;
  hasJournal: boolean;
  /** The file's size on disk (as of open / the last save); `size` is the document's, edits included. */
  savedSize?: number;
}

// ---- Requests ---------------------------------------------------------------------------------

export const OpenRequest = z.strictObject({
  id: reqId,
  type: z.literal("open"),
  path: filePath,
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
  path: filePath,
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

// ---- Editing (any length: replace(offset, deleteLength, bytes); insert and delete are its special cases) ----

/** Typing coalesces into one undo step while consecutive edits pass the same group key. */
const group = z.union([z.string().max(64), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]);
/**
 * Edit bytes travel as a Uint8Array: a binary frame on the WebSocket (codec "bytes" field),
 * structured clone over Electron IPC. Never an array of numbers or base64.
 */
const editBytes = z
  .custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "bytes must be a Uint8Array" })
  .refine((b) => b.length <= MAX_EDIT_LENGTH, { message: `bytes must hold at most ${MAX_EDIT_LENGTH} bytes` });
/**
 * replace(offset, deleteLength, bytes): delete `deleteLength` bytes at `offset`, insert `bytes`
 * there. `deleteLength` defaults to bytes.length (overwrite: the size stays). Insert:
 * deleteLength 0; delete: empty bytes. A request that deletes and inserts nothing is EINVAL.
 */
export const EditRequest = z
  .strictObject({ id: reqId, type: z.literal("edit"), docId, offset, deleteLength: offset.optional(), bytes: editBytes, group: group.optional() })
  .refine((r) => r.bytes.length > 0 || (r.deleteLength ?? 0) > 0, { message: "an edit must delete or insert at least one byte", path: ["bytes"] });
/**
 * Overwrites (default) or inserts (`insert: true`) `length` bytes of `byte`, or of the pattern
 * `bytes` repeated. Kept as a fill piece: any length costs a few bytes of memory (10 GiB in one step).
 */
export const FillRequest = z
  .strictObject({
    id: reqId,
    type: z.literal("fill"),
    docId,
    offset,
    length: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    byte: z.number().int().min(0).max(255).optional(),
    /** The repeating pattern (instead of `byte`); `bytes` so it travels in the binary frame like an edit's. */
    bytes: z
      .custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "bytes (the pattern) must be a Uint8Array" })
      .refine((b) => b.length >= 1 && b.length <= MAX_FILL_PATTERN, { message: `the pattern must hold 1 to ${MAX_FILL_PATTERN} bytes` })
      .optional(),
    insert: z.boolean().optional(),
  })
  .refine((r) => (r.byte === undefined) !== (r.bytes === undefined), { message: "give either byte or bytes (a pattern)", path: ["byte"] });
export const UndoRequest = z.strictObject({ id: reqId, type: z.literal("undo"), docId });
export const RedoRequest = z.strictObject({ id: reqId, type: z.literal("redo"), docId });
/** A job: `job-progress` events while it runs, the reply when it ends. ECHANGED: changed on disk (retry with force). */
export const SaveRequest = z.strictObject({
  id: reqId,
  type: z.literal("save"),
  docId,
  force: z.boolean().optional(),
  /** How a size-changing save reaches the disk (README, "What a save guarantees"); default auto. */
  strategy: z.enum(["auto", "in-place", "rewrite"]).optional(),
});
/** Streamed copy with the edits applied, to a new path (temp file + rename); a job, cancellable. */
export const SaveAsRequest = z.strictObject({ id: reqId, type: z.literal("save-as"), docId, path: filePath });
/** Drops every pending edit and the undo history. */
export const RevertRequest = z.strictObject({ id: reqId, type: z.literal("revert"), docId });
/** Drops every pending edit and re-opens the file as it is on disk now (after an outside change). */
export const ReloadRequest = z.strictObject({ id: reqId, type: z.literal("reload"), docId });
/** Finishes (forward) or undoes (back) an interrupted save found by its journal, of an open document or a path. */
export const RecoverRequest = z
  .strictObject({
    id: reqId,
    type: z.literal("recover"),
    docId: docId.optional(),
    path: filePath.optional(),
    direction: z.enum(["forward", "back"]),
  })
  .refine((r) => (r.docId === undefined) !== (r.path === undefined), { message: "recover needs exactly one of docId and path" });
/** Cancels a running job (save before its journal is durable, save-as). */
export const CancelRequest = z.strictObject({ id: reqId, type: z.literal("cancel"), jobId: z.string().regex(/^j[0-9]{1,12}$/, "not a job id") });

// ---- Shared memory (named sections; edits apply immediately, see app/engine/shm-service.ts) ------

/** Largest section `create-shm` makes (POSIX: a tmpfs file; Windows: committed against the page file). */
export const MAX_SHM_CREATE_SIZE = 16 * 1024 ** 3;
/** `watch`: at most this many ranges, of at most this many bytes together, per client. */
export const MAX_WATCH_RANGES = 64;
export const MAX_WATCH_BYTES = 1024 * 1024;
/** A `bytes-changed` event lists at most this many ranges (nearby ones are merged beyond it). */
export const MAX_BYTES_CHANGED_RANGES = 256;
export const MIN_WATCH_INTERVAL_MS = 10;
export const MAX_WATCH_INTERVAL_MS = 60_000;

/** "ShareMemory", "/ShareMemory" (POSIX), Local\ShareMemory or Global\… (Windows); the engine checks the form. */
const shmName = z.string().min(1).max(255);
export const OpenShmRequest = z.strictObject({ id: reqId, type: z.literal("open-shm"), name: shmName, readOnly: z.boolean().optional() });
/** Creates the section, or opens it when it exists with this size (`created: false`); EEXIST for another size. */
export const CreateShmRequest = z.strictObject({
  id: reqId,
  type: z.literal("create-shm"),
  name: shmName,
  size: z.number().int().positive().max(MAX_SHM_CREATE_SIZE),
});
const watchRange = z.strictObject({ offset, length: z.number().int().positive().max(MAX_WATCH_BYTES) });
/**
 * What this client has on screen of a live (shared-memory) document: the host re-reads it every
 * `intervalMs` (default 100) and sends `bytes-changed` when bytes changed. Replaces the client's
 * earlier ranges; [] stops watching.
 */
export const WatchRequest = z.strictObject({
  id: reqId,
  type: z.literal("watch"),
  docId,
  ranges: z
    .array(watchRange)
    .max(MAX_WATCH_RANGES)
    .refine((rs) => rs.reduce((n, r) => n + r.length, 0) <= MAX_WATCH_BYTES, { message: `at most ${MAX_WATCH_BYTES} bytes watched` }),
  intervalMs: z.number().int().min(MIN_WATCH_INTERVAL_MS).max(MAX_WATCH_INTERVAL_MS).optional(),
});
/** Pauses (page hidden) or resumes this client's watching. */
export const WatchPauseRequest = z.strictObject({ id: reqId, type: z.literal("watch-pause"), docId, paused: z.boolean() });

export const Request = z.discriminatedUnion("type", [
  OpenRequest,
  OpenDroppedRequest,
  ListRequest,
  InfoRequest,
  ReadRequest,
  CloseRequest,
  EditRequest,
  FillRequest,
  UndoRequest,
  RedoRequest,
  SaveRequest,
  SaveAsRequest,
  RevertRequest,
  ReloadRequest,
  RecoverRequest,
  CancelRequest,
  OpenShmRequest,
  CreateShmRequest,
  WatchRequest,
  WatchPauseRequest,
  ...PANEL_REQUESTS,
  SearchRequest,
  ReplaceAllRequest,
  ...LINES_REQUESTS,
  ...STRUCT_REQUESTS,
  ...STRINGS_REQUESTS,
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
  /**
   * Bytes with a pending (unsaved) edit, as [start, end) pairs relative to `offset`, flattened:
   * [s0, e0, s1, e1, …]. Empty when none (or when `editedMask` is sent instead).
   */
  edited?: number[];
  /** Past MAX_EDITED_RANGES runs: a bit per byte (bit i%8 of byte i>>3 = byte i edited), base64. */
  editedMask?: string;
  /** `edited` lists only the first runs: read smaller spans for the rest. */
  editedTruncated?: boolean;
  /** Of the edited bytes, those inserted (not replacing bytes in place), as [start, end) pairs like `edited`. */
  inserted?: number[];
}

export interface EditResult extends EditState {
  /** The range the request changed. */
  start: number;
  end: number;
}

export interface UndoResult extends EditState {
  /** The range the undo/redo changed, or null when there was nothing to undo/redo. */
  changed: { start: number; end: number } | null;
  /** The changed range's bytes now, when it is at most MAX_UNDO_BYTES_IN_REPLY long. */
  bytes?: Uint8Array;
  /** Edited runs inside the changed range now, relative to `changed.start` (as ReadResult.edited). */
  edited?: number[];
  inserted?: number[];
}

export interface SaveResult extends EditState {
  records: number;
  bytesWritten: number;
  durationMs: number;
  /** none (nothing to save), journal (same size, in place), rewrite (temp file + replace), in-place (v2 journal). */
  strategy?: "none" | "journal" | "rewrite" | "in-place";
  /** The undo history could not be kept across this save. */
  historyCleared?: boolean;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ResultMap extends PanelResultMap, LinesResultMap, StructResultMap, StringsResultMap {
  open: DocumentInfo;
  "open-dropped": DocumentInfo;
  list: { documents: DocumentInfo[] };
  info: DocumentInfo;
  read: ReadResult;
  close: { docId: string };
  edit: EditResult;
  fill: EditResult;
  undo: UndoResult;
  redo: UndoResult;
  save: SaveResult;
  "save-as": { docId: string; path: string; bytesWritten: number; durationMs: number };
  revert: DocumentInfo;
  reload: DocumentInfo;
  recover: { action: "none" | "discarded-invalid" | "rolled-forward" | "rolled-back"; records: number; bytesWritten: number; info?: DocumentInfo };
  cancel: { jobId: string; canceled: boolean };
  "open-shm": DocumentInfo;
  "create-shm": DocumentInfo & { created: boolean };
  watch: { docId: string; ranges: ByteRange[]; intervalMs: number; paused: boolean };
  "watch-pause": { docId: string; paused: boolean };
  /** A detached job: events follow (app/protocol/search.ts). */
  search: { jobId: string };
  /** Find & Replace: a job (job-progress, cancel); the reply when it ends (app/protocol/search.ts). */
  "replace-all": ReplaceAllResult;
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
  | { event: "document-opened"; docId: string; info: DocumentInfo; reason: string }
  /** Edit, undo, redo, save, revert, reload or recovery changed a document: sent to every client holding it. */
  | ({ event: "document-changed"; readOnly: boolean } & EditState)
  /** Progress of a job this client started (save, save-as, recover). */
  | { event: "job-progress"; jobId: string; docId: string; op: JobOp; done: number; total: number }
  /**
   * A live (shared-memory) document changed under its watchers: another program wrote these
   * bytes (sorted, disjoint). Pages older than `generation` are stale. Sent to every holder.
   */
  | { event: "bytes-changed"; docId: string; ranges: ByteRange[]; generation: number }
  /** Byte map, histogram, hash, compare, export (app/protocol/panels.ts). */
  | PanelEvent
  /** Find-all hits of a search job (app/protocol/search.ts). */
  | SearchEvent
  /** The log view: index progress, follow (grew/rotated), filter hits (app/protocol/lines.ts). */
  | LinesEvent
  /** Strings found by a `strings` job (app/protocol/strings.ts). */
  | StringsEvent
  /** The end of a detached job (one whose reply was just its jobId: search): its result or its error. */
  | { event: "job-done"; jobId: string; docId: string; op: JobOp; result?: SearchDone | LinesDone; error?: ProtocolError };
export type EventName = Event["event"];
export type JobOp = "save" | "save-as" | "recover" | PanelJobOp | SearchJobOp | LinesJobOp | StructJobOp | StringsJobOp;

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
export const MenuCommand = [
  "goto",
  "close",
  "open-shm",
  "create-shm",
  "save",
  "save-as",
  "find",
  "find-next",
  "find-previous",
  "toggle-insert-mode",
  "insert-bytes",
  "delete-range",
] as const;
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
