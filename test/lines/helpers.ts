// Helpers for the line tests (not a test file: it does nothing when a runner loads it).
// A reference model of a text file's lines, split in JS, to check the index against; generators of
// seeded log-like text; wc -l / sed -n as peers.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Rng } from "../fixtures";

/** Line starts and newline count of `bytes`, split the simple way (unit 1: 0x0A; unit 2: U+000A units). */
export class Reference {
  readonly starts: number[] = [];
  readonly newlines: number;
  readonly size: number;
  constructor(
    readonly bytes: Buffer,
    readonly encoding: "bytes" | "utf-16le" | "utf-16be" = "bytes",
  ) {
    this.size = bytes.length;
    let newlines = 0;
    if (bytes.length > 0) this.starts.push(0);
    const unit = encoding === "bytes" ? 1 : 2;
    for (let i = 0; i + unit <= bytes.length; i += unit) {
      const nl = encoding === "bytes" ? bytes[i] === 10 : encoding === "utf-16le" ? bytes[i] === 10 && bytes[i + 1] === 0 : bytes[i] === 0 && bytes[i + 1] === 10;
      if (nl) {
        newlines++;
        if (i + unit < bytes.length) this.starts.push(i + unit);
      }
    }
    this.newlines = newlines;
  }
  get lineCount(): number {
    return this.starts.length;
  }
  /** Bytes of line n (1-based) without its newline. */
  lineBytes(n: number): Buffer {
    const unit = this.encoding === "bytes" ? 1 : 2;
    const s = this.starts[n - 1]!;
    const next = this.starts[n];
    let e = next === undefined ? this.size : next - unit;
    if (next === undefined) {
      // The last line: drop its newline if it has one.
      const b = this.bytes;
      const endsNl =
        this.size >= unit &&
        (this.encoding === "bytes" ? b[this.size - 1] === 10 : this.encoding === "utf-16le" ? b[this.size - 2] === 10 && b[this.size - 1] === 0 : b[this.size - 2] === 0 && b[this.size - 1] === 10) &&
        this.size % unit === 0;
      if (endsNl) e = this.size - unit;
    }
    return this.bytes.subarray(s, e);
  }
  /** 1-based line of the byte at offset. */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(1, lo);
  }
}

const WORDS = ["INFO", "WARN", "ERROR", "DEBUG", "request", "GET /api/v1/items", "user=42", "latency=12ms", "ok", "connection reset", "émigré", "日本語", "tab\there"];

/** One log-ish line (without newline) of a random length, sometimes empty, sometimes long. */
export function randomLine(rng: Rng, i: number): string {
  const r = rng.below(100);
  if (r < 5) return "";
  let s = `${i} `;
  const words = r < 98 ? rng.between(1, 20) : rng.between(200, 800); // ~2% long lines (several KiB)
  for (let w = 0; w < words; w++) s += rng.pick(WORDS) + " ";
  return s;
}

/** Seeded text of about `bytes` bytes; newline "\n" or "\r\n"; optionally no final newline. */
export function makeText(seed: number, bytes: number, options: { crlf?: boolean; finalNewline?: boolean } = {}): Buffer {
  const rng = new Rng(seed);
  const parts: Buffer[] = [];
  let n = 0;
  const nl = options.crlf ? "\r\n" : "\n";
  for (let i = 1; n < bytes; i++) {
    const b = Buffer.from(randomLine(rng, i) + nl, "utf8");
    parts.push(b);
    n += b.length;
  }
  let out = Buffer.concat(parts);
  if (options.finalNewline === false) out = out.subarray(0, out.length - nl.length);
  return out;
}

/** Writes a big seeded text file in pieces (no single huge Buffer); returns its path. */
export function writeBigText(file: string, seed: number, bytes: number): void {
  const fd = fs.openSync(file, "w");
  try {
    const rng = new Rng(seed);
    let written = 0;
    let i = 1;
    while (written < bytes) {
      const lines: string[] = [];
      for (let j = 0; j < 20000; j++) lines.push(randomLine(rng, i++));
      const b = Buffer.from(lines.join("\n") + "\n", "utf8");
      fs.writeSync(fd, b);
      written += b.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The number `wc -l < file` prints. */
export function wcLines(file: string): number {
  const r = spawnSync("sh", ["-c", 'wc -l < "$1"', "sh", file], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0) throw new Error(`wc -l failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export function sedLines(file: string, from: number, to: number): Buffer {
  const r = spawnSync("sed", ["-n", `${from},${to}p`, file], { maxBuffer: 256 << 20, env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0) throw new Error(`sed failed: ${String(r.stderr)}`);
  return r.stdout;
}

/** UTF-16 bytes of a JS string, with a BOM. */
export function utf16(text: string, bigEndian: boolean): Buffer {
  const le = Buffer.from("\ufeff" + text, "utf16le");
  if (!bigEndian) return le;
  const be = Buffer.from(le);
  be.swap16();
  return be;
}
