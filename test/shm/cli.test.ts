// `hexmap shm write` / `hexmap shm read`, the classic pair, as separate processes: the writer is
// spawned and held open, readers run while it holds, the writer sees (--watch) what another
// writer changes, and it ends on Enter, end of input, SIGTERM or --hold-seconds, unlinking the
// name with --unlink-on-exit. Also bad arguments (exit 2) and missing names (exit 1).

import * as assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { loadNative } from "../../native/index";
import { parseWriteArgs, runShm } from "../../app/cli/shm";
import { formatXxd } from "../../app/cli/dump";

const native = loadNative();
const isWin = process.platform === "win32";
const ROOT = path.join(__dirname, "..", "..", "..");
const HEXMAP = path.join(ROOT, "bin", "hexmap.js");
const TEXT = "This is common data!";

const names: string[] = [];
const procs: ChildProcessWithoutNullStreams[] = [];

function uniqueName(tag: string): string {
  const n = `hexmap-cli-${process.pid}-${tag}-${Math.random().toString(36).slice(2, 8)}`;
  names.push(n);
  return n;
}

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  if (!isWin) {
    for (const n of names) {
      try {
        native.unlinkShm(n);
      } catch {
        /* removed by the test */
      }
    }
  }
});

function hexmap(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [HEXMAP, ...args], { encoding: "utf8", timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A held `hexmap shm write`, its stdout read line by line. */
class HeldWriter {
  readonly lines: string[] = [];
  private waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  stderr = "";
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buf = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.lines.push(line);
        for (const w of [...this.waiters]) {
          if (w.re.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  static start(...args: string[]): HeldWriter {
    const proc = spawn(process.execPath, [HEXMAP, "shm", "write", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    procs.push(proc);
    return new HeldWriter(proc);
  }

  waitFor(re: RegExp, timeoutMs = 10000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no line matching ${re} in ${timeoutMs} ms; stdout: ${this.lines.join("\n")}; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
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

// POSIX: several checks rely on a section outliving its writer until unlinked. (The Wine leg
// covers the win32 engine path in test/engine/shm-live.test.ts.)
describe("hexmap shm", { skip: isWin ? "POSIX semantics (sections outlive their writer until unlinked)" : false }, () => {
  test("write holds the section; read prints it as a dump and as text; Enter ends it and --unlink-on-exit removes it", async () => {
    const name = uniqueName("pair");
    const w = HeldWriter.start(name, "--text", TEXT, "--watch", "--unlink-on-exit");
    const wrote = await w.waitFor(/^wrote /);
    assert.match(wrote, new RegExp(`^wrote 20 bytes at 0 of section "${name}" \\(4096 bytes, created\\)`));
    assert.match(await w.waitFor(/^holding /), /press Enter or Ctrl\+C to exit/);

    const text = hexmap("shm", "read", name, "--text");
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, TEXT + "\n");

    const dump = hexmap("shm", "read", name, "--length", "32");
    assert.equal(dump.status, 0, dump.stderr);
    assert.equal(
      dump.stdout,
      "00000000: 5468 6973 2069 7320 636f 6d6d 6f6e 2064  This is common d\n" +
        "00000010: 6174 6121 0000 0000 0000 0000 0000 0000  ata!............\n",
    );
    const whole = hexmap("shm", "read", "/" + name);
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(whole.stdout.split("\n").length - 1, 4096 / 16, "the whole section, 256 rows ('/name' is the same object)");
    const mid = hexmap("shm", "read", name, "-s", "0x10", "-l", "4");
    assert.equal(mid.stdout, "00000010: 6174 6121                                ata!\n");

    // A second writer opens the existing section; the held one sees the change.
    const second = hexmap("shm", "write", name, "--hex", "58", "--offset", "5", "--hold-seconds", "0");
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`^wrote 1 bytes at 5 of section "${name}" \\(4096 bytes, opened existing\\)`));
    assert.match(await w.waitFor(/^changed at /), /^changed at 5 \(0x5\), 1 byte: 58$/);
    assert.equal(hexmap("shm", "read", name, "--text").stdout, "This Xs common data!\n");

    w.proc.stdin.write("\n");
    assert.equal(await w.exited, 0, w.stderr);
    assert.ok(w.lines.includes("exiting (Enter)"), w.lines.join("\n"));
    assert.ok(w.lines.includes(`unlinked section "${name}"`), w.lines.join("\n"));

    const gone = hexmap("shm", "read", name);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, new RegExp(`No shared memory section named "${name}"`));
  });

  test("write ends on SIGTERM (--until-signal), on end of input, and after --hold-seconds", async () => {
    const a = uniqueName("sig");
    const w = HeldWriter.start(a, "--text", "x", "--until-signal", "--unlink-on-exit");
    await w.waitFor(/^holding .*Ctrl\+C \(or send SIGTERM\)/);
    w.proc.stdin.end(); // ignored with --until-signal
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(w.proc.exitCode, null, "still holding after end of input");
    assert.equal(hexmap("shm", "read", a, "--text").stdout, "x\n");
    w.proc.kill("SIGTERM");
    assert.equal(await w.exited, 0, w.stderr);
    assert.ok(w.lines.includes("exiting (SIGTERM)"), w.lines.join("\n"));
    assert.equal(hexmap("shm", "read", a).status, 1, "unlinked");

    const b = uniqueName("eof");
    const e = HeldWriter.start(b, "--text", "y", "--unlink-on-exit");
    await e.waitFor(/^holding /);
    e.proc.stdin.end();
    assert.equal(await e.exited, 0, e.stderr);
    assert.ok(e.lines.includes("exiting (end of input)"), e.lines.join("\n"));

    const c = uniqueName("hold");
    const t0 = Date.now();
    const held = hexmap("shm", "write", c, "--text", "z", "--size", "100", "--hold-seconds", "1");
    assert.equal(held.status, 0, held.stderr);
    assert.ok(Date.now() - t0 >= 900, "held about a second");
    assert.match(held.stdout, /wrote 1 bytes at 0 of section ".*" \(100 bytes, created\)/);
    assert.match(held.stdout, /exiting \(1 s elapsed\)/);
    // Without --unlink-on-exit the POSIX name stays; `shm unlink` removes it.
    assert.equal(hexmap("shm", "read", c, "--text").stdout, "z\n");
    assert.equal(hexmap("shm", "unlink", c).status, 0);
    assert.equal(hexmap("shm", "read", c).status, 1);
  });

  test("sizes: default 4096 or enough for the data; --size of an existing section must match", () => {
    const name = uniqueName("size");
    const big = "A".repeat(5000);
    const r = hexmap("shm", "write", name, "--text", big, "--offset", "10", "--hold-seconds", "0");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(5010 bytes, created\)/);
    const again = hexmap("shm", "write", name, "--text", "B", "--hold-seconds", "0");
    assert.match(again.stdout, /\(5010 bytes, opened existing\)/, "no --size: opens whatever size it has");
    const mismatch = hexmap("shm", "write", name, "--text", "B", "--size", "4096", "--hold-seconds", "0");
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /already exists with a different size/);
    const tooFar = hexmap("shm", "write", name, "--text", "BB", "--offset", "5009", "--hold-seconds", "0");
    assert.equal(tooFar.status, 1);
    assert.match(tooFar.stderr, /do not fit in section/);
    const nul = hexmap("shm", "write", name, "--text", "hi", "--nul", "--hold-seconds", "0", "--unlink-on-exit");
    assert.match(nul.stdout, /wrote 3 bytes/);
    assert.match(nul.stdout, /unlinked section/);
  });

  test("bad arguments exit 2, missing sections exit 1", () => {
    const missing = `hexmap-cli-${process.pid}-missing`;
    for (const args of [
      ["shm"],
      ["shm", "bogus"],
      ["shm", "read"],
      ["shm", "read", "a", "b"],
      ["shm", "read", "x", "--length", "-1"],
      ["shm", "read", "x", "--frob"],
      ["shm", "write", "x", "--hex", "zz"],
      ["shm", "write", "x", "--text", "a", "--hex", "00"],
      ["shm", "write", "x", "--size", "0"],
      ["shm", "write", "x", "--text", "abc", "--size", "2"],
      ["shm", "write", "x", "--hold-seconds", "1", "--until-signal"],
      ["shm", "write", "x", "--hex", "00", "--nul"],
      ["shm", "read", "a/b"],
      ...(isWin ? [] : [["shm", "read", "Local\\x"]]),
    ]) {
      const r = hexmap(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^hexmap shm: /, args.join(" "));
    }
    const r = hexmap("shm", "read", missing);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `hexmap shm: No shared memory section named "${missing}" (start the program that creates it, or create it)\n`);
    if (!isWin) assert.equal(hexmap("shm", "unlink", missing).status, 1);
  });

  test("--help texts, and parseWriteArgs", async () => {
    for (const args of [["--help"], ["write", "--help"], ["read", "--help"], ["unlink", "--help"]]) {
      const c = capture();
      assert.equal(await runShm(args, { out: c.out, err: c.out }), 0);
      assert.match(c.text(), /^Usage: hexmap shm/);
    }
    const c = capture();
    await runShm(["write", "--help"], { out: c.out, err: c.out });
    assert.match(c.text(), /--hold-seconds N/);
    assert.match(c.text(), /--until-signal/);
    assert.match(c.text(), /--unlink-on-exit/);
    assert.match(c.text(), /end of input/);

    const p = parseWriteArgs(["ShareMemory", "--text", TEXT]);
    assert.notEqual(p, "help");
    if (p !== "help") {
      assert.equal(p.name, "ShareMemory");
      assert.equal(p.bytes.toString(), TEXT);
      assert.equal(p.offset, 0);
      assert.equal(p.size, undefined);
      assert.equal(p.holdSeconds, undefined);
    }
    const q = parseWriteArgs(["S", "--hex", "DE AD", "-o", "0x10", "--size", "0x2000", "--until-signal"]);
    if (q !== "help") {
      assert.deepEqual([...q.bytes], [0xde, 0xad]);
      assert.equal(q.offset, 16);
      assert.equal(q.size, 8192);
      assert.equal(q.holdSeconds, Infinity);
    }
  });

  test("in-process read matches the dump formatter", async () => {
    const name = uniqueName("inproc");
    const c = capture();
    assert.equal(await runShm(["write", name, "--text", TEXT, "--size", "64", "--hold-seconds", "0"], { out: c.out, err: c.out }), 0);
    const d = capture();
    assert.equal(await runShm(["read", name], { out: d.out, err: d.out }), 0);
    const expected = Buffer.alloc(64);
    expected.write(TEXT);
    assert.equal(d.text(), formatXxd(expected, 0).toString());
    if (!isWin) assert.equal(await runShm(["unlink", name], { out: c.out, err: c.out }), 0);
  });
});
