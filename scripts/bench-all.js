#!/usr/bin/env node
// `npm run bench`: builds the TypeScript (unless HEXMAP_SKIP_BUILD=1), then runs every benchmark
// in BENCHES in order. Each bench prints its own table (with peers measured in the same run) and
// writes bench/results/<name>.json. Later benches (search, lines, save, UI) append to the list.
// Run some only with: npm run bench -- read,search
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

const BENCHES = [
  { name: "read", script: "dist/bench/read-bench.js", what: "random 4 KiB reads over 16 GiB; dump vs xxd" },
  { name: "search", script: "dist/bench/search-bench.js", what: "2 GiB log in the page cache: search --count vs rg/grep, newline count vs wc -l" },
  { name: "lines", script: "dist/bench/lines-bench.js", what: "2 GiB log: hexmap lines vs wc -l, index build + bytes/line, first screen vs lnav -n" },
  { name: "save", script: "dist/bench/save-bench.js", what: "10 000 scattered 1-byte edits saved: 16 GiB vs 1 GiB sparse, pwrite+fsync peer" },
  { name: "edit", script: "dist/bench/edit-bench.js", what: "insert at 8 GiB + repaint, reads after 100k inserts, 1M inserts memory, 4 GiB rewrite / in-place save vs cp+sync" },
  { name: "hash", script: "dist/bench/hash-bench.js", what: "SHA-256 of 1 GiB in page cache: hexmap hash vs sha256sum" },
  { name: "load", script: "dist/bench/load-bench.js", what: "20 WebSocket clients x 30 s random 64 KiB reads of a 64 GiB file (browser host, loopback): p50/p99, req/s" },
  { name: "ui", script: "dist/bench/ui-bench.js", what: "Go to latency and scroll frame times in Chromium (browser host, 64 GiB)" },
  { name: "struct", script: "dist/bench/struct-bench.js", what: "Kaitai: compile of a 300-line .ksy, ELF of 280 MiB (table at the end) vs readelf, 1M-entry repeat capped" },
];

const only = process.argv[2] ? new Set(process.argv[2].split(",")) : null;

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  return r.status ?? 1;
}

if (process.env.HEXMAP_SKIP_BUILD !== "1") {
  const tsc = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "tsc.cmd" : "tsc");
  if (sh(tsc, ["-p", "tsconfig.json"]) !== 0) {
    console.error("bench: TypeScript build failed");
    process.exit(1);
  }
}
if (!fs.existsSync(path.join(root, "native", "build", "Release", "hexmap.node")) && !process.env.HEXMAP_NATIVE) {
  console.error("bench: the native addon is not built; run npm run build:native (or npm run build)");
  process.exit(1);
}

let failed = 0;
for (const bench of BENCHES) {
  if (only && !only.has(bench.name)) continue;
  console.log(`\n=== bench ${bench.name}: ${bench.what}`);
  const status = sh(process.execPath, [path.join(root, bench.script)]);
  if (status !== 0) {
    console.error(`=== bench ${bench.name}: exit ${status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
