// The process the resize crash test (save-resize-crash.test.ts) kills, and the model both resize
// tests share. Usage:
//
//   node dist/test/engine/save-resize-crash-child.js '<json: {file, scenario, strategy, chunkSize, batchBytes, mode}>'
//
// mode "save": builds the scenario's segments, prints "SAVING", runs saveResized, prints "DONE".
// mode "recover": runs recoverFile(file, "forward"), prints "DONE".
// With HEXMAP_CRASH_AT=<step>:<k> (a ResizeStep of journal2.ts and an index) the resize fault
// hook pauses there: prints "PAUSED <step>:<k>" and blocks (Atomics.wait) until the parent kills
// the process with SIGKILL.

import * as fs from "node:fs";
import { setResizeFaultHook, saveResized, type SaveSegment, type ResizeStrategy } from "../../app/engine/save-resize";
import { recoverFile } from "../../app/engine/save";
import { blockBytes, mulberry32 } from "../fixtures";

/** The new content a save of `segments` over `old` must produce. */
export function expectedContent(old: Uint8Array, segments: readonly SaveSegment[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of segments) {
    if (s.kind === "file") parts.push(Buffer.from(old.subarray(s.start, s.start + s.length)));
    else if (s.kind === "bytes") parts.push(Buffer.from(s.bytes));
    else {
      const b = Buffer.alloc(s.length);
      for (let i = 0; i < s.length; i++) b[i] = s.pattern[(s.phase + i) % s.pattern.length]!;
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function segLength(s: SaveSegment): number {
  return s.kind === "bytes" ? s.bytes.length : s.length;
}

/** Cuts segment s at k (0 < k < length): the two halves. */
function splitSeg(s: SaveSegment, k: number): [SaveSegment, SaveSegment] {
  if (s.kind === "file") return [{ kind: "file", start: s.start, length: k }, { kind: "file", start: s.start + k, length: s.length - k }];
  if (s.kind === "bytes") return [{ kind: "bytes", bytes: s.bytes.subarray(0, k) }, { kind: "bytes", bytes: s.bytes.subarray(k) }];
  return [
    { kind: "fill", pattern: s.pattern, phase: s.phase, length: k },
    { kind: "fill", pattern: s.pattern, phase: (s.phase + k) % s.pattern.length, length: s.length - k },
  ];
}

/** The piece-table operation on a segment list: replace [offset, offset+del) with `insert`. */
export function replaceIn(segs: SaveSegment[], offset: number, del: number, insert: SaveSegment[]): SaveSegment[] {
  const out: SaveSegment[] = [];
  let pos = 0;
  let inserted = false;
  const end = offset + del;
  for (const s of segs) {
    const len = segLength(s);
    const a = pos;
    const b = pos + len;
    pos = b;
    if (b <= offset) {
      out.push(s);
      continue;
    }
    let cur: SaveSegment | undefined = s;
    let curStart = a;
    if (curStart < offset) {
      const [l, r] = splitSeg(cur, offset - curStart);
      out.push(l);
      cur = r;
      curStart = offset;
    }
    if (!inserted && curStart >= offset) {
      out.push(...insert);
      inserted = true;
    }
    if (curStart < end) {
      const cut = end - curStart;
      if (cut >= segLength(cur)) cur = undefined;
      else cur = splitSeg(cur, cut)[1];
    }
    if (cur) out.push(cur);
  }
  if (!inserted) out.push(...insert);
  return out.filter((s) => segLength(s) > 0);
}

export function totalLength(segs: readonly SaveSegment[]): number {
  return segs.reduce((a, s) => a + segLength(s), 0);
}

export interface Scenario {
  old: Buffer;
  segments: SaveSegment[];
}

/** The crash test's scenarios (deterministic). */
export function crashScenario(name: string): Scenario {
  const rnd = mulberry32(name.split("").reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7));
  const below = (n: number): number => Math.floor((rnd() / 2 ** 32) * n);
  const bytes = (n: number): Buffer => blockBytes(rnd(), n);
  const SIZE = 160 * 1024 + 123;
  const old = blockBytes(0xc0ffee ^ name.length, SIZE);
  let segs: SaveSegment[] = [{ kind: "file", start: 0, length: SIZE }];
  switch (name) {
    case "grow-small-shift": // every piece moves right by a few bytes: staged steps
      segs = replaceIn(segs, 0, 0, [{ kind: "bytes", bytes: bytes(7) }]);
      segs = replaceIn(segs, 50_000, 0, [{ kind: "bytes", bytes: bytes(100) }]);
      segs = replaceIn(segs, 120_000, 0, [{ kind: "fill", pattern: Buffer.from("AbC"), phase: 2, length: 3000 }]);
      break;
    case "shrink": // pieces move left by more than a batch: direct steps, then a truncate
      segs = replaceIn(segs, 0, 20_000, []);
      segs = replaceIn(segs, 70_000, 5, [{ kind: "bytes", bytes: bytes(2) }]);
      segs = replaceIn(segs, 100_000, 9000, []);
      break;
    case "grow-big-shift": // an insert larger than a batch: direct right moves after an extend
      segs = replaceIn(segs, 1000, 0, [{ kind: "bytes", bytes: bytes(40_000) }]);
      segs = replaceIn(segs, 150_000, 0, [{ kind: "fill", pattern: Buffer.from([0]), phase: 0, length: 9000 }]);
      break;
    case "mixed":
      for (let i = 0; i < 30; i++) {
        const size = totalLength(segs);
        const at = below(size + 1);
        const del = below(3) === 0 ? below(Math.min(6000, size - at) + 1) : 0;
        const kind = below(3);
        const ins: SaveSegment[] = kind === 0 ? [] : kind === 1 ? [{ kind: "bytes", bytes: bytes(1 + below(3000)) }] : [{ kind: "fill", pattern: bytes(1 + below(5)), phase: 0, length: 1 + below(5000) }];
        segs = replaceIn(segs, at, del, ins);
      }
      break;
    case "reorder": // a cut and paste and a duplicate: pieces out of source order are staged in the journal
      segs = [
        { kind: "file", start: 100_000, length: 60_000 },
        { kind: "bytes", bytes: bytes(333) },
        { kind: "file", start: 0, length: 50_000 },
        { kind: "file", start: 20_000, length: 10_000 },
        { kind: "file", start: 50_000, length: 50_000 },
        { kind: "file", start: 160_000, length: SIZE - 160_000 },
      ];
      break;
    default:
      throw new Error(`unknown scenario ${name}`);
  }
  return { old, segments: segs };
}

interface ChildArgs {
  file: string;
  scenario: string;
  strategy: ResizeStrategy;
  chunkSize: number;
  batchBytes: number;
  mode: "save" | "recover";
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as ChildArgs;
  const at = process.env.HEXMAP_CRASH_AT;
  if (at) {
    setResizeFaultHook((step, k) => {
      if (`${step}:${k}` !== at) return;
      fs.writeSync(1, `PAUSED ${step}:${k}\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // until SIGKILL
    });
  }
  if (args.mode === "recover") {
    fs.writeSync(1, "SAVING\n");
    const res = await recoverFile(args.file, "forward");
    fs.writeSync(1, `DONE ${res.action}\n`);
    return;
  }
  const { segments } = crashScenario(args.scenario);
  fs.writeSync(1, "SAVING\n");
  const res = await saveResized(args.file, segments, { strategy: args.strategy, chunkSize: args.chunkSize, batchBytes: args.batchBytes });
  fs.writeSync(1, `DONE ${res.strategy}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`save-resize-crash-child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
