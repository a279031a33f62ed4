// struct-formats / struct-parse through the Service, as a transport delivers them: validation,
// detection by magic, uploaded .ksy texts (and a broken one), the edited document re-parsed, jobs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Service } from "../../app/engine/service";
import type { Event, Reply } from "../../app/protocol/messages";
import type { StructParseResult, StructTreeNode } from "../../app/protocol/structure";
import { cleanupFixtures, makeTempDir } from "../fixtures";

after(() => cleanupFixtures());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ok<T = any>(r: Reply): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.result as T;
}
const f = (n: StructTreeNode, name: string) => n.fields!.find((x) => x.name === name)!;

function gz(dir: string): string {
  const file = path.join(dir, "a.gz");
  fs.writeFileSync(file, Buffer.from([0x1f, 0x8b, 8, 0, 1, 0, 0, 0, 0, 3, 0xaa, 0xbb, 1, 0, 0, 0, 5, 0, 0, 0]));
  return file;
}

describe("struct requests", () => {
  test("formats, auto detection, a job with progress events", async () => {
    const s = new Service({ pollIntervalMs: 0, watch: false });
    const events: Event[] = [];
    s.onEvent((e) => events.push(e));
    try {
      const formats = ok<{ formats: { name: string }[] }>(await s.handle({ id: 1, type: "struct-formats" }));
      assert.deepEqual(formats.formats.map((x) => x.name), ["elf", "pe", "png", "zip", "gzip"]);
      const info = ok(await s.handle({ id: 2, type: "open", path: "/bin/ls" }));
      const r = ok<StructParseResult>(await s.handle({ id: 3, type: "struct-parse", docId: info.docId, format: { kind: "auto" } }));
      assert.equal(r.format, "elf");
      assert.equal(r.detected, true);
      assert.equal(f(r.tree!, "magic").value, "7f454c46");
      assert.ok(events.some((e) => e.event === "job-progress" && e.op === "struct-parse"));
    } finally {
      s.dispose();
    }
  });

  test("malformed requests are EINVAL; another client's document is EBADDOC", async () => {
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      const bad = await s.handle({ id: 1, type: "struct-parse", docId: "d1", format: { kind: "ksy", files: [] } });
      assert.equal(!bad.ok && bad.error.code, "EINVAL");
      const big = await s.handle({ id: 2, type: "struct-parse", docId: "d1", format: { kind: "auto" }, maxNodes: 10 ** 9 });
      assert.equal(!big.ok && big.error.code, "EINVAL");
      const path2 = await s.handle({ id: 3, type: "struct-parse", docId: "d1", format: { kind: "ksy", path: "/etc/passwd" } });
      assert.equal(!path2.ok && path2.error.code, "EINVAL");
      const nodoc = await s.handle({ id: 4, type: "struct-parse", docId: "d99", format: { kind: "auto" } });
      assert.equal(!nodoc.ok && nodoc.error.code, "EBADDOC");
    } finally {
      s.dispose();
    }
  });

  test("an uploaded .ksy (with an import); a broken one is EFORMAT with its line", async () => {
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      const dir = makeTempDir("hexmap-struct-svc-");
      const info = ok(await s.handle({ id: 1, type: "open", path: gz(dir) }));
      const files = [
        { name: "main.ksy", text: "meta:\n  id: main\n  endian: le\n  imports: [pair]\nseq:\n  - id: magic\n    type: u2be\n  - id: p\n    type: pair\n" },
        { name: "pair.ksy", text: "meta:\n  id: pair\nseq:\n  - id: a\n    type: u1\n  - id: b\n    type: u1\n" },
      ];
      const r = ok<StructParseResult>(await s.handle({ id: 2, type: "struct-parse", docId: info.docId, format: { kind: "ksy", files } }));
      assert.equal(r.format, "main");
      assert.equal(f(r.tree!, "magic").value, 0x1f8b);
      assert.deepEqual(f(r.tree!, "p").fields!.map((x) => x.value), [8, 0]);
      const broken = await s.handle({ id: 3, type: "struct-parse", docId: info.docId, format: { kind: "ksy", files: [{ name: "x.ksy", text: "meta:\n  id: x\nseq:\n  - id: a\n    type: u4\n" }] } });
      assert.equal(!broken.ok && broken.error.code, "EFORMAT");
      assert.match(!broken.ok ? broken.error.message : "", /x\.ksy line 5 \(\/seq\/0\/type\): unable to use type 'u4' without default endianness/);
    } finally {
      s.dispose();
    }
  });

  test("the edited document is parsed; undo brings the old value back", async () => {
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      const dir = makeTempDir("hexmap-struct-svc-");
      const info = ok(await s.handle({ id: 1, type: "open", path: gz(dir), readOnly: false }));
      const parse = async (id: number) => ok<StructParseResult>(await s.handle({ id, type: "struct-parse", docId: info.docId, format: { kind: "shipped", name: "gzip" } }));
      assert.equal(f((await parse(2)).tree!, "mod_time").value, 1);
      ok(await s.handle({ id: 3, type: "edit", docId: info.docId, offset: 4, bytes: Uint8Array.of(0x39, 0x30, 0, 0) }));
      assert.equal(f((await parse(4)).tree!, "mod_time").value, 12345);
      ok(await s.handle({ id: 5, type: "undo", docId: info.docId }));
      assert.equal(f((await parse(6)).tree!, "mod_time").value, 1);
    } finally {
      s.dispose();
    }
  });
});
