// Byte map and histogram (app/engine/bytemap.ts): a 64 GiB sparse file gets a full first map
// after a bounded number of reads (counted), refines to the right classes (zeros, text, binary,
// random); exact entropy where a sample covers a whole slice; slice arithmetic near 2^53;
// histograms against a naive count, past 4 GiB; progress and cancel.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import {
  ByteClass,
  buildByteMap,
  byteHistogram,
  entropyOf,
  sliceOf,
  sliceRange,
  type ByteMapSnapshot,
} from "../../app/engine/bytemap";
import type { ByteSource } from "../../app/engine/hash";
import { FOUR_GIB, GiB, KiB, MiB, Rng, blockBytes, cleanupFixtures, makeBigFile, makeFile, makeSparseFile, type SparseFixture } from "../fixtures";

/** Counts reads of another source. */
class Counting implements ByteSource {
  reads = 0;
  bytes = 0;
  constructor(private readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    this.bytes += length;
    return this.inner.read(offset, length);
  }
}

class MemSource implements ByteSource {
  constructor(readonly data: Uint8Array) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.data.subarray(offset, offset + length);
  }
}

function naiveHistogram(bytes: Uint8Array): number[] {
  const h = new Array<number>(256).fill(0);
  for (const b of bytes) h[b]!++;
  return h;
}

const TEXT = Buffer.from("Hexmap reads files far larger than memory, through mapped windows.\r\n\tLine two: 0123456789 {}[]!?\n");
function textBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += TEXT.length) TEXT.copy(out, i, 0, Math.min(TEXT.length, n - i));
  return out;
}
/** Structured, low-entropy, not text: little-endian records with small counters and flags. */
function binaryBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i + 16 <= n; i += 16) {
    out.writeUInt32LE((i / 16) & 0xff, i);
    out.writeUInt32LE((0xfffe0000 | ((i >> 4) & 3)) >>> 0, i + 4);
    out[i + 8] = 0x80 | ((i >> 6) & 7);
  }
  return out;
}

const SLICE = 64 * MiB; // 64 GiB / 1024
let huge: SparseFixture;

before(() => {
  huge = makeSparseFile({ size: 64 * GiB, blocks: [{ offset: 100 * SLICE, length: SLICE, seed: 100 }], name: "huge-64g.bin" });
  const fd = fs.openSync(huge.path, "r+");
  try {
    fs.writeSync(fd, textBytes(SLICE), 0, SLICE, 700 * SLICE);
    fs.writeSync(fd, binaryBytes(SLICE), 0, SLICE, 500 * SLICE);
  } finally {
    fs.closeSync(fd);
  }
});
after(() => cleanupFixtures());

