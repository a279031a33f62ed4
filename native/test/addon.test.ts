// Addon basics on small files: opening, mapping, reading, writing, validation, lifetimes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import type { NativeSource, NativeView } from "../index";
import {
  assertSameBytes,
  badIndexes,
  collectUntil,
  fsRead,
  isWin,
  native,
  rejectsCode,
  seededBytes,
  tempDir,
  throwsCode,
} from "./helpers";

const G = native.granularity;
let tmp: { dir: string; cleanup: () => void };
let small: string; // 3 granules + 123 bytes of seeded data
let smallBytes: Buffer;

before(() => {
  tmp = tempDir();
  small = path.join(tmp.dir, "small.bin");
  smallBytes = seededBytes(1, 3 * G + 123);
  fs.writeFileSync(small, smallBytes);
});

after(() => {
  tmp.cleanup();
});

function baseline() {
  return native.stats();
}

describe("module", () => {
  test("reports its backend, granularity and page size", () => {
    assert.equal(native.backend, isWin ? "win32" : "posix");
    assert.ok(Number.isSafeInteger(native.pageSize) && native.pageSize >= 4096);
    assert.equal(native.pageSize & (native.pageSize - 1), 0, "page size is a power of two");
    assert.ok(native.granularity >= native.pageSize);
    assert.equal(native.granularity % native.pageSize, 0);
    if (isWin) assert.equal(native.granularity, 65536);
    else assert.equal(native.granularity, native.pageSize);
  });

  test("stats() has the three counters", () => {
    const s = native.stats();
    for (const k of ["sources", "views", "mappedBytes"] as const) {
      assert.ok(Number.isSafeInteger(s[k]) && s[k] >= 0, k);
    }
  });

  test("Source and View cannot be constructed from JS", () => {
    const src = native.openFile(small);
    try {
      const Ctor = Object.getPrototypeOf(src).constructor as new (...a: unknown[]) => unknown;
      assert.throws(() => new Ctor(), TypeError);
      assert.throws(() => new Ctor({}), TypeError);
      const view = src.map(0, G);
      const VCtor = Object.getPrototypeOf(view).constructor as new (...a: unknown[]) => unknown;
      assert.throws(() => new VCtor(1), TypeError);
    } finally {
      src.close();
    }
  });
});

describe("openFile", () => {
  test("opens read-only by default and reports the size", () => {
    const before = baseline();
    const src = native.openFile(small);
    assert.equal(src.kind, "file");
    assert.equal(src.writable, false);
    assert.equal(src.closed, false);
    assert.equal(src.size(), smallBytes.length);
    assert.equal(native.stats().sources, before.sources + 1);
    src.close();
    assert.equal(src.closed, true);
    assert.equal(native.stats().sources, before.sources);
  });

  test("missing file → ENOENT with syscall and errno", () => {
    assert.throws(
      () => native.openFile(path.join(tmp.dir, "does-not-exist.bin")),
      (e: any) => {
        assert.equal(e.code, "ENOENT");
        assert.equal(typeof e.syscall, "string");
        assert.equal(typeof e.errno, "number");
        assert.match(e.message, /does-not-exist\.bin/);
        return true;
      },
    );
  });

  test("directory → EISDIR, read-only and writable", () => {
    throwsCode(() => native.openFile(tmp.dir), "EISDIR", "read-only");
    throwsCode(() => native.openFile(tmp.dir, { writable: true }), "EISDIR", "writable");
  });

  test("empty file opens with size 0; mapping it is ERANGE", () => {
    const empty = path.join(tmp.dir, "empty.bin");
    fs.writeFileSync(empty, "");
    const src = native.openFile(empty);
    try {
      assert.equal(src.size(), 0);
      throwsCode(() => src.map(0, 1), "ERANGE", "map 1 byte of empty");
      throwsCode(() => src.map(0, 0), "ERANGE", "map 0 bytes");
    } finally {
      src.close();
    }
  });

  test("FIFO → EINVAL without hanging", { skip: isWin ? "FIFOs are POSIX-only" : false }, () => {
    const fifo = path.join(tmp.dir, "pipe");
    require("node:child_process").execFileSync("mkfifo", [fifo]);
    throwsCode(() => native.openFile(fifo), "EINVAL", "FIFO read-only");
    throwsCode(() => native.openFile(fifo, { writable: true }), "EINVAL", "FIFO writable");
  });

  test("character device → EINVAL", { skip: isWin ? "no /dev/null on win32" : false }, () => {
    assert.throws(() => native.openFile("/dev/null"), (e: any) => {
      assert.equal(e.code, "EINVAL");
      assert.match(e.message, /regular file/);
      return true;
    });
  });

  test("bad arguments → EINVAL", () => {
    for (const bad of [undefined, null, 42, {}, Buffer.from("x"), ""]) {
      throwsCode(() => (native.openFile as any)(bad), "EINVAL", `path ${String(bad)}`);
    }
    throwsCode(() => native.openFile(small + "\0x"), "EINVAL", "path with NUL");
    throwsCode(() => (native.openFile as any)(small, 5), "EINVAL", "options not an object");
    throwsCode(() => (native.openFile as any)(small, { writable: "yes" }), "EINVAL", "writable not a boolean");
  });

  test(
    "read-only file opened writable → EACCES",
    { skip: isWin || process.getuid?.() === 0 ? "root ignores permissions (or win32)" : false },
    () => {
      const ro = path.join(tmp.dir, "ro.bin");
      fs.writeFileSync(ro, "abc");
      fs.chmodSync(ro, 0o444);
      throwsCode(() => native.openFile(ro, { writable: true }), "EACCES");
    },
  );
});

