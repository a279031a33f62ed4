// Kill -9 trials for saves that change the size (app/engine/save-resize.ts). For each strategy a
// child process (save-resize-crash-child.ts) runs a scenario's save and is killed with SIGKILL at
// a named kill point (HEXMAP_CRASH_AT=<step>:<k>) or after a random delay; then the file is
// recovered and must be byte-for-byte ALL old or ALL new — never mixed — with no journal and no
// temp file left. The kill points of each scenario are found first by running the same save
// in-process with a hook that records them (small chunks and batches, so there are many), and
// the trials cover every kind of point and a spread of indices.
//
// rewrite: no journal ever; a kill before the rename leaves the old file (and a temp that
// recovery removes), after it the new file. in place: a kill before the cursor says "started"
// may go back or forward (alternating); after it, forward must give the new content, and back is
// refused. Some trials also kill the RECOVERY (a second child) part way and recover again.
//
// As in test/edit/crash.test.ts: SIGKILL ends the process, not the kernel (its page cache
// survives); a power cut is what the fsync ordering is for, and is not simulated.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { HexmapError } from "../../app/engine/errors";
import { journalPathFor, journalTempPathFor } from "../../app/engine/journal";
import { recoverFile, recoveryState } from "../../app/engine/save";
import { saveResized, setResizeFaultHook, type ResizeStrategy } from "../../app/engine/save-resize";
import { Rng, cleanupFixtures, makeTempDir } from "../fixtures";
import { crashScenario, expectedContent } from "./save-resize-crash-child";

after(cleanupFixtures);
const CHILD = path.join(__dirname, "save-resize-crash-child.js");
const OPTS = { chunkSize: 4096, batchBytes: 16384 };
const dir = makeTempDir("hexmap-resize-crash-");
const rng = new Rng(20260407);

interface Run {
  paused: boolean;
  done: boolean;
  code: number | null;
  stderr: string;
}

function runChild(args: object, crashAt: string | null, delayMs: number | null): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.HEXMAP_CRASH_AT;
    if (crashAt) env.HEXMAP_CRASH_AT = crashAt;
    const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    let killing = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`crash child timed out (stdout: ${out}, stderr: ${stderr})`));
    }, 30_000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (stderr += d));
    child.stdout.on("data", (d: string) => {
      out += d;
      if (!killing && out.includes("PAUSED")) {
        killing = true;
        child.kill("SIGKILL");
      }
      if (!killing && delayMs !== null && out.includes("SAVING")) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ paused: out.includes("PAUSED"), done: out.includes("DONE"), code, stderr });
    });
  });
}

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Every kill point of a scenario's save, in order, found by running it here with a recording hook. */
async function killPoints(scenario: string, strategy: ResizeStrategy): Promise<string[]> {
  const { old, segments } = crashScenario(scenario);
  const f = path.join(dir, `probe-${scenario}-${strategy}.bin`);
  fs.writeFileSync(f, old);
  const points: string[] = [];
  setResizeFaultHook((step, k) => points.push(`${step}:${k}`));
  try {
    await saveResized(f, segments, { strategy, ...OPTS });
  } finally {
    setResizeFaultHook(null);
  }
  assert.ok(fs.readFileSync(f).equals(expectedContent(old, segments)), `${scenario}: the probe save is right`);
  fs.rmSync(f);
  return points;
}

/** `budget` points (at least one of every kind: its first, last or a random one, in turn), then a random spread. */
function choose(points: string[], budget: number): string[] {
  const byKind = new Map<string, string[]>();
  for (const p of points) {
    const k = p.split(":")[0]!;
    byKind.set(k, [...(byKind.get(k) ?? []), p]);
  }
  const picked = new Set<string>();
  let turn = 0;
  for (const list of byKind.values()) {
    const which = turn++ % 3;
    picked.add(list[which === 0 ? 0 : which === 1 ? list.length - 1 : rng.below(list.length)]!);
  }
  const rest = points.filter((p) => !picked.has(p));
  while (picked.size < budget && rest.length > 0) picked.add(rest.splice(rng.below(rest.length), 1)[0]!);
  return points.filter((p) => picked.has(p));
}

function classify(now: Buffer, oldBuf: Buffer, newBuf: Buffer): "old" | "new" | "mixed" {
  if (now.equals(newBuf)) return "new";
  if (now.equals(oldBuf)) return "old";
  return "mixed";
}

