import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { after, describe, it } from "node:test";
import { DocumentPool, Service, type ServiceDocument } from "../../app/engine/service";
import { HexmapError } from "../../app/engine/errors";
import type { Event, Reply } from "../../app/protocol/messages";
import { FOUR_GIB, GiB, Rng, cleanupFixtures, makeFile, makeSparseFile } from "../fixtures";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}

function err(reply: Reply): string {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string } }).error.code;
}

/** Waits until `pred` holds for some event collected in `events`. */
async function waitForEvent(events: Event[], pred: (e: Event) => boolean, ms = 5000): Promise<Event> {
  const start = Date.now();
  for (;;) {
    const found = events.find(pred);
    if (found) return found;
    if (Date.now() - start > ms) throw new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Service: every request type", () => {
  it("open, list, info, read, close, open-dropped", async () => {
    const data = Buffer.from("0123456789abcdef".repeat(300));
    const file = makeFile(data);
    const s = new Service({ pollIntervalMs: 0 });
    try {
      const info = ok(await s.handle({ id: 1, type: "open", path: file }));
      assert.deepEqual(info, { docId: "d1", kind: "file", name: file, size: data.length, readOnly: true, generation: 0, dirty: false, editCount: 0, canUndo: false, canRedo: false, hasJournal: false, savedSize: data.length });

      const listed = ok(await s.handle({ id: 2, type: "list" }));
      assert.deepEqual(listed.documents, [info]);

      assert.deepEqual(ok(await s.handle({ id: 3, type: "info", docId: "d1" })), info);

      const r = await s.handle({ id: 4, type: "read", docId: "d1", offset: 10, length: 100 });
      assert.equal(r.id, 4);
      const read = ok(r);
      assert.equal(read.docId, "d1");
      assert.equal(read.offset, 10);
      assert.equal(read.generation, 0);
      assert.equal(read.size, data.length);
      assert.ok(read.bytes instanceof Uint8Array);
      assert.deepEqual(Buffer.from(read.bytes), data.subarray(10, 110));
      // The bytes own their ArrayBuffer: structured clone must not carry anything else.
      assert.equal(read.bytes.byteOffset, 0);
      assert.equal(read.bytes.buffer.byteLength, 100);

      // Clamped at the end; empty at the end; ERANGE past it.
      assert.equal(ok(await s.handle({ id: 5, type: "read", docId: "d1", offset: data.length - 3, length: 64 })).bytes.length, 3);
      assert.equal(ok(await s.handle({ id: 6, type: "read", docId: "d1", offset: data.length, length: 64 })).bytes.length, 0);
      assert.equal(err(await s.handle({ id: 7, type: "read", docId: "d1", offset: data.length + 1, length: 64 })), "ERANGE");

      const dropped = ok(await s.handle({ id: 8, type: "open-dropped", path: file }));
      assert.equal(dropped.docId, "d2");

      assert.deepEqual(ok(await s.handle({ id: 9, type: "close", docId: "d1" })), { docId: "d1" });
      assert.equal(err(await s.handle({ id: 10, type: "read", docId: "d1", offset: 0, length: 1 })), "EBADDOC");
      assert.equal(err(await s.handle({ id: 11, type: "close", docId: "d1" })), "EBADDOC");
      assert.deepEqual(ok(await s.handle({ id: 12, type: "list" })).documents.map((d: any) => d.docId), ["d2"]);
    } finally {
      s.dispose();
    }
  });

  it("reads across the 4 GiB boundary of a sparse file, same bytes as the file", async () => {
    const fx = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: FOUR_GIB - 100, length: 4096, seed: 7 }] });
    const s = new Service({ pollIntervalMs: 0 });
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      for (const offset of [0, FOUR_GIB - 200, FOUR_GIB - 1, FOUR_GIB, FOUR_GIB + 3000, fx.size - 10]) {
        const read = ok(await s.handle({ id: 2, type: "read", docId: "d1", offset, length: 512 }));
        assert.deepEqual(Buffer.from(read.bytes), fx.expected(offset, 512), `offset ${offset}`);
      }
    } finally {
      s.dispose();
    }
  });

  it("open errors come back typed, with the reply id", async () => {
    const dir = makeFile("x", "f.bin").replace(/f\.bin$/, "");
    const s = new Service({ pollIntervalMs: 0 });
    try {
      const r1 = await s.handle({ id: 41, type: "open", path: dir + "does-not-exist.bin" });
      assert.equal(r1.id, 41);
      assert.equal(err(r1), "ENOENT");
      assert.equal(err(await s.handle({ id: 42, type: "open", path: dir })), "EISDIR");
      assert.equal(err(await s.handle({ id: 43, type: "open", path: "a\0b" })), "EINVAL");
    } finally {
      s.dispose();
    }
  });
});

