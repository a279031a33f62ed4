// `hexmap replace FILE (--hex P | --text T | --regex RE) (--with-hex R | --with-text R) [--max N]
// [--strategy auto|in-place|rewrite]`: replaces every non-overlapping match, left to right (or the
// first N), as one edit of the editor's document model (Editor.replaceAll), then saves once
// through the same planner as the editor's Save — crash-safe, `hexmap recover` after a kill.
// The result is byte for byte what Python's bytes.replace (literals) or re.sub (regular
// expressions; the replacement taken literally, no \1 groups) gives. Prints the count.
//
// Exit codes: 0 replaced, or nothing matched (count 0, the file untouched); 2 bad arguments or an
// invalid pattern (the file untouched); 1 I/O errors, a file changed meanwhile, a save to recover.

import * as fs from "node:fs";
import type { Writable } from "node:stream";
import { Editor, type SaveStrategy } from "../engine/editor";
import { HexmapError, toHexmapError } from "../engine/errors";
import { TEXT_ENCODINGS, compilePattern, type PatternSpec, type SearchPattern, type TextEncoding } from "../engine/pattern";
import { compileRegex, fileRegexSource, type CompiledRegex } from "../engine/regex";
import { checkReplaceRegex, literalReplaceStarts, regexReplaceMatches } from "../engine/replace-matches";
import { startSearch } from "../engine/search";
import { UsageError, parseArgs, parseCount } from "./args";
import { parseHexBytes } from "./patch";

const USAGE = `Usage: hexmap replace FILE (--hex P | --text T | --regex RE) (--with-hex R | --with-text R)
                      [--max N] [--strategy auto|in-place|rewrite]

Replaces every non-overlapping match, left to right, then saves once, crash-safe (if the save is
interrupted, run hexmap recover FILE). Prints the number of replacements.

  --hex P            bytes as hex pairs, ?? (or ?) for any byte, as hexmap search takes them
  --text T           text (--encoding utf8|utf16le|utf16be|ascii; -i for either case)
  --regex RE         a regular expression over the bytes (hexmap search --regex; --utf8, -i);
                     one that can match nothing is refused
  --with-hex R       the replacement, hex pairs (may be empty: "" deletes the matches)
  --with-text R      the replacement, UTF-8 text, taken literally
  -m, --max N        replace the first N matches only
  --strategy S       how a save that changes the size reaches the disk (see hexmap patch --help)
  -h, --help         this text
`;

export interface ReplaceArgs {
  file: string;
  literal?: SearchPattern;
  regex?: CompiledRegex;
  replacement: Buffer;
  max?: number;
  strategy: SaveStrategy;
}

