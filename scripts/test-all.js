#!/usr/bin/env node
// `npm test`: the README's test command and what .ci/run runs. Builds everything, then runs
// every leg and prints one closing line: "total: N passed, N failed, N skipped".
//
//   1. native addon (node-gyp), TypeScript (tsc: build + typecheck), renderer + preload bundles
//   2. Linux leg: node:test over dist/native/test and dist/test (addon, engine, CLI, protocol, hosts)
//   3. win32 leg: the same addon/engine tests in Windows Node.js under Wine (scripts/test-wine.js)
//   3b. sanitizers: the addon tests against an ASan+UBSan build of the addon (scripts/sanitize.sh, Linux)
//   4. e2e: Playwright specs against the browser host in system Chromium (the Electron project
//      runs only where an Electron binary exists, and says so when skipped)
//
// Options: --only=linux,wine,sanitize,e2e (comma list) to run some legs; HEXMAP_SKIP_BUILD=1 to skip step 1.
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const outDir = path.join(root, "build", "test-results");
fs.mkdirSync(outDir, { recursive: true });

const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice(7).split(",")) : null;
const want = (leg) => !only || only.has(leg);

const totals = { passed: 0, failed: 0, skipped: 0 };
const legs = [];
let hardFailure = false;

function run(label, cmd, args, opts = {}) {
  const started = Date.now();
  process.stdout.write(`\n=== ${label}: ${cmd} ${args.join(" ")}\n`);
  const res = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...opts.env } });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const status = res.status ?? 1;
  process.stdout.write(`=== ${label}: exit ${status} in ${secs}s\n`);
  return status;
}

function count(label, passed, failed, skipped, status) {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  legs.push({ label, passed, failed, skipped, status });
  if (status !== 0 && failed === 0) {
    // A runner that failed without reporting a failed test (crash, zero tests) still fails.
    totals.failed += 1;
    legs[legs.length - 1].failed += 1;
  }
}

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith(".test.js")) out.push(p);
  }
  return out.sort();
}

// ---- 1. build -----------------------------------------------------------------------------
if (!process.env.HEXMAP_SKIP_BUILD) {
  const steps = [
    ["native addon", "npm", ["run", "--silent", "build:native"]],
    ["typescript", "npx", ["tsc", "-p", "tsconfig.json"]],
  ];
  if (fs.existsSync(path.join(root, "renderer", "tsconfig.json"))) {
    steps.push(["renderer typecheck", "npx", ["tsc", "-p", "renderer/tsconfig.json"]]);
  }
  if (fs.existsSync(path.join(root, "e2e", "tsconfig.json"))) {
    steps.push(["e2e typecheck", "npx", ["tsc", "-p", "e2e/tsconfig.json"]]);
  }
  if (fs.existsSync(path.join(root, "scripts", "build-renderer.js"))) {
    steps.push(["renderer bundle", "node", ["scripts/build-renderer.js"]]);
  }
  if (fs.existsSync(path.join(root, "scripts", "build-preload.js"))) {
    steps.push(["preload bundle", "node", ["scripts/build-preload.js"]]);
  }
  for (const [label, cmd, args] of steps) {
    if (run(`build: ${label}`, cmd, args) !== 0) {
      process.stdout.write(`\nBuild step "${label}" failed: no tests were run.\n`);
      process.stdout.write(`total: 0 passed, 1 failed, 0 skipped\n`);
      process.exit(1);
    }
  }
}

// ---- 2. Linux leg (node:test) ---------------------------------------------------------------
if (want("linux")) {
  const files = [...findTests(path.join(root, "dist", "native", "test")), ...findTests(path.join(root, "dist", "test"))];
  const tap = path.join(outDir, "node.tap");
  const status = run(`${process.platform} leg (node:test, ${files.length} files)`, process.execPath, [
    "--test",
    "--test-concurrency=2",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  const num = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, "m")) || [])[1] || 0);
  const passed = num("pass");
  const failed = num("fail") + num("cancelled");
  const skipped = num("skipped") + num("todo");
  if (passed === 0 && failed === 0) hardFailure = true;
  count(`${process.platform} leg (node:test)`, passed, failed, skipped, status);
}