describe("map and read", () => {
  let src: NativeSource;
  before(() => {
    src = native.openFile(small);
  });
  after(() => src.close());

  test("a view reports its window", () => {
    const v = src.map(G, 2 * G);
    assert.equal(v.offset, G);
    assert.equal(v.length, 2 * G);
    assert.equal(v.writable, false);
    assert.equal(v.closed, false);
    v.unmap();
    assert.equal(v.closed, true);
    assert.equal(v.offset, G, "offset stays readable after unmap");
  });

  test("reads at every page boundary, the last byte, and across the end match fs", async () => {
    const v = src.map(0, smallBytes.length);
    try {
      const ps = native.pageSize;
      for (let b = ps; b < smallBytes.length; b += ps) {
        for (const [at, len] of [
          [b - 1, 2],
          [b - 16, 32],
          [b, 1],
          [b - 1, 1],
        ] as const) {
          assertSameBytes(v.readSync(at, len), fsRead(small, at, len), `readSync(${at},${len})`);
          assertSameBytes(await v.read(at, len), fsRead(small, at, len), `read(${at},${len})`);
        }
      }
      const last = smallBytes.length - 1;
      assertSameBytes(v.readSync(last, 1), smallBytes.subarray(last), "last byte");
      assertSameBytes(await v.read(0, smallBytes.length), smallBytes, "whole file");
      assert.equal(v.readSync(smallBytes.length, 0).length, 0, "empty read at the end");
      assert.equal((await v.read(0, 0)).length, 0, "empty async read");
    } finally {
      v.unmap();
    }
  });

  test("views at each granule offset; the last view is partial", async () => {
    for (let off = 0; off < smallBytes.length; off += G) {
      const len = Math.min(G, smallBytes.length - off);
      const v = src.map(off, len);
      assertSameBytes(await v.read(0, len), smallBytes.subarray(off, off + len), `view at ${off}`);
      assertSameBytes(v.readSync(len - 1, 1), smallBytes.subarray(off + len - 1, off + len), `last of ${off}`);
      v.unmap();
    }
  });

  test("adjacent views agree where they meet", async () => {
    const a = src.map(0, G);
    const b = src.map(G, G);
    try {
      const joined = Buffer.concat([await a.read(G - 8, 8), await b.read(0, 8)]);
      assertSameBytes(joined, fsRead(small, G - 8, 16), "join");
    } finally {
      a.unmap();
      b.unmap();
    }
  });

  test("read returns a fresh JS-owned Buffer each time", async () => {
    const v = src.map(0, G);
    try {
      const x = await v.read(0, 16);
      const y = await v.read(0, 16);
      assert.ok(Buffer.isBuffer(x));
      x[0] = (x[0]! + 1) & 0xff;
      assert.notEqual(x[0], y[0], "buffers do not alias each other");
      assert.equal(v.readSync(0, 16)[0], smallBytes[0], "nor the mapping");
    } finally {
      v.unmap();
    }
  });

  test("map alignment and range errors", () => {
    const size = smallBytes.length;
    throwsCode(() => src.map(1, 10), "ERANGE", "offset 1");
    throwsCode(() => src.map(G - 1, 10), "ERANGE", "offset granularity-1");
    throwsCode(() => src.map(G + native.pageSize / 2, 10), "ERANGE", "half page");
    throwsCode(() => src.map(0, 0), "ERANGE", "length 0");
    throwsCode(() => src.map(0, size + 1), "ERANGE", "one past the end");
    throwsCode(() => src.map(4 * G, 1), "ERANGE", "offset past the end");
    throwsCode(() => src.map(0, 2 ** 53 - 1), "ERANGE", "max safe length");
    throwsCode(() => src.map(Math.floor((2 ** 53 - 1) / G) * G, 1), "ERANGE", "max safe offset");
    throwsCode(() => src.map(0, size, true), "EACCES", "writable view of read-only source");
    throwsCode(() => (src.map as any)(0, size, "yes"), "EINVAL", "writable not a boolean");
  });

  test("every bad offset/length → EINVAL (map, read, readSync, flush)", async () => {
    const v = src.map(0, G);
    try {
      for (const [name, bad] of badIndexes) {
        throwsCode(() => (src.map as any)(bad, G), "EINVAL", `map offset ${name}`);
        throwsCode(() => (src.map as any)(0, bad), "EINVAL", `map length ${name}`);
        throwsCode(() => (v.readSync as any)(bad, 1), "EINVAL", `readSync at ${name}`);
        throwsCode(() => (v.readSync as any)(0, bad), "EINVAL", `readSync length ${name}`);
        await rejectsCode((v.read as any)(bad, 1), "EINVAL", `read at ${name}`);
        await rejectsCode((v.read as any)(0, bad), "EINVAL", `read length ${name}`);
        if (bad !== null) await rejectsCode((v.flush as any)(bad), "EINVAL", `flush at ${name}`);
      }
      throwsCode(() => (src.map as any)(), "EINVAL", "map()");
      throwsCode(() => (v.readSync as any)(0), "EINVAL", "readSync(0)");
      await rejectsCode((v.read as any)(), "EINVAL", "read()");
    } finally {
      v.unmap();
    }
  });

  test("reads outside the view → ERANGE", async () => {
    const v = src.map(G, G);
    try {
      throwsCode(() => v.readSync(G, 1), "ERANGE", "at = length");
      throwsCode(() => v.readSync(G - 1, 2), "ERANGE", "crosses the end");
      throwsCode(() => v.readSync(G + 1, 0), "ERANGE", "empty read past the end");
      throwsCode(() => v.readSync(0, G + 1), "ERANGE", "too long");
      throwsCode(() => v.readSync(2 ** 53 - 1, 1), "ERANGE", "huge at");
      await rejectsCode(v.read(G - 1, 2), "ERANGE", "async crosses the end");
      await rejectsCode(v.flush(0, G + 1), "ERANGE", "flush too long");
      await rejectsCode(v.flush(G + 1), "ERANGE", "flush past the end");
    } finally {
      v.unmap();
    }
  });

  test("write to a read-only view → EACCES", async () => {
    const v = src.map(0, G);
    try {
      throwsCode(() => v.writeSync(0, Buffer.from([1])), "EACCES", "writeSync");
      await rejectsCode(v.write(0, Buffer.from([1])), "EACCES", "write");
    } finally {
      v.unmap();
    }
    assertSameBytes(fsRead(small, 0, 1), smallBytes.subarray(0, 1), "file untouched");
  });
});

