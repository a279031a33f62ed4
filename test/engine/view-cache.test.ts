// ViewCache logic: alignment, clipping, LRU order, the byte budget under concurrency, pinning
// (eviction never unmaps a window a reader is copying from), invalidate and clear. Uses a fake
// addon over node:fs with slow reads to hold windows pinned; the real addon is covered by
// document.test.ts.

import * as assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { HexmapError, ViewCache } from "../../app/engine/index";
import { Document } from "../../app/engine/document";
import { Rng, cleanupFixtures, makeSparseFile } from "../fixtures";
import { makeFakeNative } from "./fake-native";

after(() => cleanupFixtures());

const G = 4096;

function fixture(size: number) {
  return makeSparseFile({ size, blocks: [{ offset: 0, length: size, seed: 5 }], name: `vc-${size}.bin` });
}

describe("ViewCache", () => {
  test("windows are aligned to viewSize and clipped to the size; hits reuse them", async () => {
    const fake = makeFakeNative(G);
    const fx = fixture(5 * G + 10);
    const src = fake.openFile(fx.path);
    const cache = new ViewCache(src, { granularity: G, viewSize: 2 * G, maxBytes: 8 * G });
    const a = await cache.acquire(2 * G + 5, fx.size);
    assert.equal(a.offset, 2 * G);
    assert.equal(a.length, 2 * G);
    a.release();
    const b = await cache.acquire(5 * G + 9, fx.size);
    assert.equal(b.offset, 4 * G);
    assert.equal(b.length, G + 10, "clipped to the end");
    b.release();
    b.release(); // extra releases are ignored
    const c = cache.acquireSync(3 * G, fx.size);
    assert.equal(c.offset, 2 * G);
    c.release();
    const s = cache.stats();
    assert.equal(s.hits, 1);
    assert.equal(s.misses, 2);
    assert.equal(s.views, 2);
    assert.equal(s.mappedBytes, 3 * G + 10);
    assert.equal(s.pinned, 0);
    assert.throws(() => cache.acquireSync(fx.size, fx.size), (e: unknown) => e instanceof HexmapError && e.code === "ERANGE");
    cache.close();
    src.close();
  });

  test("options are validated", () => {
    const fake = makeFakeNative(G);
    const fx = fixture(G);
    const src = fake.openFile(fx.path);
    const bad = (o: object) =>
      assert.throws(() => new ViewCache(src, { granularity: G, ...o }), (e: unknown) => e instanceof HexmapError && e.code === "EINVAL");
    bad({ viewSize: G + 1 });
    bad({ viewSize: 0 });
    bad({ viewSize: 1.5 * G });
    bad({ viewSize: 2 * G, maxBytes: G });
    bad({ maxBytes: NaN });
    const dflt = new ViewCache(src, { granularity: G });
    assert.equal(dflt.viewSize, 64 * 1024 * 1024);
    assert.equal(dflt.maxBytes, 512 * 1024 * 1024);
    src.close();
  });

  test("LRU: the least recently used unpinned window goes first", async () => {
    const fake = makeFakeNative(G);
    const fx = fixture(8 * G);
    const src = fake.openFile(fx.path);
    const cache = new ViewCache(src, { granularity: G, viewSize: G, maxBytes: 3 * G });
    for (const at of [0, G, 2 * G, 0]) (await cache.acquire(at, fx.size)).release();
    (await cache.acquire(3 * G, fx.size)).release(); // evicts G (0 was used again)
    const before = cache.stats();
    (await cache.acquire(0, fx.size)).release();
    assert.equal(cache.stats().hits, before.hits + 1, "0 is still cached");
    (await cache.acquire(G, fx.size)).release();
    assert.equal(cache.stats().misses, before.misses + 1, "G was evicted");
    assert.equal(cache.stats().evictions, 2);
    cache.close();
    src.close();
  });

  test("pinned windows are never unmapped under a reader; the budget holds while all are pinned", async () => {
    const fake = makeFakeNative(G);
    fake.readDelayMs = 15;
    const fx = fixture(64 * G);
    const doc = Document.openFile(fx.path, { native: fake, viewSize: G, maxBytes: 3 * G });
    const rng = new Rng(3);
    let maxLive = 0;
    const timer = setInterval(() => (maxLive = Math.max(maxLive, fake.liveViews())), 1);
    try {
      const ranges = Array.from({ length: 40 }, () => [rng.below(63 * G), rng.between(1, 3 * G)] as const);
      const got = await Promise.all(ranges.map(([at, n]) => doc.read(at, n)));
      got.forEach((b, i) => assert.ok(b.equals(fx.expected(ranges[i]![0], ranges[i]![1])), `read ${i}`));
      const s = doc.stats();
      assert.equal(fake.readsOfUnmapped, 0, "no read hit an unmapped window");
      assert.ok(s.peakMappedBytes <= 3 * G, `peak ${s.peakMappedBytes}`);
      assert.ok(maxLive <= 3, `at most 3 windows mapped at once, saw ${maxLive}`);
      assert.equal(s.pinned, 0);
    } finally {
      clearInterval(timer);
      doc.close();
    }
    assert.equal(fake.liveViews(), 0);
  });

  test("invalidate drops windows past a new end (pinned ones after their read); clear drops all", async () => {
    const fake = makeFakeNative(G);
    fake.readDelayMs = 10;
    const fx = fixture(8 * G);
    const src = fake.openFile(fx.path);
    const cache = new ViewCache(src, { granularity: G, viewSize: 2 * G, maxBytes: 8 * G });
    for (const at of [0, 2 * G, 4 * G]) (await cache.acquire(at, fx.size)).release();
    const pinned = await cache.acquire(6 * G, fx.size);
    const reading = pinned.view.read(0, 100);
    cache.invalidate(3 * G); // drops 2G..4G, 4G..6G; 6G..8G is pinned: retired
    assert.equal(cache.stats().views, 2, "window 0 and the retired pinned one");
    assert.equal(pinned.view.closed, false, "a pinned window stays mapped");
    assert.ok((await reading).equals(fx.expected(6 * G, 100)));
    pinned.release();
    assert.equal(cache.stats().views, 1);
    assert.equal(cache.stats().mappedBytes, 2 * G);
    // A window clipped at an old end is replaced when the source grew past it.
    const clipped = await cache.acquire(G, 3 * G);
    assert.equal(clipped.length, 2 * G);
    clipped.release();
    cache.clear();
    assert.deepEqual([cache.stats().views, cache.stats().mappedBytes], [0, 0]);
    cache.close();
    await assert.rejects(cache.acquire(0, fx.size), (e: unknown) => e instanceof HexmapError && e.code === "EBADDOC");
    src.close();
  });

  test("a window clipped at an older, smaller size is remapped longer when needed", async () => {
    const fake = makeFakeNative(G);
    const fx = fixture(4 * G);
    const src = fake.openFile(fx.path);
    const cache = new ViewCache(src, { granularity: G, viewSize: 4 * G, maxBytes: 8 * G });
    const small = await cache.acquire(0, 2 * G);
    assert.equal(small.length, 2 * G);
    small.release();
    const longer = await cache.acquire(3 * G, 4 * G);
    assert.equal(longer.offset, 0);
    assert.equal(longer.length, 4 * G);
    longer.release();
    assert.equal(cache.stats().views, 1);
    assert.equal(cache.stats().mappedBytes, 4 * G);
    cache.close();
    src.close();
  });
});
