// `hexmap dump FILE [-s N] [-l N]`: a hex dump byte-for-byte identical to `xxd -s N -l N FILE`
// (xxd's default layout: offset of at least 8 hex digits, 16 bytes a row in 2-byte groups, and
// an ASCII column with '.' for anything outside 0x20..0x7e). Reads through the engine in 1 MiB
// chunks, one chunk ahead, and writes with backpressure, so dumping gigabytes streams.

import type { Writable } from "node:stream";
import { Document, loadAddon } from "../engine/document";
import { toHexmapError } from "../engine/errors";
import { UsageError, parseArgs, parseCount, parseNumber } from "./args";
import { GuardedOutput, OutputClosed, waitForDrain } from "./output";

export const DUMP_CHUNK = 1024 * 1024; // a multiple of 16, so rows line up across chunks
/** Input bytes formatted per write (a multiple of 16). */
const OUT_SLICE = 64 * 1024;
/** Output buffers in flight at once. */
const RING = 4;
const ROW = 16;
/** ": " + 8 groups of "xxxx " + " " — the part of a row between offset and ASCII column. */
const HEX_AREA = 2 + 8 * 5 + 1;

const HEX = Buffer.from("0123456789abcdef", "latin1");
/** A byte's two hex digits as one little-endian 16-bit value (low byte first = first digit). */
const PAIR16 = new Uint16Array(256);
/** xxd's ASCII column: printable ASCII as is, anything else '.'. */
const ASCII = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  PAIR16[b] = HEX[b >> 4]! | (HEX[b & 15]! << 8);
  ASCII[b] = b >= 0x20 && b <= 0x7e ? b : 0x2e;
}
const TWO32 = 2 ** 32;

const USAGE = `Usage: hexmap dump FILE [-s|--offset N] [-l|--length N] [--holes]

Prints FILE as xxd does (same output as xxd -s N -l N FILE).
  -s, --offset N   start at byte N; -N starts N bytes before the end
  -l, --length N   stop after N bytes
  --holes          instead of bytes, list the ranges that hold data (not holes of a sparse
                   file), one "START END" a line (decimal, END exclusive), as SEEK_DATA and
                   SEEK_HOLE report them; a file system that cannot say lists all of it
Numbers are decimal or 0x hex.
`;

function offsetDigits(offset: number): number {
  let digits = 8;
  while (digits < 14 && offset >= 16 ** digits) digits++;
  return digits;
}

/** Bytes formatXxdInto needs at most for `length` bytes at `offset`. */
export function xxdSize(length: number, offset: number): number {
  const rows = Math.ceil(length / ROW);
  return rows === 0 ? 0 : rows * (offsetDigits(offset + (rows - 1) * ROW) + HEX_AREA + ROW + 1);
}

/** Formats `data`, whose first byte is at file offset `offset`, as xxd's rows. */
export function formatXxd(data: Uint8Array, offset: number): Buffer {
  const out = Buffer.allocUnsafe(xxdSize(data.length, offset));
  return out.subarray(0, formatXxdInto(data, offset, out));
}

/**
 * Writes xxd's rows for `data` (first byte at file offset `offset`) into `out`, which must hold
 * xxdSize(data.length, offset) bytes; returns the number of bytes written. Hot loop: a full row
 * is a few 32-bit stores through a DataView, which also keeps a cold (not yet optimized) run
 * fast — a one-shot `hexmap dump` never gets far past the interpreter.
 */
