// Data inspector: what the bytes at the cursor mean as numbers, characters, times and GUIDs, and
// the reverse (a typed value → the bytes to write). Pure functions of a Uint8Array and an
// endianness flag, shared by the renderer's panel and the tests: no Node or DOM imports, only
// ECMAScript built-ins (DataView, BigInt, Date).
//
// A decoder returns text null when the bytes do not hold a valid value (too few bytes near the
// end of the file, an invalid UTF-8 sequence, a date out of range); an encoder returns either the
// bytes or a sentence saying what is wrong with the input.

export const FIELD_IDS = [
  "binary",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float16",
  "float32",
  "float64",
  "ascii",
  "utf8",
  "utf16",
  "unix32",
  "unix64",
  "filetime",
  "dosdatetime",
  "guid",
] as const;
export type FieldId = (typeof FIELD_IDS)[number];

export interface FieldSpec {
  id: FieldId;
  label: string;
  /** Bytes the field reads (UTF-8: at most; UTF-16: 2, or 4 for a surrogate pair). */
  size: number;
  /** An encoder exists: the user may type a value. */
  editable: boolean;
  /** The little/big endian toggle changes the value. */
  endian: boolean;
}

export const FIELDS: readonly FieldSpec[] = [
  { id: "binary", label: "Binary (8 bit)", size: 1, editable: true, endian: false },
  { id: "int8", label: "int8", size: 1, editable: true, endian: false },
  { id: "uint8", label: "uint8", size: 1, editable: true, endian: false },
  { id: "int16", label: "int16", size: 2, editable: true, endian: true },
  { id: "uint16", label: "uint16", size: 2, editable: true, endian: true },
  { id: "int32", label: "int32", size: 4, editable: true, endian: true },
  { id: "uint32", label: "uint32", size: 4, editable: true, endian: true },
  { id: "int64", label: "int64", size: 8, editable: true, endian: true },
  { id: "uint64", label: "uint64", size: 8, editable: true, endian: true },
  { id: "float16", label: "float16", size: 2, editable: true, endian: true },
  { id: "float32", label: "float32", size: 4, editable: true, endian: true },
  { id: "float64", label: "float64", size: 8, editable: true, endian: true },
  { id: "ascii", label: "ASCII", size: 1, editable: true, endian: false },
  { id: "utf8", label: "UTF-8", size: 4, editable: true, endian: false },
  { id: "utf16", label: "UTF-16", size: 4, editable: true, endian: true },
  { id: "unix32", label: "Unix time (32 bit)", size: 4, editable: true, endian: true },
  { id: "unix64", label: "Unix time (64 bit)", size: 8, editable: true, endian: true },
  { id: "filetime", label: "Windows FILETIME", size: 8, editable: true, endian: true },
  { id: "dosdatetime", label: "DOS date/time", size: 4, editable: true, endian: true },
  { id: "guid", label: "GUID", size: 16, editable: true, endian: true },
];

/** Bytes the inspector needs at the cursor to show every field. */
export const INSPECTOR_BYTES = 16;

export interface Decoded {
  id: FieldId;
  /** What to show; null when the bytes hold no valid value (or too few bytes). */
  text: string | null;
  /** The value itself: number, bigint (64-bit integers, FILETIME ticks), or string. */
  value: number | bigint | string | null;
  /** Bytes the value covers (UTF-8/UTF-16 vary); 0 when text is null. */
  length: number;
  /** Extra detail, e.g. the code point "U+00E9". */
  detail?: string;
}

export type EncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const none = (id: FieldId): Decoded => ({ id, text: null, value: null, length: 0 });
const fail = (error: string): EncodeResult => ({ ok: false, error });
const okBytes = (bytes: Uint8Array): EncodeResult => ({ ok: true, bytes });

function view(bytes: Uint8Array, size: number): DataView | null {
  return bytes.length >= size ? new DataView(bytes.buffer, bytes.byteOffset, size) : null;
}

// ---- integers -------------------------------------------------------------------------------------

export type IntSize = 1 | 2 | 4 | 8;