describe("write and flush", () => {
  test("write + flush + sync round trip is visible to fs", async () => {
    const file = path.join(tmp.dir, "rw.bin");
    const original = seededBytes(7, 2 * G + 500);
    fs.writeFileSync(file, original);
    const src = native.openFile(file, { writable: true });
    assert.equal(src.writable, true);
    const expected = Buffer.from(original);
    try {
      const v = src.map(0, original.length, true);
      assert.equal(v.writable, true);
      const a = seededBytes(8, 100);
      const b = seededBytes(9, 64);
      const c = seededBytes(10, 3);
      v.writeSync(native.pageSize - 50, a); // across a page boundary
      a.copy(expected, native.pageSize - 50);
      await v.write(G - 32, b); // across a granule boundary
      b.copy(expected, G - 32);
      await v.write(original.length - 3, c); // the last bytes
      c.copy(expected, original.length - 3);
      await v.write(5, new Uint8Array(0)); // empty writes are fine
      // Typed views over part of a larger buffer write only their bytes.
      const big = Buffer.from("xxHELLOxx");
      v.writeSync(10, big.subarray(2, 7));
      Buffer.from("HELLO").copy(expected, 10);
      await v.flush();
      await v.flush(native.pageSize - 50, 100);
      await v.flush(original.length - 1, 1);
      await src.sync();
      assertSameBytes(fs.readFileSync(file), expected, "file after flush");
      assertSameBytes(v.readSync(0, expected.length), expected, "view after flush");
      throwsCode(() => v.writeSync(original.length - 2, c), "ERANGE", "write past the end");
      await rejectsCode(v.write(original.length, c), "ERANGE", "async write past the end");
      throwsCode(() => (v.writeSync as any)(0, "str"), "EINVAL", "string data");
      throwsCode(() => (v.writeSync as any)(0, [1, 2]), "EINVAL", "array data");
      await rejectsCode((v.write as any)(-1, c), "EINVAL", "negative at");
      for (const [name, bad] of badIndexes) {
        throwsCode(() => (v.writeSync as any)(bad, c), "EINVAL", `writeSync at ${name}`);
      }
    } finally {
      src.close();
    }
    assertSameBytes(fs.readFileSync(file), expected, "file after close");
  });

  test("the async write copies the data before returning", async () => {
    const file = path.join(tmp.dir, "copy.bin");
    fs.writeFileSync(file, Buffer.alloc(G));
    const src = native.openFile(file, { writable: true });
    try {
      const v = src.map(0, G, true);
      const data = Buffer.from("original");
      const p = v.write(0, data);
      data.fill(0x21); // mutate while the worker may still run
      await p;
      await v.flush();
      assert.equal(fs.readFileSync(file).subarray(0, 8).toString(), "original");
    } finally {
      src.close();
    }
  });

  test("a read-only view of a writable source cannot be written", () => {
    const file = path.join(tmp.dir, "rw2.bin");
    fs.writeFileSync(file, Buffer.alloc(G));
    const src = native.openFile(file, { writable: true });
    try {
      const v = src.map(0, G);
      assert.equal(v.writable, false);
      throwsCode(() => v.writeSync(0, Buffer.from([1])), "EACCES");
    } finally {
      src.close();
    }
  });
});

