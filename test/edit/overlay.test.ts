// EditOverlay against a plain byte-array model with its own (snapshot) undo stack: any sequence of
// edit / fill / undo / redo / save reads back exactly like the model, keeps the "not edited"
// distinction through undo (also across a save), and counts edits since the save like an undo
// tree would.

import { test } from "node:test";
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { COALESCE_MAX, EditOverlay, RunList } from "../../app/engine/edit-overlay";
import { HexmapError } from "../../app/engine/errors";

type Group = string | undefined;
type Op =
  | { kind: "edit"; offset: number; bytes: number[]; group: Group }
  | { kind: "fill"; offset: number; length: number; byte: number; group: Group }
  | { kind: "undo" }
  | { kind: "redo" }
  | { kind: "save" }
  | { kind: "read"; offset: number; length: number }
  | { kind: "bad"; offset: number; length: number };

interface MStep {
  id: number;
  start: number;
  end: number;
  group: Group;
  beforeBytes: Uint8Array;
  beforeEdited: Uint8Array;
  afterBytes: Uint8Array;
  afterEdited: Uint8Array;
}

/** The model: the whole document as bytes, plus which bytes are edited, with snapshot undo. */
class Model {
  file: Uint8Array;
  cur: Uint8Array;
  edited: Uint8Array;
  undo: MStep[] = [];
  redo: MStep[] = [];
  last: MStep | null = null;
  savedPath: number[] = [];
  nextId = 1;

  constructor(base: Uint8Array) {
    this.file = base.slice();
    this.cur = base.slice();
    this.edited = new Uint8Array(base.length);
  }

  put(start: number, data: Uint8Array, group: Group): void {
    const end = start + data.length;
    const beforeBytes = this.cur.slice();
    const beforeEdited = this.edited.slice();
    this.cur.set(data, start);
    this.edited.fill(1, start, end);
    this.redo = [];
    const top = this.undo[this.undo.length - 1];
    if (
      group !== undefined &&
      top !== undefined &&
      top === this.last &&
      top.group === group &&
      start <= top.end &&
      end >= top.start &&
      Math.max(end, top.end) - Math.min(start, top.start) <= COALESCE_MAX
    ) {
      top.start = Math.min(start, top.start);
      top.end = Math.max(end, top.end);
      top.afterBytes = this.cur.slice();
      top.afterEdited = this.edited.slice();
    } else {
      const step: MStep = {
        id: this.nextId++,
        start,
        end,
        group,
        beforeBytes,
        beforeEdited,
        afterBytes: this.cur.slice(),
        afterEdited: this.edited.slice(),
      };
      this.undo.push(step);
      this.last = step;
    }
  }

  doUndo(): void {
    const s = this.undo.pop();
    if (!s) return;
    // A step restores its own range only (the rest of a snapshot is the same by construction,
    // except for how a save re-labelled it).
    this.cur.set(s.beforeBytes.subarray(s.start, s.end), s.start);
    this.edited.set(s.beforeEdited.subarray(s.start, s.end), s.start);
    this.redo.push(s);
    this.last = null;
  }

  doRedo(): void {
    const s = this.redo.pop();
    if (!s) return;
    this.cur.set(s.afterBytes.subarray(s.start, s.end), s.start);
    this.edited.set(s.afterEdited.subarray(s.start, s.end), s.start);
    this.undo.push(s);
    this.last = null;
  }

  save(): void {
    // The file now holds cur. A byte that was "not edited" in some snapshot showed the old file;
    // after the save it must still show the old file's byte, so it becomes an edit of that byte.
    const old = this.file;
    for (const s of [...this.undo, ...this.redo]) {
      for (let i = s.start; i < s.end; i++) {
        if (!s.beforeEdited[i] && this.edited[i]) {
          s.beforeEdited[i] = 1;
          s.beforeBytes[i] = old[i]!;
        }
      }
    }
    this.file = this.cur.slice();
    this.edited = new Uint8Array(this.cur.length);
    this.savedPath = this.undo.map((s) => s.id);
    this.last = null;
  }

  editCount(): number {
    const path = this.undo.map((s) => s.id);
    let common = 0;
    while (common < path.length && common < this.savedPath.length && path[common] === this.savedPath[common]) common++;
    return path.length - common + (this.savedPath.length - common);
  }
}

function opArb(size: number): fc.Arbitrary<Op> {
  const offset = fc.integer({ min: 0, max: size - 1 });
  const group = fc.constantFrom<Group>(undefined, "t", "t", "u");
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("edit" as const), offset, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }), group }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("fill" as const), offset, length: fc.integer({ min: 1, max: 40 }), byte: fc.integer({ min: 0, max: 255 }), group }) },
    { weight: 3, arbitrary: fc.constant({ kind: "undo" as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: "redo" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "save" as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("read" as const), offset: fc.integer({ min: 0, max: size }), length: fc.integer({ min: 0, max: size }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), offset: fc.integer({ min: 0, max: size + 3 }), length: fc.integer({ min: 0, max: 4 }) }) },
  );
}

