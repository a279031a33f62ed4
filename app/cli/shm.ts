// `hexmap shm write|read|unlink`: the classic pair of shared-memory programs.
//
//   hexmap shm write ShareMemory --text "This is common data!"   (terminal 1: creates and holds)
//   hexmap shm read ShareMemory --text                            (terminal 2: This is common data!)
//
// The writer keeps its handle open until told to stop, because on Windows a section dies with its
// last handle. How it waits is chosen for both people and scripts (see USAGE_WRITE).

import type { Readable, Writable } from "node:stream";
import type { Document } from "../engine/document";
import { HexmapError } from "../engine/errors";
import { LiveWatcher } from "../engine/live";
import { openSharedMemoryDocument, quoteShmName, sharedMemorySourceOf, unlinkShm, writeShm } from "../engine/shm";
import { UsageError, parseArgs, parseCount } from "./args";
import { DUMP_CHUNK, formatXxd } from "./dump";
import { parseHexBytes } from "./patch";
import { describeStdinError, openStdin, releaseStdin } from "./stdin";

const isWin = process.platform === "win32";
const DEFAULT_SIZE = 4096;

const USAGE = `Usage: hexmap shm write NAME [--text T | --hex HEX] [options]
       hexmap shm read NAME [--offset N] [--length N] [--text]
       hexmap shm unlink NAME

Named shared memory, shared with any program that opens the same name
(Windows: CreateFileMapping/OpenFileMapping; Linux/macOS: shm_open).
NAME is e.g. ShareMemory; on Windows also Local\\ShareMemory or Global\\ShareMemory;
on POSIX /ShareMemory is the same object as ShareMemory.
Run \`hexmap shm write --help\` or \`hexmap shm read --help\` for details.
`;

const USAGE_WRITE = `Usage: hexmap shm write NAME [--text T | --hex HEX] [options]

Creates the section NAME if it does not exist (or opens it if it does), writes the
bytes, prints what it wrote, then keeps the section open until you press Enter or
Ctrl+C (a Windows section disappears with the last program that has it open).

  -t, --text T          write the UTF-8 text T (add --nul for a terminating 0 byte)
  -x, --hex HEX         write bytes, e.g. "DE AD BE EF"
  -o, --offset N        where to write (default 0)
      --size N          size when creating (default ${DEFAULT_SIZE}, or enough for the data);
                        an existing section with another size is an error only if --size is given
      --nul             append a 0 byte after --text (C-string readers stop there)
      --watch           while holding, print each change other programs make
      --hold-seconds N  hold N seconds (or until Ctrl+C/SIGTERM) and ignore stdin;
                        0 = exit at once (on Windows the section then disappears)
      --until-signal    hold until Ctrl+C/SIGTERM and ignore stdin (background jobs)
      --unlink-on-exit  POSIX: remove the name when done (Windows: nothing to remove)

Without --hold-seconds/--until-signal it waits for a line on stdin, and stops at
end of input too (so \`... < /dev/null\` exits at once: use --until-signal there).
If stdin cannot be read at all (closed, not readable), it says so and holds until
Ctrl+C/SIGTERM, as with --until-signal.
Numbers are decimal or 0x hex. Exit status: 0 done, 1 error, 2 bad arguments.
`;

const USAGE_READ = `Usage: hexmap shm read NAME [--offset N] [--length N] [--text]

Opens the section NAME read-only and prints its bytes as an xxd-style hex dump.
  -s, --offset N   start at byte N (default 0)
  -l, --length N   at most N bytes (default: to the end of the section)
      --text       print the bytes as UTF-8 text, up to the first 0 byte
A missing section exits 1 with "No shared memory section named ...".
Note: on Windows an opened section's size may be rounded up to whole pages.
`;

export interface ShmIo {
  out: Writable;
  err: Writable;
  /**
   * Where `write` waits for Enter. Default: standard input, opened only when `write` waits on
   * it (see ./stdin: process.stdin's getter can throw, e.g. Windows Node under Wine with a pipe).
   */
  input?: Readable;
}

// No process.stdin here: touching it is what failed as "open EBADF" (see ./stdin).
const defaultIo = (): ShmIo => ({ out: process.stdout, err: process.stderr });

