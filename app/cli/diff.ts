// `hexmap diff A B [--max N] [--from N] [--length N]`: the differing bytes of two files, printed
// byte-for-byte like GNU `cmp -l`: one line per differing byte with its 1-based decimal offset
// (right-aligned to the width of the largest offset that could be printed), then the byte of A
// and the byte of B in octal, each right-aligned to 3 columns ("%*d %3o %3o"). When one file ends
// first, "EOF on FILE after byte N" goes to stderr as cmp prints it. Exit status as cmp's: 0 when
// the compared bytes are the same, 1 when they differ, 2 on trouble.
//
// Offsets stay absolute with --from (cmp -i prints them relative to the skip).

import { Document } from "../engine/document";
import { findNextDifference, iterateDifferences } from "../engine/compare";
import { UsageError, parseArgs, parseCount } from "./args";
import { Output, OutputClosed, errorText, parseCommandLine, type CliStreams } from "./output";

const USAGE = `Usage: hexmap diff A B [--max N] [--from N] [--length N]

Prints the bytes that differ between files A and B like cmp -l: the 1-based offset in decimal,
then the byte of A and the byte of B in octal. Exit status: 0 same, 1 different, 2 trouble.
If one file is shorter, only the common length is compared and "EOF on FILE after byte N" is
printed to stderr (as cmp does).
  --max N      stop after N differing bytes (0: print nothing, only the exit status)
  --from N     start at byte offset N (0-based; printed offsets stay absolute)
  --length N   compare at most N bytes (like cmp -n)
Numbers are decimal or 0x hex.
`;

export function decimalWidth(n: number): number {
  let w = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    w++;
  }
  return w;
}

/** "%3o" of every byte value, as 3 ASCII bytes. */
const OCT3 = Buffer.alloc(256 * 3);
for (let b = 0; b < 256; b++) OCT3.write(b.toString(8).padStart(3, " "), b * 3, "latin1");

/**
 * cmp -l lines for differences at 0-based `offsets`: "%*d %3o %3o\n" with 1-based offsets. Every
 * line has the same length (width + 9), so the output is built straight into one Buffer.
 */
export function formatCmpLines(offsets: readonly number[], a: readonly number[], b: readonly number[], width: number): Buffer {
  const lineLen = width + 9;
  const out = Buffer.alloc(offsets.length * lineLen, 0x20);
  for (let k = 0; k < offsets.length; k++) {
    const base = k * lineLen;
    let n = offsets[k]! + 1;
    let p = base + width - 1;
    do {
      const q = Math.floor(n / 10);
      out[p--] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0 && p >= base);
    OCT3.copy(out, base + width + 1, a[k]! * 3, a[k]! * 3 + 3);
    OCT3.copy(out, base + width + 5, b[k]! * 3, b[k]! * 3 + 3);
    out[base + lineLen - 1] = 0x0a;
  }
  return out;
}

interface DiffArgs {
  a: string;
  b: string;
  max: number | undefined;
  from: number;
  length: number | undefined;
}

export function parseDiffArgs(argv: readonly string[]): DiffArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "max", short: "m", value: true },
    { long: "from", short: "i", value: true },
    { long: "length", short: "n", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length !== 2) throw new UsageError(`expected two files, got ${positionals.length} (usage: hexmap diff A B [--max N] [--from N])`);
  const text = (name: string) => {
    const v = options.get(name);
    return typeof v === "string" ? parseCount(v, `--${name}`) : undefined;
  };
  return { a: positionals[0]!, b: positionals[1]!, max: text("max"), from: text("from") ?? 0, length: text("length") };
}

/** `hexmap diff`: resolves to cmp's exit status (0 same, 1 different, 2 trouble). Never throws. */
export async function runDiff(argv: string[], streams: CliStreams = {}): Promise<number> {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  const parsed = parseCommandLine("diff", () => parseDiffArgs(argv), USAGE, stdout, stderr);
  if ("exit" in parsed) return parsed.exit;
  const { args } = parsed;
  const docs: Document[] = [];
  const out = new Output(stdout);
  let differs = false;
  try {
    const a = Document.openFile(args.a);
    docs.push(a);
    const b = Document.openFile(args.b);
    docs.push(b);
    const common = Math.min(a.size, b.size);
    const from = Math.min(args.from, common);
    const length = args.length === undefined ? common - from : Math.min(args.length, common - from);
    // The range asked for runs past the shorter file's end: cmp's EOF case.
    const wantedEnd = args.length === undefined ? Infinity : args.from + args.length;
    const eof = a.size !== b.size && wantedEnd > common;
    const width = decimalWidth(from + length);

    if (args.max === 0) {
      differs = (await findNextDifference(a, b, { from, length })) !== null;
    } else {
      const opts = { from, length, ...(args.max !== undefined ? { max: args.max } : {}) };
      let printed = 0;
      for await (const batch of iterateDifferences(a, b, opts)) {
        differs = true;
        printed += batch.offsets.length;
        await out.write(formatCmpLines(batch.offsets, batch.a, batch.b, width));
      }
      await out.flush();
      // --max cut the listing short: cmp -l | head would not reach the EOF line either.
      if (args.max !== undefined && printed >= args.max) return 1;
    }
    if (eof) {
      differs = true;
      if (args.max !== 0) {
        const shorter = a.size < b.size ? args.a : args.b;
        stderr.write(common === 0 ? `hexmap diff: EOF on ${shorter} which is empty\n` : `hexmap diff: EOF on ${shorter} after byte ${common}\n`);
      }
    }
    return differs ? 1 : 0;
  } catch (err) {
    if (err instanceof OutputClosed) return differs ? 1 : 0;
    stderr.write(`hexmap diff: ${errorText(err)}\n`);
    return 2;
  } finally {
    out.detach();
    for (const d of docs) d.close();
  }
}
