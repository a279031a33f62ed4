// Saves that change the size (app/engine/save-resize.ts): both strategies against a reference
// Buffer for random segment lists (fast-check), the edge sizes, holes of a 1 GiB sparse file,
// mode/owner, cancel and injected errors (temp removed, file untouched), ECHANGED, ENOSPC through
// a fake free-space probe, stray temp files, and version-2 journal recovery in-process. The
// kill -9 trials are in save-resize-crash.test.ts.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { HexmapError } from "../../app/engine/errors";
import { journalPathFor } from "../../app/engine/journal";
import { cleanStaleTemps, findStaleTemps, freeSpace, saveResized, setResizeFaultHook, type ResizeSaveOptions, type ResizeStrategy, type SaveSegment } from "../../app/engine/save-resize";
import { recoverFile, recoveryState, saveEdits } from "../../app/engine/save";
import { GiB, blockBytes, cleanupFixtures, makeTempDir } from "../fixtures";
import { expectedContent, replaceIn } from "./save-resize-crash-child";

after(cleanupFixtures);
const dir = makeTempDir("hexmap-resize-");
let n = 0;
const fresh = (content: Buffer, name = `f${++n}.bin`): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as HexmapError).code ?? String(e);
  }
  return "none";
}

function leftovers(file: string): string[] {
  const base = path.basename(file);
  return fs.readdirSync(path.dirname(file)).filter((x) => x !== base && (x.startsWith(`.${base}.hexmap-`) || x.startsWith(`${base}.hexmap-journal`)));
}

const STRATEGIES: ResizeStrategy[] = ["rewrite", "in-place"];
const SMALL = { chunkSize: 4096, batchBytes: 16384 } satisfies ResizeSaveOptions;

async function roundTrip(old: Buffer, segs: SaveSegment[], options: ResizeSaveOptions): Promise<void> {
  const f = fresh(old);
  const want = expectedContent(old, segs);
  const res = await saveResized(f, segs, options);
  const got = fs.readFileSync(f);
  assert.equal(res.size, want.length);
  assert.ok(got.equals(want), `content differs (${options.strategy}, ${got.length} vs ${want.length} bytes)`);
  assert.deepEqual(leftovers(f), [], "no temp file or journal left");
  fs.rmSync(f);
}

// ---- content ------------------------------------------------------------------------------------

const insertArb = fc.oneof(
  fc.constant<SaveSegment[]>([]),
  fc.uint8Array({ minLength: 1, maxLength: 9000 }).map((b): SaveSegment[] => [{ kind: "bytes", bytes: b }]),
  fc.record({ p: fc.uint8Array({ minLength: 1, maxLength: 7 }), len: fc.integer({ min: 1, max: 20000 }), ph: fc.nat() }).map(({ p, len, ph }): SaveSegment[] => [{ kind: "fill", pattern: p, phase: ph % p.length, length: len }]),
);
const opArb = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), del: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30000 })), ins: insertArb });
const sizeArb = fc.constantFrom(0, 1, 4095, 4096, 4097, 16383, 16384, 16385, 3 * 4096 + 1, 50_000, 100_003);
const optionsArb = fc.record({
  chunkSize: fc.constantFrom(4096, 5000, 16384, 65536),
  batchBytes: fc.constantFrom(4096, 12288, 16384, 1 << 20),
});