/** The integer at bytes[0..size): a number up to 32 bits, a bigint for 64; null if too few bytes. */
export function readInteger(bytes: Uint8Array, size: IntSize, signed: boolean, littleEndian: boolean): number | bigint | null {
  const dv = view(bytes, size);
  if (!dv) return null;
  switch (size) {
    case 1:
      return signed ? dv.getInt8(0) : dv.getUint8(0);
    case 2:
      return signed ? dv.getInt16(0, littleEndian) : dv.getUint16(0, littleEndian);
    case 4:
      return signed ? dv.getInt32(0, littleEndian) : dv.getUint32(0, littleEndian);
    case 8:
      return signed ? dv.getBigInt64(0, littleEndian) : dv.getBigUint64(0, littleEndian);
  }
}

/** The bytes of an integer (range-checked: throws RangeError with a user sentence). */
export function writeInteger(value: bigint, size: IntSize, signed: boolean, littleEndian: boolean): Uint8Array {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (value < min || value > max) {
    throw new RangeError(`${signed ? "int" : "uint"}${size * 8} must be between ${min} and ${max}`);
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 8) {
    if (signed) dv.setBigInt64(0, value, littleEndian);
    else dv.setBigUint64(0, value, littleEndian);
  } else {
    const n = Number(value);
    if (size === 1) dv.setUint8(0, n & 0xff);
    else if (size === 2) dv.setUint16(0, n & 0xffff, littleEndian);
    else dv.setUint32(0, n >>> 0, littleEndian);
  }
  return out;
}

const INT_TEXT = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)$/;

/** Parses decimal, 0x hex, 0b binary or 0o octal, with an optional sign; underscores/spaces ignored. */
export function parseInteger(text: string): bigint | null {
  const m = INT_TEXT.exec(text.trim().replace(/[_\s]/g, ""));
  if (!m) return null;
  const magnitude = BigInt(m[2]!.replace(/^0[xXbBoO]/, (p) => p.toLowerCase()));
  return m[1] === "-" ? -magnitude : magnitude;
}

// ---- floats ----------------------------------------------------------------------------------------

/** IEEE 754 binary16 bits → number (exact: every float16 is a double). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Rounds half to even, for non-negative x. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5 || (d === 0.5 && f % 2 === 1)) return f + 1;
  return f;
}

/**
 * number → binary16 bits, rounded to nearest, ties to even (IEEE's default), with overflow to
 * infinity and gradual underflow to subnormals. NaN becomes the quiet NaN 0x7e00.
 */
export function numberToFloat16(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal (or zero): a multiple of 2^-24. Rounding up to 1024 gives the smallest normal,
    // whose bits are exactly 0x0400, so no special case.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

export type FloatSize = 2 | 4 | 8;

export function readFloat(bytes: Uint8Array, size: FloatSize, littleEndian: boolean): number | null {
  const dv = view(bytes, size);
  if (!dv) return null;
  if (size === 2) return float16ToNumber(dv.getUint16(0, littleEndian));
  return size === 4 ? dv.getFloat32(0, littleEndian) : dv.getFloat64(0, littleEndian);
}

/**
 * The shortest decimal that reads back as the same float of that size (like String() does for
 * doubles), so float32 0.1 shows "0.1", not "0.10000000149011612".
 */
export function formatFloat(x: number, size: FloatSize): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (Object.is(x, -0)) return "-0";
  if (size === 8) return String(x);
  const same = size === 4 ? (y: number) => Math.fround(y) === x : (y: number) => numberToFloat16(y) === numberToFloat16(x);
  for (let p = 1; p <= 17; p++) {
    const y = Number(x.toPrecision(p));
    if (same(y)) return String(y);
  }
  return String(x);
}

