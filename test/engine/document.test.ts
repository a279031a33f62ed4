// Document over the real addon: reads at any offset (view boundaries, 4 GiB, the last byte),
// validation, errors, close, size changes on disk, and EIO from a file truncated under a view.
// No shell commands: this file also runs in Windows Node under Wine (HEXMAP_NATIVE set).

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadNative } from "../../native/index";
import { Document, HexmapError, MAX_DOCUMENT_READ } from "../../app/engine/index";
import {
  FOUR_GIB,
  GiB,
  KiB,
  MiB,
  Rng,
  blockBytes,
  cleanupFixtures,
  interestingOffsets,
  makeBigFile,
  makeFile,
  makeSparseFile,
  makeTempDir,
  type SparseFixture,
} from "../fixtures";

const native = loadNative();
const G = native.granularity;
const isWin = process.platform === "win32";

let big: SparseFixture;

before(() => {
  big = makeBigFile(6 * GiB);
});

after(() => cleanupFixtures());

async function rejectsCode(p: Promise<unknown>, code: string): Promise<HexmapError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof HexmapError, `expected a HexmapError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.length > 10, "the message says something");
  return caught;
}

function throwsCode(fn: () => unknown, code: string): HexmapError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof HexmapError, `expected a HexmapError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

function sameBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (!actual.equals(expected)) {
    let i = 0;
    while (actual[i] === expected[i]) i++;
    assert.fail(`${what}: first difference at +${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

describe("open", () => {
  test("a 6 GiB sparse file: size, kind, name, read-only, generation 0", () => {
    const doc = Document.openFile(big.path);
    try {
      assert.equal(doc.size, 6 * GiB);
      assert.equal(doc.kind, "file");
      assert.equal(doc.name, big.path);
      assert.equal(doc.readOnly, true);
      assert.equal(doc.generation, 0);
      assert.equal(doc.stats().views, 0, "opening maps nothing");
      assert.deepEqual(doc.info("d1"), {
        docId: "d1",
        kind: "file",
        name: big.path,
        size: 6 * GiB,
        readOnly: true,
        generation: 0,
      });
    } finally {
      doc.close();
    }
  });

  test("a missing file is ENOENT with the path in the message", () => {
    const missing = path.join(makeTempDir(), "no-such-file.bin");
    const err = throwsCode(() => Document.openFile(missing), "ENOENT");
    assert.match(err.message, /No such file/);
    assert.ok(err.message.includes(missing));
  });

  test("a directory is EISDIR", () => {
    const dir = makeTempDir();
    const err = throwsCode(() => Document.openFile(dir), "EISDIR");
    assert.ok(err.message.includes(dir));
  });

  test("an unreadable file is EACCES", { skip: isWin ? "POSIX permissions" : process.getuid?.() === 0 ? "running as root: permissions are not enforced" : false }, () => {
    const file = makeFile("secret");
    fs.chmodSync(file, 0o000);
    throwsCode(() => Document.openFile(file), "EACCES");
  });

  test("bad paths and options are EINVAL", () => {
    throwsCode(() => Document.openFile(""), "EINVAL");
    throwsCode(() => Document.openFile(42 as unknown as string), "EINVAL");
    throwsCode(() => Document.openFile("a\0b"), "EINVAL");
    throwsCode(() => Document.openFile(big.path, { viewSize: G + 1 }), "EINVAL");
    throwsCode(() => Document.openFile(big.path, { viewSize: 0 }), "EINVAL");
    throwsCode(() => Document.openFile(big.path, { viewSize: -G }), "EINVAL");
    throwsCode(() => Document.openFile(big.path, { viewSize: 4 * G, maxBytes: 2 * G }), "EINVAL");
  });

  test("a failed open leaks no native source", () => {
    const before = native.stats().sources;
    throwsCode(() => Document.openFile(big.path, { viewSize: G + 1 }), "EINVAL");
    assert.equal(native.stats().sources, before);
  });

  test("readOnly: false opens for writing", () => {
    const file = makeFile("hello");
    const doc = Document.openFile(file, { readOnly: false });
    try {
      assert.equal(doc.readOnly, false);
    } finally {
      doc.close();
    }
  });
});

describe("read", () => {
  test("the blocks, the 4 GiB boundary and the last byte, with default 64 MiB views", async () => {
    const doc = Document.openFile(big.path);
    try {
      for (const b of big.blocks) {
        sameBytes(await doc.read(b.offset, b.length), big.expected(b.offset, b.length), `block at ${b.offset}`);
      }
      // The blocks at 2^32-3 and 2^32+5 overlap; the last one is whole and ends at the last byte.
      const lastBlock = big.blocks[big.blocks.length - 1]!;
      assert.equal(lastBlock.offset + lastBlock.length, big.size);
      sameBytes(await doc.read(lastBlock.offset, lastBlock.length), blockBytes(lastBlock.seed, lastBlock.length), "last block");
      assert.ok((await doc.read(FOUR_GIB - 3, 8)).equals(blockBytes(2, 8)), "first bytes of the 2^32-3 block");
      sameBytes(await doc.read(FOUR_GIB - 8, 16), big.expected(FOUR_GIB - 8, 16), "across 4 GiB");
      const last = await doc.read(big.size - 1, 1);
      sameBytes(last, big.expected(big.size - 1, 1), "last byte");
      sameBytes(await doc.read(big.size - 1, 100), last, "clamped at the end");
      assert.equal((await doc.read(big.size, 10)).length, 0, "offset == size");
      assert.equal((await doc.read(123, 0)).length, 0, "length 0");
      assert.ok(doc.stats().viewSize === 64 * MiB - ((64 * MiB) % G));
    } finally {
      doc.close();
    }
  });

  test("reads that cross many view boundaries (2 × granularity views)", async () => {
    const viewSize = 2 * G;
    const doc = Document.openFile(big.path, { viewSize, maxBytes: 8 * viewSize });
    try {
      for (const at of interestingOffsets(big)) {
        for (const len of [1, 2, 17, viewSize - 1, viewSize, viewSize + 1, 3 * viewSize + 17]) {
          const start = Math.max(0, at - Math.floor(len / 2));
          sameBytes(await doc.read(start, len), big.expected(start, len), `read(${start}, ${len})`);
        }
      }
      // Every view boundary inside the block that straddles 4 GiB.
      for (let edge = FOUR_GIB - 2 * viewSize; edge <= FOUR_GIB + 2 * viewSize; edge += viewSize) {
        sameBytes(await doc.read(edge - 3, 6), big.expected(edge - 3, 6), `boundary ${edge}`);
        sameBytes(doc.readSync(edge - 3, 6), big.expected(edge - 3, 6), `readSync boundary ${edge}`);
      }
    } finally {
      doc.close();
    }
  });

  test("400 seeded random reads match expected()", async () => {
    const rng = new Rng(0x5eed);
    const viewSize = 2 * G;
    const doc = Document.openFile(big.path, { viewSize, maxBytes: 16 * viewSize });
    const hot = interestingOffsets(big);
    try {
      for (let i = 0; i < 400; i++) {
        const near = rng.float() < 0.7;
        const at = near
          ? Math.min(big.size, Math.max(0, rng.pick(hot) + rng.between(-3 * viewSize, 3 * viewSize)))
          : rng.below(big.size + 1);
        const len = rng.pick([0, 1, 15, 16, 4096, rng.below(64 * KiB), rng.below(5 * viewSize)]);
        const sync = rng.float() < 0.2;
        const got = sync ? doc.readSync(at, len) : await doc.read(at, len);
        sameBytes(got, big.expected(at, len), `#${i} read(${at}, ${len})${sync ? " sync" : ""}`);
      }
    } finally {
      doc.close();
    }
  });

  test("concurrent reads share views and stay correct", async () => {
    const rng = new Rng(7);
    const viewSize = 2 * G;
    const doc = Document.openFile(big.path, { viewSize, maxBytes: 3 * viewSize });
    try {
      const ranges = Array.from({ length: 64 }, () => {
        const b = rng.pick(big.blocks);
        return [Math.max(0, b.offset + rng.between(-viewSize, b.length)), rng.between(1, 3 * viewSize)] as const;
      });
      const results = await Promise.all(ranges.map(([at, len]) => doc.read(at, len)));
      results.forEach((got, i) => sameBytes(got, big.expected(ranges[i]![0], ranges[i]![1]), `concurrent #${i}`));
      const s = doc.stats();
      assert.ok(s.peakMappedBytes <= 3 * viewSize, `peak ${s.peakMappedBytes} within the budget`);
      assert.equal(s.pinned, 0);
    } finally {
      doc.close();
    }
  });

  test("eviction keeps mapped bytes within maxBytes across a 6 GiB file, and close unmaps all", async () => {
    const viewSize = 4 * G;
    const maxBytes = 5 * viewSize;
    const baseline = native.stats();
    const doc = Document.openFile(big.path, { viewSize, maxBytes });
    const rng = new Rng(99);
    try {
      for (let round = 0; round < 40; round++) {
        const batch = Array.from({ length: 8 }, () => {
          const at = rng.below(big.size);
          return doc.read(at, rng.between(1, 2 * viewSize)).then((b) => [at, b] as const);
        });
        for (const [at, got] of await Promise.all(batch)) sameBytes(got, big.expected(at, got.length), `read at ${at}`);
        const s = doc.stats();
        assert.ok(s.mappedBytes <= maxBytes, `mappedBytes ${s.mappedBytes} <= ${maxBytes}`);
        assert.ok(s.views <= 5);
        assert.ok(native.stats().mappedBytes - baseline.mappedBytes <= maxBytes, "the addon agrees");
      }
      const s = doc.stats();
      assert.ok(s.evictions > 100, `evicted ${s.evictions} views`);
      assert.ok(s.peakMappedBytes <= maxBytes);
    } finally {
      doc.close();
    }
    assert.equal(native.stats().views, baseline.views, "no view left mapped");
    assert.equal(native.stats().sources, baseline.sources, "no source left open");
  });

  test("reads larger than MAX_DOCUMENT_READ are ETOOBIG; huge lengths clamp at the end", async () => {
    const doc = Document.openFile(big.path);
    try {
      await rejectsCode(doc.read(0, MAX_DOCUMENT_READ + 1), "ETOOBIG");
      const tail = await doc.read(big.size - 10, Number.MAX_SAFE_INTEGER);
      sameBytes(tail, big.expected(big.size - 10, 10), "clamped");
    } finally {
      doc.close();
    }
  });

  const bad: unknown[] = [-1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 64, "5", null, undefined, {}, 5n];
  test("every bad offset or length is EINVAL (read and readSync)", async () => {
    const doc = Document.openFile(big.path);
    try {
      for (const v of bad) {
        const x = v as number;
        await rejectsCode(doc.read(x, 1), "EINVAL");
        await rejectsCode(doc.read(0, x), "EINVAL");
        throwsCode(() => doc.readSync(x, 1), "EINVAL");
        throwsCode(() => doc.readSync(0, x), "EINVAL");
      }
      await rejectsCode(doc.read(big.size + 1, 1), "ERANGE");
      await rejectsCode(doc.read(Number.MAX_SAFE_INTEGER, 1), "ERANGE");
      throwsCode(() => doc.readSync(big.size + 1, 0), "ERANGE");
      assert.equal(doc.stats().views, 0, "bad reads map nothing");
    } finally {
      doc.close();
    }
  });

  test("a small text file and a zero-length file", async () => {
    const text = makeFile("Hello, hexmap!\n", "hello.txt");
    const doc = Document.openFile(text);
    try {
      assert.equal(doc.size, 15);
      assert.equal((await doc.read(0, 100)).toString(), "Hello, hexmap!\n");
      assert.equal(doc.readSync(7, 6).toString(), "hexmap");
    } finally {
      doc.close();
    }
    const empty = makeFile(Buffer.alloc(0), "empty.bin");
    const baseline = native.stats();
    const e = Document.openFile(empty);
    try {
      assert.equal(e.size, 0);
      assert.equal((await e.read(0, 10)).length, 0);
      assert.equal(e.readSync(0, 0).length, 0);
      await rejectsCode(e.read(1, 1), "ERANGE");
      assert.equal(e.stats().views, 0);
      assert.equal(native.stats().views, baseline.views, "nothing mapped for an empty file");
    } finally {
      e.close();
    }
  });
});