const scenario = fc
  .integer({ min: 1, max: 160 })
  .chain((size) => fc.tuple(fc.constant(size), fc.uint8Array({ minLength: size, maxLength: size }), fc.array(opArb(size), { maxLength: 80 })));

function runScenario(size: number, base: Uint8Array, ops: Op[]): void {
  const model = new Model(base);
  let file = base.slice(); // what a save wrote
  const ov = new EditOverlay(size);
  let gen = ov.generation;
  for (const op of ops) {
    switch (op.kind) {
      case "edit": {
        if (op.offset + op.bytes.length > size) {
          assert.throws(() => ov.edit(op.offset, Uint8Array.from(op.bytes), { group: op.group }), (e: HexmapError) => e.code === "ERANGE");
          assert.equal(ov.generation, gen, "a refused edit changes nothing");
          break;
        }
        ov.edit(op.offset, Uint8Array.from(op.bytes), { group: op.group });
        model.put(op.offset, Uint8Array.from(op.bytes), op.group);
        break;
      }
      case "fill": {
        const len = Math.min(op.length, size - op.offset);
        ov.fill(op.offset, len, op.byte, { group: op.group });
        model.put(op.offset, new Uint8Array(len).fill(op.byte), op.group);
        break;
      }
      case "undo":
        assert.equal(ov.canUndo, model.undo.length > 0);
        ov.undo();
        model.doUndo();
        break;
      case "redo":
        assert.equal(ov.canRedo, model.redo.length > 0);
        ov.redo();
        model.doRedo();
        break;
      case "save": {
        const old = file;
        const next = ov.apply(0, file.slice());
        ov.markSaved((o, n) => old.slice(o, o + n));
        file = next;
        model.save();
        break;
      }
      case "read": {
        const len = Math.min(op.length, size - op.offset);
        const got = ov.apply(op.offset, file.slice(op.offset, op.offset + len));
        assert.deepEqual(got, model.cur.slice(op.offset, op.offset + len));
        break;
      }
      case "bad": {
        const expect = op.length === 0 ? "EINVAL" : "ERANGE";
        if (op.length !== 0 && op.offset + op.length <= size) break;
        const before = ov.generation;
        assert.throws(() => ov.edit(op.offset, new Uint8Array(op.length)), (e: HexmapError) => e.code === expect);
        assert.equal(ov.generation, before, "a refused edit changes nothing");
        break;
      }
    }
    const refused = op.kind === "edit" && op.offset + op.bytes.length > size;
    if ((op.kind === "edit" && !refused) || op.kind === "fill" || op.kind === "save") assert.ok(ov.generation > gen, "generation bumps");
    if (op.kind === "read") assert.equal(ov.generation, gen, "a read changes nothing");
    gen = ov.generation;
    ov.check();
    // Whole document and the edited map after every step.
    assert.deepEqual(ov.apply(0, file.slice()), model.cur);
    for (let i = 0; i < size; i++) assert.equal(ov.isEdited(i), model.edited[i] === 1, `edited flag at ${i}`);
    assert.equal(ov.editCount, model.editCount(), "editCount");
    assert.equal(ov.dirty, model.editCount() > 0);
    assert.equal(ov.undoDepth, model.undo.length);
    assert.equal(ov.redoDepth, model.redo.length);
  }
}

test("overlay matches a byte-array model for random edit/fill/undo/redo/save sequences (fast-check, 300 runs)", () => {
  fc.assert(
    fc.property(scenario, ([size, base, ops]) => runScenario(size, base, ops)),
    { numRuns: 300 },
  );
});

test("generation bumps on every change and only then", () => {
  const ov = new EditOverlay(100);
  const g0 = ov.generation;
  ov.edit(1, Uint8Array.of(1));
  const g1 = ov.generation;
  assert.ok(g1 > g0);
  ov.apply(0, new Uint8Array(100));
  assert.equal(ov.generation, g1);
  ov.undo();
  assert.ok(ov.generation > g1);
  const g2 = ov.generation;
  assert.equal(ov.undo(), null);
  assert.equal(ov.generation, g2, "nothing to undo: no change");
  ov.redo();
  assert.ok(ov.generation > g2);
});

test("undo restores 'not edited', not a copy of the original bytes", () => {
  const ov = new EditOverlay(10);
  ov.edit(2, Uint8Array.of(9, 9, 9));
  ov.edit(3, Uint8Array.of(7));
  ov.undo();
  assert.deepEqual([2, 3, 4].map((i) => ov.isEdited(i)), [true, true, true]);
  ov.undo();
  assert.deepEqual([2, 3, 4].map((i) => ov.isEdited(i)), [false, false, false]);
  assert.equal(ov.hasPending, false);
  assert.equal(ov.dirty, false);
});

