// Editor.replaceAll (Replace all): random sorted ranges and replacements against a reference
// built by slicing a plain Buffer, on top of earlier edits; one undo step; redo; save (both
// strategies) gives the reference on disk; bad lists refused with nothing changed.
// No shell commands: runs in the Wine leg too.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import fc from "fast-check";
import { Editor } from "../../app/engine/editor";
import { blockBytes, cleanupFixtures, codeOf, makeFile } from "../fixtures";

after(cleanupFixtures);

function reference(doc: Buffer, starts: number[], lengths: number[], rep: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  starts.forEach((s, i) => {
    parts.push(doc.subarray(pos, s), rep);
    pos = s + lengths[i]!;
  });
  parts.push(doc.subarray(pos));
  return Buffer.concat(parts);
}

const rangesArb = (size: number) =>
  fc.array(fc.tuple(fc.nat({ max: size }), fc.nat({ max: 40 })), { maxLength: 60 }).map((raw) => {
    // Sorted, non-overlapping, inside [0, size].
    const starts: number[] = [];
    const lengths: number[] = [];
    let prevEnd = 0;
    for (const [a, l] of raw.sort((x, y) => x[0] - y[0])) {
      if (a < prevEnd) continue;
      const len = Math.min(l, size - a);
      starts.push(a);
      lengths.push(len);
      prevEnd = a + len;
    }
    return { starts, lengths };
  });

test("replaceAll = the reference, over earlier edits; one undo step restores, redo re-applies", async () => {
  const data = blockBytes(61, 5000);
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 12 }),
      fc.array(fc.tuple(fc.nat({ max: 4999 }), fc.uint8Array({ minLength: 1, maxLength: 30 })), { maxLength: 5 }),
      fc.integer({ min: 0, max: 1000 }).chain((seed) => rangesArb(4000 + (seed % 7))),
      async (rep, inserts, { starts, lengths }) => {
        const ed = Editor.open(makeFile(data, "replace-all.bin"));
        try {
          for (const [at, b] of inserts) ed.insert(at, b);
          const before = await ed.read(0, ed.size);
          fc.pre(starts.every((s, i) => s + lengths[i]! <= before.length));
          const steps = ed.editCount;
          const r = ed.replaceAll(starts, lengths, rep);
          const want = reference(before, starts, lengths, Buffer.from(rep));
          if (starts.length === 0 || (rep.length === 0 && lengths.every((l) => l === 0))) {
            assert.equal(r, null);
            return;
          }
          assert.equal(ed.size, want.length);
          assert.ok((await ed.read(0, ed.size)).equals(want), "content");
          assert.equal(ed.editCount, steps + 1, "one undo step");
          ed.undo();
          assert.ok((await ed.read(0, ed.size)).equals(before), "undo restores");
          ed.redo();
          assert.ok((await ed.read(0, ed.size)).equals(want), "redo re-applies");
        } finally {
          ed.close();
        }
      },
    ),
    { numRuns: 120 },
  );
});

test("replace all then save (rewrite and in place): the file is the reference", async () => {
  const data = Buffer.from("cat dog cat bird cat\n".repeat(2000));
  for (const strategy of ["rewrite", "in-place"] as const) {
    const file = makeFile(data, `save-${strategy}.txt`);
    const ed = Editor.open(file);
    try {
      const starts: number[] = [];
      for (let i = data.indexOf("cat"); i >= 0; i = data.indexOf("cat", i + 3)) starts.push(i);
      assert.equal(starts.length, 6000);
      ed.replaceAll(starts, 3, Buffer.from("tiger"));
      await ed.save({ strategy });
      const want = Buffer.from(data.toString("latin1").split("cat").join("tiger"), "latin1");
      assert.ok(fs.readFileSync(file).equals(want), strategy);
      ed.undo(); // across the save
      assert.ok((await ed.read(0, ed.size)).equals(data), `${strategy}: undo after the save`);
    } finally {
      ed.close();
    }
  }
});

test("bad lists are refused and change nothing: unsorted, overlapping, past the end, mismatched lengths", async () => {
  const data = blockBytes(62, 100);
  const ed = Editor.open(makeFile(data, "bad.bin"));
  try {
    const rep = Uint8Array.of(1);
    assert.equal(codeOf(() => ed.replaceAll([10, 5], 2, rep)), "EINVAL");
    assert.equal(codeOf(() => ed.replaceAll([10, 11], 2, rep)), "EINVAL");
    assert.equal(codeOf(() => ed.replaceAll([99], 2, rep)), "ERANGE");
    assert.equal(codeOf(() => ed.replaceAll([1, 2], [1], rep)), "EINVAL");
    assert.equal(codeOf(() => ed.replaceAll([-1], 1, rep)), "EINVAL");
    assert.equal(ed.editCount, 0);
    assert.ok((await ed.read(0, ed.size)).equals(data));
    assert.equal(ed.replaceAll([], 1, rep), null);
  } finally {
    ed.close();
  }
});
