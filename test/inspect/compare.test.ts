// Comparing documents (app/engine/compare.ts) and `hexmap diff` (app/cli/diff.ts): engine results
// against a naive byte loop on random pairs with odd chunk sizes (differences at chunk edges,
// dense and sparse, different lengths); CLI output byte-for-byte against the real `cmp -l` on
// small files and on ranges of two 6 GiB sparse files differing at a few far offsets (cmp reads
// holes slowly, so it is run over ranges with -i/-n; hexmap diff runs over the whole files and is
// checked against the known differences); exit codes, EOF messages, progress, cancel, EPIPE.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import {
  countDifferences,
  findNextDifference,
  findPreviousDifference,
  iterateDifferences,
  listDifferences,
  type ByteDifference,
} from "../../app/engine/compare";
import type { ByteSource } from "../../app/engine/hash";
import { formatCmpLines } from "../../app/cli/diff";
import { FOUR_GIB, GiB, KiB, MiB, Rng, bigSpec, blockBytes, cleanupFixtures, makeFile, makeSparseFile, makeTempDir, type SparseFixture } from "../fixtures";

const root = path.resolve(__dirname, "..", "..", "..");
const diffModule = path.join(root, "dist", "app", "cli", "diff.js");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function hexmapDiff(args: string[], cwd?: string): Run {
  const script = `require(${JSON.stringify(diffModule)}).runDiff(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  const r = spawnSync(process.execPath, ["-e", script, "--", ...args], { cwd, encoding: "latin1", maxBuffer: 512 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasCmp = spawnSync("cmp", ["--version"]).status === 0;
const noCmp = hasCmp ? false : "cmp is not installed";

function cmp(args: string[], cwd?: string): Run {
  const r = spawnSync("cmp", args, { cwd, encoding: "latin1", maxBuffer: 512 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A ByteSource over a Buffer that counts its reads. */
class MemSource implements ByteSource {
  reads = 0;
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    return this.bytes.subarray(offset, Math.min(this.bytes.length, offset + length));
  }
}

function naiveDiffs(a: Buffer, b: Buffer): ByteDifference[] {
  const out: ByteDifference[] = [];
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) out.push({ offset: i, a: a[i]!, b: b[i]! });
  return out;
}

/** A random pair: B is A with some bytes changed (clustered, at chunk edges, or spread). */
function randomPair(rng: Rng, chunk: number): [Buffer, Buffer] {
  const n = rng.between(0, 300 * KiB);
  const a = blockBytes(rng.uint32(), n);
  let b: Buffer = Buffer.from(a);
  const mode = rng.below(5);
  if (mode === 4) b = blockBytes(rng.uint32(), n); // dense: nearly every byte differs
  else {
    const k = rng.below(60);
    for (let i = 0; i < k && n > 0; i++) {
      const at = mode === 1 ? Math.min(n - 1, rng.below(Math.ceil(n / chunk)) * chunk + rng.pick([-1, 0, 1])) : mode === 2 ? rng.below(Math.min(n, 100)) : rng.below(n);
      if (at >= 0) b[at] = (b[at]! + 1 + rng.below(255)) & 0xff;
    }
  }
  const cut = rng.below(6);
  if (cut === 0) b = b.subarray(0, rng.below(n + 1));
  if (cut === 1) b = Buffer.concat([b, blockBytes(rng.uint32(), rng.below(1000))]);
  return rng.below(2) ? [a, b] : [b, a];
}

let dir: string;

before(() => {
  dir = makeTempDir();
});
after(() => cleanupFixtures());

describe("compare engine vs a byte loop", () => {
  test("next, previous, count, list, iterate on 150 random pairs with odd chunk sizes", async () => {
    const rng = new Rng(0xc0);
    for (let round = 0; round < 150; round++) {
      const chunkSize = rng.pick([1000, 4096, 4097, 65536, 99991]);
      const [x, y] = randomPair(rng, chunkSize);
      const a = new MemSource(x);
      const b = new MemSource(y);
      const all = naiveDiffs(x, y);
      const common = Math.min(x.length, y.length);
      const what = `round ${round}: sizes ${x.length}/${y.length}, ${all.length} diffs, chunk ${chunkSize}`;

      const count = await countDifferences(a, b, { chunkSize });
      assert.equal(count.differences, all.length, what);
      assert.equal(count.length, common);
      assert.deepEqual(count.eof, x.length === y.length ? null : { shorter: x.length < y.length ? "a" : "b", at: common });

      for (let probe = 0; probe < 6; probe++) {
        const from = rng.below(common + 1);
        const next = await findNextDifference(a, b, { from, chunkSize });
        assert.deepEqual(next, all.find((d) => d.offset >= from) ?? null, `${what} next from ${from}`);
        const before = rng.below(common + 1);
        const prev = await findPreviousDifference(a, b, { before, chunkSize });
        assert.deepEqual(prev, [...all].reverse().find((d) => d.offset < before) ?? null, `${what} prev before ${before}`);
        const length = rng.below(common - from + 1);
        const part = await countDifferences(a, b, { from, length, chunkSize });
        assert.equal(part.differences, all.filter((d) => d.offset >= from && d.offset < from + length).length, `${what} count ${from}+${length}`);
      }
      const max = rng.pick([1, 5, 100, 100000]);
      const list = await listDifferences(a, b, { max, chunkSize });
      assert.deepEqual(list.differences, all.slice(0, max), what);
      assert.equal(list.truncated, all.length > max);
      const streamed: number[] = [];
      for await (const batch of iterateDifferences(a, b, { chunkSize })) streamed.push(...batch.offsets);
      assert.deepEqual(streamed, all.map((d) => d.offset));
    }
  });

  test("identical stretches cost one comparison per chunk: reads are chunk-sized", async () => {
    const x = blockBytes(5, 8 * MiB);
    const y = Buffer.from(x);
    y[5 * MiB + 3] = y[5 * MiB + 3]! ^ 0xff;
    const a = new MemSource(x);
    const b = new MemSource(y);
    assert.deepEqual(await findNextDifference(a, b, { chunkSize: MiB }), { offset: 5 * MiB + 3, a: x[5 * MiB + 3], b: y[5 * MiB + 3] });
    assert.equal(a.reads, 7, "one read per chunk up to the difference, plus the one in flight");
  });

  test("progress and cancel", async () => {
    const x = Buffer.alloc(16 * MiB);
    const a = new MemSource(x);
    const b = new MemSource(Buffer.alloc(16 * MiB));
    const seen: Array<[number, number]> = [];
    await countDifferences(a, b, { chunkSize: MiB, onProgress: (d, t) => seen.push([d, t]) });
    assert.equal(seen.length, 16);
    assert.deepEqual(seen.at(-1), [16 * MiB, 16 * MiB]);
    const back: number[] = [];
    await findPreviousDifference(a, b, { chunkSize: MiB, before: 10 * MiB + 5, onProgress: (d) => back.push(d) });
    assert.deepEqual(back.at(-1), 10 * MiB + 5);
    for (const run of [
      (signal: AbortSignal, onProgress: () => void) => countDifferences(a, b, { chunkSize: MiB, signal, onProgress }),
      (signal: AbortSignal, onProgress: () => void) => findNextDifference(a, b, { chunkSize: MiB, signal, onProgress }),
      (signal: AbortSignal, onProgress: () => void) => findPreviousDifference(a, b, { chunkSize: MiB, signal, onProgress }),
      (signal: AbortSignal, onProgress: () => void) => listDifferences(a, b, { chunkSize: MiB, signal, onProgress }),
    ]) {
      const ac = new AbortController();
      let calls = 0;
      await assert.rejects(
        run(ac.signal, () => {
          if (++calls === 2) ac.abort();
        }),
        { code: "ECANCELED" },
      );
      assert.equal(calls, 2);
    }
    await assert.rejects(countDifferences(a, b, { from: 16 * MiB + 1 }), { code: "ERANGE" });
  });
});

describe("hexmap diff vs cmp -l", () => {
  test("small files: same bytes on stdout, same EOF line on stderr, same exit status", { skip: noCmp }, () => {
    const rng = new Rng(77);
    const files: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      hello: Buffer.from("hello world\n"),
      hello2: Buffer.from("hellO wOrld\nmore"),
      r1: blockBytes(1, 100000),
      all256: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      rev256: Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
    };
    const r2 = Buffer.from(files.r1!);
    for (const at of [0, 5, 9, 99, 4095, 4096, 65535, 99999]) r2[at] = (r2[at]! + 1 + rng.below(255)) & 0xff;
    files.r2 = r2;
    files.r3 = r2.subarray(0, 77777);
    for (const [name, bytes] of Object.entries(files)) makeFile(bytes, name, dir);
    const pairs: string[][] = [
      ["hello", "hello2"],
      ["hello2", "hello"],
      ["hello", "hello"],
      ["empty", "hello"],
      ["hello", "empty"],
      ["empty", "empty"],
      ["r1", "r2"],
      ["r1", "r3"],
      ["r3", "r1"],
      ["all256", "rev256"],
      ["-n", "14", "hello", "hello2"],
      ["-n", "12", "hello", "hello2"],
      ["-n", "0", "hello", "hello2"],
      ["-n", "50000", "r1", "r2"],
    ];
    for (const args of pairs) {
      const theirs = cmp(["-l", ...args], dir);
      const mine = hexmapDiff(args.map((a) => (a === "-n" ? "--length" : a)), dir);
      const what = `diff ${args.join(" ")}`;
      assert.equal(mine.stdout, theirs.stdout, what);
      assert.equal(mine.stderr.replace(/^hexmap diff: /gm, "cmp: "), theirs.stderr, what);
      assert.equal(mine.status, theirs.status, what);
    }
  });

  test("--from N prints absolute offsets: cmp -i N's lines shifted by N", { skip: noCmp }, () => {
    for (const [from, a, b] of [[6, "r1", "r2"], [4096, "r1", "r2"], [3, "hello", "hello2"], [99999, "r1", "r2"]] as const) {
      const theirs = cmp(["-l", "-i", String(from), a, b], dir);
      const mine = hexmapDiff(["--from", String(from), a, b], dir);
      assert.equal(mine.status, theirs.status);
      const parse = (out: string, shift: number) =>
        out.split("\n").filter(Boolean).map((line) => line.trim().split(/ +/).map(Number)).map(([o, x, y]) => [o! + shift, x, y]);
      assert.deepEqual(parse(mine.stdout, 0), parse(theirs.stdout, from));
    }
  });

  test("--max N stops after N lines (exit 1); --max 0 prints nothing; usage and missing files exit 2", () => {
    const all = hexmapDiff(["r1", "r2"], dir).stdout.split("\n").filter(Boolean);
    const two = hexmapDiff(["--max", "2", "r1", "r2"], dir);
    assert.equal(two.status, 1);
    assert.equal(two.stdout, all.slice(0, 2).join("\n") + "\n");
    const zero = hexmapDiff(["--max", "0", "r1", "r3"], dir);
    assert.deepEqual([zero.status, zero.stdout, zero.stderr], [1, "", ""]);
    assert.equal(hexmapDiff(["--max", "0", "r1", "r1"], dir).status, 0);
    const missing = hexmapDiff(["r1", "nope"], dir);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^hexmap diff: No such file: nope\n$/);
    assert.equal(hexmapDiff(["r1"], dir).status, 2);
    assert.equal(hexmapDiff(["--bogus", "r1", "r2"], dir).status, 2);
    assert.equal(hexmapDiff([".", "r1"], dir).status, 2);
  });

  test("a reader that goes away (| head) ends the run quietly", () => {
    const a = makeFile(blockBytes(10, 4 * MiB), "dense-a", dir);
    const b = makeFile(blockBytes(11, 4 * MiB), "dense-b", dir);
    const script = `require(${JSON.stringify(diffModule)}).runDiff(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
    const r = spawnSync("bash", ["-c", `"$0" -e "$1" -- "$2" "$3" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`, process.execPath, script, a, b], { encoding: "latin1" });
    assert.equal(r.stdout.trim(), "1");
    assert.equal(r.stderr, "");
  });
});

