// `hexmap strings FILE [-n MIN] [--encoding ascii|utf16le|all]`: printable strings with their
// decimal offsets, the same lines as `strings -a -t d -n MIN FILE` (ascii, the default) or
// `strings -a -t d -n MIN -el FILE` (utf16le); `all` gives both, merged in offset order. The file is
// read through mapped windows in 4 MiB chunks (app/engine/strings.ts), so any size streams.
// Exit 0 (also when there are none), 1 I/O error, 2 bad arguments.

import type { Writable } from "node:stream";
import { fileRegexSource } from "../engine/regex";
import { STRINGS_ENCODINGS, findStrings, type StringsEncoding } from "../engine/strings";
import { UsageError, parseArgs, parseCount } from "./args";
import { Output, OutputClosed } from "./output";

const USAGE = `Usage: hexmap strings FILE [-n MIN] [--encoding ascii|utf16le|all]

Prints each run of at least MIN (default 4) printable characters (TAB, 0x20-0x7E) with its
decimal offset, as strings -a -t d -n MIN does.
  -n, --min-length MIN   shortest string printed (default 4)
  -e, --encoding E       ascii (default: bytes), utf16le (like strings -el), all (both, by offset)
`;

export async function runStrings(argv: string[], out: Writable = process.stdout): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { long: "min-length", short: "n", value: true },
    { long: "encoding", short: "e", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) {
    out.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing FILE (see hexmap strings --help)" : `expected one FILE, got ${positionals.length}`);
  const minText = options.get("min-length");
  const minLength = typeof minText === "string" ? parseCount(minText, "-n") : 4;
  if (minLength < 1 || minLength > 1 << 20) throw new UsageError(`-n must be from 1 to ${1 << 20}, got ${minLength}`);
  const enc = options.get("encoding") ?? "ascii";
  if (typeof enc !== "string" || !(STRINGS_ENCODINGS as readonly string[]).includes(enc)) {
    throw new UsageError(`--encoding must be one of ${STRINGS_ENCODINGS.join(", ")}, got ${JSON.stringify(enc)}`);
  }
  const src = fileRegexSource({ path: positionals[0]! }, { sync: true });
  const output = new Output(out);
  try {
    if (enc === "ascii") {
      await asciiLines(src, minLength, output);
      await output.flush();
      return 0;
    }
    const lines: string[] = [];
    let bytes = 0;
    for await (const batch of findStrings(src, { minLength, encoding: enc as StringsEncoding })) {
      for (const s of batch) {
        const head = s.continued ? "" : `${String(s.offset).padStart(7)} `;
        const line = head + s.text + (s.more ? "" : "\n");
        lines.push(line);
        bytes += line.length;
        if (bytes >= 1 << 20) {
          await output.write(Buffer.from(lines.join(""), "latin1"));
          lines.length = 0;
          bytes = 0;
        }
      }
    }
    if (lines.length) await output.write(Buffer.from(lines.join(""), "latin1"));
    await output.flush();
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    throw err;
  } finally {
    output.detach();
    src.close();
  }
  return 0;
}

/** TAB and 0x20..0x7E: what GNU strings prints in its default (7-bit) mode. */
const PRINTABLE = new Uint8Array(256);
PRINTABLE[9] = 1;
for (let b = 0x20; b <= 0x7e; b++) PRINTABLE[b] = 1;
const READ = 4 * 1024 * 1024;
const OUT = 1024 * 1024;
/** Bytes of a run kept until it is known to be long enough (MIN can be up to 1 MiB). */
const HELD = (1 << 20) + 16;

/**
 * The ascii lines straight from the mapped bytes into output buffers, without a JavaScript string
 * per line (21 million of them in 2 GiB of binaries): the same bytes as strings -a -t d -n MIN.
 */
