// Whole-file operations of a rewriting save: replaceFile (ReplaceFileW / rename) and
// copyFileRange (copy_file_range with holes skipped; ENOTSUP where there is none).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { GiB, assertSameBytes, fsRead, isWin, native, rejectsCode, seededBytes, tempDir, throwsCode } from "./helpers";

let tmp: { dir: string; cleanup: () => void };
before(() => {
  tmp = tempDir("hexmap-fileops-");
});
after(() => tmp.cleanup());

describe("replaceFile", () => {
  test("puts the replacement in place of the target; the replacement name is gone", () => {
    const target = path.join(tmp.dir, "target.bin");
    const repl = path.join(tmp.dir, ".target.bin.new");
    fs.writeFileSync(target, "old content");
    fs.writeFileSync(repl, "new content, longer");
    native.replaceFile!(target, repl);
    assert.equal(fs.readFileSync(target, "utf8"), "new content, longer");
    assert.equal(fs.existsSync(repl), false);
  });

  test("Windows: the replaced file keeps its creation time (ReplaceFileW; a plain move would not)", {
    skip: !isWin
      ? "Windows only (rename(2) on POSIX)"
      : process.env.WINEPREFIX !== undefined || process.env.WINEDEBUG !== undefined
        ? "under Wine: its file systems keep no creation time, so ReplaceFileW cannot carry one over (the content and the replace itself are checked above and by the save tests)"
        : false,
  }, async () => {
    const target = path.join(tmp.dir, "born.bin");
    const repl = path.join(tmp.dir, ".born.bin.new");
    fs.writeFileSync(target, "old");
    const born = fs.statSync(target).birthtimeMs;
    await new Promise((r) => setTimeout(r, 1100));
    fs.writeFileSync(repl, "new");
    assert.notEqual(fs.statSync(repl).birthtimeMs, born, "the replacement was created later");
    native.replaceFile!(target, repl);
    assert.equal(fs.readFileSync(target, "utf8"), "new");
    assert.equal(fs.statSync(target).birthtimeMs, born);
  });

  test("a target that is gone is created from the replacement", () => {
    const target = path.join(tmp.dir, "gone.bin");
    const repl = path.join(tmp.dir, ".gone.bin.new");
    fs.writeFileSync(repl, "fresh");
    native.replaceFile!(target, repl);
    assert.equal(fs.readFileSync(target, "utf8"), "fresh");
  });

  test("a missing replacement fails with ENOENT and leaves the target as it was", () => {
    const target = path.join(tmp.dir, "keep.bin");
    fs.writeFileSync(target, "keep me");
    throwsCode(() => native.replaceFile!(target, path.join(tmp.dir, "no-such-file")), "ENOENT");
    assert.equal(fs.readFileSync(target, "utf8"), "keep me");
  });

  test("bad arguments are EINVAL", () => {
    throwsCode(() => (native.replaceFile as unknown as (a: unknown, b: unknown) => void)(42, "x"), "EINVAL");
  });
});

