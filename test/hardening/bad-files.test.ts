// Bad files (issue 9, item 2): every way a file can be wrong or go wrong under an open document,
// with the error each must give, no crash, and pending edits kept in the overlay.
//
// Windows only: a file locked exclusively by another process (sharing violation → EBUSY) is
// covered by native/test/win32-platform.test.ts in the Wine leg, not repeated here.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { loadNative } from "../../native/index";
import { Document } from "../../app/engine/document";
import { Editor } from "../../app/engine/editor";
import { HexmapError } from "../../app/engine/errors";
import { journalPathFor } from "../../app/engine/journal";
import { LineIndex } from "../../app/engine/line-index";
import { setSaveFaultHook } from "../../app/engine/save";
import { startSearch } from "../../app/engine/search";
import { Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import { GiB, MiB, blockBytes, cleanupFixtures, makeFile, makeSparseFile, makeTempDir } from "../fixtures";
import { isLinux, isRoot, waitFor } from "./helpers";

after(cleanupFixtures);

const native = loadNative();
const posixOnly = process.platform === "win32" ? "POSIX behaviour (Windows refuses to truncate a mapped file)" : false;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${(err as Error).message}`;
  }
  return "no error";
}

async function rejectsCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HexmapError, `a HexmapError, got ${String(err)}`);
    return err.code;
  }
  return "resolved";
}

function err(reply: Reply): string {
  return reply.ok ? "ok" : reply.error.code;
}

/** An Editor on a fresh copy of `data` with two pending edits; returns it and the edits. */
function editedCopy(data: Buffer, edits: Array<[number, string]>) {
  const file = makeFile(data, "edited.bin");
  const ed = Editor.open(file);
  for (const [offset, text] of edits) ed.edit(offset, Buffer.from(text));
  return { file, ed };
}

function assertEditsKept(ed: Editor, edits: Array<[number, string]>): void {
  assert.equal(ed.dirty, true, "still dirty");
  for (const [offset, text] of edits) {
    const runs = ed.editedIn(offset, offset + text.length);
    const bytes = Buffer.concat(runs.map((r) => Buffer.from(r.bytes)));
    assert.equal(bytes.toString(), text, `the edit at ${offset} is still in the overlay`);
  }
}

describe("bad files: refused at open, typed", () => {
  it("missing, a directory, an empty file", async () => {
    const dir = makeTempDir();
    assert.equal(codeOf(() => Document.openFile(path.join(dir, "missing.bin"))), "ENOENT");
    assert.equal(codeOf(() => Editor.open(path.join(dir, "missing.bin"))), "ENOENT");
    assert.equal(codeOf(() => Document.openFile(dir)), "EISDIR");
    assert.equal(codeOf(() => Editor.open(dir)), "EISDIR");
    const empty = makeFile("", "empty.bin");
    const doc = Document.openFile(empty);
    try {
      assert.equal(doc.size, 0);
      assert.equal((await doc.read(0, 100)).length, 0);
      assert.equal(await rejectsCode(doc.read(1, 1)), "ERANGE");
    } finally {
      doc.close();
    }
    const s = new Service({ pollIntervalMs: 0 });
    try {
      assert.equal(err(await s.handle({ id: 1, type: "open", path: path.join(dir, "missing.bin") })), "ENOENT");
      assert.equal(err(await s.handle({ id: 2, type: "open", path: dir })), "EISDIR");
      const opened = await s.handle({ id: 3, type: "open", path: empty, readOnly: false });
      assert.equal(err(opened), "ok");
      assert.equal(err(await s.handle({ id: 4, type: "edit", docId: "d1", offset: 0, bytes: new Uint8Array([1]) })), "ERANGE");
    } finally {
      s.dispose();
    }
  });

  it("a FIFO is refused with EINVAL at once, never waits for a writer", { skip: isLinux ? false : "needs mkfifo" }, () => {
    const dir = makeTempDir();
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    // In a child with a deadline: open(2) of a FIFO blocks until a writer comes unless O_NONBLOCK.
    const script = `
      const { Document } = require(${JSON.stringify(require.resolve("../../app/engine/document"))});
      const { Editor } = require(${JSON.stringify(require.resolve("../../app/engine/editor"))});
      const codes = [];
      for (const open of [() => Document.openFile(process.argv[1]), () => Editor.open(process.argv[1]), () => Editor.open(process.argv[1], { readOnly: true })]) {
        try { open(); codes.push("opened"); } catch (e) { codes.push(e.code); }
      }
      console.log(codes.join(","));`;
    const r = spawnSync(process.execPath, ["-e", script, fifo], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.error, undefined, "the child did not hang");
    assert.equal(r.stdout.trim(), "EINVAL,EINVAL,EINVAL", r.stderr);
  });

  it("/dev/zero and /dev/null (endless and empty devices) are refused: not regular files", { skip: isLinux ? false : "Linux devices" }, () => {
    for (const dev of ["/dev/zero", "/dev/null", "/dev/urandom"]) {
      assert.equal(codeOf(() => Document.openFile(dev)), "EINVAL", dev);
      assert.equal(codeOf(() => native.openFile(dev)), "EINVAL", dev);
      assert.equal(codeOf(() => Editor.open(dev, { readOnly: true })), "EINVAL", dev);
    }
  });

  it("permission denied (mode 000), as an unprivileged user", { skip: !isLinux ? "POSIX permissions" : false }, (t) => {
    const dir = makeTempDir();
    fs.chmodSync(dir, 0o755);
    const locked = path.join(dir, "locked.bin");
    fs.writeFileSync(locked, "secret");
    fs.chmodSync(locked, 0o000);
    const readable = path.join(dir, "readonly.bin");
    fs.writeFileSync(readable, "public");
    fs.chmodSync(readable, 0o444);
    // Root reads anything: drop to nobody (65534) in a child first. Not root: this process is the unprivileged one.
    const script = `
      if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534); }
      const { Document } = require(${JSON.stringify(require.resolve("../../app/engine/document"))});
      const { EditableFile } = require(${JSON.stringify(require.resolve("../../app/engine/edit-service"))});
      const out = { uid: process.getuid() };
      try { Document.openFile(process.argv[1]); out.locked = "opened"; } catch (e) { out.locked = e.code; }
      try { Document.openFile(process.argv[1], { readOnly: false }); out.lockedRw = "opened"; } catch (e) { out.lockedRw = e.code; }
      try { const f = EditableFile.open(process.argv[2], { readOnly: false }); out.ro = [f.readOnly, f.readOnlyReason.length > 0]; f.close(); } catch (e) { out.ro = e.code; }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ["-e", script, locked, readable], { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0 && /EPERM|setuid|setgid/.test(r.stderr)) return void t.skip("setuid to nobody is not allowed here");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { uid: number; locked: string; lockedRw: string; ro: unknown };
    assert.notEqual(out.uid, 0, "ran unprivileged");
    assert.equal(out.locked, "EACCES");
    assert.equal(out.lockedRw, "EACCES");
    // Asked for read-write on a file it may only read: opened read-only, saying why.
    assert.deepEqual(out.ro, [true, true]);
    if (isRoot) t.diagnostic("checked as uid 65534 (nobody): root would read anything");
  });
});

