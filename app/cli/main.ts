// `hexmap` command line: a table of subcommands. Each one is loaded only when used, so a command
// whose module is missing from a build fails alone, and startup stays fast.

import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "./args";

type Runner = (argv: string[]) => Promise<number>;

interface Command {
  /** Synopsis after "hexmap ". */
  usage: string;
  /** What it does, in a few words. */
  about: string;
  load: () => Runner;
}

const COMMANDS: Record<string, Command> = {
  dump: {
    usage: "dump FILE [-s|--offset N] [-l|--length N] [--holes]",
    about: "hex dump, identical to xxd -s N -l N (--holes: data ranges of a sparse file)",
    load: () => (require("./dump") as { runDump: Runner }).runDump,
  },
  patch: {
    usage: "patch FILE (--insert OFF:HEX | --delete OFF:LEN | --overwrite OFF:HEX)... [--ops-file F] [--strategy S]",
    about: "insert, delete and overwrite bytes, saved once, crash-safe",
    load: () => (require("./patch") as { runPatch: Runner }).runPatch,
  },
  recover: {
    usage: "recover FILE [--forward | --back]",
    about: "finish or roll back an interrupted save",
    load: () => (require("./recover") as { runRecover: Runner }).runRecover,
  },
  search: {
    usage: "search FILE (--hex P | --text T | --regex RE) [options]",
    about: "find byte patterns or text (offsets, or --count)",
    load: () => (require("./search") as { runSearch: Runner }).runSearch,
  },
  strings: {
    usage: "strings FILE [-n MIN] [--encoding ascii|utf16le|all]",
    about: "printable strings with offsets, like strings -a -t d",
    load: () => (require("./strings") as { runStrings: Runner }).runStrings,
  },
  replace: {
    usage: "replace FILE (--hex P | --text T | --regex RE) (--with-hex R | --with-text R) [--max N] [--strategy S]",
    about: "replace every match (any length), saved once, crash-safe",
    load: () => (require("./replace") as { runReplace: Runner }).runReplace,
  },
  shm: {
    usage: "shm (write|read|unlink) NAME [options]",
    about: "create, write and read named shared memory",
    load: () => (require("./shm") as { runShm: Runner }).runShm,
  },
  lines: {
    usage: "lines FILE [--line N [--count M]]",
    about: "line count like wc -l, or print lines",
    load: () => (require("./lines") as { runLines: Runner }).runLines,
  },
  hash: {
    usage: "hash FILE [--offset N --length N] [--algo A]",
    about: "CRC-32/MD5/SHA-1/SHA-256 like sha256sum",
    load: () => (require("./hash") as { runHash: Runner }).runHash,
  },
  struct: {
    usage: "struct FILE [--ksy F.ksy | --format NAME] [--offset N] [--max-nodes N]",
    about: "the file parsed by a Kaitai Struct format, as JSON",
    load: () => (require("./struct") as { runStruct: Runner }).runStruct,
  },
  diff: {
    usage: "diff A B [--max N] [--from N]",
    about: "differing bytes, like cmp -l",
    load: () => (require("./diff") as { runDiff: Runner }).runDiff,
  },
  serve: {
    usage: "serve FILE [options]",
    about: "view FILE in a browser (127.0.0.1, token)",
    load: () => (require("./serve") as { runServe: Runner }).runServe,
  },
};

export function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) => `  hexmap ${c.usage.padEnd(width)}  ${c.about}`);
  return [
    "Usage: hexmap COMMAND [ARGS]",
    "",
    "Commands:",
    ...lines,
    "",
    "Options: --help, --version. Numbers are decimal or 0x hex.",
    "Run `hexmap COMMAND --help` for a command's options.",
    "",
  ].join("\n");
}

export function version(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "hexmap" && pkg.version) return pkg.version;
    } catch {
      // not here: walk up
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`hexmap ${version()}\n`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`hexmap: unknown command ${JSON.stringify(name)}; run hexmap --help\n`);
    return 2;
  }
  let run: Runner;
  try {
    run = command.load();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "MODULE_NOT_FOUND" && e.message?.includes(`'./${name}'`)) {
      process.stderr.write(`hexmap: the ${name} command is not available in this build\n`);
      return 1;
    }
    throw err;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`hexmap ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as { code?: unknown; message?: unknown };
    process.stderr.write(`hexmap ${name}: ${typeof e.message === "string" ? e.message : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
