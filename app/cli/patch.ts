// `hexmap patch FILE OP… [--strategy auto|in-place|rewrite] [--ops-file F]`: applies edits of any
// length left to right — each offset refers to the document as the previous operations left it —
// on the editor's document model, then saves once through the same planner as the editor's Save
// (journaled in place when the size stays; otherwise rewrite + atomic replace, or in place with a
// v2 journal), so a crash mid-patch is recoverable with `hexmap recover`.
//
// Exit codes: 0 written; 2 bad arguments or a bad operation (past the end, odd hex, …: the file is
// untouched, the message names the operation); 1 I/O errors, a file changed while patching, or an
// interrupted earlier save that must be recovered first.

import * as fs from "node:fs";
import type { Writable } from "node:stream";
import { Editor, type SaveStrategy } from "../engine/editor";
import { isHexmapError } from "../engine/errors";
import { UsageError, parseArgs, parseCount } from "./args";

const USAGE = `Usage: hexmap patch FILE OP... [--strategy auto|in-place|rewrite] [--ops-file F]

Applies the operations left to right (each offset refers to the file as the previous operations
left it), then saves once, crash-safe: if the save is interrupted, run hexmap recover FILE.

  --overwrite OFFSET:HEX   overwrite bytes at OFFSET (they must exist)
  --insert OFFSET:HEX      insert bytes before OFFSET (OFFSET = size appends)
  --delete OFFSET:LENGTH   delete LENGTH bytes at OFFSET
  --ops-file F             more operations, one per line: "overwrite 0x10 DEADBEEF",
                           "insert 5 00FF", "delete 100 7" (# comments, blank lines ignored);
                           F = - reads standard input
  --strategy S             how a size-changing save reaches the disk: auto (default: rewrite to a
                           temp file and replace, or in place when free space is short), rewrite,
                           in-place (moves the bytes inside the file, with a resumable journal)
  -o, --offset N           with --hex/--text: overwrite at N (the older form)
  -x, --hex BYTES          bytes as hex pairs; spaces, ':' ',' '-' and 0x prefixes are allowed
  -t, --text TEXT          bytes of TEXT in UTF-8
  -h, --help               this text

Numbers are decimal or 0x hex.
`;

export type PatchOp =
  | { kind: "overwrite"; offset: number; bytes: Buffer; where: string }
  | { kind: "insert"; offset: number; bytes: Buffer; where: string }
  | { kind: "delete"; offset: number; length: number; where: string };

export interface PatchArgs {
  file: string;
  ops: PatchOp[];
  /** Where to read more operations from (a path, or "-" for standard input), after `ops`. */
  opsFile?: string;
  strategy: SaveStrategy;
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

/** One hex word of an operation (no spaces inside): "DEADBEEF", "0xDEAD", "de:ad". */
function opHex(text: string, where: string): Buffer {
  if (text.length === 0) throw new UsageError(`${where}: no bytes after the offset`);
  if (/\s/.test(text)) throw new UsageError(`${where}: write the bytes without spaces (e.g. DEADBEEF)`);
  try {
    return parseHexBytes(text);
  } catch (err) {
    throw new UsageError(`${where}: ${(err as Error).message.replace(/^--hex: /, "")}`);
  }
}

function opNumber(text: string, name: string, where: string): number {
  try {
    return parseCount(text, name);
  } catch (err) {
    throw new UsageError(`${where}: ${(err as Error).message}`);
  }
}

/** `--overwrite OFFSET:HEX` and friends, or an ops-file line split into [kind, a, b]. */
export function parseOp(kind: string, a: string, b: string, where: string): PatchOp {
  switch (kind) {
    case "overwrite":
    case "insert":
      return { kind, offset: opNumber(a, "the offset", where), bytes: opHex(b, where), where };
    case "delete": {
      const length = opNumber(b, "the length", where);
      if (length === 0) throw new UsageError(`${where}: the length is 0, nothing to delete`);
      return { kind, offset: opNumber(a, "the offset", where), length, where };
    }
    default:
      throw new UsageError(`${where}: unknown operation ${JSON.stringify(kind)} (overwrite, insert or delete)`);
  }
}

/** The lines of an ops file as operations; `name` is how messages call the file. */
export function parseOpsText(text: string, name: string): PatchOp[] {
  const ops: PatchOp[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*/, "").trim();
    if (line.length === 0) continue;
    const where = `${name} line ${i + 1} (${JSON.stringify(line.length > 60 ? line.slice(0, 60) + "…" : line)})`;
    const parts = line.split(/\s+/);
    if (parts.length !== 3) throw new UsageError(`${where}: expected "KIND OFFSET HEX|LENGTH", e.g. "insert 0x10 DEADBEEF" or "delete 100 7"`);
    ops.push(parseOp(parts[0]!.toLowerCase(), parts[1]!, parts[2]!, where));
  }
  return ops;
}

