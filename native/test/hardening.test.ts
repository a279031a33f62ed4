// Addon hardening (issue 9): every binding called with generated hostile arguments (wrong types,
// NaN, negatives, > 2^53, huge lengths, detached buffers, getters that throw), and views/sources
// closed under in-flight work. Each call must return or throw/reject an Error with one of the
// addon's codes; the process never crashes; the addon's resource counts go back to zero.
// Runs on Linux, on win32 under Wine, and under ASan/UBSan (scripts/sanitize.sh), where an
// out-of-bounds access on any of these paths would be reported.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { NativeSource, NativeView } from "../index";
import { native, seededBytes, tempDir } from "./helpers";

const CODES = new Set(["EINVAL", "ERANGE", "EACCES", "ECLOSED", "EIO", "ENOENT", "EISDIR", "EBUSY", "ENOTSUP", "EEXIST", "ENAMETOOLONG", "ENOTDIR"]);
const G = native.granularity;
let tmp: { dir: string; cleanup: () => void };
let file: string;

before(() => {
  tmp = tempDir("hexmap-native-hard-");
  file = path.join(tmp.dir, "data.bin");
  fs.writeFileSync(file, seededBytes(5, 4 * G + 77));
});
after(() => tmp.cleanup());

const detached = (() => {
  const ab = new ArrayBuffer(16);
  const view = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return view;
})();

const hostile = fc.constantFrom<unknown>(
  0,
  1,
  G,
  G - 1,
  4 * G + 77,
  4 * G + 78,
  -1,
  -0,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  2 ** 53 - 1,
  2 ** 64,
  2 ** 32,
  2 ** 31 - 1,
  -(2 ** 31),
  "1",
  "",
  null,
  undefined,
  true,
  {},
  [],
  [1],
  Symbol("s"),
  10n,
  () => 1,
  { valueOf: () => 1 },
  {
    get writable() {
      throw new Error("getter");
    },
  },
  new Uint8Array(0),
  new Uint8Array(8),
  new Uint16Array(4),
  new DataView(new ArrayBuffer(8)),
  new ArrayBuffer(8),
  detached,
  Buffer.alloc(3),
);

function show(x: unknown): string {
  try {
    return typeof x === "symbol" ? "Symbol" : typeof x === "bigint" ? `${x}n` : (JSON.stringify(x) ?? String(x));
  } catch {
    return Object.prototype.toString.call(x);
  }
}

function outcome(fn: () => unknown): Promise<string> {
  try {
    const r = fn();
    if (r instanceof Promise) return r.then(() => "ok", (e: unknown) => codeOf(e));
    return Promise.resolve("ok");
  } catch (e) {
    return Promise.resolve(codeOf(e));
  }
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (e instanceof Error && typeof code === "string" && CODES.has(code)) return code;
  // The caller's own exception (a throwing getter on an options object) passes through unchanged.
  if (e instanceof Error && e.message === "getter") return "caller's exception";
  // A TypeError from V8 itself (e.g. a Symbol converted) is acceptable only from JS glue, not the addon.
  return `unexpected: ${String((e as Error)?.name)} ${String(code)} ${String((e as Error)?.message ?? e)}`;
}

describe("addon under hostile arguments", () => {
  test("2 000 generated calls: only documented error codes, never a crash", async () => {
    const src = native.openFile(file);
    const view = src.map(0, 2 * G);
    const base = native.stats();
    const calls: Array<(a: unknown, b: unknown, c: unknown) => unknown> = [
      (a, b) => (native.openFile as any)(a, b).close(),
      (a, b) => (native.openFile as any)(file, a ?? b).close(),
      (a, b, c) => {
        const v = (src.map as any)(a, b, c) as NativeView;
        v.unmap();
      },
      (a, b) => (view.readSync as any)(a, b),
      (a, b) => (view.read as any)(a, b),
      (a, b) => (view.writeSync as any)(a, b),
      (a, b) => (view.write as any)(a, b),
      (a, b) => (view.flush as any)(a, b),
      (a, b, c) => (src.search as any)({ pattern: a, mask: b, from: c, to: b, direction: a, maxHits: c, threads: 1 }).promise,
      (a, b, c) => (src.search as any)({ pattern: new Uint8Array([1, 2]), from: a, to: b, maxHits: c, chunkSize: a, windowSize: b, threads: c }).promise,
      (a, b, c) => (src.countLines as any)({ from: a, to: b, unit: c, sampleEvery: a, threads: 1 }).promise,
      (a) => (src.search as any)(a).promise,
      (a) => (src.countLines as any)(a).promise,
    ];
    const failures: string[] = [];
    const seen = new Map<string, number>();
    const samples = fc.sample(fc.tuple(fc.nat(calls.length - 1), hostile, hostile, hostile), { numRuns: 2000, seed: 42 });
    for (const [i, a, b, c] of samples) {
      const r = await outcome(() => calls[i]!(a, b, c));
      seen.set(r, (seen.get(r) ?? 0) + 1);
      if (r.startsWith("unexpected")) failures.push(`call ${i}(${[a, b, c].map(show).join(", ")}): ${r}`);
    }
    assert.deepEqual([...new Set(failures)].slice(0, 10), []);
    assert.ok((seen.get("ok") ?? 0) > 0 && (seen.get("EINVAL") ?? 0) > 100, JSON.stringify([...seen]));
    // A read-only view refused every write: the file is unchanged.
    assert.deepEqual(fs.readFileSync(file), seededBytes(5, 4 * G + 77));
    assert.deepEqual(native.stats(), base, "the calls left no source or view behind");
    view.unmap();
    src.close();
  });

  test("unmap and close while reads and scans are in flight: every one settles, nothing leaks", async () => {
    const before = native.stats();
    for (let round = 0; round < 20; round++) {
      const src: NativeSource = native.openFile(file);
      const views = [src.map(0, G), src.map(G, 2 * G), src.map(0, 4 * G + 77)];
      const work: Array<Promise<unknown>> = [];
      for (let i = 0; i < 30; i++) {
        const v = views[i % views.length]!;
        work.push(v.read(i % v.length, Math.min(4096, v.length - (i % v.length))));
      }
      work.push(src.search!({ pattern: new Uint8Array([0xde, 0xad]), direction: "all", threads: 2 }).promise);
      work.push(src.countLines!({ threads: 1 }).promise);
      if (round % 2) views[round % 3]!.unmap();
      else src.close();
      const settled = await Promise.allSettled(work);
      for (const s of settled) {
        if (s.status === "rejected") assert.ok(["ECLOSED"].includes((s.reason as { code?: string }).code ?? ""), String(s.reason));
      }
      src.close();
      for (const v of views) assert.equal(v.closed, true);
      assert.throws(() => views[0]!.readSync(0, 1), { code: "ECLOSED" });
    }
    assert.deepEqual(native.stats(), before);
  });
});