describe("Service: malformed requests", () => {
  const BAD_NUMBERS: unknown[] = [NaN, -1, -0.5, 1.5, 2 ** 53, 2 ** 64, Infinity, -Infinity, "1", "0x10", null, true, {}, [], [1], 10n];
  const BAD_STRINGS: unknown[] = [1, null, true, {}, [], "", ["d1"]];
  const BAD_DOCIDS: unknown[] = [...BAD_STRINGS, "1", "d", "dx", "D1", "d1 ", " d1", "d-1", "d1234567890", "../d1", "/etc/passwd"];
  const BAD_IDS: unknown[] = [-1, 1.5, NaN, 2 ** 53, "1", null, {}, [], Infinity];

  function cases(): unknown[] {
    const base: Record<string, Record<string, unknown>> = {
      open: { id: 1, type: "open", path: "/nonexistent" },
      "open-dropped": { id: 1, type: "open-dropped", path: "/nonexistent" },
      list: { id: 1, type: "list" },
      info: { id: 1, type: "info", docId: "d1" },
      read: { id: 1, type: "read", docId: "d1", offset: 0, length: 16 },
      close: { id: 1, type: "close", docId: "d1" },
    };
    const out: unknown[] = [];
    for (const [type, msg] of Object.entries(base)) {
      for (const bad of BAD_IDS) out.push({ ...msg, id: bad });
      const { id: _id, ...noId } = msg;
      out.push(noId);
      const { type: _t, ...noType } = msg;
      out.push(noType);
      for (const extra of ["extra", "__proto__", "constructor", "bytes", "pathname"]) {
        out.push(JSON.parse(JSON.stringify({ ...msg, [extra]: 1 }).replace('"extra"', `"${extra}"`)));
      }
      for (const key of Object.keys(msg)) {
        if (key === "id" || key === "type") continue;
        const { [key]: _drop, ...missing } = msg;
        out.push(missing);
        const bads = key === "docId" ? BAD_DOCIDS : key === "path" ? [...BAD_STRINGS, "x".repeat(40000)] : BAD_NUMBERS;
        for (const bad of bads) out.push({ ...msg, [key]: bad });
      }
      if (type === "read") {
        out.push({ ...msg, length: 0 });
        out.push({ ...msg, length: 16 * 1024 * 1024 + 1 });
        out.push({ ...msg, offset: Number.MAX_SAFE_INTEGER + 2 });
      }
      if (type === "open") for (const bad of BAD_STRINGS.filter((b) => typeof b !== "string")) out.push({ ...msg, readOnly: bad === true ? "yes" : bad });
    }
    // Seeded mutations: a value that is wrong for every field, put in a random field of a
    // random valid request, plus a field from another request type that does not belong.
    const UNIVERSALLY_BAD: unknown[] = [null, {}, [], true, false, NaN, -1, 1.5, "", Infinity, -Infinity, 2 ** 53, [0], { 0: 1 }];
    const foreignFields: Record<string, unknown> = { path: "/x", docId: "d1", offset: 0, length: 1, readOnly: true, pattern: "ab" };
    const rng = new Rng(2024);
    const types = Object.keys(base);
    for (let i = 0; i < 200; i++) {
      const msg = { ...base[rng.pick(types)]! };
      if (i % 2 === 0) {
        const key = rng.pick(Object.keys(msg));
        msg[key] = rng.pick(UNIVERSALLY_BAD);
      } else {
        const key = rng.pick(Object.keys(foreignFields).filter((k) => !(k in msg) && !(k === "readOnly" && String(msg.type).startsWith("open"))));
        msg[key] = foreignFields[key];
      }
      out.push(msg);
    }
    for (const t of ["", "OPEN", "save", "edit", "unknown", "__proto__", 1, null, ["open"]]) out.push({ id: 1, type: t });
    out.push(null, undefined, 0, 1, "open", "", [], [{ id: 1, type: "list" }], true, () => 1, Symbol("x"), new Date(), new Map());
    out.push(Object.create(null));
    return out;
  }

  it(`answers each of hundreds of malformed requests with EINVAL, never throwing`, async () => {
    const all = cases();
    assert.ok(all.length >= 300, `only ${all.length} cases`);
    const s = new Service({ pollIntervalMs: 0 });
    try {
      for (const msg of all) {
        let reply: Reply;
        try {
          reply = await s.handle(msg);
        } catch (e) {
          assert.fail(`handle threw for ${safeDescribe(msg)}: ${e}`);
        }
        assert.equal(reply.ok, false, `accepted ${safeDescribe(msg)}`);
        assert.equal(err(reply), "EINVAL", `for ${safeDescribe(msg)}: ${JSON.stringify(reply)}`);
        const rawId = (msg as { id?: unknown } | null)?.id;
        if (typeof rawId === "number" && Number.isSafeInteger(rawId) && rawId >= 0) assert.equal(reply.id, rawId);
        else assert.equal(reply.id, null);
      }
      assert.equal(s.pool.openCount, 0, "a malformed request opened something");
    } finally {
      s.dispose();
    }
  });

  it("well-formed requests for unknown document ids get EBADDOC", async () => {
    const s = new Service({ pollIntervalMs: 0 });
    try {
      for (const docId of ["d0", "d1", "d2", "d999999999"]) {
        assert.equal(err(await s.handle({ id: 1, type: "info", docId })), "EBADDOC");
        assert.equal(err(await s.handle({ id: 2, type: "read", docId, offset: 0, length: 1 })), "EBADDOC");
        assert.equal(err(await s.handle({ id: 3, type: "close", docId })), "EBADDOC");
      }
    } finally {
      s.dispose();
    }
  });

  it("random junk always settles (fast-check)", async () => {
    const fc = await import("fast-check");
    const s = new Service({ pollIntervalMs: 0 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.anything(),
            fc.record({ id: fc.anything(), type: fc.constantFrom("open", "list", "info", "read", "close", "open-dropped"), docId: fc.anything(), offset: fc.anything(), length: fc.anything() }, { requiredKeys: ["type"] }),
          ),
          async (msg) => {
            const reply = await s.handle(msg);
            assert.equal(typeof reply.ok, "boolean");
            if (!reply.ok) assert.equal(typeof reply.error.code, "string");
          },
        ),
        { numRuns: 300, seed: 3 },
      );
    } finally {
      s.dispose();
    }
  });
});

