// Shared memory through the protocol: open-shm / create-shm (EEXIST, ENOENT, names), watch and
// watch-pause validation, `bytes-changed` delivered to every holder when ANOTHER PROCESS writes
// (test/shm/writer-child.js, spawned with process.execPath, no shell), and edits that apply at once
// and are undoable (the child sees them), with `save` refused as ENOTSUP.

import * as assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DocumentPool, Service } from "../../app/engine/service";
import { coarsen } from "../../app/engine/shm-service";
import { MAX_WATCH_BYTES, MAX_WATCH_RANGES, type Event, type Reply } from "../../app/protocol/messages";
import { cleanupFixtures, makeFile } from "../fixtures";
import { SHM_TEXT as TEXT, ShmRig, isWin, waitFor } from "../shm-helpers";

const rig = new ShmRig("hexmap-proto");
const uniqueName = (tag: string): string => rig.uniqueName(tag);

after(() => {
  cleanupFixtures();
  rig.cleanup();
});

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}

function fail(reply: Reply, code: string, what = ""): string {
  assert.equal(reply.ok, false, `${what}: expected ${code}, got a result`);
  const e = (reply as { error: { code: string; message: string } }).error;
  assert.equal(e.code, code, `${what}: ${e.message}`);
  return e.message;
}

/** A client: a Service over a shared pool, with the events it received. */
function client(pool: DocumentPool): { s: Service; events: Event[]; next: () => number } {
  const s = new Service({ pool });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  let id = 1;
  return { s, events, next: () => id++ };
}

describe("protocol: open-shm / create-shm", () => {
  test("create, open at the same size, EEXIST at another, ENOENT, names, malformed requests", async () => {
    const pool = new DocumentPool({ pollIntervalMs: 0 });
    const a = client(pool);
    const b = client(pool);
    const name = uniqueName("create");
    try {
      const made = ok(await a.s.handle({ id: 1, type: "create-shm", name, size: 4096 }));
      assert.equal(made.kind, "shm");
      assert.equal(made.name, name);
      assert.equal(made.size, 4096);
      assert.equal(made.readOnly, false);
      assert.equal(made.created, true);
      assert.equal(made.dirty, false);
      assert.equal(made.canUndo, false);

      // Another client: same size opens it (created false) and reads the first one's write.
      ok(await a.s.handle({ id: 2, type: "edit", docId: made.docId, offset: 0, bytes: new TextEncoder().encode(TEXT) }));
      const again = ok(await b.s.handle({ id: 1, type: "create-shm", name, size: 4096 }));
      assert.equal(again.created, false);
      assert.notEqual(again.docId, made.docId);
      const r = ok(await b.s.handle({ id: 2, type: "read", docId: again.docId, offset: 0, length: TEXT.length }));
      assert.equal(Buffer.from(r.bytes).toString(), TEXT);

      const eexist = fail(await b.s.handle({ id: 3, type: "create-shm", name, size: 8192 }), "EEXIST", "another size");
      assert.match(eexist, /exists/);

      // open-shm: read-only unless asked; writable when asked.
      const ro = ok(await b.s.handle({ id: 4, type: "open-shm", name }));
      assert.equal(ro.kind, "shm");
      assert.equal(ro.readOnly, true);
      assert.ok(ro.size >= 4096);
      fail(await b.s.handle({ id: 5, type: "edit", docId: ro.docId, offset: 0, bytes: new Uint8Array([1]) }), "EACCES", "read-only edit");
      const rw = ok(await b.s.handle({ id: 6, type: "open-shm", name, readOnly: false }));
      assert.equal(rw.readOnly, false);

      const missing = uniqueName("missing");
      assert.match(fail(await a.s.handle({ id: 7, type: "open-shm", name: missing }), "ENOENT", "missing"), /No shared memory section named/);
      fail(await a.s.handle({ id: 8, type: "open-shm", name: isWin ? "Local\\a\\b" : "a/b" }), "EINVAL", "bad name");
      if (!isWin) fail(await a.s.handle({ id: 9, type: "open-shm", name: "Global\\x" }), "EINVAL", "Windows prefix on POSIX");

      // Malformed: validated at the boundary, nothing opened.
      const before = pool.openCount;
      fail(await a.s.handle({ id: 10, type: "create-shm", name, size: 0 }), "EINVAL", "size 0");
      fail(await a.s.handle({ id: 11, type: "create-shm", name, size: -1 }), "EINVAL", "negative size");
      fail(await a.s.handle({ id: 12, type: "create-shm", name, size: 2 ** 40 }), "EINVAL", "size over the cap");
      fail(await a.s.handle({ id: 13, type: "create-shm", name, size: 1.5 }), "EINVAL", "fractional size");
      fail(await a.s.handle({ id: 14, type: "create-shm", name }), "EINVAL", "no size");
      fail(await a.s.handle({ id: 15, type: "open-shm", name: "" }), "EINVAL", "empty name");
      fail(await a.s.handle({ id: 16, type: "open-shm", name: "x".repeat(300) }), "EINVAL", "long name");
      fail(await a.s.handle({ id: 17, type: "open-shm", name, extra: 1 }), "EINVAL", "unknown field");
      fail(await a.s.handle({ id: 18, type: "open-shm", name: 5 }), "EINVAL", "name not a string");
      assert.equal(pool.openCount, before);

      // list shows both kinds; the other client cannot reach a's document.
      const listed = ok(await a.s.handle({ id: 19, type: "list" }));
      assert.deepEqual(
        listed.documents.map((d: { docId: string }) => d.docId),
        [made.docId],
      );
      fail(await b.s.handle({ id: 20, type: "read", docId: made.docId, offset: 0, length: 1 }), "EBADDOC", "not yours");
      fail(await b.s.handle({ id: 21, type: "watch", docId: made.docId, ranges: [{ offset: 0, length: 1 }] }), "EBADDOC", "watch not yours");
      fail(await b.s.handle({ id: 22, type: "edit", docId: made.docId, offset: 0, bytes: new Uint8Array([1]) }), "EBADDOC", "edit not yours");
    } finally {
      a.s.dispose();
      b.s.dispose();
      pool.dispose();
    }
  });
});

