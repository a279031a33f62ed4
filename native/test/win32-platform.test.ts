// Windows-only behaviour of the addon, through JS: the host it loads in, share modes (a file
// locked exclusively elsewhere is EBUSY; a file Hexmap has open stays usable by others), device
// and pipe names, non-ASCII and long paths, growth seen by later views, named sections.
// Runs in Windows Node (scripts/test-wine.js runs it under Wine); skipped elsewhere.
//
// Truncation under a mapped view: Windows refuses it (ERROR_USER_MAPPED_FILE), but under Wine a
// Linux truncate(2) can cut the file short behind Windows' back, and the next touch of a page
// past the end faults. scripts/test-wine.js points HEXMAP_WINE_TRUNCATE at a helper .exe
// (win32_backend_test.exe --truncate PATH LENGTH) that does exactly that.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { assertSameBytes, fsRead, isWin, native, rejectsCode, seededBytes, tempDir, throwsCode } from "./helpers";

const skip = isWin ? false : "Windows only";
let tmp: { dir: string; cleanup: () => void };

before(() => {
  if (isWin) tmp = tempDir("hexmap-win32-");
});
after(() => {
  if (isWin) tmp.cleanup();
});

function thrown(fn: () => unknown): Error & { code?: string; syscall?: string; errno?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; syscall?: string; errno?: number };
  }
  assert.fail("expected an error");
}

describe("win32 host", { skip }, () => {
  test("the addon is the win32 build, loaded from HEXMAP_NATIVE or prebuilds/win32-x64", (t) => {
    assert.equal(native.backend, "win32");
    assert.equal(native.granularity, 65536);
    assert.equal(native.pageSize, 4096);
    // In the Wine leg this file also runs in a renamed node.exe (hexmap-host.exe): Node-API is
    // resolved from whatever executable hosts the process, never from a module named node.exe.
    t.diagnostic(`host: ${path.basename(process.execPath)}, addon: ${process.env.HEXMAP_NATIVE ?? "(node-gyp-build)"}`);
  });
});

describe("win32 share modes", { skip }, () => {
  test("a file opened exclusively by another program → EBUSY with a clear message", () => {
    const p = path.join(tmp.dir, "locked.bin");
    fs.writeFileSync(p, seededBytes(1, 1000));
    // libuv's UV_FS_O_EXLOCK (uv/win.h: 0x10000000; Node passes numeric flags through without
    // exporting it) opens with share mode 0, as an exclusive editor would.
    const UV_FS_O_EXLOCK = (fs.constants as Record<string, number>).UV_FS_O_EXLOCK ?? 0x10000000;
    const fd = fs.openSync(p, fs.constants.O_RDONLY | UV_FS_O_EXLOCK);
    try {
      const e = thrown(() => native.openFile(p));
      assert.equal(e.code, "EBUSY", e.message);
      assert.match(e.message, /another program has the file open exclusively/);
      assert.equal(e.syscall, "CreateFileW");
      assert.equal(e.errno, 32); // ERROR_SHARING_VIOLATION
      throwsCode(() => native.openFile(p, { writable: true }), "EBUSY", "writable");
    } finally {
      fs.closeSync(fd);
    }
    native.openFile(p).close(); // and it opens once the other program let go
  });

  test("while Hexmap has the file open and mapped, others can read and write it; the view sees writes", async () => {
    const p = path.join(tmp.dir, "shared.bin");
    const bytes = seededBytes(2, 3 * 65536);
    fs.writeFileSync(p, bytes);
    const src = native.openFile(p, { writable: true });
    try {
      const view = src.map(65536, 65536);
      assertSameBytes(fs.readFileSync(p), bytes, "another reader");
      const fd = fs.openSync(p, "r+");
      fs.writeSync(fd, Buffer.from("written elsewhere"), 0, 17, 65536 + 100);
      fs.closeSync(fd);
      assert.equal((await view.read(100, 17)).toString("latin1"), "written elsewhere");
      view.unmap();
    } finally {
      src.close();
    }
  });

  test("with no view mapped, others can rename and delete the open file", () => {
    const p = path.join(tmp.dir, "renamed.bin");
    const q = path.join(tmp.dir, "renamed-2.bin");
    fs.writeFileSync(p, seededBytes(3, 5000));
    const src = native.openFile(p);
    try {
      fs.renameSync(p, q);
      assert.equal(src.size(), 5000);
      fs.unlinkSync(q);
    } finally {
      src.close();
    }
    assert.equal(fs.existsSync(q), false);
  });

  test("a file that grows after opening: size() follows, and a new view maps the new bytes", async () => {
    const p = path.join(tmp.dir, "growing.bin");
    const first = seededBytes(4, 70000);
    fs.writeFileSync(p, first);
    const src = native.openFile(p);
    try {
      const v1 = src.map(0, 65536);
      const more = seededBytes(5, 200000);
      fs.appendFileSync(p, more);
      assert.equal(src.size(), first.length + more.length);
      const v2 = src.map(3 * 65536, first.length + more.length - 3 * 65536);
      const tail = await v2.read(v2.length - 1000, 1000);
      assertSameBytes(tail, fsRead(p, first.length + more.length - 1000, 1000), "tail of the grown file");
      assertSameBytes(await v1.read(0, 100), first.subarray(0, 100), "the older view still reads");
    } finally {
      src.close();
    }
  });
});

