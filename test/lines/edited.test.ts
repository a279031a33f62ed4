// The line index over an edited document (LineIndex.rebase onto Editor snapshots), against a
// reference: a plain byte array edited the same way, its lines split by a simple newline count.
// Random mixes of insert / delete / overwrite / fill / undo / redo; after each step the index is
// rebased with the prefix firstDifference() says is unchanged, sometimes looked up before it is
// rebuilt (the index is usable while it builds), then built and compared in full. Small K, a low
// native threshold and a low JS limit put native counts over file pieces at odd shifts, JS counts
// over added pieces and UTF-16 units straddling piece boundaries into every run. Also: a save keeps
// the index (same bytes), and a 5 GiB sparse file edited near its start re-indexes only what moved.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { Document } from "../../app/engine/document";
import { Editor } from "../../app/engine/editor";
import { LineIndex, firstDifference, wholeFile, type LineIndexOptions } from "../../app/engine/line-index";
import { getLineText, getLines } from "../../app/engine/lines";
import { runFilter } from "../../app/engine/line-filter";
import { GiB, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { Reference } from "./helpers";

after(() => cleanupFixtures());

type Enc = "utf-8" | "utf-16le" | "utf-16be";

type Op =
  | { k: "insert"; at: number; data: number[] }
  | { k: "delete"; at: number; len: number }
  | { k: "overwrite"; at: number; data: number[] }
  | { k: "fill"; at: number; len: number; byte: number }
  | { k: "undo" }
  | { k: "redo" };

/** Newline-heavy bytes; for UTF-16 also NULs so 0A 00 / 00 0A units appear at both parities. */
const byteArb = fc.constantFrom(0x0a, 0x0a, 0x00, 0x61, 0x62, 0x0d, 0xc3);
const dataArb = fc.array(byteArb, { minLength: 1, maxLength: 40 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("insert" as const), at: fc.nat(), data: dataArb }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("overwrite" as const), at: fc.nat(), data: dataArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("fill" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }), byte: fc.constantFrom(0x0a, 0x00, 0x61) }) },
  { weight: 2, arbitrary: fc.constant({ k: "undo" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "redo" as const }) },
);

/** A base text with lines of varied length (some long), in the encoding. */
function baseText(seed: number, enc: Enc): Buffer {
  let s = "";
  let x = seed >>> 0 || 1;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let i = 0; i < 150; i++) {
    const n = rnd() < 0.05 ? 600 : Math.floor(rnd() * 30);
    s += `${i}:` + "xyz\u00e9 ".repeat(Math.floor(n / 5)) + (rnd() < 0.1 ? "\r\n" : "\n");
  }
  if (enc === "utf-8") return Buffer.from(s, "utf8");
  const le = Buffer.from(s, "utf16le");
  if (enc === "utf-16le") return le;
  const be = Buffer.from(le);
  be.swap16();
  return be;
}

/** Applies an op to the editor and the model; returns false when it did not apply (nothing changed). */
function apply(ed: Editor, model: { bytes: Buffer; undo: Buffer[]; redo: Buffer[] }, op: Op): boolean {
  const size = model.bytes.length;
  const push = (next: Buffer) => {
    model.undo.push(model.bytes);
    model.redo = [];
    model.bytes = next;
  };
  switch (op.k) {
    case "insert": {
      const at = op.at % (size + 1);
      const data = Buffer.from(op.data);
      ed.insert(at, data);
      push(Buffer.concat([model.bytes.subarray(0, at), data, model.bytes.subarray(at)]));
      return true;
    }
    case "delete": {
      if (size === 0) return false;
      const at = op.at % size;
      const len = Math.min(op.len, size - at);
      ed.remove(at, len);
      push(Buffer.concat([model.bytes.subarray(0, at), model.bytes.subarray(at + len)]));
      return true;
    }
    case "overwrite": {
      if (size < op.data.length) return false;
      const at = op.at % (size - op.data.length + 1);
      const data = Buffer.from(op.data);
      ed.edit(at, data);
      const next = Buffer.from(model.bytes);
      data.copy(next, at);
      push(next);
      return true;
    }
    case "fill": {
      if (size === 0) return false;
      const at = op.at % size;
      const len = Math.min(op.len, size - at);
      ed.fill(at, len, op.byte);
      const next = Buffer.from(model.bytes);
      next.fill(op.byte, at, at + len);
      push(next);
      return true;
    }
    case "undo": {
      const r = ed.undo();
      const prev = model.undo.pop();
      assert.equal(r !== null, prev !== undefined, "undo availability matches the model");
      if (!prev) return false;
      model.redo.push(model.bytes);
      model.bytes = prev;
      return true;
    }
    case "redo": {
      const r = ed.redo();
      const next = model.redo.pop();
      assert.equal(r !== null, next !== undefined, "redo availability matches the model");
      if (!next) return false;
      model.undo.push(model.bytes);
      model.bytes = next;
      return true;
    }
  }
}

function firstRealDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? Infinity : n;
}

function refEncoding(enc: Enc): "bytes" | "utf-16le" | "utf-16be" {
  return enc === "utf-8" ? "bytes" : enc;
}

/** Lookups of the index against the reference (they must hold while building, too). */
async function checkLookups(index: LineIndex, ref: Reference, picks: number[], what: string): Promise<void> {
  const n = ref.lineCount;
  for (const p of picks) {
    const line = 1 + (p % (n + 2));
    assert.equal(await index.lineStart(line), line <= n ? ref.starts[line - 1]! : null, `${what}: lineStart(${line})`);
    const off = p % (ref.size + 1);
    const want = off === ref.size ? Math.max(1, n) : ref.lineAt(off);
    const got = await index.lineAtOffset(off);
    if (index.complete || off < ref.size) assert.equal(got, want, `${what}: lineAtOffset(${off})`);
  }
  // Lines as text, a window around a pick.
  if (n > 0) {
    const from = 1 + (picks[0]! % n);
    const lines = await getLines(index, index, from, 7, { maxLineBytes: 64 });
    assert.equal(lines.length, Math.min(7, n - from + 1), `${what}: lines from ${from}`);
    for (const l of lines) {
      assert.equal(l.offset, ref.starts[l.number - 1], `${what}: offset of line ${l.number}`);
      assert.equal(l.length, ref.lineBytes(l.number).length, `${what}: length of line ${l.number}`);
    }
    const slice = await getLineText(index, index, from, { length: 1 << 20 });
    assert.equal(slice.lineOffset, ref.starts[from - 1]);
    assert.equal(slice.lineLength, ref.lineBytes(from).length);
  }
}

async function checkComplete(index: LineIndex, ref: Reference, what: string): Promise<void> {
  assert.ok(index.complete, `${what}: complete`);
  assert.equal(index.newlineCount, ref.newlines, `${what}: newlines`);
  assert.equal(index.lineCount, ref.lineCount, `${what}: lines`);
  assert.equal(index.size, ref.size, `${what}: size`);
}

