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
