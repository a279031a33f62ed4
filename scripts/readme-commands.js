#!/usr/bin/env node
// Prints one of the README's two newcomer commands, read from the README itself so .ci/run can
// replay them verbatim (they cannot drift from what a newcomer copies):
//   node scripts/readme-commands.js run    the ```sh block after "Run the app on a file"
//   node scripts/readme-commands.js test   the ```sh block after "Run the tests"
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const MARKERS = { run: "Run the app on a file", test: "Run the tests" };

function commandAfter(readme, marker) {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no paragraph starting "${marker}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`README.md has no \`\`\`sh block after "${marker}"`);
  const lines = block[1].split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  if (lines.length !== 1) throw new Error(`the block after "${marker}" must hold exactly one command line, found ${lines.length}`);
  return lines[0];
}

const which = process.argv[2];
if (!Object.hasOwn(MARKERS, which)) {
  process.stderr.write("usage: node scripts/readme-commands.js run|test\n");
  process.exit(2);
}
try {
  const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  process.stdout.write(commandAfter(readme, MARKERS[which]) + "\n");
} catch (err) {
  process.stderr.write(`readme-commands: ${err.message}\n`);
  process.exit(1);
}