describe("win32 names", { skip }, () => {
  test("devices are not regular files → EINVAL", () => {
    for (const name of ["NUL", "\\\\.\\NUL", "CON"]) {
      const e = thrown(() => native.openFile(name));
      assert.equal(e.code, "EINVAL", `${name}: ${e.message}`);
    }
  });

  test("a named pipe is not a regular file → EINVAL", async () => {
    const pipe = `\\\\.\\pipe\\hexmap-test-${process.pid}`;
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(pipe, resolve));
    try {
      const e = thrown(() => native.openFile(pipe));
      assert.ok(e.code === "EINVAL" || e.code === "EBUSY", `${e.code}: ${e.message}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("non-ASCII file names", async () => {
    const p = path.join(tmp.dir, "héllo-日本-😀.bin");
    const bytes = seededBytes(6, 100000);
    fs.writeFileSync(p, bytes);
    const src = native.openFile(p);
    try {
      assertSameBytes(await src.map(65536, 100000 - 65536).read(0, 1000), bytes.subarray(65536, 66536), "read");
    } finally {
      src.close();
    }
  });

  test("paths longer than MAX_PATH (260)", async () => {
    const dir = path.join(tmp.dir, "d".repeat(120), "e".repeat(120));
    fs.mkdirSync(dir, { recursive: true });
    const p = path.join(dir, "f".repeat(60) + ".bin");
    assert.ok(p.length > 300);
    const bytes = seededBytes(7, 4096);
    fs.writeFileSync(p, bytes);
    const src = native.openFile(p);
    try {
      assertSameBytes(await src.map(0, 4096).read(0, 4096), bytes, "read");
    } finally {
      src.close();
    }
  });

  test("named sections: Local\\ names, sizes that are not whole pages", async () => {
    const name = `Local\\hexmap-win32-${process.pid}`;
    const a = native.createShm(name, 100000);
    try {
      assert.equal(a.existed, false);
      assert.equal(a.size(), 100000);
      await a.map(0, 100000, true).write(99990, Buffer.from("0123456789"));
      const b = native.openShm(name);
      try {
        // Windows reports the exact size; Wine (and VirtualQuery) whole pages.
        assert.ok(b.size() === 100000 || b.size() === 102400, String(b.size()));
        assert.equal((await b.map(65536, 100000 - 65536).read(99990 - 65536, 10)).toString(), "0123456789");
      } finally {
        b.close();
      }
    } finally {
      a.close();
    }
    throwsCode(() => native.openShm(name), "ENOENT", "a section dies with its last handle");
  });
});

const truncateHelper = process.env.HEXMAP_WINE_TRUNCATE;
function truncateBehindWindows(file: string, length: number): void {
  const r = spawnSync(truncateHelper!, ["--truncate", file, String(length)], { encoding: "utf8" });
  assert.equal(r.status, 0, `truncate helper: ${r.stderr} ${r.error ?? ""}`);
  assert.equal(fs.statSync(file).size, length);
}

describe("win32 faults in mapped views (Wine)", { skip: !isWin ? "Windows only" : !truncateHelper ? "needs Wine (HEXMAP_WINE_TRUNCATE)" : false }, () => {
  test("reads past the end of a file truncated under the view → EIO, sync and async; the process lives", async () => {
    const p = path.join(tmp.dir, "truncated.bin");
    const bytes = seededBytes(8, 8 * 65536);
    fs.writeFileSync(p, bytes);
    const src = native.openFile(p, { writable: true });
    try {
      const view = src.map(0, bytes.length);
      const wview = src.map(0, bytes.length, true);
      truncateBehindWindows(p, 65536 + 10);
      assertSameBytes(await view.read(0, 65536), bytes.subarray(0, 65536), "the bytes before the new end");
      const e = thrown(() => view.readSync(4 * 65536, 100));
      assert.equal(e.code, "EIO", e.message);
      assert.match(e.message, /truncated/);
      await rejectsCode(view.read(3 * 65536, 4096), "EIO", "async read");
      // A copy that starts inside the file and runs past its end faults at the first lost page.
      await rejectsCode(view.read(65536 - 100, 2 * 65536), "EIO", "a read across the new end");
      throwsCode(() => wview.writeSync(5 * 65536, Buffer.alloc(10, 1)), "EIO", "writeSync");
      await rejectsCode(wview.write(6 * 65536, Buffer.alloc(10, 1)), "EIO", "async write");
      // Many faulting reads at once on the worker pool: every one settles with EIO.
      const many = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => view.read(2 * 65536 + i * 4096, 512)));
      assert.ok(
        many.every((r) => r.status === "rejected" && (r.reason as { code?: string }).code === "EIO"),
        "32 concurrent faulting reads",
      );
      assertSameBytes(view.readSync(10, 100), bytes.subarray(10, 110), "the view still reads where the file is");
      assert.equal(src.size(), 65536 + 10);
    } finally {
      src.close();
    }
  });
});