for (const strategy of STRATEGIES) {
  test(`${strategy}: random edits (inserts, deletes, fills, growing and shrinking) match the reference`, async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.array(opArb, { maxLength: 14 }), optionsArb, fc.integer(), async (size, ops, opt, seed) => {
        const old = blockBytes(seed >>> 0, size);
        let segs: SaveSegment[] = size > 0 ? [{ kind: "file", start: 0, length: size }] : [];
        for (const op of ops) {
          const cur = segs.reduce((a, s) => a + (s.kind === "bytes" ? s.bytes.length : s.length), 0);
          const at = Math.floor(op.at * cur);
          segs = replaceIn(segs, at, Math.min(op.del, cur - at), op.ins);
        }
        await roundTrip(old, segs, { strategy, ...opt });
      }),
      { numRuns: 70, seed: 424242 },
    );
  });

  test(`${strategy}: arbitrary segment lists (out of order, duplicated, overlapping sources) match the reference`, async () => {
    const segArb = (size: number): fc.Arbitrary<SaveSegment> =>
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ a: fc.nat(size), b: fc.nat(size) }).map(({ a, b }): SaveSegment => ({ kind: "file", start: Math.min(a, b), length: Math.abs(a - b) })) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 5000 }).map((b): SaveSegment => ({ kind: "bytes", bytes: b })) },
        { weight: 1, arbitrary: fc.record({ p: fc.uint8Array({ minLength: 1, maxLength: 4 }), len: fc.nat(9000) }).map(({ p, len }): SaveSegment => ({ kind: "fill", pattern: p, phase: p.length - 1, length: len })) },
      );
    await fc.assert(
      fc.asyncProperty(
        sizeArb.chain((size) => fc.tuple(fc.constant(size), fc.array(segArb(size), { maxLength: 10 }))),
        optionsArb,
        async ([size, segs], opt) => {
          await roundTrip(blockBytes(size + 1, size), segs, { strategy, ...opt });
        },
      ),
      { numRuns: 50, seed: 777 },
    );
  });

  test(`${strategy}: insert at 0, delete at 0, empty result, pure growth and truncation, chunk-boundary sizes`, async () => {
    for (const size of [1, 4095, 4096, 4097, 16384, 16385, 70_001]) {
      const old = blockBytes(size, size);
      const f = (start: number, length: number): SaveSegment => ({ kind: "file", start, length });
      const cases: SaveSegment[][] = [
        [{ kind: "bytes", bytes: Buffer.from([1, 2, 3]) }, f(0, size)],
        [f(1, size - 1)],
        [f(Math.min(size - 1, 4096), size - Math.min(size - 1, 4096))],
        [],
        [f(0, size), { kind: "fill", pattern: Buffer.from([0]), phase: 0, length: 20_000 }],
        [f(0, Math.floor(size / 2))],
        [{ kind: "fill", pattern: Buffer.from("xyz"), phase: 1, length: 4097 }],
        [f(0, size), f(0, size)],
      ];
      for (const segs of cases) for (const chunk of [4096, 1 << 20]) await roundTrip(old, segs, { strategy, chunkSize: chunk, batchBytes: chunk * 4 });
    }
  });
}

test("many segments: 60 000 scattered inserts and deletes over a 2 MiB file, both strategies", async () => {
  const size = 2 * 1024 * 1024;
  const old = blockBytes(99, size);
  // Built directly in order (a replaceIn per edit would be quadratic here).
  const segs: SaveSegment[] = [];
  let pos = 0;
  let i = 0;
  while (pos < size) {
    const len = Math.min(size - pos, 10 + ((i * 7919) % 60));
    segs.push({ kind: "file", start: pos, length: len });
    pos += len;
    if (i % 2 === 0) segs.push({ kind: "bytes", bytes: Buffer.from([i & 255, (i >> 8) & 255]) });
    else pos += 1 + (i % 5); // deleted
    i++;
  }
  assert.ok(segs.length > 60_000, `${segs.length} segments`);
  for (const strategy of STRATEGIES) {
    const t = performance.now();
    await roundTrip(old, segs, { strategy });
    const ms = performance.now() - t;
    // eslint-disable-next-line no-console
    console.log(`# ${strategy}: ${segs.length} segments saved in ${ms.toFixed(0)} ms`);
  }
});

test("in place stages pieces that are out of source order in the journal", async () => {
  const old = blockBytes(5, 50_000);
  const segs: SaveSegment[] = [
    { kind: "file", start: 30_000, length: 20_000 },
    { kind: "file", start: 0, length: 10_000 },
    { kind: "file", start: 0, length: 10_000 },
  ];
  const f = fresh(old);
  const res = await saveResized(f, segs, { strategy: "in-place", ...SMALL });
  assert.ok(fs.readFileSync(f).equals(expectedContent(old, segs)));
  assert.equal(res.stagedBytes, 20_000, "the two shorter pieces are staged, the longest is moved");
});

