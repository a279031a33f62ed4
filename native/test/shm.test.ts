// Named shared memory: create/open/read/write, `existed`, size mismatch, unlink.
import * as assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { NativeSource } from "../index";
import { assertSameBytes, badIndexes, isWin, native, rejectsCode, seededBytes, throwsCode } from "./helpers";

const created: string[] = [];
const opened: NativeSource[] = [];

function uniqueName(tag: string): string {
  const name = `hexmap-test-${process.pid}-${tag}-${Math.random().toString(36).slice(2, 10)}`;
  created.push(name);
  return name;
}

function track<T extends NativeSource>(s: T): T {
  opened.push(s);
  return s;
}

after(() => {
  for (const s of opened) s.close();
  if (!isWin) {
    for (const name of created) {
      try {
        native.unlinkShm(name);
      } catch {
        /* already unlinked by the test */
      }
    }
  }
});

describe("shared memory", () => {
  test("create, write through one source, read through another", async () => {
    const name = uniqueName("rw");
    const size = 3 * native.granularity + 17;
    const a = track(native.createShm(name, size));
    assert.equal(a.existed, false);
    assert.equal(a.kind, "shm");
    assert.equal(a.writable, true);
    assert.equal(a.size(), size);
    const data = seededBytes(42, size);
    const va = a.map(0, size, true);
    await va.write(0, data);
    await va.flush();
    await a.sync();

    const b = track(native.openShm(name));
    assert.equal(b.kind, "shm");
    assert.equal(b.writable, false);
    assert.ok(b.size() >= size, "open section is at least the created size");
    const vb = b.map(0, size);
    assertSameBytes(await vb.read(0, size), data, "read back through openShm");
    assertSameBytes(vb.readSync(size - 1, 1), data.subarray(size - 1), "last byte");

    // Both map the same memory: a later write is visible without any flush.
    va.writeSync(5, Buffer.from("shared"));
    assert.equal(vb.readSync(5, 6).toString(), "shared");
    throwsCode(() => b.map(0, size, true), "EACCES", "writable view of a read-only open");
    throwsCode(() => vb.writeSync(0, Buffer.from([1])), "EACCES", "write to read-only view");
    a.close();
    b.close();
  });

  test("createShm of an existing name: same size → existed, other size → EEXIST", () => {
    const name = uniqueName("exists");
    const a = track(native.createShm(name, 8192));
    assert.equal(a.existed, false);
    const again = track(native.createShm(name, 8192));
    assert.equal(again.existed, true);
    again.map(0, 4096, true).writeSync(0, Buffer.from("x"));
    assert.equal(a.map(0, 4096).readSync(0, 1).toString(), "x", "the same section");
    throwsCode(() => native.createShm(name, 3 * 8192), "EEXIST", "different size");
    a.close();
    again.close();
  });

  test("openShm writable; missing name → ENOENT", () => {
    const name = uniqueName("open");
    const a = track(native.createShm(name, 4096));
    const w = track(native.openShm(name, { writable: true }));
    assert.equal(w.writable, true);
    w.map(0, 4096, true).writeSync(4095, Buffer.from([0xab]));
    assert.equal(a.map(0, 4096).readSync(4095, 1)[0], 0xab);
    throwsCode(() => native.openShm(`hexmap-test-${process.pid}-missing-${Date.now()}`), "ENOENT");
    a.close();
    w.close();
  });

  test("bad arguments → EINVAL", () => {
    for (const [what, bad] of badIndexes) {
      throwsCode(() => (native.createShm as any)("hexmap-test-bad", bad), "EINVAL", `size ${what}`);
    }
    throwsCode(() => native.createShm("hexmap-test-bad", 0), "EINVAL", "size 0");
    for (const bad of [undefined, 5, {}, ""]) {
      throwsCode(() => (native.createShm as any)(bad, 4096), "EINVAL", `name ${String(bad)}`);
      throwsCode(() => (native.openShm as any)(bad), "EINVAL", `openShm name ${String(bad)}`);
      throwsCode(() => (native.unlinkShm as any)(bad), "EINVAL", `unlinkShm name ${String(bad)}`);
    }
    throwsCode(() => (native.openShm as any)("x", { writable: 1 }), "EINVAL", "writable not boolean");
  });

  test("close makes the source unusable", async () => {
    const name = uniqueName("closed");
    const a = track(native.createShm(name, 4096));
    const v = a.map(0, 4096);
    a.close();
    assert.equal(a.closed, true);
    assert.equal(v.closed, true);
    throwsCode(() => a.size(), "ECLOSED");
    await rejectsCode(v.read(0, 1), "ECLOSED");
  });

  test(
    "POSIX names: 'name' and '/name' are the same; unlink removes the name, not live mappings",
    { skip: isWin ? "shm_unlink semantics are POSIX-only (a section dies with its last handle)" : false },
    () => {
      const name = uniqueName("posix");
      const a = track(native.createShm("/" + name, 4096));
      a.map(0, 4096, true).writeSync(0, Buffer.from("slash"));
      const b = track(native.openShm(name));
      const vb = b.map(0, 4096);
      assert.equal(vb.readSync(0, 5).toString(), "slash");
      native.unlinkShm(name);
      throwsCode(() => native.openShm(name), "ENOENT", "gone after unlink");
      throwsCode(() => native.unlinkShm("/" + name), "ENOENT", "second unlink");
      assert.equal(vb.readSync(0, 5).toString(), "slash", "existing mapping survives");
      const fresh = track(native.createShm(name, 4096));
      assert.equal(fresh.existed, false, "a new object after unlink");
      throwsCode(() => native.createShm("a/b", 4096), "EINVAL", "slash inside the name");
      throwsCode(() => native.openShm("/"), "EINVAL", "just a slash");
      a.close();
      b.close();
      fresh.close();
    },
  );

  test("stats() is back to zero", () => {
    assert.deepEqual(native.stats(), { sources: 0, views: 0, mappedBytes: 0 });
  });
});
