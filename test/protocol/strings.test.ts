// Service tests for the `strings` job (app/protocol/strings.ts): the strings-found batches equal
// findStrings (app/engine/strings.ts) over the same bytes, parts of long strings joined; unsaved
// edits (insert, overwrite, delete) are scanned as the user sees them; maxResults caps the list
// but not the count; cancel ends the job with ECANCELED; malformed requests are EINVAL.

import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import { findStrings, type StringsEncoding } from "../../app/engine/strings";
import type { Event, Reply } from "../../app/protocol/messages";
import { MAX_STRING_TEXT, type StringEntry } from "../../app/protocol/strings";
import { GiB, cleanupFixtures, makeFile, makeSparseFile } from "../fixtures";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}
function err(reply: Reply): string {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string } }).error.code;
}

function service(): { s: Service; events: Event[] } {
  const s = new Service({ pollIntervalMs: 0, watch: false });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  return { s, events };
}

/** Binary noise with ASCII and UTF-16LE strings, and one ASCII run longer than findStrings' part size. */
function sample(): Buffer {
  const parts: Buffer[] = [];
  let seed = 12345;
  const noise = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const v = seed >>> 24;
      b[i] = v >= 0x20 && v < 0x7f ? v | 0x80 : v; // keep the noise mostly unprintable
    }
    return b;
  };
  parts.push(noise(1000), Buffer.from("Hello, strings!\0", "latin1"), noise(300));
  parts.push(Buffer.from("wide text here", "utf16le"), noise(77), Buffer.from("abc\0abcd\0\tTAB run\0", "latin1"));
  for (let i = 0; i < 500; i++) parts.push(noise(40), Buffer.from(`entry number ${i} `, i % 25 === 0 ? "utf16le" : "latin1"));
  parts.push(noise(5), Buffer.alloc(1_500_000, 0x41), noise(10), Buffer.from("after the long one", "latin1"), noise(3));
  return Buffer.concat(parts);
}

/** What the job should list: findStrings over `data`, parts joined, text cut as the protocol says. */
async function expected(data: Buffer, minLength: number, encoding: StringsEncoding): Promise<StringEntry[]> {
  const out: StringEntry[] = [];
  const src = { size: data.length, read: (o: number, n: number) => data.subarray(o, o + n) };
  let text = "";
  for await (const batch of findStrings(src, { minLength, encoding })) {
    for (const s of batch) {
      text += s.text;
      if (s.more) continue;
      const width = s.encoding === "utf16le" ? 2 : 1;
      const e: StringEntry = { offset: s.offset, length: text.length * width, encoding: s.encoding, text: text.slice(0, MAX_STRING_TEXT) };
      if (text.length > MAX_STRING_TEXT) e.truncated = true;
      out.push(e);
      text = "";
    }
  }
  return out;
}

function listed(events: Event[], jobId?: string): StringEntry[] {
  const out: StringEntry[] = [];
  for (const e of events) if (e.event === "strings-found" && (jobId === undefined || e.jobId === jobId)) out.push(...e.strings);
  return out;
}

