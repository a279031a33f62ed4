// Unit tests of the renderer's parts for edits that change the size (no host): the range
// arithmetic bookmarks and search hits share (editing/ranges.ts), the page cache re-mapping pages
// after an insert or delete and never showing a page of before a shift for a later generation,
// the inserted marks of a read reply and their class, the append cell, the dialogs' parsers, the
// save notice. Browser-host project only (they need no host at all).

import { expect, test } from "@playwright/test";
import { RangeUndoMemory, editDelta, editFromSizes, shiftAll, shiftOffset, shiftRange, shiftStarts } from "../renderer/src/editing/ranges";
import { parseFillPattern, parseOffset } from "../renderer/src/editing/text";
import { patternBytes, saveNotice } from "../renderer/src/editing/session";
import { editedMask, MARK_EDITED, MARK_INSERTED, PageCache, REMAP_PAGES } from "../renderer/src/pageCache";
import { asciiRuns, hexRuns, LOADING } from "../renderer/src/format";
import { parseByteSize } from "../renderer/src/shm/size";
import type { HexmapApi } from "../renderer/src/api";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "pure unit tests: run once, in the browser-host project");
});

const R = (offset: number, length: number) => ({ offset, length });
const ins = (offset: number, n: number) => ({ offset, deleted: 0, inserted: n });
const del = (offset: number, n: number) => ({ offset, deleted: n, inserted: 0 });

test("shiftRange (grow, bookmarks): after an edit it moves, inside an insert it grows, deleted it goes", () => {
  // Insert of 3 at 10.
  expect(shiftRange(R(0, 5), ins(10, 3))).toEqual(R(0, 5)); // before
  expect(shiftRange(R(5, 5), ins(10, 3))).toEqual(R(5, 5)); // ends right at the insert point
  expect(shiftRange(R(10, 2), ins(10, 3))).toEqual(R(13, 2)); // starts at it: moves with its bytes
  expect(shiftRange(R(20, 2), ins(10, 3))).toEqual(R(23, 2));
  expect(shiftRange(R(8, 4), ins(10, 3))).toEqual(R(8, 7)); // straddles: grows
  // Delete of [10, 14).
  expect(shiftRange(R(0, 10), del(10, 4))).toEqual(R(0, 10));
  expect(shiftRange(R(14, 2), del(10, 4))).toEqual(R(10, 2));
  expect(shiftRange(R(10, 4), del(10, 4))).toBeNull(); // all its bytes deleted
  expect(shiftRange(R(11, 2), del(10, 4))).toBeNull();
  expect(shiftRange(R(8, 4), del(10, 4))).toEqual(R(8, 2)); // its tail deleted
  expect(shiftRange(R(12, 4), del(10, 4))).toEqual(R(10, 2)); // its head deleted
  expect(shiftRange(R(8, 10), del(10, 4))).toEqual(R(8, 6)); // a hole in it
  // An overwrite moves nothing; a replace of another length acts after the overwritten part.
  expect(shiftRange(R(10, 4), { offset: 10, deleted: 4, inserted: 4 })).toEqual(R(10, 4));
  expect(shiftRange(R(20, 1), { offset: 10, deleted: 4, inserted: 6 })).toEqual(R(22, 1));
  expect(shiftRange(R(14, 1), { offset: 10, deleted: 4, inserted: 6 })).toEqual(R(16, 1));
  expect(shiftRange(R(20, 1), { offset: 10, deleted: 6, inserted: 2 })).toEqual(R(16, 1));
  expect(shiftRange(R(11, 1), { offset: 10, deleted: 6, inserted: 2 })).toEqual(R(11, 1)); // overwritten, kept
  expect(shiftRange(R(12, 4), { offset: 10, deleted: 6, inserted: 2 })).toBeNull();
  // Extra fields (a bookmark's name, colour) come along; an unmoved range is the same object.
  const b = { offset: 20, length: 2, name: "x", color: "#ffffff" };
  expect(shiftRange(b, ins(0, 1))).toEqual({ ...b, offset: 21 });
  expect(shiftRange(b, ins(30, 1))).toBe(b);
  expect(editDelta({ offset: 0, deleted: 2, inserted: 5 })).toBe(3);
  expect(shiftAll([b], ins(30, 1))).toBeNull();
  expect(shiftAll([b, { ...b, offset: 40 }], del(19, 4))).toEqual([{ ...b, offset: 40 - 4 }]);
});

