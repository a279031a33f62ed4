// Lines for the line view: looked up through a LineIndex, read through a LineReader (the index
// itself, which reads the edited document when it was rebased onto one, or a Document), decoded for
// display. A line longer than maxLineBytes is cut (its first maxLineBytes bytes, at a character
// boundary) and marked `truncated`: a screen never reads more than a few blocks, however long the
// line (a 50 MB line, or a 4 GiB file of zeros without a newline). The whole of a long line is
// read on demand, a slice at a time, with getLineText().
//
// Display rules: invalid UTF-8 becomes U+FFFD (TextDecoder, non-fatal); a BOM at offset 0 is
// dropped; the "\r" of a CRLF ending is dropped; control characters other than tab become
// visible symbols (C0 → U+2400..U+241F, DEL → U+2421), and C1 controls, bidirectional overrides
// and isolates (U+202A..U+202E, U+2066..U+2069) and the line/paragraph separators U+2028/U+2029
// become U+FFFD, so a line can neither break the layout nor reorder what is shown around it.

import { TextDecoder } from "node:util";
import { HexmapError } from "./errors";
import { newlineUnit, type LineIndex, type LineReader, type TextEncoding, isTextEncoding } from "./line-index";

export const DEFAULT_MAX_LINE_BYTES = 4096;
/** Most lines one getLines() call returns. */
export const MAX_LINES_PER_REQUEST = 10_000;
/** Largest slice getLineText() decodes at once. */
export const MAX_SLICE_BYTES = 4 * 1024 * 1024;
const BLOCK = 64 * 1024;

export interface Line {
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's first byte in the document (edits included). */
  offset: number;
  /** Bytes of the line without its newline (a CR before it is counted here, but not shown). */
  length: number;
  /** The line's text for display (of its first maxLineBytes bytes when truncated). */
  text: string;
  /** The line is longer than maxLineBytes and `text` shows only its beginning. */
  truncated: boolean;
}

export interface GetLinesOptions {
  /** Longest line shown whole; longer ones are cut. Default 4096. */
  maxLineBytes?: number;
  /** Default: the index's encoding. A UTF-16 choice must match the index's (newlines are 2-byte units). */
  encoding?: TextEncoding;
}

function checkEncoding(index: LineIndex, encoding: TextEncoding | undefined): TextEncoding {
  if (encoding === undefined) return index.encoding;
  if (!isTextEncoding(encoding)) throw new HexmapError("EINVAL", `Unknown encoding ${JSON.stringify(encoding)}`);
  if (newlineUnit(encoding) !== index.unit) {
    throw new HexmapError("EINVAL", `The line index splits lines as ${index.encoding}; it cannot show them as ${encoding} (rebuild it with that encoding)`);
  }
  return encoding;
}

