// startSearch / countNewlines over documents, paths and native sources, against a plain JS
// reference: text in every encoding, caseless, wildcards, streaming, cancel, errors.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { loadNative } from "../../native/index";
import { Document } from "../../app/engine/document";
import { HexmapError } from "../../app/engine/errors";
import { parseHexPattern, textPattern, type SearchPattern } from "../../app/engine/pattern";
import { countNewlines, startSearch } from "../../app/engine/search";
import { Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";

after(() => cleanupFixtures());

function reference(data: Buffer, p: SearchPattern): number[] {
  const hits: number[] = [];
  for (let s = 0; s + p.bytes.length <= data.length; s++) {
    let ok = true;
    for (let i = 0; i < p.bytes.length && ok; i++) ok = (data[s + i]! & (p.mask ? p.mask[i]! : 0xff)) === p.bytes[i];
    if (ok) hits.push(s);
  }
  return hits;
}

/** A text with "needle" spelled in mixed case at random places, plus look-alikes. */
function haystack(seed: number, words: number): string {
  const rng = new Rng(seed);
  const vocab = ["alpha", "Needle", "NEEDLE", "needle", "neeDle", "needl", "nÉedle", "ŃEEDLE", "haystack", "\n", "€uro", "ÿ"];
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(vocab));
  return out.join(" ");
}

const ENCODINGS = [
  ["utf8", (s: string) => Buffer.from(s, "utf8")],
  ["utf16le", (s: string) => Buffer.from(s, "utf16le")],
  ["utf16be", (s: string) => Buffer.from(s, "utf16le").swap16()],
] as const;

