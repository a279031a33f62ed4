// Pure formatting and parsing helpers for the hex grid: no DOM, no React (unit-testable).

import { foundClass, type FoundRanges } from "./search/highlight";
import { tintClass, type FieldTint } from "./structure/store";

export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

/** Printable ASCII as itself, everything else as a dot (what HxD and xxd show). */
export const ASCII: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i >= 0x20 && i < 0x7f ? String.fromCharCode(i) : ".",
);

/** Shown for a byte whose page is still loading. */
export const PLACEHOLDER_HEX = "··";
export const PLACEHOLDER_ASCII = "·";
/** Shown for a byte that could not be read (I/O error). */
export const ERROR_HEX = "!!";
export const ERROR_ASCII = "!";

/** Byte value, or one of these markers. */
export const LOADING = -1;
export const FAILED = -2;

/** Offset column width in hex digits: 8, growing when the file needs more (past 4 GiB, 1 TiB…). */
export function offsetDigits(size: number): number {
  const last = size > 0 ? size - 1 : 0;
  return Math.max(8, last.toString(16).length);
}

export function formatOffset(offset: number, digits: number): string {
  return offset.toString(16).toUpperCase().padStart(digits, "0");
}

export function hex(n: number): string {
  return "0x" + n.toString(16).toUpperCase();
}