const FLOAT_TEXT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** Parses a decimal float, "inf"/"infinity"/"nan" (any case, signed). Null if it is not one. */
export function parseFloatText(text: string): number | null {
  const t = text.trim().replace(/_/g, "");
  const special = SPECIAL_FLOAT.exec(t);
  if (special) {
    if (special[2]!.toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  if (!FLOAT_TEXT.test(t)) return null;
  return Number(t);
}

/**
 * The bytes of a float. Rounds to the nearest value of that size (float32/float16 via the double
 * nearest to the text); a finite value too large for the size is an error, not infinity.
 */
export function writeFloat(value: number, size: FloatSize, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  if (size === 2) {
    const bits = numberToFloat16(value);
    if (Number.isFinite(value) && (bits & 0x7c00) === 0x7c00) throw new RangeError("float16 values are at most ±65504");
    dv.setUint16(0, bits, littleEndian);
  } else if (size === 4) {
    if (Number.isFinite(value) && !Number.isFinite(Math.fround(value))) throw new RangeError("float32 values are at most ±3.4028235e38");
    dv.setFloat32(0, value, littleEndian);
  } else {
    dv.setFloat64(0, value, littleEndian);
  }
  return out;
}

// ---- characters ------------------------------------------------------------------------------------

/** How a code point is shown: itself when printable, else an escape or U+XXXX. */
export function showCodePoint(cp: number): string {
  switch (cp) {
    case 0x00:
      return "\\0";
    case 0x09:
      return "\\t";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
  }
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return codePointName(cp);
  return String.fromCodePoint(cp);
}

export function codePointName(cp: number): string {
  return "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
}

export interface Utf8Char {
  codePoint: number;
  /** Bytes in the sequence (1–4). */
  length: number;
}

/**
 * The UTF-8 sequence at bytes[0], strictly (Unicode's well-formed table: no overlongs, no
 * surrogates, nothing above U+10FFFF). Null when invalid or cut short.
 */
export function decodeUtf8(bytes: Uint8Array): Utf8Char | null {
  const b0 = bytes[0];
  if (b0 === undefined) return null;
  if (b0 < 0x80) return { codePoint: b0, length: 1 };
  let length: number;
  let lo = 0x80;
  let hi = 0xbf;
  let cp: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f;
  } else {
    return null;
  }
  if (bytes.length < length) return null;
  for (let i = 1; i < length; i++) {
    const b = bytes[i]!;
    if (b < lo || b > hi) return null;
    lo = 0x80;
    hi = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  return { codePoint: cp, length };
}

/** UTF-8 bytes of one code point (not a surrogate). */
export function encodeUtf8(cp: number): Uint8Array {
  if (cp < 0x80) return Uint8Array.of(cp);
  if (cp < 0x800) return Uint8Array.of(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return Uint8Array.of(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return Uint8Array.of(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

export interface Utf16Char {
  /** The first code unit. */
  unit: number;
  /** The character's code point; null for a lone surrogate. */
  codePoint: number | null;
  /** 2, or 4 for a surrogate pair. */
  length: number;
}

export function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): Utf16Char | null {
  const dv = view(bytes, 2);
  if (!dv) return null;
  const unit = dv.getUint16(0, littleEndian);
  if (unit < 0xd800 || unit > 0xdfff) return { unit, codePoint: unit, length: 2 };
  if (unit <= 0xdbff && bytes.length >= 4) {
    const low = new DataView(bytes.buffer, bytes.byteOffset + 2, 2).getUint16(0, littleEndian);
    if (low >= 0xdc00 && low <= 0xdfff) {
      return { unit, codePoint: 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), length: 4 };
    }
  }
  return { unit, codePoint: null, length: 2 };
}

const ESCAPES: Record<string, number> = { "\\0": 0, "\\t": 9, "\\n": 10, "\\r": 13, "\\\\": 0x5c };

/**
 * One character typed by the user: the character itself, or \0 \t \n \r \\ \xNN \u{…} U+XXXX.
 * Returns its code point, or an error sentence.
 */
export function parseCharInput(text: string): number | string {
  if (text.length === 0) return "Type one character";
  const esc = ESCAPES[text];
  if (esc !== undefined) return esc;
  const m = /^(?:\\x([0-9a-fA-F]{2})|\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|[uU]\+([0-9a-fA-F]{1,6}))$/.exec(text);
  let cp: number;
  if (m) {
    cp = parseInt(m[1] ?? m[2] ?? m[3] ?? m[4]!, 16);
  } else {
    const chars = Array.from(text);
    if (chars.length !== 1) return "Type exactly one character (or an escape like \\n, \\x41, U+00E9)";
    cp = chars[0]!.codePointAt(0)!;
  }
  if (cp > 0x10ffff) return "Code points end at U+10FFFF";
  if (cp >= 0xd800 && cp <= 0xdfff) return `${codePointName(cp)} is a surrogate, not a character`;
  return cp;
}

// ---- times -----------------------------------------------------------------------------------------

/** JavaScript dates reach ±8.64e15 ms from 1970. */
const MAX_DATE_MS = 8.64e15;

/** ISO 8601 in UTC without milliseconds when they are zero: 2009-02-13T23:31:30Z. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** Unix time (seconds since 1970, UTC) → ISO string; null when outside JavaScript's dates. */
export function unixToIso(seconds: number | bigint): string | null {
  const s = typeof seconds === "bigint" ? seconds : BigInt(seconds);
  if (s > BigInt(MAX_DATE_MS / 1000) || s < -BigInt(MAX_DATE_MS / 1000)) return null;
  return isoSeconds(Number(s) * 1000);
}

/** 100 ns intervals between 1601-01-01 and 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;
const TICKS_PER_SECOND = 10_000_000n;

/**
 * FILETIME (100 ns ticks since 1601-01-01 UTC) → ISO with all 7 fractional digits, e.g.
 * 2009-02-13T23:31:30.1234567Z. Null at or above 2^63 (Windows rejects those).
 */
export function filetimeToIso(ticks: bigint): string | null {
  if (ticks < 0n || ticks >= 1n << 63n) return null;
  const since1970 = ticks - FILETIME_UNIX_EPOCH;
  let seconds = since1970 / TICKS_PER_SECOND;
  let frac = since1970 % TICKS_PER_SECOND;
  if (frac < 0n) {
    frac += TICKS_PER_SECOND;
    seconds -= 1n;
  }
  const base = new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, "");
  return `${base}.${frac.toString().padStart(7, "0")}Z`;
}

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second in 100 ns ticks (0..9999999). */
  ticks: number;
  /** Offset of the written time from UTC, in minutes (0 when none or Z). */
  offsetMinutes: number;
  /** A zone (Z or ±HH:MM) was written. */
  zoned: boolean;
}

const DATE_TEXT = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function parseDate(text: string): DateParts | string {
  const m = DATE_TEXT.exec(text.trim());
  if (!m) return "Type a date as YYYY-MM-DD HH:MM:SS (UTC unless a zone like +02:00 follows)";
  const year = parseInt(m[1]!, 10);
  const month = parseInt(m[2]!, 10);
  const day = parseInt(m[3]!, 10);
  const hour = m[4] ? parseInt(m[4], 10) : 0;
  const minute = m[5] ? parseInt(m[5], 10) : 0;
  const second = m[6] ? parseInt(m[6], 10) : 0;
  const fraction = m[7] ?? "";
  if (fraction.length > 7 && /[1-9]/.test(fraction.slice(7))) return "Times are exact to 100 ns (7 decimal places)";
  const ticks = fraction ? parseInt(fraction.slice(0, 7).padEnd(7, "0"), 10) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const z = zone.replace(":", "");
    const sign = z[0] === "-" ? -1 : 1;
    offsetMinutes = sign * (parseInt(z.slice(1, 3), 10) * 60 + parseInt(z.slice(3, 5), 10));
  }
  if (month < 1 || month > 12) return `No month ${month}`;
  if (day < 1 || day > daysInMonth(year, month)) return `No day ${day} in ${year}-${String(month).padStart(2, "0")}`;
  if (hour > 23 || minute > 59 || second > 59) return "Hours go to 23, minutes and seconds to 59";
  return { year, month, day, hour, minute, second, ticks, offsetMinutes, zoned: zone !== undefined };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Seconds since 1970 (UTC) of a parsed date, ignoring the fraction. */
function unixSecondsOf(p: DateParts): number {
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day); // setUTCFullYear keeps years 0–99 as written
  d.setUTCHours(p.hour, p.minute, p.second, 0);
  return d.getTime() / 1000 - p.offsetMinutes * 60;
}

export interface DosDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * MS-DOS date and time (FAT, ZIP) packed in 32 bits: date in the high 16 (day 0–4, month 5–8,
 * year−1980 9–15), time in the low 16 (seconds/2 0–4, minute 5–10, hour 11–15). Little-endian
 * that is ZIP's order on disk: time, then date. Null when a field is out of range.
 */
export function decodeDosDateTime(value: number): DosDateTime | null {
  const date = value >>> 16;
  const time = value & 0xffff;
  const dt = {
    year: 1980 + (date >>> 9),
    month: (date >>> 5) & 0x0f,
    day: date & 0x1f,
    hour: time >>> 11,
    minute: (time >>> 5) & 0x3f,
    second: (time & 0x1f) * 2,
  };
  if (dt.month < 1 || dt.month > 12 || dt.day < 1 || dt.day > daysInMonth(dt.year, dt.month)) return null;
  if (dt.hour > 23 || dt.minute > 59 || dt.second > 59) return null;
  return dt;
}

export function encodeDosDateTime(dt: DosDateTime): number {
  const date = ((dt.year - 1980) << 9) | (dt.month << 5) | dt.day;
  const time = (dt.hour << 11) | (dt.minute << 5) | (dt.second >>> 1);
  return ((date << 16) | time) >>> 0;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

export function formatDosDateTime(dt: DosDateTime): string {
  return `${dt.year}-${pad2(dt.month)}-${pad2(dt.day)} ${pad2(dt.hour)}:${pad2(dt.minute)}:${pad2(dt.second)}`;
}

// ---- GUID -------------------------------------------------------------------------------------------

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, "0");

/**
 * A GUID's registry form {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}. Little-endian: Microsoft's
 * mixed-endian layout (Data1, Data2, Data3 little-endian, Data4 as is), as GUIDs are stored by
 * Windows; big-endian: RFC 9562 network order (every byte in order).
 */
export function guidToString(bytes: Uint8Array, littleEndian: boolean): string | null {
  if (bytes.length < 16) return null;
  const order = littleEndian ? GUID_LE_ORDER : GUID_BE_ORDER;
  const h = order.map((i) => hex2(bytes[i]!)).join("");
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
}

/** Byte index for each position of the printed GUID (printed order → stored order). */
const GUID_LE_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
const GUID_BE_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

export function parseGuid(text: string, littleEndian: boolean): Uint8Array | null {
  const m = /^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/.exec(text.trim());
  if (!m) return null;
  if (text.trim().startsWith("{") !== text.trim().endsWith("}")) return null;
  const h = m.slice(1, 6).join("");
  const out = new Uint8Array(16);
  const order = littleEndian ? GUID_LE_ORDER : GUID_BE_ORDER;
  order.forEach((stored, printed) => {
    out[stored] = parseInt(h.slice(printed * 2, printed * 2 + 2), 16);
  });
  return out;
}

// ---- the inspector: one call per field ------------------------------------------------------------

const INT_FIELDS: Partial<Record<FieldId, [IntSize, boolean]>> = {
  int8: [1, true],
  uint8: [1, false],
  int16: [2, true],
  uint16: [2, false],
  int32: [4, true],
  uint32: [4, false],
  int64: [8, true],
  uint64: [8, false],
};
const FLOAT_FIELDS: Partial<Record<FieldId, FloatSize>> = { float16: 2, float32: 4, float64: 8 };

/** The value of field `id` for the bytes at the cursor (bytes[0] is the cursor byte). */
export function decodeField(id: FieldId, bytes: Uint8Array, littleEndian: boolean): Decoded {
  const int = INT_FIELDS[id];
  if (int) {
    const v = readInteger(bytes, int[0], int[1], littleEndian);
    return v === null ? none(id) : { id, text: String(v), value: v, length: int[0] };
  }
  const fsize = FLOAT_FIELDS[id];
  if (fsize) {
    const v = readFloat(bytes, fsize, littleEndian);
    return v === null ? none(id) : { id, text: formatFloat(v, fsize), value: v, length: fsize };
  }
  switch (id) {
    case "binary": {
      const b = bytes[0];
      return b === undefined ? none(id) : { id, text: b.toString(2).padStart(8, "0"), value: b, length: 1 };
    }
    case "ascii": {
      const b = bytes[0];
      if (b === undefined || b > 0x7f) return none(id);
      return { id, text: showCodePoint(b), value: b, length: 1, detail: codePointName(b) };
    }
    case "utf8": {
      const c = decodeUtf8(bytes);
      if (!c) return none(id);
      return { id, text: showCodePoint(c.codePoint), value: c.codePoint, length: c.length, detail: codePointName(c.codePoint) };
    }
    case "utf16": {
      const c = decodeUtf16(bytes, littleEndian);
      if (!c) return none(id);
      if (c.codePoint === null) {
        return { id, text: null, value: c.unit, length: 2, detail: `${codePointName(c.unit)} (lone surrogate)` };
      }
      return { id, text: showCodePoint(c.codePoint), value: c.codePoint, length: c.length, detail: codePointName(c.codePoint) };
    }
    case "unix32": {
      const s = readInteger(bytes, 4, true, littleEndian);
      if (s === null) return none(id);
      return { id, text: unixToIso(s as number), value: s, length: 4 };
    }
    case "unix64": {
      const s = readInteger(bytes, 8, true, littleEndian) as bigint | null;
      if (s === null) return none(id);
      const text = unixToIso(s);
      return text === null ? none(id) : { id, text, value: s, length: 8 };
    }
    case "filetime": {
      const t = readInteger(bytes, 8, false, littleEndian) as bigint | null;
      if (t === null) return none(id);
      const text = filetimeToIso(t);
      return text === null ? none(id) : { id, text, value: t, length: 8 };
    }
    case "dosdatetime": {
      const v = readInteger(bytes, 4, false, littleEndian) as number | null;
      if (v === null) return none(id);
      const dt = decodeDosDateTime(v);
      return dt === null ? none(id) : { id, text: formatDosDateTime(dt), value: v, length: 4 };
    }
    case "guid": {
      const text = guidToString(bytes, littleEndian);
      return text === null ? none(id) : { id, text, value: text, length: 16 };
    }
  }
  return none(id);
}

/** Every field, in FIELDS order. */
export function decodeAll(bytes: Uint8Array, littleEndian: boolean): Decoded[] {
  return FIELDS.map((f) => decodeField(f.id, bytes, littleEndian));
}

/**
 * The bytes for a value typed into field `id`, or a sentence saying why it cannot be stored.
 * Integers: decimal, 0x, 0b, 0o. Floats: decimal, inf, nan. Characters: the character or an
 * escape (\n, \x41, U+00E9). Times: YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM] (UTC by default)
 * or a raw integer. GUID: with or without braces and dashes.
 */
export function encodeField(id: FieldId, text: string, littleEndian: boolean): EncodeResult {
  try {
    return encodeOrThrow(id, text, littleEndian);
  } catch (err) {
    if (err instanceof RangeError) return fail(err.message);
    throw err;
  }
}

function encodeOrThrow(id: FieldId, text: string, littleEndian: boolean): EncodeResult {
  const int = INT_FIELDS[id];
  if (int) {
    const v = parseInteger(text);
    if (v === null) return fail(`Type an integer (decimal, 0x hex, 0b binary) for ${id}`);
    return okBytes(writeInteger(v, int[0], int[1], littleEndian));
  }
  const fsize = FLOAT_FIELDS[id];
  if (fsize) {
    const v = parseFloatText(text);
    if (v === null) return fail(`Type a number (like 1.5, -2e-3, inf, nan) for ${id}`);
    if (fsize === 8 && !Number.isFinite(v) && !SPECIAL_FLOAT.test(text.trim())) return fail("float64 values are at most ±1.7976931348623157e308");
    return okBytes(writeFloat(v, fsize, littleEndian));
  }
  switch (id) {
    case "binary": {
      const t = text.replace(/[\s_]/g, "");
      if (!/^[01]{1,8}$/.test(t)) return fail("Type up to 8 binary digits (0 and 1)");
      return okBytes(Uint8Array.of(parseInt(t, 2)));
    }
    case "ascii": {
      const cp = parseCharInput(text);
      if (typeof cp === "string") return fail(cp);
      if (cp > 0x7f) return fail(`${codePointName(cp)} is not ASCII (use the UTF-8 or UTF-16 field)`);
      return okBytes(Uint8Array.of(cp));
    }
    case "utf8": {
      const cp = parseCharInput(text);
      return typeof cp === "string" ? fail(cp) : okBytes(encodeUtf8(cp));
    }
    case "utf16": {
      const cp = parseCharInput(text);
      if (typeof cp === "string") return fail(cp);
      if (cp < 0x10000) return okBytes(writeInteger(BigInt(cp), 2, false, littleEndian));
      const v = cp - 0x10000;
      const out = new Uint8Array(4);
      out.set(writeInteger(BigInt(0xd800 + (v >> 10)), 2, false, littleEndian), 0);
      out.set(writeInteger(BigInt(0xdc00 + (v & 0x3ff)), 2, false, littleEndian), 2);
      return okBytes(out);
    }
    case "unix32":
    case "unix64": {
      const size = id === "unix32" ? 4 : 8;
      const raw = parseInteger(text);
      if (raw !== null) return okBytes(writeInteger(raw, size, true, littleEndian));
      const p = parseDate(text);
      if (typeof p === "string") return fail(p);
      if (p.ticks !== 0) return fail("Unix time counts whole seconds");
      const s = unixSecondsOf(p);
      if (id === "unix32" && (s < -(2 ** 31) || s > 2 ** 31 - 1)) {
        return fail("32-bit Unix time covers 1901-12-13T20:45:52Z to 2038-01-19T03:14:07Z");
      }
      return okBytes(writeInteger(BigInt(s), size, true, littleEndian));
    }
    case "filetime": {
      const raw = parseInteger(text);
      if (raw !== null) {
        if (raw >= 1n << 63n) return fail("FILETIME values stop at 2^63 − 1 (year 30828)");
        return okBytes(writeInteger(raw, 8, false, littleEndian));
      }
      const p = parseDate(text);
      if (typeof p === "string") return fail(p);
      const ticks = BigInt(unixSecondsOf(p)) * TICKS_PER_SECOND + BigInt(p.ticks) + FILETIME_UNIX_EPOCH;
      if (ticks < 0n) return fail("FILETIME starts at 1601-01-01T00:00:00Z");
      if (ticks >= 1n << 63n) return fail("FILETIME values stop at 2^63 − 1 (year 30828)");
      return okBytes(writeInteger(ticks, 8, false, littleEndian));
    }
    case "dosdatetime": {
      const p = parseDate(text);
      if (typeof p === "string") return fail(p);
      if (p.zoned) return fail("DOS times have no time zone: type the local time as stored");
      if (p.ticks !== 0) return fail("DOS times count whole seconds (even ones)");
      if (p.year < 1980 || p.year > 2107) return fail("DOS dates run from 1980 to 2107");
      if (p.second % 2 !== 0) return fail("DOS times store seconds in steps of 2: type an even second");
      const v = encodeDosDateTime(p);
      return okBytes(writeInteger(BigInt(v), 4, false, littleEndian));
    }
    case "guid": {
      const g = parseGuid(text, littleEndian);
      return g ? okBytes(g) : fail("Type a GUID like {00112233-4455-6677-8899-AABBCCDDEEFF}");
    }
  }
  return fail(`${id} cannot be edited`);
}
