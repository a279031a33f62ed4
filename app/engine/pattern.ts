// Search patterns as the user writes them, turned into what the native scan matches: bytes plus a
// per-byte mask (a data byte d matches when (d & mask[i]) == bytes[i]). Hex patterns allow "??"
// for any byte and "?" for any nibble ("D?" is D0..DF). Text is encoded here (UTF-8, UTF-16LE,
// UTF-16BE, ASCII); ignoreCase folds ASCII letters only, through the mask (0xDF accepts exactly
// both cases of a letter), and only where a byte really is an ASCII letter: the low byte of a
// UTF-16 unit whose other byte is 0, never part of another character.

import { HexmapError } from "./errors";

export const TEXT_ENCODINGS = ["utf8", "utf16le", "utf16be", "ascii"] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

/** Longest pattern accepted (the native scan's limit). */
export const MAX_PATTERN_BYTES = 1024 * 1024;

export type PatternSpec =
  | { kind: "hex"; hex: string }
  | { kind: "text"; text: string; encoding?: TextEncoding; ignoreCase?: boolean };

export interface SearchPattern {
  bytes: Uint8Array;
  /** Per byte: 0xFF exact, 0x00 any byte, 0xF0/0x0F a nibble, 0xDF an ASCII letter in either case. Absent: all exact. */
  mask?: Uint8Array;
  /** How the user wrote it, for messages: hex "DE AD ?? EF" or text "…" (utf16le, ignore case). */
  description: string;
}

function invalid(message: string): HexmapError {
  return new HexmapError("EINVAL", message);
}

function isHexDigit(c: string): boolean {
  return (c >= "0" && c <= "9") || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}

/**
 * Parses "DE AD ?? EF", "dead??ef", "0xDEAD BE?F", "de,ad". Groups are separated by spaces, tabs
 * or commas; each group is an even number of hex digits or '?' (an optional 0x prefix is
 * dropped). Errors (EINVAL) say what is wrong and where.
 */
export function parseHexPattern(hex: string): SearchPattern {
  if (typeof hex !== "string") throw invalid("A hex pattern must be a string");
  const groups = hex.split(/[\s,]+/).filter((g) => g.length > 0);
  if (groups.length === 0) throw invalid("The hex pattern is empty: give bytes like \"DE AD ?? EF\"");
  const values: number[] = [];
  const masks: number[] = [];
  let column = 0;
  for (const raw of groups) {
    column = hex.indexOf(raw, column);
    const group = /^0[xX]/.test(raw) && raw.length > 2 ? raw.slice(2) : raw;
    const skip = raw.length - group.length;
    for (let i = 0; i < group.length; i++) {
      const c = group[i]!;
      if (!isHexDigit(c) && c !== "?") {
        throw invalid(
          `The hex pattern has ${JSON.stringify(c)} at position ${column + skip + i + 1}: use hex digits 0-9 A-F, and ?? for any byte`,
        );
      }
    }
    if (group.length % 2 !== 0) {
      throw invalid(
        `The hex pattern group ${JSON.stringify(raw)} has an odd number of digits: each byte is two digits (write 0${group.slice(-1)} for a single digit)`,
      );
    }
    for (let i = 0; i < group.length; i += 2) {
      let value = 0;
      let mask = 0;
      for (const [c, shift] of [
        [group[i]!, 4],
        [group[i + 1]!, 0],
      ] as const) {
        if (c !== "?") {
          value |= parseInt(c, 16) << shift;
          mask |= 0xf << shift;
        }
      }
      values.push(value);
      masks.push(mask);
    }
    column += raw.length;
  }
  if (values.length > MAX_PATTERN_BYTES) throw invalid(`The pattern is too long: at most ${MAX_PATTERN_BYTES} bytes`);
  if (masks.every((m) => m === 0)) {
    throw invalid("The hex pattern is only wildcards (??): it needs at least one known byte");
  }
  const bytes = Uint8Array.from(values);
  const exact = masks.every((m) => m === 0xff);
  const description = `hex ${Array.from(values, (v, i) => formatByte(v, masks[i]!)).join(" ")}`;
  return exact ? { bytes, description } : { bytes, mask: Uint8Array.from(masks), description };
}

function formatByte(value: number, mask: number): string {
  const hi = mask & 0xf0 ? ((value >> 4) & 0xf).toString(16) : "?";
  const lo = mask & 0x0f ? (value & 0xf).toString(16) : "?";
  return (hi + lo).toUpperCase();
}

function isAsciiLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** Encodes text for a search. EINVAL for empty text, an unknown encoding, or non-ASCII text in ascii. */
export function textPattern(text: string, encoding: TextEncoding = "utf8", ignoreCase = false): SearchPattern {
  if (typeof text !== "string") throw invalid("Search text must be a string");
  if (text.length === 0) throw invalid("The search text is empty: type something to search for");
  if (!(TEXT_ENCODINGS as readonly string[]).includes(encoding)) {
    throw invalid(`Unknown text encoding ${JSON.stringify(encoding)}: use one of ${TEXT_ENCODINGS.join(", ")}`);
  }
  let bytes: Buffer;
  // The positions of bytes that are ASCII letters standing alone (foldable).
  const letters: number[] = [];
  switch (encoding) {
    case "ascii": {
      const bad = /[^\x00-\x7f]/.exec(text);
      if (bad) {
        throw invalid(`The text has ${JSON.stringify(bad[0])}, which is not ASCII: search it as utf8 or utf16 instead`);
      }
      bytes = Buffer.from(text, "latin1");
      bytes.forEach((b, i) => isAsciiLetter(b) && letters.push(i));
      break;
    }
    case "utf8":
      bytes = Buffer.from(text, "utf8");
      // In UTF-8 every byte below 0x80 is an ASCII character of its own.
      bytes.forEach((b, i) => isAsciiLetter(b) && letters.push(i));
      break;
    case "utf16le":
    case "utf16be": {
      bytes = Buffer.from(text, "utf16le");
      if (encoding === "utf16be") bytes.swap16();
      const low = encoding === "utf16le" ? 0 : 1;
      for (let u = 0; u < bytes.length; u += 2) {
        if (bytes[u + (1 - low)] === 0 && isAsciiLetter(bytes[u + low]!)) letters.push(u + low);
      }
      break;
    }
  }
  if (bytes.length > MAX_PATTERN_BYTES) throw invalid(`The search text is too long: at most ${MAX_PATTERN_BYTES} bytes once encoded`);
  const description = `text ${JSON.stringify(text)} (${encoding}${ignoreCase ? ", ignore case" : ""})`;
  const out = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  if (!ignoreCase || letters.length === 0) return { bytes: out, description };
  const mask = new Uint8Array(bytes.length).fill(0xff);
  for (const i of letters) {
    mask[i] = 0xdf;
    out[i] = out[i]! & 0xdf;
  }
  return { bytes: out, mask, description };
}

/** A PatternSpec (as a request or the CLI gives it) → SearchPattern. EINVAL on anything malformed. */
export function compilePattern(spec: PatternSpec): SearchPattern {
  if (typeof spec !== "object" || spec === null) throw invalid("A search pattern must be { kind: \"hex\" | \"text\", ... }");
  if (spec.kind === "hex") return parseHexPattern(spec.hex);
  if (spec.kind === "text") return textPattern(spec.text, spec.encoding ?? "utf8", spec.ignoreCase ?? false);
  throw invalid(`Unknown pattern kind ${JSON.stringify((spec as { kind?: unknown }).kind)}: use "hex" or "text"`);
}