// ---- what is kept -----------------------------------------------------------------------------------

test("rewrite keeps the mode and (as root) the owner; the mtime is new", { skip: process.platform === "win32" ? "POSIX permission bits and owners" : false }, async () => {
  const f = fresh(blockBytes(1, 10_000));
  fs.chmodSync(f, 0o640);
  const root = process.getuid?.() === 0;
  if (root) fs.chownSync(f, 4321, 8765);
  const before = fs.statSync(f);
  const res = await saveResized(f, [{ kind: "bytes", bytes: Buffer.from("x") }, { kind: "file", start: 0, length: 10_000 }], { strategy: "rewrite" });
  const st = fs.statSync(f);
  assert.equal(st.mode & 0o7777, 0o640);
  assert.equal(res.kept.mode, true);
  if (root) {
    assert.equal(st.uid, 4321);
    assert.equal(st.gid, 8765);
    assert.equal(res.kept.owner, true);
  }
  assert.notEqual(st.ino, before.ino, "a new file replaced the old one");
});

test("rewrite of a symlink replaces the file it points to, and keeps the link", { skip: process.platform === "win32" ? "symbolic links need a privilege on Windows" : false }, async () => {
  const target = fresh(blockBytes(2, 5000));
  const link = path.join(dir, `link${++n}`);
  fs.symlinkSync(target, link);
  await saveResized(link, [{ kind: "file", start: 100, length: 4900 }], { strategy: "rewrite" });
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.equal(fs.statSync(target).size, 4900);
});

test("auto saves a hard-linked file in place (a rename would leave the other link with the old content)", async () => {
  const f = fresh(blockBytes(3, 20_000));
  const other = path.join(dir, `hard${++n}`);
  fs.linkSync(f, other);
  const res = await saveResized(f, [{ kind: "bytes", bytes: Buffer.from("hi") }, { kind: "file", start: 0, length: 20_000 }]);
  assert.equal(res.strategy, "in-place");
  assert.ok(fs.readFileSync(other).equals(fs.readFileSync(f)));
});

for (const kernelCopy of [true, false]) test(
  `rewrite keeps holes (${kernelCopy ? "copy_file_range" : "copies through memory"}): a 1 GiB sparse file with an insert at 0 stays small on disk`,
  { skip: process.platform === "win32" ? "st_blocks is not reported on Windows" : false },
  async () => {
    const f = path.join(dir, `sparse${++n}.bin`);
    const fd = fs.openSync(f, "w");
    fs.ftruncateSync(fd, GiB);
    const blocks = [0, 300 * 1024 * 1024 + 12345, GiB - 70_000].map((o, i) => ({ o, b: blockBytes(50 + i, 65536) }));
    for (const { o, b } of blocks) fs.writeSync(fd, b, 0, b.length, o);
    fs.closeSync(fd);
    const before = fs.statSync(f).blocks * 512;
    const ins = Buffer.from("inserted!");
    const res = await saveResized(f, [{ kind: "bytes", bytes: ins }, { kind: "file", start: 0, length: GiB }], { strategy: "rewrite", kernelCopy });
    if (kernelCopy && process.platform === "linux") assert.equal(res.kernelCopiedBytes, GiB, "the unchanged GiB went through copy_file_range");
    if (!kernelCopy) assert.equal(res.kernelCopiedBytes, 0);
    const st = fs.statSync(f);
    const afterBytes = st.blocks * 512;
    assert.equal(st.size, GiB + ins.length);
    assert.ok(before < 1024 * 1024, `fixture is sparse (${before} bytes allocated)`);
    assert.ok(afterBytes < 2 * 1024 * 1024, `still sparse after the save: ${afterBytes} bytes allocated`);
    assert.ok(res.kept.holes);
    const rfd = fs.openSync(f, "r");
    try {
      for (const { o, b } of blocks) {
        const got = Buffer.alloc(b.length + 2);
        fs.readSync(rfd, got, 0, got.length, o + ins.length - 1);
        assert.ok(got.subarray(1, 1 + b.length).equals(b), `block at ${o} moved by ${ins.length}`);
      }
      const head = Buffer.alloc(ins.length);
      fs.readSync(rfd, head, 0, head.length, 0);
      assert.ok(head.equals(ins));
    } finally {
      fs.closeSync(rfd);
    }
    fs.rmSync(f);
  },
);

