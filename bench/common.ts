// Helpers the benchmarks share: statistics, finding peer tools, timing a peer command, and writing
// bench/results/NAME.json. Not a benchmark itself.

import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root (bench/*.js runs from dist/bench/). */
export const root = path.resolve(__dirname, "..", "..");

/** One row of a hexmap-vs-peer table. */
export interface Row {
  name: string;
  unit: string;
  value: number;
  peer?: string;
  peerValue?: number;
  /** value / peerValue, or its inverse where a bench says so. */
  ratio?: number;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (nearest rank) of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** spawnSync with its wall time in nanoseconds (process start included). */
export function spawnTimed(cmd: string, args: string[], options: SpawnSyncOptionsWithStringEncoding): { ns: bigint; r: SpawnSyncReturns<string> } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, options);
  return { ns: process.hrtime.bigint() - t0, r };
}

/** Writes `json` to bench/results/NAME.json (pretty, with a final newline); returns the path. */
export function writeResult(name: string, json: unknown): string {
  const out = path.join(root, "bench", "results", `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(json, null, 2) + "\n");
  return out;
}