describe("strings job", () => {
  for (const encoding of ["ascii", "utf16le", "all"] as const) {
    for (const minLength of [4, 8]) {
      it(`lists what findStrings finds (${encoding}, min ${minLength})`, async () => {
        const data = sample();
        const file = makeFile(data);
        const { s, events } = service();
        try {
          ok(await s.handle({ id: 1, type: "open", path: file }));
          const r = ok(await s.handle({ id: 2, type: "strings", docId: "d1", minLength, encoding }));
          const want = await expected(data, minLength, encoding);
          assert.ok(want.length > 10, "the sample has strings");
          const got = listed(events);
          assert.deepEqual(got, want);
          assert.equal(r.total, want.length);
          assert.equal(r.listed, want.length);
          assert.equal(r.scanned, data.length);
          assert.equal(r.encoding, encoding);
          assert.equal(r.minLength, minLength);
          // Every event belongs to the job the first job-progress named.
          const start = events.find((e) => e.event === "job-progress" && e.op === "strings");
          assert.ok(start && start.event === "job-progress" && start.done === 0 && start.total === 0);
          for (const e of events) if (e.event === "strings-found") assert.equal(e.jobId, start.jobId);
          if (encoding !== "utf16le") {
            const long = got.find((e) => e.length === 1_500_000);
            assert.ok(long, "the 1.5 MB run is one string");
            assert.equal(long.truncated, true);
            assert.equal(long.text, "A".repeat(MAX_STRING_TEXT));
          }
          if (encoding !== "ascii") assert.ok(got.some((e) => e.encoding === "utf16le" && e.text === "wide text here" && e.length === 28));
        } finally {
          s.dispose();
        }
      });
    }
  }

  it("defaults to ascii, min 4", async () => {
    const data = Buffer.from("\x01\x02abc\x00abcd\x00hello world\xff\xfeX", "latin1");
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: makeFile(data) }));
      const r = ok(await s.handle({ id: 2, type: "strings", docId: "d1" }));
      assert.deepEqual(listed(events), [
        { offset: 6, length: 4, encoding: "ascii", text: "abcd" },
        { offset: 11, length: 11, encoding: "ascii", text: "hello world" },
      ]);
      assert.equal(r.total, 2);
    } finally {
      s.dispose();
    }
  });

  it("scans unsaved edits: inserted, overwritten and deleted bytes as the user sees them", async () => {
    const original = sample();
    const file = makeFile(original);
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const before = ok(await s.handle({ id: 2, type: "strings", docId: "d1" }));
      // Insert a string in the noise, overwrite "Hello" with unprintable bytes, delete 20 bytes.
      ok(await s.handle({ id: 3, type: "edit", docId: "d1", offset: 500, deleteLength: 0, bytes: new Uint8Array(Buffer.from("\0INSERTED STRING\0", "latin1")) }));
      ok(await s.handle({ id: 4, type: "edit", docId: "d1", offset: 1000 + 17, bytes: new Uint8Array([1, 2, 3]) }));
      ok(await s.handle({ id: 5, type: "edit", docId: "d1", offset: 3000, deleteLength: 20, bytes: new Uint8Array(0) }));
      let edited = Buffer.concat([original.subarray(0, 500), Buffer.from("\0INSERTED STRING\0", "latin1"), original.subarray(500)]);
      edited[1017] = 1;
      edited[1018] = 2;
      edited[1019] = 3;
      edited = Buffer.concat([edited.subarray(0, 3000), edited.subarray(3020)]);
      events.length = 0;
      const r = ok(await s.handle({ id: 6, type: "strings", docId: "d1", encoding: "all" }));
      const got = listed(events);
      assert.deepEqual(got, await expected(edited, 4, "all"));
      assert.ok(got.some((e) => e.offset === 501 && e.text === "INSERTED STRING"));
      assert.ok(!got.some((e) => e.text === "Hello, strings!"), "the overwritten string is gone");
      assert.equal(r.scanned, edited.length);
      assert.ok(r.version > before.version, "a later version was read");
    } finally {
      s.dispose();
    }
  });

  it("maxResults caps the list, the total stays exact", async () => {
    const data = sample();
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: makeFile(data) }));
      const want = await expected(data, 4, "ascii");
      const r = ok(await s.handle({ id: 2, type: "strings", docId: "d1", maxResults: 7 }));
      assert.equal(r.total, want.length);
      assert.equal(r.listed, 7);
      assert.deepEqual(listed(events), want.slice(0, 7));
      events.length = 0;
      const c = ok(await s.handle({ id: 3, type: "strings", docId: "d1", maxResults: 0 }));
      assert.equal(c.total, want.length);
      assert.equal(listed(events).length, 0);
    } finally {
      s.dispose();
    }
  });

  it("cancel stops a long scan with ECANCELED", async () => {
    const fx = makeSparseFile({ size: 4 * GiB, blocks: [{ offset: 0, length: 4096, seed: 3 }] });
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const t0 = Date.now();
      const pending = s.handle({ id: 2, type: "strings", docId: "d1" });
      const start = events.find((e) => e.event === "job-progress" && e.op === "strings");
      assert.ok(start && start.event === "job-progress");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(ok(await s.handle({ id: 3, type: "cancel", jobId: start.jobId })), { jobId: start.jobId, canceled: true });
      const reply = await pending;
      assert.equal(err(reply), "ECANCELED");
      assert.ok(Date.now() - t0 < 20_000, "stopped long before a 4 GiB scan ends");
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "strings" && e.done > 0 && e.done < e.total), "progress was reported");
      assert.equal(s.jobCount, 0);
      // The job is gone: a second cancel finds nothing.
      assert.deepEqual(ok(await s.handle({ id: 4, type: "cancel", jobId: start.jobId })), { jobId: start.jobId, canceled: false });
    } finally {
      s.dispose();
    }
  });

  it("rejects malformed requests (EINVAL) and unknown documents (EBADDOC)", async () => {
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: makeFile(Buffer.from("some text here")) }));
      const bad: unknown[] = [
        { id: 2, type: "strings", docId: "d1", minLength: 0 },
        { id: 3, type: "strings", docId: "d1", minLength: 1025 },
        { id: 4, type: "strings", docId: "d1", minLength: 2.5 },
        { id: 5, type: "strings", docId: "d1", encoding: "utf8" },
        { id: 6, type: "strings", docId: "d1", maxResults: 100_001 },
        { id: 7, type: "strings", docId: "d1", maxResults: -1 },
        { id: 8, type: "strings", docId: "d1", extra: true },
        { id: 9, type: "strings" },
        { id: 10, type: "strings", docId: "x1" },
        { id: 11, type: "strings", docId: "d1", minLength: "4" },
      ];
      for (const m of bad) assert.equal(err(await s.handle(m)), "EINVAL", JSON.stringify(m));
      assert.equal(err(await s.handle({ id: 12, type: "strings", docId: "d9" })), "EBADDOC");
      assert.equal(listed(events).length, 0);
      // The limits themselves are fine.
      ok(await s.handle({ id: 13, type: "strings", docId: "d1", minLength: 1024 }));
      ok(await s.handle({ id: 14, type: "strings", docId: "d1", minLength: 1, maxResults: 100_000 }));
    } finally {
      s.dispose();
    }
  });
});