test("rewrite: ranges of 1 MiB and more copied in the kernel, small ones through memory, give the reference bytes", async () => {
  const old = blockBytes(77, 5 * 1024 * 1024 + 333);
  const segs: SaveSegment[] = [
    { kind: "bytes", bytes: Buffer.from("head") },
    { kind: "file", start: 1, length: 2 * 1024 * 1024 }, // kernel
    { kind: "file", start: 100, length: 5000 }, // memory
    { kind: "fill", pattern: Buffer.from([0xab, 0xcd]), phase: 1, length: 70_001 },
    { kind: "file", start: 3 * 1024 * 1024, length: old.length - 3 * 1024 * 1024 }, // kernel, unaligned
    { kind: "file", start: 7, length: 1024 * 1024 }, // exactly the minimum
  ];
  for (const kernelCopy of [true, false]) {
    const f = fresh(old);
    const res = await saveResized(f, segs, { strategy: "rewrite", kernelCopy });
    assert.ok(fs.readFileSync(f).equals(expectedContent(old, segs)), `content (kernelCopy ${kernelCopy})`);
    if (kernelCopy && process.platform === "linux") assert.equal(res.kernelCopiedBytes, 2 * 1024 * 1024 + (old.length - 3 * 1024 * 1024) + 1024 * 1024);
    else assert.equal(res.kernelCopiedBytes, 0);
    assert.deepEqual(leftovers(f), []);
  }
});

test("rewrite: where the kernel copy is not supported (ENOTSUP) the save copies through memory, same bytes", async () => {
  const old = blockBytes(78, 3 * 1024 * 1024);
  const segs: SaveSegment[] = [{ kind: "bytes", bytes: Buffer.from("x") }, { kind: "file", start: 0, length: old.length }];
  const f = fresh(old);
  let calls = 0;
  let replaced = 0;
  const res = await saveResized(f, segs, {
    strategy: "rewrite",
    native: {
      copyFileRange: async () => {
        calls++;
        throw Object.assign(new Error("not here"), { code: "ENOTSUP" });
      },
      replaceFile: (target: string, replacement: string) => {
        replaced++;
        fs.renameSync(replacement, target);
      },
    },
  });
  assert.equal(calls, 1, "asked once, then never again");
  assert.equal(replaced, 1, "the replace goes through the addon's replaceFile");
  assert.equal(res.kernelCopiedBytes, 0);
  assert.ok(fs.readFileSync(f).equals(expectedContent(old, segs)));
});

test("rewrite: a kernel copy that fails midway (EIO) removes the temp and leaves the file untouched", async () => {
  const old = blockBytes(79, 3 * 1024 * 1024);
  const f = fresh(old);
  const code = await codeOf(
    saveResized(f, [{ kind: "bytes", bytes: Buffer.from("x") }, { kind: "file", start: 0, length: old.length }], {
      strategy: "rewrite",
      native: { copyFileRange: async () => Promise.reject(Object.assign(new Error("disk error"), { code: "EIO" })) },
    }),
  );
  assert.equal(code, "EIO");
  assert.ok(fs.readFileSync(f).equals(old));
  assert.deepEqual(leftovers(f), []);
});

// ---- cancel, errors, space ----------------------------------------------------------------------------

