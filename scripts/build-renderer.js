#!/usr/bin/env node
// Bundles the renderer (renderer/src/main.tsx) into dist/renderer/{index.html, app.js, app.css}.
// No CDN and no inline script or style: the page runs under CSP script-src 'self'; style-src 'self'.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
const outdir = path.join(root, "dist", "renderer");
const watch = process.argv.includes("--watch");
const dev = watch || process.argv.includes("--dev");

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: { app: "renderer/src/main.tsx" },
  outdir,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["chrome120", "edge120", "firefox120", "safari17"],
  jsx: "automatic",
  minify: !dev,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": JSON.stringify(dev ? "development" : "production") },
  tsconfig: "renderer/tsconfig.json",
};

function copyHtml() {
  fs.mkdirSync(outdir, { recursive: true });
  fs.copyFileSync(path.join(root, "renderer", "index.html"), path.join(outdir, "index.html"));
}

async function main() {
  fs.rmSync(outdir, { recursive: true, force: true });
  copyHtml();
  if (watch) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
    console.log(`build-renderer: watching, output in ${path.relative(root, outdir)}/`);
    return;
  }
  const started = Date.now();
  await esbuild.build(options);
  console.log(`build-renderer: ${path.relative(root, outdir)}/ in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
