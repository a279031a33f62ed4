// Pure helpers for editing: hex digits and nibbles, paste text → bytes, the fill byte. No DOM.

/** The value of a hex digit key, or -1. */
export function hexDigit(key: string): number {
  if (key.length !== 1) return -1;
  const c = key.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The byte after typing `digit` into `old` at `nibble` (0: high, 1: low). */
export function typeNibble(old: number, digit: number, nibble: number): number {
  return nibble === 0 ? ((digit << 4) | (old & 0x0f)) & 0xff : ((old & 0xf0) | digit) & 0xff;
}

/** The byte a printable key writes in the text pane (Latin-1 range), or -1. */
export function charByte(key: string): number {
  if (key.length !== 1) return -1;
  const c = key.charCodeAt(0);
  return (c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xff) ? c : -1;
}

export type ParsedBytes = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

/**
 * Hex text as the user copies it from anywhere: "DE AD BE EF", "deadbeef", "0xDE, 0xAD",
 * "de:ad:be:ef", "\xde\xad", with any whitespace and line breaks. An odd number of digits or any
 * other character is an error (nothing is pasted).
 */
export function parseHexText(text: string): ParsedBytes {
  const cleaned = text
    .replace(/0x/gi, " ")
    .replace(/\\x/gi, " ")
    .replace(/[\s,;:\-]+/g, "");
  if (cleaned.length === 0) return { ok: false, error: "The clipboard holds no hex digits" };
  const bad = /[^0-9a-fA-F]/.exec(cleaned);
  if (bad) return { ok: false, error: `The clipboard is not hex text (found “${bad[0]}”); paste into the text pane (Tab) to paste it as text` };
  if (cleaned.length % 2 !== 0) return { ok: false, error: `The clipboard holds an odd number of hex digits (${cleaned.length}): every byte needs two` };
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(i * 2, i * 2 + 2), 16);
  return { ok: true, bytes: out };
}

/** Text pasted into the text pane: its UTF-8 bytes (ASCII stays one byte a character). */
export function textBytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The fill byte typed in the Fill dialog: hex by default ("FF", "0xff"), or decimal with a "d" suffix or # prefix. */
export function parseFillByte(text: string): { ok: true; byte: number } | { ok: false; error: string } {
  const t = text.trim();
  let v: number;
  if (/^(0x)?[0-9a-f]{1,2}$/i.test(t)) v = parseInt(t.replace(/^0x/i, ""), 16);
  else if (/^(#\d{1,3}|\d{1,3}d)$/i.test(t)) v = parseInt(t.replace(/[#d]/gi, ""), 10);
  else return { ok: false, error: `“${text}” is not a byte: type hex (00–FF, 0x41) or decimal (#65, 65d)` };
  if (v > 255) return { ok: false, error: `${v} is more than a byte holds (255)` };
  return { ok: true, byte: v };
}

/**
 * The bytes to insert in the Insert bytes dialog: one byte as the Fill dialog takes it ("00",
 * "0xff", "#65"), or a hex pattern repeated ("DE AD BE EF", "0d0a"), at most `maxPattern` bytes.
 */
export function parseFillPattern(text: string, maxPattern = 4096): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  const one = parseFillByte(text);
  if (one.ok) return { ok: true, bytes: Uint8Array.of(one.byte) };
  const t = text.trim();
  if (/^(#|\d+d$)/i.test(t)) return { ok: false, error: one.error };
  const r = parseHexText(t);
  if (!r.ok) {
    return { ok: false, error: `“${text}” is not a byte or a hex pattern: type 00, FF, #65, or bytes such as DE AD BE EF` };
  }
  if (r.bytes.length > maxPattern) return { ok: false, error: `The pattern is ${r.bytes.length} bytes long: at most ${maxPattern}` };
  return { ok: true, bytes: r.bytes };
}

/**
 * An offset typed in the Insert bytes / Delete range dialogs: decimal (4096), hex (0x1000 or
 * 1000h), with _ or spaces between digits. Must be at most `max` (inclusive).
 */
export function parseOffset(input: string, max: number, what = "The offset"): { ok: true; offset: number } | { ok: false; error: string } {
  const t = input.trim().replace(/[_\s,]/g, "");
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9a-f]+h$/i.test(t)) v = parseInt(t.slice(0, -1), 16);
  else if (/^\d+$/.test(t)) v = Number(t);
  else if (/^[0-9a-f]+$/i.test(t)) return { ok: false, error: `"${input.trim()}" looks like hex: write it as 0x${t}` };
  else return { ok: false, error: `${what} "${input.trim()}" is not a number: use decimal (4096) or hex (0x1000)` };
  if (!Number.isSafeInteger(v)) return { ok: false, error: `${what} ${input.trim()} is too large` };
  if (v > max) return { ok: false, error: `${what} 0x${v.toString(16).toUpperCase()} is past the end of the file (at most 0x${max.toString(16).toUpperCase()})` };
  return { ok: true, offset: v };
}