for (const strategy of STRATEGIES) {
  test(`${strategy}: cancel before the commit point removes the temp/journal and leaves the file untouched`, async () => {
    const old = blockBytes(7, 200_000);
    const f = fresh(old);
    const ac = new AbortController();
    const segs: SaveSegment[] = [{ kind: "bytes", bytes: Buffer.alloc(5000, 1) }, { kind: "file", start: 0, length: 200_000 }];
    const code = await codeOf(
      saveResized(f, segs, {
        strategy,
        ...SMALL,
        signal: ac.signal,
        onProgress: (p) => {
          if ((p.phase === "copy" || p.phase === "plan") && p.done > 0) ac.abort();
        },
      }),
    );
    assert.equal(code, "ECANCELED");
    assert.ok(fs.readFileSync(f).equals(old));
    assert.deepEqual(leftovers(f), []);
  });

  test(`${strategy}: an injected error before the commit point removes the temp/journal, file untouched`, async () => {
    const old = blockBytes(8, 100_000);
    const f = fresh(old);
    const at = strategy === "rewrite" ? "rw-copy" : "ip-journal-write";
    setResizeFaultHook((step, k) => {
      if (step === at && k === (strategy === "rewrite" ? 2 : 0)) throw Object.assign(new Error("injected EIO"), { code: "EIO", syscall: "write" });
    });
    try {
      const code = await codeOf(saveResized(f, [{ kind: "bytes", bytes: Buffer.alloc(9000, 2) }, { kind: "file", start: 0, length: 100_000 }], { strategy, ...SMALL }));
      assert.equal(code, "EIO");
    } finally {
      setResizeFaultHook(null);
    }
    assert.ok(fs.readFileSync(f).equals(old));
    assert.deepEqual(leftovers(f), []);
  });

  test(`${strategy}: ECHANGED when the file is not the size the caller believes, or shorter than a range; nothing written`, async () => {
    const old = blockBytes(9, 10_000);
    const f = fresh(old);
    assert.equal(await codeOf(saveResized(f, [{ kind: "file", start: 0, length: 10 }], { strategy, expectedSize: 9999 })), "ECHANGED");
    assert.equal(await codeOf(saveResized(f, [{ kind: "file", start: 5000, length: 5001 }], { strategy })), "ECHANGED");
    assert.equal(await codeOf(saveResized(f, [{ kind: "fill", pattern: new Uint8Array(0), phase: 0, length: 3 }], { strategy })), "EINVAL");
    assert.ok(fs.readFileSync(f).equals(old));
    assert.deepEqual(leftovers(f), []);
  });
}

test("ENOSPC before anything is written; auto falls back to in place when only that fits", async () => {
  const old = blockBytes(10, 300_000);
  const segs: SaveSegment[] = [{ kind: "bytes", bytes: Buffer.from("ab") }, { kind: "file", start: 0, length: 300_000 }];
  const MiB = 1024 * 1024;
  // rewrite needs ≈ 300 KB + a 4 MiB margin; in place ≈ 2 bytes of growth + a small journal + margin.
  for (const strategy of ["rewrite", "in-place", "auto"] as const) {
    const f = fresh(old);
    const code = await codeOf(saveResized(f, segs, { strategy, freeSpace: async () => 1000 }));
    assert.equal(code, "ENOSPC", strategy);
    assert.ok(fs.readFileSync(f).equals(old));
    assert.deepEqual(leftovers(f), []);
  }
  const f = fresh(old);
  const res = await saveResized(f, segs, { ...SMALL, freeSpace: async () => 4 * MiB + 200_000 });
  assert.equal(res.strategy, "in-place", "auto picked in place when the rewrite did not fit");
  assert.ok(fs.readFileSync(f).equals(expectedContent(old, segs)));
  const roomy = await saveResized(fresh(old), segs, { freeSpace: async () => 100 * MiB });
  assert.equal(roomy.strategy, "rewrite");
  const e = await saveResized(fresh(old), segs, { strategy: "rewrite", freeSpace: async () => 10 }).catch((x: HexmapError) => x);
  assert.match((e as HexmapError).message, /free space/);
  assert.ok((await freeSpace(dir)) > 0);
});

