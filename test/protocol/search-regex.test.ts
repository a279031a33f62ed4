// Service tests for regex search (kind "regex" in app/protocol/search.ts): hits with lengths over
// the edited document (matches inside inserted bytes), find next / previous / all, an invalid
// pattern is the reply's EINVAL with its position, a catastrophic pattern finishes quickly.

import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import type { SearchDone } from "../../app/protocol/search";
import { cleanupFixtures, makeFile } from "../fixtures";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}
function fail(reply: Reply): { code: string; message: string } {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string; message: string } }).error;
}

function waitDone(s: Service, jobId: string, timeoutMs = 20_000): Promise<{ result: SearchDone; hits: number[]; lengths: number[] }> {
  return new Promise((resolve, reject) => {
    const hits: number[] = [];
    const lengths: number[] = [];
    const timer = setTimeout(() => reject(new Error(`no job-done for ${jobId} in ${timeoutMs} ms`)), timeoutMs);
    const off = s.onEvent((e: Event) => {
      if (!("jobId" in e) || e.jobId !== jobId) return;
      if (e.event === "search-hit") {
        hits.push(...e.offsets);
        lengths.push(...(e.lengths ?? []));
      }
      if (e.event === "job-done") {
        clearTimeout(timer);
        off();
        if (e.error) reject(new Error(`${e.error.code}: ${e.error.message}`));
        else resolve({ result: e.result as SearchDone, hits, lengths });
      }
    });
  });
}

async function search(s: Service, id: number, params: Record<string, unknown>) {
  const { jobId } = ok<{ jobId: string }>(await s.handle({ id, type: "search", docId: "d1", ...params }));
  return waitDone(s, jobId);
}

/** JavaScript's own regex as the reference (non-overlapping, leftmost-first; latin1 = bytes). */
function reference(hay: Buffer, re: RegExp): { hits: number[]; lengths: number[] } {
  const hits: number[] = [];
  const lengths: number[] = [];
  for (const m of hay.toString("latin1").matchAll(new RegExp(re.source, "g" + re.flags.replace("g", "")))) {
    if (m[0].length === 0) continue;
    hits.push(m.index!);
    lengths.push(m[0].length);
  }
  return { hits, lengths };
}

describe("search: regex kind", () => {
  it("finds hits with their lengths over the edited document, inserted bytes included; next / previous / all", async () => {
    const text = "start id=12 x id=3456 y\nid=7 tail ID=99\n";
    const file = makeFile(Buffer.from(text, "latin1"), "regex.bin");
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const pattern = { kind: "regex", regex: "id=\\d+" };
      const all0 = await search(s, 2, { pattern, direction: "all" });
      const ref0 = reference(Buffer.from(text, "latin1"), /id=\d+/);
      assert.deepEqual(all0.hits, ref0.hits);
      assert.deepEqual(all0.lengths, ref0.lengths);
      assert.equal(all0.result.total, 3);
      // Insert "id=00042" at 6 (inside the document): it is found, with its length, and the rest shift.
      const ins = new TextEncoder().encode("id=00042 ");
      const edited = ok(await s.handle({ id: 3, type: "edit", docId: "d1", offset: 6, deleteLength: 0, bytes: ins }));
      const now = text.slice(0, 6) + "id=00042 " + text.slice(6);
      const ref = reference(Buffer.from(now, "latin1"), /id=\d+/);
      const all = await search(s, 4, { pattern, direction: "all" });
      assert.deepEqual(all.hits, ref.hits);
      assert.deepEqual(all.lengths, ref.lengths);
      assert.equal(all.hits[0], 6);
      assert.equal(all.lengths[0], 8);
      assert.equal(all.result.total, 4);
      assert.equal(all.result.version, edited.generation);
      const next = await search(s, 5, { pattern, direction: "forward", from: 7 });
      assert.deepEqual(next.result.hits, [ref.hits[1]]);
      assert.deepEqual(next.result.lengths, [ref.lengths[1]]);
      assert.equal(next.result.patternLength, ref.lengths[1]);
      const prev = await search(s, 6, { pattern, direction: "backward", from: ref.hits[2] });
      assert.deepEqual(prev.result.hits, [ref.hits[1]]);
      // Ignore case finds ID=99 too.
      const ci = await search(s, 7, { pattern: { ...pattern, ignoreCase: true }, direction: "all" });
      assert.equal(ci.result.total, 5);
      // UTF-8 mode: "." is one whole character.
      const u = await search(s, 8, { pattern: { kind: "regex", regex: "t.il", utf8: true }, direction: "all" });
      assert.equal(u.result.total, 1);
    } finally {
      s.dispose();
    }
  });

  it("an invalid regex is the reply's EINVAL with its position; bad fields are refused by the validator", async () => {
    const file = makeFile(Buffer.from("abc"), "bad.bin");
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const e = fail(await s.handle({ id: 2, type: "search", docId: "d1", pattern: { kind: "regex", regex: "ab(c" }, direction: "all" }));
      assert.equal(e.code, "EINVAL");
      assert.match(e.message, /position \d+/);
      const back = fail(await s.handle({ id: 3, type: "search", docId: "d1", pattern: { kind: "regex", regex: "(a)\\1" }, direction: "all" }));
      assert.equal(back.code, "EINVAL");
      assert.match(back.message, /position/);
      const bad = fail(await s.handle({ id: 4, type: "search", docId: "d1", pattern: { kind: "regex", regex: "a", utf8: "yes" }, direction: "all" }));
      assert.equal(bad.code, "EINVAL");
      const extra = fail(await s.handle({ id: 5, type: "search", docId: "d1", pattern: { kind: "regex", regex: "a", encoding: "utf8" }, direction: "all" }));
      assert.equal(extra.code, "EINVAL");
    } finally {
      s.dispose();
    }
  });

  it("a catastrophic pattern finishes in linear time", async () => {
    const file = makeFile(Buffer.from("a".repeat(200_000) + "b"), "cat.bin");
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const t0 = Date.now();
      const r = await search(s, 2, { pattern: { kind: "regex", regex: "(a+)+$" }, direction: "all" });
      assert.equal(r.result.total, 0);
      const r2 = await search(s, 3, { pattern: { kind: "regex", regex: "(a|aa)+b" }, direction: "all" });
      assert.deepEqual(r2.hits, [0]);
      assert.deepEqual(r2.lengths, [200_001]);
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    } finally {
      s.dispose();
    }
  });
});
