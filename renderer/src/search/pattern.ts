// The search bar's pattern, checked while the user types (the host checks again: its EINVAL
// sentence wins when they differ). Same rules and sentences as app/engine/pattern.ts, without
// Node's Buffer: hex groups of two digits or '?' (DE AD ?? EF, dead??ef, 0xDEAD), text in UTF-8,
// UTF-16LE/BE or ASCII.

import type { SearchPatternSpec } from "../../../app/protocol/search";
import { MAX_REGEX_PATTERN_CHARS, type SearchEncoding } from "../../../app/protocol/search-constants";
import { RegexSyntaxError, translateRegex } from "../../../app/engine/regex-syntax";

export type SearchMode = "hex" | "text" | "regex";

export interface SearchQuery {
  mode: SearchMode;
  text: string;
  encoding: SearchEncoding;
  ignoreCase: boolean;
  /** Regex mode: match UTF-8 characters instead of bytes. */
  utf8?: boolean;
}

/** length: the pattern's length in bytes (regex: 0, each hit has its own). */
export type PatternCheck = { ok: true; spec: SearchPatternSpec; length: number } | { ok: false; error: string };

/** Regex mode: the same parser as the host's (app/engine/regex-syntax.ts), its sentence and 1-based position. */
export function checkRegex(pattern: string, ignoreCase: boolean, utf8: boolean): PatternCheck {
  if (pattern.length === 0) return { ok: false, error: "The regular expression is empty: type a pattern" };
  if (pattern.length > MAX_REGEX_PATTERN_CHARS) return { ok: false, error: `The regular expression is longer than ${MAX_REGEX_PATTERN_CHARS} characters` };
  try {
    translateRegex(pattern, { ignoreCase, utf8 });
  } catch (err) {
    if (err instanceof RegexSyntaxError) return { ok: false, error: `Invalid regular expression: ${err.message}` };
    return { ok: false, error: `Invalid regular expression: ${(err as Error).message}` };
  }
  return { ok: true, spec: { kind: "regex", regex: pattern, ignoreCase, utf8 }, length: 0 };
}

const HEX = /^[0-9a-fA-F?]$/;

export function checkHex(hex: string): { ok: true; length: number } | { ok: false; error: string } {
  const groups = hex.split(/[\s,]+/).filter((g) => g.length > 0);
  if (groups.length === 0) return { ok: false, error: 'The hex pattern is empty: give bytes like "DE AD ?? EF"' };
  let column = 0;
  let length = 0;
  let known = false;
  for (const raw of groups) {
    column = hex.indexOf(raw, column);
    const group = /^0[xX]/.test(raw) && raw.length > 2 ? raw.slice(2) : raw;
    const skip = raw.length - group.length;
    for (let i = 0; i < group.length; i++) {
      const c = group[i]!;
      if (!HEX.test(c)) {
        return { ok: false, error: `The hex pattern has ${JSON.stringify(c)} at position ${column + skip + i + 1}: use hex digits 0-9 A-F, and ?? for any byte` };
      }
      if (c !== "?") known = true;
    }
    if (group.length % 2 !== 0) {
      return {
        ok: false,
        error: `The hex pattern group ${JSON.stringify(raw)} has an odd number of digits: each byte is two digits (write 0${group.slice(-1)} for a single digit)`,
      };
    }
    length += group.length / 2;
    column += raw.length;
  }
  if (!known) return { ok: false, error: "The hex pattern is only wildcards (??): it needs at least one known byte" };
  return { ok: true, length };
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function checkPattern(q: SearchQuery): PatternCheck {
  if (q.mode === "regex") return checkRegex(q.text, q.ignoreCase, q.utf8 === true);
  if (q.mode === "hex") {
    const r = checkHex(q.text);
    return r.ok ? { ok: true, spec: { kind: "hex", hex: q.text }, length: r.length } : r;
  }
  if (q.text.length === 0) return { ok: false, error: "The search text is empty: type something to search for" };
  let length: number;
  switch (q.encoding) {
    case "ascii": {
      const bad = /[^\x00-\x7f]/.exec(q.text);
      if (bad) return { ok: false, error: `The text has ${JSON.stringify(bad[0])}, which is not ASCII: search it as utf8 or utf16 instead` };
      length = q.text.length;
      break;
    }
    case "utf8":
      length = utf8Length(q.text);
      break;
    default:
      length = q.text.length * 2;
  }
  return { ok: true, spec: { kind: "text", text: q.text, encoding: q.encoding, ignoreCase: q.ignoreCase }, length };
}

export const ENCODING_LABELS: Record<SearchEncoding, string> = {
  utf8: "UTF-8",
  utf16le: "UTF-16LE",
  utf16be: "UTF-16BE",
  ascii: "ASCII",
};
