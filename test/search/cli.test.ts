// `hexmap search` as users run it (process.execPath bin/hexmap.js): offsets and counts against
// grep -b -o -a -F / grep -c -F on the same file, exit codes, streaming into a closed pipe.
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";

const root = path.resolve(__dirname, "..", "..", "..");
const bin = path.join(root, "bin", "hexmap.js");

after(() => cleanupFixtures());

function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
const noGrep = process.platform !== "win32" && onPath("grep") ? false : "grep is not available";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function hexmap(args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, "search", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function grep(args: string[]): Run {
  const r = spawnSync("grep", args, { encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: "C" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** grep -b -o's "offset:match" lines → offsets. */
function grepOffsets(out: string): number[] {
  return out
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => Number(l.slice(0, l.indexOf(":"))));
}

function offsets(out: string): number[] {
  return out
    .split("\n")
    .filter((l) => l.length > 0)
    .map(Number);
}

let file: string;
const LITERAL = "ERR#4711";
before(() => {
  // Pseudo-log lines; the literal appears at most once per line, so grep's line counts and
  // grep -o's matches count the same thing as ours. Also some binary bytes.
  const rng = new Rng(42);
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const r = rng.below(100);
    const tag = r < 3 ? LITERAL : r < 6 ? "err#4711" : r < 8 ? "ERR#471" : "INFO";
    lines.push(`2026-11-24 ${i} ${tag} worker=${rng.below(64)} ${"x".repeat(rng.below(80))}\x01\xfe`);
  }
  file = makeFile(Buffer.from(lines.join("\n"), "latin1"), "log.txt");
});

describe("hexmap search vs grep", { skip: noGrep }, () => {
  test("--count equals grep -c -F; offsets equal grep -b -o -a -F", () => {
    const g = grep(["-c", "-F", LITERAL, file]);
    const h = hexmap([file, "--count", "--text", LITERAL]);
    assert.equal(h.status, 0, h.stderr);
    assert.equal(h.stdout, g.stdout);
    assert.ok(Number(h.stdout) > 100);
    const go = grepOffsets(grep(["-b", "-o", "-a", "-F", LITERAL, file]).stdout);
    const ho = hexmap([file, "--text", LITERAL]);
    assert.equal(ho.status, 0);
    assert.deepEqual(offsets(ho.stdout), go);
  });

  test("--ignore-case equals grep -i; --hex with ?? equals the text it spells", () => {
    const go = grepOffsets(grep(["-b", "-o", "-a", "-i", "-F", LITERAL, file]).stdout);
    const ho = hexmap([file, "--text", LITERAL, "-i"]);
    assert.deepEqual(offsets(ho.stdout), go);
    assert.ok(go.length > offsets(hexmap([file, "--text", LITERAL]).stdout).length);
    const hex = Buffer.from(LITERAL).toString("hex").replace(/^(..)(..)/, "$1??"); // E ?? R # ...
    const hx = hexmap([file, "--hex", hex]);
    const expected = grepOffsets(grep(["-b", "-o", "-a", "-E", "E.R#4711", file]).stdout);
    assert.deepEqual(offsets(hx.stdout), expected);
  });

  test("--from, --max, --backward, --count --backward", () => {
    const all = grepOffsets(grep(["-b", "-o", "-a", "-F", LITERAL, file]).stdout);
    const mid = all[10]!;
    assert.deepEqual(offsets(hexmap([file, "--text", LITERAL, "--from", String(mid)]).stdout), all.slice(10));
    assert.deepEqual(offsets(hexmap([file, "--text", LITERAL, "--from", String(mid + 1)]).stdout), all.slice(11));
    assert.deepEqual(offsets(hexmap([file, "--text", LITERAL, "--max", "3"]).stdout), all.slice(0, 3));
    assert.deepEqual(offsets(hexmap([file, "--text", LITERAL, "--backward"]).stdout), [...all].reverse());
    assert.deepEqual(offsets(hexmap([file, "--text", LITERAL, "--backward", "--from", String(mid), "-m", "2"]).stdout), [all[9], all[8]]);
    assert.equal(hexmap([file, "--text", LITERAL, "--count", "--backward", "--from", String(mid + 1)]).stdout, "11\n");
    assert.equal(hexmap([file, "--text", LITERAL, "-c", "--from", `0x${mid.toString(16)}`]).stdout, `${all.length - 10}\n`);
  });
});

describe("hexmap search: encodings, overlaps, exit codes", () => {
  test("utf16le text and overlapping matches", () => {
    const f = makeFile(Buffer.from("aaaa Grüße grüsse GRÜSSE", "utf16le"), "u16.txt");
    assert.equal(hexmap([f, "--text", "aa", "--encoding", "utf16le"]).stdout, "0\n2\n4\n");
    assert.equal(hexmap([f, "--text", "grüße", "--encoding", "utf16le", "--ignore-case"]).stdout, "10\n");
    assert.equal(hexmap([f, "--text", "gr", "--encoding", "utf16le", "-i", "-c"]).stdout, "3\n");
    // A byte search knows no alignment: UTF-16BE "gr" occurs in this LE text, one byte off.
    const be = offsets(hexmap([f, "--text", "gr", "--encoding", "utf16be", "-i"]).stdout);
    assert.deepEqual(be, [9, 21, 35]);
  });

  test("exit 1 when nothing matches, with no output", () => {
    const r = hexmap([file, "--text", "no such text anywhere"]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    const c = hexmap([file, "--text", "no such text anywhere", "--count"]);
    assert.equal(c.status, 1);
    assert.equal(c.stdout, "0\n");
    const empty = makeFile("", "empty.bin");
    assert.equal(hexmap([empty, "--hex", "00"]).status, 1);
  });

  test("exit 2 for bad arguments, with a message", () => {
    for (const args of [
      [file],
      [file, "--hex", "DE", "--text", "x"],
      [file, "--hex", "DEA"],
      [file, "--hex", "DE GG"],
      [file, "--hex", "?? ??"],
      [file, "--hex", ""],
      [file, "--text", ""],
      [file, "--text", "x", "--encoding", "latin9"],
      [file, "--hex", "00", "--encoding", "utf8"],
      [file, "--text", "é", "--encoding", "ascii"],
      [file, "--text", "x", "--from", "-1"],
      [file, "--text", "x", "--from", "99999999999"],
      [file, "--text", "x", "--max", "ten"],
      [file, "--text", "x", "--bogus"],
      ["--text", "x"],
    ]) {
      const r = hexmap(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^hexmap search: .{10,}/, args.join(" "));
    }
    assert.equal(hexmap(["--help"]).status, 0);
  });

  test("exit 1 with a message for files that cannot be read", () => {
    const dir = makeTempDir();
    for (const target of [path.join(dir, "missing.bin"), dir]) {
      for (const extra of [[], ["--count"]]) {
        const r = hexmap([target, "--text", "x", ...extra]);
        assert.equal(r.status, 1, `${target} ${extra.join(" ")}`);
        assert.match(r.stderr, /^hexmap search: /);
        assert.equal(r.stdout, "");
      }
    }
  });

  test("a reader that goes away (| head) ends the listing cleanly", async () => {
    const f = makeFile(Buffer.alloc(4 * 1024 * 1024), "zeros.bin");
    const child = spawn(process.execPath, [bin, "search", f, "--hex", "00"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const first = await new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString())));
    assert.match(first, /^0\n1\n2\n/);
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    assert.equal(status, 0, stderr);
    assert.equal(stderr, "");
  });
});