describe("lifetimes", () => {
  test("use after unmap → ECLOSED; unmap is idempotent", async () => {
    const src = native.openFile(small);
    const v = src.map(0, G);
    v.unmap();
    v.unmap();
    throwsCode(() => v.readSync(0, 1), "ECLOSED", "readSync");
    await rejectsCode(v.read(0, 1), "ECLOSED", "read");
    await rejectsCode(v.write(0, Buffer.from([1])), "ECLOSED", "write");
    throwsCode(() => v.writeSync(0, Buffer.from([1])), "ECLOSED", "writeSync");
    await rejectsCode(v.flush(), "ECLOSED", "flush");
    src.close();
  });

  test("close() unmaps every view; use after close → ECLOSED", async () => {
    const before = baseline();
    const src = native.openFile(small);
    const views: NativeView[] = [src.map(0, G), src.map(G, G), src.map(0, smallBytes.length)];
    assert.equal(native.stats().views, before.views + 3);
    assert.equal(native.stats().mappedBytes, before.mappedBytes + 2 * G + smallBytes.length);
    src.close();
    src.close();
    for (const v of views) {
      assert.equal(v.closed, true);
      throwsCode(() => v.readSync(0, 1), "ECLOSED");
    }
    throwsCode(() => src.size(), "ECLOSED", "size");
    throwsCode(() => src.map(0, G), "ECLOSED", "map");
    await rejectsCode(src.sync(), "ECLOSED", "sync");
    assert.deepEqual(native.stats(), before);
  });

  test("unmap() while reads are in flight defers the unmap until they finish", async () => {
    const before = baseline();
    const src = native.openFile(small);
    const v = src.map(0, smallBytes.length);
    const reads = [v.read(0, smallBytes.length), v.read(G, 10), v.read(smallBytes.length - 1, 1)];
    v.unmap();
    assert.equal(v.closed, true);
    throwsCode(() => v.readSync(0, 1), "ECLOSED", "new work is refused");
    const [all, mid, last] = await Promise.all(reads);
    assertSameBytes(all!, smallBytes, "in-flight read completed");
    assertSameBytes(mid!, smallBytes.subarray(G, G + 10), "mid");
    assertSameBytes(last!, smallBytes.subarray(-1), "last");
    assert.equal(native.stats().views, before.views, "view released after the reads");
    src.close();
    assert.deepEqual(native.stats(), before);
  });

  test("close() while reads and sync are in flight", async () => {
    const before = baseline();
    const src = native.openFile(small);
    const v1 = src.map(0, G);
    const v2 = src.map(G, 2 * G);
    const work = [v1.read(0, G), v2.read(0, 2 * G), src.sync()];
    src.close();
    assert.equal(src.closed, true);
    assert.equal(v1.closed, true);
    const [a, b] = await Promise.all(work);
    assertSameBytes(a as Buffer, smallBytes.subarray(0, G), "v1");
    assertSameBytes(b as Buffer, smallBytes.subarray(G, 3 * G), "v2");
    assert.deepEqual(native.stats(), before);
  });

  test("garbage collection releases views and sources", async () => {
    const before = baseline();
    (() => {
      const src = native.openFile(small);
      for (let i = 0; i < 8; i++) src.map(0, G);
    })();
    assert.equal(native.stats().views, before.views + 8);
    const ok = await collectUntil(() => {
      const s = native.stats();
      return s.views === before.views && s.sources === before.sources;
    });
    assert.ok(ok, `stats after GC: ${JSON.stringify(native.stats())}, before ${JSON.stringify(before)}`);
    assert.deepEqual(native.stats(), before);
  });

  test("a view outlives a collected source and keeps working", async () => {
    const before = baseline();
    let view: NativeView | undefined = (() => native.openFile(small).map(G, G))();
    await collectUntil(() => false, 5); // the source's JS object is gone now
    assert.equal(native.stats().sources, before.sources + 1, "source still open for its view");
    assertSameBytes(await view.read(0, G), smallBytes.subarray(G, 2 * G), "read through orphaned view");
    view.unmap();
    view = undefined;
    const ok = await collectUntil(() => native.stats().sources === before.sources);
    assert.ok(ok, "source closed once its last view was unmapped");
    assert.deepEqual(native.stats(), before);
  });

  test("stats() is back to zero", () => {
    assert.deepEqual(native.stats(), { sources: 0, views: 0, mappedBytes: 0 });
  });
});

