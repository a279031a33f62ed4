// Data inspector decoders and encoders (app/protocol/inspector.ts) against Node's own readers
// (Buffer.read*, TextDecoder, Date) on thousands of seeded random byte strings, known vectors
// (FILETIME, DOS date/time, GUID, float16 including subnormals, infinities and NaN), and
// encode(decode(bytes)) == bytes round trips for every editable field.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  FIELDS,
  FIELD_IDS,
  decodeAll,
  decodeDosDateTime,
  decodeField,
  decodeUtf8,
  encodeField,
  filetimeToIso,
  float16ToNumber,
  formatFloat,
  numberToFloat16,
  type FieldId,
} from "../../app/protocol/inspector";
import { Rng, makeTempDir } from "../fixtures";

const N = 4000;

function randomBytes(rng: Rng, n = 16): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.uint32() & 0xff;
  return b;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** float16 → number by another route: rebias into float32 bits and let Buffer read them. */
function float16Reference(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return (sign ? -1 : 1) * frac * Math.pow(2, -24);
  const b = Buffer.alloc(4);
  const e32 = exp === 0x1f ? 0xff : exp - 15 + 127;
  b.writeUInt32LE((sign | (e32 << 23) | (frac << 13)) >>> 0);
  return b.readFloatLE();
}

describe("inspector: values against Buffer/DataView readers", () => {
  test(`${N} random byte strings, both endiannesses`, () => {
    const rng = new Rng(0x1ce);
    for (let n = 0; n < N; n++) {
      const buf = randomBytes(rng);
      for (const le of [true, false]) {
        const E = le ? "LE" : "BE";
        const r = (m: string) => (buf as unknown as Record<string, (o: number) => number | bigint>)[m]!.call(buf, 0);
        const v = (id: FieldId) => decodeField(id, buf, le).value;
        assert.equal(v("int8"), buf.readInt8(0));
        assert.equal(v("uint8"), buf.readUInt8(0));
        assert.equal(v("int16"), r(`readInt16${E}`));
        assert.equal(v("uint16"), r(`readUInt16${E}`));
        assert.equal(v("int32"), r(`readInt32${E}`));
        assert.equal(v("uint32"), r(`readUInt32${E}`));
        assert.equal(v("int64"), r(`readBigInt64${E}`));
        assert.equal(v("uint64"), r(`readBigUInt64${E}`));
        assert.ok(same(v("float32") as number, r(`readFloat${E}`) as number));
        assert.ok(same(v("float64") as number, r(`readDouble${E}`) as number));
        assert.ok(same(v("float16") as number, float16Reference(r(`readUInt16${E}`) as number)));
        // The shortest text reads back as the same float.
        const f32 = decodeField("float32", buf, le);
        if (!Number.isNaN(f32.value)) assert.equal(Math.fround(Number(f32.text)), f32.value);
        assert.equal(decodeField("binary", buf, le).text, buf[0]!.toString(2).padStart(8, "0"));
        const unix32 = r(`readInt32${E}`) as number;
        assert.equal(decodeField("unix32", buf, le).text, new Date(unix32 * 1000).toISOString().replace(".000Z", "Z"));
        const unix64 = r(`readBigInt64${E}`) as bigint;
        const ms = Number(unix64) * 1000;
        assert.equal(decodeField("unix64", buf, le).text, Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace(".000Z", "Z") : null);
        const ft = r(`readBigUInt64${E}`) as bigint;
        const ftText = decodeField("filetime", buf, le).text;
        if (ft >= 1n << 63n) assert.equal(ftText, null);
        else {
          const d = ft - 116444736000000000n;
          let q = d / 10000000n;
          if (d < 0n && d % 10000000n !== 0n) q -= 1n;
          const frac = String(d - q * 10000000n).padStart(7, "0");
          assert.equal(ftText, `${new Date(Number(q) * 1000).toISOString().replace(".000Z", "")}.${frac}Z`);
        }
      }
    }
  });

  test("int64/uint64 extremes are exact BigInts", () => {
    const max = Buffer.from("ffffffffffffff7f", "hex");
    assert.equal(decodeField("int64", max, true).value, 9223372036854775807n);
    assert.equal(decodeField("uint64", Buffer.alloc(8, 0xff), true).value, 18446744073709551615n);
    assert.equal(decodeField("int64", Buffer.alloc(8, 0xff), false).value, -1n);
    assert.equal(decodeField("int64", Buffer.from("8000000000000000", "hex"), false).text, "-9223372036854775808");
  });

  test("too few bytes at the end of the file: null, never a throw", () => {
    for (let n = 0; n < 16; n++) {
      const rows = decodeAll(new Uint8Array(n).fill(0x41), true);
      for (const row of rows) {
        const spec = FIELDS.find((f) => f.id === row.id)!;
        const need = row.id === "utf8" ? 1 : row.id === "utf16" ? 2 : spec.size;
        if (n < need) assert.equal(row.text, null, `${row.id} with ${n} bytes`);
        else if (row.id !== "unix64" && row.id !== "dosdatetime") assert.notEqual(row.text, null, `${row.id} with ${n} bytes of "A"`);
      }
    }
    assert.deepEqual(FIELDS.map((f) => f.id), [...FIELD_IDS]);
  });
});

