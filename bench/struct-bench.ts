// Structure view benchmark (issue 15). Not a test: it asserts nothing about time.
//   1. compile: a generated 300-line .ksy through the Kaitai compiler in the parse worker
//      (a fresh text each run, so the compile cache never answers), median of BENCH_RUNS.
//   2. ELF of a 280 MiB file whose section table sits at its end (/bin/ls's headers with the
//      table moved there; the middle is a hole): `hexmap struct` as a process and the engine
//      alone (worker start + parse to every section header and name), against `readelf -S -W`
//      on the same file in the same run.
//   3. repeat: eos over 1 000 000 8-byte entries (an 8 MB file): capped at the default node cap
//      (100 000) and uncapped (--max-nodes 3 000 000): time, nodes, partial, and the host's RSS;
//      the worker's heap is bounded by its resourceLimits (256 MB).
// Prints a table and writes bench/results/struct.json. BENCH_RUNS (default 3).

import * as fs from "node:fs";
import * as path from "node:path";
import { Document } from "../app/engine/document";
import { loadKsy, textResolver } from "../app/structure/ksy";
import { loadShippedFormat } from "../app/structure/formats";
import { parseStructure } from "../app/structure/parse";
import { MiB, cleanupFixtures, makeTempDir } from "../test/fixtures";
import { findOnPath, median, root, spawnTimed, writeResult } from "./common";

