// Unit tests of the renderer's pure parts (no browser): offset formatting, the Go to parser, the
// highlight runs of a row, the hex-pane hit test, and the page cache (LRU, in-flight de-dupe,
// generations, the replaced queue) over the in-memory fake host. They run in the browser-host
// project only: they need no host at all.

import { expect, test } from "@playwright/test";
import {
  asciiRuns,
  byteAtHexColumn,
  FAILED,
  formatOffset,
  hexColumn,
  hexHeader,
  hexRuns,
  hexWidth,
  LOADING,
  offsetDigits,
  parseGoto,
} from "../renderer/src/format";
import { PageCache } from "../renderer/src/pageCache";
import { fakeApi, hashByte } from "../renderer/src/fakeHost";
import { rowForThumb, thumbGeometry } from "../renderer/src/scrollMath";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "pure unit tests: run once, in the browser-host project");
});

const TiB = 1024 ** 4;

test("offset column: 8 digits, growing past 4 GiB and 1 TiB", () => {
  expect(offsetDigits(0)).toBe(8);
  expect(offsetDigits(2 ** 32)).toBe(8); // last offset 0xFFFFFFFF
  expect(offsetDigits(2 ** 32 + 1)).toBe(9);
  expect(offsetDigits(64 * 1024 ** 3)).toBe(9);
  expect(offsetDigits(TiB)).toBe(10);
  expect(offsetDigits(TiB + 1)).toBe(11);
  expect(offsetDigits(Number.MAX_SAFE_INTEGER)).toBe(14);
  expect(formatOffset(2 ** 32 + 5, 9)).toBe("100000005");
  expect(formatOffset(0xabc, 8)).toBe("00000ABC");
});

test("Go to parser: decimal, hex, h-suffix, relative, percent, and its errors", () => {
  const size = 64 * 1024 ** 3;
  expect(parseGoto("4096", 0, size)).toEqual({ ok: true, offset: 4096 });
  expect(parseGoto(" 0x1_0000_0000 ", 0, size)).toEqual({ ok: true, offset: 2 ** 32 });
  expect(parseGoto("0XfF", 0, size)).toEqual({ ok: true, offset: 255 });
  expect(parseGoto("1000h", 0, size)).toEqual({ ok: true, offset: 4096 });
  expect(parseGoto("+16", 100, size)).toEqual({ ok: true, offset: 116 });
  expect(parseGoto("-0x10", 100, size)).toEqual({ ok: true, offset: 84 });
  expect(parseGoto("−4", 100, size)).toEqual({ ok: true, offset: 96 });
  expect(parseGoto("50%", 0, size)).toEqual({ ok: true, offset: size / 2 });
  expect(parseGoto("12.5 %", 0, size)).toEqual({ ok: true, offset: size / 8 });
  expect(parseGoto("100%", 0, size)).toEqual({ ok: true, offset: size - 1 });
  expect(parseGoto("0%", 5, size)).toEqual({ ok: true, offset: 0 });
  expect(parseGoto(String(size - 1), 0, size)).toEqual({ ok: true, offset: size - 1 });
  // 1 TiB file: exact at the very end.
  expect(parseGoto("0xFFFFFFFFFF", 0, TiB)).toEqual({ ok: true, offset: TiB - 1 });

  const err = (s: string, cursor = 0, sz = size) => {
    const r = parseGoto(s, cursor, sz);
    return r.ok ? "" : r.error;
  };
  expect(err("")).toMatch(/Enter an offset/);
  expect(err(String(size))).toMatch(/past the end/);
  expect(err("0x" + "F".repeat(20))).toMatch(/past the end/);
  expect(err("99999999999999999999999")).toMatch(/past the end/);
  expect(err("+1", size - 1)).toMatch(/past the end/);
  expect(err("-5", 4)).toMatch(/before the start/);
  expect(err("abc")).toMatch(/looks like hex: write it as 0xabc/);
  expect(err("12xyz")).toMatch(/not a number/);
  expect(err("0x")).toMatch(/not a number/);
  expect(err("1e3")).toMatch(/not a number|hex/);
  expect(err("150%")).toMatch(/past the end/);
  expect(err("1", 0, 0)).toMatch(/past the end/);
  expect(parseGoto("0", 0, 0)).toEqual({ ok: true, offset: 0 });
});

test("hex pane layout: columns, groups of 8, hit test", () => {
  expect(hexHeader(16)).toBe("00 01 02 03 04 05 06 07  08 09 0A 0B 0C 0D 0E 0F");
  expect(hexWidth(16)).toBe(hexHeader(16).length);
  for (const bpr of [8, 16, 24, 32]) {
    expect(hexWidth(bpr)).toBe(hexHeader(bpr).length);
    for (let i = 0; i < bpr; i++) {
      const col = hexColumn(i);
      expect(hexHeader(bpr).slice(col, col + 2)).toBe(i.toString(16).toUpperCase().padStart(2, "0"));
      expect(byteAtHexColumn(col, bpr)).toBe(i);
      expect(byteAtHexColumn(col + 1, bpr)).toBe(i);
    }
  }
  expect(byteAtHexColumn(-3, 16)).toBe(0);
  expect(byteAtHexColumn(999, 16)).toBe(15);
});

