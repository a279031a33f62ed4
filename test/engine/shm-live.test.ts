// Shared-memory documents across processes: a child (test/shm/writer-child.js) creates a section
// and writes "This is common data!", this process opens it by name through the engine, reads the
// same bytes, edits, and watches the child's changes with a LiveWatcher. Also: sizes, missing
// names, read-only sections, undo of immediate writes, names per platform.
// No shell: this file also runs in Windows Node under Wine (Local\ names there; the child is
// started with process.execPath, which is node.exe).

import * as assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { loadNative } from "../../native/index";
import { HexmapError } from "../../app/engine/errors";
import { LiveWatcher, ShmEditLog, normalizeRanges, type ByteRange, type LiveChange } from "../../app/engine/live";
import {
  normalizeShmName,
  openSharedMemoryDocument,
  openSharedMemorySource,
  sharedMemorySourceOf,
  unlinkShm,
  writeShm,
} from "../../app/engine/shm";
import { SHM_TEXT as TEXT, ShmRig, isWin } from "../shm-helpers";

const native = loadNative();
const rig = new ShmRig("hexmap-live");
const uniqueName = (tag: string): string => rig.uniqueName(tag);

after(() => rig.cleanup());

async function rejectsCode(p: Promise<unknown>, code: string, what = ""): Promise<HexmapError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HexmapError, `${what}: expected a HexmapError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return err;
  }
  assert.fail(`${what}: expected ${code}, but it succeeded`);
}

function throwsCode(fn: () => unknown, code: string, what = ""): HexmapError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HexmapError, `${what}: expected a HexmapError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return err;
  }
  assert.fail(`${what}: expected ${code}, but it succeeded`);
}

/** Sizes of opened sections: exact on POSIX; Windows (Wine) may round up to whole pages. */
function assertOpenedSize(actual: number, created: number, what: string): void {
  if (isWin) {
    assert.ok(actual >= created && actual <= Math.ceil(created / native.pageSize) * native.pageSize, `${what}: ${actual} for ${created}`);
  } else {
    assert.equal(actual, created, what);
  }
}

