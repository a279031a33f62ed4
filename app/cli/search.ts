// `hexmap search FILE (--hex P | --text T [--encoding E] [--ignore-case]) [--from N] [--backward]
// [--count] [--max N]`: prints the decimal offset of every match, one per line, as the scan finds
// them (or the number of matches with --count). Every start offset counts, overlapping matches
// too ("aa" occurs 3 times in "aaaa"). Exit status like grep: 0 when something matched, 1 when
// nothing did, 2 for a bad command line or pattern; I/O errors print a message and exit 1.
//
// The file is scanned by the addon on worker threads (see app/engine/search.ts). Listing runs in
// segments with a bounded number of hits each, waiting for stdout to drain in between, so a
// pattern that matches everywhere streams in bounded memory instead of piling up output.

import type { Writable } from "node:stream";
import { HexmapError } from "../engine/errors";
import { TEXT_ENCODINGS, compilePattern, type PatternSpec, type SearchPattern, type TextEncoding } from "../engine/pattern";
import { startSearch } from "../engine/search";
import { compileRegex, fileRegexSource, regexMatches, type CompiledRegex } from "../engine/regex";
import { UsageError, parseArgs, parseCount } from "./args";
import { GuardedOutput, OutputClosed, waitForDrain } from "./output";
import * as fs from "node:fs";

const USAGE = `Usage: hexmap search FILE (--hex PATTERN | --text TEXT | --regex RE) [options]

Prints the decimal offset of each match, one per line (overlapping matches included;
--regex: non-overlapping, leftmost-first, within lines, as grep -obaP).
  --hex PATTERN      bytes in hex: "DE AD ?? EF" or "dead??ef"; ?? is any byte, ? any nibble
  --text TEXT        text to find
  --regex RE         regular expression (grep -P syntax, linear-time subset), over bytes
  --utf8             --regex: match UTF-8 characters instead of bytes
  --encoding E       text encoding: utf8 (default), utf16le, utf16be, ascii
  -i, --ignore-case  ASCII letters match either case (text and regex)
  --from N           start at byte N (with --backward: matches that start before N)
  --backward         list matches from the end (or from --from) towards the start
  -c, --count        print the number of matches instead
  -m, --max N        stop after N matches
Exit status: 0 if something matched, 1 if nothing did, 2 for bad arguments.
Numbers are decimal or 0x hex.
`;

/** Candidate starts scanned per job when listing. */
const SEGMENT = 1024 * 1024 * 1024;
/** Hits one job may hand over at most: bounds the output produced between two drains. */
const JOB_HITS = 1 << 20;
/** Output queued in the stream before we wait for it to drain. */
const HIGH_WATER = 4 * 1024 * 1024;

interface SearchArgs {
  file: string;
  pattern: SearchPattern;
  regex?: CompiledRegex;
  from?: number;
  backward: boolean;
  count: boolean;
  max?: number;
}

