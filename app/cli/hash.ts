// `hexmap hash FILE... [--offset N] [--length N] [--algo sha256|sha1|md5|crc32|all|LIST] [--tag]`:
// checksums streamed through the engine's mapped reads, printed exactly as the usual tools do:
//   sha256 / sha1 / md5:  "<hex>  <FILE>" like sha256sum / sha1sum / md5sum (GNU coreutils),
//                         including their escaping: a name with '\' or a newline gets a leading
//                         '\' and those characters written as \\ and \n;
//   crc32:                8 lowercase hex digits like `crc32` (Debian's libarchive-zip-perl),
//                         alone for one file, "<hex>\t<FILE>" for several;
//   several algorithms, or --tag: BSD tags like `sha256sum --tag`: "SHA256 (FILE) = <hex>".
// With --offset/--length the digest is of that range only (the line still names the file).
// Exit status: 0, or 1 if any file could not be read (the others are still hashed), 2 on usage.

import type { Writable } from "node:stream";
import { Document } from "../engine/document";
import { HASH_ALGORITHMS, hashRange, isHashAlgorithm, type HashAlgorithm } from "../engine/hash";
import { UsageError, parseArgs, parseCount } from "./args";
import { Output, OutputClosed, errorText, parseCommandLine, type CliStreams } from "./output";

const USAGE = `Usage: hexmap hash FILE... [--offset N] [--length N] [--algo ALGO] [--tag] [--progress]

Prints checksums of FILE (or of a range of it) in the format of the usual tools:
  sha256, sha1, md5   "<hex>  FILE" as sha256sum, sha1sum, md5sum print it
  crc32               8 lowercase hex digits as Debian's crc32 prints it
                      (with several files: "<hex><TAB>FILE")
  several (all, or a comma list like md5,sha256), or --tag:
                      "SHA256 (FILE) = <hex>" as sha256sum --tag prints it
  -s, --offset N   start at byte N (default 0)
  -l, --length N   hash at most N bytes (default: to the end)
  -a, --algo ALGO  sha256 (default), sha1, md5, crc32, all, or a comma list
      --tag        BSD-style lines even for one algorithm
      --progress   show progress on stderr
Numbers are decimal or 0x hex. All algorithms are computed in one pass over the file.
`;

const TAG: Record<HashAlgorithm, string> = { crc32: "CRC32", md5: "MD5", sha1: "SHA1", sha256: "SHA256" };

interface HashArgs {
  files: string[];
  offset: number;
  length: number | undefined;
  algorithms: HashAlgorithm[];
  tag: boolean;
  progress: boolean;
}

export function parseHashArgs(argv: readonly string[]): HashArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "offset", short: "s", value: true },
    { long: "length", short: "l", value: true },
    { long: "algo", short: "a", value: true },
    { long: "tag", value: false },
    { long: "progress", value: false },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  if (positionals.length === 0) throw new UsageError("missing FILE (usage: hexmap hash FILE [--offset N --length N] [--algo sha256])");
  const offsetText = options.get("offset");
  const lengthText = options.get("length");
  const algoText = options.get("algo");
  let algorithms: HashAlgorithm[] = ["sha256"];
  if (typeof algoText === "string") {
    const names = algoText.toLowerCase().split(",").map((s) => s.trim().replace(/^sha-/, "sha").replace(/^crc-32$/, "crc32"));
    if (names.includes("all")) {
      algorithms = [...HASH_ALGORITHMS];
    } else {
      for (const n of names) {
        if (!isHashAlgorithm(n)) throw new UsageError(`unknown --algo ${JSON.stringify(n)} (use sha256, sha1, md5, crc32 or all)`);
      }
      algorithms = HASH_ALGORITHMS.filter((a) => names.includes(a));
    }
  }
  return {
    files: positionals,
    offset: typeof offsetText === "string" ? parseCount(offsetText, "--offset") : 0,
    length: typeof lengthText === "string" ? parseCount(lengthText, "--length") : undefined,
    algorithms,
    tag: options.has("tag"),
    progress: options.has("progress"),
  };
}

/** coreutils' escaping of a file name in a checksum line: returns [prefix, name]. */
export function escapeName(name: string): [string, string] {
  if (!/[\\\n]/.test(name)) return ["", name];
  return ["\\", name.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")];
}

/** The output lines for one file's digests. */
export function formatHashLines(
  file: string,
  digests: Partial<Record<HashAlgorithm, string>>,
  algorithms: readonly HashAlgorithm[],
  options: { tag: boolean; manyFiles: boolean },
): string {
  const [prefix, name] = escapeName(file);
  if (options.tag || algorithms.length > 1) {
    return algorithms.map((a) => `${prefix}${TAG[a]} (${name}) = ${digests[a]}\n`).join("");
  }
  const a = algorithms[0]!;
  if (a === "crc32") return options.manyFiles ? `${digests.crc32}\t${file}\n` : `${digests.crc32}\n`;
  return `${prefix}${digests[a]}  ${name}\n`;
}

/** `hexmap hash`: resolves to the exit status. Never throws. */
export async function runHash(argv: string[], streams: CliStreams = {}): Promise<number> {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  const parsed = parseCommandLine("hash", () => parseHashArgs(argv), USAGE, stdout, stderr);
  if ("exit" in parsed) return parsed.exit;
  const { args } = parsed;
  const out = new Output(stdout);
  let status = 0;
  try {
    for (const file of args.files) {
      let doc: Document | undefined;
      try {
        doc = Document.openFile(file);
        const result = await hashRange(doc, {
          offset: args.offset,
          ...(args.length !== undefined ? { length: args.length } : {}),
          algorithms: args.algorithms,
          ...(args.progress ? { onProgress: progressReporter(stderr, file) } : {}),
        });
        if (args.progress) stderr.write("\r\x1b[K");
        await out.write(formatHashLines(file, result.digests, args.algorithms, { tag: args.tag, manyFiles: args.files.length > 1 }));
      } catch (err) {
        if (err instanceof OutputClosed) throw err;
        stderr.write(`hexmap hash: ${errorText(err)}\n`);
        status = 1;
      } finally {
        doc?.close();
      }
    }
    await out.flush();
  } catch (err) {
    if (!(err instanceof OutputClosed)) {
      stderr.write(`hexmap hash: ${errorText(err)}\n`);
      return 1;
    }
  } finally {
    out.detach();
  }
  return status;
}

function progressReporter(stderr: Writable, file: string): (done: number, total: number) => void {
  let last = 0;
  const started = Date.now();
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    const pct = total > 0 ? ((done / total) * 100).toFixed(1) : "100.0";
    const rate = done / 1e9 / Math.max(0.001, (now - started) / 1000);
    stderr.write(`\r\x1b[Khexmap hash: ${file} ${pct}% (${rate.toFixed(2)} GB/s)`);
  };
}
