// The pattern parser: hex with ?? and nibble wildcards, text in four encodings, ASCII case
// folding through the mask, and clear EINVAL errors.
import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HexmapError } from "../../app/engine/errors";
import { compilePattern, parseHexPattern, textPattern } from "../../app/engine/pattern";

function invalid(fn: () => unknown, mentions: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HexmapError, "a HexmapError");
    assert.equal(e.code, "EINVAL");
    assert.match(e.message, mentions);
    return true;
  });
}

describe("hex patterns", () => {
  test("spellings of the same bytes", () => {
    for (const s of ["DE AD BE EF", "deadbeef", "DEAD BEEF", "0xDEADBEEF", "de,ad, be  ef", "\tDe aD\nbE eF "]) {
      const p = parseHexPattern(s);
      assert.deepEqual([...p.bytes], [0xde, 0xad, 0xbe, 0xef], s);
      assert.equal(p.mask, undefined, `${s}: exact bytes need no mask`);
    }
  });

  test("?? is any byte, ? any nibble", () => {
    const p = parseHexPattern("DE ?? B? ?F");
    assert.deepEqual([...p.bytes], [0xde, 0x00, 0xb0, 0x0f]);
    assert.deepEqual([...p.mask!], [0xff, 0x00, 0xf0, 0x0f]);
    assert.equal(p.description, "hex DE ?? B? ?F");
    assert.deepEqual([...parseHexPattern("dead??ef").mask!], [0xff, 0xff, 0x00, 0xff]);
  });

  test("errors: odd digits, bad characters, empty, all wildcards", () => {
    invalid(() => parseHexPattern("DEA"), /odd number of digits/);
    invalid(() => parseHexPattern("DE A"), /"A".*odd number of digits.*0A/);
    invalid(() => parseHexPattern("DE AG"), /"G" at position 5/);
    invalid(() => parseHexPattern("DE-AD"), /"-" at position 3/);
    invalid(() => parseHexPattern(""), /empty/);
    invalid(() => parseHexPattern("  , "), /empty/);
    invalid(() => parseHexPattern("?? ??"), /only wildcards/);
    invalid(() => parseHexPattern("????"), /only wildcards/);
    invalid(() => compilePattern({ kind: "regex" } as never), /Unknown pattern kind/);
  });
});

describe("text patterns", () => {
  test("encodings", () => {
    assert.deepEqual([...textPattern("Aé", "utf8").bytes], [0x41, 0xc3, 0xa9]);
    assert.deepEqual([...textPattern("Aé", "utf16le").bytes], [0x41, 0x00, 0xe9, 0x00]);
    assert.deepEqual([...textPattern("Aé", "utf16be").bytes], [0x00, 0x41, 0x00, 0xe9]);
    assert.deepEqual([...textPattern("A~", "ascii").bytes], [0x41, 0x7e]);
    assert.deepEqual([...textPattern("😀", "utf16le").bytes], [0x3d, 0xd8, 0x00, 0xde]);
    invalid(() => textPattern("é", "ascii"), /not ASCII/);
    invalid(() => textPattern("", "utf8"), /empty/);
    invalid(() => textPattern("x", "latin9" as never), /Unknown text encoding/);
  });

  test("ignoreCase masks ASCII letters only, and in UTF-16 only whole ASCII units", () => {
    const p = textPattern("a-Z", "utf8", true);
    assert.deepEqual([...p.bytes], [0x41, 0x2d, 0x5a]);
    assert.deepEqual([...p.mask!], [0xdf, 0xff, 0xdf]);
    // U+0141 (Ł) is 41 01 in UTF-16LE: its 0x41 byte is not the letter A and must stay exact.
    const u = textPattern("AŁ", "utf16le", true);
    assert.deepEqual([...u.bytes], [0x41, 0x00, 0x41, 0x01]);
    assert.deepEqual([...u.mask!], [0xdf, 0xff, 0xff, 0xff]);
    const be = textPattern("aŁ", "utf16be", true);
    assert.deepEqual([...be.bytes], [0x00, 0x41, 0x01, 0x41]);
    assert.deepEqual([...be.mask!], [0xff, 0xdf, 0xff, 0xff]);
    assert.equal(textPattern("123", "utf8", true).mask, undefined, "nothing to fold");
    assert.match(textPattern("x", "utf16le", true).description, /utf16le, ignore case/);
  });
});