export function formatXxdInto(data: Uint8Array, offset: number, out: Uint8Array): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const length = data.length;
  let digits = offsetDigits(offset);
  let widenAt = 16 ** digits;
  let o = 0;
  for (let p = 0; p < length; p += ROW) {
    const rowOffset = offset + p;
    if (rowOffset >= widenAt) {
      digits = offsetDigits(rowOffset);
      widenAt = 16 ** digits;
    }
    // Offset column: digits above 32 bits (past 4 GiB) by division, the low 32 bits as 4 pairs.
    if (digits > 8) {
      let hi = Math.floor(rowOffset / TWO32);
      for (let d = digits - 9; d >= 0; d--) {
        out[o + d] = HEX[hi % 16]!;
        hi = Math.floor(hi / 16);
      }
      o += digits - 8;
    }
    const lo = rowOffset % TWO32;
    dv.setUint32(o, PAIR16[lo >>> 24]! | (PAIR16[(lo >>> 16) & 255]! << 16), true);
    dv.setUint32(o + 4, PAIR16[(lo >>> 8) & 255]! | (PAIR16[lo & 255]! << 16), true);
    dv.setUint16(o + 8, 0x203a, true); // ": "
    o += 10;
    const n = length - p;
    if (n >= ROW) {
      for (let i = p; i < p + ROW; i += 2) {
        dv.setUint32(o, PAIR16[data[i]!]! | (PAIR16[data[i + 1]!]! << 16), true);
        out[o + 4] = 0x20;
        o += 5;
      }
      out[o++] = 0x20;
      for (let i = p; i < p + ROW; i += 4) {
        dv.setUint32(
          o,
          ASCII[data[i]!]! | (ASCII[data[i + 1]!]! << 8) | (ASCII[data[i + 2]!]! << 16) | (ASCII[data[i + 3]!]! << 24),
          true,
        );
        o += 4;
      }
    } else {
      // Last, partial row: pad the hex area so the ASCII column lines up.
      for (let i = 0; i < ROW; i++) {
        if (i < n) {
          dv.setUint16(o, PAIR16[data[p + i]!]!, true);
        } else {
          dv.setUint16(o, 0x2020, true);
        }
        o += 2;
        if (i & 1) out[o++] = 0x20;
      }
      out[o++] = 0x20;
      for (let i = 0; i < n; i++) out[o++] = ASCII[data[p + i]!]!;
    }
    out[o++] = 0x0a;
  }
  return o;
}

export interface DumpRange {
  file: string;
  /** Absolute offset, or bytes before the end when fromEnd. */
  offset: number;
  fromEnd: boolean;
  length: number | undefined;
  /** --holes: list the data ranges instead of the bytes. */
  holes?: boolean;
}

export function parseDumpArgs(argv: readonly string[]): DumpRange | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "offset", short: "s", value: true },
    { long: "length", short: "l", value: true },
    { long: "help", short: "h", value: false },
    { long: "holes", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError("missing FILE (usage: hexmap dump FILE [-s N] [-l N])");
  if (positionals.length > 1) throw new UsageError(`expected one FILE, got ${positionals.length}: ${positionals.join(" ")}`);
  const offsetText = options.get("offset");
  const lengthText = options.get("length");
  const offset = typeof offsetText === "string" ? parseNumber(offsetText, "--offset") : { value: 0, negative: false };
  const length = typeof lengthText === "string" ? parseCount(lengthText, "--length") : undefined;
  return { file: positionals[0]!, offset: offset.value, fromEnd: offset.negative, length, holes: options.has("holes") };
}

/** Writes to a stream, honouring backpressure and turning EPIPE into OutputClosed. */
class Sink extends GuardedOutput {
  /** Settles when the stream fails or closes: nothing waits on a dead stream. */
  private readonly gone: Promise<void>;

  constructor(out: Writable) {
    super(out);
    this.gone = new Promise<void>((resolve) => {
      out.once("error", () => resolve());
      out.once("close", () => resolve());
    });
  }

  /**
   * Writes `chunk`; resolves once the stream can take more. The returned `done` settles when the
   * stream is finished with `chunk` (so its memory may be reused).
   */
  async write(chunk: Buffer): Promise<{ done: Promise<void> }> {
    this.check();
    let finished!: () => void;
    const done = Promise.race([new Promise<void>((resolve) => (finished = resolve)), this.gone]);
    if (this.out.write(chunk, () => finished())) return { done };
    await waitForDrain(this.out);
    this.check();
    return { done };
  }

