// Journaled save through the real addon: round-trips past 4 GiB in a sparse 6 GiB file, external
// change detection, journal corruption, recovery forward/back and rollback on a failed apply.
// No shell commands and no signals: this file also runs in the win32 leg (Windows Node under
// Wine), where the save goes through FlushViewOfFile + FlushFileBuffers for real.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Editor } from "../../app/engine/editor";
import { HexmapError } from "../../app/engine/errors";
import { journalPathFor, journalTempPathFor } from "../../app/engine/journal";
import { setSaveFaultHook, type SaveStep } from "../../app/engine/save";
import { FOUR_GIB, GiB, Rng, blockBytes, cleanupFixtures, interestingOffsets, makeBigFile, makeFile, makeTempDir } from "../fixtures";

after(cleanupFixtures);

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buf, got, length - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as HexmapError).code;
  }
  return "none";
}

/** Makes the next save stop with an error at `step` (a fault, not a crash). */
function failAt(step: SaveStep, index = 0): void {
  setSaveFaultHook((s, k) => {
    if (s === step && k === index) throw new HexmapError("EIO", `injected fault at ${s}:${k}`);
  });
}

test("save round-trips past 4 GiB in a sparse 6 GiB file; untouched bytes and holes stay as they were", async () => {
  const fx = makeBigFile(6 * GiB);
  const blocksBefore = process.platform === "win32" ? 0 : fs.statSync(fx.path).blocks;
  const edits: [number, Buffer][] = [
    [0, Buffer.from("HEXMAP")],
    [FOUR_GIB - 2, Buffer.from([0xde, 0xad, 0xbe, 0xef])], // straddles 4 GiB
    [FOUR_GIB + 70_000, Buffer.from([0x42])],
    [5 * GiB + 3 * 65_536 - 1, Buffer.from([1, 2])], // straddles a 64 KiB granule in a hole
    [5 * GiB + 12_345, Buffer.alloc(100_000, 0x5a)], // a bigger run in a hole
    [fx.size - 1, Buffer.from([0x99])], // the last byte
  ];
  const ed = Editor.open(fx.path);
  try {
    for (const [off, bytes] of edits) ed.edit(off, bytes);
    ed.fill(FOUR_GIB + 1_000_000, 3000, 0xcc);
    assert.equal(ed.dirty, true);
    let lastProgress = 0;
    const res = await ed.save({ onProgress: (p) => (lastProgress = p.phase === "flush" ? p.done : lastProgress) });
    assert.equal(res.bytes, edits.reduce((a, [, b]) => a + b.length, 0) + 3000);
    assert.equal(lastProgress, res.bytes);
    assert.equal(ed.dirty, false);
    assert.equal(ed.editCount, 0);
    assert.ok(!fs.existsSync(journalPathFor(fx.path)), "journal deleted after the save");
    assert.ok(!fs.existsSync(journalTempPathFor(fx.path)));
  } finally {
    ed.close();
  }
  // Check with plain file reads, not through the engine.
  const expectAt = (off: number, len: number): Buffer => {
    const exp = fx.expected(off, len);
    for (const [eo, bytes] of edits) {
      const from = Math.max(off, eo);
      const to = Math.min(off + len, eo + bytes.length);
      if (from < to) bytes.copy(exp, from - off, from - eo, to - eo);
    }
    const fo = FOUR_GIB + 1_000_000;
    for (let p = Math.max(off, fo); p < Math.min(off + len, fo + 3000); p++) exp[p - off] = 0xcc;
    return exp;
  };
  for (const [off, bytes] of edits) {
    assert.deepEqual(readAt(fx.path, off, bytes.length), bytes, `bytes at ${off}`);
    assert.deepEqual(readAt(fx.path, Math.max(0, off - 64), bytes.length + 128), expectAt(Math.max(0, off - 64), bytes.length + 128), `around ${off}`);
  }
  assert.deepEqual(readAt(fx.path, FOUR_GIB + 1_000_000 - 1, 3002), expectAt(FOUR_GIB + 1_000_000 - 1, 3002));
  // Sample check of untouched regions: block edges, 4 GiB, the end, and random offsets.
  const rng = new Rng(42);
  const samples = [...interestingOffsets(fx), ...Array.from({ length: 200 }, () => rng.below(fx.size - 4096))];
  for (const off of samples) {
    const len = Math.min(4096, fx.size - off);
    assert.deepEqual(readAt(fx.path, off, len), expectAt(off, len), `sample at ${off}`);
  }
  // Holes stay holes: the save wrote a few pages, it did not copy or fill the file.
  if (process.platform !== "win32") {
    const grown = (fs.statSync(fx.path).blocks - blocksBefore) * 512;
    assert.ok(grown < 8 * 1024 * 1024, `the file grew by ${grown} bytes on disk: a save must write only the edited pages`);
  }
});

