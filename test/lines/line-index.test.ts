// LineIndex: counts equal wc -l on generated files (edge cases, CRLF, UTF-16 with BOM, a ~100 MB
// file crossing samples and native windows), random lookups equal a JS reference, build while
// looking up, cancel + resume, extend over a grown tail, reset, text/binary detection.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import { LineIndex, countDocumentNewlines, detectBom, sniffText, type IndexProgress } from "../../app/engine/line-index";
import { Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { Reference, makeText, onPath, utf16, wcLines, writeBigText } from "./helpers";

after(() => cleanupFixtures());
const noWc = onPath("wc") ? false : "wc is not available";

async function indexOf(file: string, options: ConstructorParameters<typeof LineIndex>[1] = {}): Promise<{ doc: Document; index: LineIndex }> {
  const doc = Document.openFile(file);
  const index = new LineIndex(doc, options);
  await index.build();
  return { doc, index };
}

async function checkAgainstReference(index: LineIndex, ref: Reference, rng: Rng, lookups: number): Promise<void> {
  assert.equal(index.newlineCount, ref.newlines);
  assert.equal(index.lineCount, ref.lineCount);
  const n = ref.lineCount;
  const picks = new Set<number>([1, 2, n, n - 1, n + 1, n + 2]);
  for (let i = 0; i < lookups; i++) picks.add(rng.between(1, Math.max(1, n)));
  for (const line of picks) {
    if (line < 1) continue;
    const got = await index.lineStart(line);
    assert.equal(got, line <= n ? ref.starts[line - 1]! : null, `lineStart(${line})`);
  }
  for (let i = 0; i < lookups; i++) {
    const off = rng.below(ref.size + 1);
    const want = off === ref.size ? Math.max(1, n) : ref.lineAt(off);
    assert.equal(await index.lineAtOffset(off), want, `lineAtOffset(${off})`);
  }
}

describe("line counts equal wc -l", { skip: noWc }, () => {
  const cases: Array<[string, Buffer]> = [
    ["empty file", Buffer.alloc(0)],
    ["one line with newline", Buffer.from("hello\n")],
    ["one line without newline", Buffer.from("hello")],
    ["no trailing newline", Buffer.from("a\nb\nc")],
    ["only newlines", Buffer.from("\n".repeat(5000))],
    ["empty lines", Buffer.from("\n\na\n\n\nb\n\n")],
    ["CRLF", Buffer.from("one\r\ntwo\r\n\r\nthree\r\n")],
    ["CRLF without final newline", Buffer.from("one\r\ntwo\r\nthree")],
    ["lone CR is not a newline", Buffer.from("a\rb\rc\n")],
    ["UTF-8 BOM", Buffer.from("\ufeffa\nb\n", "utf8")],
    ["invalid UTF-8", Buffer.from([0x41, 0xff, 0xfe, 0x0a, 0xc3, 0x0a, 0x80, 0x80, 0x0a])],
    ["generated, K-crossing", makeText(1, 300_000)],
    ["generated CRLF, no final newline", makeText(2, 200_000, { crlf: true, finalNewline: false })],
  ];
  for (const [name, bytes] of cases) {
    test(name, async () => {
      const file = makeFile(bytes, "t.txt");
      const wc = wcLines(file);
      for (const k of [1, 3, 1024]) {
        const { doc, index } = await indexOf(file, { sampleEvery: k });
        try {
          assert.equal(index.newlineCount, wc, `K=${k}`);
          assert.ok(index.complete);
          await checkAgainstReference(index, new Reference(bytes), new Rng(k), 50);
        } finally {
          index.close();
          doc.close();
        }
      }
      const doc = Document.openFile(file);
      try {
        assert.equal((await countDocumentNewlines(doc)).newlines, wc);
      } finally {
        doc.close();
      }
    });
  }

  for (const bigEndian of [false, true]) {
    test(`UTF-16${bigEndian ? "BE" : "LE"} with BOM: 2-byte newline units`, async () => {
      // Characters whose UTF-16 holds a 0x0A byte (U+0A0A, U+010A) must not count; wc -l counts
      // them, so the wc comparison uses text without them.
      const plain = utf16("alpha\nbeta\r\n\ngamma δ 日本\n" + "x\n".repeat(3000) + "last", bigEndian);
      const file = makeFile(plain, "u16.txt");
      const { doc, index } = await indexOf(file, { sampleEvery: 7 });
      try {
        assert.equal(index.encoding, bigEndian ? "utf-16be" : "utf-16le");
        assert.equal(index.newlineCount, wcLines(file));
        await checkAgainstReference(index, new Reference(plain, bigEndian ? "utf-16be" : "utf-16le"), new Rng(3), 50);
      } finally {
        index.close();
        doc.close();
      }
      const tricky = utf16("a\u0a0ab\u010a\nc\n\u0a0a", bigEndian);
      const file2 = makeFile(tricky, "u16b.txt");
      const r = await indexOf(file2);
      try {
        assert.equal(r.index.newlineCount, 2);
        assert.equal(r.index.lineCount, 3);
        const ref = new Reference(tricky, bigEndian ? "utf-16be" : "utf-16le");
        assert.equal(ref.newlines, 2);
        await checkAgainstReference(r.index, ref, new Rng(4), 20);
      } finally {
        r.index.close();
        r.doc.close();
      }
    });
  }

  test("a ~100 MB log: count, random lookups across samples and native windows", async () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "big.log");
    writeBigText(file, 7, 100 * 1024 * 1024);
    const bytes = fs.readFileSync(file);
    const ref = new Reference(bytes);
    const wc = wcLines(file);
    assert.equal(ref.newlines, wc);
    // Small windows and chunks: many window and chunk boundaries inside the file.
    for (const options of [{}, { sampleEvery: 100, windowSize: 1 << 20, chunkSize: 64 << 10, jsScanLimit: 256 << 10 }]) {
      const { doc, index } = await indexOf(file, options);
      try {
        assert.equal(index.newlineCount, wc);
        assert.ok(index.memoryBytes < (wc / index.sampleEvery) * 8 * 2 + 1024, `memory ${index.memoryBytes} for ${wc} lines`);
        await checkAgainstReference(index, ref, new Rng(11), 300);
      } finally {
        index.close();
        doc.close();
      }
    }
  });
});

