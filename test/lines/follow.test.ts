// Follow mode with a real writer process: it appends lines (the follower reports `grew`, the index
// extends, the lines read back match), rotates the file (rename + create: `rotated`, the new
// file's lines), truncates it in place (`rotated`, reason truncated); memory stays flat over many
// small appends; polling alone (no fs.watch) works too.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { Follower, type FollowEvent } from "../../app/engine/follow";
import { getLines } from "../../app/engine/lines";
import { cleanupFixtures, makeTempDir } from "../fixtures";
import { FollowWriter as Writer, writerLine as expectedLine } from "./writer";

after(() => cleanupFixtures());

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function checkLines(f: Follower, gen: string, count: number): Promise<void> {
  assert.equal(f.index.lineCount, count);
  assert.equal(f.index.newlineCount, count);
  const lines = await getLines(f.document, f.index, 1, count);
  assert.equal(lines.length, count);
  lines.forEach((l, i) => assert.equal(l.text, expectedLine(gen, i + 1)));
}

describe("follow", () => {
  for (const watch of [true, false]) {
    test(`a writer appends, rotates and truncates; the follower keeps up (${watch ? "fs.watch + polling" : "polling only"})`, async () => {
      const dir = makeTempDir("hexmap-follow-");
      const file = path.join(dir, "app.log");
      fs.writeFileSync(file, "");
      const f = await Follower.open(file, { intervalMs: watch ? 200 : 30, watch, index: { sampleEvery: 16 } });
      const events: FollowEvent[] = [];
      f.on((e) => events.push(e));
      const writer = new Writer(file);
      try {
        assert.equal(f.index.lineCount, 0);
        let total = 0;
        for (const n of [1, 40, 300, 7]) {
          await writer.send(`append ${n}`);
          total += n;
          await waitFor(`${total} lines`, () => f.index.lineCount === total && f.index.complete);
          assert.ok(events.some((e) => e.kind === "grew"));
          await checkLines(f, "g0", total);
        }
        assert.ok(!events.some((e) => e.kind !== "grew"), JSON.stringify(events.filter((e) => e.kind !== "grew")));
        const oldDoc = f.document;

        events.length = 0;
        await writer.send("rotate");
        await writer.send("append 25");
        await waitFor("rotation", () => events.some((e) => e.kind === "rotated") && f.index.lineCount === 25 && f.index.complete);
        const rotated = events.find((e) => e.kind === "rotated");
        assert.ok(rotated && rotated.kind === "rotated" && rotated.reason === "replaced");
        assert.notEqual(f.document, oldDoc);
        assert.equal(oldDoc.closed, true);
        await checkLines(f, "g1", 25);

        events.length = 0;
        await writer.send("truncate");
        await writer.send("append 3");
        await waitFor("truncation", () => events.some((e) => e.kind === "rotated") && f.index.lineCount === 3 && f.index.complete);
        const trunc = events.find((e) => e.kind === "rotated");
        assert.ok(trunc && trunc.kind === "rotated" && trunc.reason === "truncated");
        await checkLines(f, "g2", 3);
        assert.ok(!events.some((e) => e.kind === "error"), JSON.stringify(events));
      } finally {
        await writer.exit();
        f.close();
      }
    });
  }

  test("memory stays flat over many small appends", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const dir = makeTempDir("hexmap-follow-");
    const file = path.join(dir, "flat.log");
    fs.writeFileSync(file, "");
    const f = await Follower.open(file, { intervalMs: 20, watch: true });
    let grew = 0;
    f.on((e) => {
      if (e.kind === "grew") grew++;
    });
    const writer = new Writer(file);
    try {
      const round = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const want = f.index.lineCount + 1;
          await writer.send("append 1");
          await waitFor("a line", () => f.index.lineCount >= want);
        }
      };
      await round(50); // warm-up
      gc();
      const before = process.memoryUsage().heapUsed;
      await round(300);
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      console.log(`# heap grew ${grown} bytes over 300 appends (${grew} grew events)`);
      assert.ok(grown < 2 * 1024 * 1024, `heap grew by ${grown} bytes`);
      assert.equal(f.index.lineCount, 350);
    } finally {
      await writer.exit();
      f.close();
    }
  });

  test("close() stops following; a missing file is ENOENT", async () => {
    const dir = makeTempDir("hexmap-follow-");
    const file = path.join(dir, "c.log");
    fs.writeFileSync(file, "a\n");
    const f = await Follower.open(file, { intervalMs: 20 });
    f.close();
    f.close();
    assert.equal(f.document.closed, true);
    assert.equal(await f.check(), null);
    await assert.rejects(Follower.open(path.join(dir, "none.log")), { code: "ENOENT" });
  });
});