describe("inspector: float16", () => {
  test("known vectors, subnormals, infinities, NaN, -0", () => {
    const vectors: Array<[number, number]> = [
      [0x0000, 0],
      [0x8000, -0],
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0xfbff, -65504],
      [0x0400, 6.103515625e-5], // smallest normal
      [0x03ff, 6.097555160522461e-5], // largest subnormal
      [0x0001, 5.960464477539063e-8], // smallest subnormal
      [0x8001, -5.960464477539063e-8],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x3bff, 0.99951171875],
      [0x3c01, 1.0009765625],
    ];
    for (const [bits, value] of vectors) {
      assert.ok(Object.is(float16ToNumber(bits), value), `0x${bits.toString(16)}`);
      assert.equal(numberToFloat16(value), bits, `${value}`);
    }
    assert.ok(Number.isNaN(float16ToNumber(0x7e00)));
    assert.ok(Number.isNaN(float16ToNumber(0xfc01)));
    assert.equal(numberToFloat16(NaN), 0x7e00);
    assert.equal(formatFloat(float16ToNumber(0x3555), 2), "0.3333");
    assert.equal(formatFloat(float16ToNumber(0x0001), 2), "6e-8");
  });

  test("all 65536 patterns decode as the reference and re-encode to themselves", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = float16ToNumber(bits);
      assert.ok(same(v, float16Reference(bits)), `0x${bits.toString(16)}`);
      if (!Number.isNaN(v)) assert.equal(numberToFloat16(v), bits);
    }
  });

  test("rounding: nearest, ties to even, overflow to infinity, underflow through subnormals", () => {
    // Brute force over every finite positive float16.
    const values: number[] = [];
    for (let bits = 0; bits < 0x7c00; bits++) values.push(float16ToNumber(bits));
    const nearest = (x: number): number => {
      const a = Math.abs(x);
      if (a >= 65520) return (x < 0 ? 0x8000 : 0) | 0x7c00;
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid]! <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - values[lo]!;
      const dh = values[hi]! - a;
      const pick = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
      return (x < 0 ? 0x8000 : 0) | pick;
    };
    const rng = new Rng(16);
    for (let i = 0; i < 20000; i++) {
      const k = rng.below(4);
      let x: number;
      if (k === 0) x = (rng.float() - 0.5) * 140000; // around the overflow edge
      else if (k === 1) x = (rng.float() - 0.5) * 2 ** -12; // subnormals
      else if (k === 2) {
        // exact halfway points between neighbours
        const j = rng.below(values.length - 1);
        x = (values[j]! + values[j + 1]!) / 2;
      } else x = (rng.float() - 0.5) * 2 ** rng.between(-30, 17);
      assert.equal(numberToFloat16(x), nearest(x), `${x}`);
    }
  });
});