test("readIfResident: the bytes of pages in memory, as readSync gives them; undefined where it cannot tell (Windows); ranges checked", () => {
  const t = tempDir("hexmap-resident-");
  try {
    const f = path.join(t.dir, "warm.bin");
    const bytes = seededBytes(5, 2 * 1024 * 1024 + 77);
    fs.writeFileSync(f, bytes); // just written: in the page cache
    const src = native.openFile(f);
    try {
      const view = src.map(0, bytes.length);
      view.readSync(0, bytes.length); // touched, surely resident
      const got = view.readIfResident!(65536 - 5, 4096 + 10);
      if (isWin) assert.equal(got, undefined);
      else {
        assert.ok(got, "resident pages are read here");
        assertSameBytes(got!, bytes.subarray(65536 - 5, 65536 + 4096 + 5), "same bytes as the file");
      }
      assert.equal(view.readIfResident!(0, 0), undefined, "nothing to read");
      assert.equal(view.readIfResident!(0, 2 * 1024 * 1024), undefined, "more than 256 pages: left to a worker");
      throwsCode(() => view.readIfResident!(bytes.length - 1, 2), "ERANGE");
      view.unmap();
      throwsCode(() => view.readIfResident!(0, 1), "ECLOSED");
    } finally {
      src.close();
    }
  } finally {
    t.cleanup();
  }
});

test("readIfResident: pages never read (a sparse file's untouched hole) are left to a worker", { skip: isWin ? "always undefined on Windows (checked above)" : false }, () => {
  const t = tempDir("hexmap-resident-");
  try {
    const f = path.join(t.dir, "cold.bin");
    const fd = fs.openSync(f, "w");
    fs.ftruncateSync(fd, 1024 * 1024 * 1024);
    fs.closeSync(fd);
    const src = native.openFile(f);
    try {
      const view = src.map(512 * 1024 * 1024, 64 * 1024 * 1024);
      assert.equal(view.readIfResident!(12345, 4096), undefined);
      view.readSync(12345, 4096); // now it is in memory
      assertSameBytes(view.readIfResident!(12345, 4096)!, Buffer.alloc(4096), "zeros, read here");
    } finally {
      src.close();
    }
  } finally {
    t.cleanup();
  }
});