/** Collects change reports until `expected` ranges (merged) are all seen, or times out. */
function collectChanges(w: LiveWatcher, expected: ByteRange[], timeoutMs = 5000): Promise<{ union: ByteRange[]; events: LiveChange[] }> {
  return new Promise((resolve, reject) => {
    const events: LiveChange[] = [];
    const covered = (u: ByteRange[]) =>
      expected.every((e) => u.some((r) => r.offset <= e.offset && r.offset + r.length >= e.offset + e.length));
    const t = setTimeout(() => {
      off();
      reject(new Error(`no change covering ${JSON.stringify(expected)} in ${timeoutMs} ms; got ${JSON.stringify(events)}`));
    }, timeoutMs);
    const off = w.onChange((c) => {
      events.push(c);
      const union = normalizeRanges(events.flatMap((e) => e.ranges));
      if (covered(union)) {
        clearTimeout(t);
        off();
        resolve({ union, events });
      }
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("shared memory across processes", () => {
  test("a child creates and writes; we open by name, read the same bytes, edit one, the child sees it", async () => {
    const name = uniqueName("basic");
    const size = 3 * native.granularity + 100;
    const { writer, ready } = await rig.startWriter(name, size);
    assert.equal(ready.created, true);
    assert.equal(ready.size, size, "the creator sees the exact size");

    const doc = openSharedMemoryDocument(name, { readOnly: false });
    try {
      assert.equal(doc.kind, "shm");
      assert.equal(doc.readOnly, false);
      assertOpenedSize(doc.size, size, "opened size");
      assert.equal(doc.info("d1").kind, "shm");
      assert.equal((await doc.read(0, TEXT.length)).toString(), TEXT);
      assert.equal(doc.readSync(0, TEXT.length + 1).toString("latin1"), TEXT + "\0", "zero-filled after the text");
      assert.equal(sharedMemorySourceOf(doc)?.created, false);

      await writeShm(doc, 5, Buffer.from("X"));
      assert.equal((await writer.read(0, TEXT.length)).toString(), "This Xs common data!", "the child sees our edit");

      // Across a window boundary (64 KiB on Windows, a page on POSIX) and at the very end.
      const g = native.granularity;
      await writeShm(doc, g - 2, Buffer.from([1, 2, 3, 4]));
      assert.deepEqual([...(await writer.read(g - 2, 4))], [1, 2, 3, 4]);
      await writeShm(doc, size - 1, Buffer.from([0xee]));
      assert.deepEqual([...(await writer.read(size - 1, 1))], [0xee]);

      // And the other way: the child writes, we read the new bytes (no caching of stale pages).
      await writer.writeAll([2 * g + 7, "from the child"]);
      assert.equal((await doc.read(2 * g + 7, 14)).toString(), "from the child");
    } finally {
      doc.close();
      await writer.stop();
    }
  });

  test("LiveWatcher reports exactly the ranges the child changes, within the watched ranges", async () => {
    const name = uniqueName("watch");
    const { writer } = await rig.startWriter(name, 8192);
    const doc = openSharedMemoryDocument(name);
    const w = new LiveWatcher(doc, { intervalMs: 20 });
    try {
      assert.equal(w.intervalMs, 20);
      w.setRanges([{ offset: 0, length: 64 }, { offset: 1000, length: 16 }]);
      await w.poll(); // the first look is the baseline
      assert.equal(await w.poll(), null, "nothing changed yet");

      const got = collectChanges(w, [
        { offset: 3, length: 3 },
        { offset: 1004, length: 2 },
      ]);
      await writer.writeAll([3, "abc"], [500, "outside"], [1004, Buffer.from([0xaa, 0xbb])]);
      const { union, events } = await got;
      assert.deepEqual(union, [
        { offset: 3, length: 3 },
        { offset: 1004, length: 2 },
      ]);
      assert.ok(events.every((e, i) => i === 0 || e.generation > events[i - 1]!.generation), "generations increase");
      assert.equal(w.generation, events[events.length - 1]!.generation);

      // Writing the same bytes again is not a change.
      await writer.writeAll([3, "abc"]);
      await sleep(100);
      assert.equal(await w.poll(), null, "same bytes: no change");

      // Paused: no reports; resume reports what changed meanwhile.
      w.pause();
      assert.equal(w.paused, true);
      let reported = 0;
      const off = w.onChange(() => reported++);
      await writer.writeAll([10, "Z"]);
      await sleep(150);
      assert.equal(reported, 0, "no reports while paused");
      off();
      const later = collectChanges(w, [{ offset: 10, length: 1 }]);
      w.resume();
      assert.deepEqual((await later).union, [{ offset: 10, length: 1 }]);
    } finally {
      w.close();
      doc.close();
      await writer.stop();
    }
  });

  test("LiveWatcher: new ranges keep old snapshots, new bytes start as a baseline; own writes can be noted", async () => {
    const name = uniqueName("ranges");
    const { writer } = await rig.startWriter(name, 4096);
    const doc = openSharedMemoryDocument(name, { readOnly: false });
    const w = new LiveWatcher(doc, { paused: true });
    try {
      assert.equal(w.intervalMs, 100, "default interval");
      w.setRanges([{ offset: 0, length: 64 }]);
      await w.poll();
      await writer.writeAll([10, "Q"], [2000, "R"]);
      // Scroll: overlapping ranges merge; [0,64) keeps its snapshot, [2000,2016) is new.
      w.setRanges([{ offset: 0, length: 32 }, { offset: 16, length: 48 }, { offset: 2000, length: 16 }]);
      assert.deepEqual(w.ranges, [{ offset: 0, length: 64 }, { offset: 2000, length: 16 }]);
      const c1 = await w.poll();
      assert.deepEqual(c1?.ranges, [{ offset: 10, length: 1 }], "the change at 10 survived the scroll; 2000 was a baseline");
      await writer.writeAll([2001, "S"]);
      assert.deepEqual((await w.poll())?.ranges, [{ offset: 2001, length: 1 }]);

      // Our own edit, noted: not reported back as an outside change.
      await writeShm(doc, 20, Buffer.from("mine"));
      w.noteWrite(20, Buffer.from("mine"));
      assert.equal(await w.poll(), null);

      // Ranges past the end are clamped; too many bytes is ETOOBIG; bad numbers EINVAL.
      w.setRanges([{ offset: 4090, length: 100 }]);
      await w.poll();
      const small = new LiveWatcher(doc, { paused: true, maxWatchedBytes: 100 });
      throwsCode(() => small.setRanges([{ offset: 0, length: 101 }]), "ETOOBIG");
      throwsCode(() => small.setRanges([{ offset: -1, length: 1 }]), "EINVAL");
      small.close();
      throwsCode(() => new LiveWatcher(doc, { intervalMs: 1 }), "EINVAL");
      w.close();
      throwsCode(() => w.resume(), "EBADDOC");

      // A watcher whose document is closed reports EBADDOC once and stops.
      const other = openSharedMemoryDocument(name);
      const orphan = new LiveWatcher(other, { intervalMs: 10 });
      orphan.setRanges([{ offset: 0, length: 16 }]);
      const failed = new Promise<Error>((resolve) => orphan.onError(resolve));
      other.close();
      assert.equal(((await failed) as HexmapError).code, "EBADDOC");
      await sleep(20);
      assert.equal(orphan.closed, true);
    } finally {
      w.close();
      doc.close();
      await writer.stop();
    }
  });

  test("immediate writes with undo/redo, seen by the child", async () => {
    const name = uniqueName("undo");
    const { writer } = await rig.startWriter(name, 4096);
    const doc = openSharedMemoryDocument(name, { readOnly: false });
    try {
      const log = new ShmEditLog(doc);
      assert.equal(log.canUndo, false);
      assert.equal(await log.undo(), null, "nothing to undo");
      const a = await log.write(0, Buffer.from("THAT"));
      assert.deepEqual(a, { offset: 0, length: 4, generation: 1 });
      await log.write(8, Buffer.from("COMMON"));
      assert.equal((await writer.read(0, 20)).toString(), "THAT is COMMON data!");
      assert.deepEqual(await log.undo(), { offset: 8, length: 6, generation: 3 });
      assert.equal((await writer.read(0, 20)).toString(), "THAT is common data!");
      await log.undo();
      assert.equal((await writer.read(0, 20)).toString(), TEXT, "back to the original");
      assert.equal(log.canUndo, false);
      assert.equal(log.canRedo, true);
      await log.redo();
      assert.equal((await writer.read(0, 4)).toString(), "THAT");
      // A new write clears the redo history.
      await log.write(19, Buffer.from("?"));
      assert.equal(log.canRedo, false);
      assert.equal((await writer.read(0, 20)).toString(), "THAT is common data?");
      // Concurrent calls run in call order.
      await Promise.all([log.write(0, Buffer.from("1")), log.write(0, Buffer.from("2")), log.undo()]);
      assert.equal((await writer.read(0, 1)).toString(), "1");
      await rejectsCode(log.write(4090, Buffer.alloc(10)), "ERANGE", "past the end");
      // Bounded history: the oldest steps are dropped.
      const tiny = new ShmEditLog(doc, { maxBytes: 8 });
      await tiny.write(100, Buffer.from("ab"));
      await tiny.write(102, Buffer.from("cd"));
      await tiny.write(104, Buffer.from("ef"));
      assert.ok(await tiny.undo());
      assert.ok(await tiny.undo());
      assert.equal(await tiny.undo(), null, "the first step fell out of an 8-byte history");
    } finally {
      doc.close();
      await writer.stop();
    }
  });

  test("read-only documents refuse writes (EACCES); bad writes are ERANGE/EINVAL/EBADDOC", async () => {
    const name = uniqueName("ro");
    const { writer } = await rig.startWriter(name, 4096);
    const ro = openSharedMemoryDocument(name);
    try {
      assert.equal(ro.readOnly, true);
      await rejectsCode(writeShm(ro, 0, Buffer.from("x")), "EACCES", "writeShm");
      const src = sharedMemorySourceOf(ro)!;
      await rejectsCode(src.writeRaw(0, Buffer.from("x")), "EACCES", "writeRaw");
      throwsCode(() => src.writeRawSync(0, Buffer.from("x")), "EACCES", "writeRawSync");
      await rejectsCode(new ShmEditLog(ro).write(0, Buffer.from("x")), "EACCES", "edit log");
      assert.equal((await writer.read(0, 4)).toString(), "This", "unchanged");

      const rw = openSharedMemoryDocument(name, { readOnly: false });
      await rejectsCode(writeShm(rw, 4095, Buffer.from("xy")), "ERANGE", "past the end");
      await rejectsCode(writeShm(rw, -1, Buffer.from("x")), "EINVAL", "negative offset");
      await rejectsCode(writeShm(rw, 0, "x" as unknown as Buffer), "EINVAL", "not bytes");
      rw.close();
      await rejectsCode(writeShm(rw, 0, Buffer.from("x")), "EBADDOC", "closed");
    } finally {
      ro.close();
      await writer.stop();
    }
  });

  test("create, existing, sizes, missing names", async () => {
    const name = uniqueName("create");
    const missing = throwsCode(() => openSharedMemoryDocument(name), "ENOENT");
    assert.match(missing.message, /No shared memory section named/);

    const a = openSharedMemoryDocument(name, { create: 10000 });
    assert.equal(sharedMemorySourceOf(a)?.created, true);
    assert.equal(a.size, 10000, "a created section has its exact size");
    assert.equal(a.readOnly, false);
    const b = openSharedMemorySource(name, { create: 10000 });
    assert.equal(b.created, false, "same size: opened");
    const other = throwsCode(() => openSharedMemorySource(name, { create: 3 * 10000 }), "EEXIST", "other size");
    assert.match(other.message, /already exists/);
    throwsCode(() => openSharedMemorySource(name, { create: 0 }), "EINVAL", "size 0");
    throwsCode(() => openSharedMemorySource(name, { create: 10000, readOnly: true }), "EINVAL", "read-only create");

    // Another process opens what we created.
    const { writer, ready } = await rig.startWriter(name, 10000, "");
    assert.equal(ready.created, false);
    await writeShm(a, 9999, Buffer.from([0x5a]));
    assert.deepEqual([...(await writer.read(9999, 1))], [0x5a]);
    await writer.stop();
    b.close();
    a.close();
    if (isWin) {
      // The last handle is gone: so is the section.
      throwsCode(() => openSharedMemoryDocument(name), "ENOENT", "a section dies with its last handle");
    } else {
      const again = openSharedMemorySource(name);
      assertOpenedSize(again.size, 10000, "still there until unlinked");
      again.close();
      unlinkShm(name);
      throwsCode(() => openSharedMemoryDocument(name), "ENOENT", "unlinked");
      throwsCode(() => unlinkShm(name), "ENOENT", "second unlink");
    }
  });

  test("section names per platform", () => {
    assert.equal(normalizeShmName("ShareMemory", "linux"), "/ShareMemory");
    assert.equal(normalizeShmName("/ShareMemory", "linux"), "/ShareMemory");
    assert.equal(normalizeShmName("ShareMemory", "win32"), "ShareMemory");
    assert.equal(normalizeShmName("Local\\ShareMemory", "win32"), "Local\\ShareMemory");
    assert.equal(normalizeShmName("Global\\ShareMemory", "win32"), "Global\\ShareMemory");
    throwsCode(() => normalizeShmName("Local\\ShareMemory", "linux"), "EINVAL", "Local\\ on POSIX");
    throwsCode(() => normalizeShmName("a/b", "linux"), "EINVAL", "slash inside");
    throwsCode(() => normalizeShmName("/", "linux"), "EINVAL", "just a slash");
    throwsCode(() => normalizeShmName("Local\\", "win32"), "EINVAL", "prefix only");
    throwsCode(() => normalizeShmName("Local\\a\\b", "win32"), "EINVAL", "backslash inside");
    throwsCode(() => normalizeShmName("", "win32"), "EINVAL", "empty");
    throwsCode(() => normalizeShmName(5, "linux"), "EINVAL", "not a string");
  });

  test("normalizeRanges sorts and merges", () => {
    assert.deepEqual(
      normalizeRanges([
        { offset: 10, length: 5 },
        { offset: 0, length: 3 },
        { offset: 3, length: 2 },
        { offset: 12, length: 10 },
        { offset: 50, length: 0 },
      ]),
      [
        { offset: 0, length: 5 },
        { offset: 10, length: 12 },
      ],
    );
  });

  test("no OS resources left", () => {
    const { sources, views, mappedBytes } = native.stats();
    assert.deepEqual({ sources, views, mappedBytes }, { sources: 0, views: 0, mappedBytes: 0 });
  });
});