test("typing with a group coalesces into one undo step; another group or a gap starts a new one", () => {
  const ov = new EditOverlay(1000);
  for (let i = 0; i < 10; i++) ov.edit(100 + i, Uint8Array.of(0x41 + i), { group: "typing" });
  assert.equal(ov.undoDepth, 1);
  ov.edit(110, Uint8Array.of(1), { group: "other" });
  assert.equal(ov.undoDepth, 2);
  ov.edit(500, Uint8Array.of(1), { group: "other" }); // not touching: new step
  assert.equal(ov.undoDepth, 3);
  ov.edit(501, Uint8Array.of(1)); // no group: never coalesces
  assert.equal(ov.undoDepth, 4);
  ov.undo();
  ov.undo();
  ov.undo();
  assert.equal(ov.isEdited(105), true);
  ov.undo();
  assert.equal(ov.hasPending, false);
});

test("bad edits: empty → EINVAL, past the end → ERANGE, bad offsets and fill bytes → EINVAL", () => {
  const ov = new EditOverlay(10);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as HexmapError).code;
    }
    return "none";
  };
  assert.equal(code(() => ov.edit(0, new Uint8Array(0))), "EINVAL");
  assert.equal(code(() => ov.edit(9, Uint8Array.of(1, 2))), "ERANGE");
  assert.equal(code(() => ov.edit(10, Uint8Array.of(1))), "ERANGE");
  assert.equal(code(() => ov.edit(-1, Uint8Array.of(1))), "EINVAL");
  assert.equal(code(() => ov.edit(1.5, Uint8Array.of(1))), "EINVAL");
  assert.equal(code(() => ov.edit(2 ** 53, Uint8Array.of(1))), "EINVAL");
  assert.equal(code(() => ov.fill(0, 0, 1)), "EINVAL");
  assert.equal(code(() => ov.fill(0, 2, 256)), "EINVAL");
  assert.equal(code(() => ov.fill(0, 11, 1)), "ERANGE");
  assert.equal(ov.generation, 0);
});

test("RunList stays sorted and exact through many chunk splits and bulk removes", () => {
  const size = 1 << 20;
  const list = new RunList();
  const model = new Int16Array(size).fill(-1); // -1: not covered
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let k = 0; k < 20000; k++) {
    const start = rnd(size - 64);
    if (k % 50 === 49) {
      const end = Math.min(size, start + rnd(40000));
      list.remove(start, end);
      model.fill(-1, start, end);
    } else {
      const n = 1 + rnd(k % 7 === 0 ? 60 : 2);
      const bytes = new Uint8Array(n).map(() => rnd(256));
      list.remove(start, start + n);
      list.insert({ offset: start, bytes });
      for (let i = 0; i < n; i++) model[start + i] = bytes[i]!;
    }
  }
  list.check();
  const covered = new Int16Array(size).fill(-1);
  for (const r of list.runs()) for (let i = 0; i < r.bytes.length; i++) covered[r.offset + i] = r.bytes[i]!;
  assert.deepEqual(covered, model);
  // gaps + collect partition a range
  const gaps = list.gaps(1000, 200000);
  const runs = list.collect(1000, 200000);
  const total = gaps.reduce((a, g) => a + g.end - g.start, 0) + runs.reduce((a, r) => a + r.bytes.length, 0);
  assert.equal(total, 199000);
});

// 1M on Linux; 200k in Windows Node under Wine, whose allocator makes the same run ~5× slower.
const MANY = process.platform === "win32" ? 200_000 : 1_000_000;

test(`${MANY.toLocaleString("en")} scattered single-byte edits: fast, exact, and the memory per edit is reported`, () => {
  const n = MANY;
  const size = 16 * 2 ** 30; // offsets past 4 GiB, as heap numbers
  const stride = Math.floor(size / n);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const ov = new EditOverlay(size);
  // Scattered, in a shuffled order so inserts hit every chunk.
  const order = new Uint32Array(n).map((_, i) => i);
  let seed = 7;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const j = seed % (i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  for (let i = 0; i < n; i++) {
    const k = order[i]!;
    ov.edit(k * stride + 3, Uint8Array.of(k & 0xff));
  }
  const t1 = performance.now();
  global.gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  assert.equal(ov.runCount, n);
  assert.equal(ov.undoDepth, n);
  // lookups
  const buf = new Uint8Array(16);
  for (let i = 0; i < 1000; i++) {
    const k = (i * 997) % n;
    buf.fill(0xee);
    ov.apply(k * stride, buf);
    assert.equal(buf[3], k & 0xff);
    assert.equal(buf[2], 0xee);
  }
  const t2 = performance.now();
  for (let i = 0; i < n / 2; i++) ov.undo();
  const t3 = performance.now();
  assert.equal(ov.runCount, n / 2);
  ov.check();
  const perEdit = (heap1 - heap0) / n;
  // eslint-disable-next-line no-console
  console.log(
    `# ${n} scattered edits: insert ${(t1 - t0).toFixed(0)} ms, 1000 lookups ${(t2 - t1).toFixed(1)} ms, ${n / 2} undos ${(t3 - t2).toFixed(0)} ms, ` +
      `heap ≈ ${global.gc ? perEdit.toFixed(0) : "~" + perEdit.toFixed(0)} bytes/edit${global.gc ? "" : " (run with --expose-gc for an exact figure)"}`,
  );
});
