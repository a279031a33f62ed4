// The Editor's document model (piece table) against a reference: a plain byte array that every
// operation is applied to as well. Random mixes of overwrite / insert / delete / replace / fill /
// insertFill / undo / redo, reads across page and piece boundaries, saves of every strategy with
// the file compared afterwards, and undo across those saves. No shell commands: runs under Wine too.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import fc from "fast-check";
import { Editor } from "../../app/engine/editor";
import type { HexmapError } from "../../app/engine/errors";
import { GiB, blockBytes, cleanupFixtures, codeOf, makeFile, makeSparseFile } from "../fixtures";

after(cleanupFixtures);

/** The reference: the document as a plain array, with its own undo/redo of whole copies. */
class Reference {
  bytes: Uint8Array;
  private undos: Uint8Array[] = [];
  private redos: Uint8Array[] = [];
  constructor(initial: Uint8Array) {
    this.bytes = Uint8Array.from(initial);
  }
  replace(offset: number, del: number, ins: Uint8Array): void {
    this.undos.push(this.bytes);
    this.redos = [];
    const out = new Uint8Array(this.bytes.length - del + ins.length);
    out.set(this.bytes.subarray(0, offset), 0);
    out.set(ins, offset);
    out.set(this.bytes.subarray(offset + del), offset + ins.length);
    this.bytes = out;
  }
  undo(): boolean {
    const prev = this.undos.pop();
    if (!prev) return false;
    this.redos.push(this.bytes);
    this.bytes = prev;
    return true;
  }
  redo(): boolean {
    const next = this.redos.pop();
    if (!next) return false;
    this.undos.push(this.bytes);
    this.bytes = next;
    return true;
  }
  /** After a save with the history kept, undo/redo continue as before. */
}

type Op =
  | { t: "overwrite"; at: number; data: number[] }
  | { t: "insert"; at: number; data: number[] }
  | { t: "delete"; at: number; len: number }
  | { t: "replace"; at: number; len: number; data: number[] }
  | { t: "fill"; at: number; len: number; byte: number }
  | { t: "insertFill"; at: number; len: number; pattern: number[] }
  | { t: "undo" }
  | { t: "redo" }
  | { t: "read"; at: number; len: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("overwrite" as const), at: fc.nat(), data: fc.array(fc.nat(255), { minLength: 1, maxLength: 40 }) }),
  fc.record({ t: fc.constant("insert" as const), at: fc.nat(), data: fc.array(fc.nat(255), { minLength: 1, maxLength: 40 }) }),
  fc.record({ t: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ t: fc.constant("replace" as const), at: fc.nat(), len: fc.integer({ min: 0, max: 50 }), data: fc.array(fc.nat(255), { maxLength: 50 }) }),
  fc.record({ t: fc.constant("fill" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 5000 }), byte: fc.nat(255) }),
  fc.record({ t: fc.constant("insertFill" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 5000 }), pattern: fc.array(fc.nat(255), { minLength: 1, maxLength: 5 }) }),
  fc.record({ t: fc.constant("undo" as const) }),
  fc.record({ t: fc.constant("redo" as const) }),
  fc.record({ t: fc.constant("read" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 70_000 }) }),
);

