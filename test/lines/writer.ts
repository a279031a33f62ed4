// Drives test/lines/follow-writer.js, the second process of the follow tests: one command a line
// on stdin ("append N", "rotate", "truncate"), each answered by a line on stdout. No shell.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";

const writerScript = path.join(__dirname, "follow-writer.js");

export class FollowWriter {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: Array<() => void> = [];
  constructor(file: string) {
    this.child = spawn(process.execPath, [writerScript, file], { stdio: ["pipe", "pipe", "pipe"] });
    readline.createInterface({ input: this.child.stdout }).on("line", () => this.replies.shift()?.());
  }
  /** Sends one command; resolves when the writer has answered it. */
  send(cmd: string): Promise<void> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.stdin.write(cmd + "\n");
    });
  }
  async exit(): Promise<void> {
    const done = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end();
    await done;
  }
}

/** Line `i` (1-based) of generation `gen` as follow-writer writes it, without the newline. */
export function writerLine(gen: string, i: number): string {
  return `${gen} line ${i} ${"x".repeat(i % 37)}`;
}
