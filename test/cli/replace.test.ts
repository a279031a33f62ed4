// `hexmap replace` against Python (bytes.replace for literals, re.sub for regular expressions):
// random files and patterns, a dense pattern whose overlapping occurrences run to a million
// (several rounds of the scan), --max, deletes, both save strategies; exit codes, and a file left
// untouched when nothing matches or the arguments are bad. Runs the CLI as users do.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { MiB, Rng, cleanupFixtures, makeTempDir } from "../fixtures";

const root = path.resolve(__dirname, "..", "..", "..");
const bin = path.join(root, "bin", "hexmap.js");
const python = spawnSync("python3", ["-c", "print(1)"]).status === 0;
after(cleanupFixtures);

function hexmap(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What Python makes of `file`: bytes.replace(P, R, count) or re.sub(P, R, data, count) (R literal). */
function pythonReplace(file: string, kind: "literal" | "regex", patternHex: string, replacementHex: string, count: number): Buffer {
  const out = file + ".py";
  const py = `import re,sys
data=open(sys.argv[1],'rb').read(); p=bytes.fromhex(sys.argv[3]); r=bytes.fromhex(sys.argv[4]); n=int(sys.argv[5])
if sys.argv[2]=='literal': res=data.replace(p,r,n if n>0 else -1)
else: res=re.sub(p,lambda m:r,data,count=max(n,0))
open(sys.argv[6],'wb').write(res)`;
  const r = spawnSync("python3", ["-c", py, file, kind, patternHex, replacementHex, String(count), out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const b = fs.readFileSync(out);
  fs.rmSync(out);
  return b;
}

describe("hexmap replace = Python", { skip: python ? false : "python3 is not installed" }, () => {
  const dir = makeTempDir("hexmap-replace-");

  test("random files, literal patterns and replacements of other lengths (and --max)", () => {
    const rng = new Rng(7);
    for (let round = 0; round < 12; round++) {
      // A small alphabet, so patterns occur often, also next to and inside each other.
      const size = 1 + rng.below(200_000);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = 0x61 + rng.below(3);
      const pat = Buffer.alloc(1 + rng.below(4));
      for (let i = 0; i < pat.length; i++) pat[i] = 0x61 + rng.below(3);
      const rep = Buffer.alloc(rng.below(6), 0x5a);
      const max = round % 3 === 0 ? 1 + rng.below(50) : 0;
      const file = path.join(dir, `lit${round}.bin`);
      fs.writeFileSync(file, data);
      const want = pythonReplace(file, "literal", pat.toString("hex"), rep.toString("hex"), max);
      const r = hexmap(["replace", file, "--hex", pat.toString("hex"), "--with-hex", rep.toString("hex"), ...(max ? ["--max", String(max)] : []), ...(round % 2 ? ["--strategy", "in-place"] : [])]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.readFileSync(file).equals(want), `round ${round}: ${pat} → ${rep.length} bytes, max ${max}`);
      assert.match(r.stdout, /^\d+\n$/);
    }
  });

  test("a dense pattern: a million overlapping occurrences (several scan rounds), every other one replaced", () => {
    const file = path.join(dir, "dense.bin");
    fs.writeFileSync(file, Buffer.alloc(MiB, 0x61));
    const want = pythonReplace(file, "literal", "6161", "62", 0);
    const r = hexmap(["replace", file, "--text", "aa", "--with-text", "b"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${MiB / 2}\n`);
    assert.ok(fs.readFileSync(file).equals(want));
  });

  test("regular expressions, matches of varying length; re.sub's result", () => {
    const rng = new Rng(8);
    const words = ["status=500", "status=404", "id=beef", "path=/api/x", "GET", "POST", "  "];
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`${words[rng.below(words.length)]} ${rng.below(1000)} ${words[rng.below(words.length)]}`);
    const data = Buffer.from(lines.join("\n") + "\n");
    for (const [re, rep, max] of [
      ["status=5\\d\\d", "STATUS", 0],
      ["[0-9]+", "#", 0],
      ["id=[0-9a-f]{4} ?", "", 0],
      ["(GET|POST) [0-9]{2,3}", "REQ", 100],
    ] as [string, string, number][]) {
      const file = path.join(dir, "re.log");
      fs.writeFileSync(file, data);
      const want = pythonReplace(file, "regex", Buffer.from(re).toString("hex"), Buffer.from(rep).toString("hex"), max);
      const r = hexmap(["replace", file, "--regex", re, "--with-text", rep, ...(max ? ["--max", String(max)] : [])]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.readFileSync(file).equals(want), `${re} → ${rep}`);
    }
  });
});

describe("hexmap replace: exit codes, and nothing written when it should not be", () => {
  const dir = makeTempDir("hexmap-replace-codes-");

  test("no match: count 0, exit 0, the file untouched (same mtime)", () => {
    const file = path.join(dir, "none.txt");
    fs.writeFileSync(file, "nothing to see here\n");
    const before = fs.statSync(file).mtimeMs;
    const r = hexmap(["replace", file, "--text", "absent", "--with-text", "x"]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, "0\n");
    assert.equal(fs.statSync(file).mtimeMs, before);
  });

  test("bad arguments and invalid patterns exit 2 and change nothing; a missing file exits 1", () => {
    const file = path.join(dir, "keep.txt");
    fs.writeFileSync(file, "keep keep\n");
    for (const args of [
      ["--text", "keep"], // no replacement
      ["--text", "keep", "--hex", "00", "--with-text", "x"],
      ["--hex", "zz", "--with-text", "x"],
      ["--text", "keep", "--with-hex", "0"],
      ["--regex", "(unclosed", "--with-text", "x"],
      ["--regex", "x*", "--with-text", "y"],
      ["--text", "keep", "--with-text", "x", "--strategy", "sideways"],
    ]) {
      const r = hexmap(["replace", file, ...args]);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "keep keep\n");
    const missing = hexmap(["replace", path.join(dir, "nope.txt"), "--text", "a", "--with-text", "b"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.txt/);
  });
});
