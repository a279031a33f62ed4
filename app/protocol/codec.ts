// Wire encoding for the WebSocket transport. Runs in Node and in the browser (no Buffer).
//
//   text frame    UTF-8 JSON of a request, a reply or an event
//   binary frame  [u32 big-endian header length][header: UTF-8 JSON][payload bytes]
//
// A binary frame carries a message holding one Uint8Array — a read reply's `result.bytes`, or a
// request's `bytes` — so bytes are never base64'd. The header is the message without that field
// plus `"$bytes"` naming where the payload goes back. Both ends treat frames as untrusted: every
// length is checked, and anything malformed is a CodecError (never a crash, never a partial
// message). Electron IPC does not use this: structured clone passes a Uint8Array as it is.

/** Where a binary payload may sit in a message. */
const BYTE_FIELDS = ["result.bytes", "bytes"] as const;
type ByteField = (typeof BYTE_FIELDS)[number];

/** The header of a binary frame is small; anything larger is malformed. */
export const MAX_BINARY_HEADER = 64 * 1024;
const HEADER_PREFIX = 4;

export class CodecError extends Error {
  readonly code = "EINVAL";
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

export interface DecodeLimits {
  /** Largest frame accepted, in bytes (text frames: UTF-16 length bound). Default: no limit. */
  maxFrameBytes?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Finds the one Uint8Array a message may carry in binary form. */
function findBytes(message: Plain): { field: ByteField; bytes: Uint8Array } | null {
  const result = message.result;
  if (isPlainObject(result) && result.bytes instanceof Uint8Array) return { field: "result.bytes", bytes: result.bytes };
  if (message.bytes instanceof Uint8Array) return { field: "bytes", bytes: message.bytes };
  return null;
}

/** Encodes one message: a string (text frame) or a Uint8Array (binary frame). */
export function encodeMessage(message: object): string | Uint8Array {
  if (!isPlainObject(message)) throw new CodecError("Only plain objects can be encoded");
  const found = findBytes(message);
  if (!found) return JSON.stringify(message);

  let header: Plain;
  if (found.field === "result.bytes") {
    const { bytes: _omit, ...rest } = message.result as Plain;
    header = { ...message, result: rest, $bytes: found.field };
  } else {
    const { bytes: _omit, ...rest } = message;
    header = { ...rest, $bytes: found.field };
  }
  const headerBytes = encoder.encode(JSON.stringify(header));
  if (headerBytes.length > MAX_BINARY_HEADER) throw new CodecError("Binary frame header too large");
  const frame = new Uint8Array(HEADER_PREFIX + headerBytes.length + found.bytes.length);
  new DataView(frame.buffer).setUint32(0, headerBytes.length, false);
  frame.set(headerBytes, HEADER_PREFIX);
  frame.set(found.bytes, HEADER_PREFIX + headerBytes.length);
  return frame;
}

function parseJsonObject(text: string, what: string): Plain {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CodecError(`${what} is not valid JSON`);
  }
  if (!isPlainObject(value)) throw new CodecError(`${what} is not a JSON object`);
  return value;
}

/** Turns whatever a WebSocket delivered (string, Buffer, ArrayBuffer, Buffer[]) into a frame. */
export function toFrame(data: unknown): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((d) => d instanceof Uint8Array)) {
    const total = data.reduce((n: number, d: Uint8Array) => n + d.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const d of data as Uint8Array[]) {
      out.set(d, at);
      at += d.length;
    }
    return out;
  }
  throw new CodecError("Unsupported frame type");
}

/**
 * Decodes one frame into a plain object (not yet validated as a request/reply: that is the
 * receiver's job). Throws CodecError on anything malformed.
 */
export function decodeMessage(data: unknown, limits: DecodeLimits = {}): Plain {
  const frame = toFrame(data);
  const max = limits.maxFrameBytes;
  if (typeof frame === "string") {
    if (max !== undefined && frame.length > max) throw new CodecError("Frame too large");
    return parseJsonObject(frame, "Text frame");
  }
  if (max !== undefined && frame.length > max) throw new CodecError("Frame too large");
  if (frame.length < HEADER_PREFIX) throw new CodecError("Binary frame shorter than its header length");
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0, false);
  if (headerLength === 0 || headerLength > MAX_BINARY_HEADER) throw new CodecError("Binary frame header length out of range");
  if (headerLength > frame.length - HEADER_PREFIX) throw new CodecError("Binary frame header length exceeds the frame");
  let headerText: string;
  try {
    headerText = decoder.decode(frame.subarray(HEADER_PREFIX, HEADER_PREFIX + headerLength));
  } catch {
    throw new CodecError("Binary frame header is not UTF-8");
  }
  const header = parseJsonObject(headerText, "Binary frame header");
  const field = header.$bytes;
  if (typeof field !== "string" || !(BYTE_FIELDS as readonly string[]).includes(field)) {
    throw new CodecError('Binary frame header lacks a valid "$bytes"');
  }
  delete header.$bytes;
  // A copy that owns its buffer: the frame may be a view into a larger receive buffer.
  const bytes = frame.slice(HEADER_PREFIX + headerLength);
  if (field === "result.bytes") {
    const result = header.result;
    if (!isPlainObject(result)) throw new CodecError('Binary frame header has no "result" object');
    if ("bytes" in result) throw new CodecError('Binary frame header already has "result.bytes"');
    result.bytes = bytes;
  } else {
    if ("bytes" in header) throw new CodecError('Binary frame header already has "bytes"');
    header.bytes = bytes;
  }
  return header;
}
