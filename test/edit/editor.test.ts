// Editor behaviour around the overlay and the save: merged reads, read-only refusal, no edits
// while a save runs, Save As (copy with edits, cancel leaves nothing behind), stale temp journals.
// No shell commands: runs in the Wine leg too.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Editor } from "../../app/engine/editor";
import type { HexmapError } from "../../app/engine/errors";
import { journalTempPathFor } from "../../app/engine/journal";
import { blockBytes, cleanupFixtures, codeOf, makeFile, makeSparseFile, makeTempDir, MiB } from "../fixtures";

after(cleanupFixtures);

async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as HexmapError).code;
  }
  return "none";
}

test("reads merge pending edits; generation bumps on edit, undo and save; dirty and editCount follow", async () => {
  const data = blockBytes(21, 70_000);
  const ed = Editor.open(makeFile(data, "merge.bin"));
  try {
    const g0 = ed.generation;
    ed.edit(65_530, Buffer.from("across-a-page"), { group: "t" });
    assert.ok(ed.generation > g0);
    const got = await ed.read(65_520, 40);
    const exp = Buffer.from(data.subarray(65_520, 65_560));
    exp.write("across-a-page", 10, "latin1");
    assert.deepEqual(got, exp);
    assert.deepEqual(ed.readSync(65_520, 40), exp);
    assert.equal(ed.dirty, true);
    assert.equal(ed.editCount, 1);
    ed.edit(65_543, Buffer.from("!"), { group: "t" }); // typing on: same step
    assert.equal(ed.editCount, 1);
    const g1 = ed.generation;
    ed.undo();
    assert.ok(ed.generation > g1);
    assert.equal(ed.dirty, false);
    assert.deepEqual(await ed.read(65_520, 40), data.subarray(65_520, 65_560));
    ed.redo();
    const g2 = ed.generation;
    await ed.save();
    assert.ok(ed.generation > g2);
    assert.equal(ed.dirty, false);
    assert.equal(codeOf(() => ed.edit(70_000, Buffer.from([1]))), "ERANGE");
    assert.equal(codeOf(() => ed.edit(10, Buffer.alloc(0))), "EINVAL");
    assert.equal(codeOf(() => ed.fill(69_999, 2, 0)), "ERANGE");
  } finally {
    ed.close();
  }
});

test("a read-only editor refuses edits and save with EACCES, but reads", async () => {
  const file = makeFile(blockBytes(22, 1000), "ro.bin");
  const ed = Editor.open(file, { readOnly: true });
  try {
    assert.equal(codeOf(() => ed.edit(0, Buffer.from([1]))), "EACCES");
    assert.equal(codeOf(() => ed.fill(0, 1, 1)), "EACCES");
    assert.equal(await codeOfAsync(ed.save()), "EACCES");
    assert.equal((await ed.read(0, 10)).length, 10);
  } finally {
    ed.close();
  }
});

test("no edits while a save runs: edit/fill/undo/redo → EBUSY; reads still show the edits", async () => {
  const data = blockBytes(23, 4 * MiB);
  const file = makeFile(data, "busy.bin");
  const ed = Editor.open(file);
  try {
    for (let i = 0; i < 2000; i++) ed.edit(i * 2000 + 1, Buffer.from([0xee]));
    const saving = ed.save();
    assert.equal(ed.busyWith, "save");
    assert.equal(codeOf(() => ed.edit(0, Buffer.from([1]))), "EBUSY");
    assert.equal(codeOf(() => ed.fill(0, 4, 1)), "EBUSY");
    assert.equal(codeOf(() => ed.undo()), "EBUSY");
    assert.equal(codeOf(() => ed.redo()), "EBUSY");
    assert.equal(await codeOfAsync(ed.save()), "EBUSY");
    assert.equal((await ed.read(2001, 1))[0], 0xee, "reads during a save show the edits");
    await saving;
    assert.equal(ed.busyWith, null);
    ed.edit(0, Buffer.from([1]));
    assert.equal(fs.readFileSync(file)[2001], 0xee);
  } finally {
    ed.close();
  }
});

test("Save As writes a copy with the edits (sparse stays sparse) and leaves the editor's file and edits alone", async () => {
  const fx = makeSparseFile({ size: 20 * MiB + 5, blocks: [{ offset: 3 * MiB, length: 100_000, seed: 5 }] });
  const ed = Editor.open(fx.path);
  const target = path.join(path.dirname(fx.path), "copy.bin");
  try {
    ed.edit(3 * MiB + 10, Buffer.from("edited"));
    ed.edit(20 * MiB + 4, Buffer.from([0x7f]));
    let progress = 0;
    const res = await ed.saveAs(target, { onProgress: (p) => (progress = p.done) });
    assert.equal(res.bytes, fx.size);
    assert.equal(progress, fx.size);
    const copy = fs.readFileSync(target);
    const exp = fx.expected(0, fx.size);
    exp.write("edited", 3 * MiB + 10, "latin1");
    exp[20 * MiB + 4] = 0x7f;
    assert.ok(copy.equals(exp), "the copy holds the file with the edits");
    assert.ok(fs.readFileSync(fx.path).equals(fx.expected(0, fx.size)), "the original is untouched");
    assert.equal(ed.dirty, true);
    if (process.platform !== "win32") assert.ok(fs.statSync(target).blocks * 512 < 4 * MiB, "holes stay holes");
    assert.equal(await codeOfAsync(ed.saveAs(fx.path)), "EINVAL");
  } finally {
    ed.close();
  }
});

test("cancelling Save As removes its temp file and leaves no target", async () => {
  const fx = makeSparseFile({ size: 40 * MiB, blocks: [{ offset: 0, length: 40 * MiB, seed: 6 }] });
  const dir = path.dirname(fx.path);
  const before = fs.readdirSync(dir).sort();
  const ed = Editor.open(fx.path);
  const ac = new AbortController();
  const target = path.join(dir, "never.bin");
  try {
    ed.edit(0, Buffer.from([1]));
    const code = await codeOfAsync(ed.saveAs(target, { signal: ac.signal, onProgress: (p) => p.done >= 8 * MiB && ac.abort() }));
    assert.equal(code, "ECANCELED");
    assert.deepEqual(fs.readdirSync(dir).sort(), before, "no temp file and no target left behind");
    assert.equal(ed.busyWith, null);
  } finally {
    ed.close();
  }
});

test("a stale temp journal (crash while writing the journal) is reported, harmless, and removed", async () => {
  const dir = makeTempDir();
  const file = path.join(dir, "stale.bin");
  const data = blockBytes(24, 5000);
  fs.writeFileSync(file, data);
  fs.writeFileSync(journalTempPathFor(file), Buffer.from("HEXMAPJ1 half-written"));
  const st = Editor.recoverState(file);
  assert.equal(st.journal, "none");
  assert.equal(st.staleTemp, true);
  // A save simply replaces it.
  const ed = Editor.open(file);
  ed.edit(1, Buffer.from([9]));
  await ed.save();
  ed.close();
  assert.ok(!fs.existsSync(journalTempPathFor(file)));
  fs.writeFileSync(journalTempPathFor(file), "x");
  assert.equal((await Editor.recover(file, "back")).action, "none");
  assert.ok(!fs.existsSync(journalTempPathFor(file)));
  assert.equal(fs.readFileSync(file)[1], 9);
});
