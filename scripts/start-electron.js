#!/usr/bin/env node
// `npm start -- [FILE]`: fetches Electron's binary on first use, builds what is missing, then runs
// the Electron app. Where the binary cannot be downloaded (no access to its host) it says so and exits 1.
"use strict";

const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const exists = (p) => fs.existsSync(path.join(root, p));

function electronBinary() {
  try {
    delete require.cache[require.resolve("electron")];
    const p = require("electron"); // the package's index.js returns the binary's path
    return typeof p === "string" && fs.existsSync(p) ? p : null;
  } catch {
    return null; // "Electron failed to install correctly": no binary
  }
}

// The project's .npmrc sets ignore-scripts, so `npm ci` never runs Electron's postinstall (its
// download fails offline and would fail the whole install). Fetch the binary here, on first use,
// with Electron's own installer — on a machine that can reach its download host this just works.
let electron = electronBinary();
if (!electron) {
  let installer = null;
  try {
    installer = require.resolve("electron/install.js");
  } catch {
    /* the electron package itself is missing */
  }
  if (installer) {
    console.log("start: Electron's binary is not installed yet; downloading it (node_modules/electron/install.js)");
    const env = { ...process.env };
    delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
    spawnSync(process.execPath, [installer], { cwd: path.dirname(installer), stdio: "inherit", env });
    electron = electronBinary();
  }
}
if (!electron) {
  console.error("Electron's binary is not installed and could not be downloaded (no access to its download host?); use `npx hexmap serve FILE` instead");
  process.exit(1);
}

function step(label, cmd, args) {
  console.log(`start: ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`start: ${label} failed`);
    process.exit(r.status || 1);
  }
}

if (!exists("dist/app/main/main.js")) step("typescript", process.execPath, [path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc"), "-p", "tsconfig.json"]);
if (!exists("dist/app/preload/preload.js")) step("preload bundle", process.execPath, ["scripts/build-preload.js"]);
if (!exists("dist/renderer/index.html") && exists("scripts/build-renderer.js")) step("renderer bundle", process.execPath, ["scripts/build-renderer.js"]);

// npm runs scripts from the package folder: resolve file arguments against where the user was.
const userCwd = process.env.INIT_CWD || process.cwd();
const args = process.argv.slice(2).map((a) => (a.startsWith("-") ? a : path.resolve(userCwd, a)));

const child = spawn(electron, [root, ...args], { stdio: "inherit", windowsHide: false });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