test("bookmarks: undo of a delete brings back the bookmarks it dropped or shortened, exactly; redo drops them again", () => {
  const B = (offset: number, length: number, name: string) => ({ offset, length, name, color: "#e5534b" });
  const mem = new RangeUndoMemory<ReturnType<typeof B>>();
  const start = [B(0, 4, "head"), B(10, 4, "gone"), B(12, 10, "cut"), B(40, 2, "after")];
  // Delete [8, 16): "gone" loses all its bytes, "cut" its head, "after" moves.
  const afterDel = mem.afterEdit(start, del(8, 8))!;
  expect(afterDel).toEqual([B(0, 4, "head"), B(8, 6, "cut"), B(32, 2, "after")]);
  // The undo re-inserts those 8 bytes at 8 (what editFromSizes reports for it).
  const undone = mem.afterUndo(afterDel, editFromSizes(8, 16, 42, 50))!;
  expect(undone).toEqual(start);
  // Redo deletes them again; a second undo restores again.
  const redone = mem.afterEdit(undone, del(8, 8))!;
  expect(redone).toEqual(afterDel);
  expect(mem.afterUndo(redone, ins(8, 8))).toEqual(start);
  // An undo of an insert (bytes removed) restores nothing and just shifts.
  const m2 = new RangeUndoMemory<ReturnType<typeof B>>();
  const grown = m2.afterEdit([B(5, 2, "x")], ins(0, 3))!;
  expect(grown).toEqual([B(8, 2, "x")]);
  expect(m2.afterUndo(grown, del(0, 3))).toEqual([B(5, 2, "x")]);
  // Two deletes undone in turn come back in turn; an undo that brings back other bytes restores nothing.
  const m3 = new RangeUndoMemory<ReturnType<typeof B>>();
  const l1 = m3.afterEdit([B(0, 2, "a"), B(10, 2, "b")], del(0, 2))!; // a gone, b at 8
  const l2 = m3.afterEdit(l1, del(8, 2))!; // b gone
  expect(l2).toEqual([]);
  expect(m3.afterUndo(l2, ins(100, 2))).toBeNull(); // not these bytes: nothing moves, nothing back
  const u1 = m3.afterUndo(l2, ins(8, 2))!;
  expect(u1).toEqual([B(8, 2, "b")]);
  expect(m3.afterUndo(u1, ins(0, 2))).toEqual([B(0, 2, "a"), B(10, 2, "b")]);
});

test("shiftRange (strict, search hits): a hit whose bytes an edit touches goes; shiftStarts keeps the order", () => {
  expect(shiftRange(R(10, 4), ins(12, 1), "strict")).toBeNull(); // insert inside the hit
  expect(shiftRange(R(10, 4), ins(10, 1), "strict")).toEqual(R(11, 4));
  expect(shiftRange(R(10, 4), ins(14, 1), "strict")).toEqual(R(10, 4));
  expect(shiftRange(R(10, 4), { offset: 13, deleted: 1, inserted: 1 }, "strict")).toBeNull(); // overwritten
  expect(shiftRange(R(10, 4), del(2, 3), "strict")).toEqual(R(7, 4));
  const starts = [1, 10, 20, 30];
  expect(shiftStarts(starts, 4, ins(100, 5))).toBe(starts);
  expect(shiftStarts(starts, 4, ins(12, 2))).toEqual([1, 22, 32]);
  expect(shiftStarts(starts, 4, del(0, 1))).toEqual([0, 9, 19, 29]);
  expect(shiftStarts(starts, 4, del(1, 1))).toEqual([9, 19, 29]); // the first hit lost a byte
  expect(shiftOffset(50, ins(10, 3))).toBe(53);
  expect(shiftOffset(5, ins(10, 3))).toBe(5);
  expect(shiftOffset(12, del(10, 4))).toBe(10);
  // What an undo/redo did, from its reply: the changed start and the sizes.
  expect(editFromSizes(10, 100, 100, 103)).toEqual(ins(10, 3));
  expect(editFromSizes(10, 97, 100, 97)).toEqual(del(10, 3));
  expect(editFromSizes(10, 12, 100, 100)).toEqual({ offset: 10, deleted: 2, inserted: 2 });
});

