#!/usr/bin/env node
"use strict";
// The `hexmap` command. The CLI is TypeScript compiled to dist/ by `npm run build`.
const path = require("node:path");
const fs = require("node:fs");

const entry = path.join(__dirname, "..", "dist", "app", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write("hexmap: not built yet; run `npm run build` in " + path.join(__dirname, "..") + "\n");
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write("hexmap: internal error: " + (err && err.stack ? err.stack : String(err)) + "\n");
      process.exitCode = 1;
    },
  );