function patternBytes(pattern: number[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = pattern[i % pattern.length]!;
  return out;
}

/** Applies op to both; returns false if the op was refused (and checks the refusal is right). */
async function step(ed: Editor, ref: Reference, op: Op): Promise<void> {
  const size = ref.bytes.length;
  const clampAt = (at: number, allowEnd: boolean): number => (size === 0 ? 0 : at % (allowEnd ? size + 1 : size));
  switch (op.t) {
    case "overwrite": {
      const at = clampAt(op.at, false);
      if (at + op.data.length > size) {
        assert.equal(codeOf(() => ed.edit(at, Uint8Array.from(op.data))), size === 0 ? "ERANGE" : "ERANGE");
        return;
      }
      ed.edit(at, Uint8Array.from(op.data), { group: "typing" });
      ref.replace(at, op.data.length, Uint8Array.from(op.data));
      return;
    }
    case "insert": {
      const at = clampAt(op.at, true);
      ed.insert(at, Uint8Array.from(op.data), { group: "typing" });
      ref.replace(at, 0, Uint8Array.from(op.data));
      return;
    }
    case "delete": {
      const at = clampAt(op.at, false);
      if (at + op.len > size) {
        assert.equal(codeOf(() => ed.remove(at, op.len)), "ERANGE");
        return;
      }
      ed.remove(at, op.len);
      ref.replace(at, op.len, new Uint8Array(0));
      return;
    }
    case "replace": {
      const at = clampAt(op.at, true);
      const len = Math.min(op.len, size - at);
      if (len === 0 && op.data.length === 0) {
        assert.equal(codeOf(() => ed.replace(at, 0, new Uint8Array(0))), "EINVAL");
        return;
      }
      ed.replace(at, len, Uint8Array.from(op.data));
      ref.replace(at, len, Uint8Array.from(op.data));
      return;
    }
    case "fill": {
      const at = clampAt(op.at, false);
      const len = Math.min(op.len, size - at);
      if (len <= 0) return;
      ed.fill(at, len, op.byte);
      ref.replace(at, len, new Uint8Array(len).fill(op.byte));
      return;
    }
    case "insertFill": {
      const at = clampAt(op.at, true);
      ed.insertFill(at, op.len, Uint8Array.from(op.pattern));
      ref.replace(at, 0, patternBytes(op.pattern, op.len));
      return;
    }
    case "undo":
      assert.equal(ed.undo() !== null, ref.undo());
      return;
    case "redo":
      assert.equal(ed.redo() !== null, ref.redo());
      return;
    case "read": {
      const at = clampAt(op.at, true);
      const want = ref.bytes.subarray(at, Math.min(size, at + op.len));
      assert.deepEqual(new Uint8Array(await ed.read(at, op.len)), want);
      assert.deepEqual(new Uint8Array(ed.readSync(at, op.len)), want);
      return;
    }
  }
}

const BASE = blockBytes(41, 140_000); // crosses two 64 KiB page boundaries

test("model: random overwrite/insert/delete/replace/fill/undo/redo read exactly as a plain array", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
      const ed = Editor.open(makeFile(BASE, "model.bin"), { viewSize: 64 * 1024, maxBytes: 4 * 64 * 1024 });
      const ref = new Reference(BASE);
      try {
        for (const op of ops) {
          await step(ed, ref, op);
          assert.equal(ed.size, ref.bytes.length);
        }
        assert.deepEqual(new Uint8Array(await ed.read(0, ed.size)), ref.bytes);
        // Every page boundary, with a few bytes on each side.
        for (let b = 65_536; b < ed.size; b += 65_536) {
          assert.deepEqual(new Uint8Array(await ed.read(b - 3, 6)), ref.bytes.subarray(b - 3, b + 3));
        }
      } finally {
        ed.close();
      }
    }),
    { numRuns: 120 },
  );
});

for (const strategy of ["rewrite", "in-place", "auto"] as const) {
  test(`model + save (${strategy}): the file equals the document, undo goes on across the save, the saved file reopens the same`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.array(opArb, { maxLength: 15 }), async (before, afterOps) => {
        const file = makeFile(BASE, `save-${strategy}.bin`);
        const ed = Editor.open(file, { viewSize: 64 * 1024 });
        const ref = new Reference(BASE);
        try {
          for (const op of before) await step(ed, ref, op);
          await ed.save({ strategy });
          assert.deepEqual(new Uint8Array(fs.readFileSync(file)), ref.bytes, "the file holds the document");
          assert.equal(ed.dirty, false);
          assert.equal(ed.size, ref.bytes.length);
          assert.deepEqual(new Uint8Array(await ed.read(0, ed.size)), ref.bytes);
          // Undo, redo and new edits after the save read what the reference says.
          for (const op of afterOps) await step(ed, ref, op);
          assert.deepEqual(new Uint8Array(await ed.read(0, ed.size)), ref.bytes);
          await ed.save({ strategy });
          assert.deepEqual(new Uint8Array(fs.readFileSync(file)), ref.bytes, "second save");
        } finally {
          ed.close();
        }
        const again = Editor.open(file, { readOnly: true });
        try {
          assert.deepEqual(new Uint8Array(await again.read(0, again.size)), ref.bytes);
        } finally {
          again.close();
        }
      }),
      { numRuns: strategy === "auto" ? 25 : 40 },
    );
  });
}

