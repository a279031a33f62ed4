// Unit tests of the renderer's editing parts (no host): hex digits and nibbles, paste parsing,
// the fill byte, the edited mask of a read reply, and the page cache's optimistic patches carried
// over to the host's generation. Browser-host project only (they need no host at all).

import { expect, test } from "@playwright/test";
import { charByte, hexDigit, parseFillByte, parseHexText, typeNibble } from "../renderer/src/editing/text";
import { editedMask, PageCache } from "../renderer/src/pageCache";
import type { HexmapApi } from "../renderer/src/api";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "pure unit tests: run once, in the browser-host project");
});

test("hex digits, nibbles and text-pane bytes", () => {
  expect([..."09afAF"].map(hexDigit)).toEqual([0, 9, 10, 15, 10, 15]);
  expect(["g", "G", " ", "", "10", "x"].map(hexDigit)).toEqual([-1, -1, -1, -1, -1, -1]);
  expect(typeNibble(0x12, 0xa, 0)).toBe(0xa2);
  expect(typeNibble(0xa2, 0xb, 1)).toBe(0xab);
  expect(charByte("A")).toBe(0x41);
  expect(charByte(" ")).toBe(0x20);
  expect(charByte("é")).toBe(0xe9);
  expect(charByte("Enter")).toBe(-1);
  expect(charByte("€")).toBe(-1);
});

test("paste: hex text in the usual shapes; errors say why", () => {
  const ok = (s: string) => {
    const r = parseHexText(s);
    if (!r.ok) throw new Error(r.error);
    return [...r.bytes];
  };
  expect(ok("DE AD BE EF")).toEqual([0xde, 0xad, 0xbe, 0xef]);
  expect(ok("deadbeef")).toEqual([0xde, 0xad, 0xbe, 0xef]);
  expect(ok("0xDE, 0xAD\n0xbe;0xef")).toEqual([0xde, 0xad, 0xbe, 0xef]);
  expect(ok("de:ad-be ef")).toEqual([0xde, 0xad, 0xbe, 0xef]);
  expect(ok("\\xde\\xad")).toEqual([0xde, 0xad]);
  for (const [text, why] of [
    ["hello", /not hex/],
    ["ABC", /odd number/],
    ["  ", /no hex digits/],
  ] as const) {
    const r = parseHexText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  }
});

test("fill byte: hex by default, decimal with # or d", () => {
  expect(parseFillByte("ff")).toEqual({ ok: true, byte: 255 });
  expect(parseFillByte("0x41")).toEqual({ ok: true, byte: 0x41 });
  expect(parseFillByte("0")).toEqual({ ok: true, byte: 0 });
  expect(parseFillByte("#65")).toEqual({ ok: true, byte: 65 });
  expect(parseFillByte("65d")).toEqual({ ok: true, byte: 65 });
  expect(parseFillByte("#256").ok).toBe(false);
  expect(parseFillByte("zz").ok).toBe(false);
  expect(parseFillByte("100").ok).toBe(false);
});