function checkPositive(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new HexmapError("EINVAL", `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Is the newline unit at buf[i] (UTF-16: a 2-byte unit at an even file offset, i even here). */
function newlineAt(buf: Uint8Array, i: number, encoding: TextEncoding): boolean {
  if (encoding === "utf-16le") return buf[i] === 0x0a && buf[i + 1] === 0x00;
  if (encoding === "utf-16be") return buf[i] === 0x00 && buf[i + 1] === 0x0a;
  return buf[i] === 0x0a;
}

/** First newline in buf[from, to) (from aligned to the unit), or -1. */
function findNewlineIn(buf: Uint8Array, from: number, to: number, encoding: TextEncoding): number {
  const unit = newlineUnit(encoding);
  if (unit === 1) {
    const i = Buffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf(0x0a, from);
    return i >= 0 && i < to ? i : -1;
  }
  for (let i = from; i + 1 < to && i + 1 < buf.length; i += 2) if (newlineAt(buf, i, encoding)) return i;
  return -1;
}

/** Bytes of `bytes` to keep so a cut does not split a character (bytes.length > limit). */
function cutAt(bytes: Uint8Array, limit: number, encoding: TextEncoding): number {
  if (encoding === "latin1") return limit;
  if (encoding === "utf-8") {
    let end = limit;
    // bytes[end] is the first byte left out: if it continues a sequence, cut before its lead byte.
    for (let back = 0; back < 3 && end > 0 && (bytes[end]! & 0xc0) === 0x80; back++) end--;
    if ((bytes[end]! & 0xc0) === 0x80) return limit; // not UTF-8 anyway: cut where asked
    return end;
  }
  let end = limit - (limit % 2);
  if (end >= 2) {
    const u = encoding === "utf-16le" ? bytes[end - 2]! | (bytes[end - 1]! << 8) : (bytes[end - 2]! << 8) | bytes[end - 1]!;
    if (u >= 0xd800 && u <= 0xdbff) end -= 2; // a high surrogate whose pair is cut off
  }
  return end;
}

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label, { fatal: false, ignoreBOM: true });
    decoders.set(label, d);
  }
  return d;
}

// C0 controls except tab, and DEL.
const C0 = /[\x00-\x08\x0a-\x1f\x7f]/g;
// C1 controls, bidi embeddings/overrides/isolates, line/paragraph separators.
const UNSAFE = /[\x80-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Control characters other than tab made visible; layout-breaking characters replaced (see the header). */
export function makeVisible(text: string): string {
  return text
    .replace(C0, (c) => String.fromCharCode(c === "\x7f" ? 0x2421 : 0x2400 + c.charCodeAt(0)))
    .replace(UNSAFE, "\ufffd");
}

/**
 * Decodes bytes for display. `atFileStart`: drop a BOM. `lineEnd`: these bytes end the line, so a
 * final CR (of CRLF) is dropped.
 */
export function decodeForDisplay(bytes: Uint8Array, encoding: TextEncoding, options: { atFileStart?: boolean; lineEnd?: boolean } = {}): string {
  let b = bytes;
  if (options.atFileStart) {
    if (encoding === "utf-8" && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    else if (encoding === "utf-16le" && b[0] === 0xff && b[1] === 0xfe) b = b.subarray(2);
    else if (encoding === "utf-16be" && b[0] === 0xfe && b[1] === 0xff) b = b.subarray(2);
  }
  if (options.lineEnd) {
    const n = b.length;
    if (encoding === "utf-16le" && n >= 2 && b[n - 2] === 0x0d && b[n - 1] === 0) b = b.subarray(0, n - 2);
    else if (encoding === "utf-16be" && n >= 2 && b[n - 2] === 0 && b[n - 1] === 0x0d) b = b.subarray(0, n - 2);
    else if (newlineUnit(encoding) === 1 && n >= 1 && b[n - 1] === 0x0d) b = b.subarray(0, n - 1);
  }
  let text: string;
  if (encoding === "latin1") text = Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
  else text = decoder(encoding).decode(b);
  return makeVisible(text);
}

/**
 * Lines from..from+count-1 (1-based), fewer at the end of the file (none when `from` is past it).
 * Usable while the index builds. Reads at most ~maxLineBytes + 64 KiB per line, plus a memory-speed
 * native search for the end of each truncated line.
 */
export async function getLines(doc: LineReader, index: LineIndex, from: number, count: number, options: GetLinesOptions = {}): Promise<Line[]> {
  checkPositive(from, "from");
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) throw new HexmapError("EINVAL", `count must be a non-negative integer, got ${String(count)}`);
  if (count > MAX_LINES_PER_REQUEST) throw new HexmapError("ETOOBIG", `At most ${MAX_LINES_PER_REQUEST} lines per request, asked for ${count}`);
  const maxLineBytes = checkPositive(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, "maxLineBytes");
  if (count === 0) return [];
  const start = await index.lineStart(from);
  if (start === null) return [];
  const encoding = checkEncoding(index, options.encoding);
  const unit = newlineUnit(encoding);
  const size = doc.size;
  // Room for a whole displayable line, its CR and newline: a line that fits is found in one block.
  const window = maxLineBytes + 2 * unit;
  const blockSize = Math.max(BLOCK, window);
  const out: Line[] = [];
  let buf: Uint8Array = new Uint8Array(0);
  let bufStart = start;
  let pos = start;
  for (let i = 0; i < count && pos < size; i++) {
    const want = Math.min(size, pos + window);
    if (pos < bufStart || want > bufStart + buf.length) {
      bufStart = pos;
      buf = await doc.read(pos, Math.min(blockSize, size - pos));
    }
    const rel = pos - bufStart;
    const nl = findNewlineIn(buf, rel, Math.min(buf.length, rel + maxLineBytes + unit), encoding);
    let length: number;
    let next: number;
    let truncated: boolean;
    if (nl >= 0) {
      length = nl - rel;
      next = pos + length + unit;
      truncated = false;
    } else if (size - pos <= maxLineBytes) {
      // The last line, without a newline, short enough to show whole.
      length = size - pos;
      next = size;
      truncated = false;
    } else {
      // Longer than maxLineBytes: show its beginning; find where it ends (memory speed).
      const e = await index.findNewline(pos + maxLineBytes, size);
      length = (e < 0 ? size : e) - pos;
      next = e < 0 ? size : e + unit;
      truncated = length > maxLineBytes;
    }
    const shown = truncated ? buf.subarray(rel, rel + cutAt(buf.subarray(rel, rel + maxLineBytes + 4), maxLineBytes, encoding)) : buf.subarray(rel, rel + length);
    out.push({
      number: from + i,
      offset: pos,
      length,
      text: decodeForDisplay(shown, encoding, { atFileStart: pos === 0, lineEnd: !truncated }),
      truncated,
    });
    pos = next;
  }
  return out;
}

export interface LineSliceOptions {
  /** Byte offset within the line where the slice starts (moved forward to a character boundary). Default 0. */
  offset?: number;
  /** Bytes to decode (the end moves back to a character boundary). Default 1 MiB, at most 4 MiB. */
  length?: number;
  encoding?: TextEncoding;
}

export interface LineSlice {
  number: number;
  /** Byte offset of the line in the file, and its length without the newline. */
  lineOffset: number;
  lineLength: number;
  /** The slice decoded: bytes [offset, end) of the line (relative to its start). */
  offset: number;
  end: number;
  text: string;
  /** end == lineLength: the rest of the line is in this slice. */
  done: boolean;
}

/** A slice of line n, for viewing a long line whole on demand: ask again from `end` until `done`. */
export async function getLineText(doc: LineReader, index: LineIndex, n: number, options: LineSliceOptions = {}): Promise<LineSlice> {
  checkPositive(n, "line");
  const encoding = checkEncoding(index, options.encoding);
  const unit = newlineUnit(encoding);
  const want = options.length ?? 1024 * 1024;
  if (!Number.isSafeInteger(want) || want < 1 || want > MAX_SLICE_BYTES) {
    throw new HexmapError("EINVAL", `length must be between 1 and ${MAX_SLICE_BYTES}, got ${String(want)}`);
  }
  const rel0 = options.offset ?? 0;
  if (!Number.isSafeInteger(rel0) || rel0 < 0) throw new HexmapError("EINVAL", `offset must be a non-negative integer, got ${String(rel0)}`);
  const lineOffset = await index.lineStart(n);
  if (lineOffset === null) throw new HexmapError("ERANGE", `Line ${n} is past the end of ${doc.name}`);
  const e = await index.findNewline(lineOffset, doc.size);
  const lineLength = (e < 0 ? doc.size : e) - lineOffset;
  if (rel0 > lineLength) throw new HexmapError("ERANGE", `Offset ${rel0} is past the end of line ${n} (${lineLength} bytes)`);
  // Read a little around the slice to find character boundaries on both sides.
  let rel = unit === 2 ? rel0 + (rel0 % 2) : rel0;
  const readLen = Math.min(lineLength - rel, want + 4);
  const bytes = await doc.read(lineOffset + rel, Math.max(0, readLen));
  let skip = 0;
  if (encoding === "utf-8") {
    while (skip < 3 && skip < bytes.length && (bytes[skip]! & 0xc0) === 0x80 && rel + skip > 0) skip++;
    if (skip === 3 && (bytes[3]! & 0xc0) === 0x80) skip = 0; // not UTF-8: keep the bytes as they are
  } else if (unit === 2 && bytes.length >= 2 && rel > 0) {
    const u = encoding === "utf-16le" ? bytes[0]! | (bytes[1]! << 8) : (bytes[0]! << 8) | bytes[1]!;
    if (u >= 0xdc00 && u <= 0xdfff) skip = 2; // a low surrogate whose pair is in the previous slice
  }
  rel += skip;
  const body = bytes.subarray(skip);
  let take = Math.min(want, body.length);
  const reachesEnd = rel + take >= lineLength;
  if (!reachesEnd) {
    const cut = cutAt(body, take, encoding);
    if (cut > 0) take = cut; // a slice shorter than one character keeps its bytes
  }
  const end = rel + take;
  return {
    number: n,
    lineOffset,
    lineLength,
    offset: rel,
    end,
    text: decodeForDisplay(body.subarray(0, take), encoding, { atFileStart: lineOffset + rel === 0, lineEnd: end >= lineLength }),
    done: end >= lineLength,
  };
}