describe("copyFileRange", { skip: isWin ? "Windows: Node's descriptors are not handles; the save copies through memory (ENOTSUP is checked below)" : false }, () => {
  test("copies a range to another offset, byte for byte", async () => {
    const src = path.join(tmp.dir, "src.bin");
    const dst = path.join(tmp.dir, "dst.bin");
    const bytes = seededBytes(7, 3 * 1024 * 1024 + 17);
    fs.writeFileSync(src, bytes);
    const inFd = fs.openSync(src, "r");
    const outFd = fs.openSync(dst, "w+");
    try {
      const n = await native.copyFileRange!(inFd, outFd, 5, 1, bytes.length - 5);
      assert.equal(n, bytes.length - 5);
      assertSameBytes(fsRead(dst, 1, bytes.length - 5), bytes.subarray(5), "copied range");
      assert.equal(fs.fstatSync(outFd).size, bytes.length - 4);
    } finally {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
    }
  });

  test("holes of a sparse source past 4 GiB stay holes; the data blocks arrive", async () => {
    const src = path.join(tmp.dir, "sparse.bin");
    const dst = path.join(tmp.dir, "sparse-copy.bin");
    const size = 5 * GiB;
    const block = seededBytes(9, 64 * 1024);
    const at = 4 * GiB + 12345;
    const fd = fs.openSync(src, "w+");
    fs.ftruncateSync(fd, size);
    fs.writeSync(fd, block, 0, block.length, at);
    fs.closeSync(fd);
    const inFd = fs.openSync(src, "r");
    const outFd = fs.openSync(dst, "w+");
    try {
      const n = await native.copyFileRange!(inFd, outFd, 0, 0, size);
      fs.ftruncateSync(outFd, size);
      // Only the data (rounded to the file system's blocks) was copied, not 5 GiB of zeros.
      assert.ok(n >= block.length && n < 16 * 1024 * 1024, `copied ${n} data bytes`);
      const st = fs.fstatSync(outFd);
      assert.ok(st.blocks * 512 < 16 * 1024 * 1024, `copy allocates ${st.blocks * 512} bytes`);
      assertSameBytes(fsRead(dst, at, block.length), block, "data block");
      assertSameBytes(fsRead(dst, at - 4096, 4096), Buffer.alloc(4096), "hole before it");
      assertSameBytes(fsRead(dst, size - 4096, 4096), Buffer.alloc(4096), "hole at the end");
    } finally {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
      fs.rmSync(src, { force: true });
      fs.rmSync(dst, { force: true });
    }
  });

  test("a source shorter than the range is ECHANGED, not zeros", async () => {
    const src = path.join(tmp.dir, "short.bin");
    fs.writeFileSync(src, seededBytes(3, 1000));
    const inFd = fs.openSync(src, "r");
    const outFd = fs.openSync(path.join(tmp.dir, "short-copy.bin"), "w+");
    try {
      await rejectsCode(native.copyFileRange!(inFd, outFd, 0, 0, 2000), "ECHANGED");
    } finally {
      fs.closeSync(inFd);
      fs.closeSync(outFd);
    }
  });

  test("a closed descriptor is an error with a code, not a crash", async () => {
    const src = path.join(tmp.dir, "closed.bin");
    fs.writeFileSync(src, "abc");
    const outFd = fs.openSync(path.join(tmp.dir, "closed-copy.bin"), "w+");
    try {
      // A number no descriptor has (a closed one could be reused by the next open).
      await rejectsCode(native.copyFileRange!(987654, outFd, 0, 0, 3), "EBADF");
    } finally {
      fs.closeSync(outFd);
    }
  });
});

test("copyFileRange on Windows rejects with ENOTSUP (the save then copies through memory)", { skip: !isWin ? "Windows only" : false }, async () => {
  await rejectsCode(native.copyFileRange!(0, 1, 0, 0, 1), "ENOTSUP");
});

test("dataRanges: the data of a sparse file (POSIX), everything where the OS cannot say (Wine), bad arguments refused", () => {
  const f = path.join(tmp.dir, "ranges.bin");
  const fd = fs.openSync(f, "w+");
  fs.ftruncateSync(fd, 64 * 1024 * 1024);
  fs.writeSync(fd, Buffer.alloc(100, 1), 0, 100, 32 * 1024 * 1024);
  fs.closeSync(fd);
  const src = native.openFile(f);
  try {
    const r = Array.from(src.dataRanges!(0, src.size(), 100));
    assert.equal(r.length % 2, 0);
    for (let i = 0; i < r.length; i += 2) assert.ok(r[i]! < r[i + 1]! && (i === 0 || r[i]! > r[i - 1]!), "sorted, disjoint, non-empty");
    const covers = (x: number): boolean => r.some((v, i) => i % 2 === 0 && v <= x && x < r[i + 1]!);
    assert.ok(covers(32 * 1024 * 1024) && covers(32 * 1024 * 1024 + 99), "the data block is inside a range");
    if (process.platform === "linux") assert.ok(!covers(0) && !covers(60 * 1024 * 1024), "holes are not data on Linux");
    if (isWin && r.length === 2) assert.deepEqual(r, [0, src.size()], "no allocation info: all data");
    assert.equal(src.dataRanges!(10, 10, 1).length, 0);
    throwsCode(() => src.dataRanges!(10, 5, 1), "ERANGE");
    throwsCode(() => src.dataRanges!(0, 5, 0), "EINVAL");
  } finally {
    src.close();
  }
});
