// Service tests for `search` (app/protocol/search.ts): forward/backward/all against a plain
// reference on a fixture with planted matches (overlapping ones, text in every encoding, and a
// sparse file past 4 GiB); events in order (hits before job-done, job-progress throttled); cancel
// within 100 ms; invalid patterns are the reply's EINVAL with the parser's sentence; wrong and
// foreign docIds; jobs belong to their client and end with their document or client.

import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { DocumentPool, Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import type { SearchDone } from "../../app/protocol/search";
import { FOUR_GIB, GiB, MiB, Rng, cleanupFixtures, makeFile, makeSparseFile } from "../fixtures";

after(cleanupFixtures);

type Done = Extract<Event, { event: "job-done" }>;

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}
function fail(reply: Reply): { code: string; message: string } {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string; message: string } }).error;
}

function service(pool?: DocumentPool): { s: Service; events: Event[] } {
  const s = new Service(pool ? { pool } : { pollIntervalMs: 0, watch: false });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  return { s, events };
}

/** Waits for the job-done of `jobId`; returns it with the job's hits and its events in order. */
function waitDone(s: Service, jobId: string, timeoutMs = 20_000): Promise<{ done: Done; result: SearchDone; hits: number[]; order: string[] }> {
  return new Promise((resolve, reject) => {
    const hits: number[] = [];
    const order: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no job-done for ${jobId} in ${timeoutMs} ms`)), timeoutMs);
    const off = s.onEvent((e) => {
      if (!("jobId" in e) || e.jobId !== jobId) return;
      order.push(e.event);
      if (e.event === "search-hit") hits.push(...e.offsets);
      if (e.event === "job-done") {
        clearTimeout(timer);
        off();
        resolve({ done: e, result: e.result as SearchDone, hits, order });
      }
    });
  });
}

async function search(s: Service, id: number, params: Record<string, unknown>) {
  const reply = await s.handle({ id, type: "search", docId: "d1", ...params });
  const { jobId } = ok<{ jobId: string }>(reply);
  assert.match(jobId, /^j\d+$/);
  return waitDone(s, jobId);
}

/** Every offset where `needle` occurs in `hay` (overlapping), the plain way. */
function reference(hay: Buffer, needle: Buffer, ignoreCase = false): number[] {
  const fold = (b: number) => (ignoreCase && ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) ? b | 0x20 : b);
  const out: number[] = [];
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (fold(hay[i + j]!) !== fold(needle[j]!)) continue outer;
    out.push(i);
  }
  return out;
}

// 3 MiB of random bytes with planted matches: "ABAB" repeated (overlaps), text in each encoding.
const rng = new Rng(5);
const data = Buffer.alloc(3 * MiB);
for (let i = 0; i < data.length; i++) data[i] = rng.uint32() & 0xff;
const needle = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x42]);
const planted = [0, 17, 65536 - 2, 131072 - 4, 1 * MiB - 3, 2 * MiB + 5, data.length - needle.length];
for (const at of planted) needle.copy(data, at);
Buffer.from("ABABABAB", "latin1").copy(data, 300_000);
Buffer.from("Hexmap hexMAP", "latin1").copy(data, 400_000);
Buffer.from("Hexmap", "utf16le").copy(data, 500_000);
Buffer.from("Hexmap", "utf16le").swap16().copy(data, 600_000);

describe("search: results equal the reference", () => {
  const file = makeFile(data, "planted.bin");

  it("all, forward, backward for a hex pattern with planted matches at page and window edges", async () => {
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const expected = reference(data, needle);
      assert.ok(expected.length >= planted.length);

      const all = await search(s, 2, { pattern: { kind: "hex", hex: "DE AD BE EF 42" }, direction: "all" });
      assert.deepEqual(all.hits, expected);
      assert.equal(all.result.total, expected.length);
      assert.equal(all.result.kept, expected.length);
      assert.equal(all.result.canceled, false);
      assert.equal(all.result.patternLength, 5);
      assert.equal(all.result.pendingEdits, false);
      assert.equal(all.done.op, "search");
      assert.equal(all.done.docId, "d1");
      // Hits come before job-done; job-done is the last event.
      assert.equal(all.order[all.order.length - 1], "job-done");
      assert.ok(all.order.indexOf("search-hit") >= 0 && all.order.indexOf("search-hit") < all.order.indexOf("job-done"));

      // Find next from each planted match + 1 gives the next one; find previous the one before.
      for (let i = 0; i < expected.length; i++) {
        const next = await search(s, 10 + i, { pattern: { kind: "hex", hex: "deadbeef42" }, direction: "forward", from: expected[i]! + 1 });
        assert.deepEqual(next.result.hits, i + 1 < expected.length ? [expected[i + 1]] : [], `next after ${expected[i]}`);
        const prev = await search(s, 100 + i, { pattern: { kind: "hex", hex: "deadbeef42" }, direction: "backward", from: expected[i] });
        assert.deepEqual(prev.result.hits, i > 0 ? [expected[i - 1]] : [], `previous before ${expected[i]}`);
        assert.deepEqual(prev.hits, [], "forward/backward send no search-hit events");
      }
      // Wildcards, from/to ranges (what the UI's wraparound uses).
      const wild = await search(s, 200, { pattern: { kind: "hex", hex: "DE ?? BE E? 42" }, direction: "all" });
      assert.deepEqual(wild.hits, expected);
      const ranged = await search(s, 201, { pattern: { kind: "hex", hex: "DEADBEEF42" }, direction: "all", from: 18, to: 1 * MiB });
      assert.deepEqual(ranged.hits, expected.filter((h) => h >= 18 && h + 5 <= 1 * MiB), "matches lie inside [from, to)");
      const wrap = await search(s, 202, { pattern: { kind: "hex", hex: "DEADBEEF42" }, direction: "forward", from: 0, to: 17 });
      assert.deepEqual(wrap.result.hits, [0]);
    } finally {
      s.dispose();
    }
  });

  it("text in utf8 / utf16le / utf16be / ascii, case-insensitive, overlapping matches, maxHits with an exact total", async () => {
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const t = (text: string, encoding: string, ignoreCase?: boolean) => ({ kind: "text", text, encoding, ...(ignoreCase === undefined ? {} : { ignoreCase }) });
      const abab = await search(s, 2, { pattern: t("ABAB", "ascii"), direction: "all" });
      assert.deepEqual(abab.hits, reference(data, Buffer.from("ABAB")));
      assert.ok(abab.hits.includes(300_000) && abab.hits.includes(300_002) && abab.hits.includes(300_004));

      const cased = await search(s, 3, { pattern: t("hexmap", "utf8", true), direction: "all" });
      assert.deepEqual(cased.hits, reference(data, Buffer.from("hexmap"), true));
      assert.ok(cased.hits.includes(400_000) && cased.hits.includes(400_007));
      const exact = await search(s, 4, { pattern: t("Hexmap", "utf8"), direction: "all" });
      assert.deepEqual(exact.hits, reference(data, Buffer.from("Hexmap")));
      const le = await search(s, 5, { pattern: t("Hexmap", "utf16le"), direction: "all" });
      assert.deepEqual(le.hits, reference(data, Buffer.from("Hexmap", "utf16le")));
      assert.ok(le.hits.includes(500_000));
      const be = await search(s, 6, { pattern: t("HEXMAP", "utf16be", true), direction: "all" });
      assert.ok(be.hits.includes(600_000));
      assert.match(be.result.description, /utf16be/);

      // maxHits keeps the first N; total still counts every match.
      const expected = reference(data, Buffer.from([0xde]));
      const capped = await search(s, 7, { pattern: { kind: "hex", hex: "DE" }, direction: "all", maxHits: 100 });
      assert.deepEqual(capped.hits, expected.slice(0, 100));
      assert.equal(capped.result.kept, 100);
      assert.equal(capped.result.total, expected.length);
      assert.ok(capped.order.filter((e) => e === "search-hit").length >= 1);
    } finally {
      s.dispose();
    }
  });

  it("past 4 GiB in a sparse file: forward, backward and all find the planted block", async () => {
    const at = FOUR_GIB + 12345;
    const fx = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: at, length: 4096, seed: 77 }] });
    const pattern = fx.expected(at + 100, 12);
    const hex = pattern.toString("hex");
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const fwd = await search(s, 2, { pattern: { kind: "hex", hex }, direction: "forward", from: 4 * GiB });
      assert.deepEqual(fwd.result.hits, [at + 100]);
      const back = await search(s, 3, { pattern: { kind: "hex", hex }, direction: "backward" });
      assert.deepEqual(back.result.hits, [at + 100]);
      const all = await search(s, 4, { pattern: { kind: "hex", hex }, direction: "all", from: FOUR_GIB });
      assert.deepEqual(all.hits, [at + 100]);
      assert.equal(all.result.total, 1);
    } finally {
      s.dispose();
    }
  });
});

describe("search: errors", () => {
  const file = makeFile(data, "errors.bin");

  it("an invalid pattern is the reply's EINVAL with the parser's sentence; malformed requests, wrong docIds, ranges", async () => {
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const bad = fail(await s.handle({ id: 2, type: "search", docId: "d1", pattern: { kind: "hex", hex: "DE AD G1" }, direction: "all" }));
      assert.equal(bad.code, "EINVAL");
      assert.match(bad.message, /"G" at position 7/);
      const odd = fail(await s.handle({ id: 3, type: "search", docId: "d1", pattern: { kind: "hex", hex: "DEA" }, direction: "forward" }));
      assert.match(odd.message, /odd number of digits/);
      assert.equal(fail(await s.handle({ id: 4, type: "search", docId: "d1", pattern: { kind: "hex", hex: "?? ??" }, direction: "all" })).code, "EINVAL");
      const empty = fail(await s.handle({ id: 5, type: "search", docId: "d1", pattern: { kind: "text", text: "", encoding: "utf8" }, direction: "all" }));
      assert.match(empty.message, /empty/);
      const ascii = fail(await s.handle({ id: 6, type: "search", docId: "d1", pattern: { kind: "text", text: "é", encoding: "ascii" }, direction: "all" }));
      assert.match(ascii.message, /not ASCII/);
      // Malformed requests.
      for (const [i, r] of [
        { pattern: { kind: "text", text: "x", encoding: "latin9" }, direction: "all" },
        { pattern: { kind: "hex", hex: "00" }, direction: "sideways" },
        { pattern: { kind: "hex", hex: "00" } },
        { pattern: { kind: "hex", hex: "00" }, direction: "all", from: -1 },
        { pattern: { kind: "hex", hex: "00" }, direction: "all", maxHits: 1e9 },
        { pattern: { kind: "hex", hex: "00", extra: 1 }, direction: "all" },
      ].entries()) {
        assert.equal(fail(await s.handle({ id: 10 + i, type: "search", docId: "d1", ...r })).code, "EINVAL", JSON.stringify(r));
      }
      assert.equal(fail(await s.handle({ id: 20, type: "search", docId: "d9", pattern: { kind: "hex", hex: "00" }, direction: "all" })).code, "EBADDOC");
      assert.equal(fail(await s.handle({ id: 21, type: "search", docId: "zz", pattern: { kind: "hex", hex: "00" }, direction: "all" })).code, "EINVAL");
      const past = fail(await s.handle({ id: 22, type: "search", docId: "d1", pattern: { kind: "hex", hex: "00" }, direction: "all", from: data.length + 1 }));
      assert.equal(past.code, "ERANGE");
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(events.filter((e) => e.event === "job-done" || e.event === "search-hit").length, 0, "a refused search starts no job");
    } finally {
      s.dispose();
    }
  });
});

describe("search: jobs", () => {
  const size = 64 * GiB;
  const fx = makeSparseFile({ size, blocks: [{ offset: 40 * GiB, length: 4096, seed: 3 }] });
  // Scans skip holes when a pattern cannot match zeros; one that can must read all 64 GiB of holes
  // to count its matches exactly ("all"), which is long enough to watch progress and cancel.
  const slow = { kind: "hex", hex: "00 00 00 00 00 00 00 00" };

  it("cancel takes effect within 100 ms; the job ends with canceled: true after throttled progress", async () => {
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const { jobId } = ok(await s.handle({ id: 2, type: "search", docId: "d1", pattern: slow, direction: "all" }));
      const done = waitDone(s, jobId);
      // Let it run for a while: progress events arrive, about 10 a second.
      await new Promise((r) => setTimeout(r, 600));
      const progress = events.filter((e) => e.event === "job-progress" && e.jobId === jobId) as Extract<Event, { event: "job-progress" }>[];
      assert.ok(progress.length >= 2 && progress.length <= 10, `${progress.length} progress events in 600 ms`);
      assert.ok(progress.every((p) => p.op === "search" && p.total === size && p.done <= size));
      const t0 = Date.now();
      assert.deepEqual(ok(await s.handle({ id: 3, type: "cancel", jobId })), { jobId, canceled: true });
      const r = await done;
      const took = Date.now() - t0;
      assert.ok(took < 100, `canceled after ${took} ms`);
      assert.equal(r.result.canceled, true);
      assert.ok(r.result.scanned > 0 && r.result.scanned < size);
      // Cancelling a finished job says so.
      assert.deepEqual(ok(await s.handle({ id: 4, type: "cancel", jobId })), { jobId, canceled: false });
    } finally {
      s.dispose();
    }
  });

  it("jobs belong to their client: another client cannot cancel them and sees none of their events", async () => {
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const a = service(pool);
    const b = service(pool);
    try {
      const info = a.s.open(fx.path);
      b.s.grant(info.docId);
      const { jobId } = ok(await a.s.handle({ id: 1, type: "search", docId: info.docId, pattern: slow, direction: "all" }));
      const done = waitDone(a.s, jobId);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual(ok(await b.s.handle({ id: 1, type: "cancel", jobId })), { jobId, canceled: false });
      await new Promise((r) => setTimeout(r, 150));
      assert.ok(a.events.some((e) => e.event === "job-progress" && e.jobId === jobId), "A hears its job");
      assert.ok(!b.events.some((e) => "jobId" in e), "B hears nothing of A's job");
      ok(await a.s.handle({ id: 2, type: "cancel", jobId }));
      assert.equal((await done).result.canceled, true);
      // B's own job: A cannot cancel it either; a job id of a closed document.
      const other = ok(await b.s.handle({ id: 2, type: "search", docId: info.docId, pattern: { kind: "hex", hex: "00" }, direction: "forward" }));
      assert.deepEqual(ok(await a.s.handle({ id: 3, type: "cancel", jobId: other.jobId })).canceled, false);
      assert.deepEqual((await waitDone(b.s, other.jobId)).result.hits, [0]);
    } finally {
      a.s.dispose();
      b.s.dispose();
      pool.dispose();
    }
  });

  it("a job ends (canceled) when its document closes, and when its client goes away", async () => {
    const { s } = service();
    ok(await s.handle({ id: 1, type: "open", path: fx.path }));
    const first = ok(await s.handle({ id: 2, type: "search", docId: "d1", pattern: slow, direction: "all" }));
    const done = waitDone(s, first.jobId);
    await new Promise((r) => setTimeout(r, 100));
    ok(await s.handle({ id: 3, type: "close", docId: "d1" }));
    const r = await done;
    assert.equal(r.result.canceled, true);

    // Dispose: the native job is cancelled (the process would otherwise keep scanning 64 GiB).
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const c = service(pool);
    const info = c.s.open(fx.path);
    const second = ok(await c.s.handle({ id: 1, type: "search", docId: info.docId, pattern: slow, direction: "all" }));
    await new Promise((r) => setTimeout(r, 100));
    let finished = false;
    const ended = new Promise<void>((resolve) => {
      // The job's promise settles after abort; nothing is delivered to a disposed client.
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (!(c.s as unknown as { jobs: Map<string, unknown> }).jobs.has(second.jobId) || Date.now() - t0 > 2000) {
          finished = !(c.s as unknown as { jobs: Map<string, unknown> }).jobs.has(second.jobId);
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    c.s.dispose();
    await ended;
    assert.ok(finished, "the job ended within 2 s of dispose");
    assert.ok(!c.events.some((e) => e.event === "job-done"), "no events after dispose");
    pool.dispose();
  });

  it("a document with pending edits is searched as the user sees it: hits in and across inserted bytes, shifted by inserts, with the version read", async () => {
    const file = makeFile(Buffer.from("0123456789 needle 0123456789"), "edited.bin");
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const before = await search(s, 2, { pattern: { kind: "text", text: "needle", encoding: "utf8" }, direction: "forward" });
      assert.deepEqual(before.result.hits, [11]);
      assert.equal(before.result.pendingEdits, false);
      // Insert 3 bytes at 0: the hit moves to 14. Then an inserted "nee" + file "dle"… no: insert a whole new needle across.
      ok(await s.handle({ id: 3, type: "edit", docId: "d1", offset: 0, deleteLength: 0, bytes: new Uint8Array([0x41, 0x42, 0x43]) }));
      const after = await search(s, 4, { pattern: { kind: "text", text: "needle", encoding: "utf8" }, direction: "forward" });
      assert.deepEqual(after.result.hits, [14]);
      assert.equal(after.result.pendingEdits, false);
      // "nee" of the file replaced by inserted "nee": the match crosses added bytes and the file; one more needle appended.
      ok(await s.handle({ id: 5, type: "edit", docId: "d1", offset: 14, deleteLength: 3, bytes: new TextEncoder().encode("nee") }));
      const ins = ok(await s.handle({ id: 6, type: "edit", docId: "d1", offset: 31, deleteLength: 0, bytes: new TextEncoder().encode("needle") }));
      const all = await search(s, 7, { pattern: { kind: "text", text: "needle", encoding: "utf8" }, direction: "all" });
      assert.equal(all.result.total, 2);
      assert.deepEqual(all.hits, [14, 31]);
      assert.equal(all.result.pendingEdits, false);
      assert.equal(all.result.version, ins.generation, "the version searched");
    } finally {
      s.dispose();
    }
  });
});
