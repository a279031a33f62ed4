// `hexmap patch FILE --offset N (--hex "DE AD BE EF" | --text "...")`: overwrites bytes in place
// through the same path as the editor's Save (EditOverlay → journal → writable views → flush →
// sync → journal deleted), so a crash mid-patch is recoverable with `hexmap recover`.
//
// Exit codes: 0 written; 2 bad arguments (including an offset or length past the end: patch never
// changes a file's size); 1 I/O errors, a file changed while patching, or an interrupted earlier
// save that must be recovered first.

import type { Writable } from "node:stream";
import { Editor } from "../engine/editor";
import { isHexmapError } from "../engine/errors";
import { UsageError, parseArgs, parseCount } from "./args";

const USAGE = `Usage: hexmap patch FILE --offset N (--hex "DE AD BE EF" | --text "...")

Overwrites bytes of FILE at offset N (decimal or 0x hex), in place: the file keeps its size.
The write is journaled and flushed like the editor's Save; if it is interrupted, run
hexmap recover FILE.

  -o, --offset N    where to write (required)
  -x, --hex BYTES   bytes as hex pairs; spaces, ':' ',' '-' and 0x prefixes are allowed
  -t, --text TEXT   bytes of TEXT in UTF-8
  -h, --help        this text
`;

export interface PatchArgs {
  file: string;
  offset: number;
  bytes: Buffer;
}

/** Parses hex bytes: "DE AD BE EF", "deadbeef", "0xde,0xad", "de:ad:be:ef". */
export function parseHexBytes(text: string): Buffer {
  const tokens = text
    .trim()
    .split(/[\s,:;-]+/)
    .filter((t) => t.length > 0)
    .map((t) => (/^0[xX]/.test(t) ? t.slice(2) : t));
  if (tokens.length === 0) throw new UsageError("--hex needs at least one byte, e.g. --hex \"DE AD\"");
  const parts: Buffer[] = [];
  for (const t of tokens) {
    if (!/^[0-9a-fA-F]+$/.test(t)) throw new UsageError(`--hex: ${JSON.stringify(t)} is not hex`);
    if (t.length % 2 !== 0) throw new UsageError(`--hex: ${JSON.stringify(t)} has an odd number of digits (write bytes as pairs, e.g. 0F)`);
    parts.push(Buffer.from(t, "hex"));
  }
  return Buffer.concat(parts);
}

export function parsePatchArgs(argv: readonly string[]): PatchArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "offset", short: "o", value: true },
    { long: "hex", short: "x", value: true },
    { long: "text", short: "t", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError('missing FILE (usage: hexmap patch FILE --offset N (--hex "DE AD" | --text "..."))');
  if (positionals.length > 1) throw new UsageError(`expected one FILE, got ${positionals.length}: ${positionals.join(" ")}`);
  const offsetText = options.get("offset");
  if (typeof offsetText !== "string") throw new UsageError("missing --offset N");
  const offset = parseCount(offsetText, "--offset");
  const hex = options.get("hex");
  const text = options.get("text");
  if (hex !== undefined && text !== undefined) throw new UsageError("give either --hex or --text, not both");
  let bytes: Buffer;
  if (typeof hex === "string") bytes = parseHexBytes(hex);
  else if (typeof text === "string") {
    bytes = Buffer.from(text, "utf8");
    if (bytes.length === 0) throw new UsageError("--text is empty: nothing to write");
  } else throw new UsageError('missing the bytes to write: --hex "DE AD BE EF" or --text "..."');
  return { file: positionals[0]!, offset, bytes };
}

function hexPreview(b: Uint8Array, max = 32): string {
  const shown = Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > max ? `${shown} … (${b.length} bytes)` : shown;
}

export interface CliIo {
  out: Writable;
  err: Writable;
}

/** `hexmap patch`: resolves to the exit code; prints errors itself. */
export async function runPatch(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  let args: PatchArgs | "help";
  try {
    args = parsePatchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`hexmap patch: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args === "help") {
    io.out.write(USAGE);
    return 0;
  }
  const { file, offset, bytes } = args;
  let editor: Editor | undefined;
  try {
    editor = Editor.open(file);
    if (offset + bytes.length > editor.size) {
      io.err.write(
        `hexmap patch: ${bytes.length} bytes at offset ${offset} do not fit in ${file} (${editor.size} bytes); patch overwrites and never grows a file\n`,
      );
      return 2;
    }
    const before = await editor.document.read(offset, bytes.length);
    editor.edit(offset, bytes);
    const res = await editor.save();
    io.out.write(
      `patched ${file}: ${bytes.length} byte${bytes.length === 1 ? "" : "s"} at offset 0x${offset.toString(16)} (${offset})\n` +
        `  before: ${hexPreview(before)}\n` +
        `  after:  ${hexPreview(bytes)}\n` +
        `  saved through the journal (${res.journalBytes} bytes), flushed and synced\n`,
    );
    return 0;
  } catch (err) {
    const code = isHexmapError(err) ? err.code : undefined;
    io.err.write(`hexmap patch: ${(err as Error).message}\n`);
    return code === "EINVAL" || code === "ERANGE" ? 2 : 1;
  } finally {
    editor?.close();
  }
}

if (require.main === module) {
  void runPatch(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
