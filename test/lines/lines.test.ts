// getLines / getLineText: text and lengths against a JS reference, CRLF, BOMs, invalid UTF-8,
// control characters, UTF-16, Latin-1, truncated long lines read whole in slices, and a 4 GiB
// sparse file of zeros without a newline (count 0 quickly, line 1 shown truncated).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import { LineIndex } from "../../app/engine/line-index";
import { decodeForDisplay, getLineText, getLines, makeVisible } from "../../app/engine/lines";
import { FOUR_GIB, Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { Reference, makeText, utf16 } from "./helpers";

after(() => cleanupFixtures());

async function open(contents: Buffer | string, options: ConstructorParameters<typeof LineIndex>[1] = {}) {
  const doc = Document.openFile(makeFile(contents, "l.txt"));
  const index = new LineIndex(doc, options);
  await index.build();
  return {
    doc,
    index,
    close() {
      index.close();
      doc.close();
    },
  };
}

/** What getLines should show for a reference line (UTF-8, short lines). */
function shown(bytes: Buffer): string {
  let b = bytes;
  if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
  return makeVisible(new TextDecoder("utf-8", { ignoreBOM: true }).decode(b));
}

describe("getLines", () => {
  test("random windows of lines equal the reference (CRLF, empty lines, no final newline)", async () => {
    const bytes = makeText(3, 400_000, { crlf: true, finalNewline: false });
    const ref = new Reference(bytes);
    const f = await open(bytes, { sampleEvery: 16 });
    try {
      const rng = new Rng(12);
      for (let i = 0; i < 60; i++) {
        const from = rng.between(1, ref.lineCount);
        const count = rng.between(1, 80);
        const lines = await getLines(f.doc, f.index, from, count, { maxLineBytes: 1 << 20 });
        assert.equal(lines.length, Math.min(count, ref.lineCount - from + 1));
        lines.forEach((l, j) => {
          const n = from + j;
          const want = ref.lineBytes(n);
          assert.equal(l.number, n);
          assert.equal(l.offset, ref.starts[n - 1]);
          assert.equal(l.length, want.length, `length of line ${n}`);
          assert.equal(l.truncated, false);
          assert.equal(l.text, shown(want), `text of line ${n}`);
        });
      }
      assert.deepEqual(await getLines(f.doc, f.index, ref.lineCount + 1, 5), []);
      assert.deepEqual(await getLines(f.doc, f.index, 1, 0), []);
      await assert.rejects(getLines(f.doc, f.index, 0, 5), { code: "EINVAL" });
      await assert.rejects(getLines(f.doc, f.index, 1, 1e9), { code: "ETOOBIG" });
    } finally {
      f.close();
    }
  });

  test("display: BOM dropped, CR of CRLF dropped, invalid UTF-8 → U+FFFD, controls visible, tab kept", async () => {
    const bytes = Buffer.concat([
      Buffer.from("\ufeffbom line\r\n", "utf8"),
      Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a]), // a, invalid, b, cut sequence
      Buffer.from("tab\there\x00nul\x1bESC\x7fdel\rCR-inside\n", "latin1"),
      Buffer.from("bidi \u202eevil\u202c and \u2028sep\n", "utf8"),
      Buffer.from("\n", "utf8"),
      Buffer.from("last", "utf8"),
    ]);
    const f = await open(bytes);
    try {
      const lines = await getLines(f.doc, f.index, 1, 10);
      assert.deepEqual(
        lines.map((l) => l.text),
        ["bom line", "a\ufffdb\ufffd", "tab\there\u2400nul\u241bESC\u2421del\u240dCR-inside", "bidi \ufffdevil\ufffd and \ufffdsep", "", "last"],
      );
      assert.equal(lines[0]!.length, 3 + 8 + 1); // BOM + text + CR, without the newline
      assert.equal(lines[5]!.length, 4);
      assert.equal(f.index.lineCount, 6);
    } finally {
      f.close();
    }
  });

  for (const bigEndian of [false, true]) {
    test(`UTF-16${bigEndian ? "BE" : "LE"}: lines, CRLF, surrogate pairs, 0x0A bytes inside characters`, async () => {
      const text = "first\r\nδεύτερο 😀\n\u0a0a\u010a line\n\nlast";
      const f = await open(utf16(text, bigEndian));
      try {
        assert.equal(f.index.encoding, bigEndian ? "utf-16be" : "utf-16le");
        const lines = await getLines(f.doc, f.index, 1, 10);
        assert.deepEqual(
          lines.map((l) => l.text),
          ["first", "δεύτερο 😀", "\u0a0a\u010a line", "", "last"],
        );
        assert.deepEqual(
          lines.map((l) => l.offset),
          [0, 16, 38, 54, 56],
        );
        // Truncation never splits a surrogate pair: "δεύτερο " is 16 bytes, the emoji 4.
        const cut = await getLines(f.doc, f.index, 2, 1, { maxLineBytes: 18 });
        assert.equal(cut[0]!.truncated, true);
        assert.equal(cut[0]!.text, "δεύτερο ");
        assert.equal(cut[0]!.length, 20);
      } finally {
        f.close();
      }
    });
  }

  test("Latin-1 as a choice: every byte is one character", async () => {
    const f = await open(Buffer.from("caf\xe9\n\xff\xfe\xa0x\n", "latin1"), { encoding: "latin1" });
    try {
      const lines = await getLines(f.doc, f.index, 1, 5);
      assert.deepEqual(
        lines.map((l) => l.text),
        ["café", "ÿþ\u00a0x"],
      );
      assert.equal(decodeForDisplay(Buffer.from([0x85, 0x41]), "latin1"), "\ufffdA"); // C1 control
      await assert.rejects(getLines(f.doc, f.index, 1, 1, { encoding: "utf-16le" }), { code: "EINVAL" });
    } finally {
      f.close();
    }
  });

  test("long lines are cut at maxLineBytes (at a character boundary) and read whole in slices", async () => {
    const long = "é".repeat(3000) + "x".repeat(5000); // 11000 bytes
    const bytes = Buffer.from(`short\n${long}\r\nafter\n${"y".repeat(5000)}`, "utf8");
    const f = await open(bytes, { sampleEvery: 2 });
    try {
      const lines = await getLines(f.doc, f.index, 1, 10, { maxLineBytes: 4095 });
      assert.equal(lines.length, 4);
      assert.deepEqual(
        lines.map((l) => [l.number, l.truncated, l.length]),
        [
          [1, false, 5],
          [2, true, 11001],
          [3, false, 5],
          [4, true, 5000],
        ],
      );
      assert.equal(lines[1]!.text, "é".repeat(2047)); // 4094 bytes: the 4095th would split an é
      assert.equal(lines[2]!.text, "after");
      assert.equal(lines[3]!.text, "y".repeat(4095));
      // Whole line 2, in odd-sized slices that start and end mid-character.
      let text = "";
      let offset = 0;
      for (let guard = 0; guard < 100; guard++) {
        const s = await getLineText(f.doc, f.index, 2, { offset, length: 999 });
        assert.equal(s.lineOffset, 6);
        assert.equal(s.lineLength, 11001);
        assert.ok(s.end > s.offset || s.done);
        text += s.text;
        offset = s.end;
        if (s.done) break;
      }
      assert.equal(text, long);
      // A slice starting inside a character moves forward to the next one.
      const mid = await getLineText(f.doc, f.index, 2, { offset: 1, length: 10 });
      assert.equal(mid.offset, 2);
      assert.equal(mid.text, "ééééé"); // 10 bytes from there
      await assert.rejects(getLineText(f.doc, f.index, 9, {}), { code: "ERANGE" });
    } finally {
      f.close();
    }
  });

  test("a 50 MB line: the first screen reads a few blocks, not the line", async () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "wide.txt");
    const fd = fs.openSync(file, "w");
    fs.writeSync(fd, "header\n");
    const block = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 50; i++) fs.writeSync(fd, block);
    fs.writeSync(fd, "\nfooter\n");
    fs.closeSync(fd);
    const doc = Document.openFile(file);
    const index = new LineIndex(doc);
    try {
      // Before the index is built, and after.
      for (let round = 0; round < 2; round++) {
        const t0 = Date.now();
        const lines = await getLines(doc, index, 1, 50);
        assert.ok(Date.now() - t0 < 5000);
        assert.deepEqual(
          lines.map((l) => [l.text.length, l.truncated, l.length]),
          [
            [6, false, 6],
            [4096, true, 50 << 20],
            [6, false, 6],
          ],
        );
        await index.build();
      }
    } finally {
      index.close();
      doc.close();
    }
  });
});