test("edited mask from a read reply: ranges, or the base64 bit mask", () => {
  const bytes = new Uint8Array(20);
  expect(editedMask({ bytes })).toBeNull();
  expect(editedMask({ bytes, edited: [] })).toBeNull();
  expect([...editedMask({ bytes, edited: [1, 3, 18, 20] })!]).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  const bits = new Uint8Array(3);
  bits[0] = 0b10000001;
  bits[2] = 0b00001000;
  const b64 = btoa(String.fromCharCode(...bits));
  const m = editedMask({ bytes, edited: [], editedMask: b64 })!;
  expect([...m].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([0, 7, 19]);
});

/** A host whose file is `data` and whose reads say generation `gen`. */
function fakeHost(data: Uint8Array, gen: () => number, edited: () => number[] = () => []) {
  let reads = 0;
  const api: Pick<HexmapApi, "request"> = {
    request: (async (type: string, p: { offset: number; length: number; docId: string }) => {
      if (type !== "read") throw new Error(type);
      reads++;
      return { docId: p.docId, offset: p.offset, bytes: data.slice(p.offset, p.offset + p.length), generation: gen(), size: data.length, edited: edited() };
    }) as HexmapApi["request"],
  };
  return { api, reads: () => reads };
}

test("page cache: a patch shows at once, moves to the new generation exactly, never flashes a placeholder", async () => {
  const data = new Uint8Array(200).map((_, i) => i);
  let gen = 5;
  const host = fakeHost(data, () => gen);
  const cache = new PageCache(host.api, { pageSize: 64 });
  const doc = (g: number) => ({ docId: "d1", generation: g, size: 200 });
  cache.want(doc(5), [0, 1, 2, 3]);
  await expect.poll(() => cache.size).toBe(4);
  const out: number[] = [];
  const ed: number[] = [];

  // Typed: shown at once, marked edited, before the host answers.
  const p = cache.addPatch({ docId: "d1", offset: 63, bytes: Uint8Array.of(0xaa, 0xbb), edited: Uint8Array.of(1, 1) });
  cache.fill(doc(5), 62, 4, out, ed);
  expect(out).toEqual([62, 0xaa, 0xbb, 65]);
  expect(ed).toEqual([0, 1, 1, 0]);

  // The host answered generation 6: the pages carry over (no read), the patch is folded in.
  gen = 6;
  cache.advance("d1", 6, 1, { patch: p });
  cache.fill(doc(6), 62, 4, out, ed);
  expect(out).toEqual([62, 0xaa, 0xbb, 65]);
  expect(ed).toEqual([0, 1, 1, 0]);
  cache.fill(doc(6), 0, 3, out, ed);
  expect(out).toEqual([0, 1, 2]);
  const before = host.reads();
  cache.want(doc(6), [0, 1, 2, 3]);
  expect(host.reads()).toBe(before);
  // A render that still asks for generation 5 sees the same bytes.
  cache.fill(doc(5), 62, 4, out);
  expect(out).toEqual([62, 0xaa, 0xbb, 65]);

  // A save: same bytes, no edited mark.
  cache.advance("d1", 8, 2, { clearEdited: true });
  cache.fill(doc(8), 62, 4, out, ed);
  expect(out).toEqual([62, 0xaa, 0xbb, 65]);
  expect(ed).toEqual([0, 0, 0, 0]);

  // An undo without bytes: the touched page is not carried over; until it reloads the newest
  // copy shows (no placeholder), the others carry over.
  cache.advance("d1", 9, 1, { range: { start: 63, end: 65 } });
  cache.fill(doc(9), 62, 4, out);
  expect(out.every((b) => b >= 0)).toBe(true);
  expect(cache.has(doc(9), 0)).toBe(false);
  expect(cache.has(doc(9), 2)).toBe(true);

  // A failed edit: its patch goes and the bytes under it show again.
  const q = cache.addPatch({ docId: "d1", offset: 150, bytes: Uint8Array.of(1), edited: Uint8Array.of(1) });
  cache.fill(doc(9), 150, 1, out);
  expect(out).toEqual([1]);
  cache.removePatch(q);
  cache.fill(doc(9), 150, 1, out);
  expect(out).toEqual([150]);
});

test("page cache: edited runs from read replies colour the bytes", async () => {
  const data = new Uint8Array(128).map((_, i) => i);
  const host = fakeHost(data, () => 1, () => [2, 4]);
  const cache = new PageCache(host.api, { pageSize: 64 });
  const doc = { docId: "d1", generation: 1, size: 128 };
  cache.want(doc, [0]);
  await expect.poll(() => cache.size).toBe(1);
  const out: number[] = [];
  const ed: number[] = [];
  cache.fill(doc, 0, 6, out, ed);
  expect(ed).toEqual([0, 0, 1, 1, 0, 0]);
});