describe("close", () => {
  test("is idempotent; every later call is EBADDOC", async () => {
    const doc = Document.openFile(big.path);
    await doc.read(0, 10);
    doc.close();
    doc.close();
    assert.equal(doc.closed, true);
    await rejectsCode(doc.read(0, 1), "EBADDOC");
    throwsCode(() => doc.readSync(0, 1), "EBADDOC");
    throwsCode(() => doc.checkSize(), "EBADDOC");
    throwsCode(() => doc.stats(), "EBADDOC");
  });

  test("closing with reads in flight: they settle (bytes or EBADDOC), nothing crashes", async () => {
    const viewSize = 2 * G;
    const doc = Document.openFile(big.path, { viewSize, maxBytes: 2 * viewSize });
    const reads = Array.from({ length: 16 }, (_, i) => doc.read(FOUR_GIB - 3 + i * viewSize, 3 * viewSize));
    doc.close();
    const settled = await Promise.allSettled(reads);
    for (const [i, s] of settled.entries()) {
      if (s.status === "fulfilled") {
        const at = FOUR_GIB - 3 + i * viewSize;
        sameBytes(s.value, big.expected(at, 3 * viewSize), `read ${i}`);
      } else {
        assert.ok(s.reason instanceof HexmapError && s.reason.code === "EBADDOC", String(s.reason));
      }
    }
  });
});

