// Service tests for the panel requests (app/protocol/panels.ts): bytemap, histogram, hash,
// compare, export, bookmarks-get/set — each valid, malformed and with a wrong docId; jobs send
// job-progress (and bytemap-partial) events and can be cancelled; bookmarks persist across
// Services (a restart) in the config folder, never next to the file.

import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import { FOUR_GIB, GiB, cleanupFixtures, makeFile, makeSparseFile, makeTempDir, blockBytes } from "../fixtures";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}
function err(reply: Reply): string {
  assert.equal(reply.ok, false, "expected an error reply");
  return (reply as { error: { code: string } }).error.code;
}

const data = Buffer.alloc(200_000);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
data.write("Hello, text region! ".repeat(1000), 100_000, "latin1");

function service(configDir = makeTempDir("hexmap-cfg-")): { s: Service; events: Event[]; configDir: string } {
  const s = new Service({ pollIntervalMs: 0, watch: false, configDir });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  return { s, events, configDir };
}

describe("panels: bytemap", () => {
  it("maps the whole file, sends job-progress, rejects malformed and wrong docIds", async () => {
    const file = makeFile(data);
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const m = ok(await s.handle({ id: 2, type: "bytemap", docId: "d1", slices: 64 }));
      assert.equal(m.slices, 64);
      assert.equal(m.size, data.length);
      assert.equal(m.classes.length, 64);
      assert.equal(m.entropy.length, 64);
      assert.equal(m.done, true);
      // The text region (100000..120000) covers slices 33..37.
      assert.deepEqual(m.classes.slice(33, 38), [2, 2, 2, 2, 2], "text");
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "bytemap"));
      assert.equal(err(await s.handle({ id: 3, type: "bytemap", docId: "d1", slices: 0 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 4, type: "bytemap", docId: "d1", slices: 5000 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 5, type: "bytemap", docId: "d1" })), "EINVAL");
      assert.equal(err(await s.handle({ id: 6, type: "bytemap", docId: "d9", slices: 16 })), "EBADDOC");
      assert.equal(err(await s.handle({ id: 7, type: "bytemap", docId: "x", slices: 16 })), "EINVAL");
    } finally {
      s.dispose();
    }
  });

  it("64 GiB sparse file: a first partial map within a second, refining to the final map", async () => {
    const fx = makeSparseFile({ size: 64 * GiB, blocks: [{ offset: 40 * GiB, length: 1024 * 1024, seed: 4 }] });
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const t0 = Date.now();
      let firstPartial = -1;
      s.onEvent((e) => {
        if (e.event === "bytemap-partial" && firstPartial < 0) firstPartial = Date.now() - t0;
      });
      const m = ok(await s.handle({ id: 2, type: "bytemap", docId: "d1", slices: 1024 }));
      assert.ok(firstPartial >= 0 && firstPartial < 1000, `first partial after ${firstPartial} ms`);
      const partial = events.find((e) => e.event === "bytemap-partial") as Extract<Event, { event: "bytemap-partial" }>;
      assert.equal(partial.map.slices, 1024);
      assert.equal(partial.map.done, false);
      assert.match(partial.jobId, /^j\d+$/);
      assert.equal(m.classes[0], 1, "zeros at the start");
      assert.notEqual(m.classes[640], 1, "the random block at 40 GiB shows");
      assert.ok(m.entropy[640] > 0);
    } finally {
      s.dispose();
    }
  });

  it("cancel stops a bytemap job with ECANCELED", async () => {
    const fx = makeSparseFile({ size: 64 * GiB, blocks: [] });
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const pending = s.handle({ id: 2, type: "bytemap", docId: "d1", slices: 4096 });
      const start = events.find((e) => e.event === "job-progress" && e.op === "bytemap") as Extract<Event, { event: "job-progress" }>;
      assert.ok(start, "job-progress names the job before work starts");
      assert.deepEqual(ok(await s.handle({ id: 3, type: "cancel", jobId: start.jobId })), { jobId: start.jobId, canceled: true });
      assert.equal(err(await pending), "ECANCELED");
    } finally {
      s.dispose();
    }
  });
});