function strays(file: string): string[] {
  const base = path.basename(file);
  return fs.readdirSync(path.dirname(file)).filter((x) => x.startsWith(`.${base}.hexmap-`) || x.startsWith(`${base}.hexmap-journal`));
}

interface Trial {
  strategy: ResizeStrategy;
  scenario: string;
  at: string | null;
  delay: number | null;
  /** Kill the recovery too, at this recovery kill point index (of its own list). */
  killRecovery?: boolean;
}

const BEFORE_RENAME = new Set(["rw-temp", "rw-copy", "rw-sync"]);
const JOURNAL_NOT_THERE = new Set(["ip-journal-write", "ip-journal-fsync"]);
const NOT_STARTED = new Set(["ip-journal-renamed", "ip-journal-durable"]);

interface Outcome {
  trial: Trial;
  before: string;
  result: "old" | "new";
}

let trialNo = 0;
async function runTrial(t: Trial, outcomes: Outcome[]): Promise<void> {
  const no = ++trialNo;
  const { old, segments } = crashScenario(t.scenario);
  const want = expectedContent(old, segments);
  const file = path.join(dir, `t${no}.bin`);
  fs.writeFileSync(file, old);
  const label = `${t.strategy}/${t.scenario}/${t.at ?? `delay ${t.delay} ms`}${t.killRecovery ? "+recovery killed" : ""}`;
  const run = await runChild({ file, scenario: t.scenario, strategy: t.strategy, ...OPTS, mode: "save" }, t.at, t.delay);
  if (run.code !== null && run.code !== 0) assert.fail(`child failed (${label}): ${run.stderr}`);
  if (t.at) assert.ok(run.paused, `${label}: the child reached its kill point`);
  const step = t.at?.split(":")[0];

  let state = recoveryState(file);
  const before = classify(fs.readFileSync(file), old, want);
  if (t.strategy === "rewrite") {
    assert.equal(state.journal, "none", `${label}: a rewrite never leaves a journal`);
    assert.notEqual(before, "mixed", `${label}: mixed file after a rewrite was killed`);
    if (step) {
      assert.equal(before, BEFORE_RENAME.has(step) ? "old" : "new", `${label}: state at the kill point`);
      if (BEFORE_RENAME.has(step)) assert.equal(state.staleSaveTemps?.length, 1, `${label}: the dead child's temp file is seen`);
    }
  } else if (state.journal === "valid") {
    assert.equal(state.version, 2, label);
    assert.notEqual(state.fileState, "foreign", label);
    if (step && NOT_STARTED.has(step)) assert.equal(state.canGoBack, true, `${label}: nothing written yet`);
    if (t.killRecovery && !state.canGoBack) {
      // Kill a recovery part way, at one of its own kill points, then recover again.
      const copy = path.join(dir, `t${no}-probe.bin`);
      fs.copyFileSync(file, copy);
      fs.copyFileSync(journalPathFor(file), journalPathFor(copy));
      const points: string[] = [];
      setResizeFaultHook((s, k) => points.push(`${s}:${k}`));
      try {
        await recoverFile(copy, "forward");
      } finally {
        setResizeFaultHook(null);
      }
      assert.ok(fs.readFileSync(copy).equals(want), `${label}: probe recovery`);
      fs.rmSync(copy);
      const at = points[rng.below(points.length)]!;
      const rec = await runChild({ file, mode: "recover" }, at, null);
      if (rec.code !== null && rec.code !== 0) assert.fail(`recover child failed (${label}): ${rec.stderr}`);
      assert.ok(rec.paused, `${label}: the recovery child reached ${at}`);
      state = recoveryState(file);
    }
  } else {
    assert.notEqual(state.journal, "invalid", `${label}: a journal under its own name is always complete`);
    assert.notEqual(before, "mixed", `${label}: no journal but a mixed file`);
    if (step) assert.equal(before, JOURNAL_NOT_THERE.has(step) ? "old" : "new", `${label}: no journal at this point`);
  }

  let direction: "forward" | "back" = "forward";
  if (state.journal === "valid") {
    if (state.canGoBack) direction = no % 2 === 0 ? "back" : "forward";
    else {
      const e = await recoverFile(file, "back").catch((x: HexmapError) => x);
      assert.equal((e as HexmapError).code, "ENOTSUP", `${label}: back refused once started`);
    }
  }
  const res = await recoverFile(file, direction);
  const result = classify(fs.readFileSync(file), old, want);
  assert.notEqual(result, "mixed", `${label}: mixed after recovery (${JSON.stringify(state)}, ${JSON.stringify(res)})`);
  if (state.journal === "valid") assert.equal(result, direction === "forward" ? "new" : "old", `${label}: ${direction} recovery`);
  else assert.equal(result, before, `${label}: nothing to recover, nothing changed`);
  assert.ok(!fs.existsSync(journalPathFor(file)) && !fs.existsSync(journalTempPathFor(file)), `${label}: journal deleted`);
  assert.deepEqual(strays(file), [], `${label}: no temp file left`);
  outcomes.push({ trial: t, before: `${state.journal}${state.version ? `v${state.version}` : ""}/${state.fileState ?? before}`, result: result as "old" | "new" });
  fs.rmSync(file);
}