describe("byte map", () => {
  test("64 GiB sparse: a full first map after 64 reads, then the right classes after a bounded number", async () => {
    const doc = Document.openFile(huge.path);
    const src = new Counting(doc);
    try {
      const started = Date.now();
      const snapshots: Array<{ map: ByteMapSnapshot; reads: number; ms: number }> = [];
      const final = await buildByteMap(src, { onProgress: (map) => snapshots.push({ map, reads: src.reads, ms: Date.now() - started }) });
      const first = snapshots[0]!;
      console.log(`# first map: ${first.ms} ms, ${first.reads} reads; final: ${Date.now() - started} ms, ${src.reads} reads, ${(src.bytes / MiB).toFixed(1)} MiB`);
      assert.equal(first.map.pass, 0);
      assert.equal(first.reads, 64, "the first map costs exactly the coarse pass");
      assert.equal(first.map.reads, 64);
      assert.equal(first.map.slices, 1024);
      assert.equal([...first.map.samples].filter((s) => s > 0).length, 64);
      assert.ok(first.map.classes.every((c) => c !== ByteClass.unknown), "every slice has a class in the first map");
      assert.equal(first.map.done, false);

      assert.equal(final.done, true);
      assert.equal(final.totalReads, 64 + 960 + 3 * 1024);
      assert.equal(src.reads, final.totalReads, "bounded: coarse + slices × samplesPerSlice");
      assert.ok(final.samples.every((s) => s === 4));
      assert.equal(final.classes[100], ByteClass.random);
      assert.equal(final.classes[500], ByteClass.binary);
      assert.equal(final.classes[700], ByteClass.text);
      for (let i = 0; i < 1024; i++) {
        if (i !== 100 && i !== 500 && i !== 700) assert.equal(final.classes[i], ByteClass.zeros, `slice ${i}`);
      }
      assert.ok(final.entropy[100]! > 7.9, `random entropy ${final.entropy[100]}`);
      assert.equal(final.entropy[0], 0);
      assert.ok(final.entropy[700]! > 3 && final.entropy[700]! < 6);
      // Progress snapshots only grow.
      for (let k = 1; k < snapshots.length; k++) assert.ok(snapshots[k]!.map.reads >= snapshots[k - 1]!.map.reads);
    } finally {
      doc.close();
    }
  });

  test("cancel: rejects with ECANCELED and issues no more reads", async () => {
    const doc = Document.openFile(huge.path);
    const src = new Counting(doc);
    try {
      const ac = new AbortController();
      await assert.rejects(buildByteMap(src, { signal: ac.signal, onProgress: () => ac.abort() }), { code: "ECANCELED" });
      assert.equal(src.reads, 64);
      await assert.rejects(buildByteMap(src, { slices: 0 }), { code: "EINVAL" });
    } finally {
      doc.close();
    }
  });

  test("whole-slice samples: exact entropy and class per kind of content", async () => {
    const part = 64 * KiB;
    const kinds: Array<[Buffer, number]> = [
      [Buffer.alloc(part), ByteClass.zeros],
      [textBytes(part), ByteClass.text],
      [blockBytes(7, part), ByteClass.random],
      [binaryBytes(part), ByteClass.binary],
      [Buffer.concat([Buffer.alloc(part / 2), blockBytes(8, part / 2)]), ByteClass.binary],
      [Buffer.from("Grüße aus Köln, naïve café. ".repeat(3000)).subarray(0, part), ByteClass.text],
    ];
    const data = Buffer.concat(kinds.map((k) => k[0]));
    const file = makeFile(data, "kinds.bin");
    const doc = Document.openFile(file);
    try {
      const map = await buildByteMap(doc, { slices: kinds.length, sampleSize: part });
      assert.equal(map.totalReads, kinds.length);
      kinds.forEach(([bytes, cls], i) => {
        assert.equal(map.exact[i], 1);
        assert.equal(map.classes[i], cls, `kind ${i}`);
        assert.ok(Math.abs(map.entropy[i]! - entropyOf(naiveHistogram(bytes), bytes.length)) < 1e-5, `entropy ${i}`);
      });
    } finally {
      doc.close();
    }
  });

  test("tiny and empty documents", async () => {
    const empty = await buildByteMap(new MemSource(new Uint8Array(0)));
    assert.equal(empty.slices, 0);
    assert.equal(empty.done, true);
    const five = await buildByteMap(new MemSource(Buffer.from("ab\0\0c")));
    assert.equal(five.slices, 5);
    assert.deepEqual([...five.classes], [ByteClass.text, ByteClass.text, ByteClass.zeros, ByteClass.zeros, ByteClass.text]);
    assert.ok(five.exact.every((e) => e === 1));
  });

  test("slice arithmetic is exact up to 2^53", () => {
    const rng = new Rng(53);
    for (let k = 0; k < 2000; k++) {
      const size = rng.pick([rng.between(1, 5000), rng.below(2 ** 53) + 1, Number.MAX_SAFE_INTEGER, 64 * GiB + rng.below(1000)]);
      const slices = rng.between(1, Math.min(size, 4096));
      const i = rng.below(slices);
      const [s, e] = sliceRange(size, slices, i);
      assert.ok(s < e && e <= size, `${size}/${slices}/${i}`);
      assert.equal(sliceRange(size, slices, 0)[0], 0);
      assert.equal(sliceRange(size, slices, slices - 1)[1], size);
      if (i + 1 < slices) assert.equal(sliceRange(size, slices, i + 1)[0], e);
      assert.equal(sliceOf(size, slices, s), i);
      assert.equal(sliceOf(size, slices, e - 1), i);
      assert.equal(Math.floor(s), s);
    }
  });
});

describe("byte histogram", () => {
  test("random ranges against a naive count", async () => {
    const data = Buffer.concat([blockBytes(3, 300 * KiB), Buffer.alloc(200 * KiB), textBytes(100 * KiB)]);
    const src = new MemSource(data);
    const rng = new Rng(256);
    for (let k = 0; k < 40; k++) {
      const offset = rng.below(data.length + 1);
      const length = rng.below(data.length - offset + 1);
      const r = await byteHistogram(src, { offset, length, chunkSize: rng.pick([4093, 65536, 1 << 20]) });
      assert.deepEqual(r.counts, naiveHistogram(data.subarray(offset, offset + length)));
      assert.equal(r.length, length);
    }
  });

  test("past 4 GiB in a 6 GiB sparse file; progress; cancel", async () => {
    const big = makeBigFile(6 * GiB);
    const doc = Document.openFile(big.path);
    try {
      const offset = FOUR_GIB - 20 * MiB - 3;
      const length = 40 * MiB + 11;
      const seen: number[] = [];
      const r = await byteHistogram(doc, { offset, length, onProgress: (d) => seen.push(d) });
      assert.deepEqual(r.counts, naiveHistogram(big.expected(offset, length)));
      assert.equal(seen.at(-1), length);
      assert.ok(r.counts[0]! > 40 * MiB - 200 * KiB);
      const ac = new AbortController();
      let calls = 0;
      await assert.rejects(byteHistogram(doc, { signal: ac.signal, onProgress: () => void (++calls === 2 && ac.abort()) }), { code: "ECANCELED" });
      assert.equal(calls, 2);
      await assert.rejects(byteHistogram(doc, { offset: big.size + 1 }), { code: "ERANGE" });
    } finally {
      doc.close();
    }
  });
});