describe("panels: histogram", () => {
  it("counts bytes of a range exactly; ERANGE/EINVAL/EBADDOC", async () => {
    const file = makeFile(data);
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const h = ok(await s.handle({ id: 2, type: "histogram", docId: "d1", offset: 1000, length: 50_000 }));
      const want = new Array(256).fill(0);
      for (const b of data.subarray(1000, 51_000)) want[b]++;
      assert.deepEqual(h.counts, want);
      assert.equal(h.length, 50_000);
      // Clamped at the end.
      assert.equal(ok(await s.handle({ id: 3, type: "histogram", docId: "d1", offset: data.length - 10, length: 100 })).length, 10);
      assert.equal(err(await s.handle({ id: 4, type: "histogram", docId: "d1", offset: data.length + 1, length: 1 })), "ERANGE");
      assert.equal(err(await s.handle({ id: 5, type: "histogram", docId: "d1", offset: 0, length: 0 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 6, type: "histogram", docId: "d1", offset: -1, length: 5 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 7, type: "histogram", docId: "d2", offset: 0, length: 5 })), "EBADDOC");
    } finally {
      s.dispose();
    }
  });
});

describe("panels: hash", () => {
  it("digests equal node:crypto / zlib over the same range, past 4 GiB", async () => {
    const block = blockBytes(9, 256 * 1024);
    const fx = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: FOUR_GIB - 1000, length: block.length, seed: 9 }] });
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const offset = FOUR_GIB - 500;
      const length = 100_000;
      const bytes = block.subarray(500, 500 + length);
      const r = ok(await s.handle({ id: 2, type: "hash", docId: "d1", offset, length, algorithms: ["crc32", "md5", "sha1", "sha256"] }));
      assert.equal(r.offset, offset);
      assert.equal(r.length, length);
      assert.equal(r.digests.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(r.digests.sha1, createHash("sha1").update(bytes).digest("hex"));
      assert.equal(r.digests.md5, createHash("md5").update(bytes).digest("hex"));
      const crc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
      if (crc) assert.equal(r.digests.crc32, crc(bytes).toString(16).padStart(8, "0"));
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "hash"));
      assert.equal(err(await s.handle({ id: 3, type: "hash", docId: "d1", algorithms: [] })), "EINVAL");
      assert.equal(err(await s.handle({ id: 4, type: "hash", docId: "d1", algorithms: ["sha512"] })), "EINVAL");
      assert.equal(err(await s.handle({ id: 5, type: "hash", docId: "d1", offset: 6 * GiB, algorithms: ["md5"] })), "ERANGE");
      assert.equal(err(await s.handle({ id: 6, type: "hash", docId: "d7", algorithms: ["md5"] })), "EBADDOC");
    } finally {
      s.dispose();
    }
  });

  it("the whole file by default; cancel", async () => {
    const file = makeFile(data);
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const r = ok(await s.handle({ id: 2, type: "hash", docId: "d1", algorithms: ["sha256"] }));
      assert.equal(r.digests.sha256, createHash("sha256").update(data).digest("hex"));
      assert.deepEqual(Object.keys(r.digests), ["sha256"]);
      const fx = makeSparseFile({ size: 64 * GiB, blocks: [] });
      ok(await s.handle({ id: 3, type: "open", path: fx.path }));
      const pending = s.handle({ id: 4, type: "hash", docId: "d2", algorithms: ["sha256"] });
      const start = events.filter((e) => e.event === "job-progress" && e.op === "hash").pop() as Extract<Event, { event: "job-progress" }>;
      ok(await s.handle({ id: 5, type: "cancel", jobId: start.jobId }));
      assert.equal(err(await pending), "ECANCELED");
    } finally {
      s.dispose();
    }
  });
});