test("rewrite: the disk filling up midway is ENOSPC, the temp is removed and the file untouched", async () => {
  const old = blockBytes(15, 50_000);
  const f = fresh(old);
  setResizeFaultHook((step, k) => {
    if (step === "rw-copy" && k === 1) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC", syscall: "write" });
  });
  try {
    const e = await saveResized(f, [{ kind: "bytes", bytes: Buffer.from("z") }, { kind: "file", start: 0, length: 50_000 }], { strategy: "rewrite", ...SMALL }).catch((x: HexmapError) => x);
    assert.equal((e as HexmapError).code, "ENOSPC");
    assert.match((e as HexmapError).message, /not changed/);
  } finally {
    setResizeFaultHook(null);
  }
  assert.ok(fs.readFileSync(f).equals(old));
  assert.deepEqual(leftovers(f), []);
});

test("stray temp files of dead processes are removed by the next save and by recovery; live ones are kept", async () => {
  const f = fresh(blockBytes(11, 1000));
  const base = path.basename(f);
  const dead = path.join(dir, `.${base}.hexmap-999999-0badf00d.tmp`); // pid beyond pid_max
  const live = path.join(dir, `.${base}.hexmap-${process.ppid}-00c0ffee.tmp`);
  fs.writeFileSync(dead, "x");
  fs.writeFileSync(live, "y");
  assert.deepEqual(findStaleTemps(f), [dead]);
  assert.deepEqual(recoveryState(f).staleSaveTemps, [dead]);
  await recoverFile(f, "forward");
  assert.ok(!fs.existsSync(dead));
  fs.writeFileSync(dead, "x");
  await saveResized(f, [{ kind: "file", start: 1, length: 999 }]);
  assert.ok(!fs.existsSync(dead));
  assert.ok(fs.existsSync(live));
  assert.deepEqual(cleanStaleTemps(f), []);
  fs.rmSync(live);
});

// ---- version-2 journal recovery ---------------------------------------------------------------------------

test("in place: an error midway leaves a v2 journal; recoveryState reports it, back is refused, forward finishes", async () => {
  const old = blockBytes(12, 120_000);
  const segs: SaveSegment[] = [{ kind: "bytes", bytes: Buffer.alloc(3, 9) }, { kind: "file", start: 0, length: 60_000 }, { kind: "file", start: 60_010, length: 59_990 }];
  const want = expectedContent(old, segs);
  const f = fresh(old);
  setResizeFaultHook((step, k) => {
    if (step === "ip-chunk" && k === 5) throw Object.assign(new Error("injected EIO"), { code: "EIO", syscall: "write" });
  });
  try {
    const e = await saveResized(f, segs, { strategy: "in-place", ...SMALL }).catch((x: HexmapError) => x);
    assert.equal((e as HexmapError).code, "EIO");
    assert.match((e as HexmapError).message, /recover --forward/);
  } finally {
    setResizeFaultHook(null);
  }
  const st = recoveryState(f);
  assert.equal(st.journal, "valid");
  assert.equal(st.version, 2);
  assert.equal(st.fileState, "mixed");
  assert.equal(st.canGoBack, false);
  assert.ok(st.steps! > 0 && st.stepsDone! < st.steps!);
  assert.equal(st.newFileSize, want.length);
  // Another save refuses while the journal is there, and does not delete it.
  assert.equal(await codeOf(saveResized(f, [{ kind: "file", start: 0, length: 10 }])), "EBUSY");
  assert.equal(await codeOf(saveEdits(f, [{ offset: 0, bytes: Buffer.from([1]) }])), "EBUSY");
  assert.ok(fs.existsSync(journalPathFor(f)));
  assert.equal(await codeOf(recoverFile(f, "back")), "ENOTSUP");
  const res = await recoverFile(f, "forward");
  assert.equal(res.action, "rolled-forward");
  assert.equal(res.version, 2);
  assert.ok(fs.readFileSync(f).equals(want));
  assert.equal(recoveryState(f).journal, "none");
});

