// Resource bounds (issue 9, item 3):
//   - 100 documents opened, read and closed (engine and protocol): no leaked views, mappings or
//     descriptors — /proc/self/maps lines of the file, /proc/self/fd count, addon stats();
//   - RSS while reading pages at random across a 64 GiB sparse file (10 s here; 60 s with
//     `node dist/test/hardening/rss-soak.js`), and while reading 2 GiB sequentially (every page
//     of every window touched): bounded by the view budget;
//   - 1 000 000 scattered one-byte edits in an Editor's overlay: memory per edit.
//
// The RSS bound, and why: mapped windows are the only memory that grows with the file, and the
// ViewCache keeps at most its budget mapped (8 × 64 MiB = 512 MiB by default) — evicted windows
// are unmapped, which drops their pages from RSS. So RSS ≤ RSS before + 512 MiB + slack for the JS
// heap and allocator (128 MiB). Random 4 KiB reads touch a few pages per window before it is
// evicted, so there the growth is far smaller: asserted under 128 MiB.

import { strict as assert } from "node:assert";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { after, describe, it } from "node:test";
import { loadNative } from "../../native/index";
import { Document } from "../../app/engine/document";
import { Editor } from "../../app/engine/editor";
import { Service } from "../../app/engine/service";
import type { Reply } from "../../app/protocol/messages";
import { GiB, MiB, Rng, blockBytes, cleanupFixtures, makeFile, makeSparseFile } from "../fixtures";
import { fdCount, isLinux, mapsOf, rssBytes } from "./helpers";
import { makeSoakFile, randomReads } from "./rss-workload";

after(cleanupFixtures);

const native = loadNative();
const SLACK = 128 * MiB;
const skipProc = isLinux ? false : "/proc/self is Linux's";
// Under AddressSanitizer (scripts/sanitize.sh --engine) RSS and heap figures measure ASan's
// shadow memory and quarantine, not ours.
const underAsan = /libasan/.test(process.env.LD_PRELOAD ?? "");
const skipMemory = underAsan ? "memory figures are meaningless under AddressSanitizer" : skipProc;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function settle(): void {
  for (let i = 0; i < 3; i++) gc();
}

