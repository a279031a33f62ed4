// Line-index benchmark (issue 6). Not a test: it asserts nothing about time, only that the counts
// agree. On a 2 GiB seeded log in the page cache:
//   1. `hexmap lines FILE` (a new process, as users run it) vs `wc -l FILE`, interleaved, median
//      of BENCH_RUNS; GB/s and the ratio (goal: hexmap >= 0.8x wc's throughput);
//   2. the same count in-process (engine only, no process start) and the sparse index build
//      (samples every 1024 lines): GB/s, index memory in bytes per line;
//   3. time to first screen: open + start the index build + the first 50 lines fetched, in-process,
//      and `hexmap lines FILE --line 1 --count 50` as a new process; goto the middle line;
//   4. `lnav -n FILE | head -n 50` (lnav loads and indexes the file, then prints the view) if lnav
//      is installed; otherwise the table says so.
// Prints a table and writes bench/results/lines.json.
//
// Options (env): BENCH_RUNS (default 3), BENCH_LINES_SIZE (bytes, default 2 GiB),
// BENCH_KEEP=1 keeps the generated log in os.tmpdir() for the next run (it is reused when present).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Document } from "../app/engine/document";
import { LineIndex, countDocumentNewlines } from "../app/engine/line-index";
import { getLines } from "../app/engine/lines";
import { GiB, MiB, Rng } from "../test/fixtures";
import { type Row, findOnPath, median, root, spawnTimed, writeResult } from "./common";