describe("protocol: watch", () => {
  test("validation: counts, sizes, intervals, offsets, kinds", async () => {
    const pool = new DocumentPool({ pollIntervalMs: 0 });
    const a = client(pool);
    const name = uniqueName("watchval");
    const file = makeFile(Buffer.from("plain file"));
    try {
      const d = ok(await a.s.handle({ id: 1, type: "create-shm", name, size: 1000 }));
      const w = ok(await a.s.handle({ id: 2, type: "watch", docId: d.docId, ranges: [{ offset: 900, length: 500 }, { offset: 0, length: 32 }, { offset: 16, length: 32 }] }));
      // Sorted, merged, clamped to the section; default interval.
      assert.deepEqual(w, { docId: d.docId, ranges: [{ offset: 0, length: 48 }, { offset: 900, length: 100 }], intervalMs: 100, paused: false });
      assert.deepEqual(ok(await a.s.handle({ id: 3, type: "watch", docId: d.docId, ranges: [], intervalMs: 20 })).ranges, []);

      const tooMany = Array.from({ length: MAX_WATCH_RANGES + 1 }, (_, i) => ({ offset: i * 2, length: 1 }));
      fail(await a.s.handle({ id: 4, type: "watch", docId: d.docId, ranges: tooMany }), "EINVAL", "too many ranges");
      fail(await a.s.handle({ id: 5, type: "watch", docId: d.docId, ranges: [{ offset: 0, length: MAX_WATCH_BYTES + 1 }] }), "EINVAL", "range too long");
      fail(
        await a.s.handle({ id: 6, type: "watch", docId: d.docId, ranges: [{ offset: 0, length: MAX_WATCH_BYTES }, { offset: 0, length: 1 }] }),
        "EINVAL",
        "too many bytes together",
      );
      fail(await a.s.handle({ id: 7, type: "watch", docId: d.docId, ranges: [{ offset: 0, length: 0 }] }), "EINVAL", "empty range");
      fail(await a.s.handle({ id: 8, type: "watch", docId: d.docId, ranges: [{ offset: -1, length: 1 }] }), "EINVAL", "negative offset");
      fail(await a.s.handle({ id: 9, type: "watch", docId: d.docId, ranges: [], intervalMs: 5 }), "EINVAL", "interval too short");
      fail(await a.s.handle({ id: 10, type: "watch", docId: d.docId, ranges: [], intervalMs: 100.5 }), "EINVAL", "fractional interval");
      fail(await a.s.handle({ id: 11, type: "watch", docId: d.docId, ranges: [{ offset: 1001, length: 1 }] }), "ERANGE", "past the end");
      fail(await a.s.handle({ id: 12, type: "watch", docId: "d999", ranges: [] }), "EBADDOC", "unknown doc");
      fail(await a.s.handle({ id: 13, type: "watch-pause", docId: d.docId }), "EINVAL", "no paused flag");
      const f = ok(await a.s.handle({ id: 14, type: "open", path: file }));
      assert.match(fail(await a.s.handle({ id: 15, type: "watch", docId: f.docId, ranges: [{ offset: 0, length: 4 }] }), "ENOTSUP", "a file"), /not shared memory/);
      fail(await a.s.handle({ id: 16, type: "watch-pause", docId: f.docId, paused: true }), "ENOTSUP", "pause a file");
      assert.deepEqual(ok(await a.s.handle({ id: 17, type: "watch-pause", docId: d.docId, paused: true })), { docId: d.docId, paused: true });
    } finally {
      a.s.dispose();
      pool.dispose();
    }
  });

  test("coarsen: at most N ranges, closing the smallest gaps first", () => {
    const rs = [0, 10, 12, 40, 41, 100].map((o) => ({ offset: o, length: 1 }));
    assert.deepEqual(coarsen(rs, 6), rs);
    assert.deepEqual(coarsen(rs, 4), [
      { offset: 0, length: 1 },
      { offset: 10, length: 3 },
      { offset: 40, length: 2 },
      { offset: 100, length: 1 },
    ]);
    assert.equal(coarsen(rs, 1).length, 1);
    assert.deepEqual(coarsen(rs, 1)[0], { offset: 0, length: 101 });
  });
});

