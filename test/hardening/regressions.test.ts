// The bugs the hardening suites found, pinned deterministically (the fuzzer finds them only for
// some seeds):
//   1. open {readOnly:false} of a path with a NUL byte answered EINTERNAL (node:fs's
//      ERR_INVALID_ARG_VALUE was not mapped) — now EINVAL;
//   2. a document closed while a hash/compare/export of it ran left the read-ahead's rejection
//      unhandled (an unhandledRejection, fatal under --unhandled-rejections=throw);
//   3. save-as and export renamed their temp file over whatever the target was — a FIFO, a
//      device (as root the fuzzer replaced /dev/null with a regular file) — now EINVAL.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import type { Reply } from "../../app/protocol/messages";
import { GiB, cleanupFixtures, makeFile, makeSparseFile, makeTempDir } from "../fixtures";
import { isLinux, isRoot, sleep } from "./helpers";

after(cleanupFixtures);

function code(r: Reply): string {
  return r.ok ? "ok" : r.error.code;
}

describe("regressions found by the hardening suites", () => {
  it("1. a NUL byte in a path is EINVAL whether opened read-only or read-write", async () => {
    const s = new Service({ pollIntervalMs: 0 });
    try {
      for (const readOnly of [true, false]) {
        for (const type of ["open", "open-dropped"] as const) {
          assert.equal(code(await s.handle({ id: 1, type, path: `${makeTempDir()}/a\u0000b.bin`, readOnly })), "EINVAL", `${type} readOnly=${readOnly}`);
        }
      }
    } finally {
      s.dispose();
    }
  });

  it("2. closing a document under a running hash/compare/export: typed replies, no unhandled rejection", async () => {
    const fx = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: 0, length: 4096, seed: 51 }] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const dir = makeTempDir();
    try {
      const jobs: Array<(docId: string, other: string) => Record<string, unknown>> = [
        (docId) => ({ type: "hash", docId, algorithms: ["sha256", "crc32"] }),
        (docId, other) => ({ type: "compare", docId, otherDocId: other, op: "count", from: 0 }),
        (docId) => ({ type: "export", docId, offset: 0, length: 3 * GiB, path: path.join(dir, "export.bin"), overwrite: true }),
      ];
      for (const [i, make] of jobs.entries()) {
        const s = new Service({ pollIntervalMs: 0 });
        try {
          const a = s.open(fx.path).docId;
          const b = s.open(fx.path).docId;
          const running = s.handle({ id: 10 + i, ...make(a, b) });
          await sleep(30);
          assert.equal(code(await s.handle({ id: 20 + i, type: "close", docId: a })), "ok");
          const reply = await running;
          assert.equal(reply.id, 10 + i);
          if (!reply.ok) assert.ok(["EBADDOC", "ECANCELED", "EIO"].includes(reply.error.code), `${String(make(a, b).type)}: ${reply.error.code} ${reply.error.message}`);
          await sleep(20); // let a stray rejection surface
        } finally {
          s.dispose();
        }
      }
      assert.deepEqual(unhandled.map(String), []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("3. save-as and export refuse a FIFO or a device as the target, and leave it as it was", { skip: isLinux ? false : "mkfifo/mknod" }, async () => {
    const dir = makeTempDir();
    const file = makeFile(Buffer.alloc(4096, 3), "doc.bin", dir);
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const targets = [fifo];
    const device = path.join(dir, "null-device");
    if (isRoot) {
      try {
        execFileSync("mknod", ["-m", "666", device, "c", "1", "3"], { stdio: "ignore" });
        targets.push(device);
      } catch {
        /* no mknod here */
      }
    }
    const s = new Service({ pollIntervalMs: 0 });
    try {
      const docId = s.open(file, { readOnly: false }).docId;
      assert.equal(code(await s.handle({ id: 1, type: "edit", docId, offset: 0, bytes: new Uint8Array([9]) })), "ok");
      for (const target of targets) {
        assert.equal(code(await s.handle({ id: 2, type: "save-as", docId, path: target })), "EINVAL", `save-as ${target}`);
        assert.equal(code(await s.handle({ id: 3, type: "export", docId, offset: 0, length: 16, path: target, overwrite: true })), "EINVAL", `export ${target}`);
      }
      assert.ok(fs.statSync(fifo).isFIFO(), "the FIFO is still a FIFO");
      if (targets.includes(device)) assert.ok(fs.statSync(device).isCharacterDevice(), "the device is still a device");
      assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")).length, 0, "no temp file left");
      // A regular file is still overwritten as before.
      const copy = path.join(dir, "copy.bin");
      fs.writeFileSync(copy, "old");
      assert.equal(code(await s.handle({ id: 4, type: "save-as", docId, path: copy })), "ok");
      assert.equal(fs.readFileSync(copy)[0], 9);
    } finally {
      s.dispose();
    }
  });
});