const OP_FLAGS = new Set(["overwrite", "insert", "delete"]);

export function parsePatchArgs(argv: readonly string[]): PatchArgs | "help" {
  // The operation flags keep their order (parseArgs keeps one value per option), so they are taken out first.
  const ops: PatchOp[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--(overwrite|insert|delete)(?:=(.*))?$/.exec(arg);
    if (!m || !OP_FLAGS.has(m[1]!)) {
      rest.push(arg);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${m[1]} needs a value (OFFSET:${m[1] === "delete" ? "LENGTH" : "HEX"})`);
    }
    const where = `operation ${ops.length + 1} (--${m[1]} ${value})`;
    const colon = value.indexOf(":");
    if (colon < 0) throw new UsageError(`${where}: expected OFFSET:${m[1] === "delete" ? "LENGTH" : "HEX"}`);
    ops.push(parseOp(m[1]!, value.slice(0, colon), value.slice(colon + 1), where));
  }
  const { options, positionals } = parseArgs(rest, [
    { long: "offset", short: "o", value: true },
    { long: "hex", short: "x", value: true },
    { long: "text", short: "t", value: true },
    { long: "ops-file", value: true },
    { long: "strategy", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError("missing FILE (usage: hexmap patch FILE --insert OFFSET:HEX | --delete OFFSET:LENGTH | --overwrite OFFSET:HEX …)");
  if (positionals.length > 1) throw new UsageError(`expected one FILE, got ${positionals.length}: ${positionals.join(" ")}`);
  const strategyText = options.get("strategy") ?? "auto";
  if (strategyText !== "auto" && strategyText !== "in-place" && strategyText !== "rewrite") {
    throw new UsageError(`--strategy must be auto, in-place or rewrite, got ${JSON.stringify(strategyText)}`);
  }
  const offsetText = options.get("offset");
  const hex = options.get("hex");
  const text = options.get("text");
  if (hex !== undefined && text !== undefined) throw new UsageError("give either --hex or --text, not both");
  if (offsetText !== undefined || hex !== undefined || text !== undefined) {
    // The older form: --offset N (--hex … | --text …), an overwrite.
    if (typeof offsetText !== "string") throw new UsageError("missing --offset N");
    const offset = parseCount(offsetText, "--offset");
    let bytes: Buffer;
    if (typeof hex === "string") bytes = parseHexBytes(hex);
    else if (typeof text === "string") {
      bytes = Buffer.from(text, "utf8");
      if (bytes.length === 0) throw new UsageError("--text is empty: nothing to write");
    } else throw new UsageError('missing the bytes to write: --hex "DE AD BE EF" or --text "..."');
    ops.push({ kind: "overwrite", offset, bytes, where: `operation ${ops.length + 1} (--offset ${offsetText})` });
  }
  const opsFile = options.get("ops-file");
  if (opsFile === true) throw new UsageError("--ops-file needs a file name (or - for standard input)");
  if (ops.length === 0 && opsFile === undefined) {
    throw new UsageError("missing the operations: --insert OFFSET:HEX, --delete OFFSET:LENGTH, --overwrite OFFSET:HEX or --ops-file F");
  }
  return { file: positionals[0]!, ops, strategy: strategyText, ...(opsFile !== undefined ? { opsFile } : {}) };
}

function hexPreview(b: Uint8Array, max = 32): string {
  const shown = Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > max ? `${shown} … (${b.length} bytes)` : shown;
}

export interface CliIo {
  out: Writable;
  err: Writable;
  /** Standard input, for `--ops-file -` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Applies one operation to the editor; a bad one throws UsageError naming it. */
function apply(editor: Editor, op: PatchOp): void {
  const size = editor.size;
  switch (op.kind) {
    case "overwrite":
      if (op.offset + op.bytes.length > size) {
        throw new UsageError(`${op.where}: ${op.bytes.length} bytes at offset ${op.offset} do not fit (the file is ${size} bytes at this point; overwrite never grows a file, use --insert to add bytes)`);
      }
      editor.edit(op.offset, op.bytes);
      return;
    case "insert":
      if (op.offset > size) throw new UsageError(`${op.where}: offset ${op.offset} is past the end (the file is ${size} bytes at this point)`);
      editor.insert(op.offset, op.bytes);
      return;
    case "delete":
      if (op.offset + op.length > size) throw new UsageError(`${op.where}: deleting ${op.length} bytes at offset ${op.offset} runs past the end (the file is ${size} bytes at this point)`);
      editor.remove(op.offset, op.length);
      return;
  }
}

/** `hexmap patch`: resolves to the exit code; prints errors itself. */
export async function runPatch(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  let args: PatchArgs | "help";
  try {
    args = parsePatchArgs(argv);
    if (args !== "help" && args.opsFile !== undefined) {
      const name = args.opsFile === "-" ? "standard input" : args.opsFile;
      let text: string;
      try {
        text = args.opsFile === "-" ? await readAll(io.stdin ?? process.stdin) : fs.readFileSync(args.opsFile, "utf8");
      } catch (err) {
        io.err.write(`hexmap patch: cannot read the operations from ${name}: ${(err as Error).message}\n`);
        return 2;
      }
      args.ops.push(...parseOpsText(text, args.opsFile === "-" ? "stdin" : args.opsFile));
    }
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
  const { file, ops } = args;
  let editor: Editor | undefined;
  try {
    editor = Editor.open(file);
    const sizeBefore = editor.size;
    const single = ops.length === 1 && ops[0]!.kind === "overwrite" ? ops[0]! : null;
    const before = single && single.kind === "overwrite" && single.offset + single.bytes.length <= sizeBefore ? await editor.read(single.offset, single.bytes.length) : null;
    for (const op of ops) apply(editor, op);
    const res = await editor.save({ strategy: args.strategy });
    if (single && single.kind === "overwrite" && before) {
      io.out.write(
        `patched ${file}: ${single.bytes.length} byte${single.bytes.length === 1 ? "" : "s"} at offset 0x${single.offset.toString(16)} (${single.offset})\n` +
          `  before: ${hexPreview(before)}\n` +
          `  after:  ${hexPreview(single.bytes)}\n` +
          `  saved through the journal (${res.journalBytes} bytes), flushed and synced\n`,
      );
    } else {
      const how =
        res.strategy === "journal"
          ? `in place through the journal (${res.journalBytes} bytes)`
          : res.strategy === "rewrite"
            ? "by rewriting it to a temporary file that replaced it"
            : res.strategy === "in-place"
              ? "in place, moving bytes under a resumable journal"
              : "(nothing changed)";
      io.out.write(`patched ${file}: ${ops.length} operation${ops.length === 1 ? "" : "s"}, ${sizeBefore} → ${res.size} bytes, saved ${how}, flushed and synced\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`hexmap patch: ${err.message}; the file was not changed\n`);
      return 2;
    }
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