  /** Waits until everything written so far has been handed to the OS. */
  async flush(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => this.out.write(Buffer.alloc(0), () => resolve()));
    this.check();
  }
}

/** `hexmap dump`: resolves to the exit code (usage errors are thrown as UsageError). */
export async function runDump(argv: string[], out: Writable = process.stdout): Promise<number> {
  const parsed = parseDumpArgs(argv);
  if (parsed === "help") {
    out.write(USAGE);
    return 0;
  }
  if (parsed.holes) return runDataRanges(parsed, out);
  const doc = Document.openFile(parsed.file);
  const sink = new Sink(out);
  try {
    const size = doc.size;
    if (parsed.fromEnd && parsed.offset > size) {
      throw new UsageError(`--offset -${parsed.offset} is before the start of ${parsed.file} (${size} bytes)`);
    }
    const start = parsed.fromEnd ? size - parsed.offset : parsed.offset;
    const end = parsed.length === undefined ? size : Math.min(size, start + parsed.length);
    let pos = start;
    const readAt = (at: number): Promise<Buffer> | undefined => {
      if (at >= end) return undefined;
      const p = doc.read(at, Math.min(DUMP_CHUNK, end - at));
      p.catch(() => {}); // awaited below; this only keeps an abandoned read from being "unhandled"
      return p;
    };
    // Output goes out in slices through a small ring of reused buffers: fresh multi-megabyte
    // buffers for every chunk would cost a page fault per 4 KiB of output.
    const ring: Array<{ buf: Buffer; done: Promise<void> }> = [];
    const sliceBytes = Math.min(OUT_SLICE, Math.max(ROW, end - start));
    const bufSize = xxdSize(sliceBytes, Math.max(start, end - sliceBytes));
    let turn = 0;
    let next = readAt(pos);
    while (next) {
      const data = await next;
      const at = pos;
      pos += data.length;
      next = data.length > 0 ? readAt(pos) : undefined;
      for (let p = 0; p < data.length; p += OUT_SLICE) {
        const slot = ring[turn] ?? (ring[turn] = { buf: Buffer.allocUnsafe(bufSize), done: Promise.resolve() });
        turn = (turn + 1) % RING;
        await slot.done;
        const n = formatXxdInto(data.subarray(p, p + OUT_SLICE), at + p, slot.buf);
        slot.done = (await sink.write(slot.buf.subarray(0, n))).done;
      }
    }
    await sink.flush();
    return 0;
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    throw err;
  } finally {
    sink.detach();
    doc.close();
  }
}

/** `hexmap dump FILE --holes`: the data ranges of [start, end), streamed. */
async function runDataRanges(parsed: DumpRange, out: Writable): Promise<number> {
  const native = loadAddon();
  let src;
  try {
    src = native.openFile(parsed.file);
  } catch (err) {
    throw toHexmapError(err, { path: parsed.file, op: "open" });
  }
  const sink = new Sink(out);
  try {
    const size = src.size();
    if (parsed.fromEnd && parsed.offset > size) {
      throw new UsageError(`--offset -${parsed.offset} is before the start of ${parsed.file} (${size} bytes)`);
    }
    const start = parsed.fromEnd ? size - parsed.offset : Math.min(parsed.offset, size);
    const end = parsed.length === undefined ? size : Math.min(size, start + parsed.length);
    for (let at = start; at < end; ) {
      const r = src.dataRanges ? src.dataRanges(at, end, 4096) : Float64Array.of(at, end);
      if (r.length === 0) break;
      let text = "";
      for (let i = 0; i < r.length; i += 2) text += `${r[i]} ${r[i + 1]}\n`;
      await sink.write(Buffer.from(text, "latin1"));
      at = r[r.length - 1]!;
    }
    await sink.flush();
    return 0;
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    throw err;
  } finally {
    sink.detach();
    src.close();
  }
}