function parseSearchArgs(argv: string[]): SearchArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "hex", value: true },
    { long: "text", value: true },
    { long: "regex", value: true },
    { long: "utf8", value: false },
    { long: "encoding", value: true },
    { long: "ignore-case", short: "i", value: false },
    { long: "from", value: true },
    { long: "backward", value: false },
    { long: "count", short: "c", value: false },
    { long: "max", short: "m", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "missing FILE (see hexmap search --help)" : `expected one FILE, got ${positionals.length}`);
  }
  const hex = options.get("hex");
  const text = options.get("text");
  const regexText = options.get("regex");
  if ([hex, text, regexText].filter((x) => x !== undefined).length !== 1) throw new UsageError("give exactly one of --hex PATTERN, --text TEXT or --regex RE");
  const encoding = options.get("encoding");
  const ignoreCase = options.has("ignore-case");
  if (options.has("utf8") && typeof regexText !== "string") throw new UsageError("--utf8 applies to --regex");
  if (typeof regexText === "string") {
    if (encoding !== undefined) throw new UsageError("--encoding applies to --text; use --utf8 with --regex");
    if (options.has("backward")) throw new UsageError("--backward is not supported with --regex");
    let regex: CompiledRegex;
    try {
      regex = compileRegex(regexText, { ignoreCase, utf8: options.has("utf8") });
    } catch (err) {
      if (err instanceof HexmapError && err.code === "EINVAL") throw new UsageError(err.message);
      throw err;
    }
    const from = options.get("from");
    const max = options.get("max");
    return {
      file: positionals[0]!,
      pattern: { bytes: new Uint8Array(0), description: regex.description },
      regex,
      ...(typeof from === "string" ? { from: parseCount(from, "--from") } : {}),
      backward: false,
      count: options.has("count"),
      ...(typeof max === "string" ? { max: parseCount(max, "--max") } : {}),
    };
  }
  let spec: PatternSpec;
  if (typeof hex === "string") {
    if (encoding !== undefined) throw new UsageError("--encoding applies to --text, not --hex");
    if (ignoreCase) throw new UsageError("--ignore-case applies to --text, not --hex");
    spec = { kind: "hex", hex };
  } else {
    if (encoding !== undefined && !(TEXT_ENCODINGS as readonly unknown[]).includes(encoding)) {
      throw new UsageError(`--encoding must be one of ${TEXT_ENCODINGS.join(", ")}, got ${JSON.stringify(encoding)}`);
    }
    spec = { kind: "text", text: text as string, encoding: (encoding as TextEncoding | undefined) ?? "utf8", ignoreCase };
  }
  let pattern: SearchPattern;
  try {
    pattern = compilePattern(spec);
  } catch (err) {
    if (err instanceof HexmapError && err.code === "EINVAL") throw new UsageError(err.message);
    throw err;
  }
  const from = options.get("from");
  const max = options.get("max");
  return {
    file: positionals[0]!,
    pattern,
    ...(typeof from === "string" ? { from: parseCount(from, "--from") } : {}),
    backward: options.has("backward"),
    count: options.has("count"),
    ...(typeof max === "string" ? { max: parseCount(max, "--max") } : {}),
  };
}

/** Line output with backpressure; EPIPE (e.g. `| head`) ends the listing quietly. */
class Lines extends GuardedOutput {
  constructor(out: Writable) {
    // ECONNRESET is not among them here: it stays an I/O error.
    super(out, ["EPIPE", "ERR_STREAM_DESTROYED"]);
  }
  write(offsets: readonly number[]): void {
    if (offsets.length === 0 || this.failure) return;
    this.out.write(offsets.join("\n") + "\n");
  }
  /** Waits until the stream has taken most of what was written. */
  async drain(): Promise<void> {
    this.check();
    if (this.out.writableLength > HIGH_WATER) await waitForDrain(this.out);
    this.check();
  }
  async flush(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => this.out.write("", () => resolve()));
    this.check();
  }
}

/** An out-of-range --from is a bad argument, not an I/O error. */
function rangeAsUsage(err: unknown): never {
  if (err instanceof HexmapError && err.code === "ERANGE") throw new UsageError(err.message);
  throw err;
}