describe("Service: handler failures settle", () => {
  function fakeDoc(read: () => Promise<Uint8Array>): ServiceDocument {
    return { kind: "file", name: "fake", readOnly: true, size: 100, generation: 0, read, checkSize: () => ({ changed: false, size: 100 }), close() {} };
  }

  it("a throwing read answers its code, or EINTERNAL for a bug", async () => {
    const reads = [
      () => Promise.reject(new HexmapError("EIO", "disk on fire")),
      () => Promise.reject(new TypeError("oops")),
      () => {
        throw new Error("sync throw");
      },
      () => Promise.reject("a string"),
    ];
    let n = 0;
    const s = new Service({ pollIntervalMs: 0, watch: false, openDocument: () => fakeDoc(reads[n++]!) });
    try {
      const codes: string[] = [];
      for (let i = 0; i < reads.length; i++) {
        const info = ok(await s.handle({ id: i, type: "open", path: "x" }));
        codes.push(err(await s.handle({ id: 100 + i, type: "read", docId: info.docId, offset: 0, length: 1 })));
      }
      assert.deepEqual(codes, ["EIO", "EINTERNAL", "EINTERNAL", "EINTERNAL"]);
    } finally {
      s.dispose();
    }
  });

  it("an opener that throws a plain Error answers EINTERNAL", async () => {
    const s = new Service({
      pollIntervalMs: 0,
      openDocument: () => {
        throw new Error("boom");
      },
    });
    const r = await s.handle({ id: 5, type: "open", path: "x" });
    assert.equal(r.id, 5);
    assert.equal(err(r), "EINTERNAL");
    s.dispose();
  });

  it("after dispose every request still settles", async () => {
    const file = makeFile("abc");
    const s = new Service({ pollIntervalMs: 0 });
    ok(await s.handle({ id: 1, type: "open", path: file }));
    s.dispose();
    assert.equal(s.pool.openCount, 0);
    assert.equal(err(await s.handle({ id: 2, type: "read", docId: "d1", offset: 0, length: 1 })), "EBADDOC");
    assert.equal(err(await s.handle({ id: 3, type: "open", path: file })), "EBADDOC");
  });
});