test("in place: a journal that never started can be backed out (file untouched) or finished", async () => {
  for (const direction of ["back", "forward"] as const) {
    const old = blockBytes(13, 50_000);
    const segs: SaveSegment[] = [{ kind: "file", start: 100, length: 49_900 }, { kind: "bytes", bytes: Buffer.from("tail") }];
    const f = fresh(old);
    // Fail right after the journal is durable, before the cursor says "started".
    setResizeFaultHook((step) => {
      if (step === "ip-journal-durable") throw Object.assign(new Error("injected"), { code: "EIO", syscall: "write" });
    });
    try {
      assert.equal(await codeOf(saveResized(f, segs, { strategy: "in-place", ...SMALL })), "EIO");
    } finally {
      setResizeFaultHook(null);
    }
    const st = recoveryState(f);
    assert.equal(st.journal, "valid");
    assert.equal(st.fileState, "old");
    assert.equal(st.canGoBack, true);
    await recoverFile(f, direction);
    assert.ok(fs.readFileSync(f).equals(direction === "back" ? old : expectedContent(old, segs)), direction);
    assert.deepEqual(leftovers(f), []);
  }
});

test("a damaged v2 journal is reported invalid and discarded without touching the file", async () => {
  const old = blockBytes(14, 30_000);
  const f = fresh(old);
  setResizeFaultHook((step) => {
    if (step === "ip-journal-durable") throw Object.assign(new Error("injected"), { code: "EIO", syscall: "write" });
  });
  try {
    await codeOf(saveResized(f, [{ kind: "file", start: 1, length: 29_999 }], { strategy: "in-place", ...SMALL }));
  } finally {
    setResizeFaultHook(null);
  }
  const jp = journalPathFor(f);
  const j = fs.readFileSync(jp);
  j[200] = (j[200] ?? 0) ^ 0xff; // inside the plan
  fs.writeFileSync(jp, j);
  const st = recoveryState(f);
  assert.equal(st.journal, "invalid");
  assert.equal(st.version, 2);
  const res = await recoverFile(f, "forward");
  assert.equal(res.action, "discarded-invalid");
  assert.ok(fs.readFileSync(f).equals(old));
});

test("in place past 4 GiB: a 5 GiB sparse file whose last MiB moves right by an insert (offsets above 2^32 in the journal)", async () => {
  const size = 5 * GiB;
  const f = path.join(dir, `big${++n}.bin`);
  const fd = fs.openSync(f, "w");
  fs.ftruncateSync(fd, size);
  const tail = blockBytes(77, 1024 * 1024);
  const head = blockBytes(78, 4096);
  fs.writeSync(fd, tail, 0, tail.length, size - tail.length);
  fs.writeSync(fd, head, 0, head.length, 2 ** 32 - 100);
  fs.closeSync(fd);
  const ins = Buffer.from("0123456789");
  const cut = size - tail.length;
  const res = await saveResized(f, [{ kind: "file", start: 0, length: cut }, { kind: "bytes", bytes: ins }, { kind: "file", start: cut, length: tail.length }], { strategy: "in-place" });
  assert.equal(res.strategy, "in-place");
  assert.equal(res.copiedBytes, tail.length, "only the tail moved");
  assert.equal(fs.statSync(f).size, size + ins.length);
  const rfd = fs.openSync(f, "r");
  try {
    const got = Buffer.alloc(ins.length + tail.length);
    fs.readSync(rfd, got, 0, got.length, cut);
    assert.ok(got.subarray(0, ins.length).equals(ins));
    assert.ok(got.subarray(ins.length).equals(tail));
    const h = Buffer.alloc(head.length);
    fs.readSync(rfd, h, 0, h.length, 2 ** 32 - 100);
    assert.ok(h.equals(head), "the unmoved data across 4 GiB is untouched");
  } finally {
    fs.closeSync(rfd);
  }
  assert.ok(fs.statSync(f).blocks * 512 < 16 * 1024 * 1024, "in place touched only what moved");
  fs.rmSync(f);
});
