// A second process for the follow test: appends lines to a log, then rotates it the way logrotate
// does (rename, then create a new file), then appends to the new file. It waits for the test's
// go-ahead (a line on stdin) between phases, so each phase is seen on its own.
//
//   node follow-writer.js FILE
//
// stdin commands, one per line: "append N" appends lines N..; "rotate" renames FILE to FILE.1 and
// creates FILE empty; "truncate" truncates FILE to 0 in place; "exit". Each answers "ok" on stdout.

import * as fs from "node:fs";
import * as readline from "node:readline";

function line(i: number, gen: string): string {
  return `${gen} line ${i} ${"x".repeat(i % 37)}\n`;
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    // Not a test file: when a test runner picks this file up by its folder, do nothing.
    process.stdout.write("usage: follow-writer FILE\n");
    return;
  }
  let gen = "g0";
  let next = 1;
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (cmd) => {
    const [op, arg] = cmd.trim().split(/\s+/);
    if (op === "append") {
      const n = Number(arg);
      // Several writes, as a logger would do them.
      for (let i = 0; i < n; i++) fs.appendFileSync(file, line(next++, gen));
    } else if (op === "rotate") {
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, "");
      gen = `g${Number(gen.slice(1)) + 1}`;
      next = 1;
    } else if (op === "truncate") {
      fs.truncateSync(file, 0);
      gen = `g${Number(gen.slice(1)) + 1}`;
      next = 1;
    } else if (op === "exit") {
      process.stdout.write("ok\n");
      process.exit(0);
    }
    process.stdout.write("ok\n");
  });
  rl.on("close", () => process.exit(0));
}

main();
