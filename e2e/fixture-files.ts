// Big-file fixtures for the e2e suite and the UI bench: a 64 GiB sparse file with seeded random
// 64 KiB blocks at the places where hex viewers go wrong (the very start, both sides of 4 GiB,
// deep inside, the very end). Nothing large is committed: the file is made with ftruncate (no
// disk blocks) plus a few seeded writes, and deleted afterwards.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const GiB = 1024 ** 3;
export const BIG_SIZE = 64 * GiB;
export const BLOCK = 64 * 1024;

/** Where the seeded blocks go. 2^32−3 straddles 4 GiB; the last one ends at the file's end. */
export const BLOCKS: readonly { offset: number; seed: number }[] = [
  { offset: 0, seed: 1 },
  { offset: 2 ** 32 - 3, seed: 2 },
  { offset: 2 ** 32 + 5, seed: 3 },
  { offset: 40 * GiB, seed: 4 },
  { offset: BIG_SIZE - BLOCK, seed: 5 },
];

/** mulberry32: tiny, seeded, good enough to make every byte of a block distinct-looking. */
export function seededBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
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

/** A 1 TiB sparse file: seeded 4 KiB blocks in the middle (unaligned) and at the very end. */
export const TERA_SIZE = 1024 ** 4;
export const TERA_BLOCKS: readonly { offset: number; seed: number; length: number }[] = [
  { offset: 2 ** 39 + 3, seed: 11, length: 4096 },
  { offset: TERA_SIZE - 4096, seed: 12, length: 4096 },
];

export interface Fixtures {
  dir: string;
  big: string;
  /** 1 TiB, sparse. */
  tera: string;
  empty: string;
  small: string;
  /** A directory, to be refused. */
  dirPath: string;
  missing: string;
}

export const SMALL_TEXT = "Hexmap e2e: hello, bytes!\n\x00\x01\x02\x7f\x80\xff The quick brown fox jumps over the lazy dog.\n";

export function makeBigFile(file: string): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, BIG_SIZE);
    for (const b of BLOCKS) fs.writeSync(fd, seededBytes(b.seed, BLOCK), 0, BLOCK, b.offset);
  } finally {
    fs.closeSync(fd);
  }
}

export function makeFixtures(parent = os.tmpdir()): Fixtures {
  const dir = fs.mkdtempSync(path.join(parent, "hexmap-e2e-"));
  const f: Fixtures = {
    dir,
    big: path.join(dir, "big-64GiB.bin"),
    tera: path.join(dir, "tera-1TiB.bin"),
    empty: path.join(dir, "empty.bin"),
    small: path.join(dir, "small.txt"),
    dirPath: path.join(dir, "a-directory"),
    missing: path.join(dir, "does-not-exist.bin"),
  };
  makeBigFile(f.big);
  const fd = fs.openSync(f.tera, "w");
  try {
    fs.ftruncateSync(fd, TERA_SIZE);
    for (const b of TERA_BLOCKS) fs.writeSync(fd, seededBytes(b.seed, b.length), 0, b.length, b.offset);
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(f.empty, "");
  fs.writeFileSync(f.small, Buffer.from(SMALL_TEXT, "latin1"));
  fs.mkdirSync(f.dirPath);
  return f;
}

export function removeFixtures(dir: string): void {
  if (dir && path.basename(dir).startsWith("hexmap-e2e-")) fs.rmSync(dir, { recursive: true, force: true });
}

/** The bytes of `file` at [offset, offset+length), read the plain way (what the view must show). */
export function readBytes(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** A row as the grid shows it: "00 11 … 77  88 …" (space-normalised) and its ASCII text. */
export function expectedRow(bytes: Uint8Array): { hex: string; ascii: string } {
  const hex = Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
  const ascii = Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
  return { hex, ascii };
}