test("a row is one text run, split only at the cursor and the selection", () => {
  const bytes = Array.from({ length: 16 }, (_, i) => 0x41 + i);
  const none = { cursor: -1, selStart: 1, selEnd: 0 };
  expect(hexRuns(bytes, 0, 16, none)).toEqual([{ cls: "", text: "41 42 43 44 45 46 47 48  49 4A 4B 4C 4D 4E 4F 50" }]);
  expect(asciiRuns(bytes, 0, none)).toEqual([{ cls: "", text: "ABCDEFGHIJKLMNOP" }]);

  const h = { cursor: 5, selStart: 3, selEnd: 9 };
  const runs = hexRuns(bytes, 0, 16, h);
  expect(runs.map((r) => r.cls)).toEqual(["", "sel", "cur sel", "sel", ""]);
  expect(runs.map((r) => r.text).join("")).toBe("41 42 43 44 45 46 47 48  49 4A 4B 4C 4D 4E 4F 50");
  // The separators inside the selection are selected (one band), the ones at its edges are not.
  expect(runs[1]!.text).toBe("44 45 ");
  expect(runs[3]!.text).toBe(" 47 48  49 4A");
  expect(asciiRuns(bytes, 0, h).map((r) => [r.cls, r.text])).toEqual([
    ["", "ABC"],
    ["sel", "DE"],
    ["cur sel", "F"],
    ["sel", "GHIJ"],
    ["", "KLMNOP"],
  ]);
  // Absolute offsets past 4 GiB, loading and failed bytes.
  const far = 2 ** 32 + 16;
  const partial = [1, LOADING, FAILED, 0x7f];
  expect(hexRuns(partial, far, 16, { cursor: far + 3, selStart: 1, selEnd: 0 })).toEqual([
    { cls: "", text: "01 ·· !! " },
    { cls: "cur", text: "7F" },
  ]);
  expect(asciiRuns(partial, far, none)).toEqual([{ cls: "", text: ".·!." }]);
});

test("scrollbar geometry maps the thumb to the row range at any size", () => {
  const rows = TiB / 16;
  expect(thumbGeometry(600, 0, rows - 30, rows, 30)).toEqual({ thumb: 28, travel: 572, top: 0 });
  expect(thumbGeometry(600, rows - 30, rows - 30, rows, 30).top).toBe(572);
  expect(thumbGeometry(600, (rows - 30) / 2, rows - 30, rows, 30).top).toBe(286);
  // Everything fits: the thumb fills the track.
  expect(thumbGeometry(600, 0, 0, 10, 30)).toEqual({ thumb: 600, travel: 0, top: 0 });
  expect(rowForThumb(286, 572, rows - 30)).toBe(Math.round((rows - 30) / 2));
  expect(rowForThumb(572, 572, rows - 30)).toBe(rows - 30);
  expect(rowForThumb(-5, 572, rows - 30)).toBe(0);
  expect(rowForThumb(10_000, 572, rows - 30)).toBe(rows - 30);
});

