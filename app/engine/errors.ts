// Engine errors: every failure the engine reports is a HexmapError with a stable `code` from the
// protocol's ErrorCode list and a message a user can act on. Native errors (which carry their own
// `code`, `syscall`, `errno`) are converted once, here.

import type { ErrorCode } from "../protocol/messages";

export class HexmapError extends Error {
  readonly code: ErrorCode;
  /** The OS call that failed, when the error came from one. */
  readonly syscall?: string;
  readonly errno?: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; syscall?: string; errno?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "HexmapError";
    this.code = code;
    if (options?.syscall !== undefined) this.syscall = options.syscall;
    if (options?.errno !== undefined) this.errno = options.errno;
  }
}

export function isHexmapError(err: unknown): err is HexmapError {
  return err instanceof HexmapError;
}

/** What the engine was doing when a native call failed; used to phrase the message. */
export interface ErrorContext {
  /** File path or section name, as the user gave it. */
  path?: string;
  /** Short verb phrase, e.g. "open", "read", "map". */
  op?: string;
  offset?: number;
  length?: number;
}

interface CodedError {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  errno?: unknown;
}

/**
 * Converts anything thrown by the native addon (or by node:fs) into a HexmapError. A HexmapError
 * passes through unchanged. Unknown codes become EIO when an OS call failed, else EINTERNAL.
 */
export function toHexmapError(err: unknown, ctx: ErrorContext = {}): HexmapError {
  if (err instanceof HexmapError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as CodedError;
  const nativeCode = typeof e.code === "string" ? e.code : undefined;
  const nativeMessage = typeof e.message === "string" ? e.message : String(err);
  const syscall = typeof e.syscall === "string" ? e.syscall : undefined;
  const errno = typeof e.errno === "number" ? e.errno : undefined;
  const what = ctx.path !== undefined ? ctx.path : "the file";
  const where = ctx.offset !== undefined ? ` at offset ${ctx.offset}` : "";
  const opts = { cause: err, ...(syscall !== undefined ? { syscall } : {}), ...(errno !== undefined ? { errno } : {}) };

  switch (nativeCode) {
    case "ENOENT":
      return new HexmapError("ENOENT", `No such file: ${what}`, opts);
    case "EISDIR":
      return new HexmapError("EISDIR", `Is a directory, not a file: ${what}`, opts);
    case "EACCES":
    case "EPERM":
      return new HexmapError(
        "EACCES",
        ctx.op === "write" || ctx.op === "map for writing"
          ? `Permission denied: ${what} cannot be written (open it read-only, or check its permissions)`
          : `Permission denied: ${what} (check the file's permissions)`,
        opts,
      );
    case "EBUSY":
    case "ETXTBSY":
      return new HexmapError("EBUSY", `${what} is locked by another program; close it there and try again`, opts);
    case "EIO":
    case "EFAULT":
    case "SIGBUS":
      return new HexmapError(
        "EIO",
        `I/O error reading ${what}${where}: the file may have been truncated or its disk failed (${nativeMessage})`,
        opts,
      );
    case "ECLOSED":
      return new HexmapError("EBADDOC", `The document ${what} is closed`, opts);
    case "ERANGE":
      return new HexmapError("ERANGE", `Offset or length outside ${what}${where}: ${nativeMessage}`, opts);
    case "EINVAL":
    case "ERR_INVALID_ARG_VALUE": // node:fs refusing a path it cannot pass to the OS (a NUL byte in it)
      return new HexmapError("EINVAL", `Invalid argument for ${what}: ${nativeMessage}`, opts);
    case "ENOTSUP":
    case "ENOSYS":
      return new HexmapError("ENOTSUP", `Not supported for ${what}: ${nativeMessage}`, opts);
    case "ENAMETOOLONG":
    case "ENOTDIR":
    case "ELOOP":
      return new HexmapError("ENOENT", `No such file: ${what} (${nativeMessage})`, opts);
    case "EMFILE":
    case "ENFILE":
    case "ENOMEM":
    case "ENOSPC":
    case "EFBIG":
    case "EOVERFLOW":
    case "EROFS":
      return new HexmapError("EIO", `Cannot ${ctx.op ?? "access"} ${what}: ${nativeMessage}`, opts);
    default:
      if (syscall !== undefined || errno !== undefined) {
        return new HexmapError("EIO", `Cannot ${ctx.op ?? "access"} ${what}: ${nativeMessage}`, opts);
      }
      return new HexmapError("EINTERNAL", `Internal error while trying to ${ctx.op ?? "access"} ${what}: ${nativeMessage}`, opts);
  }
}

/** Throws EINVAL unless `value` is a non-negative safe integer. */
export function checkOffset(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new HexmapError(
      "EINVAL",
      `${name} must be a non-negative integer below 2^53, got ${describe(value)}`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  return typeof value;
}