describe("6 GiB sparse files differing far apart", () => {
  let fa: SparseFixture;
  let fb: SparseFixture;
  /** Offsets changed in B, and B's byte there. */
  const changes: Array<[number, number]> = [];

  before(() => {
    const spec = bigSpec(6 * GiB);
    fa = makeSparseFile({ ...spec, dir, name: "big-a.bin" });
    fb = makeSparseFile({ ...spec, dir, name: "big-b.bin" });
    const offsets = [
      0,
      FOUR_GIB - 3 + 10, // inside the random block across 4 GiB
      FOUR_GIB - 1,
      FOUR_GIB,
      FOUR_GIB + 64 * KiB + 5, // just past a block
      5 * GiB + 7,
      6 * GiB - 64 * KiB - 1, // just before the last block
      6 * GiB - 1, // the last byte
    ];
    const fd = fs.openSync(fb.path, "r+");
    try {
      for (const at of offsets) {
        const old = fa.expected(at, 1)[0]!;
        const value = (old + 0x5a) & 0xff;
        fs.writeSync(fd, Uint8Array.of(value), 0, 1, at);
        changes.push([at, value]);
      }
    } finally {
      fs.closeSync(fd);
    }
    changes.sort((x, y) => x[0] - y[0]);
  });

  test("hexmap diff from just below 4 GiB to the end lists exactly the changed bytes, 10-digit offsets", () => {
    // Reading holes is slow on this kind of machine (page faults on the zero page): the run
    // covers the last 2 GiB + 32 MiB; the first change (offset 0) is checked with cmp below.
    const from = FOUR_GIB - 32 * MiB;
    const started = Date.now();
    const mine = hexmapDiff(["--from", String(from), fa.path, fb.path]);
    console.log(`# hexmap diff of 2 × ${((6 * GiB - from) / GiB).toFixed(2)} GiB: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(mine.status, 1, mine.stderr);
    const past = changes.filter((c) => c[0] >= from);
    const expected = formatCmpLines(past.map((c) => c[0]), past.map((c) => fa.expected(c[0], 1)[0]!), past.map((c) => c[1]), 10).toString("latin1");
    assert.equal(mine.stdout, expected);
    assert.ok(mine.stdout.startsWith(`${FOUR_GIB} `), "the byte before 4 GiB, 1-based");
    assert.ok(mine.stdout.includes(`\n${FOUR_GIB + 1} `), "the byte at 4 GiB");
  });

  test("the same ranges through cmp -l -i SKIP -n N give the same lines", { skip: noCmp }, () => {
    const ranges: Array<[number, number]> = [
      [0, MiB],
      [FOUR_GIB - 4 * MiB, 8 * MiB + 100 * KiB],
      [5 * GiB - MiB, 2 * MiB],
      [6 * GiB - 2 * MiB, 2 * MiB],
    ];
    for (const [from, length] of ranges) {
      const theirs = cmp(["-l", "-i", String(from), "-n", String(length), fa.path, fb.path]);
      const mine = hexmapDiff(["--from", String(from), "--length", String(length), fa.path, fb.path]);
      assert.equal(mine.status, theirs.status);
      const parse = (out: string, shift: number) =>
        out.split("\n").filter(Boolean).map((line) => line.trim().split(/ +/).map(Number)).map(([o, x, y]) => [o! + shift, x, y]);
      const lines = parse(theirs.stdout, from);
      assert.ok(lines.length > 0);
      assert.deepEqual(parse(mine.stdout, 0), lines, `range ${from}+${length}`);
    }
  });

  test("engine: next/previous across 4 GiB, count of a range, cancel", async () => {
    const a = Document.openFile(fa.path);
    const b = Document.openFile(fb.path);
    try {
      const at = changes.map((c) => c[0]);
      assert.equal((await findNextDifference(a, b, { from: FOUR_GIB - 1 - 1000 }))?.offset, FOUR_GIB - 1);
      assert.equal((await findNextDifference(a, b, { from: FOUR_GIB + 1 }))?.offset, FOUR_GIB + 7);
      assert.equal((await findNextDifference(a, b, { from: FOUR_GIB + 8 }))?.offset, FOUR_GIB + 64 * KiB + 5);
      assert.equal((await findPreviousDifference(a, b, { before: FOUR_GIB + 64 * KiB + 5 }))?.offset, FOUR_GIB + 7);
      assert.equal((await findPreviousDifference(a, b, { before: FOUR_GIB + 7 }))?.offset, FOUR_GIB);
      assert.equal((await findPreviousDifference(a, b, { before: 6 * GiB - 64 * KiB - 1, limit: 5 * GiB }))?.offset, 5 * GiB + 7);
      assert.equal(await findPreviousDifference(a, b, { before: 5 * GiB + 7, limit: 5 * GiB }), null);
      const c = await countDifferences(a, b, { from: FOUR_GIB - 16 * MiB, length: 32 * MiB });
      assert.equal(c.differences, at.filter((o) => o >= FOUR_GIB - 16 * MiB && o < FOUR_GIB + 16 * MiB).length);
      const ac = new AbortController();
      let calls = 0;
      await assert.rejects(
        countDifferences(a, b, { signal: ac.signal, onProgress: () => void (++calls === 3 && ac.abort()) }),
        { code: "ECANCELED" },
      );
      assert.equal(calls, 3);
    } finally {
      a.close();
      b.close();
    }
  });
});