test("undo across a save restores the bytes the file had before it, and saving again writes them back", async () => {
  const old = blockBytes(7, 200_000);
  const file = makeFile(old, "undo-save.bin");
  const ed = Editor.open(file);
  try {
    ed.edit(10, Buffer.from([1, 2, 3]));
    ed.edit(150_000, Buffer.from([4]));
    await ed.save();
    assert.deepEqual(readAt(file, 10, 3), Buffer.from([1, 2, 3]));
    assert.equal(ed.canUndo, true);
    ed.undo(); // the edit at 150 000
    ed.undo(); // the edit at 10
    assert.equal(ed.dirty, true);
    assert.equal(ed.editCount, 2);
    assert.deepEqual(await ed.read(10, 3), old.subarray(10, 13));
    assert.deepEqual(await ed.read(150_000, 1), old.subarray(150_000, 150_001));
    await ed.save();
    assert.deepEqual(fs.readFileSync(file), old);
    ed.redo();
    assert.deepEqual(await ed.read(10, 3), Buffer.from([1, 2, 3]));
  } finally {
    ed.close();
  }
});

test("external change: an append, a touch or changed bytes make save refuse with ECHANGED; force overrides", async () => {
  const dir = makeTempDir();
  const mk = (name: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, blockBytes(9, 100_000));
    fs.utimesSync(f, 1_000_000_000, 1_000_000_000); // a whole-second mtime we can restore exactly
    return f;
  };

  // 1. append
  const a = mk("append.bin");
  const ea = Editor.open(a);
  ea.edit(5, Buffer.from([0xab]));
  fs.appendFileSync(a, "more");
  const ca = ea.checkExternalChange();
  assert.equal(ca.changed, true);
  assert.match(ca.reason, /size/);
  assert.equal(await codeOf(ea.save()), "ECHANGED");
  assert.equal(readAt(a, 5, 1)[0], blockBytes(9, 100_000)[5], "refused save wrote nothing");
  await ea.save({ force: true });
  assert.equal(readAt(a, 5, 1)[0], 0xab);
  assert.equal(ea.checkExternalChange().changed, false, "a save records the new identity");
  ea.close();

  // 2. touch
  const t = mk("touch.bin");
  const et = Editor.open(t);
  et.edit(5, Buffer.from([0xab]));
  fs.utimesSync(t, 1_000_000_100, 1_000_000_100);
  assert.match(et.checkExternalChange().reason, /modified/);
  assert.equal(await codeOf(et.save()), "ECHANGED");
  await et.save({ force: true });
  et.close();

  // 3. the edited range's original bytes changed, size and mtime put back
  const c = mk("content.bin");
  const ec = Editor.open(c);
  ec.edit(50_000, Buffer.from([1, 2, 3, 4]));
  const fd = fs.openSync(c, "r+");
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 50_002);
  fs.closeSync(fd);
  fs.utimesSync(c, 1_000_000_000, 1_000_000_000);
  const cc = ec.checkExternalChange();
  assert.equal(cc.changed, true);
  if (fs.statSync(c, { bigint: true }).mtimeNs === 1_000_000_000n * 1_000_000_000n) assert.match(cc.reason, /bytes at offset 50000/);
  assert.equal(await codeOf(ec.save()), "ECHANGED");
  const forced = await ec.save({ force: true });
  assert.equal(forced.bytes, 4);
  assert.deepEqual(readAt(c, 50_000, 4), Buffer.from([1, 2, 3, 4]));
  ec.close();

  // 4. an unchanged file saves normally
  const u = mk("unchanged.bin");
  const eu = Editor.open(u);
  eu.edit(1, Buffer.from([7]));
  assert.equal(eu.checkExternalChange().changed, false);
  await eu.save();
  eu.close();
});