export function parseReplaceArgs(argv: string[]): ReplaceArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "hex", value: true },
    { long: "text", value: true },
    { long: "regex", value: true },
    { long: "utf8", value: false },
    { long: "encoding", value: true },
    { long: "ignore-case", short: "i", value: false },
    { long: "with-hex", value: true },
    { long: "with-text", value: true },
    { long: "max", short: "m", value: true },
    { long: "strategy", value: true },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing FILE (see hexmap replace --help)" : `expected one FILE, got ${positionals.length}`);
  const hex = options.get("hex");
  const text = options.get("text");
  const regexText = options.get("regex");
  if ([hex, text, regexText].filter((x) => x !== undefined).length !== 1) throw new UsageError("give exactly one of --hex P, --text T or --regex RE");
  const withHex = options.get("with-hex");
  const withText = options.get("with-text");
  if ([withHex, withText].filter((x) => x !== undefined).length !== 1) throw new UsageError("give exactly one of --with-hex R or --with-text R");
  const replacement = typeof withHex === "string" ? (withHex.trim() === "" ? Buffer.alloc(0) : parseHexBytes(withHex)) : Buffer.from(withText as string, "utf8");
  const strategy = options.get("strategy") ?? "auto";
  if (strategy !== "auto" && strategy !== "in-place" && strategy !== "rewrite") throw new UsageError(`--strategy must be auto, in-place or rewrite, got ${JSON.stringify(strategy)}`);
  const maxText = options.get("max");
  const max = typeof maxText === "string" ? parseCount(maxText, "--max") : undefined;
  const ignoreCase = options.has("ignore-case");
  const encoding = options.get("encoding");
  const base = { file: positionals[0]!, replacement, strategy: strategy as SaveStrategy, ...(max !== undefined ? { max } : {}) };
  const asUsage = (err: unknown): never => {
    if (err instanceof HexmapError && err.code === "EINVAL") throw new UsageError(err.message);
    throw err;
  };
  if (typeof regexText === "string") {
    if (encoding !== undefined) throw new UsageError("--encoding applies to --text; use --utf8 with --regex");
    let regex: CompiledRegex;
    try {
      regex = compileRegex(regexText, { ignoreCase, utf8: options.has("utf8") });
    } catch (err) {
      return asUsage(err);
    }
    try {
      checkReplaceRegex(regex);
    } catch (err) {
      return asUsage(err);
    }
    return { ...base, regex };
  }
  if (options.has("utf8")) throw new UsageError("--utf8 applies to --regex");
  let spec: PatternSpec;
  if (typeof hex === "string") {
    if (encoding !== undefined || ignoreCase) throw new UsageError("--encoding and --ignore-case apply to --text, not --hex");
    spec = { kind: "hex", hex };
  } else {
    if (encoding !== undefined && !(TEXT_ENCODINGS as readonly unknown[]).includes(encoding)) {
      throw new UsageError(`--encoding must be one of ${TEXT_ENCODINGS.join(", ")}, got ${JSON.stringify(encoding)}`);
    }
    spec = { kind: "text", text: text as string, encoding: (encoding as TextEncoding | undefined) ?? "utf8", ignoreCase };
  }
  try {
    return { ...base, literal: compilePattern(spec) };
  } catch (err) {
    return asUsage(err);
  }
}

/** The non-overlapping matches, left to right (at most `max`): starts and lengths. */
export async function findReplaceMatches(file: string, args: Pick<ReplaceArgs, "literal" | "regex" | "max">): Promise<{ starts: number[]; lengths: number[] | number }> {
  const max = args.max ?? Infinity;
  if (args.regex) {
    const src = fileRegexSource({ path: file }, { sync: true });
    try {
      return await regexReplaceMatches(src, args.regex, max);
    } finally {
      src.close();
    }
  }
  const pattern = args.literal!;
  const starts = await literalReplaceStarts(pattern.bytes.length, max, (from, maxHits, stop, onHits) =>
    startSearch({ path: file }, { pattern, direction: "all", from, maxHits }, { signal: stop, onHits }),
  );
  return { starts, lengths: pattern.bytes.length };
}

export async function runReplace(argv: string[], out: Writable = process.stdout): Promise<number> {
  const args = parseReplaceArgs(argv);
  if (args === "help") {
    out.write(USAGE);
    return 0;
  }
  let before: fs.Stats;
  try {
    before = fs.statSync(args.file);
  } catch (err) {
    throw toHexmapError(err, { path: args.file, op: "open" });
  }
  const found = await findReplaceMatches(args.file, args);
  if (found.starts.length === 0) {
    out.write("0\n");
    return 0;
  }
  const ed = Editor.open(args.file);
  try {
    const now = fs.statSync(args.file);
    if (ed.size !== before.size || now.mtimeMs !== before.mtimeMs || now.ino !== before.ino) {
      throw new HexmapError("ECHANGED", `${args.file} was changed by another program while it was searched; nothing was replaced`);
    }
    ed.replaceAll(found.starts, found.lengths, args.replacement);
    await ed.save({ strategy: args.strategy });
  } finally {
    ed.close();
  }
  out.write(`${found.starts.length}\n`);
  return 0;
}