/** 1234567 → "1,234,567" (stable in every locale, so tests and screenshots agree). */
export function groupDigits(n: number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "/a/b/file.bin" or "C:\\a\\file.bin" → "file.bin" (the path itself if it has no name part). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
export function humanSize(n: number): string {
  if (n < 1024) return `${n} ${n === 1 ? "byte" : "bytes"}`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`;
}

// ---- Hex pane layout ---------------------------------------------------------------------------
// Bytes are two hex digits separated by one space, with an extra space between groups of 8.

export const GROUP = 8;

/** Character column where byte i of a row starts in the hex pane. */
export function hexColumn(i: number): number {
  return i * 3 + Math.floor(i / GROUP);
}

/** Width of the hex pane in characters for a row of `bpr` bytes. */
export function hexWidth(bpr: number): number {
  return hexColumn(bpr - 1) + 2;
}

/** Byte index under character column `col` of the hex pane (separators belong to the byte on their left). */
export function byteAtHexColumn(col: number, bpr: number): number {
  if (col <= 0) return 0;
  for (let i = bpr - 1; i >= 0; i--) if (col >= hexColumn(i)) return i;
  return 0;
}

/** Separator after byte i (none after the last byte of a row). */
export function hexSeparator(i: number, bpr: number): string {
  if (i >= bpr - 1) return "";
  return (i + 1) % GROUP === 0 ? "  " : " ";
}

export function hexByte(b: number): string {
  return b >= 0 ? HEX2[b]! : b === LOADING ? PLACEHOLDER_HEX : ERROR_HEX;
}

export function asciiByte(b: number): string {
  return b >= 0 ? ASCII[b]! : b === LOADING ? PLACEHOLDER_ASCII : ERROR_ASCII;
}

/** Header over the hex pane: "00 01 02 … 07  08 …". */
export function hexHeader(bpr: number): string {
  let s = "";
  for (let i = 0; i < bpr; i++) s += HEX2[i]! + hexSeparator(i, bpr);
  return s;
}

// ---- Highlight runs -----------------------------------------------------------------------------
// A row pane is one text run, split only where the cursor or the selection starts or ends.

/**
 * "", or space-separated: cur, sel, ed (unsaved overwrite), ins (unsaved insert), nib (the
 * cursor's low nibble is next), app (the append position after the last byte, insert mode).
 */
export type RunClass = string;
export interface Run {
  cls: RunClass;
  text: string;
}

export interface Highlight {
  /** Absolute offset of the cursor (or -1 for none). */
  cursor: number;
  /** Inclusive selection range, or selStart > selEnd for none. */
  selStart: number;
  selEnd: number;
  /** 1 when the next hex digit typed sets the cursor byte's low nibble (shown on its 2nd digit). */
  nibble?: number;
  /** Search hits to mark (renderer/src/search/highlight.ts); absent: none. */
  found?: FoundRanges | null;
  /** Structure panel fields to tint (renderer/src/structure/store.ts); absent: none. */
  tint?: FieldTint | null;
}

/** The decoration class of a byte's mark (pageCache MARK_*): 1 edited in place, 2 inserted. */
export function markClass(mark: number | undefined): string {
  return mark === 1 ? "ed" : mark === 2 ? "ins" : "";
}

function classOf(offset: number, h: Highlight, mark?: number): RunClass {
  const inSel = offset >= h.selStart && offset <= h.selEnd;
  let base = offset === h.cursor ? (inSel ? "cur sel" : "cur") : inSel ? "sel" : "";
  if (h.found) {
    const hit = foundClass(offset, h.found);
    if (hit) base = base ? `${base} ${hit}` : hit;
  }
  if (h.tint) {
    const t = tintClass(offset, h.tint);
    if (t) base = base ? `${base} ${t}` : t;
  }
  const m = markClass(mark);
  return m ? (base ? `${base} ${m}` : m) : base;
}

function pushRun(runs: Run[], cls: RunClass, text: string): void {
  if (!text) return;
  const last = runs[runs.length - 1];
  if (last && last.cls === cls) last.text += text;
  else runs.push({ cls, text });
}

/**
 * Runs for the hex pane of one row. `bytes` holds the row's bytes (or LOADING/FAILED markers);
 * it may be shorter than `bpr` on the last row. A separator is highlighted only when both bytes
 * around it are selected, so a selection reads as one band.
 */
export function hexRuns(bytes: ArrayLike<number>, rowOffset: number, bpr: number, h: Highlight, edited?: ArrayLike<number>, append = false): Run[] {
  const runs: Run[] = [];
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const off = rowOffset + i;
    const cls = classOf(off, h, edited?.[i]);
    const text = hexByte(bytes[i]!);
    if (off === h.cursor && h.nibble === 1) {
      pushRun(runs, cls, text[0]!);
      pushRun(runs, `${cls} nib`, text.slice(1));
    } else pushRun(runs, cls, text);
    const sep = hexSeparator(i, bpr);
    if (!sep || i === n - 1) continue;
    const bothSelected = off >= h.selStart && off + 1 <= h.selEnd;
    pushRun(runs, bothSelected ? "sel" : "", sep);
  }
  if (append && n < bpr) {
    // The append position (insert mode): an empty cell after the last byte, where typing appends.
    if (n > 0) pushRun(runs, "", hexSeparator(n - 1, bpr));
    pushRun(runs, rowOffset + n === h.cursor ? "cur app" : "app", "  ");
  }
  return runs;
}

export function asciiRuns(bytes: ArrayLike<number>, rowOffset: number, h: Highlight, edited?: ArrayLike<number>, append = false): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < bytes.length; i++) pushRun(runs, classOf(rowOffset + i, h, edited?.[i]), asciiByte(bytes[i]!));
  if (append) pushRun(runs, rowOffset + bytes.length === h.cursor ? "cur app" : "app", " ");
  return runs;
}

// ---- Copy ---------------------------------------------------------------------------------------

/** Largest selection Ctrl+C copies (as text it triples in size). */
export const MAX_COPY = 1024 * 1024;

/** Bytes as the clipboard gets them: "41 42 0A" from the hex pane, the decoded text from the ASCII pane. */
export function copyText(bytes: Uint8Array, pane: "hex" | "ascii"): string {
  if (pane === "hex") return Array.from(bytes, (b) => HEX2[b]!).join(" ");
  return Array.from(bytes, (b) => ASCII[b]!).join("");
}

// ---- Go to offset --------------------------------------------------------------------------------

export type GotoResult = { ok: true; offset: number } | { ok: false; error: string };

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function parseMagnitude(text: string): bigint | string {
  const t = text.replace(/[_\s]/g, "");
  if (/^0x[0-9a-f]+$/i.test(t)) return BigInt(t);
  if (/^[0-9a-f]+h$/i.test(t)) return BigInt("0x" + t.slice(0, -1));
  if (/^\d+$/.test(t)) return BigInt(t);
  if (/^[0-9a-f]+$/i.test(t)) return `"${text}" looks like hex: write it as 0x${t}`;
  return `"${text}" is not a number: use decimal (4096), hex (0x1000), +N/−N or a percentage (50%)`;
}

/**
 * Parses what the user typed in the Go to dialog: decimal, 0x hex (or 1000h), relative to the
 * cursor (+N / -N, either base), or a percentage of the file (50%, 12.5%).
 * The result is a byte offset inside the file, or an error sentence to show inline.
 */
export function parseGoto(input: string, cursor: number, size: number): GotoResult {
  const text = input.trim().replace(/^−/, "-");
  if (!text) return { ok: false, error: "Enter an offset: decimal, 0x hex, +N/−N or a percentage" };
  let target: bigint;
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (pct) {
    const p = Number(pct[1]);
    if (p > 100) return { ok: false, error: `${pct[1]}% is past the end of the file` };
    const off = Math.floor((size * p) / 100);
    target = BigInt(Math.min(off, Math.max(0, size - 1)));
  } else {
    const rel = /^([+-])\s*(.+)$/.exec(text);
    const m = parseMagnitude(rel ? rel[2]! : text);
    if (typeof m === "string") return { ok: false, error: m };
    target = rel ? (rel[1] === "+" ? BigInt(cursor) + m : BigInt(cursor) - m) : m;
  }
  if (target < 0n) return { ok: false, error: `Offset ${text} is before the start of the file` };
  if (target > MAX || target >= BigInt(Math.max(size, 1)) || (size === 0 && target > 0n)) {
    const shown = target > MAX ? text : hex(Number(target));
    return {
      ok: false,
      error: `Offset ${shown} is past the end of the file (size ${groupDigits(size)} bytes, last offset ${hex(Math.max(0, size - 1))})`,
    };
  }
  return { ok: true, offset: Number(target) };
}