/** A host serving `data()` at generation `gen()`, with `inserted` runs. */
function fakeHost(data: () => Uint8Array, gen: () => number, inserted: () => number[] = () => []) {
  let reads = 0;
  const api: Pick<HexmapApi, "request"> = {
    request: (async (type: string, p: { offset: number; length: number; docId: string }) => {
      if (type !== "read") throw new Error(type);
      reads++;
      const d = data();
      const bytes = d.slice(p.offset, p.offset + p.length);
      return { docId: p.docId, offset: p.offset, bytes, generation: gen(), size: d.length, edited: inserted(), inserted: inserted() };
    }) as HexmapApi["request"],
  };
  return { api, reads: () => reads };
}

function splice(data: Uint8Array, at: number, deleted: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length - deleted + bytes.length);
  out.set(data.subarray(0, at));
  out.set(bytes, at);
  out.set(data.subarray(at + deleted), at + bytes.length);
  return out;
}

test("page cache: an insert re-maps the pages after it exactly (no read), marks the inserted bytes, and re-reads them later", async () => {
  let data: Uint8Array = new Uint8Array(1000).map((_, i) => i & 0xff);
  let gen = 1;
  const host = fakeHost(() => data, () => gen);
  const cache = new PageCache(host.api, { pageSize: 64 });
  const doc = (g: number, size: number) => ({ docId: "d", generation: g, size });
  const all = Array.from({ length: 16 }, (_, i) => i);
  cache.want(doc(1, 1000), all);
  await expect.poll(() => cache.size).toBe(16);

  // Host: 3 bytes inserted at 100 (generation 2).
  const added = Uint8Array.of(0xaa, 0xbb, 0xcc);
  data = splice(data, 100, 0, added);
  gen = 2;
  cache.advance("d", 2, 1, { shift: { start: 100, size: 1003, deleted: 0, inserted: 3, bytes: (f, n) => added.subarray(f, f + n), mark: MARK_INSERTED } });
  const out: number[] = [];
  const marks: number[] = [];
  // Before the edit: carried; from its page on, REMAP_PAGES pages rebuilt from the old ones.
  const rebuiltEnd = (Math.floor(100 / 64) + REMAP_PAGES) * 64;
  cache.fill(doc(2, 1003), 0, rebuiltEnd, out, marks);
  expect(out).toEqual(Array.from(data.subarray(0, rebuiltEnd)));
  expect(marks.slice(98, 105)).toEqual([0, 0, MARK_INSERTED, MARK_INSERTED, MARK_INSERTED, 0, 0]);
  // Past the window: dropped, and the old copy (shifted bytes) is never shown instead.
  cache.fill(doc(2, 1003), rebuiltEnd, 10, out);
  expect(out.every((b) => b === LOADING)).toBe(true);
  // A render still at generation 1 keeps seeing generation 1's bytes.
  cache.fill(doc(1, 1000), rebuiltEnd, 4, out);
  expect(out).toEqual([rebuiltEnd & 0xff, (rebuiltEnd + 1) & 0xff, (rebuiltEnd + 2) & 0xff, (rebuiltEnd + 3) & 0xff]);
  // The rebuilt pages are re-read when the view wants them (the host's marks win); the carried one is not.
  const before = host.reads();
  cache.want(doc(2, 1003), all);
  await expect.poll(() => host.reads() - before).toBe(15);
  await expect.poll(() => { cache.fill(doc(2, 1003), 0, 1003, out); return out.join(","); }).toBe(Array.from(data).join(","));
});

