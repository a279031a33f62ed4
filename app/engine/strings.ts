// Printable strings in a document of any size, as GNU `strings -a` finds them (binutils 2.40,
// strings.c): a character is printable when it is TAB or 0x20..0x7E — not \n, \r, \f, \v, and not
// bytes above 0x7E in the default encoding. A string is a run of at least `minLength` of them.
//
// UTF-16LE (`strings -el`): a character is two bytes, low byte printable (as above) and high byte
// 0. The scan is binutils' own: try `minLength` characters from a position, two bytes at a time;
// at a character that is not printable, drop the attempt (or end the string) and try again from
// the second byte of that character. A string cut by the end of the data still counts.
//
// Streamed: the document is read in 4 MiB chunks; a run longer than CHUNK_TEXT is handed out in
// parts (same offset, `more` on all but the last), so a gigabyte of printable bytes stays in
// bounded memory. "all" merges both encodings in offset order.

import { HexmapError } from "./errors";

export type StringsEncoding = "ascii" | "utf16le" | "all";
export const STRINGS_ENCODINGS: readonly StringsEncoding[] = ["ascii", "utf16le", "all"];

export interface FoundString {
  /** Byte offset of the first character. */
  offset: number;
  encoding: "ascii" | "utf16le";
  /** The characters (of this part). */
  text: string;
  /** More parts of the same string follow (a string longer than CHUNK_TEXT). */
  more: boolean;
  /** Not the first part. */
  continued: boolean;
}

export interface StringsSource {
  readonly size: number;
  read(offset: number, length: number): Buffer | Promise<Buffer>;
}

export interface StringsOptions {
  minLength?: number;
  encoding?: StringsEncoding;
  from?: number;
  to?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Tests: the read size. */
  chunkSize?: number;
}

const CHUNK = 4 * 1024 * 1024;
const CHUNK_TEXT = 1024 * 1024;
export const MAX_MIN_LENGTH = 1 << 20;

const PRINTABLE = new Uint8Array(256);
PRINTABLE[9] = 1;
for (let c = 0x20; c <= 0x7e; c++) PRINTABLE[c] = 1;

/** One encoding's scanner, fed consecutive chunks. */
interface Scanner {
  /** Scans buf (document offset base) while its position is below `limit` (may stop earlier for utf16). Returns the next position it needs. */
  feed(buf: Buffer, base: number, end: number, eof: boolean): number;
  /** Start of the string being collected, or Infinity. */
  pendingStart(): number;
  out: FoundString[];
}

class AsciiScanner implements Scanner {
  out: FoundString[] = [];
  private runStart = -1;
  private parts: string[] = [];
  private partChars = 0;
  private emitted = false; // a part of the current run was handed out already
  constructor(private readonly min: number) {}

  pendingStart(): number {
    return this.runStart >= 0 ? this.runStart : Infinity;
  }

  private keep(text: string): void {
    this.parts.push(text);
    this.partChars += text.length;
  }

  private flushPart(more: boolean): void {
    const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join("");
    this.out.push({ offset: this.runStart, encoding: "ascii", text, more, continued: this.emitted });
    this.emitted = true;
    this.parts = [];
    this.partChars = 0;
  }

  private close(endAt: number): void {
    const length = endAt - this.runStart;
    if (length >= this.min) this.flushPart(false);
    this.runStart = -1;
    this.parts = [];
    this.partChars = 0;
    this.emitted = false;
  }

  feed(buf: Buffer, base: number, end: number, eof: boolean): number {
    const n = end - base;
    let i = 0;
    while (i < n) {
      if (this.runStart < 0) {
        // Skip non-printable bytes.
        while (i < n && PRINTABLE[buf[i]!] === 0) i++;
        if (i >= n) break;
        this.runStart = base + i;
      }
      const s = i;
      while (i < n && PRINTABLE[buf[i]!] === 1) i++;
      const runSoFar = base + i - this.runStart;
      if (runSoFar >= this.min || i >= n) this.keep(buf.toString("latin1", s, i));
      if (i < n) this.close(base + i);
      else if (runSoFar >= this.min && this.partChars >= CHUNK_TEXT) this.flushPart(true);
    }
    if (eof && this.runStart >= 0) this.close(end);
    return end;
  }
}

class Utf16Scanner implements Scanner {
  out: FoundString[] = [];
  private runStart = -1;
  private chars = 0;
  private parts: string[] = [];
  private partChars = 0;
  private emitted = false;
  private pos = 0;
  private readonly tmp = Buffer.alloc(64 * 1024);
  private tmpLen = 0;
  constructor(private readonly min: number, start: number) {
    this.pos = start;
  }