describe("panels: compare", () => {
  it("next, previous, count match a byte loop; both docIds must be this client's", async () => {
    const a = Buffer.from(data);
    const b = Buffer.from(data);
    const diffs = [5, 6, 4095, 4096, 150_000, 199_999];
    for (const d of diffs) b[d] = b[d]! ^ 0x5a;
    const fa = makeFile(a, "a.bin");
    const fb = makeFile(Buffer.concat([b, Buffer.from("tail")]), "b.bin");
    const { s } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fa }));
      ok(await s.handle({ id: 2, type: "open", path: fb }));
      const n = ok(await s.handle({ id: 3, type: "compare", docId: "d1", otherDocId: "d2", op: "next", from: 0 }));
      assert.deepEqual(n.difference, { offset: 5, a: a[5], b: b[5] });
      assert.deepEqual(n.eof, { shorter: "a", at: a.length });
      assert.equal(ok(await s.handle({ id: 4, type: "compare", docId: "d1", otherDocId: "d2", op: "next", from: 4097 })).difference.offset, 150_000);
      assert.equal(ok(await s.handle({ id: 5, type: "compare", docId: "d1", otherDocId: "d2", op: "next", from: 199_999 })).difference.offset, 199_999);
      assert.equal(ok(await s.handle({ id: 6, type: "compare", docId: "d1", otherDocId: "d2", op: "next", from: 200_000 })).difference, null);
      assert.equal(ok(await s.handle({ id: 7, type: "compare", docId: "d1", otherDocId: "d2", op: "previous", from: 150_000 })).difference.offset, 4096);
      assert.equal(ok(await s.handle({ id: 8, type: "compare", docId: "d1", otherDocId: "d2", op: "previous", from: 5 })).difference, null);
      assert.equal(ok(await s.handle({ id: 9, type: "compare", docId: "d1", otherDocId: "d2", op: "count", from: 0 })).differences, diffs.length);
      assert.equal(ok(await s.handle({ id: 10, type: "compare", docId: "d1", otherDocId: "d2", op: "count", from: 6, length: 4091 })).differences, 3);
      assert.equal(err(await s.handle({ id: 11, type: "compare", docId: "d1", otherDocId: "d2", op: "sideways", from: 0 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 12, type: "compare", docId: "d1", op: "next", from: 0 })), "EINVAL");
      assert.equal(err(await s.handle({ id: 13, type: "compare", docId: "d1", otherDocId: "d3", op: "next", from: 0 })), "EBADDOC");
      assert.equal(err(await s.handle({ id: 14, type: "compare", docId: "d1", otherDocId: "d2", op: "next", from: 300_000 })), "ERANGE");
      // Another client's document is not addressable.
      const other = service();
      try {
        ok(await other.s.handle({ id: 1, type: "open", path: fa }));
        assert.equal(err(await other.s.handle({ id: 2, type: "compare", docId: "d3", otherDocId: "d2", op: "next", from: 0 })), "EBADDOC");
      } finally {
        other.s.dispose();
      }
    } finally {
      s.dispose();
    }
  });
});

describe("panels: export", () => {
  it("writes the range to a new file (temp + rename); EEXIST without overwrite; refuses its own file", async () => {
    const file = makeFile(data);
    const dir = makeTempDir("hexmap-export-");
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file }));
      const target = path.join(dir, "part.bin");
      const r = ok(await s.handle({ id: 2, type: "export", docId: "d1", offset: 1234, length: 100_000, path: target }));
      assert.equal(r.bytesWritten, 100_000);
      assert.deepEqual(fs.readFileSync(target), data.subarray(1234, 101_234));
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "export"));
      assert.equal(err(await s.handle({ id: 3, type: "export", docId: "d1", offset: 0, length: 10, path: target })), "EEXIST");
      ok(await s.handle({ id: 4, type: "export", docId: "d1", offset: 0, length: 10, path: target, overwrite: true }));
      assert.deepEqual(fs.readFileSync(target), data.subarray(0, 10));
      assert.equal(err(await s.handle({ id: 5, type: "export", docId: "d1", offset: 0, length: 10, path: file, overwrite: true })), "EINVAL");
      assert.equal(err(await s.handle({ id: 6, type: "export", docId: "d1", offset: 0, length: 10, path: "relative.bin" })), "EINVAL");
      assert.equal(err(await s.handle({ id: 7, type: "export", docId: "d1", offset: 0, length: 10, path: dir, overwrite: true })), "EISDIR");
      assert.equal(err(await s.handle({ id: 8, type: "export", docId: "d1", offset: 0, length: 0, path: target })), "EINVAL");
      assert.equal(err(await s.handle({ id: 9, type: "export", docId: "d5", offset: 0, length: 1, path: target })), "EBADDOC");
      assert.equal(err(await s.handle({ id: 10, type: "export", docId: "d1", offset: 0, length: 1, path: path.join(dir, "no", "such", "x.bin") })), "ENOENT");
      assert.deepEqual(fs.readdirSync(dir), ["part.bin"], "no temporary files left");
    } finally {
      s.dispose();
    }
  });

  it("cancel removes the temporary file and leaves no target", async () => {
    const fx = makeSparseFile({ size: 64 * GiB, blocks: [] });
    const dir = makeTempDir("hexmap-export-");
    const { s, events } = service();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path }));
      const pending = s.handle({ id: 2, type: "export", docId: "d1", offset: 0, length: 64 * GiB, path: path.join(dir, "all.bin") });
      const start = events.find((e) => e.event === "job-progress" && e.op === "export") as Extract<Event, { event: "job-progress" }>;
      await new Promise((r) => setTimeout(r, 50));
      ok(await s.handle({ id: 3, type: "cancel", jobId: start.jobId }));
      assert.equal(err(await pending), "ECANCELED");
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      s.dispose();
    }
  });
});