/** `hexmap search`: resolves to the exit code (usage errors are thrown as UsageError). */
export async function runSearch(argv: string[], out: Writable = process.stdout): Promise<number> {
  const args = parseSearchArgs(argv);
  if (args === "help") {
    out.write(USAGE);
    return 0;
  }
  if (args.regex) return runRegex(args, args.regex, out);
  const { file, pattern } = args;
  const m = pattern.bytes.length;
  const max = args.max ?? Number.MAX_SAFE_INTEGER;

  if (args.count) {
    // One job over the range, all threads, nothing kept: the count is exact.
    const request = args.backward
      ? { pattern, direction: "all" as const, maxHits: 0, ...(args.from !== undefined ? { to: Math.min(args.from + m - 1, sizeOf(file)) } : {}) }
      : { pattern, direction: "all" as const, maxHits: 0, ...(args.from !== undefined ? { from: args.from } : {}) };
    const r = await startSearch({ path: file }, request).catch(rangeAsUsage);
    const n = Math.min(r.total, max);
    out.write(`${n}\n`);
    return n > 0 ? 0 : 1;
  }

  const lines = new Lines(out);
  let printed = 0;
  try {
    if (max === 0) return 1;
    const size = sizeOf(file);
    if (args.from !== undefined && args.from > size) {
      throw new UsageError(`--from ${args.from} is past the end of ${file} (${size} bytes)`);
    }
    const lastStart = size - m + 1; // starts are below this
    if (!args.backward) {
      let from = args.from ?? 0;
      while (from < lastStart && printed < max) {
        const segEnd = Math.min(lastStart, from + SEGMENT);
        const want = Math.min(max - printed, JOB_HITS);
        const r = await startSearch(
          { path: file },
          { pattern, direction: "all", from, to: segEnd + m - 1, maxHits: want },
          { onHits: (hits) => lines.write(hits) },
        ).catch(rangeAsUsage);
        printed += r.hits.length;
        await lines.drain();
        // A full job stops at its last hit; the next one resumes right after it.
        from = r.hits.length === want && r.total > want ? r.hits[r.hits.length - 1]! + 1 : segEnd;
      }
    } else {
      let end = Math.min(args.from ?? lastStart, lastStart); // starts below `end`
      let segment = SEGMENT;
      while (end > 0 && printed < max) {
        const start = Math.max(0, end - segment);
        const r = await startSearch(
          { path: file },
          { pattern, direction: "all", from: start, to: end + m - 1, maxHits: JOB_HITS },
        ).catch(rangeAsUsage);
        if (r.total > r.hits.length) {
          segment = Math.max(1, Math.floor(segment / 8)); // too many to hold: retry a smaller piece
          continue;
        }
        const take = r.hits.reverse().slice(0, max - printed);
        lines.write(take);
        printed += take.length;
        await lines.drain();
        end = start;
      }
    }
    await lines.flush();
  } catch (err) {
    if (err instanceof OutputClosed) return printed > 0 ? 0 : 1;
    throw err;
  } finally {
    lines.detach();
  }
  return printed > 0 ? 0 : 1;
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new HexmapError(e.code === "ENOENT" ? "ENOENT" : "EIO", e.code === "ENOENT" ? `No such file: ${file}` : `Cannot open ${file}: ${e.message}`, {
      cause: err,
    });
  }
}

/** `--regex`: grep -obaP's offsets (or rg --count-matches' number), streamed with backpressure. */
async function runRegex(args: SearchArgs, regex: CompiledRegex, out: Writable): Promise<number> {
  const max = args.max ?? Number.MAX_SAFE_INTEGER;
  const size = sizeOf(args.file);
  if (args.from !== undefined && args.from > size) throw new UsageError(`--from ${args.from} is past the end of ${args.file} (${size} bytes)`);
  const src = fileRegexSource({ path: args.file }, { sync: true });
  const lines = new Lines(out);
  let n = 0;
  try {
    if (max === 0) {
      if (args.count) out.write("0\n");
      return 1;
    }
    for await (const batch of regexMatches(src, regex, { ...(args.from !== undefined ? { from: args.from } : {}) })) {
      const take = Math.min(batch.starts.length, max - n);
      n += take;
      if (!args.count) {
        lines.write(take === batch.starts.length ? batch.starts : batch.starts.slice(0, take));
        await lines.drain();
      }
      if (n >= max) break;
    }
    if (args.count) out.write(`${n}\n`);
    else await lines.flush();
  } catch (err) {
    if (err instanceof OutputClosed) return n > 0 ? 0 : 1;
    throw err;
  } finally {
    lines.detach();
    src.close();
  }
  return n > 0 ? 0 : 1;
}
