// Save benchmark (issue 4). Not a test: it asserts nothing about time.
//
// Saves 10 000 scattered single-byte edits into a 16 GiB sparse file and into a 1 GiB sparse file
// through the Editor (overlay → journal → writable views → flush → sync → journal deleted),
// median of 3 runs each (fresh edits at fresh random offsets every run). The point: save time
// follows the number of edits, not the file size, so the 16 GiB / 1 GiB ratio should be about 1.
// Peer, in the same run: the same bytes written with pwrite (fs.writeSync at an offset) + one
// fsync on the same file — the least a non-journaled, non-mapped writer does.
// Prints a table and writes bench/results/save.json.
//
// Options (env): BENCH_EDITS (default 10000), BENCH_RUNS (default 3).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Editor } from "../app/engine/editor";
import { GiB, Rng, cleanupFixtures, makeSparseFile, makeTempDir } from "../test/fixtures";
import { median, root, writeResult } from "./common";

const EDITS = Number(process.env.BENCH_EDITS ?? 10000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function offsets(rng: Rng, size: number, n: number): number[] {
  const set = new Set<number>();
  while (set.size < n) set.add(rng.below(size));
  return [...set];
}

interface SizeResult {
  label: string;
  size: number;
  saveMs: number[];
  editMs: number[];
  journalBytes: number;
  peerMs: number[];
  verified: boolean;
  phases: Record<string, number>[];
}

function newResult(label: string, size: number): SizeResult {
  return { label, size, saveMs: [], editMs: [], journalBytes: 0, peerMs: [], verified: true, phases: [] };
}

/** One run on one file: fresh random offsets, edits, save (timed), spot check, then the peer. */
async function benchRun(file: string, res: SizeResult, rng: Rng): Promise<void> {
  const size = res.size;
  const offs = offsets(rng, size, EDITS);
  const ed = Editor.open(file);
  const t0 = performance.now();
  offs.forEach((o, i) => ed.edit(o, Uint8Array.of((i % 255) + 1)));
  const t1 = performance.now();
  const r = await ed.save();
  const t2 = performance.now();
  ed.close();
  res.editMs.push(t1 - t0);
  res.saveMs.push(t2 - t1);
  res.journalBytes = r.journalBytes;
  if (r.timings) res.phases.push({ ...r.timings, other: t2 - t1 - Object.values(r.timings).reduce((a, b) => a + b, 0) });
  // Spot-check with plain reads.
  const fd = fs.openSync(file, "r");
  const b = Buffer.alloc(1);
  for (let i = 0; i < offs.length; i += 97) {
    fs.readSync(fd, b, 0, 1, offs[i]!);
    if (b[0] !== (i % 255) + 1) res.verified = false;
  }
  fs.closeSync(fd);

  // Peer: pwrite each byte at fresh offsets, then one fsync.
  const peerOffs = offsets(rng, size, EDITS);
  const pfd = fs.openSync(file, "r+");
  const p0 = performance.now();
  const one = Buffer.alloc(1);
  peerOffs.forEach((o, i) => {
    one[0] = (i % 255) + 1;
    fs.writeSync(pfd, one, 0, 1, o);
  });
  fs.fsyncSync(pfd);
  const p1 = performance.now();
  fs.closeSync(pfd);
  res.peerMs.push(p1 - p0);
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

async function main(): Promise<void> {
  const dir = makeTempDir("hexmap-save-bench-");
  try {
    const bigFx = makeSparseFile({ dir, name: "save-16GiB.bin", size: 16 * GiB, blocks: [] });
    const smallFx = makeSparseFile({ dir, name: "save-1GiB.bin", size: 1 * GiB, blocks: [] });
    const big = newResult("16GiB", 16 * GiB);
    const small = newResult("1GiB", 1 * GiB);
    // Warm-up (JIT, addon, page tables), untimed; then the sizes interleaved, so a noisy moment
    // on the machine hits both alike.
    await benchRun(smallFx.path, newResult("warm-up", 1 * GiB), new Rng(99));
    const rngBig = new Rng(16);
    const rngSmall = new Rng(1);
    for (let run = 0; run < RUNS; run++) {
      await benchRun(bigFx.path, big, rngBig);
      await benchRun(smallFx.path, small, rngSmall);
    }
    const rows = [big, small].map((r) => ({
      file: `${r.label} sparse`,
      edits: EDITS,
      saveMs: median(r.saveMs),
      msPerEdit: median(r.saveMs) / EDITS,
      editMs: median(r.editMs),
      peerMs: median(r.peerMs),
      vsPeer: median(r.saveMs) / median(r.peerMs),
      journalBytes: r.journalBytes,
      runs: r.saveMs,
      verified: r.verified,
      // Median of each phase over the runs (ms).
      phases: Object.fromEntries(Object.keys(r.phases[0] ?? {}).map((k) => [k, median(r.phases.map((p) => p[k]!))])),
    }));
    const ratio = rows[0]!.saveMs / rows[1]!.saveMs;
    console.log(`\nsave bench: ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, node ${process.version}, ${process.platform}-${process.arch}`);
    console.log(`${EDITS} scattered single-byte edits per save, median of ${RUNS}\n`);
    const head = ["file", "save (median)", "ms/edit", "edits into overlay", "peer: pwrite+fsync", "save / peer", "journal", "runs (ms)", "check"];
    const body = rows.map((r) => [
      r.file,
      `${fmt(r.saveMs)} ms`,
      fmt(r.msPerEdit, 4),
      `${fmt(r.editMs)} ms`,
      `${fmt(r.peerMs)} ms`,
      `${fmt(r.vsPeer, 2)}×`,
      `${(r.journalBytes / 1024).toFixed(0)} KiB`,
      r.runs.map((x) => fmt(x, 0)).join(" / "),
      r.verified ? "bytes ok" : "BYTES WRONG",
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]): string => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
    console.log(line(head));
    console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
    for (const b of body) console.log(line(b));
    console.log("\nphases (median ms): " + rows.map((r) => `${r.file}: ` + Object.entries(r.phases).map(([k, v]) => `${k} ${fmt(v, 0)}`).join(", ")).join(" | "));
    console.log(`save time 16 GiB / 1 GiB: ${fmt(ratio, 2)}× (about 1 means save time does not grow with the file)`);
    const json = { bench: "save", date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, edits: EDITS, runs: RUNS, rows, ratio16to1: ratio };
    console.log(`wrote ${path.relative(root, writeResult("save", json))}`);
    if (rows.some((r) => !r.verified)) process.exitCode = 1;
  } finally {
    cleanupFixtures();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
