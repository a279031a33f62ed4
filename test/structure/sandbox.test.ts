// The structure engine's values and its sandbox, on in-memory sources and small temp files only:
// what also runs in the Windows leg (Wine). The rest (big files, errors, the CLI) is engine.test.ts.
// Exact 64-bit values, reads of an edited snapshot, and the sandbox (hostile generated code gets
// no process, require or eval; a loop is stopped by the time limit, a hog by the memory limit).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Editor } from "../../app/engine/editor";
import { loadKsy, loadKsyFile, type KsyText } from "../../app/structure/ksy";
import { detectFormat, loadShippedFormat } from "../../app/structure/formats";
import { parseStructure } from "../../app/structure/parse";
import { cleanupFixtures, makeTempDir } from "../fixtures";
import { counting, field, ksy, struct, val, type Node } from "./helpers";

after(() => cleanupFixtures());


describe("values", () => {
  test("u8 past 2^53 as an exact decimal string, enums by name, strings, byte arrays in hex", async () => {
    const bytes = new Uint8Array(8 + 8 + 1 + 4 + 3);
    new DataView(bytes.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    new DataView(bytes.buffer).setBigInt64(8, -2n, true);
    bytes[16] = 2;
    bytes.set([0x41, 0x42, 0x43, 0x00], 17);
    bytes.set([0xde, 0xad, 0xbe], 21);
    const r = await parseStructure(
      counting(bytes),
      ksy("meta:\n  id: t\n  endian: le\nseq:\n  - id: big\n    type: u8\n  - id: neg\n    type: s8\n  - id: kind\n    type: u1\n    enum: kinds\n  - id: name\n    type: str\n    size: 4\n    terminator: 0\n    encoding: ASCII\n  - id: raw\n    size: 3\nenums:\n  kinds:\n    1: one\n    2: two_things\n"),
    );
    assert.equal(r.error, undefined);
    assert.equal(val(r.tree, "big"), "18446744073709551615");
    assert.equal(val(r.tree, "neg"), -2);
    assert.equal(val(r.tree, "kind"), 2);
    assert.equal(field(r.tree, "kind").enum, "two_things");
    assert.equal(val(r.tree, "name"), "ABC");
    assert.equal(val(r.tree, "raw"), "deadbe");
    assert.deepEqual(field(r.tree, "big").edit, { kind: "int", size: 8, signed: false, le: true });
  });

  test("imports from the .ksy's folder", () => {
    const dir = makeTempDir("hexmap-struct-imp-");
    fs.writeFileSync(path.join(dir, "point.ksy"), "meta:\n  id: point\n  endian: le\nseq:\n  - id: x\n    type: u2\n  - id: y\n    type: u2\n");
    fs.writeFileSync(path.join(dir, "main.ksy"), "meta:\n  id: main\n  endian: le\n  imports:\n    - point\nseq:\n  - id: count\n    type: u1\n  - id: points\n    type: point\n    repeat: expr\n    repeat-expr: count\n");
    fs.writeFileSync(path.join(dir, "data.bin"), Buffer.from([2, 1, 0, 2, 0, 3, 0, 4, 0]));
    const r = struct([path.join(dir, "data.bin"), "--ksy", path.join(dir, "main.ksy")]);
    assert.equal(r.status, 0, r.stderr);
    const pts = field(r.tree!, "points").items!;
    assert.deepEqual(pts.map((p) => [p.offset, val(p, "x"), val(p, "y")]), [[1, 1, 2], [5, 3, 4]]);
    const k = loadKsyFile(path.join(dir, "main.ksy"));
    assert.equal(loadKsy(k.main, k.resolver).files.length, 2);
  });

  test("an edited snapshot is what gets parsed", async () => {
    const dir = makeTempDir("hexmap-struct-ed-");
    const file = path.join(dir, "a.gz");
    fs.writeFileSync(file, Buffer.from([0x1f, 0x8b, 8, 0, 1, 0, 0, 0, 0, 3, 0xaa, 0xbb, 1, 0, 0, 0, 5, 0, 0, 0]));
    const ed = Editor.open(file, { readOnly: false });
    try {
      ed.edit(4, Uint8Array.of(0x39, 0x30, 0, 0));
      const r = await parseStructure(ed.snapshot(), loadShippedFormat("gzip"));
      assert.equal(val(r.tree, "mod_time"), 12345);
    } finally {
      ed.close();
    }
  });

  test("magic detection", () => {
    assert.equal(detectFormat(fs.readFileSync("/bin/ls").subarray(0, 16))?.name, "elf");
    assert.equal(detectFormat(Buffer.from("PK\x03\x04rest", "latin1"))?.name, "zip");
    assert.equal(detectFormat(Buffer.from([0x1f, 0x8b, 8]))?.name, "gzip");
    assert.equal(detectFormat(Buffer.from("hello")), null);
  });
});

describe("the sandbox", () => {
  const fmt = ksy("meta:\n  id: evil\nseq:\n  - id: a\n    type: u1\n");
  const evil = (body: string): { name: string; code: string }[] => [
    {
      name: "Evil.js",
      code: `(function (root) {
  function Evil(_io, _parent, _root) { this._io = _io; this._parent = _parent; this._root = _root || this; this._debug = {}; }
  Evil.prototype._read = function () {
    this._debug.a = { start: this._io.pos, ioOffset: this._io.byteOffset };
    ${body}
    this._debug.a.end = this._io.pos;
  };
  root.Evil = { Evil: Evil };
})(this);`,
    },
  ];
  const src = () => counting(new Uint8Array(16));

  for (const [what, code] of [
    ["process through a constructor chain", "this.a = this.constructor.constructor('return typeof process')();"],
    ["process through the stream's class", "this.a = this._io.constructor.constructor('return process.pid')();"],
    ["require", "this.a = typeof require === 'function' ? require('fs').readFileSync('/etc/passwd','utf8') : (function () { throw new Error('no require'); })();"],
    ["eval", "this.a = eval('1 + 1');"],
    ["globalThis.process", "this.a = globalThis.process.pid;"],
  ] as const) {
    test(`no ${what}`, async () => {
      const r = await parseStructure(src(), fmt, { compiled: evil(code) });
      const a = field(r.tree, "a");
      assert.ok(r.error !== undefined || a.value === "undefined", `escaped: ${JSON.stringify(a)}`);
      assert.notEqual(typeof a.value, "number");
    });
  }

  test("an endless loop is stopped by the time limit", async () => {
    const t0 = Date.now();
    await assert.rejects(parseStructure(src(), fmt, { compiled: evil("for (;;) {}"), timeoutMs: 1000 }), (e: { code?: string; message?: string }) => e.code === "ETOOBIG" && /time limit/.test(e.message ?? ""));
    assert.ok(Date.now() - t0 < 5000);
  });

  test("a memory hog is stopped by the memory limit", async () => {
    await assert.rejects(
      parseStructure(src(), fmt, { compiled: evil("var keep = []; for (;;) keep.push(new Array(1e5).fill(keep.length));"), memoryMb: 64, timeoutMs: 20_000 }),
      (e: { code?: string; message?: string }) => e.code === "ETOOBIG",
    );
  });

  test("cancel stops a parse", async () => {
    const ac = new AbortController();
    const p = parseStructure(src(), fmt, { compiled: evil("for (;;) {}"), signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e: { code?: string }) => e.code === "ECANCELED");
  });
});

void ({} as Node | KsyText);
