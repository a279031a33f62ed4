// `hexmap lines FILE [--line N [--count M]] [--encoding E] [--progress]`:
//   without --line: the number of newline characters in FILE, printed alone, as `wc -l < FILE`
//                   prints it (the same number `wc -l FILE` prints before the name);
//   with --line N:  lines N..N+M-1 (1-based) as the raw bytes of the file, newlines included,
//                   byte for byte what `sed -n 'N,N+M-1p' FILE` prints (a last line without a
//                   newline is printed without one, as GNU sed does).
// Counting runs on the addon's worker threads over mapped windows (memory speed). Printing lines
// scans only up to the last line printed. Exit status: 0; 1 on I/O errors or when line N is past
// the end; 2 on usage errors.

import { Document } from "../engine/document";
import { LineIndex, isTextEncoding, type TextEncoding } from "../engine/line-index";
import { UsageError, parseArgs, parseCount } from "./args";
import { Output, OutputClosed, errorText, parseCommandLine, type CliStreams } from "./output";

const USAGE = `Usage: hexmap lines FILE [--line N [--count M]] [--encoding E] [--progress]

Without --line, prints the number of newline characters in FILE: just the number, the same
definition and the same number as \`wc -l FILE\` (which prints "N FILE"; \`wc -l < FILE\` prints N).
A last line without a newline is not counted, exactly as wc -l does.
  -n, --line N      print lines N to N+M-1 (1-based) as they are in the file, newlines
                    included: the same bytes as sed -n 'N,N+M-1p' FILE
  -c, --count M     how many lines to print (default 1); fewer at the end of the file
  -e, --encoding E  auto (default), utf-8, latin1, utf-16le, utf-16be. auto: a UTF-16 byte-order
                    mark makes newlines 2-byte units (U+000A at even offsets); anything else
                    counts 0x0A bytes like wc -l. utf-8 forces byte counting.
      --progress    show progress on stderr while counting
Numbers are decimal or 0x hex. Exit status: 0 ok; 1 I/O error, or line N is past the end;
2 bad arguments.
`;

export interface LinesArgs {
  file: string;
  line: number | undefined;
  count: number;
  encoding: TextEncoding | "auto";
  progress: boolean;
}

export function parseLinesArgs(argv: readonly string[]): LinesArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "line", short: "n", value: true },
    { long: "count", short: "c", value: true },
    { long: "encoding", short: "e", value: true },
    { long: "progress", value: false },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError("missing FILE (usage: hexmap lines FILE [--line N [--count M]])");
  if (positionals.length > 1) throw new UsageError(`one FILE only, got ${positionals.length}`);
  const lineText = options.get("line");
  const countText = options.get("count");
  const encText = options.get("encoding");
  let line: number | undefined;
  if (typeof lineText === "string") {
    line = parseCount(lineText, "--line");
    if (line < 1) throw new UsageError("--line must be 1 or more (lines are numbered from 1)");
  }
  let count = 1;
  if (typeof countText === "string") {
    if (line === undefined) throw new UsageError("--count needs --line");
    count = parseCount(countText, "--count");
    if (count < 1) throw new UsageError("--count must be 1 or more");
  }
  let encoding: TextEncoding | "auto" = "auto";
  if (typeof encText === "string") {
    const e = encText.toLowerCase().replace(/^utf8$/, "utf-8").replace(/^utf-?16-?le$/, "utf-16le").replace(/^utf-?16-?be$/, "utf-16be").replace(/^(iso-?8859-?1|latin-?1)$/, "latin1");
    if (e !== "auto" && !isTextEncoding(e)) throw new UsageError(`unknown --encoding ${JSON.stringify(encText)} (use auto, utf-8, latin1, utf-16le or utf-16be)`);
    encoding = e as TextEncoding | "auto";
  }
  return { file: positionals[0]!, line, count, encoding, progress: options.has("progress") };
}

const COPY_CHUNK = 1024 * 1024;

export async function runLines(argv: string[], streams: CliStreams = {}): Promise<number> {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  const parsed = parseCommandLine("lines", () => parseLinesArgs(argv), USAGE, stdout, stderr);
  if ("exit" in parsed) return parsed.exit;
  const { args } = parsed;
  const fail = (err: unknown): number => {
    stderr.write(`hexmap lines: ${errorText(err)}\n`);
    return 1;
  };
  let doc: Document;
  try {
    doc = Document.openFile(args.file, { readOnly: true });
  } catch (err) {
    return fail(err);
  }
  const out = new Output(stdout);
  let index: LineIndex | undefined;
  try {
    index = new LineIndex(doc, { encoding: args.encoding });
    if (args.line === undefined) {
      const started = Date.now();
      const r = await index.countAll(
        args.progress
          ? {
              onProgress: (scanned, total) => {
                const s = (Date.now() - started) / 1000;
                stderr.write(`\r\x1b[Khexmap lines: ${args.file} ${total ? Math.floor((scanned / total) * 100) : 100}% (${s > 0 ? (scanned / s / 1e9).toFixed(2) : "-"} GB/s)`);
              },
            }
          : {},
      );
      if (args.progress) stderr.write("\r\x1b[K");
      await out.write(`${r.newlines}\n`);
      await out.flush();
      return 0;
    }
    const start = await index.lineStart(args.line);
    if (start === null) {
      const { newlines } = await index.countAll();
      const lines = newlines + ((await endsUnterminated(doc, index)) ? 1 : 0);
      stderr.write(`hexmap lines: line ${args.line} is past the end of ${args.file} (it has ${lines} line${lines === 1 ? "" : "s"})\n`);
      return 1;
    }
    const end = await index.advance(start, args.count);
    for (let pos = start; pos < end; ) {
      const chunk = await doc.read(pos, Math.min(COPY_CHUNK, end - pos));
      if (chunk.length === 0) throw new Error(`${args.file} was truncated while it was being read`);
      await out.write(chunk);
      pos += chunk.length;
    }
    await out.flush();
    return 0;
  } catch (err) {
    if (err instanceof OutputClosed) return 0;
    return fail(err);
  } finally {
    out.detach();
    index?.close();
    doc.close();
  }
}

async function endsUnterminated(doc: Document, index: LineIndex): Promise<boolean> {
  const size = doc.size;
  const unit = index.unit;
  if (size === 0) return false;
  if (size % unit !== 0) return true;
  const last = await doc.read(size - unit, unit);
  return unit === 1 ? last[0] !== 0x0a : index.encoding === "utf-16le" ? !(last[0] === 0x0a && last[1] === 0) : !(last[0] === 0 && last[1] === 0x0a);
}
