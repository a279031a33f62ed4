// The scan jobs (source.search, source.countLines) against plain JS references: random data with
// planted matches (also across window and chunk boundaries, and past 4 GiB in a sparse file),
// wildcards, ASCII case folding, UTF-16 bytes, overlapping matches, backward, find-all with a cap,
// threads, cancel, close, truncation, newline counts and samples. Runs under Windows Node in Wine
// too: no shell commands; POSIX-only cases are skipped on win32 with the reason.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { scannerOf, type NativeScanner, type NativeSearchOptions, type NativeSearchResult, type NativeSource } from "../index";
import { assertSameBytes, fsRead, GiB, isWin, native as addon, rejectsCode, seededBytes, tempDir } from "./helpers";

type Scanning = NativeSource & NativeScanner;
// The addon with its sources typed as scanners.
const native = {
  granularity: addon.granularity,
  openFile: (file: string): Scanning => scannerOf(addon.openFile(file)),
  stats: () => ({ ...addon.stats(), scanJobs: addon.scanJobs!() }),
};

let tmp: { dir: string; cleanup: () => void };
before(() => {
  tmp = tempDir("hexmap-scan-");
});
after(() => tmp.cleanup());

const G = native.granularity;
// Small windows and chunks so that a few hundred KiB cross many window and chunk boundaries.
const SMALL = { windowSize: 2 * G, chunkSize: 4096 };

function write(name: string, data: Buffer): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, data);
  return file;
}

/** Every start offset where pattern matches under mask / case folding: the reference. */
function reference(data: Buffer, pattern: Uint8Array, mask?: Uint8Array, ignoreCase = false, from = 0, to = data.length): number[] {
  const fold = (b: number) => (ignoreCase && b >= 0x61 && b <= 0x7a ? b - 32 : b);
  const hits: number[] = [];
  for (let s = from; s + pattern.length <= to; s++) {
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      const k = mask ? mask[i]! : 0xff;
      const d = data[s + i]!;
      const p = pattern[i]!;
      if (k === 0xff ? fold(d) !== fold(p) : (d & k) !== (p & k)) {
        ok = false;
        break;
      }
    }
    if (ok) hits.push(s);
  }
  return hits;
}

async function all(src: Scanning, opts: Omit<NativeSearchOptions, "direction">): Promise<{ hits: number[]; result: NativeSearchResult }> {
  const hits: number[] = [];
  const job = src.search({ maxHits: 1e9, ...opts, direction: "all", onHits: (h) => hits.push(...h) });
  const result = await job.promise;
  return { hits, result };
}

async function first(src: Scanning, opts: Omit<NativeSearchOptions, "direction">): Promise<number> {
  return (await src.search({ ...opts, direction: "forward" }).promise).hit;
}

async function last(src: Scanning, opts: Omit<NativeSearchOptions, "direction">): Promise<number> {
  return (await src.search({ ...opts, direction: "backward" }).promise).hit;
}

/** Random bytes with `pattern` planted at each offset in `at`. */
function planted(seed: number, size: number, pattern: Uint8Array, at: number[]): Buffer {
  const data = seededBytes(seed, size);
  for (const a of at) data.set(pattern.subarray(0, Math.min(pattern.length, size - a)), a);
  return data;
}

/** Offsets that put a pattern of length m across every window and chunk edge in [0, size). */
function boundaryOffsets(size: number, m: number): number[] {
  const out = new Set<number>([0, size - m]);
  for (let edge = 4096; edge < size; edge += 4096) {
    for (let back = 0; back <= m; back++) if (edge - back >= 0 && edge - back + m <= size) out.add(edge - back);
  }
  return [...out].sort((a, b) => a - b);
}

describe("search: exact bytes vs the reference", () => {
  const SIZE = 64 * G + 1234;
  const pattern = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x42]);
  let file: string;
  let data: Buffer;
  before(() => {
    const at = boundaryOffsets(SIZE, pattern.length).filter((_, i) => i % 3 === 0);
    data = planted(11, SIZE, pattern, at);
    file = write("exact.bin", data);
  });

  test("find-all equals the reference, across window and chunk boundaries", async () => {
    const src = native.openFile(file);
    try {
      const expected = reference(data, pattern);
      assert.ok(expected.length > 20, "enough planted matches");
      for (const tuning of [SMALL, { windowSize: 3 * G, chunkSize: 100 }, {}]) {
        const { hits, result } = await all(src, { pattern, ...tuning });
        assert.deepEqual(hits, expected, `hits with ${JSON.stringify(tuning)}`);
        assert.equal(result.total, expected.length);
        assert.equal(result.kept, expected.length);
        assert.equal(result.canceled, false);
        assert.equal(result.scanned, SIZE - pattern.length + 1);
      }
    } finally {
      src.close();
    }
  });

  test("forward from every hit and between them; backward likewise", async () => {
    const src = native.openFile(file);
    try {
      const expected = reference(data, pattern);
      const froms = [0, 1, SIZE - 1, SIZE, ...expected.slice(0, 40), ...expected.slice(0, 40).map((h) => h + 1), ...expected.slice(0, 40).map((h) => h - 1)];
      for (const from of froms.filter((f) => f >= 0 && f <= SIZE)) {
        const f = expected.find((h) => h >= from) ?? -1;
        assert.equal(await first(src, { pattern, from, ...SMALL }), f, `forward from ${from}`);
        const b = [...expected].reverse().find((h) => h < from) ?? -1;
        assert.equal(await last(src, { pattern, from, ...SMALL }), b, `backward from ${from}`);
      }
      assert.equal(await last(src, { pattern }), expected[expected.length - 1], "backward from the end by default");
    } finally {
      src.close();
    }
  });

  test("from/to limit the range: matches must end by `to`", async () => {
    const src = native.openFile(file);
    try {
      const expected = reference(data, pattern);
      const h = expected[5]!;
      for (const [from, to] of [
        [h, h + pattern.length],
        [h, h + pattern.length - 1],
        [h + 1, SIZE],
        [0, h + 2],
        [h, h],
      ] as const) {
        const { hits, result } = await all(src, { pattern, from, to, ...SMALL });
        assert.deepEqual(hits, reference(data, pattern, undefined, false, from, to), `[${from}, ${to})`);
        assert.equal(result.total, hits.length);
      }
    } finally {
      src.close();
    }
  });
});