test("a journal left by an interrupted save: recover forward writes all new bytes, back all old; state says so", async () => {
  const old = blockBytes(11, 300_000);
  for (const direction of ["forward", "back"] as const) {
    const file = makeFile(old, `recover-${direction}.bin`);
    const ed = Editor.open(file);
    ed.edit(100, Buffer.from("abc"));
    ed.edit(200_000, Buffer.alloc(5000, 0x11));
    failAt("journal-durable");
    try {
      assert.equal(await codeOf(ed.save()), "EIO");
    } finally {
      setSaveFaultHook(null);
    }
    ed.close();
    assert.deepEqual(fs.readFileSync(file), old, "the journal is durable, the file not touched yet");
    const st = Editor.recoverState(file);
    assert.equal(st.journal, "valid");
    assert.equal(st.records, 2);
    assert.equal(st.fileState, "old");
    // A new save must not overwrite the journal of an unfinished one.
    const ed2 = Editor.open(file);
    ed2.edit(0, Buffer.from([1]));
    assert.equal(await codeOf(ed2.save()), "EBUSY");
    ed2.close();
    const res = await Editor.recover(file, direction);
    assert.equal(res.action, direction === "forward" ? "rolled-forward" : "rolled-back");
    const expected = Buffer.from(old);
    if (direction === "forward") {
      expected.write("abc", 100, "latin1");
      expected.fill(0x11, 200_000, 205_000);
    }
    assert.deepEqual(fs.readFileSync(file), expected);
    assert.equal(Editor.recoverState(file).journal, "none");
    assert.equal((await Editor.recover(file, direction)).action, "none", "idempotent");
  }
});

test("journal corruption (a flipped byte, a truncation) → treated as not applied, deleted, file untouched", async () => {
  const old = blockBytes(12, 100_000);
  for (const damage of ["flip", "truncate", "magic"] as const) {
    const file = makeFile(old, `corrupt-${damage}.bin`);
    const ed = Editor.open(file);
    ed.edit(1000, Buffer.from("new bytes"));
    failAt("journal-durable");
    try {
      await codeOf(ed.save());
    } finally {
      setSaveFaultHook(null);
    }
    const jp = journalPathFor(file);
    const j = fs.readFileSync(jp);
    if (damage === "flip") j[j.length - 40]! ^= 0x01; // inside the new bytes of the record
    if (damage === "magic") j[0] = 0x58;
    fs.writeFileSync(jp, damage === "truncate" ? j.subarray(0, j.length - 7) : j);
    const st = Editor.recoverState(file);
    assert.equal(st.journal, "invalid", damage);
    assert.ok(st.reason && st.reason.length > 0);
    const res = await Editor.recover(file, "forward");
    assert.equal(res.action, "discarded-invalid");
    assert.ok(!fs.existsSync(jp));
    assert.deepEqual(fs.readFileSync(file), old, "an invalid journal is never applied");
    // The editor still has its edits and can save them now.
    await ed.save();
    assert.equal(readAt(file, 1000, 9).toString(), "new bytes");
    ed.close();
  }
});

test("a failure while applying rolls the file back and keeps the edits pending", async () => {
  const old = blockBytes(13, 2 * 1024 * 1024);
  const file = makeFile(old, "rollback.bin");
  const ed = Editor.open(file);
  for (let i = 0; i < 50; i++) ed.edit(i * 40_000 + 7, Buffer.from([i, i + 1]));
  failAt("apply", 10);
  let err: HexmapError | undefined;
  try {
    await ed.save();
  } catch (e) {
    err = e as HexmapError;
  } finally {
    setSaveFaultHook(null);
  }
  assert.equal(err?.code, "EIO");
  assert.match(err!.message, /was rolled back; the file is unchanged/);
  assert.deepEqual(fs.readFileSync(file), old);
  assert.equal(Editor.recoverState(file).journal, "none");
  assert.equal(ed.dirty, true);
  await ed.save();
  assert.deepEqual(readAt(file, 49 * 40_000 + 7, 2), Buffer.from([49, 50]));
  ed.close();
});
