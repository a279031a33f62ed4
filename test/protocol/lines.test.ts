// Service tests for the log view (app/protocol/lines.ts): sniff; lines-index as a job (progress,
// job-done); lines / lines-pick / line-text / line-at-offset / line-start against a plain
// reference; request validation and client isolation; follow with a writer process (grew, then
// rotated: a new generation, the new file's lines, the hex document reloaded); filter against
// a JS reference, bad regex EINVAL, a catastrophic regex that settles (the line is skipped)
// while other requests keep answering, cancel.

import { strict as assert } from "node:assert";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { DocumentPool, Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import type { FilterDone, LinesResult } from "../../app/protocol/lines";
import { Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { FollowWriter as Writer, writerLine } from "../lines/writer";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}
function fail(reply: Reply): { code: string; message: string } {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string; message: string } }).error;
}

function service(pool?: DocumentPool, filterLineTimeoutMs?: number) {
  const s = new Service({
    ...(pool ? { pool } : { pollIntervalMs: 0, watch: false }),
    lines: { followIntervalMs: 50, ...(filterLineTimeoutMs ? { filterLineTimeoutMs } : {}) },
  });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  seen.set(s, events);
  return { s, events };
}

let nextId = 1;
const req = (s: Service, type: string, params: Record<string, unknown>) => s.handle({ id: nextId++, type, ...params });

/** Every event of each Service, in order (events may come before a test starts waiting). */
const seen = new WeakMap<Service, Event[]>();