describe("search: pattern kinds", () => {
  test("wildcards (mask 0) and partial masks", async () => {
    const pattern = Buffer.from([0x13, 0x00, 0x37, 0x00, 0x00, 0x99]);
    const mask = Buffer.from([0xff, 0x00, 0xff, 0x00, 0x00, 0xf0]);
    const data = seededBytes(5, 40 * G + 77);
    // Plant with varied wildcard bytes.
    const at = boundaryOffsets(data.length, pattern.length).filter((_, i) => i % 4 === 1);
    for (const a of at) {
      data[a] = 0x13;
      data[a + 1] = a & 0xff;
      data[a + 2] = 0x37;
      data[a + 5] = 0x90 | (a & 0x0f);
    }
    const file = write("wild.bin", data);
    const src = native.openFile(file);
    try {
      const expected = reference(data, pattern, mask);
      assert.ok(expected.length >= 10);
      const { hits } = await all(src, { pattern, mask, ...SMALL });
      assert.deepEqual(hits, expected);
    } finally {
      src.close();
    }
  });

  test("ASCII case folding, only for letters", async () => {
    const words = ["Hexmap", "HEXMAP", "hexmap", "hExMaP", "hexmaq", "HEX@AP", "hex`ap"];
    const rng = seededBytes(9, 4000);
    const parts: string[] = [];
    for (let i = 0; i < 4000; i++) parts.push(i % 37 === 0 ? words[rng[i]! % words.length]! : String.fromCharCode(0x20 + (rng[i]! % 90)));
    const data = Buffer.from(parts.join("") + "[HexMap]", "latin1");
    const file = write("case.txt", data);
    const src = native.openFile(file);
    try {
      const pattern = Buffer.from("hexMAP");
      const { hits } = await all(src, { pattern, ignoreCase: true, windowSize: G, chunkSize: 64 });
      assert.deepEqual(hits, reference(data, pattern, undefined, true));
      assert.ok(hits.length > 10);
      const exact = await all(src, { pattern: Buffer.from("HEXMAP") });
      assert.deepEqual(exact.hits, reference(data, Buffer.from("HEXMAP")));
      // '@' (0x40) and '`' (0x60) differ from 'M'/'m' in bit 5 only: not letters, no folding.
      const sym = await all(src, { pattern: Buffer.from("x@a"), ignoreCase: true });
      assert.deepEqual(sym.hits, reference(data, Buffer.from("x@a"), undefined, true));
    } finally {
      src.close();
    }
  });

  test("UTF-16LE and UTF-16BE text bytes, caseless", async () => {
    const text = "Grüße, Hexmap! ".repeat(50) + "HEXMAP€" + "x".repeat(1000) + "hexmap";
    for (const [enc, bytesOf] of [
      ["utf16le", (s: string) => Buffer.from(s, "utf16le")],
      ["utf16be", (s: string) => Buffer.from(s, "utf16le").swap16()],
    ] as const) {
      const data = bytesOf(text);
      const file = write(`u16-${enc}.txt`, data);
      const src = native.openFile(file);
      try {
        const pattern = bytesOf("hexmap");
        const { hits } = await all(src, { pattern, ignoreCase: true, ...SMALL });
        assert.deepEqual(hits, reference(data, pattern, undefined, true), enc);
        assert.equal(hits.length, 52, enc);
      } finally {
        src.close();
      }
    }
  });

  test("overlapping matches all count: 'aa' in 'aaaa' is 3", async () => {
    const file = write("aaaa.txt", Buffer.from("aaaa"));
    const src = native.openFile(file);
    try {
      const { hits, result } = await all(src, { pattern: Buffer.from("aa") });
      assert.deepEqual(hits, [0, 1, 2]);
      assert.equal(result.total, 3);
    } finally {
      src.close();
    }
    const run = Buffer.alloc(3 * G + 5, 0x61);
    const src2 = native.openFile(write("run.txt", run));
    try {
      const { result } = await all(src2, { pattern: Buffer.from("aaa"), maxHits: 0, ...SMALL });
      assert.equal(result.total, run.length - 2);
      assert.equal(result.kept, 0);
      assert.equal(await last(src2, { pattern: Buffer.from("aaa"), ...SMALL }), run.length - 3);
    } finally {
      src2.close();
    }
  });

  test("single bytes, patterns longer than a chunk, pattern == file", async () => {
    const data = planted(21, 3 * G, Buffer.from([7]), [0, 100, 3 * G - 1]);
    const src = native.openFile(write("single.bin", data));
    try {
      const one = Buffer.from([7]);
      assert.deepEqual((await all(src, { pattern: one, ...SMALL })).hits, reference(data, one));
      const long = data.subarray(5000, 5000 + 9000); // longer than a 4 KiB chunk
      assert.deepEqual((await all(src, { pattern: long, ...SMALL })).hits, reference(data, long));
      assert.deepEqual((await all(src, { pattern: data, ...SMALL })).hits, [0]);
      const longer = Buffer.concat([data, Buffer.from([1])]);
      assert.deepEqual((await all(src, { pattern: longer })).hits, []);
      assert.equal(await first(src, { pattern: longer }), -1);
      assert.equal(await last(src, { pattern: longer }), -1);
    } finally {
      src.close();
    }
  });

  test("an empty file has no matches and no newlines", async () => {
    const src = native.openFile(write("empty.bin", Buffer.alloc(0)));
    try {
      assert.equal(await first(src, { pattern: Buffer.from("a") }), -1);
      assert.equal(await last(src, { pattern: Buffer.from("a") }), -1);
      assert.equal((await all(src, { pattern: Buffer.from("a") })).result.total, 0);
      assert.equal((await src.countLines().promise).newlines, 0);
    } finally {
      src.close();
    }
  });
});

