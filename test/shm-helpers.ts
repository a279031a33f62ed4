// Shared-memory test helpers: unique section names that are unlinked afterwards, and the writer
// child (test/shm/writer-child.js) driven by JSON lines both ways.
// No shell: test/engine/*.test.js import this and also run in Windows Node under Wine (Local\
// names there; the child is started with process.execPath, which is node.exe).

import * as assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import { loadNative } from "../native/index";

export const isWin = process.platform === "win32";
/** What the writer child writes at offset 0 unless told otherwise. */
export const SHM_TEXT = "This is common data!";
const CHILD = path.join(__dirname, "shm", "writer-child.js");

/** What the child says once its section is mapped. */
export interface WriterReady {
  ready: boolean;
  size: number;
  created: boolean;
  message?: string;
}

/** The writer child: JSON lines both ways (see test/shm/writer-child.ts). */
export class ShmWriter {
  private lines: string[] = [];
  private waiting: Array<(line: string) => void> = [];
  stderr = "";
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buf = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  next(timeoutMs = 10000): Promise<Record<string, unknown>> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`child said nothing for ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      const onExit = () => reject(new Error(`child exited; stderr: ${this.stderr}`));
      this.proc.once("exit", onExit);
      this.waiting.push((l) => {
        clearTimeout(t);
        this.proc.off("exit", onExit);
        resolve(JSON.parse(l));
      });
    });
  }

  async ask(cmd: object): Promise<Record<string, unknown>> {
    this.proc.stdin.write(JSON.stringify(cmd) + "\n");
    const reply = await this.next();
    assert.equal(reply.ok, true, `child: ${JSON.stringify(reply)}`);
    return reply;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    return Buffer.from((await this.ask({ op: "read", offset, length })).hex as string, "hex");
  }

  /** Writes each [offset, bytes] pair, in one command. */
  async writeAll(...writes: Array<[number, string | Buffer]>): Promise<void> {
    await this.ask({ op: "write", writes: writes.map(([offset, b]) => ({ offset, hex: Buffer.from(b).toString("hex") })) });
  }

  async write(offset: number, b: string | Buffer): Promise<void> {
    await this.writeAll([offset, b]);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.stdin.end(JSON.stringify({ op: "exit" }) + "\n");
    await this.exited;
  }
}

/**
 * Section names and writer children of one test file; `cleanup()` (from `after`) kills the
 * children still running and unlinks the names (POSIX; Windows sections go with their handles).
 */
export class ShmRig {
  private readonly names: string[] = [];
  private readonly children: ChildProcessWithoutNullStreams[] = [];

  /** `prefix` tells the test files apart, e.g. "hexmap-live". */
  constructor(private readonly prefix: string) {}

  uniqueName(tag: string): string {
    const base = `${this.prefix}-${process.pid}-${tag}-${Math.random().toString(36).slice(2, 8)}`;
    this.names.push(base);
    return isWin ? `Local\\${base}` : base;
  }

  /** Starts a writer child that creates or opens `name` and writes `text` at 0; waits until it is ready. */
  async startWriter(name: string, size: number, text = SHM_TEXT): Promise<{ writer: ShmWriter; ready: WriterReady }> {
    const proc = spawn(process.execPath, [CHILD, name, String(size), text], { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    this.children.push(proc);
    const writer = new ShmWriter(proc);
    const ready = (await writer.next(20000)) as unknown as WriterReady;
    assert.equal(ready.ready, true, `child failed: ${JSON.stringify(ready)} ${writer.stderr}`);
    return { writer, ready };
  }

  cleanup(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill();
    if (!isWin) {
      const native = loadNative();
      for (const n of this.names) {
        try {
          native.unlinkShm(n);
        } catch {
          /* gone already */
        }
      }
    }
  }
}

/** Polls `fn` every 10 ms until it returns a value; throws after `ms`. */
export async function waitFor<T>(fn: () => T | undefined, ms = 5000, what = "condition"): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
