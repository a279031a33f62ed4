// The structure engine: lazy reads through a document (a header at 5 GiB of a 6 GiB sparse file),
// the node cap on `repeat: eos`, .ksy errors with their line, a file that does not match
// (values and the sandbox: sandbox.test.ts, which the Windows leg runs too).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Document } from "../../app/engine/document";
import { loadShippedFormat } from "../../app/structure/formats";
import { parseStructure, type ParseSource } from "../../app/structure/parse";
import { GiB, cleanupFixtures, makeTempDir } from "../fixtures";
import { at, counting, field, ksy, struct, val, walk } from "./helpers";

after(() => cleanupFixtures());


describe("big files", () => {
  test("an ELF header at 5 GiB of a 6 GiB sparse file: --offset, instances seek there, bounded reads", async () => {
    const dir = makeTempDir("hexmap-struct-big-");
    const file = path.join(dir, "big.bin");
    const elf = fs.readFileSync("/bin/ls");
    const fd = fs.openSync(file, "w");
    try {
      fs.ftruncateSync(fd, 6 * GiB);
      fs.writeSync(fd, elf, 0, elf.length, 5 * GiB);
    } finally {
      fs.closeSync(fd);
    }
    const small = struct(["/bin/ls"]);
    const rssBefore = process.memoryUsage().rss;
    const big = struct([file, "--format", "elf", "--offset", String(5 * GiB)]);
    assert.equal(big.status, 0, big.stderr);
    const a = small.tree!;
    const b = big.tree!;
    assert.equal(b.offset, 5 * GiB);
    const sa = at(a, "header.section_headers").items!;
    const sb = at(b, "header.section_headers").items!;
    assert.equal(sb.length, sa.length);
    sa.forEach((s, i) => {
      assert.equal(sb[i]!.offset, s.offset + 5 * GiB);
      assert.equal(val(sb[i]!, "name"), val(s, "name"));
      assert.equal(val(sb[i]!, "ofs_body"), val(s, "ofs_body"));
    });
    // Same through the engine, counting the bytes the parse asked for: a few pages, not the file.
    const doc = Document.openFile(file);
    try {
      let asked = 0;
      const src: ParseSource = {
        size: doc.size,
        read: (o, l) => {
          asked += l;
          return doc.read(o, l);
        },
      };
      const r = await parseStructure(src, loadShippedFormat("elf"), { offset: 5 * GiB });
      assert.equal(r.error, undefined);
      assert.ok(asked < 4 * 1024 * 1024, `read ${asked} bytes`);
      assert.ok(process.memoryUsage().rss - rssBefore < 512 * 1024 * 1024);
    } finally {
      doc.close();
    }
  });

  test("repeat: eos over a 6 GiB file stops at the node cap, marked partial, quickly", async () => {
    const dir = makeTempDir("hexmap-struct-eos-");
    const file = path.join(dir, "zeros.bin");
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, 6 * GiB);
    fs.closeSync(fd);
    const k = path.join(dir, "many.ksy");
    fs.writeFileSync(k, "meta:\n  id: many\n  endian: le\nseq:\n  - id: entries\n    type: entry\n    repeat: eos\ntypes:\n  entry:\n    seq:\n      - id: a\n        type: u4\n      - id: b\n        type: u2\n");
    const t0 = Date.now();
    const r = struct([file, "--ksy", k, "--max-nodes", "5000"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.tree!.partial, true);
    const items = field(r.tree!, "entries").items!;
    assert.ok(items.length > 100 && items.length <= 5000, `${items.length} items`);
    assert.equal(items[7]!.offset, 42);
    assert.ok([...walk(r.tree!)].length <= 5000 + 10);
    assert.match(r.stderr, /partial/);
    assert.ok(Date.now() - t0 < 20_000);
  });

  test("an empty struct repeated forever meets the cap too (no hang)", async () => {
    const r = await parseStructure(counting(new Uint8Array(100)), ksy("meta:\n  id: t\nseq:\n  - id: e\n    type: nothing\n    repeat: until\n    repeat-until: false\ntypes:\n  nothing: {}\n"), { maxNodes: 1000 });
    assert.equal(r.partial, true);
  });
});

describe("errors", () => {
  test("a .ksy that does not compile: exit 2, the compiler's message with file and line", () => {
    const dir = makeTempDir("hexmap-struct-bad-");
    const k = path.join(dir, "bad.ksy");
    fs.writeFileSync(k, "meta:\n  id: bad\n  endian: le\nseq:\n  - id: a\n    type: u4\n  - id: b\n    type: no_such_type\n");
    const r = struct(["/bin/ls", "--ksy", k]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /bad\.ksy line 8 \(\/seq\/1\/type\): unable to find type 'no_such_type'/);
  });

  test("YAML that does not parse: exit 2 with its line", () => {
    const dir = makeTempDir("hexmap-struct-bad-");
    const k = path.join(dir, "bad.ksy");
    fs.writeFileSync(k, "meta:\n  id: bad\nseq:\n  - id: a\n    type: u1\n   - id: b\n");
    const r = struct(["/bin/ls", "--ksy", k]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.ksy line 6/);
  });

  test("bad arguments: exit 2", () => {
    assert.equal(struct([]).status, 2);
    assert.equal(struct(["/bin/ls", "--format", "nope"]).status, 2);
    assert.equal(struct(["/bin/ls", "--format", "png", "--ksy", "x.ksy"]).status, 2);
    assert.equal(struct(["/bin/ls", "--max-nodes", "0"]).status, 2);
    assert.equal(struct(["/bin/ls", "--ksy", "/no/such.ksy"]).status, 2);
  });

  test("--list-formats lists the shipped formats", () => {
    const r = struct(["--list-formats"]);
    assert.equal(r.status, 0);
    for (const f of ["elf", "pe", "png", "zip", "gzip"]) assert.match(r.stdout, new RegExp(`^${f} `, "m"));
  });

  test("a file that does not match: exit 1, the tree up to the failing field, with error there", () => {
    const r = struct(["/bin/ls", "--format", "png"]);
    assert.equal(r.status, 1);
    const magic = field(r.tree!, "magic");
    assert.match(magic.error!, /not equal/);
    assert.equal(magic.offset, 0);
    assert.match(r.stderr, /does not match png/);
  });

  test("a read past the end: the fields before it are kept, the failing one carries the reason", async () => {
    const bytes = Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
    const r = await parseStructure(counting(bytes), ksy("meta:\n  id: t\n  endian: be\nseq:\n  - id: a\n    type: u2\n  - id: rec\n    type: rec\ntypes:\n  rec:\n    seq:\n      - id: b\n        type: u2\n      - id: c\n        type: u4\n"));
    assert.match(r.error!, /EOF|end of stream|requested/i);
    assert.equal(val(r.tree, "a"), 0x0102);
    const rec = field(r.tree, "rec");
    assert.equal(val(rec, "b"), 0x0304);
    const c = field(rec, "c");
    assert.equal(c.offset, 4);
    assert.ok(c.error, "the failing field has the error");
    assert.equal(rec.error, undefined, "only the failing field is marked");
  });

  test("no shipped format matches: exit 1, saying so", () => {
    const dir = makeTempDir("hexmap-struct-none-");
    const f = path.join(dir, "x.txt");
    fs.writeFileSync(f, "just text\n");
    const r = struct([f]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no shipped format matches/);
  });
});