async function asciiLines(src: { size: number; read(offset: number, length: number): Buffer | Promise<Buffer> }, min: number, output: Output): Promise<void> {
  let out = Buffer.allocUnsafe(OUT + HELD + 32);
  let o = 0;
  const held = Buffer.allocUnsafe(HELD);
  let heldLen = 0;
  let runStart = -1; // offset of the run being read, -1 outside one
  let printed = false; // its offset and first bytes are out already (a run longer than HELD)
  const flushOut = async (): Promise<void> => {
    if (o === 0) return;
    const chunk = out.subarray(0, o);
    out = Buffer.allocUnsafe(OUT + HELD + 32); // the stream may still hold the last one
    o = 0;
    await output.write(chunk);
  };
  const digits = new Uint8Array(20);
  const header = (offset: number): void => {
    // "%7d ": the decimal digits, right-aligned in 7 columns (no string made per line).
    let d = 0;
    let v = offset;
    do {
      const q = Math.floor(v / 10);
      digits[d++] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0);
    for (let k = d; k < 7; k++) out[o++] = 0x20;
    while (d > 0) out[o++] = digits[--d]!;
    out[o++] = 0x20;
  };
  /** Copies buf[from, to) to the output: a loop for short runs (Buffer.copy costs a native call each). */
  const emit = (buf: Uint8Array, from: number, to: number): void => {
    if (to - from < 96) {
      for (let j = from; j < to; j++) out[o++] = buf[j]!;
    } else {
      out.set(buf.subarray(from, to), o);
      o += to - from;
    }
  };
  const size = src.size;
  for (let pos = 0; pos < size; pos += READ) {
    const r = src.read(pos, Math.min(READ, size - pos));
    const buf = r instanceof Promise ? await r : r;
    const n = buf.length;
    let i = 0;
    while (i < n) {
      if (runStart < 0) {
        while (i < n && PRINTABLE[buf[i]!] === 0) i++;
        if (i >= n) break;
        runStart = pos + i;
        heldLen = 0;
        printed = false;
      }
      const s0 = i;
      while (i < n && PRINTABLE[buf[i]!] === 1) i++;
      const len = i - s0;
      if (i < n && heldLen === 0 && !printed) {
        // The usual case: the whole run lies in this chunk.
        if (len >= min) {
          header(runStart);
          if (len <= OUT) emit(buf, s0, i);
          else
            for (let at = s0; at < i; ) {
              const k = Math.min(i - at, OUT);
              emit(buf, at, at + k);
              at += k;
              if (o >= OUT) await flushOut();
            }
          out[o++] = 0x0a;
          if (o >= OUT) await flushOut();
        }
        runStart = -1;
        continue;
      }
      if (printed) {
        // A long run already started on the output: its bytes go straight there.
        for (let at = s0; at < i; ) {
          const k = Math.min(i - at, OUT);
          buf.copy(out, o, at, at + k);
          o += k;
          at += k;
          if (o >= OUT) await flushOut();
        }
      } else if (heldLen + len < HELD) {
        buf.copy(held, heldLen, s0, i);
        heldLen += len;
      } else {
        // Longer than what is held: it is long enough (HELD > MIN); start it on the output.
        header(runStart);
        held.copy(out, o, 0, heldLen);
        o += heldLen;
        printed = true;
        heldLen = 0;
        if (o >= OUT) await flushOut();
        for (let at = s0; at < i; ) {
          const k = Math.min(i - at, OUT);
          buf.copy(out, o, at, at + k);
          o += k;
          at += k;
          if (o >= OUT) await flushOut();
        }
      }
      if (i < n) {
        // The run ends here.
        if (printed) out[o++] = 0x0a;
        else if (heldLen >= min) {
          header(runStart);
          held.copy(out, o, 0, heldLen);
          o += heldLen;
          out[o++] = 0x0a;
        }
        runStart = -1;
        if (o >= OUT) await flushOut();
      }
    }
  }
  if (runStart >= 0) {
    if (printed) out[o++] = 0x0a;
    else if (heldLen >= min) {
      header(runStart);
      held.copy(out, o, 0, heldLen);
      o += heldLen;
      out[o++] = 0x0a;
    }
  }
  await flushOut();
}