describe("bad files: going bad under an open document", { skip: posixOnly }, () => {
  it("deleted while open: reads still work (the unlinked inode), edits stay, Save As writes them", async () => {
    const data = blockBytes(7, 256 * 1024);
    const edits: Array<[number, string]> = [[100, "EDIT"], [200_000, "MORE"]];
    const { file, ed } = editedCopy(data, edits);
    try {
      assert.deepEqual(Buffer.from(await ed.read(0, 64)), data.subarray(0, 64));
      fs.unlinkSync(file);
      assert.deepEqual(Buffer.from(await ed.read(150_000, 4096)), data.subarray(150_000, 154_096), "reads after unlink");
      assert.equal(Buffer.from(await ed.read(100, 4)).toString(), "EDIT");
      assertEditsKept(ed, edits);
      // Saving in place has nothing to save into: a typed error, edits kept.
      const code = await rejectsCode(ed.save());
      assert.ok(["ECHANGED", "ENOENT"].includes(code), code);
      assertEditsKept(ed, edits);
      const copy = path.join(path.dirname(file), "rescued.bin");
      await ed.saveAs(copy);
      const saved = fs.readFileSync(copy);
      assert.equal(saved.subarray(100, 104).toString(), "EDIT");
      assert.equal(saved.subarray(200_000, 200_004).toString(), "MORE");
    } finally {
      ed.close();
    }
  });

  it("truncated during reads: EIO past the new end, checkSize recovers, edits stay", async () => {
    const data = blockBytes(8, 2 * MiB);
    const edits: Array<[number, string]> = [[10, "HEAD"], [MiB + 10, "TAIL"]];
    const { file, ed } = editedCopy(data, edits);
    try {
      // Map the whole file first, so the truncation lands under a live view.
      assert.equal((await ed.read(2 * MiB - 16, 16)).length, 16);
      fs.truncateSync(file, 4096);
      const code = await rejectsCode(ed.read(MiB, 4096));
      assert.equal(code, "EIO");
      assert.equal(codeOf(() => ed.readSync(2 * MiB - 16, 16)), "EIO");
      assertEditsKept(ed, edits);
      // Recovery: the new size is seen, reads below it work, past it are ERANGE.
      const check = ed.document.checkSize();
      assert.deepEqual(check, { changed: true, size: 4096 });
      assert.deepEqual(Buffer.from(await ed.document.read(0, 4096)), data.subarray(0, 4096));
      assert.equal(await rejectsCode(ed.document.read(MiB, 16)), "ERANGE");
      assertEditsKept(ed, edits);
      // Saving now is refused: the file is not the one the edits were made on.
      assert.equal(await rejectsCode(ed.save()), "ECHANGED");
      assertEditsKept(ed, edits);
      assert.equal(fs.statSync(file).size, 4096, "the refused save wrote nothing");
    } finally {
      ed.close();
    }
  });

  /** 64 MiB of real bytes (lines of text): scans of holes are skipped too fast to truncate under. */
  function textFile(): string {
    const file = path.join(makeTempDir(), "text.bin");
    const fd = fs.openSync(file, "w");
    const block = Buffer.from("a line of text in a big log\n".repeat(37449).slice(0, MiB));
    for (let i = 0; i < 64; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    return file;
  }

  it("truncated during a search: the search rejects with EIO, the document keeps working", async () => {
    const file = textFile();
    const doc = Document.openFile(file);
    try {
      let truncated = false;
      const code = await rejectsCode(
        startSearch(
          doc,
          { pattern: { kind: "text", text: "needle", ignoreCase: true }, direction: "forward", threads: 1, chunkSize: 4096 },
          {
            onProgress: (scanned, total) => {
              if (truncated || scanned >= total) return;
              truncated = true;
              fs.truncateSync(file, 64 * 1024);
            },
          },
        ),
      );
      assert.ok(truncated, "progress came before the end");
      assert.equal(code, "EIO");
      assert.deepEqual(doc.checkSize(), { changed: true, size: 64 * 1024 });
      assert.equal(Buffer.from(await doc.read(0, 12)).toString(), "a line of te");
      const again = await startSearch(doc, { pattern: { kind: "text", text: "log" }, direction: "all" });
      assert.equal(again.total, Math.floor(64 * 1024 / 28) + (64 * 1024 % 28 >= 27 ? 1 : 0));
    } finally {
      doc.close();
    }
  });

  it("truncated during a line index build: EIO, then reset() + build() index the new file", async () => {
    const file = textFile();
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { threads: 1, chunkSize: 4096 });
    try {
      let truncated = false;
      const off = index.onProgress((p) => {
        if (truncated || p.complete) return;
        truncated = true;
        fs.truncateSync(file, 28 * 3);
      });
      const code = await rejectsCode(index.build());
      off();
      assert.ok(truncated, "progress came before the end");
      assert.ok(["EIO", "ECHANGED"].includes(code), code);
      doc.checkSize();
      index.reset();
      await index.build();
      assert.equal(index.newlineCount, 3);
      assert.equal(index.complete, true);
    } finally {
      index.close();
      doc.close();
    }
  });

  it("truncated during a save: the save fails typed, nothing half-done is hidden, edits stay, recovery restores old or new", async () => {
    const size = 4 * MiB;
    const data = blockBytes(11, size);
    const edits: Array<[number, string]> = [[1000, "AAAA"], [size - 100, "ZZZZ"]];
    for (const [at, direction] of [["journal-durable", "back"], ["apply", "forward"]] as const) {
      const { file, ed } = editedCopy(data, edits);
      let fired = false;
      setSaveFaultHook((step) => {
        if (step === at && !fired) {
          fired = true;
          fs.truncateSync(file, 2 * MiB);
        }
      });
      try {
        const code = await rejectsCode(ed.save());
        assert.ok(fired, `the hook ran at ${at}`);
        assert.ok(["EIO", "ECHANGED"].includes(code), `${at}: ${code}`);
        assertEditsKept(ed, edits);
      } finally {
        setSaveFaultHook(null);
        ed.close();
      }
      // Another program truncated the file mid-save; once it is back to its size, the journal
      // (still there) brings it to exactly the old or the new bytes.
      assert.ok(fs.existsSync(journalPathFor(file)), `${at}: the journal is kept`);
      fs.truncateSync(file, size);
      const r = await Editor.recover(file, direction);
      assert.equal(fs.existsSync(journalPathFor(file)), false, "recovery removed the journal");
      const now = fs.readFileSync(file);
      for (const [offset, text] of edits) {
        const expected = direction === "forward" ? Buffer.from(text) : data.subarray(offset, offset + text.length);
        assert.deepEqual(now.subarray(offset, offset + text.length), expected, `${at} → ${direction} (${r.action}) at ${offset}`);
      }
    }
  });

  it("a save refused because the file changed size keeps the edits, and writes nothing", async () => {
    const data = blockBytes(12, MiB);
    const edits: Array<[number, string]> = [[5, "EDIT"]];
    const { file, ed } = editedCopy(data, edits);
    try {
      fs.appendFileSync(file, "grown");
      assert.equal(await rejectsCode(ed.save()), "ECHANGED");
      assertEditsKept(ed, edits);
      assert.deepEqual(fs.readFileSync(file).subarray(0, MiB), data);
      assert.equal(fs.existsSync(journalPathFor(file)), false);
    } finally {
      ed.close();
    }
  });

  it("grown during a view: size-changed with a new generation, the new bytes are readable", async () => {
    const file = makeFile(blockBytes(13, 100_000), "grow.bin");
    const s = new Service({ pollIntervalMs: 25 });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      const opened = (await s.handle({ id: 1, type: "open", path: file })) as Reply<"open">;
      assert.ok(opened.ok);
      const docId = opened.result.docId;
      const first = (await s.handle({ id: 2, type: "read", docId, offset: 99_990, length: 100 })) as Reply<"read">;
      assert.ok(first.ok && first.result.bytes.length === 10);
      const tail = blockBytes(14, 70_000);
      fs.appendFileSync(file, tail);
      await waitFor(() => events.some((e) => e.event === "size-changed" && e.size === 170_000), 5000, "size-changed");
      const ev = events.find((e) => e.event === "size-changed") as Extract<Event, { event: "size-changed" }>;
      assert.ok(ev.generation > opened.result.generation);
      const grown = (await s.handle({ id: 3, type: "read", docId, offset: 100_000, length: 70_000 })) as Reply<"read">;
      assert.ok(grown.ok);
      assert.deepEqual(Buffer.from(grown.result.bytes), tail);
      assert.equal(grown.result.size, 170_000);
      // Shrinks are told too, and reads past the new end are ERANGE, not a crash.
      fs.truncateSync(file, 50_000);
      await waitFor(() => events.some((e) => e.event === "size-changed" && e.size === 50_000), 5000, "size-changed (shrink)");
      assert.equal(err(await s.handle({ id: 4, type: "read", docId, offset: 60_000, length: 10 })), "ERANGE");
    } finally {
      s.dispose();
    }
  });
});