describe("inspector: characters", () => {
  test("UTF-8 at the cursor agrees with TextDecoder (valid, invalid, truncated)", () => {
    const rng = new Rng(8);
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    const leads = [0x41, 0x7f, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0, 0xc1, 0x80, 0xbf, 0xff];
    for (let n = 0; n < 20000; n++) {
      const len = rng.between(0, 5);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        const r = rng.below(10);
        b[i] = i === 0 && r < 6 ? rng.pick(leads) : r < 7 ? 0x80 + rng.below(64) : rng.uint32() & 0xff;
      }
      const mine = decodeUtf8(b);
      const text = decoder.decode(b);
      const first = text.codePointAt(0);
      const isReplacement = first === 0xfffd && !(b[0] === 0xef && b[1] === 0xbf && b[2] === 0xbd);
      if (len === 0 || isReplacement) {
        assert.equal(mine, null, b.toString("hex"));
      } else {
        assert.ok(mine, b.toString("hex"));
        assert.equal(mine.codePoint, first, b.toString("hex"));
        assert.equal(mine.length, Buffer.byteLength(String.fromCodePoint(first!)));
      }
    }
    assert.equal(decodeField("utf8", Buffer.from("€", "utf8"), true).text, "€");
    assert.equal(decodeField("utf8", Buffer.from([0xed, 0xa0, 0x80]), true).text, null); // a surrogate
    assert.equal(decodeField("utf8", Buffer.from([0xc0, 0x80]), true).text, null); // overlong NUL
    assert.equal(decodeField("utf8", Buffer.from([0xf4, 0x90, 0x80, 0x80]), true).text, null); // > U+10FFFF
  });

  test("UTF-16: code units, surrogate pairs, lone surrogates", () => {
    const pair = Buffer.from("😀", "utf16le");
    assert.deepEqual(
      { text: decodeField("utf16", pair, true).text, length: decodeField("utf16", pair, true).length },
      { text: "😀", length: 4 },
    );
    assert.equal(decodeField("utf16", pair, true).detail, "U+1F600");
    const lone = Buffer.from([0x3d, 0xd8, 0x41, 0x00]);
    assert.equal(decodeField("utf16", lone, true).text, null);
    assert.equal(decodeField("utf16", lone, true).value, 0xd83d);
    const rng = new Rng(1616);
    for (let i = 0; i < N; i++) {
      const b = randomBytes(rng, 4);
      const d = decodeField("utf16", b, true);
      const unit = b.readUInt16LE(0);
      if (unit >= 0xd800 && unit <= 0xdfff) {
        const s = b.toString("utf16le");
        const cp = s.codePointAt(0)!;
        if (cp > 0xffff) assert.equal(d.value, cp);
        else assert.equal(d.text, null);
      } else {
        assert.equal(d.value, unit);
        assert.equal(d.text, String.fromCharCode(unit).match(/[\u0000-\u001f\u007f-\u009f]/) ? d.text : String.fromCharCode(unit));
      }
      const be = b.readUInt16BE(0);
      if (be < 0xd800 || be > 0xdfff) assert.equal(decodeField("utf16", b, false).value, be);
    }
  });

  test("ASCII: printable, escapes, not ASCII", () => {
    assert.equal(decodeField("ascii", Buffer.from("A"), true).text, "A");
    assert.equal(decodeField("ascii", Buffer.from([10]), true).text, "\\n");
    assert.equal(decodeField("ascii", Buffer.from([0]), true).text, "\\0");
    assert.equal(decodeField("ascii", Buffer.from([0x1b]), true).text, "U+001B");
    assert.equal(decodeField("ascii", Buffer.from([0x80]), true).text, null);
  });
});