describe("Service: document isolation between clients", () => {
  it("a client addresses only what it opened or was granted", async () => {
    const fileA = makeFile("secret of A");
    const fileShared = makeFile("shared bytes");
    const pool = new DocumentPool({ pollIntervalMs: 0 });
    const host = { deliver() {} };
    const sharedId = pool.open(fileShared, { readOnly: true }, host);
    const a = new Service({ pool });
    const b = new Service({ pool });
    try {
      a.grant(sharedId);
      b.grant(sharedId);
      const infoA = ok(await a.handle({ id: 1, type: "open", path: fileA }));
      assert.notEqual(infoA.docId, sharedId);

      // B cannot see or touch A's document, and cannot tell it exists.
      const bList = ok(await b.handle({ id: 2, type: "list" }));
      assert.deepEqual(bList.documents.map((d: any) => d.docId), [sharedId]);
      const denied = await b.handle({ id: 3, type: "read", docId: infoA.docId, offset: 0, length: 6 });
      const never = await b.handle({ id: 3, type: "read", docId: "d77", offset: 0, length: 6 });
      assert.equal(err(denied), "EBADDOC");
      assert.equal((denied as any).error.message.replace(infoA.docId, "X"), (never as any).error.message.replace("d77", "X"));
      assert.equal(err(await b.handle({ id: 4, type: "info", docId: infoA.docId })), "EBADDOC");
      assert.equal(err(await b.handle({ id: 5, type: "close", docId: infoA.docId })), "EBADDOC");
      assert.deepEqual(Buffer.from(ok(await a.handle({ id: 6, type: "read", docId: infoA.docId, offset: 0, length: 6 })).bytes).toString(), "secret");

      // Both read the shared one; one closing it does not close it for the other.
      assert.equal(Buffer.from(ok(await b.handle({ id: 7, type: "read", docId: sharedId, offset: 0, length: 6 })).bytes).toString(), "shared");
      ok(await a.handle({ id: 8, type: "close", docId: sharedId }));
      assert.equal(err(await a.handle({ id: 9, type: "read", docId: sharedId, offset: 0, length: 6 })), "EBADDOC");
      assert.equal(Buffer.from(ok(await b.handle({ id: 10, type: "read", docId: sharedId, offset: 0, length: 6 })).bytes).toString(), "shared");

      // A leaving closes A's own document, not the shared one (the host still holds it).
      a.dispose();
      assert.equal(pool.has(infoA.docId), false);
      b.dispose();
      assert.equal(pool.has(sharedId), true);
      pool.release(sharedId, host);
      assert.equal(pool.openCount, 0);
    } finally {
      a.dispose();
      b.dispose();
      pool.dispose();
    }
  });

  it("events reach only the holders of the document", async () => {
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const a = new Service({ pool });
    const b = new Service({ pool });
    const evA: Event[] = [];
    const evB: Event[] = [];
    a.onEvent((e) => evA.push(e));
    const offB = b.onEvent((e) => evB.push(e));
    try {
      const file = makeFile("12345");
      const info = a.open(file);
      fs.appendFileSync(file, "678");
      pool.check(info.docId);
      assert.deepEqual(evA, [{ event: "size-changed", docId: info.docId, size: 8, generation: 1 }]);
      assert.deepEqual(evB, []);
      b.grant(info.docId);
      pool.forceClose(info.docId, "test");
      assert.deepEqual(evB, [{ event: "document-closed", docId: info.docId, reason: "test" }]);
      offB();
      assert.equal(err(await b.handle({ id: 1, type: "read", docId: info.docId, offset: 0, length: 1 })), "EBADDOC");
    } finally {
      a.dispose();
      b.dispose();
      pool.dispose();
    }
  });
});