const bin = path.join(root, "bin", "hexmap.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = Number(process.env.BENCH_LINES_SIZE ?? 2 * GiB);
const SEED = 6;
const KEEP = process.env.BENCH_KEEP === "1";

const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const MESSAGES = [
  "request completed",
  "GET /api/v1/items?page=",
  "connection reset by peer",
  "cache miss for key user:",
  "retrying upstream call, attempt",
  "slow query took ms:",
  "session opened for user",
  "payload size bytes:",
];

/** A seeded log of SIZE bytes: 64 MiB of unique lines, written again with a counter until full. */
function makeLog(file: string): void {
  const rng = new Rng(SEED);
  const lines: string[] = [];
  let n = 0;
  let t = Date.UTC(2024, 0, 1);
  for (let i = 0; n < 64 * MiB; i++) {
    t += rng.below(50);
    const extra = rng.below(100) < 3 ? " " + "z".repeat(rng.between(200, 2000)) : "";
    const line = `${new Date(t).toISOString()} ${rng.pick(LEVELS)} [worker-${rng.below(16)}] ${rng.pick(MESSAGES)} ${rng.below(100000)}${extra}`;
    lines.push(line);
    n += line.length + 1;
  }
  const block = Buffer.from(lines.join("\n") + "\n", "utf8");
  const fd = fs.openSync(file + ".tmp", "w");
  try {
    let written = 0;
    while (written < SIZE) {
      const n2 = Math.min(block.length, SIZE - written);
      fs.writeSync(fd, block, 0, n2);
      written += n2;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(file + ".tmp", file);
}

function timeProcess(cmd: string, args: string[]): { ms: number; stdout: string } {
  const { ns, r } = spawnTimed(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: "C" } });
  const ms = Number(ns) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

async function main(): Promise<void> {
  const file = path.join(os.tmpdir(), `hexmap-lines-bench-${SIZE}-seed${SEED}.log`);
  let generated = false;
  if (!fs.existsSync(file) || fs.statSync(file).size !== SIZE) {
    const t0 = Date.now();
    makeLog(file);
    generated = true;
    console.log(`generated ${file} (${(SIZE / GiB).toFixed(2)} GiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    console.log(`reusing ${file}`);
  }
  const rows: Row[] = [];
  try {
    // Warm the page cache.
    spawnSync("sh", ["-c", 'cat "$1" > /dev/null', "sh", file]);
    const gbps = (ms: number) => SIZE / (ms / 1000) / 1e9;

    // 1. hexmap lines vs wc -l, interleaved.
    const wcMs: number[] = [];
    const hxMs: number[] = [];
    let wcCount = -1;
    let hxCount = -1;
    for (let i = 0; i < RUNS; i++) {
      const w = timeProcess("wc", ["-l", file]);
      wcMs.push(w.ms);
      wcCount = Number(w.stdout.trim().split(/\s+/)[0]);
      const h = timeProcess(process.execPath, [bin, "lines", file]);
      hxMs.push(h.ms);
      hxCount = Number(h.stdout.trim());
    }
    if (wcCount !== hxCount) throw new Error(`counts differ: wc -l ${wcCount}, hexmap lines ${hxCount}`);
    const wcMed = median(wcMs);
    const hxMed = median(hxMs);
    rows.push({ name: "hexmap lines FILE (count, new process)", unit: "GB/s", value: gbps(hxMed), peer: "wc -l FILE", peerValue: gbps(wcMed), ratio: gbps(hxMed) / gbps(wcMed), note: `${hxMed.toFixed(0)} ms vs ${wcMed.toFixed(0)} ms; ${wcCount} lines both` });
    const nodeStart = median(Array.from({ length: RUNS }, () => timeProcess(process.execPath, [bin, "--version"]).ms));
    rows.push({ name: "  of which: node + CLI start (hexmap --version)", unit: "ms", value: nodeStart });

    // 2. In-process count and the index build.
    const doc = Document.openFile(file);
    try {
      const countMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = process.hrtime.bigint();
        const r = await countDocumentNewlines(doc);
        countMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.newlines !== wcCount) throw new Error(`in-process count ${r.newlines} != ${wcCount}`);
      }
      rows.push({ name: "count in-process (engine, threads)", unit: "GB/s", value: gbps(median(countMs)), peer: "wc -l FILE", peerValue: gbps(wcMed), ratio: gbps(median(countMs)) / gbps(wcMed) });
      const buildMs: number[] = [];
      let index: LineIndex | undefined;
      for (let i = 0; i < RUNS; i++) {
        index?.close();
        index = new LineIndex(doc);
        const t0 = process.hrtime.bigint();
        await index.build();
        buildMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (index.newlineCount !== wcCount) throw new Error(`index count ${index.newlineCount} != ${wcCount}`);
      }
      rows.push({ name: "index build (samples every 1024 lines)", unit: "GB/s", value: gbps(median(buildMs)), peer: "wc -l FILE", peerValue: gbps(wcMed), ratio: gbps(median(buildMs)) / gbps(wcMed), note: `${median(buildMs).toFixed(0)} ms` });
      rows.push({ name: "index memory", unit: "bytes/line", value: index!.memoryBytes / index!.lineCount, note: `${index!.memoryBytes} bytes for ${index!.lineCount} lines (${index!.sampleCount} samples)` });
      rows.push({ name: "  projected for 200 M lines", unit: "MB", value: ((index!.memoryBytes / index!.lineCount) * 200e6) / 1e6 });

      // 3. Time to first screen, goto.
      const firstMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = process.hrtime.bigint();
        const d = Document.openFile(file);
        const ix = new LineIndex(d);
        const building = ix.build();
        const lines = await getLines(d, ix, 1, 50);
        firstMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (lines.length !== 50) throw new Error("first screen is not 50 lines");
        ix.cancel();
        await building;
        ix.close();
        d.close();
      }
      const gotoMs: number[] = [];
      const rng = new Rng(2);
      for (let i = 0; i < 20; i++) {
        const n = rng.between(1, index!.lineCount - 50);
        const t0 = process.hrtime.bigint();
        const lines = await getLines(doc, index!, n, 50);
        gotoMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (lines.length !== 50 || lines[0]!.number !== n) throw new Error("goto returned the wrong lines");
      }
      index!.close();
      const cliFirst = median(Array.from({ length: RUNS }, () => timeProcess(process.execPath, [bin, "lines", file, "--line", "1", "--count", "50"]).ms));
      const lnav = findOnPath("lnav");
      let lnavMs: number | undefined;
      if (lnav) {
        lnavMs = median(Array.from({ length: RUNS }, () => timeProcess("sh", ["-c", 'lnav -n "$1" | head -n 50 > /dev/null', "sh", file]).ms));
      }
      rows.push({
        name: "first screen in-process (open + build started + 50 lines)",
        unit: "ms",
        value: median(firstMs),
        ...(lnavMs !== undefined ? { peer: "lnav -n FILE | head -n 50", peerValue: lnavMs, ratio: median(firstMs) / lnavMs } : { note: "lnav is not installed: no peer" }),
      });
      rows.push({
        name: "first screen, new process (hexmap lines --line 1 --count 50)",
        unit: "ms",
        value: cliFirst,
        ...(lnavMs !== undefined ? { peer: "lnav -n FILE | head -n 50", peerValue: lnavMs, ratio: cliFirst / lnavMs } : { note: "lnav is not installed: no peer" }),
      });
      rows.push({ name: "goto a random line + 50 lines (built index), median of 20", unit: "ms", value: median(gotoMs), note: `max ${Math.max(...gotoMs).toFixed(2)} ms` });
    } finally {
      doc.close();
    }
  } finally {
    if (!KEEP) {
      fs.rmSync(file, { force: true });
    }
  }

  const fmt = (x: number | undefined) => (x === undefined ? "" : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  const table = [
    ["measure", "unit", "hexmap", "peer", "peer value", "ratio", "note"],
    ...rows.map((r) => [r.name, r.unit, fmt(r.value), r.peer ?? "", fmt(r.peerValue), r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`, r.note ?? ""]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  console.log(`(${RUNS} runs each, median; ${(SIZE / GiB).toFixed(2)} GiB in the page cache; ${os.cpus().length} CPUs; ratio for GB/s rows: hexmap/peer (higher is better), for ms rows: hexmap/peer (lower is better))`);
  if (!findOnPath("lnav")) console.log("lnav is not installed (apt-get install lnav): the first-screen peer is missing");
  const out = writeResult("lines", { bench: "lines", date: new Date().toISOString(), size: SIZE, runs: RUNS, generated, cpus: os.cpus().length, node: process.version, rows });
  console.log(`wrote ${path.relative(root, out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
