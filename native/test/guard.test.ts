// The fault guard: a file truncated under a mapped view gives EIO, not a crash; faults that are
// not ours (WebAssembly traps, real crashes) still reach their owners.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { assertSameBytes, isWin, loaderPath, native, rejectsCode, seededBytes, tempDir, throwsCode } from "./helpers";

const noTruncate = isWin ? "Windows refuses to truncate a file that has a mapped view" : false;
const posixOnly = isWin ? "POSIX signals" : false;

let tmp: { dir: string; cleanup: () => void };
before(() => {
  tmp = tempDir("hexmap-guard-");
});
after(() => tmp.cleanup());

const SIZE = 1024 * 1024;
const KEEP = 4096 + 100; // bytes left after truncation: pages 0 and 1 stay backed

function makeFile(name: string): { file: string; data: Buffer } {
  const file = path.join(tmp.dir, name);
  const data = seededBytes(77, SIZE);
  fs.writeFileSync(file, data);
  return { file, data };
}

/** Truncates from another process, as another program would. */
function truncateElsewhere(file: string, size: number): void {
  execFileSync("truncate", ["-s", String(size), file]);
  assert.equal(fs.statSync(file).size, size);
}

describe("truncation under a mapped view", { skip: noTruncate }, () => {
  test("readSync past the new end → EIO; bytes before it still read", () => {
    const { file, data } = makeFile("sync.bin");
    const src = native.openFile(file);
    try {
      const v = src.map(0, SIZE);
      assertSameBytes(v.readSync(SIZE - 16, 16), data.subarray(SIZE - 16), "before truncation");
      truncateElsewhere(file, KEEP);
      throwsCode(() => v.readSync(SIZE - 16, 16), "EIO", "last bytes");
      throwsCode(() => v.readSync(3 * 4096, 1), "EIO", "first missing page");
      throwsCode(() => v.readSync(0, SIZE), "EIO", "whole view");
      assertSameBytes(v.readSync(0, KEEP), data.subarray(0, KEEP), "surviving bytes");
      assert.equal(src.size(), KEEP, "size() sees the truncation");
    } finally {
      src.close();
    }
    assert.equal(native.stats().views, 0);
  });

  test("async read past the new end rejects with EIO on worker threads, many at once", async () => {
    const { file, data } = makeFile("async.bin");
    const src = native.openFile(file);
    try {
      const v = src.map(0, SIZE);
      truncateElsewhere(file, KEEP);
      const faulting = [];
      for (let i = 0; i < 32; i++) faulting.push(rejectsCode(v.read(2 * 4096 + i * 4096, 64), "EIO", `read #${i}`));
      await Promise.all(faulting);
      // The pool threads that caught a fault still copy correctly afterwards.
      const good = await Promise.all(Array.from({ length: 16 }, () => v.read(0, KEEP)));
      for (const b of good) assertSameBytes(b, data.subarray(0, KEEP), "after faults");
      await assert.rejects(v.read(0, SIZE), (e: any) => {
        assert.equal(e.code, "EIO");
        assert.match(e.message, /truncated|changed on disk/);
        return true;
      });
    } finally {
      src.close();
    }
  });

  test("write and writeSync past the new end → EIO", async () => {
    const { file } = makeFile("write.bin");
    const src = native.openFile(file, { writable: true });
    try {
      const v = src.map(0, SIZE, true);
      truncateElsewhere(file, KEEP);
      throwsCode(() => v.writeSync(SIZE - 10, Buffer.from("0123456789")), "EIO", "writeSync");
      await rejectsCode(v.write(5 * 4096, Buffer.alloc(8192, 1)), "EIO", "write");
      v.writeSync(0, Buffer.from("still fine"));
      await v.flush(0, 10);
      assert.equal(fs.readFileSync(file).subarray(0, 10).toString(), "still fine");
      assert.equal(fs.statSync(file).size, KEEP, "a failed write does not grow the file");
    } finally {
      src.close();
    }
  });

  test("the file growing back makes the pages readable again", () => {
    const { file } = makeFile("regrow.bin");
    const src = native.openFile(file);
    try {
      const v = src.map(0, SIZE);
      truncateElsewhere(file, KEEP);
      throwsCode(() => v.readSync(SIZE - 1, 1), "EIO");
      truncateElsewhere(file, SIZE);
      assert.equal(v.readSync(SIZE - 1, 1)[0], 0, "re-extended with zeros");
    } finally {
      src.close();
    }
  });
});

describe("faults that are not ours still reach their owners", () => {
  function runChild(script: string) {
    return spawnSync(process.execPath, ["-e", script], {
      env: { ...process.env },
      encoding: "utf8",
      timeout: 60_000,
    });
  }
  const load = `const native = require(${JSON.stringify(loaderPath)}).loadNative();`;

  test("WebAssembly out-of-bounds traps still throw RuntimeError after the addon loads", () => {
    // (module (memory 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load))
    const wasm = [
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02,
      0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x08, 0x01, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, 0x0a,
      0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,
    ];
    const r = runChild(`${load}
      const m = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${JSON.stringify(wasm)})));
      if (m.exports.load(0) !== 0) throw new Error("in-bounds load");
      let trapped = 0;
      for (const at of [65536, 0x7ffffff0, 0xfffffff0]) {
        try { m.exports.load(at); } catch (e) { if (e instanceof WebAssembly.RuntimeError) trapped++; }
      }
      console.log("trapped=" + trapped + " backend=" + native.backend);`);
    assert.equal(r.status, 0, `child failed: signal=${r.signal} stderr=${r.stderr}`);
    assert.match(r.stdout, /trapped=3 backend=/);
  });

  for (const sig of ["SIGSEGV", "SIGBUS"] as const) {
    test(`a ${sig} outside a guarded copy still kills the process`, { skip: posixOnly }, () => {
      const r = runChild(`${load} native.stats(); process.kill(process.pid, "${sig}"); setTimeout(() => console.log("survived"), 2000);`);
      assert.equal(r.signal, sig, `child exit: status=${r.status} signal=${r.signal} stdout=${r.stdout}`);
      assert.doesNotMatch(r.stdout, /survived/);
    });
  }

  test("a fault in a worker-thread copy does not hide a later crash", { skip: noTruncate }, () => {
    const file = path.join(tmp.dir, "child.bin");
    fs.writeFileSync(file, Buffer.alloc(SIZE, 7));
    const r = runChild(`${load}
      const src = native.openFile(${JSON.stringify(file)});
      const v = src.map(0, ${SIZE});
      require("node:child_process").execFileSync("truncate", ["-s", "0", ${JSON.stringify(file)}]);
      v.read(8192, 10).then(() => console.log("no error"), (e) => {
        console.log("caught " + e.code);
        process.kill(process.pid, "SIGSEGV");
        setTimeout(() => console.log("survived"), 2000);
      });`);
    assert.match(r.stdout, /caught EIO/);
    assert.equal(r.signal, "SIGSEGV", `stdout=${r.stdout} stderr=${r.stderr}`);
  });
});
