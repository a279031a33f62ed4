// Read-path benchmark (issue 2). Not a test: it asserts nothing about time.
//   1. random 4 KiB reads across a 16 GiB sparse file through the engine (Document.read), with
//      pread (fs.read on a descriptor) of the same offsets as the peer, p50/p99 and RSS;
//   2. `hexmap dump` of 1 MiB at 12 GiB against `xxd -s … -l 1048576` of the same range,
//      median of 5 runs each, outputs checked identical.
// Prints a table and writes bench/results/read.json.
//
// Options (env): BENCH_READS (default 20000), BENCH_RUNS (default 5).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Document } from "../app/engine/document";
import { GiB, KiB, MiB, Rng, cleanupFixtures, makeSparseFile, makeTempDir } from "../test/fixtures";
import { type Row, findOnPath, median, percentile, root, writeResult } from "./common";

const READS = Number(process.env.BENCH_READS ?? 20000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZE = 16 * GiB;
const DUMP_AT = 12 * GiB + 4096 + 3; // unaligned on purpose
const DUMP_LEN = 1 * MiB;

const ms = (ns: bigint) => Number(ns) / 1e6;
const us = (ns: bigint) => Number(ns) / 1e3;
const rssMiB = () => process.memoryUsage().rss / MiB;

async function engineReads(doc: Document, offsets: number[]): Promise<{ lat: number[]; totalMs: number }> {
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const at of offsets) {
    const s = process.hrtime.bigint();
    const b = await doc.read(at, 4 * KiB);
    lat.push(us(process.hrtime.bigint() - s));
    if (b.length !== 4 * KiB) throw new Error(`short read at ${at}`);
  }
  return { lat: lat.sort((a, b) => a - b), totalMs: ms(process.hrtime.bigint() - t0) };
}

async function preadReads(fd: number, offsets: number[]): Promise<{ lat: number[]; totalMs: number }> {
  const buf = Buffer.alloc(4 * KiB);
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  for (const at of offsets) {
    const s = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => fs.read(fd, buf, 0, buf.length, at, (err) => (err ? reject(err) : resolve())));
    lat.push(us(process.hrtime.bigint() - s));
  }
  return { lat: lat.sort((a, b) => a - b), totalMs: ms(process.hrtime.bigint() - t0) };
}

/**
 * Cold: each side reads its own offsets, pages not yet in the page cache. Warm: each side then
 * reads the other's offsets, now cached, which isolates our cost (mapping, copying) from the
 * kernel's. The peer is pread through libuv's thread pool (fs.read on one descriptor).
 */
async function randomReads(file: string, rows: Row[]): Promise<Record<string, unknown>> {
  const rng = new Rng(2024);
  const setA = Array.from({ length: READS }, () => rng.below(SIZE - 4 * KiB));
  const setB = Array.from({ length: READS }, () => rng.below(SIZE - 4 * KiB));
  const rssBefore = rssMiB();
  const doc = Document.openFile(file);
  const fd = fs.openSync(file, "r");
  const engineCold = await engineReads(doc, setA);
  const rssAfter = rssMiB();
  const preadCold = await preadReads(fd, setB);
  const engineWarm = await engineReads(doc, setB);
  const preadWarm = await preadReads(fd, setA);
  // Hot set: reads inside one 256 MiB region, so the views stay cached.
  const hotSet = Array.from({ length: READS }, () => 3 * GiB + rng.below(256 * MiB - 4 * KiB));
  await engineReads(doc, hotSet);
  const hot = await engineReads(doc, hotSet);
  const stats = doc.stats();
  doc.close();
  fs.closeSync(fd);

  const peer = "fs.read (pread)";
  const pair = (name: string, mine: number, theirs: number, unit = "µs") =>
    rows.push({ name, unit, value: mine, peer, peerValue: theirs, ratio: mine / theirs });
  pair("random 4 KiB read, cold: p50", percentile(engineCold.lat, 50), percentile(preadCold.lat, 50));
  pair("random 4 KiB read, cold: p99", percentile(engineCold.lat, 99), percentile(preadCold.lat, 99));
  pair(`random 4 KiB read, cold: total of ${READS}`, engineCold.totalMs, preadCold.totalMs, "ms");
  pair("random 4 KiB read, page-cached: p50", percentile(engineWarm.lat, 50), percentile(preadWarm.lat, 50));
  pair("random 4 KiB read, page-cached: p99", percentile(engineWarm.lat, 99), percentile(preadWarm.lat, 99));
  rows.push({ name: "4 KiB read in a 256 MiB hot region: p50", unit: "µs", value: percentile(hot.lat, 50), note: "views cached" });
  rows.push({ name: "4 KiB read in a 256 MiB hot region: p99", unit: "µs", value: percentile(hot.lat, 99) });
  rows.push({ name: "RSS after cold random reads", unit: "MiB", value: rssAfter, note: `before: ${rssBefore.toFixed(1)} MiB` });
  const summary = (r: { lat: number[]; totalMs: number }) => ({ p50us: percentile(r.lat, 50), p99us: percentile(r.lat, 99), totalMs: r.totalMs });
  return {
    reads: READS,
    engineCold: summary(engineCold),
    preadCold: summary(preadCold),
    engineWarm: summary(engineWarm),
    preadWarm: summary(preadWarm),
    engineHot: summary(hot),
    rssMiB: { before: rssBefore, after: rssAfter },
    viewCache: stats,
  };
}

