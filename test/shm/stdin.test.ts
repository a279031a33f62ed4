// `hexmap shm write` and its standard input (issue 13, part 4): it holds the section while it
// waits for Enter on a pipe or a file, whether stdin is read as process.stdin or through the
// helper process (app/cli/stdin.ts; HEXMAP_STDIN_READER=child forces it), another process reads
// the text meanwhile, and an unreadable stdin is reported with what to do, never a bare EBADF.
//
// Runs on Linux and in Windows Node under Wine (scripts/test-wine.js runs this file; there the
// pipes are Windows pipes. The Linux pipe into Wine's node.exe, which made process.stdin throw
// "open EBADF", is driven from the Linux side by test-wine.js itself).

import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { runShm } from "../../app/cli/shm";
import { HelperStdinReader, openStdin } from "../../app/cli/stdin";
import { quoteShmName } from "../../app/engine/shm";
import { ShmRig, SHM_TEXT, isWin } from "../shm-helpers";

const ROOT = path.join(__dirname, "..", "..", "..");
const HEXMAP = path.join(ROOT, "bin", "hexmap.js");
const rig = new ShmRig("hexmap-stdin");
const procs: ChildProcessWithoutNullStreams[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hexmap-stdin-"));
// Windows Node under Wine starts slowly: generous limits.
const SLOW = isWin ? 60000 : 20000;

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  rig.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function env(helper: boolean): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.NODE_TEST_CONTEXT;
  if (helper) e.HEXMAP_STDIN_READER = "child";
  else delete e.HEXMAP_STDIN_READER;
  return e;
}