describe("size changes on disk", () => {
  test("checkSize after the file grows: new size, generation bumps once, new bytes readable", async () => {
    const dir = makeTempDir();
    const fx = makeSparseFile({ dir, name: "grow.bin", size: 3 * G + 100, blocks: [{ offset: 0, length: 3 * G + 100, seed: 11 }] });
    const doc = Document.openFile(fx.path, { viewSize: 2 * G, maxBytes: 4 * G });
    try {
      // Windows cannot resize a file while a view of it is mapped; map first only on POSIX.
      if (!isWin) sameBytes(await doc.read(2 * G, G + 100), fx.expected(2 * G, G + 100), "tail before");
      assert.deepEqual(doc.checkSize(), { changed: false, size: 3 * G + 100 });
      assert.equal(doc.generation, 0);
      const extra = blockBytes(12, 2 * G);
      fs.appendFileSync(fx.path, extra);
      const newSize = 5 * G + 100;
      assert.equal(doc.size, 3 * G + 100, "size is what was last seen until checkSize");
      assert.deepEqual(doc.checkSize(), { changed: true, size: newSize });
      assert.equal(doc.generation, 1);
      assert.equal(doc.size, newSize);
      assert.deepEqual(doc.checkSize(), { changed: false, size: newSize });
      assert.equal(doc.generation, 1);
      const whole = Buffer.concat([fx.expected(0, 3 * G + 100), extra]);
      sameBytes(await doc.read(0, newSize), whole, "whole file after growing");
      sameBytes(await doc.read(3 * G + 50, 100), whole.subarray(3 * G + 50, 3 * G + 150), "across the old end");
    } finally {
      doc.close();
    }
  });

  test("checkSize after the file shrinks: reads past the new end are ERANGE", async () => {
    const dir = makeTempDir();
    const fx = makeSparseFile({ dir, name: "shrink.bin", size: 6 * G, blocks: [{ offset: 0, length: 6 * G, seed: 21 }] });
    const doc = Document.openFile(fx.path, { viewSize: 2 * G, maxBytes: 4 * G });
    try {
      fs.truncateSync(fx.path, 3 * G - 7);
      assert.deepEqual(doc.checkSize(), { changed: true, size: 3 * G - 7 });
      assert.equal(doc.generation, 1);
      await rejectsCode(doc.read(4 * G, 1), "ERANGE");
      assert.equal((await doc.read(3 * G - 7, 1)).length, 0);
      sameBytes(await doc.read(G, 10 * G), fx.expected(G, 2 * G - 7), "clamped to the new end");
    } finally {
      doc.close();
    }
  });

  test("a shrink not yet noticed: mapping past the end is EIO, checkSize recovers", async () => {
    const dir = makeTempDir();
    const fx = makeSparseFile({ dir, name: "stale.bin", size: 8 * G, blocks: [{ offset: 0, length: 8 * G, seed: 31 }] });
    const doc = Document.openFile(fx.path, { viewSize: 2 * G, maxBytes: 4 * G });
    try {
      fs.truncateSync(fx.path, 2 * G);
      await rejectsCode(doc.read(6 * G, 10), "EIO");
      assert.equal(doc.checkSize().changed, true);
      await rejectsCode(doc.read(6 * G, 10), "ERANGE");
      sameBytes(await doc.read(0, 2 * G), fx.expected(0, 2 * G), "what is left");
    } finally {
      doc.close();
    }
  });

  test("EIO when the file is truncated under a mapped view; checkSize recovers", { skip: isWin ? "Windows refuses to truncate a mapped file (the addon's win32 tests cover EXCEPTION_IN_PAGE_ERROR)" : false }, async () => {
    const dir = makeTempDir();
    const fx = makeSparseFile({ dir, name: "truncated.bin", size: 64 * G, blocks: [{ offset: 0, length: 64 * G, seed: 41 }] });
    const viewSize = 32 * G;
    const doc = Document.openFile(fx.path, { viewSize, maxBytes: 2 * viewSize });
    try {
      sameBytes(await doc.read(G, 100), fx.expected(G, 100), "before truncation, first view");
      sameBytes(await doc.read(40 * G, 100), fx.expected(40 * G, 100), "before truncation, second view");
      assert.equal(doc.stats().views, 2);
      fs.truncateSync(fx.path, 8 * G);
      const err = await rejectsCode(doc.read(40 * G, 100), "EIO");
      assert.match(err.message, /truncated|I\/O/);
      throwsCode(() => doc.readSync(40 * G, 100), "EIO");
      // Both views are still cached and reach past the new end; bytes below it stay readable.
      sameBytes(await doc.read(G, 100), fx.expected(G, 100), "below the new end");
      assert.deepEqual(doc.checkSize(), { changed: true, size: 8 * G });
      assert.equal(doc.generation, 1);
      assert.equal(doc.stats().views, 0, "views reaching past the new end were dropped");
      await rejectsCode(doc.read(40 * G, 100), "ERANGE");
      sameBytes(await doc.read(0, 8 * G), fx.expected(0, 8 * G), "everything left");
    } finally {
      doc.close();
    }
  });
});