interface Line {
  name: string;
  value: string;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function ksy300(salt: number): string {
  const lines = [`meta:`, `  id: bench${salt}`, `  endian: le`, `seq:`];
  for (let i = 0; i < 40; i++) lines.push(`  - id: f${i}`, `    type: ${["u1", "u2", "u4", "u8", "s4", "f4"][i % 6]}`, ...(i % 5 === 0 && i % 6 < 3 ? [`    enum: e${i % 3}`] : []));
  lines.push(`  - id: recs`, `    type: rec`, `    repeat: expr`, `    repeat-expr: f1 % 8`, `types:`, `  rec:`, `    seq:`);
  for (let i = 0; i < 30; i++) lines.push(`      - id: r${i}`, `        type: u2`);
  lines.push(`    instances:`, `      sum:`, `        value: r0 + r1 + r2`, `enums:`);
  for (let e = 0; e < 3; e++) {
    lines.push(`  e${e}:`);
    for (let v = 0; v < 12; v++) lines.push(`    ${v}: v${e}_${v}`);
  }
  while (lines.length < 300) lines.push(`# padding comment ${lines.length}`);
  return lines.join("\n") + "\n";
}

function sec(ns: bigint): number {
  return Number(ns) / 1e9;
}

async function main(): Promise<void> {
  const dir = makeTempDir("hexmap-struct-bench-");
  const rows: Line[] = [];
  const result: Record<string, unknown> = {};
  const bin = path.join(root, "bin", "hexmap.js");

  // 1. compile
  const data = new Uint8Array(4096);
  const src = { size: data.length, read: async (o: number, l: number) => data.subarray(o, o + l) };
  const compiles: number[] = [];
  let lineCount = 0;
  for (let i = 0; i < RUNS; i++) {
    const text = ksy300(Date.now() % 100000 + i);
    lineCount = text.split("\n").length - 1;
    const r = await parseStructure(src, loadKsy({ name: "bench", text }, textResolver([])));
    compiles.push(r.compileMs);
  }
  result.compile = { lines: lineCount, medianMs: median(compiles), runs: compiles };
  rows.push({ name: `compile ${lineCount}-line .ksy (in the worker)`, value: `${median(compiles)} ms` });

  // 2. ELF, 280 MiB, section table at the end
  const ls = fs.readFileSync("/bin/ls");
  const shoff = Number(ls.readBigUInt64LE(0x28));
  const shnum = ls.readUInt16LE(0x3c);
  const shent = ls.readUInt16LE(0x3a);
  const table = ls.subarray(shoff, shoff + shnum * shent);
  const big = path.join(dir, "big.elf");
  const size = 280 * MiB;
  const fd = fs.openSync(big, "w");
  fs.ftruncateSync(fd, size);
  const head = Buffer.from(ls);
  head.writeBigUInt64LE(BigInt(size - table.length), 0x28);
  fs.writeSync(fd, head, 0, head.length, 0);
  fs.writeSync(fd, table, 0, table.length, size - table.length);
  fs.closeSync(fd);
  const cli: number[] = [];
  const engine: number[] = [];
  const parseOnly: number[] = [];
  const readelf: number[] = [];
  const readelfPath = findOnPath("readelf");
  loadShippedFormat("elf");
  for (let i = 0; i < RUNS; i++) {
    const t = spawnTimed(process.execPath, [bin, "struct", big], { encoding: "utf8", maxBuffer: 64 * MiB });
    if (t.r.status !== 0) throw new Error(`hexmap struct failed: ${t.r.stderr}`);
    const n = (JSON.parse(t.r.stdout).fields as { name: string; fields?: { name: string; items?: unknown[] }[] }[]).find((f) => f.name === "header")!.fields!.find((f) => f.name === "section_headers")!.items!.length;
    if (n !== shnum) throw new Error(`${n} section headers, expected ${shnum}`);
    cli.push(sec(t.ns) * 1000);
    const doc = Document.openFile(big);
    const t0 = process.hrtime.bigint();
    const r = await parseStructure(doc, loadShippedFormat("elf"));
    engine.push(sec(process.hrtime.bigint() - t0) * 1000);
    parseOnly.push(r.parseMs);
    doc.close();
    if (readelfPath) readelf.push(sec(spawnTimed(readelfPath, ["-S", "-W", big], { encoding: "utf8", maxBuffer: 64 * MiB }).ns) * 1000);
  }
  result.elf = { fileMiB: 280, sections: shnum, cliMs: median(cli), engineMs: median(engine), parseMs: median(parseOnly), readelfMs: readelfPath ? median(readelf) : null };
  rows.push({ name: "ELF 280 MiB, table at end: hexmap struct (process)", value: `${median(cli).toFixed(0)} ms` });
  rows.push({ name: "  engine: worker start + parse to section headers", value: `${median(engine).toFixed(0)} ms (parse ${median(parseOnly)} ms)` });
  if (readelfPath) rows.push({ name: "  readelf -S -W (process)", value: `${median(readelf).toFixed(0)} ms` });

  // 3. 1 000 000-entry repeat
  const many = path.join(dir, "many.bin");
  fs.writeFileSync(many, Buffer.alloc(8 * 1_000_000, 1));
  const k = path.join(dir, "many.ksy");
  fs.writeFileSync(k, "meta:\n  id: many\n  endian: le\nseq:\n  - id: entries\n    type: entry\n    repeat: eos\ntypes:\n  entry:\n    seq:\n      - id: a\n        type: u4\n      - id: b\n        type: u4\n");
  const spec = loadKsy({ name: "many", text: fs.readFileSync(k, "utf8") }, textResolver([]));
  const reps: Record<string, unknown>[] = [];
  for (const maxNodes of [100_000, 3_000_000]) {
    const doc = Document.openFile(many);
    const rss0 = process.memoryUsage().rss;
    const t0 = process.hrtime.bigint();
    let row: Record<string, unknown>;
    try {
      const r = await parseStructure(doc, spec, { maxNodes, timeoutMs: 120_000 });
      const items = (r.tree.fields?.[0]?.items ?? []).length;
      row = { maxNodes, ms: Math.round(sec(process.hrtime.bigint() - t0) * 1000), items, partial: r.partial, hostRssDeltaMiB: Math.round((process.memoryUsage().rss - rss0) / MiB) };
    } catch (err) {
      row = { maxNodes, ms: Math.round(sec(process.hrtime.bigint() - t0) * 1000), error: `${(err as { code?: string }).code}: ${(err as Error).message}` };
    } finally {
      doc.close();
    }
    reps.push(row);
    rows.push({ name: `repeat eos, 1 000 000 entries, --max-nodes ${maxNodes}`, value: JSON.stringify(row) });
  }
  result.repeat = reps;

  for (const r of rows) console.log(`${r.name.padEnd(58)} ${r.value}`);
  console.log(`wrote ${writeResult("struct", result)}`);
  cleanupFixtures();
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
