// Any-length edit benchmark (issue 14). Not a test: it asserts nothing about time. Peers are
// measured in the same run; read the ratios.
//
//   insert   16 GiB sparse file: one insert at 8 GiB, then the first repaint (a 4 KiB read at the
//            insert), 1000 times (undone in between): p50/p99 engine side; peer a plain pread.
//   reads    random 4 KiB reads, before and after 100 000 scattered inserts: p50/p99, ratio.
//   memory   1 000 000 scattered one-byte inserts: heap bytes per edit; undo of all of them.
//   replace  replace all of 1 000 000 places in a real 2 GiB file: the edit, heap per place, the save.
//   rewrite  a real 4 GiB file (BENCH_SAVE_GIB) with one insert at offset 0, saved by rewrite;
//            peer `cp --reflink=never FILE COPY && sync` on the same disk.
//   in-place the same insert saved in place (v2 journal, the whole tail moved); same peer (the
//            time to read and write the data once).
// Prints a table and writes bench/results/edit.json.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { Editor } from "../app/engine/editor";
import { GiB, MiB, Rng, cleanupFixtures, makeSparseFile, makeTempDir } from "../test/fixtures";
import { median, percentile, root, writeResult, type Row } from "./common";

const SAVE_GIB = Number(process.env.BENCH_SAVE_GIB ?? 4);
const only = new Set((process.env.BENCH_EDIT_PARTS ?? "insert,reads,memory,replace,rewrite,in-place").split(","));

function gc(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

function pread(fd: number, buf: Buffer, at: number): void {
  fs.readSync(fd, buf, 0, buf.length, at);
}

async function benchInsert(dir: string, rows: Row[]): Promise<void> {
  const fx = makeSparseFile({ dir, name: "insert-16GiB.bin", size: 16 * GiB, blocks: [{ offset: 8 * GiB, length: 64 * 1024, seed: 3 }] });
  const ed = Editor.open(fx.path);
  const fd = fs.openSync(fx.path, "r");
  const buf = Buffer.alloc(4096);
  try {
    const engine: number[] = [];
    const peer: number[] = [];
    for (let i = 0; i < 1100; i++) {
      const t0 = performance.now();
      ed.insert(8 * GiB, Uint8Array.of(i & 0xff));
      await ed.read(8 * GiB, 4096);
      const t1 = performance.now();
      ed.undo();
      const t2 = performance.now();
      pread(fd, buf, 8 * GiB + 4096);
      const t3 = performance.now();
      if (i >= 100) {
        engine.push(t1 - t0);
        peer.push(t3 - t2);
      }
    }
    engine.sort((a, b) => a - b);
    peer.sort((a, b) => a - b);
    rows.push({ name: "insert at 8 GiB + first 4 KiB repaint, p50", unit: "ms", value: percentile(engine, 50), peer: "pread 4 KiB p50", peerValue: percentile(peer, 50) });
    rows.push({ name: "insert at 8 GiB + first 4 KiB repaint, p99", unit: "ms", value: percentile(engine, 99), peer: "pread 4 KiB p99", peerValue: percentile(peer, 99), note: "goal < 5 ms" });
  } finally {
    fs.closeSync(fd);
    ed.close();
  }
}

async function randomReads(ed: Editor, rng: Rng, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = rng.below(ed.size - 4096);
    const t0 = performance.now();
    await ed.read(at, 4096);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

async function benchReads(dir: string, rows: Row[]): Promise<void> {
  const fx = makeSparseFile({ dir, name: "reads-1GiB.bin", size: 1 * GiB, blocks: [] });
  // A real-data GiB in the page cache would be fairer to mapping; a sparse one keeps the disk out of it.
  const ed = Editor.open(fx.path);
  try {
    await randomReads(ed, new Rng(1), 2000); // warm-up
    const before = await randomReads(ed, new Rng(2), 10_000);
    const rng = new Rng(3);
    for (let i = 0; i < 100_000; i++) ed.insert(rng.below(ed.size), Uint8Array.of(i & 0xff));
    const after = await randomReads(ed, new Rng(2), 10_000);
    rows.push({ name: "random 4 KiB read after 100 000 inserts, p50", unit: "µs", value: percentile(after, 50) * 1000, peer: "same reads before the inserts", peerValue: percentile(before, 50) * 1000, note: "goal ≤ 1.5×" });
    rows.push({ name: "random 4 KiB read after 100 000 inserts, p99", unit: "µs", value: percentile(after, 99) * 1000, peer: "before, p99", peerValue: percentile(before, 99) * 1000 });
  } finally {
    ed.close();
  }
}

async function benchMemory(dir: string, rows: Row[]): Promise<void> {
  const fx = makeSparseFile({ dir, name: "memory-16GiB.bin", size: 16 * GiB, blocks: [] });
  const ed = Editor.open(fx.path);
  try {
    const n = 1_000_000;
    const stride = Math.floor((16 * GiB) / n);
    gc();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    for (let k = n - 1; k >= 0; k--) ed.insert(k * stride + 3, Uint8Array.of(k & 0xff));
    const t1 = performance.now();
    gc();
    const h1 = process.memoryUsage().heapUsed;
    const t2 = performance.now();
    while (ed.undo());
    const t3 = performance.now();
    rows.push({ name: "1 000 000 scattered 1-byte inserts: heap per edit", unit: "bytes", value: (h1 - h0) / n, note: "goal ≤ 300" });
    rows.push({ name: "  … time to make them", unit: "ms", value: t1 - t0 });
    rows.push({ name: "  … undo of all of them", unit: "ms", value: t3 - t2, note: `${((t3 - t2) / n * 1000).toFixed(2)} µs each` });
  } finally {
    ed.close();
  }
}

/** Replace all: 1 000 000 places in a 2 GiB file (a real one), one undo step, then the save. */
async function benchReplaceAll(dir: string, rows: Row[]): Promise<void> {
  const file = path.join(dir, "replace-2GiB.bin");
  makeDataFile(file, 2 * GiB);
  const ed = Editor.open(file);
  try {
    const n = 1_000_000;
    const stride = Math.floor((2 * GiB) / n);
    const starts = new Float64Array(n);
    for (let k = 0; k < n; k++) starts[k] = k * stride + 13;
    gc();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    ed.replaceAll(starts, 5, Buffer.from("REPLACED"));
    const t1 = performance.now();
    gc();
    const h1 = process.memoryUsage().heapUsed;
    const t2 = performance.now();
    const r = await ed.save();
    const t3 = performance.now();
    rows.push({ name: "replace all, 1 000 000 places in 2 GiB: edit", unit: "ms", value: t1 - t0, note: "goal < 2000 (one undo step)" });
    rows.push({ name: "  … heap per place", unit: "bytes", value: (h1 - h0) / n });
    rows.push({ name: `  … save (${r.strategy})`, unit: "ms", value: t3 - t2, note: Object.entries(r.timings ?? {}).map(([k, v]) => `${k} ${Math.round(v)}`).join(", ") });
  } finally {
    ed.close();
    fs.rmSync(file, { force: true });
  }
}

function makeDataFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, "w");
  const chunk = Buffer.alloc(16 * MiB);
  const rng = new Rng(7);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(rng.uint32() >>> 0, i);
  for (let at = 0; at < bytes; at += chunk.length) {
    chunk[0] = at / chunk.length; // not all chunks equal (no dedup anywhere)
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - at), at);
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function timedPeer(file: string, copy: string): number {
  const t0 = performance.now();
  const r = spawnSync("sh", ["-c", `cp --reflink=never "${file}" "${copy}" && sync`], { stdio: "inherit" });
  const t1 = performance.now();
  fs.rmSync(copy, { force: true });
  if (r.status !== 0) throw new Error("cp failed");
  return t1 - t0;
}