describe("panels: bookmarks", () => {
  it("persist per file across Services in the config folder, not next to the file", async () => {
    const dir = makeTempDir("hexmap-bm-");
    const file = makeFile(data, "bm.bin", dir);
    const configDir = makeTempDir("hexmap-cfg-");
    const marks = [
      { name: "header", offset: 0, length: 16, color: "#e5534b" },
      { name: "text", offset: 100_000, length: 2000, color: "#57ab5a" },
    ];
    const first = service(configDir);
    try {
      ok(await first.s.handle({ id: 1, type: "open", path: file }));
      assert.deepEqual(ok(await first.s.handle({ id: 2, type: "bookmarks-get", docId: "d1" })).bookmarks, []);
      assert.deepEqual(ok(await first.s.handle({ id: 3, type: "bookmarks-set", docId: "d1", bookmarks: [marks[1], marks[0]] })).bookmarks, marks);
    } finally {
      first.s.dispose();
    }
    assert.deepEqual(fs.readdirSync(dir), ["bm.bin"], "nothing written next to the file");
    assert.equal(fs.readdirSync(path.join(configDir, "bookmarks")).length, 1);
    // A "restart": a new Service, the same file under another spelling of its path.
    const second = service(configDir);
    try {
      ok(await second.s.handle({ id: 1, type: "open", path: path.join(dir, ".", "bm.bin") }));
      assert.deepEqual(ok(await second.s.handle({ id: 2, type: "bookmarks-get", docId: "d1" })).bookmarks, marks);
      // Malformed: bad colour, zero length, unknown field, not an array; past the end: ERANGE.
      assert.equal(err(await second.s.handle({ id: 3, type: "bookmarks-set", docId: "d1", bookmarks: [{ ...marks[0], color: "red" }] })), "EINVAL");
      assert.equal(err(await second.s.handle({ id: 4, type: "bookmarks-set", docId: "d1", bookmarks: [{ ...marks[0], length: 0 }] })), "EINVAL");
      assert.equal(err(await second.s.handle({ id: 5, type: "bookmarks-set", docId: "d1", bookmarks: [{ ...marks[0], extra: 1 }] })), "EINVAL");
      assert.equal(err(await second.s.handle({ id: 6, type: "bookmarks-set", docId: "d1", bookmarks: "none" })), "EINVAL");
      assert.equal(err(await second.s.handle({ id: 7, type: "bookmarks-set", docId: "d1", bookmarks: [{ ...marks[0], offset: data.length }] })), "ERANGE");
      assert.equal(err(await second.s.handle({ id: 8, type: "bookmarks-get", docId: "d2" })), "EBADDOC");
      assert.equal(err(await second.s.handle({ id: 9, type: "bookmarks-set", docId: "d2", bookmarks: [] })), "EBADDOC");
      // The failed sets changed nothing; an empty list removes the store file.
      assert.deepEqual(ok(await second.s.handle({ id: 10, type: "bookmarks-get", docId: "d1" })).bookmarks, marks);
      ok(await second.s.handle({ id: 11, type: "bookmarks-set", docId: "d1", bookmarks: [] }));
      assert.deepEqual(fs.readdirSync(path.join(configDir, "bookmarks")), []);
    } finally {
      second.s.dispose();
    }
  });

  it("HEXMAP_CONFIG_DIR is the default folder; bookmarks past a shrunken file's end are dropped", async () => {
    const configDir = makeTempDir("hexmap-cfg-");
    const saved = process.env.HEXMAP_CONFIG_DIR;
    process.env.HEXMAP_CONFIG_DIR = configDir;
    const file = makeFile(data, "shrinks.bin");
    try {
      const s = new Service({ pollIntervalMs: 0, watch: false });
      try {
        ok(await s.handle({ id: 1, type: "open", path: file }));
        ok(await s.handle({ id: 2, type: "bookmarks-set", docId: "d1", bookmarks: [{ name: "a", offset: 10, length: 10, color: "#000000" }, { name: "z", offset: 150_000, length: 10, color: "#ffffff" }] }));
      } finally {
        s.dispose();
      }
      assert.equal(fs.readdirSync(path.join(configDir, "bookmarks")).length, 1);
      fs.truncateSync(file, 100_000);
      const s2 = new Service({ pollIntervalMs: 0, watch: false });
      try {
        ok(await s2.handle({ id: 1, type: "open", path: file }));
        assert.deepEqual(ok(await s2.handle({ id: 2, type: "bookmarks-get", docId: "d1" })).bookmarks.map((b: { name: string }) => b.name), ["a"]);
      } finally {
        s2.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.HEXMAP_CONFIG_DIR;
      else process.env.HEXMAP_CONFIG_DIR = saved;
    }
  });
});