describe("Service: watching the file on disk", () => {
  it("emits size-changed with a new generation when the file grows and shrinks", async () => {
    const file = makeFile(Buffer.alloc(1000, 0x41));
    const s = new Service({ pollIntervalMs: 25 });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      const info = ok(await s.handle({ id: 1, type: "open", path: file }));
      fs.appendFileSync(file, Buffer.alloc(500, 0x42));
      const grown = await waitForEvent(events, (e) => e.event === "size-changed" && e.size === 1500);
      assert.deepEqual(grown, { event: "size-changed", docId: info.docId, size: 1500, generation: 1 });
      const read = ok(await s.handle({ id: 2, type: "read", docId: info.docId, offset: 1490, length: 100 }));
      assert.deepEqual(Buffer.from(read.bytes), Buffer.alloc(10, 0x42));
      assert.equal(read.generation, 1);

      fs.truncateSync(file, 200);
      const shrunk = await waitForEvent(events, (e) => e.event === "size-changed" && e.size === 200);
      assert.equal((shrunk as { generation: number }).generation, 2);
      assert.equal(ok(await s.handle({ id: 3, type: "info", docId: info.docId })).size, 200);
      assert.equal(err(await s.handle({ id: 4, type: "read", docId: info.docId, offset: 1000, length: 10 })), "ERANGE");
    } finally {
      s.dispose();
    }
  });

  it("notices through fs.watch without waiting for the poll", async () => {
    const file = makeFile("abc");
    const s = new Service({ pollIntervalMs: 60_000 });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      s.open(file);
      fs.appendFileSync(file, "defg");
      await waitForEvent(events, (e) => e.event === "size-changed" && e.size === 7, 3000);
    } finally {
      s.dispose();
    }
  });

  it("emits file-changed when the contents change at the same size", async () => {
    const file = makeFile("aaaa");
    const s = new Service({ pollIntervalMs: 25, watch: false });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      const info = s.open(file);
      await new Promise((r) => setTimeout(r, 60));
      fs.writeFileSync(file, "bbbb");
      const later = new Date(Date.now() + 10_000);
      fs.utimesSync(file, later, later);
      const ev = await waitForEvent(events, (e) => e.event === "file-changed");
      assert.equal(ev.docId, info.docId);
    } finally {
      s.dispose();
    }
  });

  it("dispose closes every document and stops watching", async () => {
    const s = new Service({ pollIntervalMs: 10 });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    const file = makeFile("abc");
    s.open(file);
    s.open(file);
    assert.equal(s.pool.openCount, 2);
    s.dispose();
    assert.equal(s.pool.openCount, 0);
    fs.appendFileSync(file, "more");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.filter((e) => e.event === "size-changed"), []);
  });
});

function safeDescribe(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : typeof x === "number" && !Number.isFinite(x) ? String(x) : x));
    return s === undefined ? String(typeof v) : s.length > 120 ? s.slice(0, 120) + "…" : s;
  } catch {
    return typeof v;
  }
}