describe("lookups", () => {
  test("work before and while the index builds, and match after", async () => {
    const bytes = makeText(21, 3_000_000);
    const ref = new Reference(bytes);
    const file = makeFile(bytes, "lk.txt");
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 64, windowSize: 1 << 20, chunkSize: 64 << 10 });
    try {
      // Nothing indexed yet: lookups scan from the start.
      assert.equal(await index.lineStart(1), 0);
      assert.equal(await index.lineStart(500), ref.starts[499]);
      const events: IndexProgress[] = [];
      const off = index.onProgress((p) => events.push(p));
      const building = index.build();
      assert.ok(index.building);
      const mid = await index.lineStart(40);
      assert.equal(mid, ref.starts[39]);
      const done = await building;
      off();
      assert.equal(done.complete, true);
      assert.equal(done.newlines, ref.newlines);
      assert.ok(events.length >= 1 && events[events.length - 1]!.complete);
      await checkAgainstReference(index, ref, new Rng(5), 200);
      assert.equal(await index.advance(0, 3), ref.starts[3]);
      assert.equal(await index.advance(ref.starts[ref.lineCount - 1]!, 10), ref.size);
      assert.equal(await index.findNewline(0), bytes.indexOf(10));
    } finally {
      index.close();
      doc.close();
    }
  });

  test("bad arguments are EINVAL / ERANGE", async () => {
    const file = makeFile("a\nb\n", "bad.txt");
    const doc = Document.openFile(file);
    const index = new LineIndex(doc);
    try {
      await assert.rejects(index.lineStart(0), { code: "EINVAL" });
      await assert.rejects(index.lineStart(1.5), { code: "EINVAL" });
      await assert.rejects(index.lineAtOffset(5), { code: "ERANGE" });
      assert.throws(() => new LineIndex(doc, { sampleEvery: 0 }), { code: "EINVAL" });
      assert.throws(() => new LineIndex(doc, { encoding: "ebcdic" as never }), { code: "EINVAL" });
    } finally {
      index.close();
      doc.close();
    }
    await assert.rejects(index.lineStart(1), { code: "EBADDOC" });
  });
});

