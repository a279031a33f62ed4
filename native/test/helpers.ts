// Shared helpers for the addon tests. Runs unchanged on Linux and on win32 under Wine
// (HEXMAP_NATIVE points the loader at the cross-built .node there): no shell commands here.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadNative, type NativeAddon } from "../index";

export const native: NativeAddon = loadNative();
export const isWin = process.platform === "win32";
export const GiB = 1024 * 1024 * 1024;

/** Path of the compiled loader, for child processes that must load the same addon. */
export const loaderPath = path.join(__dirname, "..", "index.js");

/** A fresh private temp folder, removed by the returned cleanup. */
export function tempDir(prefix = "hexmap-native-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes (mulberry32), so a failure reproduces. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** The same range read with plain fs, the reference every mapped read is compared with. */
export function fsRead(file: string, position: number, length: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}

export function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (!actual.equals(expected)) {
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    assert.fail(`${what}: first difference at byte ${i} (got ${actual[i]}, expected ${expected[i]})`);
  }
}

export function throwsCode(fn: () => unknown, code: string, what?: string): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: unknown; message?: unknown };
    assert.ok(e instanceof Error, `${what ?? "call"}: threw a non-Error`);
    assert.equal(err.code, code, `${what ?? "call"}: code (message: ${String(err.message)})`);
    assert.ok(typeof err.message === "string" && err.message.length > 10, "message is a sentence");
    return true;
  });
}

export async function rejectsCode(p: Promise<unknown>, code: string, what?: string): Promise<void> {
  assert.ok(p instanceof Promise, `${what ?? "call"}: returns a Promise`);
  await assert.rejects(p, (e: unknown) => {
    const err = e as { code?: unknown; message?: unknown };
    assert.ok(e instanceof Error, `${what ?? "call"}: rejected with a non-Error`);
    assert.equal(err.code, code, `${what ?? "call"}: code (message: ${String(err.message)})`);
    return true;
  });
}

/** Calls the test's own gc (exposed at runtime: node --test passes no flags to test files). */
export function getGc(): () => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("node:v8").setFlagsFromString("--expose-gc");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("node:vm").runInNewContext("gc") as () => void;
}

/** Runs GC and lets finalizers run until `done()` or the attempts run out. */
export async function collectUntil(done: () => boolean, attempts = 50): Promise<boolean> {
  const gc = getGc();
  for (let i = 0; i < attempts; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return done();
}

/** Every non-negative-safe-integer violation a caller can produce. */
export const badIndexes: ReadonlyArray<[string, unknown]> = [
  ["negative", -1],
  ["negative zero-ish fraction", -0.5],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["2^53", 2 ** 53],
  ["2^64", 2 ** 64],
  ["fractional", 1.5],
  ["numeric string", "4096"],
  ["bigint", 4096n],
  ["null", null],
  ["object", {}],
  ["boolean", true],
];