export async function runShm(argv: string[], io: ShmIo = defaultIo()): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "write":
      return runWrite(rest, io);
    case "read":
      return runRead(rest, io);
    case "unlink":
    case "rm":
      return runUnlink(rest, io);
    case "--help":
    case "-h":
    case "help":
      io.out.write(USAGE);
      return 0;
    case undefined:
      throw new UsageError("missing a subcommand: write, read or unlink (hexmap shm --help)");
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: use write, read or unlink (hexmap shm --help)`);
  }
}

function oneName(positionals: string[], usage: string): string {
  if (positionals.length === 0) throw new UsageError(`missing NAME (usage: ${usage})`);
  if (positionals.length > 1) throw new UsageError(`expected one NAME, got ${positionals.length}: ${positionals.join(" ")}`);
  return positionals[0]!;
}

/** HexmapError EINVAL from name checks is a usage error (exit 2). */
function checkedName<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HexmapError && err.code === "EINVAL" && /shared-memory name/.test(err.message)) throw new UsageError(err.message);
    throw err;
  }
}

// ---- write ------------------------------------------------------------------------------------

export interface ShmWriteArgs {
  name: string;
  bytes: Buffer;
  offset: number;
  /** --size, when given. */
  size: number | undefined;
  unlinkOnExit: boolean;
  watch: boolean;
  /** undefined: wait for Enter/EOF; a number: seconds; Infinity: until a signal. */
  holdSeconds: number | undefined;
}

export function parseWriteArgs(argv: readonly string[]): ShmWriteArgs | "help" {
  const { options, positionals } = parseArgs(argv, [
    { long: "text", short: "t", value: true },
    { long: "hex", short: "x", value: true },
    { long: "offset", short: "o", value: true },
    { long: "size", value: true },
    { long: "nul", value: false },
    { long: "watch", value: false },
    { long: "hold-seconds", value: true },
    { long: "until-signal", value: false },
    { long: "unlink-on-exit", value: false },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) return "help";
  const name = oneName(positionals, 'hexmap shm write NAME --text "..."');
  const text = options.get("text");
  const hex = options.get("hex");
  if (text !== undefined && hex !== undefined) throw new UsageError("give --text or --hex, not both");
  let bytes: Buffer = Buffer.alloc(0);
  if (typeof hex === "string") bytes = parseHexBytes(hex);
  if (typeof text === "string") bytes = Buffer.from(text, "utf8");
  if (options.has("nul")) {
    if (typeof text !== "string") throw new UsageError("--nul goes with --text");
    bytes = Buffer.concat([bytes, Buffer.alloc(1)]);
  }
  const offsetText = options.get("offset");
  const offset = typeof offsetText === "string" ? parseCount(offsetText, "--offset") : 0;
  const sizeText = options.get("size");
  const size = typeof sizeText === "string" ? parseCount(sizeText, "--size") : undefined;
  if (size === 0) throw new UsageError("--size must be at least 1");
  if (size !== undefined && offset + bytes.length > size) {
    throw new UsageError(`${bytes.length} bytes at offset ${offset} do not fit in --size ${size}`);
  }
  const holdText = options.get("hold-seconds");
  if (holdText !== undefined && options.has("until-signal")) throw new UsageError("give --hold-seconds or --until-signal, not both");
  let holdSeconds: number | undefined;
  if (typeof holdText === "string") holdSeconds = parseCount(holdText, "--hold-seconds");
  if (options.has("until-signal")) holdSeconds = Infinity;
  return {
    name,
    bytes,
    offset,
    size,
    unlinkOnExit: options.has("unlink-on-exit"),
    watch: options.has("watch"),
    holdSeconds,
  };
}

function hexPreview(b: Uint8Array, max = 32): string {
  const shown = Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > max ? `${shown} …` : shown;
}

function openForWrite(args: ShmWriteArgs): Document {
  const size = args.size ?? Math.max(DEFAULT_SIZE, args.offset + args.bytes.length);
  try {
    return checkedName(() => openSharedMemoryDocument(args.name, { create: size }));
  } catch (err) {
    // It exists with another size: fine when the user did not ask for a size.
    const exists = err instanceof HexmapError && err.code === "EEXIST";
    if (!exists || args.size !== undefined) throw err;
    return openSharedMemoryDocument(args.name, { readOnly: false });
  }
}

async function runWrite(argv: string[], io: ShmIo): Promise<number> {
  const args = parseWriteArgs(argv);
  if (args === "help") {
    io.out.write(USAGE_WRITE);
    return 0;
  }
  const doc = openForWrite(args);
  const created = sharedMemorySourceOf(doc)?.created ?? false;
  const q = quoteShmName(args.name);
  let watcher: LiveWatcher | undefined;
  try {
    if (args.offset + args.bytes.length > doc.size) {
      throw new HexmapError(
        "ERANGE",
        `${args.bytes.length} bytes at offset ${args.offset} do not fit in section ${q} (${doc.size} bytes)`,
      );
    }
    const state = created ? "created" : "opened existing";
    if (args.bytes.length > 0) {
      await writeShm(doc, args.offset, args.bytes);
      io.out.write(`wrote ${args.bytes.length} bytes at ${args.offset} of section ${q} (${doc.size} bytes, ${state}): ${hexPreview(args.bytes)}\n`);
    } else {
      io.out.write(`section ${q} (${doc.size} bytes, ${state}): nothing to write\n`);
    }
    if (args.holdSeconds === 0) {
      if (isWin) io.out.write(`not holding: on Windows the section disappears when its last program exits\n`);
      return 0;
    }
    if (args.watch) {
      const w = new LiveWatcher(doc, { intervalMs: 100 });
      w.setRanges([{ offset: 0, length: Math.min(doc.size, 16 * 1024 * 1024) }]);
      await w.poll(); // baseline
      w.onChange((change) => {
        for (const r of change.ranges.slice(0, 16)) {
          const bytes = doc.readSync(r.offset, Math.min(r.length, 16));
          io.out.write(`changed at ${r.offset} (0x${r.offset.toString(16)}), ${r.length} byte${r.length === 1 ? "" : "s"}: ${hexPreview(bytes, 16)}${r.length > 16 ? " …" : ""}\n`);
        }
      });
      w.onError((err) => io.err.write(`hexmap shm: watching ${q}: ${err.message}\n`));
      watcher = w;
    }
    const how =
      args.holdSeconds === undefined
        ? "press Enter or Ctrl+C to exit"
        : args.holdSeconds === Infinity
          ? "press Ctrl+C (or send SIGTERM) to exit"
          : `for ${args.holdSeconds} s, or until Ctrl+C/SIGTERM`;
    const why = isWin ? " (the section disappears with the last program that has it open)" : "";
    io.out.write(`holding section ${q} open${why}: ${how}\n`);
    let input: Readable | undefined;
    let release: ((input: Readable) => void) | undefined;
    if (args.holdSeconds === undefined) {
      if (io.input) {
        input = io.input;
      } else {
        input = openStdin().stream;
        release = releaseStdin;
      }
    }
    const reason = await hold(args.holdSeconds, input, release, (why) =>
      io.err.write(
        `hexmap shm: standard input cannot be read (${why}), so Enter cannot end the hold: ` +
          `holding section ${q} until Ctrl+C/SIGTERM instead. ` +
          `To not use standard input, give --until-signal or --hold-seconds N.\n`,
      ),
    );
    io.out.write(`exiting (${reason})\n`);
    return 0;
  } finally {
    watcher?.close();
    doc.close();
    if (args.unlinkOnExit) {
      if (isWin) {
        io.out.write(`--unlink-on-exit: nothing to remove on Windows (the section ends with its last handle)\n`);
      } else {
        try {
          unlinkShm(args.name);
          io.out.write(`unlinked section ${q}\n`);
        } catch (err) {
          io.err.write(`hexmap shm: ${(err as Error).message}\n`);
        }
      }
    }
  }
}

/**
 * Resolves with why the hold ended: Enter, end of input, a signal, or the time limit. With
 * `seconds` undefined it reads `input`; if that fails (an 'error' event) it calls `unreadable`
 * and holds until a signal. `release` lets go of `input` at the end (default: pause it).
 */
function hold(
  seconds: number | undefined,
  input: Readable | undefined,
  release: ((input: Readable) => void) | undefined,
  unreadable: (why: string) => void,
): Promise<string> {
  return new Promise<string>((resolve) => {
    const cleanups: Array<() => void> = [];
    let finished = false;
    const done = (reason: string) => {
      if (finished) return;
      finished = true;
      for (const c of cleanups.splice(0)) c();
      resolve(reason);
    };
    // Signal handlers do not keep Node's event loop alive: a timer does.
    const keepAlive = () => {
      const t = setInterval(() => {}, 1 << 30);
      cleanups.push(() => clearInterval(t));
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const) {
      if (isWin && sig === "SIGHUP") continue;
      if (!isWin && sig === "SIGBREAK") continue;
      const h = () => done(sig);
      process.on(sig, h);
      cleanups.push(() => process.off(sig, h));
    }
    if (seconds !== undefined && seconds !== Infinity) {
      const t = setTimeout(() => done(`${seconds} s elapsed`), seconds * 1000);
      cleanups.push(() => clearTimeout(t));
    } else if (seconds === Infinity) {
      keepAlive();
    }
    if (seconds === undefined && input) {
      const onData = (chunk: Buffer | string) => {
        if (String(chunk).includes("\n")) done("Enter");
      };
      const onEnd = () => done("end of input");
      const stopReading = () => {
        input.off("data", onData);
        input.off("end", onEnd);
        input.off("close", onEnd);
      };
      // Not end of input: nobody can press Enter here. Hold until a signal, and say so.
      const onError = (err: unknown) => {
        if (finished) return;
        stopReading();
        keepAlive();
        unreadable(describeStdinError(err));
      };
      input.on("data", onData);
      input.once("end", onEnd);
      input.once("close", onEnd);
      input.on("error", onError);
      input.resume();
      cleanups.push(() => {
        stopReading(); // onError stays: a late error must not become an uncaught exception
        // Our own stdin keeps the loop alive while it reads: let go of it (see ./stdin).
        if (release) release(input);
        else input.pause();
      });
    }
  });
}

// ---- read -------------------------------------------------------------------------------------

async function runRead(argv: string[], io: ShmIo): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { long: "offset", short: "s", value: true },
    { long: "length", short: "l", value: true },
    { long: "text", value: false },
    { long: "help", short: "h", value: false },
  ]);
  if (options.has("help")) {
    io.out.write(USAGE_READ);
    return 0;
  }
  const name = oneName(positionals, "hexmap shm read NAME [--offset N] [--length N] [--text]");
  const offsetText = options.get("offset");
  const lengthText = options.get("length");
  const offset = typeof offsetText === "string" ? parseCount(offsetText, "--offset") : 0;
  const length = typeof lengthText === "string" ? parseCount(lengthText, "--length") : undefined;
  const doc = checkedName(() => openSharedMemoryDocument(name, { readOnly: true }));
  try {
    const size = doc.size;
    if (offset > size) throw new HexmapError("ERANGE", `--offset ${offset} is past the end of section ${quoteShmName(name)} (${size} bytes)`);
    const end = length === undefined ? size : Math.min(size, offset + length);
    if (options.has("text")) {
      const parts: Buffer[] = [];
      for (let pos = offset; pos < end; ) {
        const chunk = await doc.read(pos, Math.min(DUMP_CHUNK, end - pos));
        const nul = chunk.indexOf(0);
        parts.push(nul >= 0 ? chunk.subarray(0, nul) : chunk);
        if (nul >= 0 || chunk.length === 0) break;
        pos += chunk.length;
      }
      await writeOut(io.out, Buffer.concat([...parts, Buffer.from("\n")]));
      return 0;
    }
    for (let pos = offset; pos < end; ) {
      const chunk = await doc.read(pos, Math.min(DUMP_CHUNK, end - pos));
      if (chunk.length === 0) break;
      await writeOut(io.out, formatXxd(chunk, pos));
      pos += chunk.length;
    }
    return 0;
  } finally {
    doc.close();
  }
}

function writeOut(out: Writable, data: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    out.write(data, (err) => (err && (err as { code?: string }).code !== "EPIPE" ? reject(err) : resolve()));
  });
}

// ---- unlink -----------------------------------------------------------------------------------

async function runUnlink(argv: string[], io: ShmIo): Promise<number> {
  const { options, positionals } = parseArgs(argv, [{ long: "help", short: "h", value: false }]);
  if (options.has("help")) {
    io.out.write("Usage: hexmap shm unlink NAME\n\nPOSIX: removes the name (programs that have it open keep it). Windows: nothing to do.\n");
    return 0;
  }
  const name = oneName(positionals, "hexmap shm unlink NAME");
  if (isWin) {
    io.out.write(`nothing to remove on Windows: section ${quoteShmName(name)} ends when its last program closes it\n`);
    return 0;
  }
  checkedName(() => unlinkShm(name));
  io.out.write(`unlinked section ${quoteShmName(name)}\n`);
  return 0;
}
