// The process the crash test kills. Usage:
//
//   node dist/test/edit/crash-child.js FILE SEED N
//
// Opens FILE in an Editor, makes N seeded scattered edits (crashEdits), prints "SAVING", saves,
// prints "DONE" and exits. With HEXMAP_CRASH_AT=<step>:<k> (a SaveStep of app/engine/save.ts and
// an index), the save's fault hook pauses at that kill point: it prints "PAUSED <step>:<k>" and
// blocks the thread (Atomics.wait) until the parent kills the process with SIGKILL. This is a
// pause at a named point, not a timing hack; the random-delay trials kill after "SAVING" instead.

import * as fs from "node:fs";
import { Editor } from "../../app/engine/editor";
import { setSaveFaultHook } from "../../app/engine/save";

export interface CrashEdit {
  offset: number;
  bytes: Buffer;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/**
 * N scattered edits in a file of `size` bytes: mostly single bytes, some runs of up to 300 bytes,
 * some straddling 4 KiB / 64 KiB boundaries, a few overlapping earlier ones.
 */
export function crashEdits(seed: number, size: number, n: number): CrashEdit[] {
  const next = lcg(seed);
  const out: CrashEdit[] = [];
  for (let i = 0; i < n; i++) {
    const kind = next() % 10;
    let len = kind < 6 ? 1 : kind < 9 ? 1 + (next() % 300) : 1 + (next() % 64);
    let offset: number;
    if (kind === 9) {
      const boundary = (1 + (next() % Math.max(1, Math.floor(size / 65536) - 1))) * 65536;
      offset = Math.max(0, boundary - (next() % len));
    } else {
      offset = next() % size;
    }
    len = Math.min(len, size - offset);
    const bytes = Buffer.alloc(len);
    for (let j = 0; j < len; j++) bytes[j] = next() & 0xff;
    out.push({ offset, bytes });
  }
  return out;
}

/** The file's content after the edits: what a complete save must produce. */
export function applyCrashEdits(old: Buffer, edits: CrashEdit[]): Buffer {
  const out = Buffer.from(old);
  for (const e of edits) e.bytes.copy(out, e.offset);
  return out;
}

async function main(): Promise<void> {
  const [file, seedArg, nArg] = process.argv.slice(2);
  if (!file || !seedArg || !nArg) {
    process.stderr.write("usage: crash-child FILE SEED N\n");
    process.exit(2);
  }
  const at = process.env.HEXMAP_CRASH_AT;
  if (at) {
    setSaveFaultHook((step, k) => {
      if (`${step}:${k}` !== at) return;
      fs.writeSync(1, `PAUSED ${step}:${k}\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until SIGKILL
    });
  }
  const editor = Editor.open(file);
  for (const e of crashEdits(Number(seedArg), editor.size, Number(nArg))) editor.edit(e.offset, e.bytes);
  fs.writeSync(1, "SAVING\n");
  const res = await editor.save();
  fs.writeSync(1, `DONE ${res.records}\n`);
  editor.close();
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`crash-child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