function hexmap(args: string[], stdin: "pipe" | "ignore" | number = "pipe") {
  const r = spawnSync(process.execPath, [HEXMAP, ...args], {
    encoding: "utf8",
    timeout: SLOW,
    stdio: [stdin, "pipe", "pipe"],
    env: env(false),
    windowsHide: true,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

/** `hexmap shm write ...` with its stdout read line by line. */
class Writer {
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buf = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, nl).replace(/\r$/, ""));
        buf = buf.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (c: string) => {
      this.stderr += c;
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  static start(args: string[], helper: boolean): Writer {
    const proc = spawn(process.execPath, [HEXMAP, "shm", "write", ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: env(helper),
      windowsHide: true,
    }) as ChildProcessWithoutNullStreams;
    procs.push(proc);
    return new Writer(proc);
  }

  /** Resolves when `pred` holds for what was printed so far. */
  async until(what: string, pred: () => boolean, ms = SLOW): Promise<void> {
    const start = Date.now();
    while (!pred()) {
      if (this.proc.exitCode !== null) throw new Error(`writer exited (${this.proc.exitCode}) before ${what}; stdout: ${this.lines.join("\n")}; stderr: ${this.stderr}`);
      if (Date.now() - start > ms) throw new Error(`no ${what} in ${ms} ms; stdout: ${this.lines.join("\n")}; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  holding(): Promise<void> {
    return this.until("holding line", () => this.lines.some((l) => l.startsWith("holding section ")));
  }
}

function capture(): { out: Writable; text: () => string } {
  let s = "";
  return {
    out: new Writable({
      write(chunk, _enc, cb) {
        s += String(chunk);
        cb();
      },
    }),
    text: () => s,
  };
}

async function readAll(r: Readable): Promise<string> {
  let s = "";
  for await (const c of r) s += String(c);
  return s;
}

for (const helper of [false, true]) {
  const how = helper ? "through the helper process (HEXMAP_STDIN_READER=child)" : "as process.stdin";
  describe(`hexmap shm write, stdin read ${how}`, () => {
    test("a pipe: holds the section, another process reads the text, Enter ends it", { timeout: 3 * SLOW }, async () => {
      const name = rig.uniqueName(helper ? "pipe-h" : "pipe");
      const w = Writer.start([name, "--text", SHM_TEXT], helper);
      await w.holding();
      assert.match(w.lines.join("\n"), /press Enter or Ctrl\+C to exit/);
      w.proc.stdin.write("no newline yet");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(w.proc.exitCode, null, "still holding: no Enter yet");

      const read = hexmap(["shm", "read", name, "--text"]);
      assert.equal(read.status, 0, `${read.stderr} ${read.error ?? ""}`);
      assert.equal(read.stdout, SHM_TEXT + "\n");

      w.proc.stdin.write(", now\n");
      assert.equal(await w.exited, 0, w.stderr);
      assert.ok(w.lines.includes("exiting (Enter)"), w.lines.join("\n"));
      assert.equal(w.stderr, "");
    });

    test("a pipe that ends: end of input ends the hold", { timeout: 2 * SLOW }, async () => {
      const name = rig.uniqueName(helper ? "eof-h" : "eof");
      const w = Writer.start([name, "--text", "x"], helper);
      await w.holding();
      w.proc.stdin.end();
      assert.equal(await w.exited, 0, w.stderr);
      assert.ok(w.lines.includes("exiting (end of input)"), w.lines.join("\n"));
      assert.equal(w.stderr, "");
    });
  });
}

describe("hexmap shm write, other standard inputs", () => {
  test("a file on stdin: Enter in the file ends the hold; a file without one ends at its end", { timeout: 2 * SLOW }, () => {
    for (const [content, reason] of [
      ["\n", "Enter"],
      ["no newline", "end of input"],
    ] as const) {
      const file = path.join(tmp, `stdin-${reason.replace(/ /g, "-")}.txt`);
      fs.writeFileSync(file, content);
      const fd = fs.openSync(file, "r");
      try {
        const r = hexmap(["shm", "write", rig.uniqueName("file"), "--text", SHM_TEXT], fd);
        assert.equal(r.status, 0, `${r.stderr} ${r.error ?? ""}`);
        assert.match(r.stdout, /^wrote 20 bytes at 0 of section /m);
        assert.ok(r.stdout.includes(`exiting (${reason})`), r.stdout);
        assert.equal(r.stderr, "");
      } finally {
        fs.closeSync(fd);
      }
    }
  });

  test("no stdin at all (ignored: NUL or /dev/null) is end of input", { timeout: SLOW }, () => {
    const r = hexmap(["shm", "write", rig.uniqueName("null"), "--text", "x"], "ignore");
    assert.equal(r.status, 0, `${r.stderr} ${r.error ?? ""}`);
    assert.ok(r.stdout.includes("exiting (end of input)"), r.stdout);
  });

  test("a write-only file on stdin: says stdin cannot be read and what to do, keeps holding; a signal ends it", { timeout: 2 * SLOW }, async () => {
    const name = rig.uniqueName("wronly");
    const fd = fs.openSync(path.join(tmp, "write-only.txt"), "w");
    let proc: ChildProcessWithoutNullStreams;
    try {
      proc = spawn(process.execPath, [HEXMAP, "shm", "write", name, "--text", SHM_TEXT], {
        stdio: [fd, "pipe", "pipe"],
        env: env(false),
        windowsHide: true,
      }) as unknown as ChildProcessWithoutNullStreams;
    } finally {
      fs.closeSync(fd);
    }
    procs.push(proc);
    const w = new Writer(proc);
    await w.until("the stdin message", () => /standard input cannot be read/.test(w.stderr));
    assert.match(
      w.stderr,
      /^hexmap shm: standard input cannot be read \([A-Z]+: .+\), so Enter cannot end the hold: holding section ".*" until Ctrl\+C\/SIGTERM instead\. To not use standard input, give --until-signal or --hold-seconds N\.\n$/,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proc.exitCode, null, "still holding");
    const read = hexmap(["shm", "read", name, "--text"]);
    assert.equal(read.stdout, SHM_TEXT + "\n", read.stderr);
    if (isWin) {
      // No signal to send on Windows (test-wine.js sends Ctrl+C to a Linux-piped node.exe).
      proc.kill();
      await w.exited;
      return;
    }
    proc.kill("SIGTERM");
    assert.equal(await w.exited, 0, w.stderr);
    assert.ok(w.lines.includes("exiting (SIGTERM)"), w.lines.join("\n"));
  });

  test(
    "the helper is killed when a signal ends the hold while it waits for input (POSIX)",
    { skip: isWin ? "no SIGTERM to send on Windows (test-wine.js sends Ctrl+C to a Linux-piped node.exe)" : false, timeout: 2 * SLOW },
    async () => {
      const w = Writer.start([rig.uniqueName("sig-h"), "--text", "x"], true);
      await w.holding();
      await new Promise((r) => setTimeout(r, 300)); // the helper is blocked in its read by now
      const t0 = Date.now();
      w.proc.kill("SIGTERM");
      assert.equal(await w.exited, 0, w.stderr);
      assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);
      assert.ok(w.lines.includes("exiting (SIGTERM)"), w.lines.join("\n"));
    },
  );

  test("in-process: an input that fails is reported with what to do, and the hold goes on until a signal", { timeout: 2 * SLOW }, async () => {
    const name = rig.uniqueName("inproc");
    const input = new Readable({
      read() {
        this.destroy(Object.assign(new Error("EBADF: bad file descriptor, read"), { code: "EBADF" }));
      },
    });
    const out = capture();
    const err = capture();
    const running = runShm(["write", name, "--text", SHM_TEXT], { out: out.out, err: err.out, input });
    // A signal the test runner does not use itself (SIGINT/SIGTERM are its own) ends the hold,
    // also when a check fails (a hold left running would keep this test process alive).
    const sig = isWin ? "SIGBREAK" : "SIGHUP";
    try {
      const start = Date.now();
      while (!/cannot be read/.test(err.text())) {
        assert.ok(Date.now() - start < 5000, `no message; stdout: ${out.text()}; stderr: ${err.text()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(
        err.text(),
        `hexmap shm: standard input cannot be read (EBADF: bad file descriptor, read), so Enter cannot end the hold: ` +
          `holding section ${quoteShmName(name)} until Ctrl+C/SIGTERM instead. To not use standard input, give --until-signal or --hold-seconds N.\n`,
      );
      // Still held: another process reads it.
      const read = hexmap(["shm", "read", name, "--text"]);
      assert.equal(read.stdout, SHM_TEXT + "\n", read.stderr);
    } finally {
      process.emit(sig as NodeJS.Signals, sig as NodeJS.Signals);
    }
    assert.equal(await running, 0);
    assert.ok(out.text().includes(`exiting (${sig})`), out.text());
  });

  test("in-process: shm read and --hold-seconds never touch stdin (a throwing process.stdin is fine)", async () => {
    const desc = Object.getOwnPropertyDescriptor(process, "stdin");
    assert.ok(desc?.configurable, "process.stdin can be redefined");
    Object.defineProperty(process, "stdin", {
      configurable: true,
      get() {
        throw Object.assign(new Error("open EBADF"), { code: "EBADF", syscall: "open" });
      },
    });
    try {
      const name = rig.uniqueName("nostdin");
      const c = capture();
      assert.equal(await runShm(["write", name, "--text", SHM_TEXT, "--size", "64", "--hold-seconds", "0"], { out: c.out, err: c.out }), 0, c.text());
      if (!isWin) {
        const d = capture();
        assert.equal(await runShm(["read", name, "--text"], { out: d.out, err: d.out }), 0, d.text());
        assert.equal(d.text(), SHM_TEXT + "\n");
      }
      // And openStdin falls back to the helper, saying why.
      const o = openStdin({ helperStdin: "inherit", forceHelper: false });
      assert.equal(o.via, "helper");
      assert.match(o.reason ?? "", /EBADF/);
      (o.stream as HelperStdinReader).release();
    } finally {
      Object.defineProperty(process, "stdin", desc!);
    }
  });

  test("openStdin's helper reads a file to its end, and fails clearly on a descriptor it cannot read", { timeout: SLOW }, async () => {
    const file = path.join(tmp, "helper.txt");
    fs.writeFileSync(file, "line one\nline two\n");
    const fd = fs.openSync(file, "r");
    try {
      const o = openStdin({ getStdin: () => { throw new Error("open EBADF"); }, helperStdin: fd });
      assert.equal(o.via, "helper");
      assert.equal(await readAll(o.stream), "line one\nline two\n");
    } finally {
      fs.closeSync(fd);
    }
    if (!isWin) {
      const dir = fs.openSync(tmp, "r");
      try {
        const o = openStdin({ forceHelper: true, helperStdin: dir });
        await assert.rejects(readAll(o.stream), (e: Error & { code?: string }) => e.code === "EISDIR" && /directory/.test(e.message));
      } finally {
        fs.closeSync(dir);
      }
    }
    // An ordinary stream is used as it is.
    const p = new PassThrough();
    assert.equal(openStdin({ getStdin: () => p, forceHelper: false }).stream, p);
  });
});
