// A sparse 6 GiB file with seeded random 64 KiB blocks at 0, 2^32-3, 2^32+5 and at the end:
// reads across view boundaries, across 4 GiB and at the last byte, each checked against fs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { NativeSource } from "../index";
import { assertSameBytes, fsRead, GiB, native, seededBytes, tempDir } from "./helpers";

const SIZE = 6 * GiB;
const BLOCK = 64 * 1024;
const FOUR_G = 2 ** 32;
const BLOCKS = [0, FOUR_G - 3, FOUR_G + 5, SIZE - BLOCK - 11, SIZE - BLOCK];
const G = native.granularity;

let tmp: { dir: string; cleanup: () => void };
let file: string;
let src: NativeSource;

before(() => {
  tmp = tempDir("hexmap-big-");
  file = path.join(tmp.dir, "sparse-6g.bin");
  const fd = fs.openSync(file, "w+");
  try {
    fs.ftruncateSync(fd, SIZE);
    BLOCKS.forEach((at, i) => {
      const block = seededBytes(1000 + i, BLOCK);
      fs.writeSync(fd, block, 0, BLOCK, at);
    });
  } finally {
    fs.closeSync(fd);
  }
  src = native.openFile(file);
});

after(() => {
  src?.close();
  tmp.cleanup();
});

/** Interesting (at, length) pairs around every block, 4 GiB and the end. */
function interestingRanges(): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const b of BLOCKS) {
    out.push([b, 1], [b, BLOCK], [Math.max(0, b - 100), 200], [b + BLOCK - 50, Math.min(100, SIZE - (b + BLOCK - 50))]);
  }
  out.push([FOUR_G - 1, 2], [FOUR_G - 8, 16], [FOUR_G, 1], [FOUR_G - 4096, 8192], [SIZE - 1, 1], [SIZE - 4096, 4096]);
  out.push([0x1fff0, 32], [FOUR_G + 0x1fff0, 32]);
  return out.filter(([at, len]) => at >= 0 && len > 0 && at + len <= SIZE);
}

describe("sparse 6 GiB file", () => {
  test("size is reported past 4 GiB", () => {
    assert.equal(src.size(), SIZE);
  });

  test("one view of the whole file: every range matches fs", async () => {
    const v = src.map(0, SIZE);
    try {
      assert.equal(v.length, SIZE);
      for (const [at, len] of interestingRanges()) {
        assertSameBytes(await v.read(at, len), fsRead(file, at, len), `read(${at}, ${len})`);
        assertSameBytes(v.readSync(at, len), fsRead(file, at, len), `readSync(${at}, ${len})`);
      }
      // The blocks hold what was written (not zeros): the comparison above is meaningful.
      assertSameBytes(v.readSync(SIZE - BLOCK, BLOCK), seededBytes(1004, BLOCK), "last block");
      assertSameBytes(v.readSync(FOUR_G + 5, BLOCK), seededBytes(1002, BLOCK), "block at 2^32+5");
    } finally {
      v.unmap();
    }
  });

  test("windowed views: reads relative to views placed past 4 GiB", async () => {
    const W = 16 * 1024 * 1024; // a multiple of every granularity
    for (const [at, len] of interestingRanges()) {
      const first = Math.floor(at / W) * W;
      const last = Math.floor((at + len - 1) / W) * W;
      const parts: Buffer[] = [];
      for (let off = first; off <= last; off += W) {
        const vlen = Math.min(W, SIZE - off);
        const v = src.map(off, vlen);
        assert.equal(v.offset, off);
        const from = Math.max(at, off) - off;
        const to = Math.min(at + len, off + vlen) - off;
        parts.push(await v.read(from, to - from));
        v.unmap();
      }
      assertSameBytes(Buffer.concat(parts), fsRead(file, at, len), `windowed read(${at}, ${len})`);
    }
  });

  test("views at granule offsets that are not multiples of 2^32 (High/Low DWORD split)", async () => {
    for (const off of [FOUR_G - G, FOUR_G, FOUR_G + G, FOUR_G + 3 * G, SIZE - G, 5 * GiB + 7 * G]) {
      const len = Math.min(2 * G, SIZE - off);
      const v = src.map(off, len);
      assertSameBytes(await v.read(0, len), fsRead(file, off, len), `view at ${off}`);
      assertSameBytes(v.readSync(len - 1, 1), fsRead(file, off + len - 1, 1), `last byte of view at ${off}`);
      v.unmap();
    }
  });

  test("a view spanning 4 GiB", async () => {
    const off = FOUR_G - 2 * G;
    const v = src.map(off, 4 * G);
    try {
      assertSameBytes(await v.read(0, 4 * G), fsRead(file, off, 4 * G), "spanning view");
    } finally {
      v.unmap();
    }
  });

  test("mapping past the end is ERANGE", () => {
    assert.throws(() => src.map(SIZE - G, G + 1), { code: "ERANGE" });
    assert.throws(() => src.map(SIZE, 1), { code: "ERANGE" });
  });
});
