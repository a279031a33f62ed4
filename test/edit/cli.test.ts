// `hexmap patch` and `hexmap recover`, called in-process with captured output.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { Writable } from "node:stream";
import { runPatch, parseHexBytes } from "../../app/cli/patch";
import { runRecover } from "../../app/cli/recover";
import { Editor } from "../../app/engine/editor";
import { HexmapError } from "../../app/engine/errors";
import { journalPathFor } from "../../app/engine/journal";
import { setSaveFaultHook } from "../../app/engine/save";
import { FOUR_GIB, GiB, blockBytes, cleanupFixtures, makeFile, makeSparseFile } from "../fixtures";

after(cleanupFixtures);

function capture(): { io: { out: Writable; err: Writable }; out: () => string; err: () => string } {
  let o = "";
  let e = "";
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  return { io: { out: sink((s) => (o += s)), err: sink((s) => (e += s)) }, out: () => o, err: () => e };
}

test("parseHexBytes accepts the usual spellings and refuses the rest", () => {
  assert.deepEqual(parseHexBytes("DE AD BE EF"), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  assert.deepEqual(parseHexBytes("deadbeef"), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  assert.deepEqual(parseHexBytes("0xde,0xad:be-ef"), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  assert.throws(() => parseHexBytes("ABC"), /odd number/);
  assert.throws(() => parseHexBytes("zz"), /not hex/);
  assert.throws(() => parseHexBytes("  "), /at least one byte/);
});

test("hexmap patch writes hex and text, past 4 GiB too, and prints what it wrote", async () => {
  const fx = makeSparseFile({ size: 5 * GiB, blocks: [] });
  const c = capture();
  assert.equal(await runPatch([fx.path, "--offset", `0x${(FOUR_GIB - 2).toString(16)}`, "--hex", "DE AD BE EF"], c.io), 0, c.err());
  assert.match(c.out(), /4 bytes at offset 0xfffffffe \(4294967294\)/);
  assert.match(c.out(), /before: 00 00 00 00/);
  assert.match(c.out(), /after: {2}de ad be ef/);
  const fd = fs.openSync(fx.path, "r");
  const b = Buffer.alloc(4);
  fs.readSync(fd, b, 0, 4, FOUR_GIB - 2);
  fs.closeSync(fd);
  assert.deepEqual(b, Buffer.from([0xde, 0xad, 0xbe, 0xef]));

  const small = makeFile(Buffer.alloc(100, 0x2e), "text.bin");
  const c2 = capture();
  assert.equal(await runPatch([small, "--offset=10", "--text", "héllo"], c2.io), 0, c2.err());
  assert.equal(fs.readFileSync(small).subarray(10, 16).toString("utf8"), "héllo");
  assert.ok(!fs.existsSync(journalPathFor(small)));
});

test("hexmap patch: bad arguments exit 2, I/O errors exit 1", async () => {
  const file = makeFile(Buffer.alloc(16), "args.bin");
  const cases: [string[], number, RegExp][] = [
    [[file, "--hex", "00"], 2, /missing --offset/],
    [[file, "--offset", "1"], 2, /missing the bytes/],
    [[file, "--offset", "1", "--hex", "0", "--text", "a"], 2, /not both/],
    [[file, "--offset", "1", "--hex", "ABC"], 2, /odd number/],
    [[file, "--offset", "-1", "--hex", "00"], 2, /negative/],
    [[file, "--offset", "banana", "--hex", "00"], 2, /must be a number/],
    [[file, "--offset", "15", "--hex", "00 00"], 2, /do not fit/],
    [[file, "--offset", "1", "--hex", "00", "--bogus"], 2, /unknown option/],
    [["--offset", "1", "--hex", "00"], 2, /missing FILE/],
    [[file + ".missing", "--offset", "0", "--hex", "00"], 1, /No such file/],
  ];
  for (const [argv, code, msg] of cases) {
    const c = capture();
    assert.equal(await runPatch(argv, c.io), code, argv.join(" "));
    assert.match(c.err(), msg, argv.join(" "));
  }
  assert.deepEqual(fs.readFileSync(file), Buffer.alloc(16), "nothing written by a refused patch");
});

test("hexmap recover: reports the state, then rolls forward or back; patch refuses until then", async () => {
  const old = blockBytes(31, 100_000);
  const file = makeFile(old, "rec.bin");
  const none = capture();
  assert.equal(await runRecover([file], none.io), 0);
  assert.match(none.out(), /nothing to recover/);

  // Leave a durable journal behind, as a crash right after writing it would.
  const ed = Editor.open(file);
  ed.edit(500, Buffer.from("NEW"));
  setSaveFaultHook((s) => {
    if (s === "journal-durable") throw new HexmapError("EIO", "injected");
  });
  try {
    await ed.save().catch(() => {});
  } finally {
    setSaveFaultHook(null);
    ed.close();
  }
  const report = capture();
  assert.equal(await runRecover([file], report.io), 3);
  assert.match(report.out(), /a save was interrupted/);
  assert.match(report.out(), /all the original bytes/);
  assert.match(report.out(), /--forward: finish the save/);
  assert.match(report.out(), /--back: {4}undo the save/);

  const p = capture();
  assert.equal(await runPatch([file, "--offset", "0", "--hex", "01"], p.io), 1);
  assert.match(p.err(), /recover/);

  const both = capture();
  assert.equal(await runRecover([file, "--forward", "--back"], both.io), 2);

  const fwd = capture();
  assert.equal(await runRecover([file, "--forward"], fwd.io), 0, fwd.err());
  assert.match(fwd.out(), /save finished/);
  assert.equal(fs.readFileSync(file).subarray(500, 503).toString(), "NEW");
  assert.ok(!fs.existsSync(journalPathFor(file)));

  // A damaged journal: reported, then deleted without touching the file.
  fs.writeFileSync(journalPathFor(file), Buffer.from("HEXMAPJ1 but not really a journal, just junk bytes...........................................!"));
  const bad = capture();
  assert.equal(await runRecover([file], bad.io), 3);
  assert.match(bad.out(), /damaged or incomplete/);
  const del = capture();
  assert.equal(await runRecover([file, "--back"], del.io), 0);
  assert.match(del.out(), /deleted a damaged or incomplete journal/);
  assert.equal(fs.readFileSync(file).subarray(500, 503).toString(), "NEW");
});

test("hexmap patch applies --insert/--delete/--overwrite left to right and saves once, growing or shrinking the file", async () => {
  const old = blockBytes(77, 200_000);
  for (const strategy of ["auto", "rewrite", "in-place"]) {
    const file = makeFile(old, `ops-${strategy}.bin`);
    const c = capture();
    const argv = [file, "--insert", "0:CAFE", "--delete", "0x10:100", "--overwrite=2:00FF", "--insert", `${200_000 + 2 - 100}:EE`, "--strategy", strategy];
    assert.equal(await runPatch(argv, c.io), 0, c.err());
    const want = Buffer.concat([Buffer.from([0xca, 0xfe]), old.subarray(0, 14), old.subarray(114), Buffer.from([0xee])]);
    want[2] = 0x00;
    want[3] = 0xff;
    assert.deepEqual(fs.readFileSync(file), want, strategy);
    assert.match(c.out(), /4 operations, 200000 → 199903 bytes/);
    assert.ok(!fs.existsSync(journalPathFor(file)));
  }
});

test("hexmap patch --ops-file (a file, or - for standard input) takes 10 000 operations", async () => {
  const old = blockBytes(78, 100_000);
  const file = makeFile(old, "opsfile.bin");
  const ref = [...old];
  const lines: string[] = ["# a comment", ""];
  let seed = 3;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 10_000; i++) {
    const k = rnd(3);
    if (k === 0) {
      const at = rnd(ref.length + 1);
      const b = rnd(256);
      lines.push(`insert ${at} ${b.toString(16).padStart(2, "0")}`);
      ref.splice(at, 0, b);
    } else if (k === 1) {
      const at = rnd(ref.length - 4);
      lines.push(`delete 0x${at.toString(16)} 3`);
      ref.splice(at, 3);
    } else {
      const at = rnd(ref.length - 2);
      lines.push(`overwrite ${at} ABCD`);
      ref.splice(at, 2, 0xab, 0xcd);
    }
  }
  const opsPath = makeFile(lines.join("\n") + "\n", "ops.txt");
  const c = capture();
  assert.equal(await runPatch([file, "--ops-file", opsPath], c.io), 0, c.err());
  assert.deepEqual(fs.readFileSync(file), Buffer.from(ref));

  const file2 = makeFile(old, "opsstdin.bin");
  const c2 = capture();
  const { Readable } = await import("node:stream");
  const stdin = Readable.from([Buffer.from("insert 0 4142\ndelete 2 1\n")]);
  assert.equal(await runPatch([file2, "--ops-file", "-"], { ...c2.io, stdin }), 0, c2.err());
  assert.deepEqual(fs.readFileSync(file2), Buffer.concat([Buffer.from("AB"), old.subarray(1)]));
});

test("hexmap patch: a bad operation exits 2 naming it, and the file is untouched", async () => {
  const old = blockBytes(79, 1000);
  const file = makeFile(old, "badops.bin");
  const opsBad = makeFile("insert 0 00\ndelete 5 99999\n", "bad-ops.txt");
  const cases: [string[], RegExp][] = [
    [[file, "--insert", "1001:00"], /operation 1 \(--insert 1001:00\): offset 1001 is past the end/],
    [[file, "--insert", "0:ABC"], /operation 1 .*odd number/],
    [[file, "--insert", "0:AB", "--delete", "999:5"], /operation 2 \(--delete 999:5\): deleting 5 bytes at offset 999 runs past the end \(the file is 1001 bytes/],
    [[file, "--delete", "0:0"], /nothing to delete/],
    [[file, "--overwrite", "999:0102"], /do not fit/],
    [[file, "--insert", "zz:00"], /must be a number/],
    [[file, "--insert", "5"], /expected OFFSET:HEX/],
    [[file, "--ops-file", opsBad], /bad-ops.txt line 2 .*runs past the end/],
    [[file, "--insert", "0:00", "--strategy", "sideways"], /--strategy must be/],
    [[file], /missing the operations/],
  ];
  for (const [argv, msg] of cases) {
    const c = capture();
    assert.equal(await runPatch(argv, c.io), 2, argv.join(" "));
    assert.match(c.err(), msg, argv.join(" "));
  }
  assert.deepEqual(fs.readFileSync(file), old, "nothing written by a refused patch");
});