describe("line index over an edited document = reference", () => {
  for (const enc of ["utf-8", "utf-16le", "utf-16be"] as const) {
    test(`random inserts, deletes, overwrites, fills, undo, redo (${enc})`, async () => {
      const dir = makeTempDir();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1 << 30 }),
          fc.array(fc.record({ op: opArb, look: fc.boolean(), build: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 18 }),
          fc.array(fc.nat(), { minLength: 4, maxLength: 8 }),
          fc.constantFrom(1, 3, 7),
          async (seed, steps, picks, k) => {
            const file = path.join(dir, `edited-${enc}-${run++}.txt`);
            const base = baseText(seed, enc);
            fs.writeFileSync(file, base);
            const ed = Editor.open(file, { readOnly: false });
            const doc = Document.openFile(file, { readOnly: true });
            const options: LineIndexOptions = { sampleEvery: k, encoding: enc, nativeMinPiece: 16, jsScanLimit: 64 };
            const index = new LineIndex(doc, options);
            try {
              await index.build();
              const model = { bytes: Buffer.from(base), undo: [] as Buffer[], redo: [] as Buffer[] };
              await checkComplete(index, new Reference(model.bytes, refEncoding(enc)), "base");
              let prev = ed.snapshot();
              let prevBytes = model.bytes;
              for (const [i, step] of steps.entries()) {
                if (!apply(ed, model, step.op)) continue;
                const snap = ed.snapshot();
                const keep = firstDifference(prev, snap);
                // The pieces never claim more than the bytes: [0, keep) really is unchanged.
                assert.ok(keep <= firstRealDifference(prevBytes, model.bytes), `step ${i}: keep ${keep} after ${JSON.stringify(step.op)}`);
                index.rebase(snap, keep);
                prev = snap;
                prevBytes = model.bytes;
                const ref = new Reference(model.bytes, refEncoding(enc));
                if (step.look) await checkLookups(index, ref, picks, `step ${i} (before build)`);
                if (step.build > 0) {
                  await index.build();
                  await checkComplete(index, ref, `step ${i}`);
                  await checkLookups(index, ref, picks, `step ${i}`);
                }
              }
              const ref = new Reference(model.bytes, refEncoding(enc));
              // A fresh index over the same snapshot agrees with the incrementally rebased one.
              const fresh = new LineIndex(doc, options);
              try {
                fresh.rebase(prev, 0);
                await fresh.build();
                await checkComplete(fresh, ref, "fresh");
              } finally {
                fresh.close();
              }
              await index.build();
              await checkComplete(index, ref, "end");
              await checkLookups(index, ref, picks, "end");
            } finally {
              index.close();
              doc.close();
              ed.close();
              fs.rmSync(file, { force: true });
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});

describe("piece boundaries", () => {
  test("lookups right around every piece boundary; counts carry the sample phase across pieces", async () => {
    // 20 lines of "line N\n" with inserts that put newlines right at, before and after boundaries.
    const base = Buffer.from(Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join(""));
    const file = makeFile(base, "bounds.txt");
    const ed = Editor.open(file, { readOnly: false });
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 2, nativeMinPiece: 8, jsScanLimit: 16 });
    try {
      await index.build();
      ed.insert(7, Buffer.from("\n")); // right after line 0's newline (a boundary at a line start)
      ed.insert(20, Buffer.from("A\nB")); // a newline inside an added piece
      ed.remove(40, 5);
      ed.insert(60, Buffer.from("\n\n\n"));
      const snap = ed.snapshot();
      index.rebase(snap, 7);
      const bytes = await ed.read(0, ed.size);
      const ref = new Reference(bytes);
      await index.build();
      await checkComplete(index, ref, "after edits");
      const boundaries = new Set<number>();
      for (const s of snap.slices(0, snap.size)) {
        boundaries.add(s.offset);
        boundaries.add(s.offset + (s.piece.kind === "bytes" ? s.piece.bytes.length : s.piece.length));
      }
      assert.ok(boundaries.size >= 8, `pieces: ${boundaries.size} boundaries`);
      for (const b of boundaries) {
        for (const off of [b - 2, b - 1, b, b + 1, b + 2]) {
          if (off < 0 || off > ref.size) continue;
          const want = off === ref.size ? ref.lineCount : ref.lineAt(off);
          assert.equal(await index.lineAtOffset(off), want, `lineAtOffset(${off}) near boundary ${b}`);
          const line = want;
          assert.equal(await index.lineStart(line), ref.starts[line - 1], `lineStart(${line})`);
          const nl = bytes.indexOf(0x0a, off);
          assert.equal(await index.findNewline(off), off < ref.size ? nl : -1, `findNewline(${off})`);
        }
      }
      const all = await getLines(index, index, 1, 1000);
      assert.deepEqual(
        all.map((l) => l.text),
        bytes.toString("latin1").replace(/\n$/, "").split("\n"),
      );
    } finally {
      index.close();
      doc.close();
      ed.close();
    }
  });

  for (const bigEndian of [false, true]) {
    test(`UTF-16${bigEndian ? "BE" : "LE"}: a newline unit straddling a piece boundary counts once, a 0A byte at an odd offset never`, async () => {
      const enc = bigEndian ? "utf-16be" : "utf-16le";
      const text = (s: string) => {
        const b = Buffer.from(s, "utf16le");
        if (bigEndian) b.swap16();
        return b;
      };
      const base = Buffer.concat([text("\ufeffabc\ndef\n"), text("x".repeat(40)), text("\nend\n")]);
      const file = makeFile(base, "u16.txt");
      const ed = Editor.open(file, { readOnly: false });
      const doc = Document.openFile(file);
      const index = new LineIndex(doc, { sampleEvery: 1, encoding: enc, nativeMinPiece: 8, jsScanLimit: 16 });
      try {
        await index.build();
        assert.equal(index.newlineCount, 4);
        // One byte inserted at an odd place: everything after it is at an odd shift from the file,
        // and the unit that straddles the insert's end is half added, half file.
        ed.insert(13, Buffer.from([0x00]));
        // A lone half of a newline unit at the end of an added piece, completed by the file byte after it.
        const nlUnit = text("\n");
        const at = 30;
        ed.insert(at, nlUnit.subarray(0, 1));
        ed.remove(at + 1, 1);
        const snap = ed.snapshot();
        index.rebase(snap, firstDifference(wholeFile(base.length), snap));
        const bytes = await ed.read(0, ed.size);
        const ref = new Reference(bytes, enc);
        await index.build();
        await checkComplete(index, ref, "straddling");
        for (let off = 0; off <= ref.size; off++) {
          const want = off === ref.size ? ref.lineCount : ref.lineAt(off);
          assert.equal(await index.lineAtOffset(off), want, `lineAtOffset(${off})`);
        }
        for (let n = 1; n <= ref.lineCount + 1; n++) assert.equal(await index.lineStart(n), n <= ref.lineCount ? ref.starts[n - 1] : null, `lineStart(${n})`);
        // The case is real: pieces end at odd offsets, so units straddle them.
        const odd = snap.slices(0, snap.size).filter((s) => s.offset % 2 === 1);
        assert.ok(odd.length >= 2, `pieces starting at odd offsets: ${odd.length}`);
      } finally {
        index.close();
        doc.close();
        ed.close();
      }
    });

    test(`UTF-16${bigEndian ? "BE" : "LE"}: a newline made of an added byte and a file byte`, async () => {
      const enc = bigEndian ? "utf-16be" : "utf-16le";
      // LE "ab\ncd\n" + 40 x + "\n": 0A 00 is a newline. Replace the high byte of 'b' by… its
      // own piece boundary: delete file byte 2 ('b''s low byte), insert 0A (LE) there, so the
      // unit at offset 2 is [added 0A][file 00]. BE: delete file byte 3, insert 0A at 3 after a
      // deleted 00 at 2 is replaced by an added 00: [added 00][file 0A] (a file 0A at an odd offset).
      const b = Buffer.from("ab\ncd\n" + "x".repeat(40) + "\n", "utf16le");
      if (bigEndian) b.swap16();
      const file = makeFile(b, "u16b.txt");
      const ed = Editor.open(file, { readOnly: false });
      const doc = Document.openFile(file);
      const index = new LineIndex(doc, { sampleEvery: 1, encoding: enc, nativeMinPiece: 8, jsScanLimit: 16 });
      try {
        await index.build();
        assert.equal(index.newlineCount, 3);
        if (!bigEndian) {
          ed.remove(2, 1);
          ed.insert(2, Buffer.from([0x0a]));
        } else {
          // BE bytes: 00 61 00 62 00 0A …; make doc[2..4) = [added 00][file 0A at file offset 5]
          ed.remove(2, 3); // 00 62 00 → doc: 00 61 | 0A 00 63 …
          ed.insert(2, Buffer.from([0x00])); // 00 61 | 00 | 0A 00 63 …  (unit 2 = 00 0A)
        }
        const snap = ed.snapshot();
        index.rebase(snap, firstDifference(wholeFile(b.length), snap));
        const bytes = await ed.read(0, ed.size);
        const ref = new Reference(bytes, enc);
        await index.build();
        await checkComplete(index, ref, "added + file unit");
        // The newline at offset 2 is the straddling unit: line 2 starts right after it.
        assert.equal(await index.lineStart(2), 4);
        assert.equal(await index.lineAtOffset(3), 1);
        assert.equal(await index.lineAtOffset(4), 2);
        const lines = await getLines(index, index, 1, 10);
        assert.equal(lines[0]!.text, "a");
      } finally {
        index.close();
        doc.close();
        ed.close();
      }
    });
  }
});

describe("save and size", () => {
  test("a save keeps the index (the same bytes, now on disk); undo after it re-indexes from the change only", async () => {
    const base = Buffer.from(Array.from({ length: 5000 }, (_, i) => `row ${i} ${"z".repeat(i % 50)}\n`).join(""));
    const file = makeFile(base, "save.txt");
    const ed = Editor.open(file, { readOnly: false });
    let doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 16 });
    try {
      await index.build();
      ed.insert(100_000, Buffer.from("new line one\nnew line two\n"));
      const snap = ed.snapshot();
      index.rebase(snap, firstDifference(wholeFile(base.length), snap));
      assert.ok(index.indexedBytes > 90_000 && index.indexedBytes <= 100_000, `kept ${index.indexedBytes}`);
      await index.build();
      assert.equal(index.newlineCount, 5002);
      const gen = ed.contentGeneration;
      await ed.save();
      assert.equal(ed.contentGeneration, gen, "a save does not change the content generation");
      const reopened = Document.openFile(file);
      index.rebase(null, Infinity, reopened);
      doc.close();
      doc = reopened;
      assert.ok(index.complete, "still complete after the save");
      assert.equal(index.newlineCount, 5002);
      const saved = fs.readFileSync(file);
      const ref = new Reference(saved);
      await checkLookups(index, ref, [1, 77, 4999, 5001, 5002, 123456], "after save");
      // Undo across the save: the document is the saved file minus the insert.
      ed.undo();
      const after = ed.snapshot();
      const keep = firstDifference(wholeFile(saved.length), after);
      assert.equal(keep, 100_000);
      index.rebase(after, keep);
      await index.build();
      await checkComplete(index, new Reference(base), "after undo");
    } finally {
      index.close();
      doc.close();
      ed.close();
    }
  });

  test("a 5 GiB sparse file, newline blocks past 4 GiB, edited near its start: counts and lines through the edit", { timeout: 300_000 }, async () => {
    const dir = makeTempDir();
    const file = path.join(dir, "sparse-5g.log");
    const size = 5 * GiB;
    const fd = fs.openSync(file, "w");
    const blocks: [number, string][] = [
      [0, "head 1\nhead 2\n"],
      [4 * GiB + 12345, "far 1\nfar 2\nfar 3\n"],
      [size - 14, "tail 1\ntail 2\n"],
    ];
    try {
      fs.ftruncateSync(fd, size);
      for (const [at, s] of blocks) fs.writeSync(fd, Buffer.from(s), 0, s.length, at);
    } finally {
      fs.closeSync(fd);
    }
    const ed = Editor.open(file, { readOnly: false });
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 2 });
    try {
      let t = performance.now();
      await index.build();
      const fullMs = performance.now() - t;
      assert.equal(index.newlineCount, 7);
      ed.insert(3, Buffer.from("INSERTED\nX\n")); // inside line 1, near the start
      ed.remove(5, 1);
      const snap = ed.snapshot();
      const keep = firstDifference(wholeFile(size), snap);
      assert.equal(keep, 3);
      t = performance.now();
      index.rebase(snap, keep);
      await index.build();
      const rebuildMs = performance.now() - t;
      assert.equal(index.newlineCount, 9);
      assert.equal(index.size, size + 10);
      const far = 4 * GiB + 12345 + 10; // the far block, moved by the edits
      assert.equal(await index.lineAtOffset(far), 5, "the far block's first line (after 4 GiB of zeros)");
      assert.equal(await index.lineAtOffset(far + 6), 6);
      assert.equal(await index.lineStart(6), far + 6);
      const farLines = await getLines(index, index, 6, 2);
      assert.deepEqual(farLines.map((l) => l.offset), [far + 6, far + 12]);
      assert.deepEqual(farLines.map((l) => l.text), ["far 2", "far 3"]);
      const head = await getLines(index, index, 1, 4, { maxLineBytes: 32 });
      assert.deepEqual(head.map((l) => l.text), ["heaINERTED", "X", "d 1", "head 2"]);
      // Line 5 is the zeros up to the far block: a long line, cut, whose length is known.
      const long = await getLines(index, index, 5, 1, { maxLineBytes: 16 });
      assert.ok(long[0]!.truncated, "line 5 is cut");
      assert.equal(long[0]!.offset, 24);
      assert.equal(long[0]!.length, far + 5 - 24);
      const last = await getLines(index, index, 9, 2);
      assert.equal(last.length, 1);
      assert.equal(last[0]!.text, "tail 2");
      assert.equal(last[0]!.offset, size + 10 - 7);
      console.log(`# 5 GiB sparse: full index ${fullMs.toFixed(0)} ms, rebuild after an edit at offset 3 ${rebuildMs.toFixed(0)} ms`);
    } finally {
      index.close();
      doc.close();
      ed.close();
      fs.rmSync(file, { force: true });
    }
  });
});