describe("startSearch vs the reference", () => {
  test("text in utf8/utf16le/utf16be, exact and ignoring case; forward, backward, all", async () => {
    const text = haystack(1, 20000);
    for (const [encoding, encode] of ENCODINGS) {
      const data = encode(text);
      const file = makeFile(data, `hay-${encoding}.txt`);
      const doc = Document.openFile(file);
      try {
        for (const ignoreCase of [false, true]) {
          const pattern = textPattern("needle", encoding, ignoreCase);
          const expected = reference(data, pattern);
          assert.ok(expected.length > 100, "enough matches");
          const streamed: number[] = [];
          const r = await startSearch(
            doc,
            { pattern: { kind: "text", text: "needle", encoding, ignoreCase }, direction: "all", maxHits: 50, chunkSize: 4096, windowSize: 2 * loadNative().granularity },
            { onHits: (h) => streamed.push(...h) },
          );
          assert.equal(r.total, expected.length, `${encoding} ignoreCase=${ignoreCase}: total`);
          assert.deepEqual(r.hits, expected.slice(0, 50));
          assert.deepEqual(streamed, expected.slice(0, 50));
          assert.equal(r.canceled, false);
          // Forward and backward from a few places.
          for (const from of [0, expected[3]!, expected[3]! + 1, data.length - 1]) {
            const f = await startSearch(doc, { pattern, from, direction: "forward" });
            assert.deepEqual(f.hits, expected.filter((h) => h >= from).slice(0, 1), `forward from ${from}`);
            const b = await startSearch(doc, { pattern, from, direction: "backward" });
            assert.deepEqual(b.hits, expected.filter((h) => h < from).slice(-1), `backward from ${from}`);
            assert.equal(b.total, b.hits.length);
          }
        }
        // "ŃEEDLE" is not "needle" in any case fold, in any encoding.
        const nacute = await startSearch(doc, { pattern: textPattern("ŃEEDLE", encoding, false), direction: "all", maxHits: 0 });
        assert.equal(nacute.total, reference(data, textPattern("ŃEEDLE", encoding, false)).length);
      } finally {
        doc.close();
      }
    }
  });

  test("hex with wildcards through a path and a native source", async () => {
    const rng = new Rng(7);
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = rng.below(4) === 0 ? 0xde : rng.below(256);
    const file = makeFile(data, "wild.bin");
    const pattern = parseHexPattern("DE ?? ?E");
    const expected = reference(data, pattern);
    const byPath = await startSearch({ path: file }, { pattern, direction: "all", maxHits: 1e9 });
    assert.deepEqual(byPath.hits, expected);
    const src = loadNative().openFile(file);
    try {
      const bySource = await startSearch(src, { pattern: { kind: "hex", hex: "de???e" }, direction: "all", maxHits: 10 });
      assert.deepEqual(bySource.hits, expected.slice(0, 10));
      assert.equal(bySource.total, expected.length);
      assert.equal(src.closed, false, "a source given by the caller stays open");
    } finally {
      src.close();
    }
  });

  test("an abort signal cancels: resolves canceled, quickly; an aborted signal does not start", async () => {
    const dir = makeTempDir();
    const file = path.join(dir, "zeros.bin");
    fs.writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 0x20)); // data: scans skip holes
    const ac = new AbortController();
    let progress = 0;
    let abortedAt = 0;
    const r = await startSearch(
      { path: file },
      { pattern: { kind: "text", text: "absent" }, direction: "all", chunkSize: 64, threads: 1 },
      {
        signal: ac.signal,
        onProgress: () => {
          if (++progress === 1) {
            abortedAt = performance.now();
            ac.abort();
          }
        },
      },
    );
    assert.equal(r.canceled, true);
    assert.ok(r.scanned < 64 * 1024 * 1024);
    assert.ok(performance.now() - abortedAt < 500, "cancel is quick");
    const pre = await startSearch({ path: file }, { pattern: { kind: "text", text: "x" } }, { signal: AbortSignal.abort() });
    assert.deepEqual(pre, { hits: [], total: 0, canceled: true, scanned: 0, pattern: pre.pattern });
    const lines = await countNewlines({ path: file }, { chunkSize: 64, threads: 1 }, { signal: AbortSignal.timeout(5) });
    assert.equal(lines.canceled, true);
  });

  test("errors are HexmapErrors with stable codes", async () => {
    const file = makeFile("hello\n", "small.txt");
    const code = async (p: Promise<unknown>, c: string) =>
      assert.rejects(p, (e: unknown) => e instanceof HexmapError && e.code === c && e.message.length > 10);
    await code(startSearch({ path: file }, { pattern: { kind: "hex", hex: "ABC" } }), "EINVAL");
    await code(startSearch({ path: file }, { pattern: { kind: "text", text: "" } }), "EINVAL");
    await code(startSearch({ path: file }, { pattern: { kind: "text", text: "h" }, direction: "up" as never }), "EINVAL");
    await code(startSearch({ path: file }, { pattern: { kind: "text", text: "h" }, from: -1 }), "EINVAL");
    await code(startSearch({ path: file }, { pattern: { kind: "text", text: "h" }, from: 7 }), "ERANGE");
    await code(startSearch({ path: path.join(path.dirname(file), "missing") }, { pattern: { kind: "text", text: "h" } }), "ENOENT");
    const doc = Document.openFile(file);
    doc.close();
    await code(startSearch(doc, { pattern: { kind: "text", text: "h" } }), "EBADDOC");
    await code(countNewlines({ path: file }, { encoding: "utf32" as never }), "EINVAL");
  });

  test("a handler that throws cancels the job and rejects with its error", async () => {
    const file = makeFile(Buffer.from("ab".repeat(50000)), "throws.txt");
    const boom = new Error("handler failed");
    let calls = 0;
    await assert.rejects(
      startSearch({ path: file }, { pattern: { kind: "text", text: "ab" }, direction: "all", maxHits: 1e9 }, {
        onHits: () => {
          calls++;
          throw boom;
        },
      }),
      (e: unknown) => e === boom,
    );
    assert.equal(calls, 1);
  });

  test(
    "a file truncated during the search rejects with EIO",
    { skip: process.platform === "win32" ? "Windows refuses to truncate a mapped file" : false },
    async () => {
      const dir = makeTempDir();
      const file = path.join(dir, "shrinks.bin");
      fs.writeFileSync(file, Buffer.alloc(64 * 1024 * 1024, 0x20)); // data: scans skip holes
      let cut = false;
      await assert.rejects(
        startSearch(
          { path: file },
          { pattern: { kind: "text", text: "absent" }, direction: "all", chunkSize: 64, threads: 1 },
          {
            onProgress: () => {
              if (!cut) fs.truncateSync(file, 4096);
              cut = true;
            },
          },
        ),
        (e: unknown) => e instanceof HexmapError && e.code === "EIO",
      );
    },
  );
});

describe("countNewlines", () => {
  test("bytes and UTF-16 vs the reference, with samples", async () => {
    const text = haystack(3, 30000) + "\r\nlast line without newline";
    for (const [encoding, encode] of ENCODINGS) {
      const data = encode(text);
      const file = makeFile(data, `lines-${encoding}.txt`);
      const unit = encoding === "utf8" ? 1 : 2;
      const ref: number[] = [];
      for (let i = 0; i + unit <= data.length; i += unit) {
        const nl = unit === 1 ? data[i] === 10 : encoding === "utf16le" ? data.readUInt16LE(i) === 10 : data.readUInt16BE(i) === 10;
        if (nl) ref.push(i);
      }
      assert.equal(ref.length, text.split("\n").length - 1);
      const r = await countNewlines({ path: file }, { encoding: encoding === "utf8" ? "bytes" : encoding, sampleEvery: 64 });
      assert.equal(r.newlines, ref.length, encoding);
      assert.deepEqual([...r.samples!], ref.filter((_, i) => (i + 1) % 64 === 0));
    }
  });
});
