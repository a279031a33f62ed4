// Standard input for commands that wait on it (`hexmap shm write` waits for Enter), opened only
// when it is needed, and never fatal.
//
// Why not just process.stdin: when fd 0 is a pipe its getter builds a net.Socket over it, and
// that can throw. Windows Node under Wine does, for a pipe that comes from Linux
// (`echo | wine node.exe ...`): libuv's uv_pipe_open fails on a handle that is not a Windows
// named pipe, and the getter throws a bare "open EBADF". The same handle reads fine with a plain
// ReadFile (fs.readSync), so then a small helper process reads fd 0 with fs.readSync and passes
// the bytes on through an ordinary pipe.
//
// Why a helper process and not fs.read in this one: a read blocked in the thread pool cannot be
// cancelled, and Node's exit waits for the thread pool, so Ctrl+C or --hold-seconds could not end
// the program until more input came. The helper is simply killed.
//
// Other failures (stdin closed, a directory, a handle that cannot be read) arrive later as an
// 'error' event on the stream; the caller decides what to do then.
//
// HEXMAP_STDIN_READER=child forces the helper (the tests use it to cover that path everywhere).

import { spawn, type ChildProcess } from "node:child_process";
import { Readable } from "node:stream";

// The helper: copies fd 0 to fd 1 with blocking reads; on a read error prints {code,message} to
// stderr and exits 1. EAGAIN: fd 0 was left non-blocking by someone else; wait and retry.
const HELPER = `"use strict";
const fs = require("fs");
const buf = Buffer.alloc(65536);
for (;;) {
  let n;
  try {
    n = fs.readSync(0, buf, 0, buf.length, null);
  } catch (e) {
    if (e.code === "EAGAIN") { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); continue; }
    if (e.code === "EOF") break;
    process.stderr.write(JSON.stringify({ code: e.code, message: e.message }));
    process.exitCode = 1;
    break;
  }
  if (n === 0) break;
  let off = 0;
  while (off < n) off += fs.writeSync(1, buf, off, n - off);
}
`;

/** Standard input read by a helper process (see the top of this file). */
export class HelperStdinReader extends Readable {
  private child: ChildProcess | undefined;
  private released = false;
  private readonly killOnExit = () => this.child?.kill();

  /** `stdin`: what the helper reads, "inherit" (our fd 0) or a file descriptor. */
  constructor(stdin: "inherit" | number = "inherit") {
    super();
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ["-e", HELPER], {
        stdio: [stdin, "pipe", "pipe"],
        windowsHide: true,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      });
    } catch (err) {
      process.nextTick(() => this.destroy(err as Error));
      return;
    }
    this.child = child;
    process.once("exit", this.killOnExit);
    let errText = "";
    child.stdout!.on("data", (b: Buffer) => {
      if (!this.released && !this.push(b)) child.stdout!.pause();
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => (errText += s));
    child.on("error", (err) => {
      if (!this.released) this.destroy(err);
    });
    child.on("close", (code, signal) => {
      process.off("exit", this.killOnExit);
      if (this.released || this.destroyed) return;
      if (code === 0) this.push(null);
      else this.destroy(helperError(errText, code, signal));
    });
  }

  override _read(): void {
    this.child?.stdout?.resume();
  }

  /** Stops reading for good: kills the helper and lets go of its pipes. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pause();
    const c = this.child;
    if (!c) return;
    process.off("exit", this.killOnExit);
    c.stdout?.destroy();
    c.stderr?.destroy();
    if (c.exitCode === null && c.signalCode === null) c.kill();
    c.unref();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.release();
    cb(err);
  }
}

function helperError(errText: string, code: number | null, signal: NodeJS.Signals | null): Error {
  try {
    const j = JSON.parse(errText) as { code?: string; message?: string };
    if (j && typeof j.message === "string") return Object.assign(new Error(j.message), { code: j.code });
  } catch {
    // not the helper's JSON: a crash, or node could not start
  }
  const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
  return new Error(`the helper reading standard input ${how}${errText.trim() ? `: ${errText.trim().split("\n")[0]}` : ""}`);
}

export interface StdinDeps {
  /** Default: () => process.stdin (a getter that may throw). */
  getStdin?: () => Readable;
  /** What the helper reads when it is used. Default "inherit" (fd 0). */
  helperStdin?: "inherit" | number;
  /** Default process.env.HEXMAP_STDIN_READER === "child". */
  forceHelper?: boolean;
}

/** How standard input is being read. */
export interface OpenedStdin {
  stream: Readable;
  /** "stream": process.stdin; "helper": a helper process, because of `reason`. */
  via: "stream" | "helper";
  /** Why process.stdin is not used, when via is "helper". */
  reason?: string;
}

/** Standard input as a stream; never throws (read errors arrive as 'error' events). */
export function openStdin(deps: StdinDeps = {}): OpenedStdin {
  const forced = deps.forceHelper ?? process.env.HEXMAP_STDIN_READER === "child";
  if (forced) return { stream: new HelperStdinReader(deps.helperStdin), via: "helper", reason: "HEXMAP_STDIN_READER=child" };
  const getStdin = deps.getStdin ?? (() => process.stdin);
  try {
    return { stream: getStdin(), via: "stream" };
  } catch (err) {
    return { stream: new HelperStdinReader(deps.helperStdin), via: "helper", reason: describeStdinError(err) };
  }
}

/** "EISDIR: illegal operation on a directory, read"-style text for a stdin error, no stack. */
export function describeStdinError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === "string" ? e.message : String(err);
  const code = typeof e?.code === "string" ? e.code : undefined;
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}

/** Stops using standard input without keeping the process alive. */
export function releaseStdin(stream: Readable): void {
  if (stream instanceof HelperStdinReader) {
    stream.release();
    return;
  }
  stream.pause();
  // process.stdin keeps the loop alive while it reads: let go of it.
  (stream as { unref?: () => void }).unref?.();
}
