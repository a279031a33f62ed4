// Search benchmark (issue 5), with the newline count of issue 6. Not a test: it asserts nothing
// about time.
//   On a 2 GiB pseudo-log in the page cache (made once in os.tmpdir(), kept for later runs):
//   1. `hexmap search FILE --count --text LITERAL` vs `rg -c -F LITERAL FILE` vs
//      `grep -c -F LITERAL FILE` — the literal occurs at most once per line, so rg's and grep's
//      matching-line counts and our match count are the same number (checked);
//   2. the addon's newline count (countNewlines, what `hexmap lines FILE` will run) vs `wc -l`.
//   Each command runs BENCH_RUNS times (default 3), interleaved, under /usr/bin/time -f %M for
//   peak RSS; the table gives the median wall time, GB/s and the ratio to the peer (rg, wc).
//   Rows marked "in-process" time the same engine calls inside this process: the scan alone,
//   without Node's startup (measured separately and shown above the table).
// Prints a table and writes bench/results/search.json.
//
// Env: BENCH_RUNS (default 3), BENCH_SEARCH_FILE (use another file), BENCH_DELETE=1 (remove the
// generated file afterwards).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { countNewlines, startSearch } from "../app/engine/search";
import { GiB, MiB, Rng } from "../test/fixtures";
import { findOnPath, median, root, spawnTimed, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = 2 * GiB;
const LITERAL = "E_HEXMAP_7731";
const FILE = process.env.BENCH_SEARCH_FILE ?? path.join(os.tmpdir(), "hexmap-bench-search-2GiB.log");
const STAMP = `${FILE}.v1`; // marks a complete file made by this version of the generator

/** Seeded pseudo-log lines; one line in ~5000 is an error carrying the literal (once). */
function generate(file: string): void {
  const rng = new Rng(2026);
  const levels = ["INFO ", "DEBUG", "WARN ", "TRACE"];
  const fd = fs.openSync(file, "w");
  const started = Date.now();
  try {
    let written = 0;
    const chunk: string[] = [];
    let chunkBytes = 0;
    while (written < SIZE) {
      const r = rng.uint32();
      const time = `2026-11-24T${String(r % 24).padStart(2, "0")}:${String((r >>> 5) % 60).padStart(2, "0")}:${String((r >>> 11) % 60).padStart(2, "0")}.${String((r >>> 17) % 1000).padStart(3, "0")}Z`;
      const line =
        r % 5000 === 0
          ? `${time} ERROR [worker-${r % 32}] checksum mismatch code=${LITERAL} block=${rng.uint32()}\n`
          : `${time} ${levels[r % 4]} [worker-${r % 32}] request id=${rng.uint32().toString(16).padStart(8, "0")} took ${r % 997}ms path=/api/v1/items/${rng.below(100000)}\n`;
      if (written + chunkBytes + line.length > SIZE) break;
      chunk.push(line);
      chunkBytes += line.length;
      if (chunkBytes >= 4 * MiB) {
        written += fs.writeSync(fd, chunk.join(""));
        chunk.length = 0;
        chunkBytes = 0;
      }
    }
    if (chunk.length) written += fs.writeSync(fd, chunk.join(""));
    // Pad to exactly SIZE with a last line of filler.
    if (written < SIZE) {
      const pad = "#".repeat(SIZE - written - 1) + "\n";
      written += fs.writeSync(fd, pad);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(STAMP, `${SIZE}\n`);
  console.log(`  generated ${FILE} (${(SIZE / GiB).toFixed(0)} GiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

interface Timed {
  ms: number;
  rssKiB: number | undefined;
  stdout: string;
  status: number | null;
}

const timeBin = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Runs a command with its output captured; peak RSS from /usr/bin/time -f %M when there is one. */
function run(cmd: string, args: string[]): Timed {
  const argv = timeBin ? ["-f", "%M", cmd, ...args] : args;
  const { ns, r } = spawnTimed(timeBin ?? cmd, argv, { encoding: "utf8", maxBuffer: 16 * MiB });
  const ms = Number(ns) / 1e6;
  let rssKiB: number | undefined;
  if (timeBin) {
    const lines = r.stderr.trim().split("\n");
    const last = Number(lines[lines.length - 1]);
    if (Number.isFinite(last)) rssKiB = last;
  }
  return { ms, rssKiB, stdout: r.stdout, status: r.status };
}

interface Tool {
  name: string;
  cmd: string;
  args: string[];
  /** The number the command prints, parsed. */
  result: (stdout: string) => number;
  runs: Timed[];
}

interface Row {
  group: string;
  tool: string;
  medianMs: number;
  runsMs: number[];
  gbPerS: number;
  peakRssMiB: number | undefined;
  result: number;
  ratioToPeer?: number;
  peer?: string;
}

async function main(): Promise<void> {
  const rg = findOnPath("rg");
  const grep = findOnPath("grep");
  const wc = findOnPath("wc");
  const cat = findOnPath("cat");
  const hexmapBin = path.join(root, "bin", "hexmap.js");
  const self = path.join(__dirname, "search-bench.js");

  if (!(fs.existsSync(FILE) && fs.existsSync(STAMP) && fs.statSync(FILE).size === SIZE) && !process.env.BENCH_SEARCH_FILE) {
    console.log(`  generating the 2 GiB test log (once; kept at ${FILE})`);
    generate(FILE);
  }
  const size = fs.statSync(FILE).size;
  // Into the page cache: every tool then reads memory, not disk.
  if (cat) spawnSync(cat, [FILE], { stdio: ["ignore", "ignore", "inherit"] });

  const first = (s: string) => Number(s.trim().split(/\s+/)[0]);
  const groups: Array<{ group: string; peer: string; tools: Tool[] }> = [
    {
      group: `search --count "${LITERAL}"`,
      peer: "rg -c -F",
      tools: [
        { name: "hexmap search --count --text", cmd: process.execPath, args: [hexmapBin, "search", FILE, "--count", "--text", LITERAL], result: first, runs: [] },
        ...(rg ? [{ name: "rg -c -F", cmd: rg, args: ["-c", "-F", LITERAL, FILE], result: first, runs: [] }] : []),
        ...(grep ? [{ name: "grep -c -F", cmd: grep, args: ["-c", "-F", LITERAL, FILE], result: first, runs: [] }] : []),
      ],
    },
    {
      group: "newline count (wc -l)",
      peer: "wc -l",
      tools: [
        { name: "hexmap countNewlines", cmd: process.execPath, args: [self, "--count-lines", FILE], result: first, runs: [] },
        ...(wc ? [{ name: "wc -l", cmd: wc, args: ["-l", FILE], result: first, runs: [] }] : []),
      ],
    },
  ];
  const startup: number[] = [];
  const load0 = os.loadavg()[0]!;
  for (let i = 0; i < RUNS; i++) {
    for (const g of groups) for (const t of g.tools) t.runs.push(run(t.cmd, t.args));
    startup.push(run(process.execPath, ["-e", "0"]).ms);
  }
  // The scans alone, in this process (the engine calls the CLI makes, minus process startup).
  const inProcess = { search: [] as number[], lines: [] as number[], searchResult: 0, linesResult: 0 };
  for (let i = 0; i < RUNS; i++) {
    let s = process.hrtime.bigint();
    const r = await startSearch({ path: FILE }, { pattern: { kind: "text", text: LITERAL }, direction: "all", maxHits: 0 });
    inProcess.search.push(Number(process.hrtime.bigint() - s) / 1e6);
    inProcess.searchResult = r.total;
    s = process.hrtime.bigint();
    const l = await countNewlines({ path: FILE });
    inProcess.lines.push(Number(process.hrtime.bigint() - s) / 1e6);
    inProcess.linesResult = l.newlines;
  }
  const load1 = os.loadavg()[0]!;

  const rows: Row[] = [];
  for (const g of groups) {
    const peer = g.tools.find((t) => t.name === g.peer);
    const peerMs = peer ? median(peer.runs.map((r) => r.ms)) : undefined;
    const results = new Set<number>();
    for (const t of g.tools) {
      const bad = t.runs.find((r) => r.status !== 0);
      if (bad) throw new Error(`${t.name} exited with ${bad.status}: ${bad.stdout}`);
      const values = new Set(t.runs.map((r) => t.result(r.stdout)));
      if (values.size !== 1) throw new Error(`${t.name} printed different results: ${[...values].join(", ")}`);
      const result = [...values][0]!;
      results.add(result);
      const medianMs = median(t.runs.map((r) => r.ms));
      const rss = t.runs.map((r) => r.rssKiB).filter((x): x is number => x !== undefined);
      rows.push({
        group: g.group,
        tool: t.name,
        medianMs,
        runsMs: t.runs.map((r) => Math.round(r.ms * 10) / 10),
        gbPerS: size / (medianMs / 1000) / 1e9,
        peakRssMiB: rss.length ? Math.max(...rss) / 1024 : undefined,
        result,
        ...(peerMs !== undefined ? { ratioToPeer: peerMs / medianMs, peer: g.peer } : {}),
      });
    }
    // The in-process row of this group.
    const own = g === groups[0] ? { runs: inProcess.search, result: inProcess.searchResult, tool: "engine startSearch (in-process)" } : { runs: inProcess.lines, result: inProcess.linesResult, tool: "engine countNewlines (in-process)" };
    results.add(own.result);
    const ownMs = median(own.runs);
    rows.push({
      group: g.group,
      tool: own.tool,
      medianMs: ownMs,
      runsMs: own.runs.map((x) => Math.round(x * 10) / 10),
      gbPerS: size / (ownMs / 1000) / 1e9,
      peakRssMiB: undefined,
      result: own.result,
      ...(peerMs !== undefined ? { ratioToPeer: peerMs / ownMs, peer: g.peer } : {}),
    });
    if (results.size !== 1) throw new Error(`${g.group}: the tools disagree: ${[...results].join(" vs ")}`);
  }

  const fmt = (x: number | undefined, d = 2) => (x === undefined ? "-" : x.toFixed(d));
  console.log(`\nfile ${FILE}: ${(size / GiB).toFixed(2)} GiB in the page cache; median of ${RUNS} runs (interleaved)`);
  console.log(`host: ${os.cpus().length} CPUs, load average ${load0.toFixed(1)} → ${load1.toFixed(1)} (shared machine: times are noisy)`);
  console.log(`node startup (node -e 0), included in hexmap's times: ${fmt(median(startup), 0)} ms\n`);
  const header = ["what", "tool", "result", "median ms", "runs ms", "GB/s", "× peer", "peak RSS MiB"];
  const table = rows.map((r) => [
    r.group,
    r.tool,
    String(r.result),
    fmt(r.medianMs, 0),
    r.runsMs.map((x) => x.toFixed(0)).join("/"),
    fmt(r.gbPerS),
    r.ratioToPeer === undefined ? "-" : `${fmt(r.ratioToPeer)} (${r.peer})`,
    fmt(r.peakRssMiB, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(line(row));

  writeResult("search", {
    bench: "search",
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    loadAverage: [load0, load1],
    file: FILE,
    fileSize: size,
    literal: LITERAL,
    runs: RUNS,
    nodeStartupMs: median(startup),
    rows,
  });
  console.log(`\nwrote bench/results/search.json`);
  if (process.env.BENCH_DELETE === "1") {
    fs.rmSync(FILE, { force: true });
    fs.rmSync(STAMP, { force: true });
  }
}

// Child mode: count newlines through the engine, print the count (the `hexmap lines` stand-in).
if (process.argv[2] === "--count-lines") {
  void countNewlines({ path: process.argv[3]! }).then(
    (r) => process.stdout.write(`${r.newlines}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    },
  );
} else {
  void main().catch((err: Error) => {
    console.error(err.stack ?? String(err));
    process.exitCode = 1;
  });
}