test("undo all the way back across a resizing save restores the original bytes, and saving that restores the file", async () => {
  const file = makeFile(BASE, "undo-across.bin");
  const ed = Editor.open(file);
  try {
    ed.insert(0, Buffer.from("HEAD"));
    ed.remove(100_000, 20_000);
    ed.edit(70_000, Buffer.from("mid"));
    await ed.save({ strategy: "rewrite" });
    assert.equal(fs.statSync(file).size, BASE.length + 4 - 20_000);
    while (ed.undo());
    assert.equal(ed.size, BASE.length);
    assert.deepEqual(await ed.read(0, ed.size), BASE);
    assert.equal(ed.dirty, true);
    await ed.save();
    assert.deepEqual(fs.readFileSync(file), BASE);
    while (ed.redo());
    assert.equal(ed.size, BASE.length + 4 - 20_000);
    assert.equal((await ed.read(0, 4)).toString(), "HEAD");
  } finally {
    ed.close();
  }
});

test("typing coalesces: hex nibbles at one byte, a typed run, backspaces; insert then undo gives back the unedited file", () => {
  const ed = Editor.open(makeFile(BASE, "typing.bin"));
  try {
    // INS mode hex typing: the first digit inserts a byte, the second overwrites it; then the next byte.
    ed.insert(10, Uint8Array.of(0xa0), { group: "t" });
    ed.edit(10, Uint8Array.of(0xab), { group: "t" });
    ed.insert(11, Uint8Array.of(0xc0), { group: "t" });
    ed.edit(11, Uint8Array.of(0xcd), { group: "t" });
    assert.equal(ed.editCount, 1);
    assert.deepEqual([...ed.readSync(9, 4)], [BASE[9], 0xab, 0xcd, BASE[10]]);
    // Backspace twice right before the typed bytes: same step.
    ed.remove(9, 1, { group: "t" });
    ed.remove(8, 1, { group: "t" });
    assert.equal(ed.editCount, 1);
    assert.equal(ed.size, BASE.length);
    // A different group or a non-touching edit makes a new step.
    ed.edit(5000, Uint8Array.of(1), { group: "t" });
    assert.equal(ed.editCount, 2);
    ed.undo();
    ed.undo();
    assert.equal(ed.dirty, false);
    assert.equal(ed.pieceCount, 1, "one file piece again");
    assert.deepEqual(ed.readSync(0, 100), BASE.subarray(0, 100));
  } finally {
    ed.close();
  }
});

test("edited vs inserted spans: overwrites are edited, inserts and the bytes of a replace of another length are inserted", () => {
  const ed = Editor.open(makeFile(BASE, "spans.bin"));
  try {
    ed.edit(100, Buffer.from("abc"));
    ed.insert(200, Buffer.from("XY"));
    ed.replace(300, 1, Buffer.from("LONGER"));
    const spans = ed.spansIn(0, 1000);
    assert.deepEqual(spans.edited, [{ start: 100, end: 103 }]);
    assert.deepEqual(spans.inserted, [
      { start: 200, end: 202 },
      { start: 300, end: 306 },
    ]);
    // An overwrite after an insert is still an overwrite.
    ed.edit(500, Buffer.from("z"));
    assert.deepEqual(ed.spansIn(500, 501).edited, [{ start: 500, end: 501 }]);
  } finally {
    ed.close();
  }
});

test("errors: past the end, empty edits, bad fills, read-only; nothing changes", () => {
  const ed = Editor.open(makeFile(BASE.subarray(0, 100), "errors.bin"));
  try {
    assert.equal(codeOf(() => ed.insert(101, Uint8Array.of(1))), "ERANGE");
    assert.equal(codeOf(() => ed.remove(90, 11)), "ERANGE");
    assert.equal(codeOf(() => ed.remove(0, 0)), "EINVAL");
    assert.equal(codeOf(() => ed.edit(99, Uint8Array.of(1, 2))), "ERANGE");
    assert.equal(codeOf(() => ed.replace(5, 0, new Uint8Array(0))), "EINVAL");
    assert.equal(codeOf(() => ed.insert(-1, Uint8Array.of(1))), "EINVAL");
    assert.equal(codeOf(() => ed.insertFill(0, 10, new Uint8Array(0))), "EINVAL");
    assert.equal(codeOf(() => ed.fill(0, 10, 256)), "EINVAL");
    assert.equal(ed.dirty, false);
    ed.insert(100, Uint8Array.of(7)); // appending is allowed
    assert.equal(ed.size, 101);
  } finally {
    ed.close();
  }
  const ro = Editor.open(makeFile(BASE.subarray(0, 100), "ro.bin"), { readOnly: true });
  try {
    assert.equal(codeOf(() => ro.insert(0, Uint8Array.of(1))), "EACCES");
  } finally {
    ro.close();
  }
});