describe("resource bounds", () => {
  it("100 documents opened, read, closed: no leaked views, mappings or descriptors", { skip: skipProc }, async (t) => {
    const file = makeFile(blockBytes(31, 3 * MiB), "many.bin");
    const fx = makeSparseFile({ size: 6 * GiB, blocks: [{ offset: 5 * GiB, length: 4096, seed: 32 }] });
    const base = { fds: fdCount(), maps: mapsOf(file), sparseMaps: mapsOf(fx.path), stats: native.stats() };
    assert.equal(base.maps, 0);

    // Engine: 100 Documents at once, each with two windows mapped (one past 4 GiB for the sparse ones).
    const docs: Document[] = [];
    for (let i = 0; i < 100; i++) {
      const doc = Document.openFile(i % 2 ? file : fx.path);
      docs.push(doc);
      await doc.read(i % 2 ? MiB : 5 * GiB, 4096);
      await doc.read(0, 16);
    }
    const open = { fds: fdCount(), maps: mapsOf(file) + mapsOf(fx.path), stats: native.stats() };
    assert.ok(open.stats.views >= base.stats.views + 100, `views while open: ${open.stats.views}`);
    assert.ok(open.maps >= 100, `mappings while open: ${open.maps}`);
    for (const d of docs) d.close();
    assert.equal(fdCount(), base.fds, "descriptors back to baseline");
    assert.equal(mapsOf(file) + mapsOf(fx.path), 0, "no mapping of the files left");
    assert.deepEqual(native.stats(), base.stats, "addon stats back to baseline");

    // Protocol: 100 opens of the same path through one Service (editable documents), read, closed.
    const s = new Service({ pollIntervalMs: 0, watch: false });
    try {
      for (let i = 0; i < 100; i++) {
        const r = (await s.handle({ id: i, type: "open", path: file, readOnly: i % 2 === 0 })) as Reply<"open">;
        assert.ok(r.ok);
        const read = await s.handle({ id: 1000 + i, type: "read", docId: r.result.docId, offset: 2 * MiB, length: 65536 });
        assert.ok(read.ok);
        if (i % 2) assert.ok((await s.handle({ id: 2000 + i, type: "edit", docId: r.result.docId, offset: i, bytes: new Uint8Array([i]) })).ok);
      }
      assert.equal(s.pool.openCount, 100);
      for (const docId of s.documents()) assert.ok((await s.handle({ id: 3000, type: "close", docId })).ok);
      assert.equal(s.pool.openCount, 0);
    } finally {
      s.dispose();
    }
    assert.equal(fdCount(), base.fds, "descriptors back to baseline after the Service");
    assert.equal(mapsOf(file), 0, "no mapping left after the Service");
    assert.deepEqual(native.stats(), base.stats, "addon stats back to baseline after the Service");
    t.diagnostic(`while 100 were open: ${open.fds - base.fds} more descriptors, ${open.maps} mappings, ${open.stats.views - base.stats.views} views; after: all back to baseline`);
  });

  it("RSS stays bounded reading pages at random across a 64 GiB sparse file (10 s), and reading 2 GiB in order", { skip: skipMemory }, async (t) => {
    const fx = makeSoakFile();
    settle();
    const r = await randomReads(fx, 10);
    assert.equal(r.mismatches, 0, "every read was right");
    assert.ok(r.reads > 1000, `reads: ${r.reads}`);
    assert.equal(r.peakMappedMiB <= r.viewBudgetMiB, true, "never more mapped than the budget");
    const bound = r.rssBeforeMiB + r.viewBudgetMiB + SLACK / MiB;
    assert.ok(r.rssPeakMiB < bound, `random: peak RSS ${r.rssPeakMiB} MiB < ${bound} MiB`);
    assert.ok(r.rssPeakMiB - r.rssBeforeMiB < SLACK / MiB, `random: RSS grew ${r.rssPeakMiB - r.rssBeforeMiB} MiB (< 128 MiB)`);

    // Sequential 1 MiB reads over 2 GiB: every page of every window is touched, the worst case.
    const doc = Document.openFile(fx.path);
    settle();
    const before = rssBytes();
    let peak = before;
    try {
      for (let off = 0; off < 2 * GiB; off += MiB) {
        await doc.read(off, MiB);
        if (off % (16 * MiB) === 0) peak = Math.max(peak, rssBytes());
      }
      assert.ok(doc.stats().peakMappedBytes <= doc.stats().maxBytes);
    } finally {
      doc.close();
    }
    const seqGrowth = (peak - before) / MiB;
    assert.ok(peak < before + 512 * MiB + SLACK, `sequential: RSS grew ${seqGrowth.toFixed(0)} MiB (bound 512 + 128)`);
    t.diagnostic(
      `random 4 KiB reads for ${r.seconds} s: ${r.reads} reads (${Math.round(r.reads / r.seconds)}/s), RSS ${r.rssBeforeMiB} → peak ${r.rssPeakMiB} MiB ` +
        `(bound ${bound} MiB); 2 GiB sequential: RSS +${seqGrowth.toFixed(0)} MiB at peak (bound +640 MiB)`,
    );
  });

  it("1 000 000 scattered one-byte edits: memory per edit is bounded", { skip: underAsan ? skipMemory : false }, async (t) => {
    const fx = makeSparseFile({ size: 64 * GiB, blocks: [] });
    const ed = Editor.open(fx.path);
    const N = 1_000_000;
    const rng = new Rng(33);
    const byte = new Uint8Array(1);
    try {
      settle();
      const m0 = process.memoryUsage();
      for (let i = 0; i < N; i++) {
        byte[0] = (i % 255) + 1;
        // Scattered: no two edits adjacent, so none coalesces into another's run.
        ed.edit(rng.below(fx.size / 64) * 64, byte);
      }
      settle();
      const m1 = process.memoryUsage();
      const perEdit = (m1.heapUsed - m0.heapUsed + (m1.arrayBuffers - m0.arrayBuffers)) / N;
      assert.ok(ed.editCount >= N - 10, `undo steps: ${ed.editCount}`);
      assert.ok(ed.pendingBytes > N * 0.99, `pending bytes: ${ed.pendingBytes}`);
      // A read back across edits gives them.
      const probe = rng.below(fx.size / 64) * 64;
      ed.edit(probe, new Uint8Array([0xee]));
      assert.equal((await ed.read(probe, 1))[0], 0xee);
      const BOUND = 400;
      assert.ok(perEdit < BOUND, `${perEdit.toFixed(0)} bytes per edit (bound ${BOUND})`);
      t.diagnostic(
        `1 000 000 one-byte edits (each its own undo step) over 64 GiB: heap +${((m1.heapUsed - m0.heapUsed) / MiB).toFixed(0)} MiB, ` +
          `array buffers +${((m1.arrayBuffers - m0.arrayBuffers) / MiB).toFixed(0)} MiB: ${perEdit.toFixed(0)} bytes per edit (bound ${BOUND}); RSS ${(rssBytes() / MiB).toFixed(0)} MiB`,
      );
    } finally {
      ed.close();
    }
  });
});
