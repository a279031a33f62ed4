// `hexmap strings` and app/engine/strings.ts against GNU strings (`strings -a -t d -n MIN`, and
// `-el` for UTF-16LE): real binaries, generated data whose strings cross every chunk boundary
// (chunks of a few KiB), runs longer than one part, past 4 GiB, and over an edited document.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Editor } from "../../app/engine/editor";
import { fileRegexSource, snapshotRegexSource } from "../../app/engine/regex";
import { findStrings, type StringsOptions, type StringsSource } from "../../app/engine/strings";
import { cleanupFixtures, makeFile, makeTempDir, GiB, Rng } from "../fixtures";

after(cleanupFixtures);

const HEXMAP = path.resolve(__dirname, "..", "..", "..", "bin", "hexmap.js");
const hasStrings = spawnSync("strings", ["--version"]).status === 0;

function gnu(file: string, args: string[]): string {
  return execFileSync("strings", ["-a", "-t", "d", ...args, file], { maxBuffer: 1 << 30 }).toString("latin1");
}

async function lines(src: StringsSource, options: StringsOptions): Promise<string> {
  const out: string[] = [];
  for await (const batch of findStrings(src, options)) {
    for (const s of batch) out.push((s.continued ? "" : `${String(s.offset).padStart(7)} `) + s.text + (s.more ? "" : "\n"));
  }
  return out.join("");
}

async function ours(file: string, options: StringsOptions): Promise<string> {
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    return await lines(src, options);
  } finally {
    src.close();
  }
}

/** Random bytes with ASCII and UTF-16LE strings of all lengths, tabs, \n\r\f\v and high bytes around them. */
function mixed(size: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const b = Buffer.alloc(size);
  let i = 0;
  while (i < size) {
    const k = rng.below(5);
    const n = rng.between(1, 40);
    for (let j = 0; j < n && i < size; j++) {
      if (k === 0) b[i++] = rng.below(256);
      else if (k === 1) b[i++] = rng.pick([0x20 + rng.below(95), 9, 10, 13, 11, 12, 0x80 + rng.below(128)]);
      else if (k === 2) {
        b[i++] = 0x20 + rng.below(95);
        if (i < size) b[i++] = rng.below(8) === 0 ? rng.below(3) : 0; // UTF-16LE, sometimes broken
      } else if (k === 3) b[i++] = 0;
      else b[i++] = 0x41 + rng.below(26);
    }
  }
  return b;
}

test("real binaries: byte-for-byte the lines of strings -a -t d (ascii, -n 1/4/8) and -el", { skip: !hasStrings && "binutils is not installed" }, async () => {
  const bins = ["/bin/ls", "/usr/bin/env", "/usr/bin/grep", "/usr/bin/strings"].filter((f) => fs.existsSync(f));
  assert.ok(bins.length >= 2);
  for (const f of bins) {
    for (const n of [1, 4, 8]) {
      assert.equal(await ours(f, { minLength: n }), gnu(f, ["-n", String(n)]), `${f} -n ${n}`);
      assert.equal(await ours(f, { minLength: n, encoding: "utf16le" }), gnu(f, ["-n", String(n), "-el"]), `${f} -n ${n} -el`);
    }
  }
});

test("generated data: the same lines with chunks of 4093 / 65536 bytes (strings across every chunk boundary)", { skip: !hasStrings && "binutils is not installed" }, async () => {
  const file = makeFile(mixed(600_000, 17), "mixed.bin");
  const ascii = gnu(file, ["-n", "4"]);
  const utf16 = gnu(file, ["-n", "4", "-el"]);
  assert.ok(ascii.split("\n").length > 1000 && utf16.split("\n").length > 1000, "the data has many strings of both kinds");
  for (const chunkSize of [4093, 4096, 65536]) {
    assert.equal(await ours(file, { chunkSize }), ascii, `ascii, chunks ${chunkSize}`);
    assert.equal(await ours(file, { chunkSize, encoding: "utf16le" }), utf16, `utf16le, chunks ${chunkSize}`);
    assert.equal(await ours(file, { chunkSize, minLength: 2 }), gnu(file, ["-n", "2"]), `-n 2, chunks ${chunkSize}`);
  }
  // all: both lists merged by offset.
  const all = await ours(file, { encoding: "all", chunkSize: 4093 });
  const merged = [...ascii.split("\n").filter(Boolean).map((l, i) => [Number(l.slice(0, 7)), 0, i, l] as const), ...utf16.split("\n").filter(Boolean).map((l, i) => [Number(l.slice(0, 7)), 1, i, l] as const)]
    .sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2])
    .map((x) => x[3] + "\n")
    .join("");
  assert.equal(all, merged);
});

test("CLI: hexmap strings prints the same bytes as strings -a -t d; bad -n exits 2", { skip: !hasStrings && "binutils is not installed" }, () => {
  const file = makeFile(mixed(200_000, 5), "cli.bin");
  assert.equal(execFileSync(process.execPath, [HEXMAP, "strings", file]).toString("latin1"), gnu(file, []));
  assert.equal(execFileSync(process.execPath, [HEXMAP, "strings", file, "-n", "6", "--encoding", "utf16le"]).toString("latin1"), gnu(file, ["-n", "6", "-el"]));
  const bad = spawnSync(process.execPath, [HEXMAP, "strings", file, "-n", "0"]);
  assert.equal(bad.status, 2);
  const enc = spawnSync(process.execPath, [HEXMAP, "strings", file, "--encoding", "utf32"]);
  assert.equal(enc.status, 2);
  assert.match(enc.stderr.toString(), /ascii, utf16le, all/);
});