describe("inspector: times and GUIDs (known vectors)", () => {
  test("FILETIME", () => {
    const ft = (t: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(t);
      return decodeField("filetime", b, true).text;
    };
    assert.equal(ft(0n), "1601-01-01T00:00:00.0000000Z");
    assert.equal(ft(116444736000000000n), "1970-01-01T00:00:00.0000000Z");
    // Unix 1234567890 = 2009-02-13T23:31:30Z
    assert.equal(ft(1234567890n * 10000000n + 116444736000000000n + 1234567n), "2009-02-13T23:31:30.1234567Z");
    assert.equal(ft(116444735999999999n), "1969-12-31T23:59:59.9999999Z");
    // The largest FILETIME Windows accepts: 30828-09-14 02:48:05.4775807
    assert.equal(filetimeToIso(0x7fffffffffffffffn), "+030828-09-14T02:48:05.4775807Z");
    assert.equal(filetimeToIso(0x8000000000000000n), null);
    // Windows' own example: 0x01D2EEF6D0C55000 is 2017-06-26 19:32:33 UTC? Check by arithmetic.
    const t = 0x01d2eef6d0c55000n;
    const secs = Number((t - 116444736000000000n) / 10000000n);
    assert.equal(ft(t), new Date(secs * 1000).toISOString().replace(".000Z", "") + "." + String((t - 116444736000000000n) % 10000000n).padStart(7, "0") + "Z");
  });

  test("DOS date/time (ZIP order: time then date, little-endian)", () => {
    // 2020-06-15 13:45:30 → date 0x50CF, time 0x6DAF
    assert.equal(decodeField("dosdatetime", Buffer.from([0xaf, 0x6d, 0xcf, 0x50]), true).text, "2020-06-15 13:45:30");
    assert.equal(decodeField("dosdatetime", Buffer.from([0x50, 0xcf, 0x6d, 0xaf]), false).text, "2020-06-15 13:45:30");
    // 1980-01-01 00:00:00: date 0x0021, time 0
    assert.equal(decodeField("dosdatetime", Buffer.from([0, 0, 0x21, 0]), true).text, "1980-01-01 00:00:00");
    assert.equal(decodeField("dosdatetime", Buffer.from([0, 0, 0, 0]), true).text, null); // month 0
    assert.equal(decodeDosDateTime((((2021 - 1980) << 9) | (2 << 5) | 29) << 16), null); // 2021-02-29
    assert.notEqual(decodeDosDateTime((((2020 - 1980) << 9) | (2 << 5) | 29) << 16), null); // leap year
  });

  test("DOS date/time as stored by zip (when zip is installed)", (t) => {
    const zip = spawnSync("zip", ["-v"]);
    if (zip.status !== 0) return t.skip("zip is not installed");
    const dir = makeTempDir();
    const file = path.join(dir, "f.txt");
    fs.writeFileSync(file, "x");
    const when = new Date(2023, 10, 5, 17, 42, 18); // local time, as zip stores it
    fs.utimesSync(file, when, when);
    const r = spawnSync("zip", ["-X", "-q", "out.zip", "f.txt"], { cwd: dir });
    assert.equal(r.status, 0, r.stderr?.toString());
    const z = fs.readFileSync(path.join(dir, "out.zip"));
    assert.equal(z.readUInt32LE(0), 0x04034b50);
    assert.equal(decodeField("dosdatetime", z.subarray(10, 14), true).text, "2023-11-05 17:42:18");
  });

  test("GUID: Microsoft mixed-endian (LE) and RFC order (BE)", () => {
    const stored = Buffer.from("40fc296b47ca6710b31d00dd010662da", "hex");
    assert.equal(decodeField("guid", stored, true).text, "{6B29FC40-CA47-1067-B31D-00DD010662DA}");
    assert.equal(decodeField("guid", stored, false).text, "{40FC296B-47CA-6710-B31D-00DD010662DA}");
    const e = encodeField("guid", "6b29fc40-ca47-1067-b31d-00dd010662da", true);
    assert.ok(e.ok);
    assert.deepEqual(Buffer.from(e.bytes), stored);
  });
});