test("page cache: a delete across pages re-maps from the bytes after it; an undo without bytes keeps only the pages before it", async () => {
  let data: Uint8Array = new Uint8Array(640).map((_, i) => (i * 7) & 0xff);
  let gen = 4;
  const host = fakeHost(() => data, () => gen);
  const cache = new PageCache(host.api, { pageSize: 64 });
  const doc = (g: number, size: number) => ({ docId: "d", generation: g, size });
  cache.want(doc(4, 640), Array.from({ length: 10 }, (_, i) => i));
  await expect.poll(() => cache.size).toBe(10);

  // Delete [70, 200): 130 bytes.
  data = splice(data, 70, 130, new Uint8Array(0));
  gen = 5;
  cache.advance("d", 5, 1, { shift: { start: 70, size: 510, deleted: 130, inserted: 0 } });
  const out: number[] = [];
  cache.fill(doc(5, 510), 0, 64 * (1 + REMAP_PAGES), out);
  expect(out).toEqual(Array.from(data.subarray(0, 64 * (1 + REMAP_PAGES))));

  // An undo whose bytes the reply did not carry: from its start on, nothing of before is shown.
  gen = 6;
  data = new Uint8Array(640).map((_, i) => (i * 7) & 0xff);
  cache.advance("d", 6, 1, { shift: { start: 70, size: 640 } });
  cache.fill(doc(6, 640), 0, 64, out);
  expect(out).toEqual(Array.from(data.subarray(0, 64)));
  cache.fill(doc(6, 640), 64, 64, out);
  expect(out.every((b) => b === LOADING)).toBe(true);
  cache.want(doc(6, 640), Array.from({ length: 10 }, (_, i) => i));
  await expect.poll(() => { cache.fill(doc(6, 640), 0, 640, out); return out.join(","); }).toBe(Array.from(data).join(","));

  // Another client changed the size (an event, no range): a cut at 0 hides every older page.
  cache.cut("d", 7, 0);
  cache.fill(doc(7, 640), 0, 4, out);
  expect(out.every((b) => b === LOADING)).toBe(true);
});

test("page cache: a short last page grows on an append (not carried as it was)", async () => {
  let data: Uint8Array = new Uint8Array(100).map((_, i) => i);
  let gen = 1;
  const host = fakeHost(() => data, () => gen);
  const cache = new PageCache(host.api, { pageSize: 64 });
  cache.want({ docId: "d", generation: 1, size: 100 }, [0, 1]);
  await expect.poll(() => cache.size).toBe(2);
  const added = Uint8Array.of(1, 2, 3);
  data = splice(data, 100, 0, added);
  gen = 2;
  cache.advance("d", 2, 1, { shift: { start: 100, size: 103, deleted: 0, inserted: 3, bytes: (f, n) => added.subarray(f, f + n) } });
  const out: number[] = [];
  cache.fill({ docId: "d", generation: 2, size: 103 }, 96, 7, out);
  expect(out).toEqual([96, 97, 98, 99, 1, 2, 3]);
});