// ---- 3. win32 leg under Wine ----------------------------------------------------------------
if (want("wine")) {
  const script = path.join(root, "scripts", "test-wine.js");
  if (process.platform === "win32") {
    legs.push({ label: "win32 leg (Wine)", passed: 0, failed: 0, skipped: 0, status: 0, note: "on Windows the Linux leg above is the native Windows run" });
  } else if (!fs.existsSync(script)) {
    count("win32 leg (Wine)", 0, 1, 0, 1);
    process.stdout.write("scripts/test-wine.js is missing\n");
  } else {
    const log = path.join(outDir, "wine-summary.json");
    const status = run("win32 leg (Wine)", process.execPath, [script, `--summary=${log}`]);
    let s = { passed: 0, failed: 0, skipped: 0 };
    try {
      s = JSON.parse(fs.readFileSync(log, "utf8"));
    } catch {
      /* counted as a failure below */
    }
    if (s.passed === 0 && s.failed === 0) hardFailure = true;
    count("win32 leg (Wine)", s.passed, s.failed, s.skipped, status);
  }
}

// ---- 3b. sanitizers (ASan + UBSan) -----------------------------------------------------------
if (want("sanitize") && process.platform === "linux") {
  const tap = path.join(outDir, "sanitize.tap");
  fs.rmSync(tap, { force: true });
  const status = run("sanitizers (ASan+UBSan addon tests)", "bash", ["scripts/sanitize.sh"]);
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  const last = (name) => {
    const all = [...text.matchAll(new RegExp(`^# ${name} (\\d+)$`, "gm"))];
    return all.length ? Number(all[all.length - 1][1]) : 0;
  };
  const passed = last("pass");
  const failed = last("fail") + last("cancelled");
  const skipped = last("skipped") + last("todo");
  if (passed === 0 && failed === 0) hardFailure = true;
  count("sanitizers (ASan+UBSan)", passed, failed, skipped, status);
}

// ---- 4. e2e (Playwright) --------------------------------------------------------------------
if (want("e2e")) {
  if (!fs.existsSync(path.join(root, "playwright.config.ts"))) {
    count("e2e (Playwright)", 0, 1, 0, 1);
    process.stdout.write("playwright.config.ts is missing\n");
  } else {
    const json = path.join(outDir, "e2e.json");
    const status = run("e2e (Playwright)", "npx", ["playwright", "test", "--reporter=list,json"], {
      env: { PLAYWRIGHT_JSON_OUTPUT_NAME: json },
    });
    let stats = { expected: 0, unexpected: 0, skipped: 0, flaky: 0 };
    try {
      stats = JSON.parse(fs.readFileSync(json, "utf8")).stats;
    } catch {
      /* counted as a failure below */
    }
    if (stats.expected === 0 && stats.unexpected === 0) hardFailure = true;
    count("e2e (Playwright)", stats.expected + stats.flaky, stats.unexpected, stats.skipped, status);
  }
}

// ---- summary --------------------------------------------------------------------------------
process.stdout.write("\n=== summary\n");
for (const l of legs) {
  process.stdout.write(
    `  ${l.label.padEnd(28)} ${String(l.passed).padStart(5)} passed ${String(l.failed).padStart(4)} failed ${String(l.skipped).padStart(4)} skipped${l.note ? `  (${l.note})` : ""}\n`,
  );
}
if (hardFailure) process.stdout.write("  a leg ran no test: that counts as a failure\n");
const failed = totals.failed + (hardFailure && totals.failed === 0 ? 1 : 0);
process.stdout.write(`total: ${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped\n`);
process.exit(failed === 0 ? 0 : 1);