describe("protocol: live shared memory across processes", () => {
  test("another process writes: bytes-changed to every holder, new generation, new bytes; pause and resume", async () => {
    const name = uniqueName("live");
    const { writer } = await rig.startWriter(name, 4096);
    const pool = new DocumentPool({ pollIntervalMs: 0 });
    const a = client(pool);
    const b = client(pool);
    try {
      const d = ok(await a.s.handle({ id: 1, type: "open-shm", name }));
      b.s.grant(d.docId); // a second window showing the same document
      const first = ok(await a.s.handle({ id: 2, type: "read", docId: d.docId, offset: 0, length: 32 }));
      assert.equal(Buffer.from(first.bytes).subarray(0, TEXT.length).toString(), TEXT);

      ok(await a.s.handle({ id: 3, type: "watch", docId: d.docId, ranges: [{ offset: 0, length: 256 }], intervalMs: 20 }));
      await new Promise((r) => setTimeout(r, 80)); // the watcher's first look takes the baseline
      await writer.write(8, "COMMON");
      const seen = (c: ReturnType<typeof client>) => c.events.find((e) => e.event === "bytes-changed") as Extract<Event, { event: "bytes-changed" }> | undefined;
      const ea = await waitFor(() => seen(a), 3000, "bytes-changed at client a");
      const eb = await waitFor(() => seen(b), 3000, "bytes-changed at client b (holder, not watching)");
      assert.deepEqual(ea.ranges, [{ offset: 8, length: 6 }]);
      assert.equal(ea.docId, d.docId);
      assert.ok(ea.generation > first.generation);
      assert.deepEqual(eb, ea);
      const now = ok(await a.s.handle({ id: 4, type: "read", docId: d.docId, offset: 0, length: TEXT.length }));
      assert.equal(now.generation, ea.generation);
      assert.equal(Buffer.from(now.bytes).toString(), "This is COMMON data!");
      assert.equal(ok(await a.s.handle({ id: 5, type: "info", docId: d.docId })).generation, ea.generation);

      // Outside the watched bytes: nothing is reported.
      a.events.length = 0;
      await writer.write(1000, "x");
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(seen(a), undefined, "a write outside the watched range is not reported");

      // Paused (page hidden): no event; on resume the change made meanwhile is reported.
      ok(await a.s.handle({ id: 6, type: "watch-pause", docId: d.docId, paused: true }));
      await new Promise((r) => setTimeout(r, 50));
      await writer.write(0, "t");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen(a), undefined, "no event while paused");
      ok(await a.s.handle({ id: 7, type: "watch-pause", docId: d.docId, paused: false }));
      const late = await waitFor(() => seen(a), 3000, "the change made while paused");
      assert.deepEqual(late.ranges, [{ offset: 0, length: 1 }]);

      // Closing stops the watcher for good; the other holder keeps the document.
      ok(await a.s.handle({ id: 8, type: "close", docId: d.docId }));
      assert.equal(pool.has(d.docId), true);
      b.s.dispose();
      assert.equal(pool.has(d.docId), false);
    } finally {
      a.s.dispose();
      b.s.dispose();
      pool.dispose();
      await writer.stop();
    }
  });

  test("edits apply at once (the other process sees them), undo/redo, typing groups, save is ENOTSUP", async () => {
    const name = uniqueName("edit");
    const { writer } = await rig.startWriter(name, 4096);
    const pool = new DocumentPool({ pollIntervalMs: 0 });
    const a = client(pool);
    const b = client(pool);
    try {
      const d = ok(await a.s.handle({ id: 1, type: "open-shm", name, readOnly: false }));
      b.s.grant(d.docId);
      const g0 = d.generation;
      const e1 = ok(await a.s.handle({ id: 2, type: "edit", docId: d.docId, offset: 0, bytes: new Uint8Array([0x74]) })); // 't'
      assert.equal(e1.start, 0);
      assert.equal(e1.end, 1);
      assert.equal(e1.dirty, false, "nothing pending: already in the section");
      assert.equal(e1.canUndo, true);
      assert.ok(e1.generation > g0);
      assert.equal((await writer.read(0, 4)).toString(), "this", "the child sees the edit at once");
      const changed = await waitFor(() => b.events.find((e) => e.event === "document-changed"), 2000, "document-changed at b");
      assert.equal((changed as { generation: number }).generation, e1.generation);

      // Typing: two writes in one group are one undo step.
      ok(await a.s.handle({ id: 3, type: "edit", docId: d.docId, offset: 8, bytes: new Uint8Array([0x43]), group: "typing-1" }));
      ok(await a.s.handle({ id: 4, type: "edit", docId: d.docId, offset: 9, bytes: new Uint8Array([0x4f]), group: "typing-1" }));
      assert.equal((await writer.read(0, TEXT.length)).toString(), "this is COmmon data!");
      const u1 = ok(await a.s.handle({ id: 5, type: "undo", docId: d.docId }));
      assert.deepEqual(u1.changed, { start: 8, end: 10 });
      assert.equal(Buffer.from(u1.bytes).toString(), "co");
      assert.equal((await writer.read(0, TEXT.length)).toString(), "this is common data!");
      const u2 = ok(await a.s.handle({ id: 6, type: "undo", docId: d.docId }));
      assert.deepEqual(u2.changed, { start: 0, end: 1 });
      assert.equal(u2.canUndo, false);
      assert.equal(u2.canRedo, true);
      assert.equal((await writer.read(0, TEXT.length)).toString(), TEXT, "undo restored the child's bytes");
      assert.equal(ok(await a.s.handle({ id: 7, type: "undo", docId: d.docId })).changed, null, "nothing more to undo");
      const r1 = ok(await a.s.handle({ id: 8, type: "redo", docId: d.docId }));
      assert.deepEqual(r1.changed, { start: 0, end: 1 });
      assert.equal((await writer.read(0, 4)).toString(), "this");

      // fill; range checks.
      ok(await a.s.handle({ id: 9, type: "fill", docId: d.docId, offset: 100, length: 4, byte: 0x2a }));
      assert.equal((await writer.read(100, 4)).toString(), "****");
      fail(await a.s.handle({ id: 10, type: "edit", docId: d.docId, offset: 4095, bytes: new Uint8Array([1, 2]) }), "ERANGE", "past the end");
      // A section cannot change size: fills past the end (any length, checked before allocating), inserts and deletes are refused.
      fail(await a.s.handle({ id: 10, type: "fill", docId: d.docId, offset: 65537, length: Number.MAX_SAFE_INTEGER, byte: 1 }), "ERANGE", "huge fill");
      fail(await a.s.handle({ id: 10, type: "fill", docId: d.docId, offset: 4000, length: 97, byte: 1 }), "ERANGE", "fill past the end");
      assert.match(fail(await a.s.handle({ id: 10, type: "fill", docId: d.docId, offset: 0, length: 4, byte: 1, insert: true }), "ENOTSUP", "insert fill"), /fixed size/);
      assert.match(fail(await a.s.handle({ id: 10, type: "edit", docId: d.docId, offset: 0, deleteLength: 0, bytes: new Uint8Array([1]) }), "ENOTSUP", "insert"), /fixed size/);
      assert.match(fail(await a.s.handle({ id: 10, type: "edit", docId: d.docId, offset: 0, deleteLength: 1, bytes: new Uint8Array(0) }), "ENOTSUP", "delete"), /fixed size/);
      assert.equal((await writer.read(100, 4)).toString(), "****", "nothing written by the refused requests");

      // No file to save, revert or reload.
      assert.match(fail(await a.s.handle({ id: 11, type: "save", docId: d.docId }), "ENOTSUP", "save"), /apply immediately/);
      fail(await a.s.handle({ id: 12, type: "revert", docId: d.docId }), "ENOTSUP", "revert");

      // Our own edits are not reported back as outside changes while watching.
      ok(await a.s.handle({ id: 13, type: "watch", docId: d.docId, ranges: [{ offset: 0, length: 64 }], intervalMs: 20 }));
      await new Promise((r) => setTimeout(r, 80));
      a.events.length = 0;
      ok(await a.s.handle({ id: 14, type: "edit", docId: d.docId, offset: 2, bytes: new Uint8Array([0x49]) }));
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(
        a.events.some((e) => e.event === "bytes-changed"),
        false,
        "an edit through Hexmap is not an outside change",
      );
    } finally {
      a.s.dispose();
      b.s.dispose();
      pool.dispose();
      await writer.stop();
    }
  });
});