/** The first event (already received, or to come) that `pred` accepts. */
function waitEvent(s: Service, pred: (e: Event) => boolean, ms = 20_000, what = "an event"): Promise<Event> {
  const already = seen.get(s)?.find(pred);
  if (already) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    const off = s.onEvent((e) => {
      if (pred(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

const jobDone = (jobId: string) => (e: Event) => e.event === "job-done" && e.jobId === jobId;


/** A seeded log: varied lengths, empty lines, a CRLF line, a tab, a 200 KB line, no final newline. */
function makeLog(count: number, seed: number): { text: string; lines: string[] } {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const r = rng.float();
    if (i === 77) lines.push("L".repeat(200_000));
    else if (r < 0.05) lines.push("");
    else lines.push(`${i} ${["INFO", "WARN", "ERROR"][Math.floor(rng.float() * 3)]} v=${Math.floor(rng.float() * 1000)}\tmsg ${"z".repeat(Math.floor(rng.float() * 50))}`);
  }
  return { text: lines.join("\n"), lines };
}

async function indexed(s: Service, docId: string): Promise<void> {
  const { jobId } = ok<{ jobId: string }>(await req(s, "lines-index", { docId }));
  const done = (await waitEvent(s, jobDone(jobId))) as Extract<Event, { event: "job-done" }>;
  assert.equal(done.error, undefined);
}

describe("lines protocol", () => {
  const log = makeLog(5000, 6);
  const file = makeFile(log.text, "lines.log");

  it("sniffs text, indexes as a job with progress, and serves lines equal to the file's", async () => {
    const { s, events } = service();
    const { docId } = ok(await req(s, "open", { path: file }));
    const sniff = ok(await req(s, "sniff", { docId }));
    assert.deepEqual([sniff.text, sniff.encoding, sniff.hasNewline], [true, "utf-8", true]);
    const { jobId } = ok<{ jobId: string }>(await req(s, "lines-index", { docId }));
    const done = (await waitEvent(s, jobDone(jobId))) as Extract<Event, { event: "job-done" }>;
    const result = done.result as { lineCount: number; newlineCount: number; complete: boolean; canceled: boolean };
    assert.equal(result.lineCount, 5000);
    assert.equal(result.newlineCount, 4999);
    assert.equal(result.complete, true);
    assert.ok(events.some((e) => e.event === "index-progress" && e.jobId === jobId), "index-progress before job-done");

    const r = ok<LinesResult>(await req(s, "lines", { docId, from: 1, count: 10_000 }));
    assert.equal(r.lines.length, 5000);
    assert.equal(r.lineCount, 5000);
    let offset = 0;
    r.lines.forEach((l, i) => {
      const want = log.lines[i]!;
      assert.equal(l.number, i + 1);
      assert.equal(l.offset, offset);
      assert.equal(l.length, Buffer.byteLength(want));
      assert.equal(l.truncated, want.length > 4096);
      assert.equal(l.text, want.length > 4096 ? want.slice(0, 4096) : want);
      offset += l.length + 1;
    });
    // Scattered lines (the filter view), in the order asked; past the end left out.
    const pick = ok<LinesResult>(await req(s, "lines-pick", { docId, numbers: [4999, 3, 4, 5, 77, 6000], maxLineBytes: 100 }));
    assert.deepEqual(pick.lines.map((l) => l.number), [4999, 3, 4, 5, 77]);
    assert.equal(pick.lines[4]!.text, "L".repeat(100));
    assert.equal(pick.lines[0]!.text, log.lines[4998]);

    // line-text: the 200 KB line in 64 KiB slices, reassembled.
    let text = "";
    for (let off = 0, done = false; !done; ) {
      const sl = ok(await req(s, "line-text", { docId, line: 77, offset: off, length: 65536 }));
      assert.equal(sl.lineLength, 200_000);
      text += sl.text;
      off = sl.end;
      done = sl.done;
    }
    assert.equal(text, log.lines[76]);

    // line-at-offset and line-start agree with the reference at random places.
    const rng = new Rng(9);
    const starts: number[] = [];
    let o = 0;
    for (const l of log.lines) {
      starts.push(o);
      o += Buffer.byteLength(l) + 1;
    }
    for (let k = 0; k < 50; k++) {
      const n = 1 + Math.floor(rng.float() * 5000);
      assert.equal(ok(await req(s, "line-start", { docId, line: n })).offset, starts[n - 1]);
      const at = starts[n - 1]! + Math.floor(rng.float() * (Buffer.byteLength(log.lines[n - 1]!) + 1));
      assert.equal(ok(await req(s, "line-at-offset", { docId, offset: at })).line, n);
    }
    assert.equal(ok(await req(s, "line-start", { docId, line: 5001 })).offset, null);
    s.dispose();
  });

  it("validates requests, and a client reaches only its own documents", async () => {
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const a = service(pool);
    const b = service(pool);
    const { docId } = ok(await req(a.s, "open", { path: file }));
    assert.equal(fail(await req(a.s, "lines", { docId, from: 0, count: 1 })).code, "EINVAL");
    assert.equal(fail(await req(a.s, "lines", { docId, from: 1, count: 10_001 })).code, "EINVAL");
    assert.equal(fail(await req(a.s, "lines-pick", { docId, numbers: Array.from({ length: 1001 }, (_, i) => i + 1) })).code, "EINVAL");
    assert.equal(fail(await req(a.s, "filter", { docId, regex: "x", flags: "g" })).code, "EINVAL");
    assert.equal(fail(await req(a.s, "line-text", { docId, line: 1, length: 5 * 1024 * 1024 })).code, "EINVAL");
    assert.equal(fail(await req(a.s, "line-at-offset", { docId, offset: 10 ** 9 })).code, "ERANGE");
    assert.equal(fail(await req(a.s, "line-text", { docId, line: 99_999 })).code, "ERANGE");
    for (const [type, extra] of [
      ["sniff", {}],
      ["lines-index", {}],
      ["lines", { from: 1, count: 1 }],
      ["line-text", { line: 1 }],
      ["follow", { on: true }],
      ["filter", { regex: "x" }],
    ] as const) {
      assert.equal(fail(await req(b.s, type, { docId, ...extra })).code, "EBADDOC", type);
    }
    // Closing the document ends the line document too.
    ok(await req(a.s, "close", { docId }));
    assert.equal(fail(await req(a.s, "lines", { docId, from: 1, count: 1 })).code, "EBADDOC");
    a.s.dispose();
    b.s.dispose();
    pool.dispose();
  });

  it("filter: the lines a JS regex matches, streamed in order; bad regex EINVAL; from / maxMatches; cancel", async () => {
    const { s } = service();
    const { docId } = ok(await req(s, "open", { path: file }));
    await indexed(s, docId);
    const bad = fail(await req(s, "filter", { docId, regex: "(a" }));
    assert.equal(bad.code, "EINVAL");
    assert.match(bad.message, /Invalid regular expression/);

    const run = async (params: Record<string, unknown>) => {
      const { jobId } = ok<{ jobId: string }>(await req(s, "filter", { docId, ...params }));
      const done = (await waitEvent(s, jobDone(jobId))) as Extract<Event, { event: "job-done" }>;
      const hits = seen.get(s)!.flatMap((e) => (e.event === "filter-hits" && e.jobId === jobId ? e.lines : []));
      assert.equal(done.error, undefined, done.error?.message);
      return { hits, result: done.result as FilterDone };
    };
    const re = /ERROR v=\d*3\b/i;
    const want = log.lines.flatMap((l, i) => (re.test(l) ? [i + 1] : []));
    assert.ok(want.length > 20);
    const all = await run({ regex: re.source, flags: "i" });
    assert.deepEqual(all.hits, want);
    assert.equal(all.result.matches, want.length);
    assert.equal(all.result.complete, true);
    assert.equal(all.result.lastLine, 5000);
    // Empty lines match ^$ (with their real numbers); the tab is matched as a tab.
    const empty = await run({ regex: "^$" });
    assert.deepEqual(empty.hits, log.lines.flatMap((l, i) => (l === "" ? [i + 1] : [])));
    // Find next: from a line, one match.
    const next = await run({ regex: re.source, flags: "i", from: want[3]! + 1, maxMatches: 1 });
    assert.deepEqual(next.hits, [want[4]]);
    assert.equal(next.result.complete, false);

    // Cancel a filter on a big file: settles at once with canceled.
    const big = makeFile(Buffer.alloc(64 * 1024 * 1024, "abcdefgh\n"), "big.log");
    const { docId: d2 } = ok(await req(s, "open", { path: big }));
    const { jobId } = ok<{ jobId: string }>(await req(s, "filter", { docId: d2, regex: "x(y|z)+q" }));
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    assert.equal(ok(await req(s, "cancel", { jobId })).canceled, true);
    const done = (await waitEvent(s, jobDone(jobId))) as Extract<Event, { event: "job-done" }>;
    assert.ok(Date.now() - t0 < 1000);
    assert.equal((done.result as FilterDone).canceled, true);
    s.dispose();
  });

  it("a catastrophic regex cannot hold the host: the line is skipped, the job settles, other requests answer meanwhile", async () => {
    const { s } = service(undefined, 300);
    const evil = makeFile(["ok 1", "a".repeat(40) + "!", "ok 3", "aaaa", "ok 5"].join("\n") + "\n", "evil.log");
    const { docId } = ok(await req(s, "open", { path: evil }));
    await indexed(s, docId);
    const t0 = Date.now();
    const { jobId } = ok<{ jobId: string }>(await req(s, "filter", { docId, regex: "^(a+)+$" }));
    const done = waitEvent(s, jobDone(jobId)) as Promise<Extract<Event, { event: "job-done" }>>;
    // The host answers while the worker is stuck in line 2.
    await new Promise((r) => setTimeout(r, 100));
    const t1 = Date.now();
    const r = ok<LinesResult>(await req(s, "lines", { docId, from: 1, count: 5 }));
    assert.equal(r.lines.length, 5);
    assert.ok(Date.now() - t1 < 200, "a lines request answers while the filter runs");
    const d = await done;
    const hits = seen.get(s)!.flatMap((e) => (e.event === "filter-hits" && e.jobId === jobId ? e.lines : []));
    const result = d.result as FilterDone;
    assert.deepEqual(result.skipped, [2]);
    assert.deepEqual(hits, [4]);
    assert.equal(result.complete, true);
    assert.ok(Date.now() - t0 < 5000);
    s.dispose();
  });
});

// ---- follow with a writer process ----------------------------------------------------------------

describe("follow", () => {
  it("grew and rotated events as a writer appends and rotates; a rotation is a new generation with the new file's lines", async () => {
    const dir = makeTempDir();
    const file = path.join(dir, "app.log");
    const w = new Writer(file);
    await w.send("append 100");
    const { s, events } = service();
    try {
      const opened = ok(await req(s, "open", { path: file }));
      const docId = opened.docId;
      await indexed(s, docId);
      const st = ok(await req(s, "follow", { docId, on: true }));
      assert.equal(st.following, true);
      assert.equal(st.lineCount, 100);

      await w.send("append 50");
      await waitEvent(s, (e) => e.event === "lines-changed" && e.kind === "grew" && e.lineCount === 150, 20_000, "grew to 150 lines");
      const tail = ok<LinesResult>(await req(s, "lines", { docId, from: 141, count: 20 }));
      assert.deepEqual(tail.lines.map((l) => l.text), Array.from({ length: 10 }, (_, i) => writerLine("g0", 141 + i)));
      const gen0 = tail.generation;

      await w.send("rotate");
      await w.send("append 7");
      const rot = (await waitEvent(s, (e) => e.event === "lines-changed" && e.kind === "rotated", 20_000, "rotated")) as Extract<Event, { event: "lines-changed" }>;
      assert.ok(rot.generation > gen0);
      assert.match(rot.reason ?? "", /replaced|rotation/);
      // The rotation may be seen before all 7 lines are written: wait for the count.
      const t0 = Date.now();
      let r = ok<LinesResult>(await req(s, "lines", { docId, from: 1, count: 100 }));
      while (r.lineCount < 7 && Date.now() - t0 < 10_000) {
        await new Promise((res) => setTimeout(res, 50));
        r = ok<LinesResult>(await req(s, "lines", { docId, from: 1, count: 100 }));
      }
      assert.equal(r.generation, rot.generation);
      assert.deepEqual(r.lines.map((l) => l.text), Array.from({ length: 7 }, (_, i) => writerLine("g1", i + 1)));
      // The hex view's document was reloaded onto the new file (a clean document).
      await waitEvent(s, (e) => e.event === "document-changed" && e.docId === docId, 5000).catch(() => undefined);
      // (It was reloaded when the new file was still empty: the pool's size check, which polls in a
      // real host, sees the 7 lines since.)
      s.pool.check(docId);
      const read = ok(await req(s, "read", { docId, offset: 0, length: 8 }));
      assert.equal(Buffer.from(read.bytes).toString(), "g1 line ");

      // Off: no more events.
      ok(await req(s, "follow", { docId, on: false }));
      const before = events.filter((e) => e.event === "lines-changed").length;
      await w.send("append 5");
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(events.filter((e) => e.event === "lines-changed").length, before);
    } finally {
      s.dispose();
      await w.exit();
    }
  });
});

// ---- the edited document ------------------------------------------------------------------------

describe("lines of the edited document", () => {
  const enc = (s: string) => new Uint8Array(Buffer.from(s));
  const body = Array.from({ length: 3000 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 37)}`);
  const text = body.join("\n") + "\n";
  const offsetOf = (n: number) => Buffer.byteLength(body.slice(0, n - 1).map((l) => l + "\n").join(""));
  const linesOf = async (s: Service, docId: string, from = 1, count = 10_000) => ok<LinesResult>(await req(s, "lines", { docId, from, count }));
  const edited = (docId: string) => (e: Event) => e.event === "lines-changed" && e.kind === "edited" && e.docId === docId;

  it("inserts, deletes, undo, redo and save show in lines, counts and offsets without saving; the index re-indexes from the edit only", async () => {
    const file = makeFile(text, "edited.log");
    const { s, events } = service();
    try {
      const { docId } = ok(await req(s, "open", { path: file, readOnly: false }));
      await indexed(s, docId);
      const base = await linesOf(s, docId);
      assert.equal(base.lineCount, 3000);
      assert.equal(base.edited, false);

      // Insert two lines before line 2501 (in the hex view: bytes at the line's offset). Samples
      // are every 1024 lines: the two before it stay.
      const at = offsetOf(2501);
      ok(await req(s, "edit", { docId, offset: at, deleteLength: 0, bytes: enc("INSERTED A\nINSERTED B\n") }));
      const ev = (await waitEvent(s, edited(docId), 5000, "lines-changed edited")) as Extract<Event, { event: "lines-changed" }>;
      assert.equal(ev.previousVersion, base.version);
      assert.ok(ev.version > base.version);
      assert.equal(ev.changedFrom, at);
      assert.equal(ev.edited, true);
      // The kept prefix: the index did not start over.
      assert.ok(ev.indexedBytes >= offsetOf(2049) && ev.indexedBytes <= at, `indexed ${ev.indexedBytes}: ≥ ${offsetOf(2049)}, ≤ ${at}`);
      const r = await linesOf(s, docId, 2499, 6);
      assert.deepEqual(
        r.lines.map((l) => l.text),
        [body[2498], body[2499], "INSERTED A", "INSERTED B", body[2500], body[2501]],
      );
      assert.equal(r.lines[2]!.offset, at);
      assert.equal(r.lines[4]!.offset, at + 22);
      assert.ok(r.version >= ev.version);
      // The build job re-indexes in the background: the count becomes exact.
      const t0 = Date.now();
      let st = await linesOf(s, docId, 1, 0);
      while (!st.complete && Date.now() - t0 < 10_000) {
        await new Promise((res) => setTimeout(res, 20));
        st = await linesOf(s, docId, 1, 0);
      }
      assert.equal(st.complete, true);
      assert.equal(st.lineCount, 3002);
      assert.equal(ok(await req(s, "line-at-offset", { docId, offset: at + 11 })).line, 2502);
      assert.equal(ok(await req(s, "line-start", { docId, line: 2503 })).offset, at + 22);

      // Delete lines 10..12 (an overwrite of line 5 too).
      const d0 = offsetOf(10);
      ok(await req(s, "edit", { docId, offset: d0, deleteLength: offsetOf(13) - d0, bytes: new Uint8Array(0) }));
      ok(await req(s, "edit", { docId, offset: offsetOf(5), bytes: enc("LINE") }));
      const r2 = await linesOf(s, docId, 1, 20);
      assert.equal(r2.lines[4]!.text, "LINE" + body[4]!.slice(4));
      assert.deepEqual(r2.lines.slice(8, 11).map((l) => l.text), [body[8], body[12], body[13]]);

      // Undo both: line 5 and 10..12 are back; redo one.
      ok(await req(s, "undo", { docId }));
      ok(await req(s, "undo", { docId }));
      const r3 = await linesOf(s, docId, 1, 20);
      assert.deepEqual(r3.lines.map((l) => l.text), body.slice(0, 20));
      ok(await req(s, "redo", { docId }));
      assert.equal((await linesOf(s, docId, 10, 1)).lines[0]!.text, body[12]);

      // Filter and find read the edited document too.
      const { jobId } = ok<{ jobId: string }>(await req(s, "filter", { docId, regex: "^INSERTED" }));
      const fd = (await waitEvent(s, jobDone(jobId))) as Extract<Event, { event: "job-done" }>;
      assert.equal(fd.error, undefined, fd.error?.message);
      const hits = events.flatMap((e) => (e.event === "filter-hits" && e.jobId === jobId ? e.lines : []));
      assert.deepEqual(hits, [2498, 2499]);
      assert.equal((fd.result as FilterDone).complete, true);

      // Save: the same lines, no re-index (the index stays complete through the save's events).
      let st2 = await linesOf(s, docId, 1, 0);
      while (!st2.complete && Date.now() - t0 < 10_000) {
        await new Promise((res) => setTimeout(res, 20));
        st2 = await linesOf(s, docId, 1, 0);
      }
      const beforeSave = events.length;
      ok(await req(s, "save", { docId }));
      await waitEvent(s, (e) => e.event === "document-changed" && e.docId === docId && e.dirty === false, 5000);
      const afterSave = events.slice(beforeSave).filter(edited(docId)) as Extract<Event, { event: "lines-changed" }>[];
      assert.ok(afterSave.length >= 1, "the save is a new version");
      for (const e of afterSave) {
        assert.equal(e.changedFrom, undefined, "a save changes no byte");
        assert.equal(e.complete, true, "the index stayed complete");
      }
      const saved = await linesOf(s, docId);
      assert.equal(saved.edited, false);
      assert.equal(saved.lineCount, 2999);
      const disk = (await import("node:fs")).readFileSync(file, "utf8").split("\n");
      assert.deepEqual(saved.lines.map((l) => l.text), disk.slice(0, 2999));
    } finally {
      s.dispose();
    }
  });

  it("a save in place that moves the file's bytes re-indexes from the start, and the lines equal the file on disk", async () => {
    const file = makeFile(text, "inplace.log");
    const { s, events } = service();
    try {
      const { docId } = ok(await req(s, "open", { path: file, readOnly: false }));
      await indexed(s, docId);
      ok(await req(s, "edit", { docId, offset: offsetOf(3), deleteLength: 0, bytes: enc("NEW 1\nNEW 2\n") }));
      await waitEvent(s, edited(docId), 5000, "lines-changed edited");
      const beforeSave = events.length;
      ok(await req(s, "save", { docId, strategy: "in-place" }));
      await waitEvent(s, (e) => e.event === "document-changed" && e.docId === docId && e.dirty === false, 5000);
      const afterSave = events.slice(beforeSave).filter(edited(docId)) as Extract<Event, { event: "lines-changed" }>[];
      assert.ok(afterSave.some((e) => e.changedFrom === 0), "moved in place: nothing counted before is trusted");
      const t0 = Date.now();
      let st = await linesOf(s, docId, 1, 0);
      while (!st.complete && Date.now() - t0 < 10_000) {
        await new Promise((res) => setTimeout(res, 20));
        st = await linesOf(s, docId, 1, 0);
      }
      assert.equal(st.lineCount, 3002);
      const disk = (await import("node:fs")).readFileSync(file, "utf8").split("\n");
      assert.equal(disk[2], "NEW 1");
      const all = await linesOf(s, docId);
      assert.deepEqual(all.lines.map((l) => l.text), disk.slice(0, 3002));
      assert.equal(ok(await req(s, "line-start", { docId, line: 2900 })).offset, Buffer.byteLength(disk.slice(0, 2899).map((l) => l + "\n").join("")));
    } finally {
      s.dispose();
    }
  });

  it("an edit from another window reaches this window's line view", async () => {
    const file = makeFile(text, "shared.log");
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const a = service(pool);
    const b = service(pool);
    try {
      const { docId } = ok(await req(a.s, "open", { path: file, readOnly: false }));
      b.s.grant(docId); // the second window holds the same document (as `hexmap serve FILE` shares it)
      await indexed(b.s, docId);
      assert.equal((await linesOf(b.s, docId, 1, 0)).lineCount, 3000);
      ok(await req(a.s, "edit", { docId, offset: 0, deleteLength: 0, bytes: enc("first\n") }));
      const ev = (await waitEvent(b.s, edited(docId), 5000, "edited in window b")) as Extract<Event, { event: "lines-changed" }>;
      assert.equal(ev.changedFrom, 0);
      const r = await linesOf(b.s, docId, 1, 2);
      assert.deepEqual(r.lines.map((l) => l.text), ["first", body[0]]);
    } finally {
      a.s.dispose();
      b.s.dispose();
      pool.dispose();
    }
  });
});