async function benchSave(dir: string, rows: Row[], strategy: "rewrite" | "in-place"): Promise<void> {
  const file = path.join(dir, `save-${strategy}.bin`);
  makeDataFile(file, SAVE_GIB * GiB);
  const copy = path.join(dir, "peer-copy.bin");
  const ours: number[] = [];
  const peer: number[] = [];
  for (let run = 0; run < 2; run++) {
    peer.push(timedPeer(file, copy));
    const ed = Editor.open(file);
    try {
      ed.insert(0, Uint8Array.of(run + 1));
      const t0 = performance.now();
      const r = await ed.save({ strategy });
      ours.push(performance.now() - t0);
      if (r.strategy !== strategy) throw new Error(`asked for ${strategy}, got ${r.strategy}`);
      if (strategy === "in-place") ed.remove(0, 1), await ed.save({ strategy }); // back to the original size (untimed)
    } finally {
      ed.close();
    }
  }
  const label = strategy === "rewrite" ? "rewrite save" : "in-place save";
  rows.push({
    name: `${label}, ${SAVE_GIB} GiB, one insert at 0`,
    unit: "ms",
    value: median(ours),
    peer: "cp --reflink=never + sync",
    peerValue: median(peer),
    note: strategy === "rewrite" ? "goal ≤ 1.1×" : "goal ≤ 2.0×",
  });
  fs.rmSync(file, { force: true });
}

async function main(): Promise<void> {
  const dir = makeTempDir("hexmap-edit-bench-");
  const rows: Row[] = [];
  try {
    if (only.has("insert")) await benchInsert(dir, rows);
    if (only.has("reads")) await benchReads(dir, rows);
    if (only.has("memory")) await benchMemory(dir, rows);
    if (only.has("replace")) await benchReplaceAll(dir, rows);
    if (only.has("rewrite")) await benchSave(dir, rows, "rewrite");
    if (only.has("in-place")) await benchSave(dir, rows, "in-place");
  } finally {
    cleanupFixtures();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const r of rows) if (r.peerValue) r.ratio = r.value / r.peerValue;
  console.log(`\nedit bench: ${os.cpus()[0]?.model ?? "cpu"} × ${os.cpus().length}, node ${process.version}, ${process.platform}-${process.arch}\n`);
  const head = ["measure", "hexmap", "peer", "peer value", "ratio", "note"];
  const body = rows.map((r) => [r.name, `${r.value.toFixed(r.value < 10 ? 3 : 1)} ${r.unit}`, r.peer ?? "", r.peerValue !== undefined ? `${r.peerValue.toFixed(r.peerValue < 10 ? 3 : 1)} ${r.unit}` : "", r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : "", r.note ?? ""]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const b of body) console.log(line(b));
  const json = { bench: "edit", date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, saveGiB: SAVE_GIB, rows };
  console.log(`wrote ${path.relative(root, writeResult("edit", json))}`);
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