describe("cancel, extend, reset", () => {
  test("cancel stops a build; build() resumes from the prefix; counts stay exact", async () => {
    // A 1 GiB file of spaces with text at a few places: long enough a scan for a cancel to land in
    // the middle.
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "cancel.log");
    const texts = [0, 300 << 20, 700 << 20, (1 << 30) - 200_000].map((at, i) => ({ at, bytes: makeText(40 + i, 150_000) }));
    const fd = fs.openSync(file, "w");
    // Real data, not a hole: scans skip holes, and this test needs a scan long enough to cancel.
    const spaces = Buffer.alloc(16 << 20, 0x20);
    for (let at = 0; at < 1 << 30; at += spaces.length) fs.writeSync(fd, spaces, 0, spaces.length, at);
    for (const t of texts) fs.writeSync(fd, t.bytes, 0, t.bytes.length, t.at);
    fs.closeSync(fd);
    const expected = texts.reduce((n, t) => n + new Reference(t.bytes).newlines, 0);
    if (onPath("wc")) assert.equal(wcLines(file), expected);
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 1000 });
    try {
      let cancels = 0;
      const off = index.onProgress((p) => {
        if (p.building && cancels === 0) {
          cancels++;
          index.cancel();
        }
      });
      const t0 = Date.now();
      const first = await index.build();
      off();
      assert.ok(Date.now() - t0 < 20_000);
      assert.equal(first.canceled, true, "the first progress report canceled the build");
      assert.equal(first.complete, false);
      assert.ok(index.indexedBytes > 0 && index.indexedBytes < doc.size, `indexed ${index.indexedBytes} of ${doc.size}`);
      assert.ok(index.newlineCount <= expected);
      // Lookups still work, inside and beyond the indexed prefix.
      const firstText = new Reference(texts[0]!.bytes);
      assert.equal(await index.lineStart(3), firstText.starts[2]);
      const second = await index.build();
      assert.equal(second.canceled, false);
      assert.equal(second.complete, true);
      assert.equal(index.newlineCount, expected);
      // Every line start found follows a newline and maps back to its number.
      const rng = new Rng(8);
      for (let i = 0; i < 60; i++) {
        const n = rng.between(2, index.lineCount);
        const start = await index.lineStart(n);
        assert.ok(start !== null && start > 0);
        assert.equal(doc.readSync(start - 1, 1)[0], 10);
        assert.equal(await index.lineAtOffset(start), n);
      }
      // The last line is the run of zeros after the last text (which ends with a newline).
      assert.equal(await index.lineStart(index.lineCount), texts[3]!.at + texts[3]!.bytes.length);
      assert.equal(await index.lineStart(index.lineCount + 1), null);
      // Cancel before any work: resolves canceled, and a rebuild gives the same count.
      index.reset();
      const p = index.build();
      index.cancel();
      assert.equal((await p).canceled, true);
      assert.equal((await index.build()).newlines, expected);
    } finally {
      index.close();
      doc.close();
    }
  });

  test("extend() indexes only the grown tail, including a tail that did not end in a newline", async () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "grow.log");
    const rng = new Rng(31);
    let all = Buffer.from("first line without newline yet");
    fs.writeFileSync(file, all);
    const doc = Document.openFile(file);
    const index = new LineIndex(doc, { sampleEvery: 5 });
    try {
      await index.build();
      assert.equal(index.newlineCount, 0);
      assert.equal(index.lineCount, 1);
      for (let round = 0; round < 40; round++) {
        const piece = Buffer.from(
          Array.from({ length: rng.between(0, 30) }, (_, i) => "x".repeat(rng.below(50)) + (i % 7 === 0 ? "" : "\n")).join("") + (rng.below(2) ? "\n" : "partial"),
        );
        fs.appendFileSync(file, piece);
        all = Buffer.concat([all, piece]);
        const before = index.indexedBytes;
        await index.extend();
        assert.ok(index.indexedBytes >= before);
        const ref = new Reference(all);
        assert.equal(index.newlineCount, ref.newlines, `round ${round}`);
        assert.equal(index.lineCount, ref.lineCount, `round ${round}`);
        await checkAgainstReference(index, ref, rng, 10);
      }
      // Shrinking is not growth: ECHANGED, then reset + build.
      fs.truncateSync(file, 10);
      await assert.rejects(index.extend(), { code: "ECHANGED" });
      index.reset();
      await index.build();
      assert.equal(index.newlineCount, new Reference(all.subarray(0, 10)).newlines);
    } finally {
      index.close();
      doc.close();
    }
  });
});

describe("text or binary", () => {
  test("sniffText", () => {
    assert.deepEqual(detectBom(Buffer.from([0xff, 0xfe, 0x41, 0])), { encoding: "utf-16le", bomLength: 2 });
    assert.deepEqual(detectBom(Buffer.from([0xfe, 0xff, 0, 0x41])), { encoding: "utf-16be", bomLength: 2 });
    assert.deepEqual(detectBom(Buffer.from([0xef, 0xbb, 0xbf])), { encoding: "utf-8", bomLength: 3 });
    assert.equal(detectBom(Buffer.from("abc")), null);
    assert.equal(sniffText(Buffer.from("2024-01-01 INFO started\nnext line\tok\r\n")).text, true);
    assert.equal(sniffText(Buffer.from("2024-01-01 INFO started\nnext line\tok\r\n")).encoding, "utf-8");
    assert.equal(sniffText(Buffer.alloc(0)).text, true);
    assert.equal(sniffText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0])).text, false); // ELF
    assert.equal(sniffText(Buffer.alloc(4096)).text, false); // zeros
    assert.equal(sniffText(utf16("hello\n", false)).encoding, "utf-16le");
    // A UTF-8 sequence cut by the end of the sniffed bytes is still UTF-8.
    const cut = Buffer.from("abc 日本", "utf8");
    assert.equal(sniffText(cut.subarray(0, cut.length - 1)).encoding, "utf-8");
    const latin = Buffer.from("caf\xe9 cr\xe8me br\xfbl\xe9e\n", "latin1");
    assert.deepEqual([sniffText(latin).text, sniffText(latin).encoding], [true, "latin1"]);
    const rng = new Rng(1);
    const random = Buffer.from(Array.from({ length: 4096 }, () => rng.between(1, 255)));
    assert.equal(sniffText(random).text, false);
  });
});