describe("a 4 GiB sparse file of zeros, no newline", () => {
  test("count 0 in bounded time, line 1 shown truncated, nothing past it", async () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "zeros.bin");
    const size = FOUR_GIB + 4096;
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, size);
    fs.closeSync(fd);
    const doc = Document.openFile(file);
    const index = new LineIndex(doc);
    try {
      // The first screen does not wait for the index.
      const early = await getLines(doc, index, 1, 50);
      assert.equal(early.length, 1);
      assert.equal(early[0]!.truncated, true);
      assert.equal(early[0]!.text, "\u2400".repeat(4096));
      const t0 = Date.now();
      const done = await index.build();
      const seconds = (Date.now() - t0) / 1000;
      console.log(`# 4 GiB of zeros indexed in ${seconds.toFixed(2)} s`);
      assert.ok(seconds < 120, `index build took ${seconds} s`);
      assert.equal(done.newlines, 0);
      assert.equal(index.newlineCount, 0);
      assert.equal(index.lineCount, 1);
      const t1 = Date.now();
      const lines = await getLines(doc, index, 1, 50);
      assert.ok(Date.now() - t1 < 1000, "a complete index answers at once");
      assert.deepEqual(
        lines.map((l) => [l.number, l.offset, l.length, l.truncated]),
        [[1, 0, size, true]],
      );
      assert.equal(await index.lineStart(2), null);
      assert.equal(await index.lineAtOffset(size - 1), 1);
      const slice = await getLineText(doc, index, 1, { offset: FOUR_GIB, length: 100 });
      assert.deepEqual([slice.offset, slice.end, slice.done], [FOUR_GIB, FOUR_GIB + 100, false]);
    } finally {
      index.close();
      doc.close();
      fs.rmSync(file, { force: true });
    }
  });
});