test("read replies: inserted runs are their own mark; rows give them the ins class; the append cell", () => {
  const bytes = new Uint8Array(8);
  expect([...editedMask({ bytes, edited: [0, 2, 4, 8], inserted: [4, 6] })!]).toEqual([1, 1, 0, 0, 2, 2, 1, 1]);
  expect([...editedMask({ bytes, inserted: [0, 1] })!]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
  const h = { cursor: 99, selStart: 1, selEnd: 0 };
  const runs = hexRuns([0x41, 0x42, 0x43], 0, 16, h, [MARK_EDITED, MARK_INSERTED, 0]);
  expect(runs.map((r) => r.cls)).toEqual(["ed", "", "ins", ""]);
  expect(asciiRuns([0x41, 0x42], 0, h, [0, MARK_INSERTED]).map((r) => `${r.cls}:${r.text}`)).toEqual([":A", "ins:B"]);
  // Insert mode: an empty cell after the last byte, the cursor on it.
  const app = hexRuns([0x41], 0, 16, { cursor: 1, selStart: 1, selEnd: 0 }, undefined, true);
  expect(app.map((r) => `${r.cls}:${r.text}`)).toEqual([":41 ", "cur app:  "]);
  expect(asciiRuns([], 32, { cursor: 32, selStart: 1, selEnd: 0 }, undefined, true)).toEqual([{ cls: "cur app", text: " " }]);
});

test("dialog parsers: counts with units, a byte or a pattern, offsets; the save notice says how it saved", () => {
  expect(parseByteSize("1 GiB", 2 ** 53, "An insert")).toEqual({ ok: true, size: 1024 ** 3 });
  expect(parseByteSize("2 TiB", 2 ** 53, "An insert")).toEqual({ ok: true, size: 2 * 1024 ** 4 });
  expect(parseByteSize("0", 100, "An insert")).toMatchObject({ ok: false, error: "An insert needs at least 1 byte" });
  expect(parseByteSize("200", 100, "A delete", "only 100 bytes follow 0x0")).toMatchObject({ ok: false, error: "200 is too large: only 100 bytes follow 0x0" });
  expect(parseFillPattern("00")).toEqual({ ok: true, bytes: Uint8Array.of(0) });
  expect(parseFillPattern("#65")).toEqual({ ok: true, bytes: Uint8Array.of(65) });
  expect(parseFillPattern("DE AD BE EF")).toEqual({ ok: true, bytes: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) });
  expect(parseFillPattern("0d0a")).toEqual({ ok: true, bytes: Uint8Array.of(0x0d, 0x0a) });
  expect(parseFillPattern("xyz").ok).toBe(false);
  expect(parseFillPattern("#300")).toMatchObject({ ok: false, error: expect.stringContaining("more than a byte") });
  expect(parseFillPattern("00 ".repeat(5000)).ok).toBe(false);
  expect(parseOffset("0x100", 1000)).toEqual({ ok: true, offset: 256 });
  expect(parseOffset("100h", 1000)).toEqual({ ok: true, offset: 256 });
  expect(parseOffset("1_000", 1000)).toEqual({ ok: true, offset: 1000 });
  expect(parseOffset("1001", 1000)).toMatchObject({ ok: false, error: expect.stringContaining("past the end") });
  expect(parseOffset("ff", 1000)).toMatchObject({ ok: false, error: expect.stringContaining("0xff") });
  expect([...patternBytes(Uint8Array.of(1, 2, 3), 2, 5)]).toEqual([3, 1, 2, 3, 1]);
  expect([...patternBytes(Uint8Array.of(9), 7, 3)]).toEqual([9, 9, 9]);

  const r = { records: 3, bytesWritten: 1234, size: 300 };
  expect(saveNotice("f.bin", { ...r, strategy: "journal" }, 300)).toBe("Saved f.bin (1,234 bytes written).");
  expect(saveNotice("f.bin", { ...r, strategy: "rewrite" }, 256)).toBe("Saved f.bin (rewritten: the size changed; 1,234 bytes written).");
  expect(saveNotice("f.bin", { ...r, strategy: "rewrite" }, 300)).toBe("Saved f.bin (rewritten: bytes moved; 1,234 bytes written).");
  expect(saveNotice("f.bin", { ...r, strategy: "in-place" }, 256)).toBe("Saved f.bin (resized in place, journaled; 1,234 bytes written).");
  expect(saveNotice("f.bin", { ...r, strategy: "rewrite", historyCleared: true }, 256)).toContain("The undo history was cleared");
  expect(saveNotice("f.bin", { records: 0, bytesWritten: 0, size: 1, strategy: "none" })).toBe("Nothing to save.");
});