test("page cache: reads pages once, de-dupes in flight, evicts LRU, drops stale generations", async () => {
  const api = fakeApi(undefined, 5);
  const reads: number[] = [];
  const counting = {
    request: (async (type: string, params: { offset?: number }) => {
      if (type === "read") reads.push(params.offset!);
      return api.request(type as "read", params as never);
    }) as typeof api.request,
  };
  const info = await api.request("open", { path: "/demo/big.bin" });
  const doc = { docId: info.docId, generation: info.generation, size: info.size };
  const cache = new PageCache(counting, { capacity: 4 });
  let changes = 0;
  cache.subscribe(() => changes++);

  const out: number[] = [];
  expect(cache.fill(doc, 65530, 12, out).every((b) => b === LOADING)).toBe(true);
  cache.want(doc, [0, 1]);
  cache.want(doc, [0, 1]); // in flight: not asked again
  await expect.poll(() => cache.has(doc, 0) && cache.has(doc, 1)).toBe(true);
  expect(reads).toEqual([0, 65536]);
  expect(changes).toBeGreaterThanOrEqual(2);
  // A row across the page boundary reads from both pages.
  cache.fill(doc, 65530, 12, out);
  expect(out).toEqual(Array.from({ length: 12 }, (_, i) => hashByte(65530 + i)));

  // Far past 4 GiB, with prefetch; capacity 4 evicts the least recently used.
  const far = Math.floor((40 * 1024 ** 3) / 65536);
  cache.get(doc, 0); // page 0 becomes the most recent
  cache.want(doc, [far], [far + 1, far + 2]);
  await expect.poll(() => [far, far + 1, far + 2].every((p) => cache.has(doc, p))).toBe(true);
  expect(cache.size).toBe(4);
  expect(cache.has(doc, 1)).toBe(false);
  expect(cache.has(doc, 0)).toBe(true);
  cache.fill(doc, far * 65536 + 100, 4, out);
  expect(out).toEqual([0, 1, 2, 3].map((i) => hashByte(far * 65536 + 100 + i)));

  // The queue is replaced: pages wanted earlier but no longer are not fetched.
  reads.length = 0;
  cache.want(doc, [100, 101, 102, 103, 104, 105, 106]); // 4 start, 3 queue
  cache.want(doc, [200]);
  await expect.poll(() => cache.has(doc, 200)).toBe(true);
  await new Promise((r) => setTimeout(r, 30));
  expect(reads.map((o) => o / 65536).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 200]);

  // A new generation: old pages are unreachable, then dropped.
  const next = { ...doc, generation: doc.generation + 1 };
  expect(cache.has(next, 200)).toBe(false);
  cache.dropDoc(doc.docId, next.generation);
  expect(cache.size).toBe(0);

  // The last page is short; nothing is asked past the end.
  const lastPage = Math.ceil(doc.size / 65536) - 1;
  reads.length = 0;
  cache.want(doc, [lastPage, lastPage + 1, -1]);
  await expect.poll(() => cache.has(doc, lastPage)).toBe(true);
  expect(reads).toEqual([lastPage * 65536]);
});

test("page cache: a failed read marks its bytes, tells the owner, and is retried later", async () => {
  const errors: string[] = [];
  let fail = true;
  const api = {
    request: (async (_type: string, params: { docId: string; offset: number; length: number }) => {
      if (fail) throw Object.assign(new Error("I/O error reading the file"), { code: "EIO" });
      return { docId: params.docId, offset: params.offset, bytes: new Uint8Array(params.length).fill(7), generation: 1, size: 1 << 20 };
    }) as never,
  };
  const doc = { docId: "d1", generation: 1, size: 1 << 20 };
  const cache = new PageCache(api, { onError: (_d, e) => errors.push(e.message) });
  cache.want(doc, [3]);
  await expect.poll(() => errors.length).toBe(1);
  expect(cache.fill(doc, 3 * 65536, 2, [])).toEqual([FAILED, FAILED]);
  cache.want(doc, [3]); // within the retry delay: not asked again
  await new Promise((r) => setTimeout(r, 20));
  expect(errors.length).toBe(1);
  fail = false;
});

test("page cache: EBUSY is retried without an error; the rest of the queue still loads", async () => {
  const errors: string[] = [];
  let busy = 2;
  const asked: number[] = [];
  const api = {
    request: (async (_type: string, params: { docId: string; offset: number; length: number }) => {
      asked.push(params.offset / 65536);
      if (params.offset === 0 && busy-- > 0) throw Object.assign(new Error("Too many bytes in flight"), { code: "EBUSY" });
      return { docId: params.docId, offset: params.offset, bytes: new Uint8Array(params.length).fill(1), generation: 1, size: 1 << 20 };
    }) as never,
  };
  const doc = { docId: "d1", generation: 1, size: 1 << 20 };
  const cache = new PageCache(api, { onError: (_d, e) => errors.push(e.message) });
  cache.want(doc, [0, 1, 2, 3, 4, 5]);
  await expect.poll(() => [0, 1, 2, 3, 4, 5].every((p) => cache.has(doc, p))).toBe(true);
  expect(errors).toEqual([]);
  expect(asked.filter((p) => p === 0)).toHaveLength(3);
});

test("page cache: a reply from a newer generation is kept under it and reported", async () => {
  const seen: [string, number, number][] = [];
  const api = {
    request: (async (_type: string, params: { docId: string; offset: number; length: number }) => ({
      docId: params.docId,
      offset: params.offset,
      bytes: new Uint8Array(params.length).fill(9),
      generation: 2,
      size: 200_000,
    })) as never,
  };
  const doc = { docId: "d1", generation: 1, size: 100_000 };
  const cache = new PageCache(api, { onNewerGeneration: (d, g, s) => seen.push([d, g, s]) });
  cache.want(doc, [0]);
  await expect.poll(() => seen.length).toBe(1);
  expect(seen[0]).toEqual(["d1", 2, 200_000]);
  expect(cache.has(doc, 0)).toBe(false);
  expect(cache.has({ ...doc, generation: 2, size: 200_000 }, 0)).toBe(true);
});
