// `hexmap dump FILE [-s N] [-l N]`: a hex dump byte-for-byte identical to `xxd -s N -l N FILE`
// (xxd's default layout: offset of at least 8 hex digits, 16 bytes a row in 2-byte groups, and
// an ASCII column with '.' for anything outside 0x20..0x7e). Reads through the engine in 1 MiB
// chunks, one chunk ahead, and writes with backpressure, so dumping gigabytes streams.

import type { Writable } from "node:stream";
import { Document } from "../engine/document";
import { HexmapError } from "../engine/errors";
import { UsageError, parseArgs, parseCount, parseNumber } from "./args";

export const DUMP_CHUNK = 1024 * 1024; // a multiple of 16, so rows line up across chunks
const ROW = 16;
/** ": " + 8 groups of "xxxx " + " " — the part of a row between offset and ASCII column. */
const HEX_AREA = 2 + 8 * 5 + 1;

const HEX = Buffer.from("0123456789abcdef", "latin1");
const PAIRS = (() => {
  const t = new Uint8Array(512);
  for (let b = 0; b < 256; b++) {
    t[b * 2] = HEX[b >> 4]!;
    t[b * 2 + 1] = HEX[b & 15]!;
  }
  return t;
})();

const USAGE = `Usage: hexmap dump FILE [-s|--offset N] [-l|--length N]

Prints FILE as xxd does (same output as xxd -s N -l N FILE).
  -s, --offset N   start at byte N; -N starts N bytes before the end
  -l, --length N   stop after N bytes
Numbers are decimal or 0x hex.
`;

function offsetDigits(offset: number): number {
  let digits = 8;
  while (digits < 14 && offset >= 16 ** digits) digits++;
  return digits;
}

/** Formats `data`, whose first byte is at file offset `offset`, as xxd's rows. */
export function formatXxd(data: Uint8Array, offset: number): Buffer {
  const rows = Math.ceil(data.length / ROW);
  if (rows === 0) return Buffer.alloc(0);
  const maxDigits = offsetDigits(offset + (rows - 1) * ROW);
  const out = Buffer.allocUnsafe(rows * (maxDigits + HEX_AREA + ROW + 1));
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const rowOffset = offset + r * ROW;
    const digits = offsetDigits(rowOffset);
    // Offset column, written from its last digit (offsets go past 2^32: no bit operators).
    let v = rowOffset;
    for (let d = digits - 1; d >= 0; d--) {
      out[o + d] = HEX[v % 16]!;
      v = Math.floor(v / 16);
    }
    o += digits;
    out[o++] = 0x3a; // ':'
    out[o++] = 0x20;
    const base = r * ROW;
    const n = Math.min(ROW, data.length - base);
    for (let i = 0; i < ROW; i++) {
      if (i < n) {
        const b = data[base + i]!;
        out[o++] = PAIRS[b * 2]!;
        out[o++] = PAIRS[b * 2 + 1]!;
      } else {
        out[o++] = 0x20;
        out[o++] = 0x20;
      }
      if (i & 1) out[o++] = 0x20;
    }
    out[o++] = 0x20;
    for (let i = 0; i < n; i++) {
      const b = data[base + i]!;
      out[o++] = b >= 0x20 && b <= 0x7e ? b : 0x2e;
    }
    out[o++] = 0x0a;
  }
  return out.subarray(0, o);
}

export interface DumpRange {
  file: string;
  /** Absolute offset, or bytes before the end when fromEnd. */
  offset: number;
  fromEnd: boolean;
  length: number | undefined;
}

export function parseDumpArgs(argv: readonly string[]): DumpRange | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "offset", short: "s", value: true },
    { long: "length", short: "l", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError("missing FILE (usage: hexmap dump FILE [-s N] [-l N])");
  if (positionals.length > 1) throw new UsageError(`expected one FILE, got ${positionals.length}: ${positionals.join(" ")}`);
  const offsetText = options.get("offset");
  const lengthText = options.get("length");
  const offset = typeof offsetText === "string" ? parseNumber(offsetText, "--offset") : { value: 0, negative: false };
  const length = typeof lengthText === "string" ? parseCount(lengthText, "--length") : undefined;
  return { file: positionals[0]!, offset: offset.value, fromEnd: offset.negative, length };
}

/** Thrown when the reader of our output went away (EPIPE): stop quietly. */
class OutputClosed extends Error {}

/** Writes to a stream, honouring backpressure and turning EPIPE into OutputClosed. */
class Sink {
  private failure: Error | undefined;
  private readonly onError = (err: Error) => {
    this.failure ??= err;
  };

  constructor(private readonly out: Writable) {
    out.on("error", this.onError);
  }

  async write(chunk: Buffer): Promise<void> {
    this.check();
    if (this.out.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off("drain", done);
        this.out.off("error", done);
        this.out.off("close", done);
        resolve();
      };
      this.out.on("drain", done);
      this.out.on("error", done);
      this.out.on("close", done);
    });
    this.check();
  }

  /** Waits until everything written so far has been handed to the OS. */
  async flush(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => this.out.write(Buffer.alloc(0), () => resolve()));
    this.check();
  }

  detach(): void {
    // Keep a no-op listener: a late EPIPE must not become an uncaught exception.
    this.out.off("error", this.onError);
    this.out.on("error", () => {});
  }

  private check(): void {
    if (!this.failure) return;
    const code = (this.failure as { code?: string }).code;
    if (code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "ECONNRESET") throw new OutputClosed();
    throw new HexmapError("EIO", `Cannot write the output: ${this.failure.message}`, { cause: this.failure });
  }
}

/** `hexmap dump`: resolves to the exit code (usage errors are thrown as UsageError). */
export async function runDump(argv: string[], out: Writable = process.stdout): Promise<number> {
  const parsed = parseDumpArgs(argv);
  if (parsed === "help") {
    out.write(USAGE);
    return 0;
  }
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
    let next = readAt(pos);
    while (next) {
      const data = await next;
      const at = pos;
      pos += data.length;
      next = data.length > 0 ? readAt(pos) : undefined;
      await sink.write(formatXxd(data, at));
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