describe("search: find-all cap, threads", () => {
  test("maxHits keeps the first hits; total is exact", async () => {
    const data = Buffer.from("ab".repeat(5000));
    const src = native.openFile(write("cap.txt", data));
    try {
      const { hits, result } = await all(src, { pattern: Buffer.from("ba"), maxHits: 10, ...SMALL });
      assert.deepEqual(hits, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
      assert.equal(result.kept, 10);
      assert.equal(result.total, 4999);
      const none = await all(src, { pattern: Buffer.from("ba"), maxHits: 0 });
      assert.deepEqual(none.hits, []);
      assert.equal(none.result.total, 4999);
    } finally {
      src.close();
    }
  });

  test("threads split the range; hits arrive in order, capped, exactly once (sparse 100 MiB)", async () => {
    const size = 100 * 1024 * 1024;
    const file = path.join(tmp.dir, "threads.bin");
    const fd = fs.openSync(file, "w");
    const pattern = Buffer.from("NEEDLE!");
    const at: number[] = [];
    try {
      fs.ftruncateSync(fd, size);
      // Around the slice edges of 2, 3 and 4 threads, and the ends.
      for (const parts of [2, 3, 4]) {
        const step = Math.floor((size - pattern.length + 1) / parts) & ~1;
        for (let k = 1; k < parts; k++) for (const d of [-20, -3, 10]) at.push(step * k + d);
      }
      at.push(0, size - pattern.length);
      for (const a of at) fs.writeSync(fd, pattern, 0, pattern.length, a);
    } finally {
      fs.closeSync(fd);
    }
    const expected = [...new Set(at)].sort((a, b) => a - b);
    const src = native.openFile(file);
    try {
      for (const threads of [1, 2, 3, 4]) {
        const { hits, result } = await all(src, { pattern, threads });
        assert.deepEqual(hits, expected, `threads ${threads}`);
        assert.equal(result.total, expected.length);
        const capped = await all(src, { pattern, threads, maxHits: 5 });
        assert.deepEqual(capped.hits, expected.slice(0, 5));
        assert.equal(capped.result.total, expected.length);
        const lines = await src.countLines({ threads }).promise;
        assert.equal(lines.newlines, 0);
      }
    } finally {
      src.close();
    }
  });
});

describe("search past 4 GiB (6 GiB sparse file)", () => {
  const size = 6 * GiB;
  const pattern = Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0x0a]);
  const at = [2 ** 32 - 3, 2 ** 32 + 12345, 5 * GiB + 1, size - pattern.length];
  let file: string;
  before(() => {
    file = path.join(tmp.dir, "big6.bin");
    const fd = fs.openSync(file, "w");
    try {
      fs.ftruncateSync(fd, size);
      for (const a of at) {
        const block = seededBytes(a % 1000, 4096);
        fs.writeSync(fd, block, 0, block.length, a - 2048);
        fs.writeSync(fd, pattern, 0, pattern.length, a);
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  test("forward, backward and all near the planted blocks (64-bit offsets)", async () => {
    const src = native.openFile(file);
    try {
      const near = { ...SMALL };
      assert.equal(await first(src, { pattern, from: 2 ** 32 - 3 * G, to: 2 ** 32 + 3 * G, ...near }), 2 ** 32 - 3);
      assert.equal(await first(src, { pattern, from: 2 ** 32 - 2, to: 2 ** 32 + 20000, ...near }), 2 ** 32 + 12345);
      assert.equal(await last(src, { pattern, from: 2 ** 32 + 12345, to: 2 ** 32 + 20000, ...near }), 2 ** 32 - 3);
      assert.equal(await last(src, { pattern, from: 5 * GiB + 2, to: 5 * GiB + 4096 }), 5 * GiB + 1);
      assert.equal(await last(src, { pattern }), size - pattern.length);
      const { hits, result } = await all(src, { pattern, from: 2 ** 32 - 4 * G, to: 2 ** 32 + 4 * G, ...near });
      assert.deepEqual(hits, [2 ** 32 - 3, 2 ** 32 + 12345]);
      assert.equal(result.total, 2);
      const end = await all(src, { pattern, from: size - 3 * G });
      assert.deepEqual(end.hits, [size - pattern.length]);
      // Newlines: the pattern ends with 0x0A; the seeded blocks hold some too.
      const from = 2 ** 32 - 4096;
      const to = 2 ** 32 + 16384;
      const bytes = Buffer.alloc(to - from);
      const fd = fs.openSync(file, "r");
      fs.readSync(fd, bytes, 0, bytes.length, from);
      fs.closeSync(fd);
      const expected = bytes.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      assert.equal((await src.countLines({ from, to, ...SMALL }).promise).newlines, expected);
    } finally {
      src.close();
    }
  });
});

describe("jobs: progress, cancel, close, errors", () => {
  let slowFile: string;
  const SLOW_SIZE = 64 * 1024 * 1024;
  const SLOW_DATA = Buffer.alloc(SLOW_SIZE, 0x20);
  before(() => {
    slowFile = path.join(tmp.dir, "slow.bin");
    fs.writeFileSync(slowFile, SLOW_DATA);
  });
  // Tiny chunks and windows make a 64 MiB scan take long enough to act on it mid-way. The bytes
  // are real data (spaces: no newline, no match), not a hole, which scans skip.
  const SLOW = { chunkSize: 64, windowSize: G * 2, threads: 1 };

  test("progress reports bytes scanned; cancel lands quickly and resolves canceled: true", async () => {
    const src = native.openFile(slowFile);
    try {
      const seen: Array<[number, number]> = [];
      let canceledAt = 0;
      const job = src.search({
        pattern: Buffer.from("nothing here"),
        direction: "all",
        ...SLOW,
        onProgress: (scanned, total) => {
          seen.push([scanned, total]);
          if (seen.length === 2) {
            canceledAt = performance.now();
            job.cancel();
          }
        },
      });
      const result = await job.promise;
      const latency = performance.now() - canceledAt;
      assert.equal(result.canceled, true);
      assert.ok(seen.length >= 2, "progress came");
      assert.ok(result.scanned < SLOW_SIZE, "stopped early");
      assert.ok(seen.every(([s, t]) => t === SLOW_SIZE && s <= t), "progress within the range");
      assert.ok(seen[1]![0] >= seen[0]![0], "progress grows");
      // The job stops within one 64-byte chunk; what remains is the event loop's turn.
      assert.ok(latency < 500, `cancel took ${latency.toFixed(1)} ms`);
      assert.equal(native.stats().scanJobs, 0);
    } finally {
      src.close();
    }
  });

  test("cancel before it starts, cancel twice, cancel after it ends: all harmless", async () => {
    const src = native.openFile(slowFile);
    try {
      const job = src.countLines({ ...SLOW });
      job.cancel();
      job.cancel();
      const r = await job.promise;
      assert.equal(r.canceled, true);
      const done = src.search({ pattern: Buffer.from([1]), to: 100 });
      assert.equal((await done.promise).hit, -1);
      done.cancel();
    } finally {
      src.close();
    }
  });

  test("close() during a search cancels it; the source really closes after", async () => {
    const src = native.openFile(slowFile);
    const job = src.search({ pattern: Buffer.from("x"), direction: "backward", ...SLOW });
    await new Promise((r) => setTimeout(r, 20));
    src.close();
    const r = await job.promise;
    assert.equal(r.canceled, true);
    assert.equal(native.stats().sources, 0);
    await rejectsCode(src.search({ pattern: Buffer.from("x") }).promise, "ECLOSED");
    await rejectsCode(src.countLines().promise, "ECLOSED");
  });

  test("bad options reject with EINVAL / ERANGE (never throw)", async () => {
    const file = write("small.bin", Buffer.from("hello\nworld\n"));
    const src = native.openFile(file);
    try {
      const bad: Array<[string, unknown, string]> = [
        ["no options", undefined, "EINVAL"],
        ["empty pattern", { pattern: new Uint8Array(0) }, "EINVAL"],
        ["string pattern", { pattern: "hello" }, "EINVAL"],
        ["all wildcards", { pattern: Buffer.from([1, 2]), mask: Buffer.from([0, 0]) }, "EINVAL"],
        ["mask length", { pattern: Buffer.from([1, 2]), mask: Buffer.from([255]) }, "EINVAL"],
        ["direction", { pattern: Buffer.from("a"), direction: "sideways" }, "EINVAL"],
        ["from", { pattern: Buffer.from("a"), from: -1 }, "EINVAL"],
        ["from > size", { pattern: Buffer.from("a"), from: 13 }, "ERANGE"],
        ["to > size", { pattern: Buffer.from("a"), to: 13 }, "ERANGE"],
        ["maxHits", { pattern: Buffer.from("a"), maxHits: 1.5 }, "EINVAL"],
        ["threads", { pattern: Buffer.from("a"), threads: 1000 }, "EINVAL"],
        ["onHits", { pattern: Buffer.from("a"), onHits: 5 }, "EINVAL"],
        ["ignoreCase", { pattern: Buffer.from("a"), ignoreCase: "yes" }, "EINVAL"],
      ];
      for (const [what, opts, code] of bad) {
        const job = (src.search as (o: unknown) => { promise: Promise<unknown>; cancel(): void })(opts);
        assert.equal(typeof job.cancel, "function", what);
        await rejectsCode(job.promise, code, what);
      }
      await rejectsCode(src.countLines({ unit: 3 as 1 }).promise, "EINVAL", "unit");
      await rejectsCode(src.countLines({ from: 5, to: 4 }).promise, "ERANGE", "from > to");
      await rejectsCode((src.countLines as (o: unknown) => { promise: Promise<unknown> })(7).promise, "EINVAL", "number");
    } finally {
      src.close();
    }
  });

  test(
    "a file truncated during a search rejects with EIO; no crash",
    { skip: isWin ? "Windows refuses to truncate a file that has a mapped view" : false },
    async () => {
      const file = path.join(tmp.dir, "shrinks.bin");
      for (const start of ["search", "countLines"] as const) {
        fs.writeFileSync(file, SLOW_DATA);
        const src = native.openFile(file);
        try {
          let cut = false;
          const onProgress = () => {
            if (!cut) {
              cut = true;
              // Another program would do this; the kernel cannot tell the difference.
              fs.truncateSync(file, 4096);
            }
          };
          const job =
            start === "search"
              ? src.search({ pattern: Buffer.from("zz"), direction: "all", ...SLOW, onProgress })
              : src.countLines({ ...SLOW, onProgress });
          await rejectsCode(job.promise, "EIO", start);
          assert.ok(cut);
        } finally {
          src.close();
        }
      }
      assert.equal(native.stats().views, 0);
      assert.equal(native.stats().scanJobs, 0);
    },
  );
});

describe("countLines vs the reference", () => {
  function refCount(data: Buffer, unit: 1 | 2, bigEndian = false, from = 0, to = data.length): number[] {
    const offsets: number[] = [];
    if (unit === 1) {
      for (let i = from; i < to; i++) if (data[i] === 0x0a) offsets.push(i);
    } else {
      for (let i = from; i + 1 < to; i += 2) {
        const w = bigEndian ? data.readUInt16BE(i) : data.readUInt16LE(i);
        if (w === 0x0a) offsets.push(i);
      }
    }
    return offsets;
  }

  function textOf(seed: number, lines: number, eol: string, trailing: boolean): string {
    const r = seededBytes(seed, lines);
    const out: string[] = [];
    for (let i = 0; i < lines; i++) out.push("x".repeat(r[i]! % 7 === 0 ? 0 : r[i]! % 200) + "€" + i);
    return out.join(eol) + (trailing ? eol : "");
  }

  test("LF, CRLF, empty lines, no trailing newline: counts and K-th samples", async () => {
    for (const [eol, trailing] of [
      ["\n", true],
      ["\n", false],
      ["\r\n", true],
      ["\r\n", false],
      ["\n\n", true],
    ] as const) {
      const data = Buffer.from(textOf(3, 3000, eol, trailing));
      const file = write(`lines-${eol.length}-${trailing}.txt`, data);
      const src = native.openFile(file);
      try {
        const ref = refCount(data, 1);
        for (const tuning of [SMALL, {}, { chunkSize: 64, windowSize: G }]) {
          const r = await src.countLines({ ...tuning }).promise;
          assert.equal(r.newlines, ref.length, `${JSON.stringify(eol)} trailing=${trailing}`);
          assert.equal(r.samples, undefined);
          for (const k of [1, 7, 1000]) {
            const s = await src.countLines({ sampleEvery: k, ...tuning }).promise;
            assert.equal(s.newlines, ref.length);
            assert.deepEqual([...s.samples!], ref.filter((_, i) => (i + 1) % k === 0), `K=${k}`);
          }
        }
        // Ranges, and streamed samples.
        const from = 1001;
        const to = data.length - 999;
        const streamed: number[] = [];
        const r = await src.countLines({ from, to, sampleEvery: 10, onSamples: (o) => streamed.push(...o), ...SMALL }).promise;
        const rr = refCount(data, 1, false, from, to);
        assert.equal(r.newlines, rr.length);
        assert.equal(r.samples, undefined);
        assert.deepEqual(streamed, rr.filter((_, i) => (i + 1) % 10 === 0));
      } finally {
        src.close();
      }
    }
  });

  test("UTF-16LE/BE units: U+000A only at unit positions; U+0A0A, U+0A00 and odd tails", async () => {
    const text = textOf(4, 2000, "\n", false) + "\u0a0a\u0a00\u010a\n";
    for (const bigEndian of [false, true]) {
      let data = Buffer.from(text, "utf16le");
      if (bigEndian) data = data.swap16();
      data = Buffer.concat([data, Buffer.from([0x0a])]); // odd trailing byte: not a unit
      const src = native.openFile(write(`u16lines-${bigEndian}.txt`, data));
      try {
        const ref = refCount(data, 2, bigEndian);
        const r = await src.countLines({ unit: 2, bigEndian, ...SMALL }).promise;
        assert.equal(r.newlines, ref.length, `bigEndian=${bigEndian}`);
        assert.equal(r.newlines, text.split("\n").length - 1);
        const s = await src.countLines({ unit: 2, bigEndian, sampleEvery: 100, chunkSize: 64 }).promise;
        assert.deepEqual([...s.samples!], ref.filter((_, i) => (i + 1) % 100 === 0));
        // An odd `from` shifts the unit grid: then the reference is taken on that grid.
        const odd = await src.countLines({ unit: 2, bigEndian, from: 1 }).promise;
        assert.equal(odd.newlines, refCount(data, 2, bigEndian, 1).length);
      } finally {
        src.close();
      }
    }
  });

  test("random bytes of every value, all offsets and lengths near block edges", async () => {
    const data = seededBytes(8, 3 * G + 333);
    for (let i = 0; i < data.length; i += 97) data[i] = 0x0a;
    const src = native.openFile(write("rand-lines.bin", data));
    try {
      for (const [from, to] of [
        [0, data.length],
        [1, data.length - 1],
        [63, 64 * 7 + 1],
        [G - 1, G + 1],
        [5, 5],
      ] as const) {
        const r = await src.countLines({ from, to, ...SMALL }).promise;
        assert.equal(r.newlines, refCount(data, 1, false, from, to).length, `[${from}, ${to})`);
      }
    } finally {
      src.close();
    }
  });
});

// Sparse files: scans skip holes (SEEK_DATA/SEEK_HOLE on POSIX) but must give exactly what reading
// every zero would. The reference models the file as its data blocks over zeros: a start whose
// bytes touch no block sees only zeros, so it matches iff the pattern matches zeros; the starts
// near blocks are checked on bytes read back from the file. On win32 the backend asks
// FSCTL_QUERY_ALLOCATED_RANGES, which Wine refuses, so under Wine holes are scanned (a GiB of
// zeros takes about a second) and the same cases run on a 160 MiB layout with fewer tunings
// (64-bit offsets are covered above; win32_backend_test.exe checks the reading of the answer).
describe("sparse files: holes skipped, results exact", () => {
  const KiB = 1024;
  const MiB = 1024 * KiB;
  // [4 GiB, 5 GiB, 6 GiB] on POSIX; [64 MiB, 100 MiB, 160 MiB] on win32.
  const [far1, far2, far3] = isWin ? [64 * MiB, 100 * MiB, 160 * MiB] : [2 ** 32, 5 * GiB, 6 * GiB];
  const size = far3 + 3 * 4096;
  const searchTunings: Array<{ windowSize?: number; chunkSize?: number; threads?: number }> = isWin ? [{}, { threads: 4 }] : [{}, SMALL, { threads: 4 }, { threads: 1, chunkSize: 100 }];
  const lineTunings = isWin ? [{}, { threads: 1 }] : [{}, SMALL, { threads: 4 }, { threads: 1 }];
  type Block = { at: number; bytes: Buffer };
  const A = Buffer.from([0xab, 0xcd, 0x00, 0x00]); // (b) its tail zeros run into the hole after a block
  const B = Buffer.from([0x00, 0x00, 0x00, 0xef, 0x01]); // (c) its head zeros come from the hole before a block
  const C = Buffer.from("MiXeD-CaSe"); // (a) inside data; planted in mixed case for ignoreCase
  const blocks: Block[] = [];
  let file: string;

  function block(at: number, len: number, seed: number): Block {
    const bytes = seededBytes(seed, len);
    for (let i = 0; i < len; i++) if (bytes[i] === 0x00 || bytes[i] === 0x0a) bytes[i] = 0x11; // no stray zeros or newlines
    for (let i = 100; i < len; i += 997) bytes[i] = 0x0a; // newlines, some per block
    bytes.set(A.subarray(0, 2), len - 2); // A straddles data -> hole
    bytes.set(B.subarray(3), 0); // B straddles hole -> data
    bytes.set(Buffer.from("mixed-case"), 1000); // C in data, lower case
    bytes.set(Buffer.from("MIXED-CASE"), len - 3000);
    bytes.set(C, len >> 1);
    return { at, bytes };
  }

  before(() => {
    file = path.join(tmp.dir, "sparse6.bin");
    // Blocks at 4 KiB-aligned offsets with 4 KiB-multiple lengths, so their edges are hole edges
    // on every file system; a small hole (8 KiB < the skip threshold) and a 128 KiB one between
    // neighbours; past 4 GiB; the last block ends 12 KiB before the end (the file ends in a hole).
    const spots: Array<[number, number]> = [
      [4096, 64 * KiB],
      [4096 + 64 * KiB + 8 * KiB, 32 * KiB],
      [4096 + 104 * KiB + 128 * KiB, 16 * KiB],
      [far1 - 16 * KiB, 32 * KiB],
      [far2 + 40960, 64 * KiB],
      [far3 - 64 * KiB, 64 * KiB],
    ];
    spots.forEach(([at, len], i) => blocks.push(block(at, len, 100 + i)));
    const fd = fs.openSync(file, "w");
    try {
      fs.ftruncateSync(fd, size);
      for (const b of blocks) fs.writeSync(fd, b.bytes, 0, b.bytes.length, b.at);
    } finally {
      fs.closeSync(fd);
    }
  });

  /** Sorted, merged start intervals [lo, hi) whose bytes touch a block, within [from, lastStart). */
  function nearStarts(m: number, from = 0, to = size): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const b of blocks) {
      const lo = Math.max(from, b.at - m + 1);
      const hi = Math.min(to - m + 1, b.at + b.bytes.length);
      if (hi <= lo) continue;
      const prev = out[out.length - 1];
      if (prev && lo <= prev[1]) prev[1] = Math.max(prev[1], hi);
      else out.push([lo, hi]);
    }
    return out;
  }

  /** Hits near data (read back from the file), in order. */
  function nearHits(pattern: Buffer, opts: { mask?: Buffer; ignoreCase?: boolean; from?: number; to?: number } = {}): number[] {
    const m = pattern.length;
    const hits: number[] = [];
    for (const [lo, hi] of nearStarts(m, opts.from, opts.to)) {
      const bytes = fsRead(file, lo, hi - lo + m - 1);
      hits.push(...reference(bytes, pattern, opts.mask, opts.ignoreCase).map((h) => h + lo));
    }
    return hits;
  }

  test("the reference model agrees with the bytes on disk", () => {
    for (const b of blocks) {
      assertSameBytes(fsRead(file, b.at, b.bytes.length), b.bytes, `block at ${b.at}`);
      assertSameBytes(fsRead(file, b.at - 4096, 4096), Buffer.alloc(4096), `zeros before ${b.at}`);
    }
  });

  test("patterns that cannot match zeros: in data, data->hole, hole->data, caseless; all/forward/backward", async () => {
    const src = native.openFile(file);
    try {
      const cases: Array<[string, Buffer, { mask?: Buffer; ignoreCase?: boolean }]> = [
        ["A (tail zeros)", A, {}],
        ["B (head zeros)", B, {}],
        ["C caseless", C, { ignoreCase: true }],
        ["C exact", C, {}],
        ["B with wildcards", B, { mask: Buffer.from([0xff, 0x00, 0xff, 0xff, 0x0f]) }],
        ["absent", Buffer.from("not in this file"), {}],
      ];
      for (const [what, pattern, opts] of cases) {
        const expected = nearHits(pattern, opts);
        if (what !== "absent") assert.ok(expected.length >= blocks.length, `${what}: planted`);
        for (const tuning of searchTunings) {
          const { hits, result } = await all(src, { pattern, ...opts, ...tuning });
          assert.deepEqual(hits, expected, `${what} all ${JSON.stringify(tuning)}`);
          assert.equal(result.total, expected.length);
          assert.equal(result.scanned, size - pattern.length + 1, `${what}: progress reaches the total`);
          const capped = await all(src, { pattern, ...opts, ...tuning, maxHits: 3 });
          assert.deepEqual(capped.hits, expected.slice(0, 3));
          assert.equal(capped.result.total, expected.length);
        }
        // Forward and backward from every hit, next to it, and from inside the holes.
        const froms = new Set<number>([0, size, far1, far1 - 5 * MiB, size - 1]);
        for (const h of expected) for (const d of [-1, 0, 1]) if (h + d >= 0 && h + d <= size) froms.add(h + d);
        for (const b of blocks) for (const d of [-5, 0, 4096]) froms.add(b.at + b.bytes.length + d);
        for (const from of froms) {
          const f = expected.find((h) => h >= from) ?? -1;
          const l = [...expected].reverse().find((h) => h < from) ?? -1;
          const r1 = await src.search({ pattern, ...opts, from, direction: "forward" }).promise;
          assert.equal(r1.hit, f, `${what} forward from ${from}`);
          const r2 = await src.search({ pattern, ...opts, from, direction: "backward" }).promise;
          assert.equal(r2.hit, l, `${what} backward from ${from}`);
        }
        if (expected.length === 0) {
          const r = await src.search({ pattern, ...opts, direction: "backward" }).promise;
          assert.equal(r.scanned, size - pattern.length + 1, "backward progress reaches the total");
        }
        // A range that ends inside a straddling match must not report it.
        const b0 = blocks[0]!;
        const endRange = { from: b0.at - 10, to: b0.at + b0.bytes.length + 1 };
        const inRange = nearHits(pattern, { ...opts, ...endRange });
        assert.deepEqual((await all(src, { pattern, ...opts, ...endRange })).hits, inRange, `${what} in a range`);
      }
    } finally {
      src.close();
    }
  });

  test("a pattern that matches zeros scans the holes: find-all capped, exact total", async () => {
    const src = native.openFile(file);
    // Two zero-matching patterns over the first 300 MiB (the blocks near the start lie there),
    // and one across the block at 4 GiB.
    const to = isWin ? 50 * MiB : 300 * MiB;
    const cases: Array<[Buffer, Buffer | undefined, { from?: number; to: number }]> = [
      [Buffer.from([0x00, 0x00]), undefined, { to }],
      [Buffer.from([0x00, 0x99, 0x00]), Buffer.from([0xff, 0x00, 0xff]), { to }],
      [Buffer.from([0x00, 0x00, 0x00, 0x00]), undefined, { from: far1 - 20 * KiB, to: far1 + 1024 * KiB }],
    ];
    try {
      for (const [pattern, mask, range] of cases) {
        const m = pattern.length;
        const from = range.from ?? 0;
        const near = nearStarts(m, from, range.to);
        const nearCount = near.reduce((n, [lo, hi]) => n + hi - lo, 0);
        const nh = nearHits(pattern, { mask, ...range });
        const total = range.to - m + 1 - from - nearCount + nh.length;
        // The first hits in order: every start away from data, and the near-data hits.
        const firstHits: number[] = [];
        let p = from;
        let i = 0;
        while (firstHits.length < 5000 && p < range.to - m + 1) {
          const iv = near[i];
          if (iv && p >= iv[0]) {
            firstHits.push(...nh.filter((h) => h >= iv[0] && h < iv[1]));
            p = iv[1];
            i++;
          } else {
            firstHits.push(p++);
          }
        }
        const { hits, result } = await all(src, { pattern, mask, ...range, maxHits: 5000 });
        assert.equal(result.total, total, `total for ${pattern.toString("hex")}`);
        assert.deepEqual(hits, firstHits.slice(0, 5000));
        // Backward from the end of the range: its last start lies in a hole, so it is the hit.
        assert.ok(!near.some(([lo, hi]) => range.to - m >= lo && range.to - m < hi));
        const back = await src.search({ pattern, mask, to: range.to, direction: "backward" }).promise;
        assert.equal(back.hit, range.to - m);
        // Forward from just before a block: the first start is in the hole before it.
        const b = blocks[1]!;
        assert.equal((await src.search({ pattern, mask, from: b.at - 100, direction: "forward" }).promise).hit, b.at - 100);
      }
    } finally {
      src.close();
    }
  });

  test("newline counts and K-th samples: holes hold none", async () => {
    const src = native.openFile(file);
    try {
      const ref: number[] = [];
      for (const b of blocks) for (let i = 0; i < b.bytes.length; i++) if (b.bytes[i] === 0x0a) ref.push(b.at + i);
      for (const tuning of lineTunings) {
        const r = await src.countLines({ ...tuning }).promise;
        assert.equal(r.newlines, ref.length, JSON.stringify(tuning));
        for (const k of [1, 7, 1000]) {
          const s = await src.countLines({ sampleEvery: k, ...tuning }).promise;
          assert.equal(s.newlines, ref.length);
          assert.deepEqual([...s.samples!], ref.filter((_, i) => (i + 1) % k === 0), `K=${k}`);
        }
      }
      // Ranges that start and end inside holes and inside blocks.
      const b3 = blocks[3]!;
      for (const [from, to] of [
        [1, size],
        [b3.at + 5, size - 1],
        [4096 + 777, b3.at + 999],
      ] as const) {
        const rr = ref.filter((o) => o >= from && o < to);
        const r = await src.countLines({ from, to, sampleEvery: 3 }).promise;
        assert.equal(r.newlines, rr.length, `[${from}, ${to})`);
        assert.deepEqual([...r.samples!], rr.filter((_, i) => (i + 1) % 3 === 0));
      }
      // UTF-16: units at from, from+2, ... (odd and even from): 0A 00 units appear only where a
      // block's 0x0A is followed by 0x00, i.e. never inside these blocks; plant none, expect 0,
      // and count units of an odd-based range over a block that ends in 0x0A next to the hole.
      for (const [from, bigEndian] of [
        [0, false],
        [1, false],
        [1, true],
      ] as const) {
        const expected: number[] = [];
        for (const b of blocks) {
          const bytes = fsRead(file, b.at - 2, b.bytes.length + 4);
          for (let p = b.at - 2; p + 1 < b.at + b.bytes.length + 2; p++) {
            if ((p - from) % 2 !== 0) continue;
            const w = bigEndian ? bytes.readUInt16BE(p - b.at + 2) : bytes.readUInt16LE(p - b.at + 2);
            if (w === 0x0a) expected.push(p);
          }
        }
        const r = await src.countLines({ from, unit: 2, bigEndian, sampleEvery: 1 }).promise;
        assert.equal(r.newlines, expected.length, `utf-16 from ${from} be=${bigEndian}`);
        assert.deepEqual([...r.samples!], expected);
      }
    } finally {
      src.close();
    }
  });

  test("sanity figure: an absent pattern across a 64 GiB sparse file", { skip: isWin ? "win32 reports holes as data: reading 64 GiB of zeros under Wine takes minutes" : false }, async (t) => {
    const big = path.join(tmp.dir, "sparse64.bin");
    const fd = fs.openSync(big, "w");
    const tail = Buffer.from("the end\n");
    try {
      fs.ftruncateSync(fd, 64 * GiB);
      fs.writeSync(fd, Buffer.from("start\n"), 0, 6, 0);
      fs.writeSync(fd, tail, 0, tail.length, 64 * GiB - tail.length);
    } finally {
      fs.closeSync(fd);
    }
    const src = native.openFile(big);
    try {
      const t0 = performance.now();
      const r = await src.search({ pattern: Buffer.from("no such needle"), direction: "forward" }).promise;
      const forwardMs = performance.now() - t0;
      assert.equal(r.hit, -1);
      assert.equal(r.scanned, 64 * GiB - 14 + 1);
      const t1 = performance.now();
      const a = await all(src, { pattern: Buffer.from("the end") });
      const allMs = performance.now() - t1;
      assert.deepEqual(a.hits, [64 * GiB - tail.length]);
      const t2 = performance.now();
      const lines = await src.countLines({ sampleEvery: 1 }).promise;
      const linesMs = performance.now() - t2;
      assert.equal(lines.newlines, 2);
      assert.deepEqual([...lines.samples!], [5, 64 * GiB - 1]);
      t.diagnostic(`64 GiB sparse: absent pattern forward ${forwardMs.toFixed(1)} ms, find-all ${allMs.toFixed(1)} ms, sampled newline count ${linesMs.toFixed(1)} ms`);
    } finally {
      src.close();
      fs.rmSync(big, { force: true });
    }
  });
});
