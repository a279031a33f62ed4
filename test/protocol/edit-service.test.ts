// The editing half of the protocol, through Service.handle (and the WebSocket codec for the
// binary edit payload): edit, fill, undo, redo, save (job + progress + ECHANGED + EBUSY), save-as
// (progress, cancel), revert, reload, recover, cancel; read's edited ranges; document-changed to
// every holder; read-only refusal; malformed editing requests.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { DocumentPool, Service } from "../../app/engine/service";
import { HexmapError } from "../../app/engine/errors";
import { Editor } from "../../app/engine/editor";
import { journalPathFor } from "../../app/engine/journal";
import { setSaveFaultHook } from "../../app/engine/save";
import { decodeMessage, encodeMessage } from "../../app/protocol/codec";
import { MAX_EDIT_LENGTH, MAX_EDITED_RANGES, type Event, type Reply } from "../../app/protocol/messages";
import { FOUR_GIB, GiB, blockBytes, cleanupFixtures, makeFile, makeSparseFile, makeTempDir } from "../fixtures";

after(cleanupFixtures);

function ok<T = any>(reply: Reply): T {
  assert.equal(reply.ok, true, reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
  return (reply as unknown as { result: T }).result;
}

function code(reply: Reply): string {
  assert.equal(reply.ok, false, `expected an error reply, got ${JSON.stringify(reply).slice(0, 200)}`);
  return (reply as { error: { code: string } }).error.code;
}

async function waitFor<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function withService(): { s: Service; events: Event[] } {
  const s = new Service({ pollIntervalMs: 0, watch: false });
  const events: Event[] = [];
  s.onEvent((e) => events.push(e));
  return { s, events };
}

describe("Service editing", () => {
  it("open read-write: edit, read merged with edited ranges, undo/redo, save to disk", async () => {
    const data = blockBytes(1, 10_000);
    const file = makeFile(data, "edit.bin");
    const { s, events } = withService();
    try {
      const info = ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      assert.equal(info.readOnly, false);
      assert.equal(info.dirty, false);
      assert.equal(info.editCount, 0);
      assert.equal(info.canUndo, false);
      assert.equal(info.hasJournal, false);
      const g0 = info.generation;

      const e1 = ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 100, bytes: new Uint8Array([0xde, 0xad]), group: "t" }));
      assert.deepEqual([e1.start, e1.end], [100, 102]);
      assert.equal(e1.dirty, true);
      assert.equal(e1.editCount, 1);
      assert.equal(e1.canUndo, true);
      assert.ok(e1.generation > g0);
      // Typing with the same group coalesces into one undo step.
      const e2 = ok(await s.handle({ id: 3, type: "edit", docId: "d1", offset: 102, bytes: new Uint8Array([0xbe]), group: "t" }));
      assert.equal(e2.editCount, 1);
      assert.equal(e2.generation, e1.generation + 1);

      const r = ok(await s.handle({ id: 4, type: "read", docId: "d1", offset: 96, length: 16 }));
      assert.equal(r.generation, e2.generation);
      assert.deepEqual([...r.bytes.subarray(4, 7)], [0xde, 0xad, 0xbe]);
      assert.deepEqual(Buffer.from(r.bytes.subarray(0, 4)), data.subarray(96, 100));
      assert.deepEqual(r.edited, [4, 7]);
      // The file is untouched before Save.
      assert.deepEqual(fs.readFileSync(file), data);

      // document-changed reaches this client after the reply.
      await tick();
      const changed = events.filter((e) => e.event === "document-changed");
      assert.ok(changed.length >= 1);
      assert.equal((changed.at(-1) as any).generation, e2.generation);

      const u = ok(await s.handle({ id: 5, type: "undo", docId: "d1" }));
      assert.deepEqual(u.changed, { start: 100, end: 103 });
      assert.deepEqual(Buffer.from(u.bytes), data.subarray(100, 103));
      assert.deepEqual(u.edited, []);
      assert.equal(u.dirty, false);
      assert.equal(u.canRedo, true);
      const rd = ok(await s.handle({ id: 6, type: "redo", docId: "d1" }));
      assert.deepEqual([...rd.bytes], [0xde, 0xad, 0xbe]);
      assert.deepEqual(rd.edited, [0, 3]);
      assert.equal(ok(await s.handle({ id: 7, type: "redo", docId: "d1" })).changed, null);

      const f = ok(await s.handle({ id: 8, type: "fill", docId: "d1", offset: 9990, length: 10, byte: 0x41 }));
      assert.deepEqual([f.start, f.end], [9990, 10000]);
      assert.equal(f.editCount, 2);

      events.length = 0;
      const saved = ok(await s.handle({ id: 9, type: "save", docId: "d1" }));
      assert.equal(saved.dirty, false);
      assert.equal(saved.editCount, 0);
      assert.equal(saved.bytesWritten, 13);
      const progress = events.filter((e) => e.event === "job-progress");
      assert.ok(progress.length >= 1, "job-progress events");
      assert.equal((progress[0] as any).op, "save");
      assert.match((progress[0] as any).jobId, /^j\d+$/);
      const want = Buffer.from(data);
      want.set([0xde, 0xad, 0xbe], 100);
      want.fill(0x41, 9990);
      assert.deepEqual(fs.readFileSync(file), want);
      assert.ok(!fs.existsSync(journalPathFor(file)));

      // After the save the bytes are no longer "edited"; undo across the save still works.
      const after = ok(await s.handle({ id: 10, type: "read", docId: "d1", offset: 96, length: 16 }));
      assert.deepEqual(after.edited, []);
      const u2 = ok(await s.handle({ id: 11, type: "undo", docId: "d1" }));
      assert.deepEqual(u2.changed, { start: 9990, end: 10000 });
      assert.deepEqual(Buffer.from(u2.bytes), data.subarray(9990));
      assert.deepEqual(u2.edited, [0, 10]);
      assert.equal(u2.dirty, true);
      ok(await s.handle({ id: 12, type: "save", docId: "d1" }));
      assert.deepEqual(fs.readFileSync(file).subarray(9990), data.subarray(9990));
    } finally {
      s.dispose();
    }
  });

  it("edits and saves past 4 GiB in a sparse file; nothing else changes", async () => {
    const fx = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: FOUR_GIB - 10, length: 4096, seed: 9 }] });
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: fx.path, readOnly: false }));
      const at = FOUR_GIB + 3;
      ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: at, bytes: new Uint8Array([1, 2, 3]) }));
      const before = readAt(fx.path, at - 64, 128);
      ok(await s.handle({ id: 3, type: "save", docId: "d1" }));
      const now = readAt(fx.path, at - 64, 128);
      const want = Buffer.from(before);
      want.set([1, 2, 3], 64);
      assert.deepEqual(now, want);
      assert.equal(fs.statSync(fx.path).size, 5 * GiB);
    } finally {
      s.dispose();
    }
  });

  it("document-changed goes to every client holding the document", async () => {
    const file = makeFile(blockBytes(2, 4096), "shared.bin");
    const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
    const a = new Service({ pool });
    const b = new Service({ pool });
    const seenB: Event[] = [];
    b.onEvent((e) => seenB.push(e));
    try {
      const info = ok(await a.handle({ id: 1, type: "open", path: file, readOnly: false }));
      b.grant(info.docId);
      const r = ok(await a.handle({ id: 2, type: "edit", docId: info.docId, offset: 0, bytes: new Uint8Array([9]) }));
      const ev = await waitFor(() => seenB.find((e) => e.event === "document-changed"));
      assert.deepEqual(ev, {
        event: "document-changed",
        readOnly: false,
        docId: info.docId,
        generation: r.generation,
        size: 4096,
        dirty: true,
        editCount: 1,
        canUndo: true,
        canRedo: false,
        hasJournal: false,
        savedSize: 4096,
      });
      // job-progress is for the requester only.
      ok(await a.handle({ id: 3, type: "save", docId: info.docId }));
      await tick();
      assert.equal(seenB.filter((e) => e.event === "job-progress").length, 0);
    } finally {
      a.dispose();
      b.dispose();
      pool.dispose();
    }
  });

  it("read-only documents refuse every edit with EACCES; a non-writable file opens read-only with a reason", async () => {
    const data = blockBytes(3, 1000);
    const file = makeFile(data, "ro.bin");
    const { s } = withService();
    try {
      const ro = ok(await s.handle({ id: 1, type: "open", path: file }));
      assert.equal(ro.readOnly, true);
      for (const req of [
        { type: "edit", docId: ro.docId, offset: 0, bytes: new Uint8Array([1]) },
        { type: "fill", docId: ro.docId, offset: 0, length: 4, byte: 0 },
        { type: "undo", docId: ro.docId },
        { type: "redo", docId: ro.docId },
        { type: "save", docId: ro.docId },
      ]) {
        const reply = await s.handle({ id: 2, ...req });
        assert.equal(code(reply), "EACCES", req.type);
        assert.match((reply as any).error.message, /read-only/);
      }
      assert.deepEqual(fs.readFileSync(file), data);

      if (process.getuid?.() !== 0) {
        fs.chmodSync(file, 0o444);
        const asked = ok(await s.handle({ id: 3, type: "open", path: file, readOnly: false }));
        assert.equal(asked.readOnly, true);
        assert.match(asked.readOnlyReason, /permission/);
        assert.equal(code(await s.handle({ id: 4, type: "edit", docId: asked.docId, offset: 0, bytes: new Uint8Array([1]) })), "EACCES");
        fs.chmodSync(file, 0o644);
      }
      // Save As works from a read-only document.
      const copy = path.join(path.dirname(file), "ro-copy.bin");
      ok(await s.handle({ id: 5, type: "save-as", docId: ro.docId, path: copy }));
      assert.deepEqual(fs.readFileSync(copy), data);
    } finally {
      s.dispose();
    }
  });

  it("malformed editing requests are EINVAL; bad ranges ERANGE; unknown docs EBADDOC", async () => {
    const file = makeFile(blockBytes(4, 100), "bad.bin");
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const bad: unknown[] = [
        { type: "edit", docId: "d1", offset: 0, bytes: [1, 2] },
        { type: "edit", docId: "d1", offset: 0, bytes: "AQI=" },
        { type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array(0) },
        { type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array(MAX_EDIT_LENGTH + 1) },
        { type: "edit", docId: "d1", offset: -1, bytes: new Uint8Array(1) },
        { type: "edit", docId: "d1", offset: 1.5, bytes: new Uint8Array(1) },
        { type: "edit", docId: "d1", offset: 2 ** 53, bytes: new Uint8Array(1) },
        { type: "edit", docId: "d1", bytes: new Uint8Array(1) },
        { type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array(1), group: {} },
        { type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array(1), extra: 1 },
        { type: "fill", docId: "d1", offset: 0, length: 1, byte: 256 },
        { type: "fill", docId: "d1", offset: 0, length: 1, byte: -1 },
        { type: "fill", docId: "d1", offset: 0, length: 1, byte: 1.5 },
        { type: "fill", docId: "d1", offset: 0, length: 0, byte: 1 },
        { type: "fill", docId: "d1", offset: 0, length: 2 ** 53, byte: 1 },
        { type: "fill", docId: "d1", offset: 0, length: 4, byte: 1, bytes: new Uint8Array([1]) },
        { type: "fill", docId: "d1", offset: 0, length: 4, bytes: new Uint8Array(0) },
        { type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array(0) },
        { type: "edit", docId: "d1", offset: 0, deleteLength: 0, bytes: new Uint8Array(0) },
        { type: "edit", docId: "d1", offset: 0, deleteLength: -1, bytes: new Uint8Array(1) },
        { type: "save", docId: "d1", strategy: "sideways" },
        { type: "undo" },
        { type: "redo", docId: "x" },
        { type: "save", docId: "d1", force: "yes" },
        { type: "save-as", docId: "d1" },
        { type: "save-as", docId: "d1", path: "" },
        { type: "revert", docId: 1 },
        { type: "reload" },
        { type: "recover", docId: "d1" },
        { type: "recover", docId: "d1", direction: "sideways" },
        { type: "recover", direction: "forward" },
        { type: "recover", docId: "d1", path: file, direction: "forward" },
        { type: "cancel", jobId: "x1" },
        { type: "cancel" },
      ];
      for (const req of bad) {
        const reply = await s.handle({ id: 7, ...(req as object) });
        assert.equal(code(reply), "EINVAL", JSON.stringify(req, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)));
        assert.equal(reply.id, 7);
      }
      assert.equal(code(await s.handle({ id: 8, type: "edit", docId: "d1", offset: 99, bytes: new Uint8Array(2) })), "ERANGE");
      assert.equal(code(await s.handle({ id: 9, type: "fill", docId: "d1", offset: 100, length: 1, byte: 0 })), "ERANGE");
      assert.equal(code(await s.handle({ id: 10, type: "edit", docId: "d9", offset: 0, bytes: new Uint8Array(1) })), "EBADDOC");
      assert.equal(code(await s.handle({ id: 11, type: "save", docId: "d9" })), "EBADDOC");
      assert.deepEqual(ok(await s.handle({ id: 12, type: "cancel", jobId: "j999" })), { jobId: "j999", canceled: false });
      // Nothing of the above changed the document.
      const info = ok(await s.handle({ id: 13, type: "info", docId: "d1" }));
      assert.equal(info.dirty, false);
      assert.equal(info.editCount, 0);
    } finally {
      s.dispose();
    }
  });

  it("edit bytes travel in a binary WebSocket frame and arrive as a Uint8Array", async () => {
    const file = makeFile(blockBytes(5, 1000), "frame.bin");
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const frame = encodeMessage({ id: 2, type: "edit", docId: "d1", offset: 10, bytes: new Uint8Array([0xca, 0xfe]), group: 3 });
      assert.ok(frame instanceof Uint8Array, "binary frame");
      ok(await s.handle(decodeMessage(Buffer.from(frame))));
      // An undo reply carries its bytes the same way.
      const reply = await s.handle({ id: 3, type: "undo", docId: "d1" });
      const back = decodeMessage(encodeMessage(reply));
      assert.ok((back.result as any).bytes instanceof Uint8Array);
      assert.equal((back.result as any).bytes.length, 2);
    } finally {
      s.dispose();
    }
  });

  it("read replies list edited runs, or a mask past MAX_EDITED_RANGES", async () => {
    const size = 64 * 1024;
    const file = makeFile(blockBytes(6, size), "many.bin");
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const n = MAX_EDITED_RANGES + 10;
      for (let i = 0; i < n; i++) ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: i * 4, bytes: new Uint8Array([i & 0xff]) }));
      const small = ok(await s.handle({ id: 3, type: "read", docId: "d1", offset: 0, length: 4 * 10 }));
      assert.deepEqual(small.edited, [0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29, 32, 33, 36, 37]);
      const page = ok(await s.handle({ id: 4, type: "read", docId: "d1", offset: 0, length: size }));
      assert.deepEqual(page.edited, []);
      const mask = Buffer.from(page.editedMask, "base64");
      assert.equal(mask.length, size / 8);
      for (let i = 0; i < size; i++) assert.equal((mask[i >> 3]! >> (i & 7)) & 1, i % 4 === 0 && i < n * 4 ? 1 : 0, `byte ${i}`);
      // The reply still encodes (its header stays small).
      assert.ok(encodeMessage({ id: 4, ok: true, result: page }) instanceof Uint8Array);
    } finally {
      s.dispose();
    }
  });

  it("save: ECHANGED after an outside change, then force; EBUSY for edits while a save runs", async () => {
    const data = blockBytes(7, 50_000);
    const file = makeFile(data, "changed.bin");
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 10, bytes: new Uint8Array([1]) }));
      // Another program rewrites the file (same size, new mtime).
      const other = Buffer.from(data);
      other[40_000] = other[40_000]! ^ 0xff;
      fs.writeFileSync(file, other);
      const t = new Date(Date.now() + 5000);
      fs.utimesSync(file, t, t);
      const refused = await s.handle({ id: 3, type: "save", docId: "d1" });
      assert.equal(code(refused), "ECHANGED");
      assert.deepEqual(fs.readFileSync(file), other, "a refused save writes nothing");
      assert.equal(ok(await s.handle({ id: 4, type: "info", docId: "d1" })).dirty, true);

      // While a forced save runs, edits are EBUSY (the save marks itself busy before its first await).
      const saving = s.handle({ id: 5, type: "save", docId: "d1", force: true });
      const busy = await s.handle({ id: 6, type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array([2]) });
      assert.equal(code(busy), "EBUSY");
      assert.equal(code(await s.handle({ id: 7, type: "undo", docId: "d1" })), "EBUSY");
      const done = ok(await saving);
      assert.equal(done.dirty, false);
      const want = Buffer.from(other);
      want[10] = 1;
      assert.deepEqual(fs.readFileSync(file), want);
    } finally {
      setSaveFaultHook(null);
      s.dispose();
    }
  });

  it("save-as: progress, result on disk; cancel leaves nothing behind", async () => {
    const data = blockBytes(8, 12 * 1024 * 1024);
    const file = makeFile(data, "src.bin");
    const dir = makeTempDir();
    const { s, events } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 5, bytes: new Uint8Array([7, 7]) }));
      const target = path.join(dir, "copy.bin");
      const res = ok(await s.handle({ id: 3, type: "save-as", docId: "d1", path: target }));
      assert.equal(res.bytesWritten, data.length);
      const want = Buffer.from(data);
      want[5] = 7;
      want[6] = 7;
      assert.ok(fs.readFileSync(target).equals(want));
      const prog = events.filter((e) => e.event === "job-progress" && e.op === "save-as");
      assert.ok(prog.length >= 2);
      assert.equal((prog.at(-1) as any).done, data.length);
      // The document keeps its edits (Save As writes a copy).
      assert.equal(ok(await s.handle({ id: 4, type: "info", docId: "d1" })).dirty, true);

      events.length = 0;
      const target2 = path.join(dir, "cancelled.bin");
      const pending = s.handle({ id: 5, type: "save-as", docId: "d1", path: target2 });
      const started = events.find((e) => e.event === "job-progress") as { jobId: string } | undefined;
      assert.ok(started, "a job-progress event at the start names the job");
      assert.deepEqual(ok(await s.handle({ id: 6, type: "cancel", jobId: started.jobId })), { jobId: started.jobId, canceled: true });
      assert.equal(code(await pending), "ECANCELED");
      assert.deepEqual(fs.readdirSync(dir).sort(), ["copy.bin"]);
      // The target must not be the file itself.
      assert.equal(code(await s.handle({ id: 7, type: "save-as", docId: "d1", path: file })), "EINVAL");
    } finally {
      s.dispose();
    }
  });

  it("revert and reload drop the edits; reload sees the file as it is now", async () => {
    const data = blockBytes(9, 4000);
    const file = makeFile(data, "revert.bin");
    const { s } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const e = ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array([0xff]) }));
      const rv = ok(await s.handle({ id: 3, type: "revert", docId: "d1" }));
      assert.equal(rv.dirty, false);
      assert.equal(rv.canUndo, false);
      assert.ok(rv.generation > e.generation);
      assert.equal(ok(await s.handle({ id: 4, type: "read", docId: "d1", offset: 0, length: 1 })).bytes[0], data[0]);

      ok(await s.handle({ id: 5, type: "edit", docId: "d1", offset: 1, bytes: new Uint8Array([0xff]) }));
      const bigger = Buffer.concat([data, Buffer.from("MORE")]);
      fs.writeFileSync(file, bigger);
      const rl = ok(await s.handle({ id: 6, type: "reload", docId: "d1" }));
      assert.equal(rl.dirty, false);
      assert.equal(rl.size, bigger.length);
      assert.ok(rl.generation > rv.generation);
      const r = ok(await s.handle({ id: 7, type: "read", docId: "d1", offset: bigger.length - 4, length: 4 }));
      assert.equal(Buffer.from(r.bytes).toString(), "MORE");
      // The reloaded document edits and saves normally.
      ok(await s.handle({ id: 8, type: "edit", docId: "d1", offset: bigger.length - 1, bytes: new Uint8Array([0x21]) }));
      ok(await s.handle({ id: 9, type: "save", docId: "d1" }));
      assert.equal(fs.readFileSync(file).subarray(-4).toString(), "MOR!");
    } finally {
      s.dispose();
    }
  });

  it("a journal found at open: hasJournal, save refused, recover forward/back by docId or path", async () => {
    const old = blockBytes(10, 20_000);
    for (const direction of ["forward", "back"] as const) {
      const file = makeFile(old, `journal-${direction}.bin`);
      const ed = Editor.open(file);
      ed.edit(500, Buffer.from("NEW"));
      setSaveFaultHook((step) => {
        if (step === "journal-durable") throw new HexmapError("EIO", "injected");
      });
      try {
        await ed.save().catch(() => {});
      } finally {
        setSaveFaultHook(null);
        ed.close();
      }
      assert.ok(fs.existsSync(journalPathFor(file)));
      const { s } = withService();
      try {
        const info = ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
        assert.equal(info.hasJournal, true);
        ok(await s.handle({ id: 2, type: "edit", docId: info.docId, offset: 0, bytes: new Uint8Array([1]) }));
        assert.equal(code(await s.handle({ id: 3, type: "save", docId: info.docId })), "EBUSY");
        // Recovery with unsaved edits is refused; after revert it runs.
        assert.equal(code(await s.handle({ id: 4, type: "recover", docId: info.docId, direction })), "EBUSY");
        ok(await s.handle({ id: 5, type: "revert", docId: info.docId }));
        const rec = ok(await s.handle({ id: 6, type: "recover", docId: info.docId, direction }));
        assert.equal(rec.action, direction === "forward" ? "rolled-forward" : "rolled-back");
        assert.equal(rec.info.hasJournal, false);
        assert.ok(!fs.existsSync(journalPathFor(file)));
        const want = Buffer.from(old);
        if (direction === "forward") want.write("NEW", 500, "latin1");
        assert.deepEqual(fs.readFileSync(file), want);
        const r = ok(await s.handle({ id: 7, type: "read", docId: info.docId, offset: 500, length: 3 }));
        assert.deepEqual(Buffer.from(r.bytes), want.subarray(500, 503));
      } finally {
        s.dispose();
      }
    }
    // By path, for a file that is not open.
    const file = makeFile(old, "journal-path.bin");
    const ed = Editor.open(file);
    ed.edit(7, Buffer.from("X"));
    setSaveFaultHook((step) => {
      if (step === "journal-durable") throw new HexmapError("EIO", "injected");
    });
    await ed.save().catch(() => {});
    setSaveFaultHook(null);
    ed.close();
    const { s } = withService();
    try {
      const rec = ok(await s.handle({ id: 1, type: "recover", path: file, direction: "forward" }));
      assert.equal(rec.action, "rolled-forward");
      assert.equal(fs.readFileSync(file)[7], "X".charCodeAt(0));
      assert.equal(ok(await s.handle({ id: 2, type: "recover", path: file, direction: "back" })).action, "none");
    } finally {
      s.dispose();
    }
  });

  it("our own save is not reported as an outside change; another program's write is", async () => {
    const data = blockBytes(11, 8192);
    const file = makeFile(data, "watch.bin");
    const s = new Service({ pollIntervalMs: 20, watch: true });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array([0x55]) }));
      ok(await s.handle({ id: 3, type: "save", docId: "d1" }));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(events.filter((e) => e.event === "file-changed").length, 0, JSON.stringify(events.filter((e) => e.event === "file-changed")));
      const t = new Date(Date.now() + 10_000);
      const fd = fs.openSync(file, "r+");
      fs.writeSync(fd, Buffer.from([0x66]), 0, 1, 100);
      fs.closeSync(fd);
      fs.utimesSync(file, t, t);
      await waitFor(() => events.find((e) => e.event === "file-changed"));
      // The document was clean: it adopts the file as it is now, so a later save is not ECHANGED.
      ok(await s.handle({ id: 4, type: "edit", docId: "d1", offset: 1, bytes: new Uint8Array([0x77]) }));
      ok(await s.handle({ id: 5, type: "save", docId: "d1" }));
      const disk = fs.readFileSync(file);
      assert.deepEqual([disk[0], disk[1], disk[100]], [0x55, 0x77, 0x66]);
    } finally {
      s.dispose();
    }
  });

  it("any-length edits: insert, delete and fill-insert change the size everywhere; reads mark inserted bytes; a resizing save writes the file", async () => {
    const data = blockBytes(11, 10_000);
    const file = makeFile(data, "resize.bin");
    const { s, events } = withService();
    try {
      ok(await s.handle({ id: 1, type: "open", path: file, readOnly: false }));
      const ins = ok(await s.handle({ id: 2, type: "edit", docId: "d1", offset: 100, deleteLength: 0, bytes: new Uint8Array([1, 2, 3]) }));
      assert.equal(ins.size, 10_003);
      assert.equal(ins.savedSize, 10_000);
      assert.deepEqual([ins.start, ins.end], [100, 10_003], "everything after the insert shifted");
      const del = ok(await s.handle({ id: 3, type: "edit", docId: "d1", offset: 0, deleteLength: 10, bytes: new Uint8Array(0) }));
      assert.equal(del.size, 9_993);
      const fill = ok(await s.handle({ id: 4, type: "fill", docId: "d1", offset: 9_993, length: 5, bytes: new Uint8Array([0xab, 0xcd]), insert: true }));
      assert.equal(fill.size, 9_998);
      const over = ok(await s.handle({ id: 5, type: "edit", docId: "d1", offset: 20, bytes: new Uint8Array([0xee]) }));
      assert.equal(over.size, 9_998);
      await tick();
      const changed = events.filter((e) => e.event === "document-changed");
      assert.equal((changed[changed.length - 1] as { size: number }).size, 9_998, "document-changed carries the new size");

      const r = ok(await s.handle({ id: 6, type: "read", docId: "d1", offset: 0, length: 200 }));
      assert.equal(r.size, 9_998);
      assert.deepEqual(Buffer.from(r.bytes.subarray(0, 20)), data.subarray(10, 30));
      assert.deepEqual([...r.bytes.subarray(90, 93)], [1, 2, 3]);
      assert.deepEqual(r.edited, [20, 21, 90, 93]);
      assert.deepEqual(r.inserted, [90, 93]);
      const tail = ok(await s.handle({ id: 7, type: "read", docId: "d1", offset: 9_990, length: 100 }));
      assert.deepEqual([...tail.bytes.subarray(3)], [0xab, 0xcd, 0xab, 0xcd, 0xab]);

      const saved = ok(await s.handle({ id: 8, type: "save", docId: "d1", strategy: "rewrite" }));
      assert.equal(saved.strategy, "rewrite");
      assert.equal(saved.size, 9_998);
      assert.equal(saved.savedSize, 9_998);
      const expected = Buffer.concat([data.subarray(10, 100), Buffer.from([1, 2, 3]), data.subarray(100)]);
      expected[20] = 0xee;
      const want = Buffer.concat([expected, Buffer.from([0xab, 0xcd, 0xab, 0xcd, 0xab])]);
      assert.deepEqual(fs.readFileSync(file), want);
      // Undo goes on across the save.
      const u = ok(await s.handle({ id: 9, type: "undo", docId: "d1" }));
      assert.equal(u.size, 9_998);
      assert.equal(u.dirty, true);
    } finally {
      s.dispose();
    }
  });
});

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
