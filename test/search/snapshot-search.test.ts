// Search over an edited document's snapshot against a naive search of a plain array: random
// inserts/deletes/overwrites on a file with long native-scanned pieces, patterns drawn from the
// document (so they match, also across piece boundaries), wildcards, all three directions.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { Editor } from "../../app/engine/editor";
import { compilePattern, type SearchPattern } from "../../app/engine/pattern";
import { searchSnapshot } from "../../app/engine/snapshot-search";
import { cleanupFixtures, makeFile, MiB } from "../fixtures";

after(cleanupFixtures);

function naive(doc: Uint8Array, p: SearchPattern, lo: number, hi: number, end: number): number[] {
  const out: number[] = [];
  const m = p.bytes.length;
  for (let i = lo; i < hi && i + m <= end; i++) {
    let ok = true;
    for (let k = 0; k < m && ok; k++) {
      const mk = p.mask ? p.mask[k]! : 0xff;
      const b = doc[i + k]!;
      const c = p.bytes[k]!;
      ok = mk === 0xff ? b === c : mk === 0xdf ? b === c || b === (c ^ 0x20) : (b & mk) === (c & mk);
    }
    if (ok) out.push(i);
  }
  return out;
}

// A text-like base with repeats, so short patterns match in many places; 3 MiB so pieces are scanned natively.
const BASE = Buffer.alloc(3 * MiB);
for (let i = 0; i < BASE.length; i++) BASE[i] = 0x61 + ((i * 7 + (i >> 9)) % 23);

test("snapshot search = naive search of the edited bytes, for forward, backward and all", async () => {
  const file = makeFile(BASE, "snapsearch.bin");
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({ k: fc.integer({ min: 0, max: 2 }), at: fc.nat(), len: fc.integer({ min: 1, max: 2000 }), data: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
        { minLength: 1, maxLength: 12 },
      ),
      fc.nat(),
      fc.integer({ min: 1, max: 6 }),
      fc.boolean(),
      fc.nat(),
      async (edits, patAt, patLen, wildcard, fromSeed) => {
        const ed = Editor.open(file, { readOnly: false });
        try {
          for (const e of edits) {
            const at = e.at % (ed.size + 1);
            if (e.k === 0) ed.insert(at, e.data);
            else if (e.k === 1 && at < ed.size) ed.remove(at, Math.min(e.len, ed.size - at));
            else if (at + e.data.length <= ed.size) ed.edit(at, e.data);
          }
          const doc = new Uint8Array(await ed.read(0, ed.size));
          // A pattern taken from the document, often right at an edit.
          const near = edits[patAt % edits.length]!.at % Math.max(1, doc.length - patLen);
          const start = Math.max(0, Math.min(doc.length - patLen, near - (patAt % 4)));
          const hex = [...doc.subarray(start, start + patLen)].map((b, i) => (wildcard && i === 1 ? "??" : b.toString(16).padStart(2, "0"))).join(" ");
          const pattern = compilePattern({ kind: "hex", hex });
          const snap = ed.snapshot();
          const all = naive(doc, pattern, 0, doc.length, doc.length);
          const r = await searchSnapshot(snap, ed.document, { pattern, direction: "all", maxHits: 50 });
          assert.equal(r.total, all.length, "total");
          assert.deepEqual(r.hits, all.slice(0, 50));
          const from = fromSeed % (doc.length + 1);
          const fwd = await searchSnapshot(snap, ed.document, { pattern, direction: "forward", from, maxHits: 1 });
          assert.deepEqual(fwd.hits, all.filter((h) => h >= from).slice(0, 1), `forward from ${from}`);
          const back = await searchSnapshot(snap, ed.document, { pattern, direction: "backward", from, maxHits: 1 });
          const before = all.filter((h) => h < from);
          assert.deepEqual(back.hits, before.slice(-1), `backward from ${from}`);
        } finally {
          ed.close();
        }
      },
    ),
    { numRuns: 40 },
  );
});

test("a match that spans an inserted byte and both file pieces around it is found once", async () => {
  const file = makeFile(BASE, "span.bin");
  const ed = Editor.open(file);
  try {
    ed.insert(2 * MiB, Buffer.from("Z"));
    const doc = await ed.read(2 * MiB - 3, 7);
    const pattern = compilePattern({ kind: "hex", hex: doc.toString("hex") });
    const r = await searchSnapshot(ed.snapshot(), ed.document, { pattern, direction: "all", maxHits: 10 });
    assert.ok(r.hits.includes(2 * MiB - 3));
    assert.equal(new Set(r.hits).size, r.hits.length, "no duplicates");
  } finally {
    ed.close();
  }
});