  pendingStart(): number {
    return this.runStart >= 0 ? this.runStart : Infinity;
  }

  private spill(): void {
    if (this.tmpLen > 0) {
      const t = this.tmp.toString("latin1", 0, this.tmpLen);
      this.parts.push(t);
      this.partChars += t.length;
      this.tmpLen = 0;
    }
  }

  private flushPart(more: boolean): void {
    this.spill();
    this.out.push({ offset: this.runStart, encoding: "utf16le", text: this.parts.join(""), more, continued: this.emitted });
    this.emitted = true;
    this.parts = [];
    this.partChars = 0;
  }

  private end(): void {
    if (this.chars >= this.min) this.flushPart(false);
    this.runStart = -1;
    this.chars = 0;
    this.parts = [];
    this.partChars = 0;
    this.tmpLen = 0;
    this.emitted = false;
  }

  feed(buf: Buffer, base: number, end: number, eof: boolean): number {
    let p = this.pos;
    const min = this.min;
    while (p + 1 < end) {
      const lo = buf[p - base]!;
      const hi = buf[p + 1 - base]!;
      if (hi === 0 && PRINTABLE[lo] === 1) {
        if (this.runStart < 0) this.runStart = p;
        this.chars++;
        if (this.tmpLen === this.tmp.length) this.spill();
        this.tmp[this.tmpLen++] = lo;
        if (this.chars >= min && this.partChars + this.tmpLen >= CHUNK_TEXT) this.flushPart(true);
        p += 2;
      } else {
        if (this.runStart >= 0) this.end();
        p += 1; // binutils ungets all but the first byte of the character
      }
    }
    this.pos = p;
    if (eof && this.runStart >= 0) this.end();
    return p;
  }
}

function checkMin(min: unknown): number {
  if (typeof min !== "number" || !Number.isSafeInteger(min) || min < 1 || min > MAX_MIN_LENGTH) {
    throw new HexmapError("EINVAL", `The minimum string length must be a whole number from 1 to ${MAX_MIN_LENGTH}, got ${String(min)}`);
  }
  return min;
}

/**
 * The strings of [from, to) in offset order, in batches. Stops quietly when the signal aborts
 * (check signal.aborted).
 */
export async function* findStrings(src: StringsSource, options: StringsOptions = {}): AsyncGenerator<FoundString[]> {
  const min = checkMin(options.minLength ?? 4);
  const encoding = options.encoding ?? "ascii";
  if (!STRINGS_ENCODINGS.includes(encoding)) throw new HexmapError("EINVAL", `encoding must be one of ${STRINGS_ENCODINGS.join(", ")}, got ${JSON.stringify(encoding)}`);
  const from = options.from ?? 0;
  const to = options.to ?? src.size;
  if (!(from >= 0 && from <= to && to <= src.size)) throw new HexmapError("ERANGE", `The range [${from}, ${to}) is outside the document (size ${src.size})`);
  const chunk = options.chunkSize ?? CHUNK;
  const scanners: Scanner[] = [];
  if (encoding !== "utf16le") scanners.push(new AsciiScanner(min));
  if (encoding !== "ascii") scanners.push(new Utf16Scanner(min, from));
  const queue: FoundString[] = [];
  for (let a = from; a < to; ) {
    if (options.signal?.aborted) return;
    // One byte more than the chunk, so a UTF-16 character at its end is whole.
    const end = Math.min(to, a + chunk);
    const readEnd = Math.min(to, end + 1);
    const r = src.read(a, readEnd - a);
    const buf = r instanceof Promise ? await r : r;
    const eof = end >= to;
    for (const s of scanners) {
      if (s instanceof Utf16Scanner) s.feed(buf, a, eof ? readEnd : readEnd, eof);
      else s.feed(buf, a, end, eof);
    }
    a = end;
    let batch: FoundString[];
    if (scanners.length === 1) {
      batch = scanners[0]!.out;
      scanners[0]!.out = [];
    } else {
      for (const s of scanners) {
        queue.push(...s.out);
        s.out = [];
      }
      queue.sort((x, y) => x.offset - y.offset || (x.encoding === y.encoding ? 0 : x.encoding === "ascii" ? -1 : 1));
      // Hand out what no pending string can precede (a pending run's own parts may go).
      const limit = eof ? Infinity : Math.min(...scanners.map((s) => s.pendingStart()));
      let k = 0;
      while (k < queue.length && (queue[k]!.offset < limit || (queue[k]!.offset === limit && (queue[k]!.more || queue[k]!.continued)))) k++;
      batch = queue.splice(0, k);
    }
    options.onProgress?.(a - from, to - from);
    if (batch.length > 0) yield batch;
  }
}
