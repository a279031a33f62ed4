// Checksums (app/engine/hash.ts, app/cli/hash.ts): against node:crypto and zlib over the same
// ranges (with odd chunk sizes and small mapped windows, so chunks straddle window boundaries),
// against sha256sum / sha1sum / md5sum / crc32 on real files, and on ranges past 4 GiB in a
// 6 GiB sparse file whose expected digest is computed from the fixture's expected bytes without
// reading the file. Progress, cancel, errors.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import { HexmapError } from "../../app/engine/errors";
import { crc32, crc32Table, hashRange, type HashAlgorithm } from "../../app/engine/hash";
import { FOUR_GIB, GiB, KiB, MiB, Rng, blockBytes, cleanupFixtures, makeBigFile, makeFile, makeTempDir, type SparseFixture } from "../fixtures";

const root = path.resolve(__dirname, "..", "..", "..");
const hashModule = path.join(root, "dist", "app", "cli", "hash.js");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hexmap hash ARGS` in a child process (runHash, as the CLI dispatch calls it). */
function hexmapHash(args: string[], cwd?: string): Run {
  const script = `require(${JSON.stringify(hashModule)}).runHash(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  const r = spawnSync(process.execPath, ["-e", script, "--", ...args], { cwd, encoding: "latin1" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tool(cmd: string, args: string[], cwd?: string): Run | undefined {
  const r = spawnSync(cmd, args, { cwd, encoding: "latin1" });
  if (r.error) return undefined; // not installed
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Digests of `bytes` by node:crypto and zlib directly (the reference). */
function reference(chunks: Iterable<Uint8Array>): Record<HashAlgorithm, string> {
  const h = { md5: createHash("md5"), sha1: createHash("sha1"), sha256: createHash("sha256") };
  let c = 0;
  for (const chunk of chunks) {
    for (const x of Object.values(h)) x.update(chunk);
    c = zlib.crc32(chunk, c);
  }
  return { crc32: (c >>> 0).toString(16).padStart(8, "0"), md5: h.md5.digest("hex"), sha1: h.sha1.digest("hex"), sha256: h.sha256.digest("hex") };
}

/** The fixture's expected bytes of a range, in pieces (never the file). */
function* expectedPieces(fx: SparseFixture, offset: number, length: number): Generator<Buffer> {
  for (let at = offset; at < offset + length; at += 16 * MiB) yield fx.expected(at, Math.min(16 * MiB, offset + length - at));
}

const ALL: HashAlgorithm[] = ["crc32", "md5", "sha1", "sha256"];

let dir: string;
let small: string; // 1 MiB + 123 random bytes
let smallBytes: Buffer;
let big: SparseFixture;

before(() => {
  dir = makeTempDir();
  smallBytes = blockBytes(99, MiB + 123);
  small = makeFile(smallBytes, "small.bin", dir);
  big = makeBigFile(6 * GiB);
});
after(() => cleanupFixtures());

describe("hash engine", () => {
  test("CRC-32: the table fallback agrees with zlib.crc32, also when continued", () => {
    assert.equal(typeof (zlib as unknown as { crc32?: unknown }).crc32, "function", "Node 20.15+ has zlib.crc32");
    const rng = new Rng(32);
    for (let i = 0; i < 300; i++) {
      const data = blockBytes(rng.uint32(), rng.below(5000));
      const cut = rng.below(data.length + 1);
      const whole = zlib.crc32(data) >>> 0;
      assert.equal(crc32Table(data), whole);
      assert.equal(crc32Table(data.subarray(cut), crc32Table(data.subarray(0, cut))), whole);
      assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), whole);
    }
    assert.equal(crc32Table(Buffer.from("123456789")), 0xcbf43926); // the check value
  });

  test("random ranges, odd chunk sizes, windows of 64 KiB: all four algorithms in one pass", async () => {
    const doc = Document.openFile(small, { viewSize: 64 * KiB, maxBytes: 256 * KiB });
    try {
      const rng = new Rng(4);
      for (let i = 0; i < 60; i++) {
        const offset = rng.below(smallBytes.length + 1);
        const length = rng.below(smallBytes.length - offset + 1);
        // Tiny chunks only on short ranges: each chunk is one read through the addon.
        const chunkSize = length < 4 * KiB ? rng.pick([1, 7, 4093]) : rng.pick([4093, 65535, 65536, 65537, 300001, 4 * MiB]);
        const r = await hashRange(doc, { offset, length, algorithms: ALL, chunkSize });
        assert.equal(r.length, length);
        assert.deepEqual(r.digests, reference([smallBytes.subarray(offset, offset + length)]), `offset ${offset} length ${length} chunk ${chunkSize}`);
      }
      // Defaults: the whole document, SHA-256; a length past the end is clamped.
      assert.deepEqual((await hashRange(doc)).digests, { sha256: createHash("sha256").update(smallBytes).digest("hex") });
      const tail = await hashRange(doc, { offset: smallBytes.length - 5, length: 1000, algorithms: ["md5"] });
      assert.equal(tail.length, 5);
      assert.equal(tail.digests.md5, createHash("md5").update(smallBytes.subarray(-5)).digest("hex"));
      // Empty ranges hash the empty string.
      assert.deepEqual((await hashRange(doc, { offset: smallBytes.length, algorithms: ALL })).digests, reference([]));
    } finally {
      doc.close();
    }
  });

  test("ranges past 4 GiB in a 6 GiB sparse file, against the fixture's expected bytes", async () => {
    const doc = Document.openFile(big.path);
    try {
      const ranges: Array<[number, number]> = [
        [FOUR_GIB - 3 - 100, 64 * KiB + 300], // the block across 4 GiB, and its edges
        [FOUR_GIB - 12 * MiB - 1, 24 * MiB + 7], // chunks and 64 MiB windows straddling 4 GiB
        [big.size - 20 * MiB + 3, 20 * MiB - 3], // to the very end
        [5 * GiB + 12345, 0],
      ];
      for (const [offset, length] of ranges) {
        const seen: number[] = [];
        const r = await hashRange(doc, { offset, length, algorithms: ALL, onProgress: (done, total) => seen.push(done, total) });
        assert.deepEqual(r.digests, reference(expectedPieces(big, offset, length)), `range ${offset}+${length}`);
        if (length > 0) assert.deepEqual(seen.slice(-2), [length, length]);
      }
    } finally {
      doc.close();
    }
  });

  test("progress is monotonic; cancel rejects with ECANCELED and stops reading", async () => {
    const doc = Document.openFile(big.path);
    try {
      const done: number[] = [];
      await hashRange(doc, { offset: FOUR_GIB - 8 * MiB, length: 16 * MiB + 1, chunkSize: MiB, onProgress: (d, t) => {
        assert.equal(t, 16 * MiB + 1);
        done.push(d);
      } });
      assert.equal(done.length, 17);
      assert.ok(done.every((d, i) => i === 0 || d > done[i - 1]!));

      const ac = new AbortController();
      let calls = 0;
      const p = hashRange(doc, { offset: 0, length: 2 * GiB, chunkSize: MiB, signal: ac.signal, onProgress: () => {
        if (++calls === 3) ac.abort();
      } });
      await assert.rejects(p, (e: unknown) => e instanceof HexmapError && e.code === "ECANCELED");
      assert.equal(calls, 3, "no chunk after the cancel");

      const pre = new AbortController();
      pre.abort();
      await assert.rejects(hashRange(doc, { signal: pre.signal }), { code: "ECANCELED" });
      await assert.rejects(hashRange(doc, { offset: big.size + 1 }), { code: "ERANGE" });
      await assert.rejects(hashRange(doc, { offset: -1 }), { code: "EINVAL" });
      await assert.rejects(hashRange(doc, { algorithms: ["sha512" as HashAlgorithm] }), { code: "EINVAL" });
    } finally {
      doc.close();
    }
  });

  test("the event loop keeps turning while 64 MiB are hashed with all four", async () => {
    const doc = Document.openFile(big.path);
    try {
      let last = Date.now();
      let worst = 0;
      const timer = setInterval(() => {
        const now = Date.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      await hashRange(doc, { offset: FOUR_GIB - 32 * MiB, length: 64 * MiB, algorithms: ALL });
      clearInterval(timer);
      console.log(`# longest event-loop gap while hashing: ${worst} ms`);
      assert.ok(worst < 1000, `the event loop stalled for ${worst} ms`);
    } finally {
      doc.close();
    }
  });
});

describe("hexmap hash", () => {
  test("the same lines as sha256sum, sha1sum, md5sum (plain and --tag)", (t) => {
    const names = ["small.bin", "back\\slash.bin", "new\nline.bin"];
    for (const n of names.slice(1)) fs.copyFileSync(small, path.join(dir, n));
    let compared = 0;
    for (const [algo, cmd] of [["sha256", "sha256sum"], ["sha1", "sha1sum"], ["md5", "md5sum"]] as const) {
      for (const tag of [false, true]) {
        const args = [...(tag ? ["--tag"] : []), ...names];
        const theirs = tool(cmd, args, dir);
        if (!theirs) continue;
        const mine = hexmapHash(["--algo", algo, ...args], dir);
        assert.equal(mine.status, 0, mine.stderr);
        assert.equal(mine.stdout, theirs.stdout, `${cmd} ${tag ? "--tag" : ""}`);
        compared++;
      }
    }
    if (compared === 0) t.skip("coreutils checksum tools are not installed");
    // Default algorithm is SHA-256.
    assert.equal(hexmapHash(["small.bin"], dir).stdout, `${createHash("sha256").update(smallBytes).digest("hex")}  small.bin\n`);
  });

  test("crc32 prints what Debian's crc32 prints (8 hex digits; with a TAB and the name for several files)", () => {
    const expected = (zlib.crc32(smallBytes) >>> 0).toString(16).padStart(8, "0");
    const one = hexmapHash(["--algo", "crc32", "small.bin"], dir);
    assert.equal(one.stdout, `${expected}\n`);
    const empty = makeFile(Buffer.alloc(0), "empty.bin", dir);
    const two = hexmapHash(["-a", "crc32", "small.bin", path.basename(empty)], dir);
    assert.equal(two.stdout, `${expected}\tsmall.bin\n00000000\tempty.bin\n`);
    const theirs = tool("crc32", ["small.bin"], dir);
    if (theirs) assert.equal(one.stdout, theirs.stdout);
    const theirs2 = tool("crc32", ["small.bin", "empty.bin"], dir);
    if (theirs2) assert.equal(two.stdout, theirs2.stdout);
  });

  test("--algo all: BSD tags, one pass; --offset/--length past 4 GiB agree with tail|head|sha256sum", () => {
    const all = hexmapHash(["--algo", "all", "small.bin"], dir);
    const ref = reference([smallBytes]);
    assert.equal(all.stdout, `CRC32 (small.bin) = ${ref.crc32}\nMD5 (small.bin) = ${ref.md5}\nSHA1 (small.bin) = ${ref.sha1}\nSHA256 (small.bin) = ${ref.sha256}\n`);
    const list = hexmapHash(["--algo", "sha256,md5", "small.bin"], dir);
    assert.equal(list.stdout, `MD5 (small.bin) = ${ref.md5}\nSHA256 (small.bin) = ${ref.sha256}\n`);

    const offset = FOUR_GIB - 1000;
    const length = 64 * KiB + 2000;
    const mine = hexmapHash(["--offset", `0x${offset.toString(16)}`, "--length", String(length), big.path]);
    assert.equal(mine.status, 0, mine.stderr);
    assert.equal(mine.stdout, `${reference([big.expected(offset, length)]).sha256}  ${big.path}\n`);
    const shell = tool("bash", ["-c", `tail -c +${offset + 1} "$1" | head -c ${length} | sha256sum`, "bash", big.path]);
    if (shell && shell.status === 0) assert.equal(mine.stdout.split(" ")[0], shell.stdout.split(" ")[0]);
  });

  test("exit status: 1 when a file cannot be read (the others are still hashed), 2 on usage", () => {
    const r = hexmapHash(["--algo", "md5", "small.bin", "missing.bin", "."], dir);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, `${createHash("md5").update(smallBytes).digest("hex")}  small.bin\n`);
    assert.match(r.stderr, /^hexmap hash: No such file: missing\.bin\nhexmap hash: Is a directory.*\n$/);
    assert.equal(hexmapHash([]).status, 2);
    assert.equal(hexmapHash(["--algo", "sha512", "x"]).status, 2);
    assert.equal(hexmapHash(["--offset", "-5", "x"]).status, 2);
    const help = hexmapHash(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /8 lowercase hex digits/);
    const past = hexmapHash(["--offset", String(smallBytes.length + 1), "small.bin"], dir);
    assert.equal(past.status, 1);
    assert.match(past.stderr, /past the end/);
  });
});
