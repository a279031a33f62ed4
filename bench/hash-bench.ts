// Hash benchmark (issue 8). Not a test: it asserts nothing about time.
//   SHA-256 of a 1 GiB file of random bytes (a real file, not sparse) that sits in the page cache:
//   `hexmap hash FILE` against `sha256sum FILE`, each run as a fresh process (startup included),
//   interleaved, median of BENCH_RUNS (default 3); digests checked identical. Also the engine
//   alone (hashRange in this process) and MD5/SHA-1/CRC-32 in one pass for reference.
// Prints a table and writes bench/results/hash.json.
//
// Options (env): BENCH_RUNS (default 3), BENCH_HASH_MIB (default 1024).

import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Document } from "../app/engine/document";
import { hashRange } from "../app/engine/hash";
import { MiB, cleanupFixtures, makeTempDir } from "../test/fixtures";
import { type Row, median, root, spawnTimed, writeResult } from "./common";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = Number(process.env.BENCH_HASH_MIB ?? 1024) * MiB;

function timed(cmd: string, args: string[]): { seconds: number; stdout: string; status: number | null } {
  const { ns, r } = spawnTimed(cmd, args, { encoding: "latin1", maxBuffer: 16 * MiB });
  const seconds = Number(ns) / 1e9;
  if (r.error) throw r.error;
  return { seconds, stdout: r.stdout, status: r.status };
}

/** `hexmap hash` through bin/hexmap.js when the CLI dispatches it, else runHash directly. */
function hexmapCommand(): { cmd: string; args: string[]; via: string } {
  const bin = path.join(root, "bin", "hexmap.js");
  const probe = spawnSync(process.execPath, [bin, "hash", "--help"], { encoding: "latin1" });
  if (probe.status === 0) return { cmd: process.execPath, args: [bin, "hash"], via: "bin/hexmap.js hash" };
  const mod = path.join(root, "dist", "app", "cli", "hash.js");
  const script = `require(${JSON.stringify(mod)}).runHash(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  return { cmd: process.execPath, args: ["-e", script, "--"], via: "runHash (hash not yet dispatched by bin/hexmap.js)" };
}

async function main(): Promise<void> {
  const dir = makeTempDir("hexmap-bench-");
  const file = path.join(dir, "random-1g.bin");
  const rows: Row[] = [];
  try {
    // A real file: random bytes written out, then read once so both tools find it in the cache.
    const fd = fs.openSync(file, "w");
    const buf = Buffer.allocUnsafe(64 * MiB);
    for (let at = 0; at < SIZE; at += buf.length) {
      randomFillSync(buf);
      fs.writeSync(fd, buf, 0, Math.min(buf.length, SIZE - at), at);
    }
    fs.closeSync(fd);
    const gb = SIZE / 1e9;
    const hexmap = hexmapCommand();
    const sha = spawnSync("sha256sum", ["--version"]).status === 0;
    const warm = fs.openSync(file, "r");
    for (let at = 0; at < SIZE; at += buf.length) fs.readSync(warm, buf, 0, buf.length, at);
    fs.closeSync(warm);

    const mine: number[] = [];
    const theirs: number[] = [];
    const startup: number[] = [];
    let identical = true;
    for (let r = 0; r < RUNS; r++) {
      const m = timed(hexmap.cmd, [...hexmap.args, file]);
      if (m.status !== 0) throw new Error(`hexmap hash failed: ${m.stdout}`);
      mine.push(m.seconds);
      if (sha) {
        const s = timed("sha256sum", [file]);
        theirs.push(s.seconds);
        if (s.stdout !== m.stdout) identical = false;
      }
      startup.push(timed(process.execPath, ["-e", "0"]).seconds);
    }
    const name = `SHA-256 of 1 GiB in page cache (median of ${RUNS})`;
    if (sha) {
      rows.push({ name, unit: "GB/s", value: gb / median(mine), peer: "sha256sum", peerValue: gb / median(theirs), ratio: median(theirs) / median(mine), note: identical ? "digests identical" : "DIGESTS DIFFER" });
    } else {
      rows.push({ name, unit: "GB/s", value: gb / median(mine), note: "sha256sum not installed" });
    }
    rows.push({ name: "  hexmap hash wall time", unit: "s", value: median(mine), ...(sha ? { peer: "sha256sum", peerValue: median(theirs) } : {}) });
    rows.push({ name: "  of which node startup (node -e 0)", unit: "s", value: median(startup) });

    // The engine alone, in this process: SHA-256, then all four in one pass.
    const doc = Document.openFile(file);
    try {
      for (const algorithms of [["sha256"], ["crc32", "md5", "sha1", "sha256"]] as const) {
        const times: number[] = [];
        for (let r = 0; r < RUNS; r++) {
          const t = process.hrtime.bigint();
          await hashRange(doc, { algorithms });
          times.push(Number(process.hrtime.bigint() - t) / 1e9);
        }
        rows.push({ name: `engine hashRange ${algorithms.join("+")} (in process)`, unit: "GB/s", value: gb / median(times) });
      }
    } finally {
      doc.close();
    }

    console.log(`hexmap: ${hexmap.via}; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? "?"}; load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) {
      const peer = r.peer ? `   ${r.peer}: ${r.peerValue!.toFixed(3)} ${r.unit}` : "";
      const ratio = r.ratio !== undefined ? `   ratio ${r.ratio.toFixed(2)}× (speed, hexmap / ${r.peer})` : "";
      console.log(`${r.name.padEnd(w)}  ${r.value.toFixed(3)} ${r.unit}${peer}${ratio}${r.note ? `   (${r.note})` : ""}`);
    }
    const json = { bench: "hash", date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), via: hexmap.via, runs: RUNS, sizeBytes: SIZE, rows };
    writeResult("hash", json);
  } finally {
    cleanupFixtures();
  }
}

main().catch((err) => {
  console.error(err);
  cleanupFixtures();
  process.exitCode = 1;
});
