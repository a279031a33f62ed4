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
