// Service tests for `replace-all` (app/protocol/search.ts): the result equals a Python-like
// reference (bytes.replace / re.sub, computed here in JS) over the edited document; one undo
// step restores it; nothing is written to the file; read-only documents are refused; `max`.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
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

/** Python's bytes.replace(old, new[, count]): non-overlapping, left to right. */
function pyReplace(hay: Buffer, old: Buffer, rep: Buffer, count = Infinity): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  let n = 0;
  for (;;) {
    const at = n < count ? hay.indexOf(old, i) : -1;
    if (at < 0) break;
    parts.push(hay.subarray(i, at), rep);
    i = at + old.length;
    n++;
  }
  parts.push(hay.subarray(i));
  return Buffer.concat(parts);
}

async function readAll(s: Service, id: number): Promise<Buffer> {
  const info = ok(await s.handle({ id, type: "info", docId: "d1" }));
  if (info.size === 0) return Buffer.alloc(0);
  return Buffer.from(ok(await s.handle({ id: id + 1, type: "read", docId: "d1", offset: 0, length: info.size })).bytes);
}

describe("replace-all", () => {
  it("literal (overlapping candidates, other length) and regex replacements equal the reference; one undo step restores; the file is untouched", async () => {
    const original = Buffer.from("aaaa xx aaa needle|needle  id=1 id=22 ID=333 end", "latin1");
    const file = makeFile(original, "replace.bin");
    const s = new Service({ pollIntervalMs: 0, watch: false });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      // An edit first: the replace runs over the document as the user sees it (an inserted "aa").
      ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 5, deleteLength: 0, bytes: Buffer.from("aa") }));
      const edited = Buffer.concat([original.subarray(0, 5), Buffer.from("aa"), original.subarray(5)]);
      assert.deepEqual(await readAll(s, 3), edited);
      const r = ok(await s.handle({ id: 5, type: "replace-all", docId: "d1", pattern: { kind: "text", text: "aa", encoding: "utf8" }, bytes: Buffer.from("<B>") }));
      const expected = pyReplace(edited, Buffer.from("aa"), Buffer.from("<B>"));
      assert.equal(r.replaced, 4);
      assert.equal(r.size, expected.length);
      assert.equal(r.sizeBefore, edited.length);
      assert.equal(r.start, 0);
      assert.deepEqual(await readAll(s, 6), expected);
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "replace-all"), "progress of the job");
      await new Promise((res) => setImmediate(res));
      assert.ok(events.some((e) => e.event === "document-changed" && e.generation === r.generation), "document-changed after the replace");
      // Regex: id=\d+ (ignore case) → "#", max 2.
      const rx = ok(await s.handle({ id: 8, type: "replace-all", docId: "d1", pattern: { kind: "regex", regex: "id=\\d+", ignoreCase: true }, bytes: Buffer.from("#"), max: 2 }));
      assert.equal(rx.replaced, 2);
      const exp2 = Buffer.from(expected.toString("latin1").replace(/id=\d+/i, "#").replace(/id=\d+/i, "#"), "latin1");
      assert.deepEqual(await readAll(s, 9), exp2);
      // Hex → empty: deletes.
      const hx = ok(await s.handle({ id: 11, type: "replace-all", docId: "d1", pattern: { kind: "hex", hex: "7C" }, bytes: new Uint8Array(0) }));
      assert.equal(hx.replaced, 1);
      assert.deepEqual(await readAll(s, 12), pyReplace(exp2, Buffer.from("|"), Buffer.alloc(0)));
      // No match: nothing changes.
      const none = ok(await s.handle({ id: 14, type: "replace-all", docId: "d1", pattern: { kind: "text", text: "zzz", encoding: "utf8" }, bytes: Buffer.from("q") }));
      assert.equal(none.replaced, 0);
      assert.equal(none.generation, hx.generation);
      // Each replace-all is one undo step.
      ok(await s.handle({ id: 15, type: "undo", docId: "d1" }));
      assert.deepEqual(await readAll(s, 16), exp2);
      ok(await s.handle({ id: 18, type: "undo", docId: "d1" }));
      assert.deepEqual(await readAll(s, 19), expected);
      ok(await s.handle({ id: 21, type: "undo", docId: "d1" }));
      assert.deepEqual(await readAll(s, 22), edited);
      // Nothing was written to the file.
      assert.deepEqual(fs.readFileSync(file), original);
    } finally {
      s.dispose();
    }
  });

  it("refuses read-only documents, a regex that can match nothing, invalid patterns and bad fields", async () => {
    const file = makeFile(Buffer.from("abcabc"), "ro.bin");
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const ro = fail(await s.handle({ id: 2, type: "replace-all", docId: "d1", pattern: { kind: "text", text: "a", encoding: "utf8" }, bytes: Buffer.from("b") }));
      assert.equal(ro.code, "EACCES");
      assert.deepEqual(fs.readFileSync(file), Buffer.from("abcabc"));
      ok(await s.handle({ id: 3, type: "open", path: file, readOnly: false }));
      const empty = fail(await s.handle({ id: 4, type: "replace-all", docId: "d2", pattern: { kind: "regex", regex: "x*" }, bytes: Buffer.from("b") }));
      assert.equal(empty.code, "EINVAL");
      const bad = fail(await s.handle({ id: 5, type: "replace-all", docId: "d2", pattern: { kind: "regex", regex: "a(" }, bytes: Buffer.from("b") }));
      assert.equal(bad.code, "EINVAL");
      assert.match(bad.message, /position/);
      const notBytes = fail(await s.handle({ id: 6, type: "replace-all", docId: "d2", pattern: { kind: "hex", hex: "61" }, bytes: "b" }));
      assert.equal(notBytes.code, "EINVAL");
      const zeroMax = fail(await s.handle({ id: 7, type: "replace-all", docId: "d2", pattern: { kind: "hex", hex: "61" }, bytes: Buffer.from("b"), max: 0 }));
      assert.equal(zeroMax.code, "EINVAL");
    } finally {
      s.dispose();
    }
  });
});