function timeCommand(cmd: string, args: string[], outFile: string): number {
  const fd = fs.openSync(outFile, "w");
  try {
    const s = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", fd, "pipe"] });
    const t = ms(process.hrtime.bigint() - s);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return t;
  } finally {
    fs.closeSync(fd);
  }
}

function dumpVsXxd(file: string, dir: string, rows: Row[]): Record<string, unknown> {
  const bin = path.join(root, "bin", "hexmap.js");
  const mineOut = path.join(dir, "hexmap.out");
  const xxdOut = path.join(dir, "xxd.out");
  const mineArgs = [bin, "dump", "-s", String(DUMP_AT), "-l", String(DUMP_LEN), file];
  const xxd = findOnPath("xxd");
  const mine: number[] = [];
  const theirs: number[] = [];
  const startup: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    mine.push(timeCommand(process.execPath, mineArgs, mineOut));
    if (xxd) theirs.push(timeCommand(xxd, ["-s", String(DUMP_AT), "-l", String(DUMP_LEN), file], xxdOut));
    startup.push(timeCommand(process.execPath, ["-e", "0"], path.join(dir, "startup.out")));
  }
  const identical = xxd ? fs.readFileSync(mineOut).equals(fs.readFileSync(xxdOut)) : null;
  const name = `dump 1 MiB at 12 GiB (median of ${RUNS})`;
  if (xxd) {
    rows.push({ name, unit: "ms", value: median(mine), peer: "xxd -s -l", peerValue: median(theirs), ratio: median(mine) / median(theirs), note: identical ? "output identical" : "OUTPUT DIFFERS" });
  } else {
    rows.push({ name, unit: "ms", value: median(mine), note: "xxd not installed" });
  }
  rows.push({ name: "  of which node startup (node -e 0)", unit: "ms", value: median(startup) });
  return { offset: DUMP_AT, length: DUMP_LEN, runs: RUNS, hexmapMs: mine, xxdMs: theirs, nodeStartupMs: startup, identical };
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined ? "" : n.toFixed(digits);
}

function printTable(rows: Row[]): void {
  const head = ["benchmark", "hexmap", "peer", "peer value", "ratio", "note"];
  const body = rows.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, r.peer ?? "", r.peerValue === undefined ? "" : `${fmt(r.peerValue)} ${r.unit}`, r.ratio === undefined ? "" : `${fmt(r.ratio, 2)}×`, r.note ?? ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const dir = makeTempDir("hexmap-bench-");
  const rng = new Rng(16);
  const blocks = Array.from({ length: 64 }, (_, i) => ({ offset: rng.below(SIZE - 64 * KiB), length: 64 * KiB, seed: 100 + i }));
  blocks.push({ offset: DUMP_AT - 5, length: DUMP_LEN + 10, seed: 7 });
  const fx = makeSparseFile({ dir, name: "bench-16g.bin", size: SIZE, blocks });
  const rows: Row[] = [];
  try {
    const reads = await randomReads(fx.path, rows);
    const dump = dumpVsXxd(fx.path, dir, rows);
    console.log(`\nread bench: ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, node ${process.version}, ${process.platform}-${process.arch}\n`);
    printTable(rows);
    const json = { bench: "read", date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, fileSize: SIZE, rows, reads, dump };
    console.log(`\nwrote ${path.relative(root, writeResult("read", json))}`);
    if (dump.identical === false) process.exitCode = 1;
  } finally {
    cleanupFixtures();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