test("a run of 3 MiB comes out in parts with one offset, equal to strings' one line", { skip: !hasStrings && "binutils is not installed" }, async () => {
  const file = makeFile(Buffer.concat([Buffer.from("\x00\x01"), Buffer.alloc(3 * 1024 * 1024, "abc\t"), Buffer.from("\nTAIL\x00")]), "run.bin");
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    const parts = [];
    for await (const b of findStrings(src, { chunkSize: 100_000 })) parts.push(...b);
    assert.ok(parts.length > 3, "handed out in parts");
    assert.ok(parts.slice(0, -2).every((p) => p.offset === 2 && p.more));
    assert.equal(await lines(src, { chunkSize: 100_000 }), gnu(file, []));
  } finally {
    src.close();
  }
});

test("past 4 GiB in a sparse file: offsets exact, a string across the 4 GiB mark whole", async () => {
  const dir = makeTempDir();
  const file = path.join(dir, "sparse.bin");
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, 4 * GiB + 4096);
    fs.writeSync(fd, Buffer.from("ACROSS-THE-4GIB-MARK"), 0, 20, 4 * GiB - 6);
    fs.writeSync(fd, Buffer.from("U\0T\0F\0" + "1\0" + "6\0"), 0, 10, 4 * GiB + 101);
  } finally {
    fs.closeSync(fd);
  }
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    const from = 4 * GiB - 64 * 1024;
    assert.equal(await lines(src, { from, chunkSize: 4096 }), `${4 * GiB - 6} ACROSS-THE-4GIB-MARK\n`);
    assert.equal(await lines(src, { from, encoding: "utf16le" }), `${4 * GiB + 101} UTF16\n`);
  } finally {
    src.close();
  }
});

test("edited document: strings of the snapshot = strings of the edited bytes", { skip: !hasStrings && "binutils is not installed" }, async () => {
  const file = makeFile(mixed(300_000, 8), "edit.bin");
  const ed = Editor.open(file, { readOnly: false });
  try {
    const rng = new Rng(3);
    for (let i = 0; i < 30; i++) {
      const at = rng.below(ed.size);
      if (i % 3 === 0) ed.remove(at, Math.min(ed.size - at, 1 + rng.below(100)));
      else ed.insert(at, Buffer.from(i % 2 ? "INSERTED" : "x\0y\0z\0w\0"));
    }
    const copy = makeFile(Buffer.from(await ed.read(0, ed.size)), "edited.bin");
    const src = snapshotRegexSource(ed.snapshot(), ed.document);
    assert.equal(await lines(src, { chunkSize: 7777 }), gnu(copy, []));
    assert.equal(await lines(src, { encoding: "utf16le", chunkSize: 7777 }), gnu(copy, ["-el"]));
  } finally {
    ed.close();
  }
});

test("cancel stops the scan; bad options are EINVAL / ERANGE", async () => {
  const file = makeFile(mixed(100_000, 1), "c.bin");
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    const ac = new AbortController();
    let batches = 0;
    for await (const _ of findStrings(src, { chunkSize: 4096, signal: ac.signal })) {
      batches++;
      ac.abort();
    }
    assert.equal(batches, 1);
    await assert.rejects(async () => {
      for await (const _ of findStrings(src, { minLength: 0 })) void _;
    }, (e: { code?: string }) => e.code === "EINVAL");
    await assert.rejects(async () => {
      for await (const _ of findStrings(src, { to: 1e9 })) void _;
    }, (e: { code?: string }) => e.code === "ERANGE");
  } finally {
    src.close();
  }
});

test("CLI (ascii, straight from the mapped bytes): runs across its 4 MiB reads, runs of MiBs, every -n: strings' bytes", { skip: !hasStrings && "binutils is not installed" }, () => {
  const rng = new Rng(77);
  const parts: Buffer[] = [];
  let size = 0;
  const alphabet = Buffer.from(" \tabcXYZ019~");
  while (size < 13 * 1024 * 1024) {
    const r = rng.below(100);
    let b: Buffer;
    if (r < 50) {
      b = Buffer.alloc(1 + rng.below(12));
      for (let i = 0; i < b.length; i++) b[i] = alphabet[rng.below(alphabet.length)]!;
    } else if (r < 51) b = Buffer.alloc(1 + rng.below(3_000_000), 0x51); // runs of up to 3 MB: across reads
    else {
      b = Buffer.alloc(1 + rng.below(6));
      for (let i = 0; i < b.length; i++) b[i] = rng.below(256);
    }
    parts.push(b);
    size += b.length;
  }
  // A run ending exactly at a read boundary, and one starting there.
  const data = Buffer.concat(parts);
  data.fill(0x41, 4 * 1024 * 1024 - 10, 4 * 1024 * 1024);
  data[4 * 1024 * 1024] = 0;
  data.fill(0x42, 8 * 1024 * 1024, 8 * 1024 * 1024 + 5);
  data[8 * 1024 * 1024 - 1] = 1;
  const file = makeFile(data, "cli-chunks.bin");
  for (const n of ["1", "4", "9", "100000"]) {
    assert.equal(execFileSync(process.execPath, [HEXMAP, "strings", file, "-n", n], { maxBuffer: 256 * 1024 * 1024 }).toString("latin1"), gnu(file, ["-n", n]), `-n ${n}`);
  }
});