describe("filter over an edited document", () => {
  test("the worker reads the snapshot through the host, across its 1 MiB chunks: hits equal the reference's", async () => {
    const base = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `entry ${i} ${i % 7 === 0 ? "ERROR" : "ok"} ${"q".repeat(i % 40)}`).join("\n") + "\n");
    assert.ok(base.length > 3 * 1024 * 1024);
    const file = makeFile(base, "filter-edited.log");
    const ed = Editor.open(file, { readOnly: false });
    try {
      ed.insert(0, Buffer.from("INSERTED first\n"));
      ed.insert(Math.floor(base.length / 2), Buffer.from("\nINSERTED middle ERROR\n"));
      ed.remove(1024 * 1024 - 5, 10_000); // across the worker's first chunk boundary
      ed.insert(ed.size, Buffer.from("INSERTED last, no newline"));
      const snap = ed.snapshot();
      const bytes = await ed.read(0, ed.size);
      const texts = bytes.toString("latin1").split("\n");
      const re = /^INSERTED|ERROR$/;
      const want = texts.flatMap((t, i) => (re.test(t) ? [i + 1] : []));
      const hits: number[] = [];
      const out = await runFilter({ path: file, source: snap, start: 0, end: snap.size, fromLine: 1, encoding: "utf-8", regex: re.source, onHits: (l) => hits.push(...l) });
      assert.equal(out.complete, true);
      assert.deepEqual(hits, want);
      assert.ok(want.includes(1) && want.includes(texts.length), "the first and the last (unterminated) line match");
      // The file itself (no source) gives the saved file's lines: the edits are not in it.
      const plain: number[] = [];
      await runFilter({ path: file, start: 0, end: base.length, fromLine: 1, encoding: "utf-8", regex: "^INSERTED", onHits: (l) => plain.push(...l) });
      assert.deepEqual(plain, []);
    } finally {
      ed.close();
    }
  });
});
