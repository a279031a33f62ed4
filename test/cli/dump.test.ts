// `hexmap dump` against the real xxd (Linux; skipped where xxd is missing), exit codes, EPIPE.
// Runs the CLI as users do: process.execPath bin/hexmap.js.

import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { formatXxd } from "../../app/cli/dump";
import { parseArgs, parseCount, parseNumber, UsageError } from "../../app/cli/args";
import {
  FOUR_GIB,
  GiB,
  MiB,
  Rng,
  cleanupFixtures,
  interestingOffsets,
  makeBigFile,
  makeFile,
  makeTempDir,
  type SparseFixture,
} from "../fixtures";

const root = path.resolve(__dirname, "..", "..", "..");
const bin = path.join(root, "bin", "hexmap.js");

function findXxd(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, "xxd");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
const xxd = findXxd();
const noXxd = xxd ? false : "xxd is not installed";

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function hexmap(args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { maxBuffer: 256 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function runXxd(args: string[]): Run {
  const r = spawnSync(xxd!, args, { maxBuffer: 256 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function sameAsXxd(args: string[], what = args.join(" ")): void {
  const mine = hexmap(["dump", ...args]);
  const theirs = runXxd(args);
  assert.equal(mine.status, 0, `${what}: exit ${mine.status}: ${mine.stderr}`);
  assert.equal(theirs.status, 0, `xxd ${what}: ${theirs.stderr}`);
  if (!mine.stdout.equals(theirs.stdout)) {
    const a = mine.stdout.toString("latin1").split("\n");
    const b = theirs.stdout.toString("latin1").split("\n");
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`${what}: differs from xxd at line ${i}:\n  hexmap: ${JSON.stringify(a[i])}\n  xxd:    ${JSON.stringify(b[i])}`);
  }
}

let big: SparseFixture;
let small: string; // all 256 byte values, then text
let text: string;
let empty: string;

before(() => {
  big = makeBigFile(6 * GiB);
  const dir = makeTempDir();
  small = makeFile(Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from("The end.\n")]), "small.bin", dir);
  text = makeFile("Hexmap reads files far larger than memory.\nSecond line\ttab\r\n", "text.txt", dir);
  empty = makeFile(Buffer.alloc(0), "empty.bin", dir);
});

after(() => cleanupFixtures());

describe("dump matches xxd", { skip: noXxd }, () => {
  test("small files: a text file, all byte values, an empty file", () => {
    sameAsXxd([text]);
    sameAsXxd([small]);
    sameAsXxd([empty]);
    sameAsXxd(["-l", "0", small]);
    sameAsXxd(["-l", "0", empty]);
    sameAsXxd(["-s", "5", empty]);
  });

  test("every partial last row (lengths 0..33 at offset 5)", () => {
    for (let len = 0; len <= 33; len++) sameAsXxd(["-s", "5", "-l", String(len), small]);
  });

  test("offset forms: hex, from the end, at and past EOF, long options", () => {
    sameAsXxd(["-s", "0x10", "-l", "0x20", small]);
    sameAsXxd(["-s", "-20", small]);
    sameAsXxd(["-s", "-0", small]);
    sameAsXxd(["-s", "+7", "-l", "9", small]);
    sameAsXxd(["-s", "265", small], "at EOF");
    sameAsXxd(["-s", "100000", small], "past EOF");
    sameAsXxd(["-s", String(big.size + 12345), "-l", "32", big.path], "past EOF of the 6 GiB file");
    const mine = hexmap(["dump", "--offset=16", "--length", "32", small]).stdout;
    assert.ok(mine.equals(runXxd(["-s", "16", "-l", "32", small]).stdout), "--offset=/--length");
    assert.ok(hexmap(["dump", "-s16", "-l32", small]).stdout.equals(mine), "-s16 -l32");
  });

  test("the 6 GiB file: 4 GiB boundary (offset column widens), block edges, last rows", () => {
    sameAsXxd(["-s", String(FOUR_GIB - 40), "-l", "96", big.path], "across 2^32");
    sameAsXxd(["-s", String(FOUR_GIB - 3), "-l", "70000", big.path], "the block at 2^32-3");
    sameAsXxd(["-s", "-100", big.path], "last rows");
    sameAsXxd(["-s", String(big.size - 17), big.path], "last 17 bytes");
    sameAsXxd(["-s", String(big.size - 1), "-l", "5", big.path], "last byte");
    sameAsXxd(["-l", String(2 * MiB + 37), big.path], "across 1 MiB read chunks");
  });

  test("40 seeded random offset/length pairs, many past 4 GiB", () => {
    const rng = new Rng(0xd0d0);
    const hot = interestingOffsets(big);
    for (let i = 0; i < 40; i++) {
      const at = rng.float() < 0.6 ? Math.max(0, Math.min(big.size, rng.pick(hot) + rng.between(-300, 300))) : rng.below(big.size);
      const len = rng.pick([0, 1, 16, 17, rng.below(64), rng.below(4096), rng.below(200000)]);
      sameAsXxd(["-s", String(at), "-l", String(len), big.path], `#${i} -s ${at} -l ${len}`);
    }
  });
});

describe("dump errors and exit codes", () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ["missing file", ["dump", "/nonexistent/file.bin"], 1, /No such file: \/nonexistent\/file\.bin/],
    ["a directory", ["dump", "."], 1, /directory/],
    ["bad number", ["dump", "-s", "12abc", "x"], 2, /--offset must be a number/],
    ["negative length", ["dump", "-l", "-5", "x"], 2, /--length must not be negative/],
    ["too large", ["dump", "-s", "9007199254740992", "x"], 2, /too large/],
    ["unknown option", ["dump", "--frobnicate", "x"], 2, /unknown option --frobnicate/],
    ["missing value", ["dump", "x", "-s"], 2, /needs a value/],
    ["missing FILE", ["dump"], 2, /missing FILE/],
    ["two files", ["dump", "a", "b"], 2, /one FILE/],
    ["unknown command", ["frob"], 2, /unknown command "frob"/],
    ["no command", [], 2, /Usage: hexmap/],
  ];
  for (const [what, args, code, message] of cases) {
    test(`${what}: exit ${code}, one line on stderr`, () => {
      const r = hexmap(args);
      assert.equal(r.status, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout.length, 0);
      if (args.length > 0) assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    });
  }

  test("-s -N before the start is a usage error (exit 2)", () => {
    const r = hexmap(["dump", "-s", "-1000", small]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /before the start/);
  });

  test("--help and --version", () => {
    const help = hexmap(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout.toString(), /hexmap dump FILE/);
    assert.match(hexmap(["dump", "--help"]).stdout.toString(), /--offset N/);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
    const v = hexmap(["--version"]);
    assert.equal(v.status, 0);
    assert.equal(v.stdout.toString(), `hexmap ${pkg.version}\n`);
  });

  test("a reader that goes away (hexmap dump big | head) ends quietly with exit 0", async () => {
    const child = spawn(process.execPath, [bin, "dump", "-l", String(512 * MiB), big.path], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });
});

describe("formatting and argument helpers", () => {
  test("formatXxd: rows, padding, ASCII column, offsets past 2^32 and 2^48", () => {
    assert.equal(formatXxd(Buffer.alloc(0), 0).length, 0);
    assert.equal(
      formatXxd(Buffer.from("Hello\n\x00\x7f\x80 ~", "latin1"), 0).toString("latin1"),
      "00000000: 4865 6c6c 6f0a 007f 8020 7e              Hello.... ~\n",
    );
    assert.equal(formatXxd(Buffer.from([0xab]), 2 ** 32 + 0x1a).toString(), "10000001a: ab                                       .\n");
    assert.match(formatXxd(Buffer.alloc(1), 2 ** 52).toString(), /^10000000000000: 00 /);
    const two = formatXxd(Buffer.alloc(32, 0x41), FOUR_GIB - 16).toString().split("\n");
    assert.ok(two[0]!.startsWith("fffffff0: 4141"));
    assert.ok(two[1]!.startsWith("100000000: 4141"));
  });

  test("parseNumber / parseCount / parseArgs", () => {
    assert.deepEqual(parseNumber("0x1F", "n"), { value: 31, negative: false });
    assert.deepEqual(parseNumber("-16", "n"), { value: 16, negative: true });
    assert.deepEqual(parseNumber("+16", "n"), { value: 16, negative: false });
    assert.equal(parseNumber("0010", "n").value, 10, "decimal even with leading zeros");
    assert.equal(parseNumber(String(Number.MAX_SAFE_INTEGER), "n").value, Number.MAX_SAFE_INTEGER);
    for (const bad of ["", "x", "1.5", "1e3", "0x", "--1", "12abc", "0xg", "9007199254740992", " "]) {
      assert.throws(() => parseNumber(bad, "n"), UsageError, bad);
    }
    assert.equal(parseCount("-0", "n"), 0);
    assert.throws(() => parseCount("-1", "n"), UsageError);
    const specs = [
      { long: "offset", short: "s", value: true },
      { long: "all", short: "a", value: false },
    ];
    const p = parseArgs(["-s", "-3", "f", "--all", "--", "-a"], specs);
    assert.equal(p.options.get("offset"), "-3");
    assert.equal(p.options.get("all"), true);
    assert.deepEqual(p.positionals, ["f", "-a"]);
    assert.throws(() => parseArgs(["--all=1"], specs), UsageError);
    assert.throws(() => parseArgs(["-x"], specs), UsageError);
  });
});

// `hexmap dump --holes` against Python's os.lseek(SEEK_DATA/SEEK_HOLE) walk of the same file.
describe("dump --holes: the data ranges of a sparse file, as SEEK_DATA/SEEK_HOLE report them", { skip: process.platform !== "linux" ? "SEEK_DATA oracle (python3 on Linux)" : false }, () => {
  const dir = makeTempDir("hexmap-holes-");
  const file = path.join(dir, "holes.bin");
  before(() => {
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, 6 * GiB);
    const rng = new Rng(41);
    for (const at of [0, 123_456, 2 * GiB + 5, FOUR_GIB + 777, 5 * GiB, 6 * GiB - 3]) {
      const b = Buffer.alloc(1 + rng.below(9000));
      for (let i = 0; i < b.length; i++) b[i] = 1 + rng.below(255);
      fs.writeSync(fd, b, 0, Math.min(b.length, 6 * GiB - at), at);
    }
    fs.closeSync(fd);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function oracle(from: number, to: number): string {
    const py = `import os,sys
fd=os.open(sys.argv[1],os.O_RDONLY); p=int(sys.argv[2]); end=int(sys.argv[3]); out=[]
while p<end:
  try: d=os.lseek(fd,p,os.SEEK_DATA)
  except OSError: break
  if d>=end: break
  h=min(os.lseek(fd,d,os.SEEK_HOLE),end); out.append("%d %d"%(d,h)); p=h
print("\\n".join(out)+("\\n" if out else ""),end="")`;
    const r = spawnSync("python3", ["-c", py, file, String(from), String(to)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  }

  test("the whole file, and ranges past 4 GiB cut by --offset/--length", () => {
    for (const [args, from, to] of [
      [[], 0, 6 * GiB],
      [["-s", "100000"], 100_000, 6 * GiB],
      [["-s", String(FOUR_GIB), "-l", String(GiB + 1)], FOUR_GIB, 5 * GiB + 1],
      [["-s", "-10"], 6 * GiB - 10, 6 * GiB],
    ] as [string[], number, number][]) {
      const r = hexmap(["dump", file, "--holes", ...args]);
      assert.equal(r.status, 0, r.stderr);
      const want = oracle(from, to);
      assert.ok(want.split("\n").length >= 2, "the fixture has data ranges");
      assert.equal(r.stdout.toString(), want, args.join(" "));
    }
  });

  test("a file that is not sparse is one range; an empty file none; a missing one ENOENT", () => {
    const plain = path.join(dir, "plain.bin");
    fs.writeFileSync(plain, Buffer.alloc(10_000, 7));
    assert.equal(hexmap(["dump", plain, "--holes"]).stdout.toString(), "0 10000\n");
    const empty = path.join(dir, "empty.bin");
    fs.writeFileSync(empty, "");
    assert.equal(hexmap(["dump", empty, "--holes"]).stdout.toString(), "");
    const missing = hexmap(["dump", path.join(dir, "nope.bin"), "--holes"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /ENOENT|not found|No such/i);
  });
});
