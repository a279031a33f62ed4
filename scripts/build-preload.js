#!/usr/bin/env node
// Type-checks and bundles the Electron preload (app/preload/preload.ts) into one CommonJS file,
// dist/app/preload/preload.js: a sandboxed preload can require only "electron" and a few
// built-ins, never a local file, so app/protocol/channels.ts is bundled in.
"use strict";

const { spawnSync } = require("node:child_process");
const path = require("node:path");

const root = path.resolve(__dirname, "..");

const tsc = spawnSync(process.execPath, [path.join(path.dirname(require.resolve("typescript/package.json")), "bin", "tsc"), "-p", path.join(root, "app", "preload", "tsconfig.json")], {
  cwd: root,
  stdio: "inherit",
});
if (tsc.status !== 0) {
  console.error("build-preload: type errors in app/preload");
  process.exit(1);
}

require("esbuild")
  .build({
    entryPoints: [path.join(root, "app", "preload", "preload.ts")],
    outfile: path.join(root, "dist", "app", "preload", "preload.js"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "es2022",
    external: ["electron"],
    sourcemap: true,
    logLevel: "warning",
  })
  .then(() => {
    console.log("build-preload: dist/app/preload/preload.js");
  })
  .catch(() => process.exit(1));