describe("inspector: encoders", () => {
  test("round trips: encode(decode(bytes)) gives the same bytes, for every editable field", () => {
    const rng = new Rng(77);
    let checked = 0;
    for (let n = 0; n < N; n++) {
      const buf = randomBytes(rng);
      // Bias toward valid dates and characters now and then.
      if (n % 4 === 1) buf.writeBigUInt64LE(BigInt(rng.below(2 ** 53)) * 1000n, 0);
      if (n % 4 === 2) buf.write("é😀", 0, "utf8");
      for (const le of [true, false]) {
        for (const f of FIELDS) {
          if (!f.editable) continue;
          const d = decodeField(f.id, buf, le);
          if (d.text === null) continue;
          if ((f.id === "float16" || f.id === "float32" || f.id === "float64") && Number.isNaN(d.value)) continue;
          const e = encodeField(f.id, d.text, le);
          assert.ok(e.ok, `${f.id} ${le ? "LE" : "BE"} ${JSON.stringify(d.text)}: ${e.ok ? "" : e.error}`);
          assert.equal(e.bytes.length, d.length, `${f.id} ${d.text}`);
          assert.deepEqual(Buffer.from(e.bytes), buf.subarray(0, d.length), `${f.id} ${le ? "LE" : "BE"} ${d.text}`);
          checked++;
        }
      }
    }
    assert.ok(checked > N * 20, `only ${checked} round trips`);
  });

  test("typed values become the expected bytes", () => {
    const enc = (id: FieldId, text: string, le = true) => {
      const e = encodeField(id, text, le);
      assert.ok(e.ok, `${id} ${text}: ${e.ok ? "" : e.error}`);
      return Buffer.from(e.bytes).toString("hex");
    };
    assert.equal(enc("int16", "-2"), "feff");
    assert.equal(enc("int16", "-2", false), "fffe");
    assert.equal(enc("uint32", "0xDEADBEEF", false), "deadbeef");
    assert.equal(enc("uint64", "18446744073709551615"), "ffffffffffffffff");
    assert.equal(enc("int64", "-9223372036854775808"), "0000000000000080");
    assert.equal(enc("binary", "1010 0101"), "a5");
    assert.equal(enc("float32", "0.1"), Buffer.from(new Float32Array([0.1]).buffer).toString("hex"));
    assert.equal(enc("float64", "-inf"), "000000000000f0ff");
    assert.equal(enc("float16", "1"), "003c");
    assert.equal(enc("float16", "65519"), "ff7b"); // rounds down to 65504
    assert.equal(enc("ascii", "\\n"), "0a");
    assert.equal(enc("ascii", "\\x41"), "41");
    assert.equal(enc("utf8", "€"), "e282ac");
    assert.equal(enc("utf8", "U+1F600"), "f09f9880");
    assert.equal(enc("utf16", "😀"), "3dd800de");
    assert.equal(enc("utf16", "😀", false), "d83dde00");
    assert.equal(enc("unix32", "2009-02-13T23:31:30Z"), Buffer.from([0xd2, 0x02, 0x96, 0x49]).toString("hex"));
    assert.equal(enc("unix32", "2009-02-14 01:31:30+02:00"), "d2029649");
    assert.equal(enc("unix32", "1234567890"), "d2029649");
    assert.equal(enc("filetime", "1970-01-01T00:00:00Z"), Buffer.from(new BigUint64Array([116444736000000000n]).buffer).toString("hex"));
    assert.equal(enc("dosdatetime", "2020-06-15 13:45:30"), "af6dcf50");
  });

  test("out-of-range and malformed input: an error sentence, never bytes", () => {
    const cases: Array<[FieldId, string, RegExp]> = [
      ["int8", "128", /between -128 and 127/],
      ["int8", "-129", /between -128 and 127/],
      ["uint8", "-1", /between 0 and 255/],
      ["uint16", "65536", /between 0 and 65535/],
      ["int32", "2147483648", /between/],
      ["uint64", "18446744073709551616", /between/],
      ["int16", "12abc", /integer/],
      ["int16", "", /integer/],
      ["float16", "70000", /65504/],
      ["float32", "1e39", /3\.4028235e38/],
      ["float64", "1e309", /1\.797/],
      ["float32", "1.2.3", /number/],
      ["binary", "102", /binary digits/],
      ["binary", "111100001", /binary digits/],
      ["ascii", "é", /not ASCII/],
      ["ascii", "ab", /exactly one/],
      ["utf8", "", /one character/],
      ["utf8", "U+D800", /surrogate/],
      ["utf16", "U+110000", /10FFFF/],
      ["unix32", "2040-01-01", /2038/],
      ["unix32", "2020-13-01", /month 13/],
      ["unix32", "2021-02-29", /No day 29/],
      ["unix32", "2020-01-01T00:00:00.5Z", /whole seconds/],
      ["filetime", "1600-12-31T23:59:59Z", /1601/],
      ["filetime", "2020-01-01T00:00:00.000000001Z", /100 ns/],
      ["dosdatetime", "1979-12-31 23:59:58", /1980 to 2107/],
      ["dosdatetime", "2108-01-01 00:00:00", /1980 to 2107/],
      ["dosdatetime", "2020-01-01 00:00:01", /even second/],
      ["dosdatetime", "2020-01-01 00:00:00Z", /time zone/],
      ["guid", "not a guid", /GUID/],
      ["guid", "{00112233-4455-6677-8899-AABBCCDDEEFF", /GUID/],
    ];
    for (const [id, text, re] of cases) {
      const e = encodeField(id, text, true);
      assert.equal(e.ok, false, `${id} ${JSON.stringify(text)} should fail`);
      if (!e.ok) assert.match(e.error, re, `${id} ${JSON.stringify(text)}`);
    }
  });
});
