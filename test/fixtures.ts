// Sparse-file fixtures shared by every test and bench. A fixture is a file of `size` bytes made
// with ftruncate (so it costs no disk space) with a few blocks of seeded pseudo-random bytes
// written into it. `expected(offset, length)` computes what the file holds without reading it,
// so reads can be checked anywhere in a multi-gigabyte file. Nothing here shells out, so the
// helpers also run under Windows Node in Wine.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const FOUR_GIB = 2 ** 32;

/** mulberry32: a tiny deterministic PRNG; returns uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A seeded random source with helpers for picking offsets in big files. */
export class Rng {
  private readonly next32: () => number;
  constructor(seed: number) {
    this.next32 = mulberry32(seed);
  }
  uint32(): number {
    return this.next32();
  }
  /** Uniform float in [0, 1) with 53 bits. */
  float(): number {
    return (this.next32() * 2 ** 21 + (this.next32() >>> 11)) / 2 ** 53;
  }
  /** Uniform integer in [0, n) for any safe n. */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** Uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** The bytes of a block: `length` bytes from mulberry32(seed), little-endian words. */
export function blockBytes(seed: number, length: number): Buffer {
  const next = mulberry32(seed);
  const words = Math.ceil(length / 4);
  const buf = Buffer.allocUnsafe(words * 4);
  for (let i = 0; i < words; i++) buf.writeUInt32LE(next(), i * 4);
  return buf.subarray(0, length);
}

export interface Block {
  offset: number;
  length: number;
  seed: number;
}

export interface SparseSpec {
  size: number;
  blocks: Block[];
  /** Folder to create the file in (default: a fresh temp folder, removed by cleanupFixtures()). */
  dir?: string;
  name?: string;
}

export interface SparseFixture {
  path: string;
  size: number;
  blocks: Block[];
  /** What the file holds at [offset, offset+length), clamped at the end (zeros outside blocks). */
  expected(offset: number, length: number): Buffer;
}

const tempDirs = new Set<string>();

/** A fresh folder under os.tmpdir(), removed by cleanupFixtures() (or at process exit). */
export function makeTempDir(prefix = "hexmap-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes every temp folder made by this module. Safe to call more than once. */
export function cleanupFixtures(): void {
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // A file still open on Windows: the OS temp cleaner gets it later.
    }
  }
  tempDirs.clear();
}

process.once("exit", cleanupFixtures);

/** Creates a sparse file: ftruncate to `size`, then the blocks (clipped to the size). */
export function makeSparseFile(spec: SparseSpec): SparseFixture {
  const dir = spec.dir ?? makeTempDir();
  const file = path.join(dir, spec.name ?? `sparse-${spec.size}.bin`);
  const blocks = spec.blocks
    .map((b) => ({ ...b, length: Math.max(0, Math.min(b.length, spec.size - b.offset)) }))
    .filter((b) => b.length > 0);
  const contents = blocks.map((b) => blockBytes(b.seed, b.length));
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, spec.size);
    blocks.forEach((b, i) => {
      const data = contents[i]!;
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, b.offset + done);
    });
  } finally {
    fs.closeSync(fd);
  }
  return {
    path: file,
    size: spec.size,
    blocks,
    expected(offset: number, length: number): Buffer {
      const end = Math.min(spec.size, offset + length);
      const out = Buffer.alloc(Math.max(0, end - offset));
      blocks.forEach((b, i) => {
        const from = Math.max(offset, b.offset);
        const to = Math.min(end, b.offset + b.length);
        if (from < to) contents[i]!.copy(out, from - offset, from - b.offset, to - b.offset);
      });
      return out;
    },
  };
}

/** Writes a small ordinary file into a temp folder and returns its path. */
export function makeFile(contents: Buffer | string, name = "file.bin", dir?: string): string {
  const file = path.join(dir ?? makeTempDir(), name);
  fs.writeFileSync(file, contents);
  return file;
}

export const BLOCK = 64 * KiB;

/**
 * The standard big fixture: 6 GiB sparse with 64 KiB random blocks at 0, 2^32−3 (across the
 * 4 GiB boundary), 2^32+5 (overlapping it, unaligned) and ending at the last byte.
 */
export function bigSpec(size = 6 * GiB): { size: number; blocks: Block[] } {
  return {
    size,
    blocks: [
      { offset: 0, length: BLOCK, seed: 1 },
      { offset: FOUR_GIB - 3, length: BLOCK, seed: 2 },
      { offset: FOUR_GIB + 5, length: BLOCK, seed: 3 },
      { offset: size - BLOCK, length: BLOCK, seed: 4 },
    ],
  };
}

export function makeBigFile(size = 6 * GiB, dir?: string): SparseFixture {
  return makeSparseFile({ ...bigSpec(size), ...(dir !== undefined ? { dir } : {}), name: `big-${size}.bin` });
}

/** Offsets worth probing in a fixture: block edges, 4 GiB, the end. */
export function interestingOffsets(fx: SparseFixture): number[] {
  const set = new Set<number>([0, 1, fx.size - 1, fx.size]);
  if (fx.size > FOUR_GIB) for (const d of [-17, -16, -1, 0, 1, 16]) set.add(FOUR_GIB + d);
  for (const b of fx.blocks) for (const d of [-1, 0, 1]) {
    set.add(b.offset + d);
    set.add(b.offset + b.length + d);
  }
  return [...set].filter((o) => o >= 0 && o <= fx.size).sort((a, b) => a - b);
}

/** The `code` of what fn throws (a HexmapError's stable code), or "none". */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return String((e as { code?: unknown }).code);
  }
  return "none";
}