test("10 GiB inserted into and deleted from a 20 GiB sparse file: one step each, instant, undoable; reads past 4 GiB exact", async () => {
  const fx = makeSparseFile({ size: 20 * GiB, blocks: [{ offset: 12 * GiB, length: 4096, seed: 5 }] });
  const ed = Editor.open(fx.path);
  try {
    const block = fx.expected(12 * GiB, 4096);
    const t0 = performance.now();
    ed.insertFill(8 * GiB, 10 * GiB, Uint8Array.of(0xab, 0xcd));
    const t1 = performance.now();
    assert.equal(ed.size, 30 * GiB);
    assert.deepEqual(await ed.read(22 * GiB, 4096), block, "the block moved up by 10 GiB");
    assert.deepEqual([...(await ed.read(8 * GiB - 1, 4))], [0, 0xab, 0xcd, 0xab]);
    ed.remove(0, 10 * GiB);
    assert.equal(ed.size, 20 * GiB);
    assert.deepEqual(await ed.read(12 * GiB, 4096), block);
    assert.equal(ed.editCount, 2);
    ed.undo();
    ed.undo();
    assert.equal(ed.size, 20 * GiB);
    assert.equal(ed.pieceCount, 1);
    assert.ok(t1 - t0 < 1000, `insert took ${(t1 - t0).toFixed(1)} ms`); // generous: "instant" is measured in bench/
  } finally {
    ed.close();
  }
});

test("a snapshot keeps reading its version while editing goes on; after a save it refuses with ECHANGED", async () => {
  const file = makeFile(BASE, "snap.bin");
  const ed = Editor.open(file);
  try {
    ed.insert(0, Buffer.from("v1"));
    const snap = ed.snapshot();
    ed.insert(0, Buffer.from("v2"));
    ed.remove(10, 1000);
    assert.equal((await snap.read(0, 4)).toString("latin1"), "v1" + BASE.subarray(0, 2).toString("latin1"));
    assert.equal(snap.size, BASE.length + 2);
    await ed.save();
    await assert.rejects(snap.read(0, 4), (e: HexmapError) => e.code === "ECHANGED");
  } finally {
    ed.close();
  }
});

/** A real gc() even when the runner was started without --expose-gc, for an exact heap figure. */
function gc(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

// 1M on Linux; 200k in Windows Node under Wine (its allocator makes the same run ~5× slower).
const MANY = process.platform === "win32" ? 200_000 : 1_000_000;

test(`${MANY.toLocaleString("en")} scattered one-byte inserts into a 16 GiB file: ≤ 300 bytes of heap per edit, exact reads, undo of all linear`, async () => {
  const fx = makeSparseFile({ size: 16 * GiB, blocks: [] });
  const ed = Editor.open(fx.path);
  try {
    const n = MANY;
    const stride = Math.floor((16 * GiB) / n);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    // Back to front, so every offset refers to the unshifted file.
    for (let k = n - 1; k >= 0; k--) ed.insert(k * stride + 3, Uint8Array.of((k & 0xff) | 1));
    const t1 = performance.now();
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    assert.equal(ed.size, 16 * GiB + n);
    for (let i = 0; i < 200; i++) {
      const k = (i * 7919) % n;
      const at = k * stride + 3 + k; // k inserted bytes before it
      const b = await ed.read(at - 1, 3);
      assert.deepEqual([...b], [0, (k & 0xff) | 1, 0]);
    }
    const perEdit = (heap1 - heap0) / n;
    const t2 = performance.now();
    while (ed.undo());
    const t3 = performance.now();
    assert.equal(ed.size, 16 * GiB);
    assert.equal(ed.pieceCount, 1);
    console.log(
      `# ${n} scattered inserts: ${(t1 - t0).toFixed(0)} ms, undo of all ${(t3 - t2).toFixed(0)} ms, heap ${perEdit.toFixed(0)} bytes/edit`,
    );
    assert.ok(perEdit <= 300, `${perEdit.toFixed(0)} bytes per edit`);
  } finally {
    ed.close();
  }
});
