// `hexmap struct FILE [--ksy F.ksy | --format NAME] [--offset N] [--max-nodes N]`: the file parsed
// with a Kaitai Struct format, printed as a JSON tree (app/structure/). `--list-formats` lists the
// formats Hexmap ships. Exit status: 0 parsed (a tree cut at the node cap has "partial": true),
// 1 the file does not match (the tree up to there, with "error" at the failing node) or cannot be
// read, 2 bad arguments or a .ksy that does not compile.

import { Document } from "../engine/document";
import { KsyError, loadKsy, loadKsyFile } from "../structure/ksy";
import { SHIPPED_FORMATS, DETECT_BYTES, detectFormat, loadShippedFormat } from "../structure/formats";
import { DEFAULT_MAX_NODES, MAX_NODES_LIMIT, parseStructure } from "../structure/parse";
import { UsageError, parseArgs, parseCount } from "./args";
import { Output, OutputClosed, errorText, parseCommandLine, type CliStreams } from "./output";

const USAGE = `Usage: hexmap struct FILE [--ksy F.ksy | --format NAME] [--offset N] [--max-nodes N]
       hexmap struct --list-formats

Parses FILE with a Kaitai Struct format and prints the tree as JSON: every node has name, type,
offset (absolute in FILE) and size; a leaf has value (an enum: its number, with "enum" its name;
bytes as lowercase hex; 64-bit integers past 2^53 as decimal strings); a struct has fields; a
repeated field has items. Without --ksy or --format the format is chosen by the file's magic.
  --ksy F.ksy        a Kaitai Struct file (imports from its folder, then --import-dir)
  --import-dir DIR   a folder of .ksy files for imports
  --format NAME      a shipped format (see --list-formats)
  --offset N         the format starts at byte N (default 0)
  --max-nodes N      stop after N nodes, marking the tree "partial" (default ${DEFAULT_MAX_NODES})
  --list-formats     list the shipped formats
Exit status: 0 parsed, 1 the file does not match the format (the JSON still printed, with
"error" at the failing node) or cannot be read, 2 bad arguments or a .ksy that does not compile.
`;

interface StructArgs {
  file: string | null;
  ksy: string | null;
  importDir: string | null;
  format: string | null;
  offset: number;
  maxNodes: number;
  list: boolean;
}

export function parseStructArgs(argv: readonly string[]): StructArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "ksy", value: true },
    { long: "import-dir", value: true },
    { long: "format", value: true },
    { long: "offset", short: "s", value: true },
    { long: "max-nodes", value: true },
    { long: "list-formats", value: false },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  const list = options.has("list-formats");
  if (!list && positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing FILE" : "give one FILE");
  const ksy = options.get("ksy");
  const format = options.get("format");
  if (typeof ksy === "string" && typeof format === "string") throw new UsageError("give --ksy or --format, not both");
  if (typeof format === "string" && !SHIPPED_FORMATS.some((f) => f.name === format)) {
    throw new UsageError(`unknown --format ${JSON.stringify(format)} (shipped: ${SHIPPED_FORMATS.map((f) => f.name).join(", ")})`);
  }
  const maxText = options.get("max-nodes");
  const maxNodes = typeof maxText === "string" ? parseCount(maxText, "--max-nodes") : DEFAULT_MAX_NODES;
  if (maxNodes < 1 || maxNodes > MAX_NODES_LIMIT) throw new UsageError(`--max-nodes must be 1 to ${MAX_NODES_LIMIT}`);
  const offText = options.get("offset");
  const dir = options.get("import-dir");
  return {
    file: positionals[0] ?? null,
    ksy: typeof ksy === "string" ? ksy : null,
    importDir: typeof dir === "string" ? dir : null,
    format: typeof format === "string" ? format : null,
    offset: typeof offText === "string" ? parseCount(offText, "--offset") : 0,
    maxNodes,
    list,
  };
}

/** `hexmap struct`: resolves to the exit status. Never throws. */
export async function runStruct(argv: string[], streams: CliStreams = {}): Promise<number> {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  const parsed = parseCommandLine("struct", () => parseStructArgs(argv), USAGE, stdout, stderr);
  if ("exit" in parsed) return parsed.exit;
  const { args } = parsed;
  const out = new Output(stdout);
  let doc: Document | undefined;
  try {
    if (args.list) {
      await out.write(SHIPPED_FORMATS.map((f) => `${f.name.padEnd(6)} ${f.title}\n`).join(""));
      await out.flush();
      return 0;
    }
    let format;
    try {
      if (args.ksy) {
        const k = loadKsyFile(args.ksy, args.importDir ?? undefined);
        format = loadKsy(k.main, k.resolver);
      }
    } catch (err) {
      stderr.write(`hexmap struct: ${errorText(err)}\n`);
      return 2;
    }
    doc = Document.openFile(args.file!);
    if (!format) {
      let name = args.format;
      if (!name) {
        const head = await doc.read(args.offset, DETECT_BYTES);
        const found = detectFormat(head);
        if (!found) {
          stderr.write(`hexmap struct: no shipped format matches ${args.file}${args.offset ? ` at offset ${args.offset}` : ""} (give --format or --ksy; --list-formats lists them)\n`);
          return 1;
        }
        name = found.name;
      }
      format = loadShippedFormat(name);
    }
    let result;
    try {
      result = await parseStructure(doc, format, { offset: args.offset, maxNodes: args.maxNodes, maxHexBytes: 1024 * 1024 });
    } catch (err) {
      stderr.write(`hexmap struct: ${errorText(err)}\n`);
      return err instanceof KsyError ? 2 : 1;
    }
    const top = { format: result.format, ...result.tree, ...(result.partial ? { partial: true } : {}) };
    await out.write(`${JSON.stringify(top, null, 1)}\n`);
    await out.flush();
    if (result.error !== undefined) {
      stderr.write(`hexmap struct: ${args.file} does not match ${result.format}: ${result.error}\n`);
      return 1;
    }
    if (result.partial) stderr.write(`hexmap struct: stopped at ${args.maxNodes} nodes (--max-nodes); the tree is partial\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof OutputClosed)) stderr.write(`hexmap struct: ${errorText(err)}\n`);
    return 1;
  } finally {
    doc?.close();
    out.detach();
  }
}