function report(strategy: string, outcomes: Outcome[]): void {
  const table = new Map<string, Map<string, number>>();
  for (const o of outcomes) {
    const key = o.trial.at ? o.trial.at.split(":")[0]! + (o.trial.killRecovery ? "+rec" : "") : "random delay";
    const row = table.get(key) ?? new Map<string, number>();
    const cell = `${o.before} → ${o.result}`;
    row.set(cell, (row.get(cell) ?? 0) + 1);
    table.set(key, row);
  }
  const lines = [`# ${strategy}: ${outcomes.length} kill trials, ${outcomes.filter((o) => o.result === "old").length} all-old, ${outcomes.filter((o) => o.result === "new").length} all-new, 0 mixed`];
  for (const [key, row] of table) lines.push(`#   ${key.padEnd(20)} ${[...row].map(([c, k]) => `${k}× ${c}`).join("; ")}`);
  // eslint-disable-next-line no-console
  console.log(lines.join("\n"));
}

const skip = process.platform === "win32" ? "kill -9 of a child mid-save is POSIX-only here" : false;

test("rewrite: SIGKILL at every kind of kill point → the file is all old or all new, no temp left after recovery", { skip }, async () => {
  const trials: Trial[] = [];
  for (const [scenario, budget] of [["mixed", 27], ["grow-small-shift", 22]] as const) {
    for (const at of choose(await killPoints(scenario, "rewrite"), budget)) trials.push({ strategy: "rewrite", scenario, at, delay: null });
  }
  for (let i = 0; i < 6; i++) trials.push({ strategy: "rewrite", scenario: "mixed", at: null, delay: rng.below(30) });
  const outcomes: Outcome[] = [];
  await pool(trials, 2, (t) => runTrial(t, outcomes));
  report("rewrite", outcomes);
  assert.ok(outcomes.length >= 50);
});

test("in place: SIGKILL at every kind of kill point (and during recovery) → recover forward gives exactly the new content", { skip }, async () => {
  const trials: Trial[] = [];
  const scenarios: [string, number][] = [["grow-small-shift", 16], ["shrink", 14], ["grow-big-shift", 13], ["mixed", 16], ["reorder", 13]];
  const kinds = new Set<string>();
  for (const [scenario, budget] of scenarios) {
    const points = await killPoints(scenario, "in-place");
    for (const p of points) kinds.add(p.split(":")[0]!);
    for (const at of choose(points, budget)) trials.push({ strategy: "in-place", scenario, at, delay: null });
    // Kill the save mid-move, then kill its recovery too.
    const mid = points.filter((p) => p.startsWith("ip-chunk") || p.startsWith("ip-write"));
    for (let i = 0; i < 1 && mid.length > 0; i++) trials.push({ strategy: "in-place", scenario, at: mid[rng.below(mid.length)]!, delay: null, killRecovery: true });
  }
  for (const k of ["ip-stage", "ip-staged", "ip-chunk", "ip-write", "ip-resize", "ip-step", "ip-cursor", "ip-started", "ip-complete"]) assert.ok(kinds.has(k), `scenarios reach ${k}`);
  for (let i = 0; i < 6; i++) trials.push({ strategy: "in-place", scenario: i % 2 ? "mixed" : "grow-small-shift", at: null, delay: rng.below(40) });
  const outcomes: Outcome[] = [];
  // Trials that probe a recovery in this process install the (process-wide) hook: run those alone.
  await pool(trials.filter((t) => !t.killRecovery), 2, (t) => runTrial(t, outcomes));
  for (const t of trials.filter((x) => x.killRecovery)) await runTrial(t, outcomes);
  report("in-place", outcomes);
  assert.ok(outcomes.length >= 50);
});
