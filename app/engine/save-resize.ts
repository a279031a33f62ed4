// Saves that CHANGE A FILE'S SIZE (DESIGN.md, "The document, version 2", SavePlanner (b) and (c)).
// The new content is given as a sequence of segments — ranges of the file as it is on disk now,
// added bytes, and repeated patterns — as a piece table lists it. Two strategies:
//
// rewrite (default)   The new content is written to a temp file in the same folder
//   (`.NAME.hexmap-<pid>-<rand>.tmp`): unchanged ranges of 1 MiB or more copied inside the kernel
//   (the addon's copyFileRange: Linux copy_file_range, the original's holes skipped, extents
//   shared on file systems that can when the offsets are block-aligned), shorter ones, added
//   bytes and fills through two 2 MiB buffers (one is filled while the other is written); where
//   there is no kernel copy (Windows, macOS, ENOTSUP) everything goes through the buffers. Then
//   fchown/fchmod to the original's owner and mode, fsync, and the addon's replaceFile puts it
//   in place: rename(2) on POSIX (atomic); ReplaceFileW on Windows, which keeps the original's
//   ACL, attributes, alternate data streams and creation time. Then the folder is fsync'd. Any
//   failure or cancel before the replace removes the temp file: the original is untouched.
//   Not carried over: POSIX extended attributes and ACLs (a rename gives the new inode none).
//   A kill leaves the original whole and, at worst, a stray temp that cleanStaleTemps() (called
//   by the next saveResized and by recovery) removes once its process is gone.
//
// in-place   For when the folder has no room for a second copy (auto picks it then), or when the
//   file has other hard links (a rename would leave them holding the old content). A version-2
//   journal (journal2.ts) records the whole plan and a durable progress cursor; the file is then
//   changed step by step, each step fsync'd before the cursor moves on, so a kill is finished by
//   recoverFile(file, "forward"). How the moves are ordered, and why no source is overwritten
//   before it is copied, is explained at planInPlace().
//
// Holes. The kernel copy skips the original's holes exactly (SEEK_DATA/SEEK_HOLE). What goes
// through the buffers (and everything where there is no kernel copy), like Editor.saveAs, skips
// writing 64 KiB blocks that are all zero, when the original is sparse (st_blocks·512 < size):
// they stay holes, and a final ftruncate sets the size. A file
// with no holes is copied block for block (its allocation is kept; zero runs are not punched).
// Reading a hole costs no disk I/O, only a memcpy of zeros. The in-place strategy moves bytes,
// holes included: moved holes become allocated zeros.
//
// Kill points: resizeHook(step, index) at every step boundary (journal2.ts, setResizeFaultHook).

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { loadNative, type NativeAddon } from "../../native/index";
import { HexmapError, toHexmapError } from "./errors";
import { fsyncDir, inspectJournal, removeJournal } from "./journal";
import {
  MAX_CHUNK,
  STEP_EXTEND,
  STEP_MOVE,
  STEP_MOVE_STAGED,
  STEP_TRUNCATE,
  STEP_WRITE,
  WRITE_DATA,
  WRITE_FILL,
  fillPattern,
  inspectJournal2,
  isJournal2Magic,
  journal2Layout,
  preadFull,
  pwriteFull,
  removeJournal2,
  resizeHook,
  runJournal2,
  writeJournal2,
  type Plan2Tables,
} from "./journal2";

export { setResizeFaultHook, type ResizeStep, type ResizeFaultHook } from "./journal2";

export type SaveSegment =
  | { kind: "file"; start: number; length: number } // bytes [start, start+length) of the file as it is on disk now
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "fill"; pattern: Uint8Array; phase: number; length: number }; // length bytes of pattern repeated, starting at pattern[phase]

export type ResizeStrategy = "rewrite" | "in-place";

export interface ResizeProgress {
  phase: "plan" | "copy" | "write" | "sync" | "replace";
  done: number;
  total: number;
}

export interface ResizeSaveOptions {
  /** auto (default): rewrite, unless the folder is short of space for it (or the file has other hard links), then in place. */
  strategy?: "auto" | ResizeStrategy;
  /** File size the caller believes; different now → ECHANGED, nothing written. */
  expectedSize?: number;
  onProgress?: (p: ResizeProgress) => void;
  /** rewrite: cancellable until the atomic replace (temp removed, file untouched → ECANCELED); in place: until the journal is durable. */
  signal?: AbortSignal;
  /**
   * Called once, right before the save first changes the file: before the rename (rewrite) or
   * before the first in-place write (after the journal is durable). Windows refuses to replace or
   * resize a mapped file, so the caller lets go of its mappings here. Not called when the save
   * fails or is cancelled before that point.
   */
  beforeCommit?: () => void | Promise<void>;
  /** Tuning/tests: bytes per copy buffer (rewrite, default 2 MiB) or per move chunk (in place, default 1 MiB). */
  chunkSize?: number;
  /** Tuning/tests, in place: most bytes between two durable cursor updates, and the scratch size (default 64 MiB). */
  batchBytes?: number;
  /** Tests: replaces freeSpace() (statfs of the folder). */
  freeSpace?: (dir: string) => Promise<number>;
  /**
   * rewrite: copy unchanged ranges of at least KERNEL_COPY_MIN bytes inside the kernel (Linux
   * copy_file_range; shared extents where the file system has them) — default true; false, or a
   * system without it, copies them through memory. Tests and benches compare the two.
   */
  kernelCopy?: boolean;
  /** Tests: the addon (replaceFile, copyFileRange); default loadNative(). */
  native?: Pick<NativeAddon, "replaceFile" | "copyFileRange">;
}

export interface ResizeSaveResult {
  strategy: ResizeStrategy;
  size: number;
  /** Bytes of the original copied (rewrite) or moved (in place). */
  copiedBytes: number;
  /** Bytes written into the file (rewrite: not counting the all-zero blocks left as holes). */
  writtenBytes: number;
  durationMs: number;
  timings: Record<string, number>;
  /** What the rewrite carried over from the original (in place keeps everything: it is the same file). */
  kept: { mode: boolean; owner: boolean; holes: boolean };
  /** rewrite: bytes of the original copied inside the kernel (copy_file_range), not through memory. */
  kernelCopiedBytes?: number;
  /** In place: size of the journal (plan, added bytes, scratch). */
  journalBytes?: number;
  /** In place: file bytes copied into the journal because their new order needed it (see planInPlace). */
  stagedBytes?: number;
}

const MiB = 1024 * 1024;
// Copy buffers of 2 MiB, one filled while the other is written (each written as concurrent 128 KiB
// pwrites: journal2.ts pwriteFull). Measured on this project's 2-core Linux 6.18/ext4 VM, 4 GiB
// file, insert at 0, against `cp --reflink=never FILE X && sync` in the same run (cp itself
// loops over 128 KiB read/write): medians 4.0 s vs 3.7–4.2 s (ratio 0.96–1.08). Buffers or
// writes of 4–16 MiB were 2–5× SLOWER there: they fall out of the CPU caches, and long aligned
// writes make the page cache allocate large folios.
const REWRITE_CHUNK = 2 * MiB;
const REWRITE_BUFFERS = 2;
const INPLACE_CHUNK = 1 * MiB;
const INPLACE_BATCH = 64 * MiB;
const HOLE_BLOCK = 64 * 1024;
// Unchanged ranges at least this long go to copy_file_range, in calls of KERNEL_COPY_CHUNK (each
// one a step for progress, cancel and the kill trials). Shorter ones (scattered edits cut the
// file into many small pieces) are gathered into the copy buffers: a syscall each would cost more.
const KERNEL_COPY_MIN = 1 * MiB;
const KERNEL_COPY_CHUNK = 64 * MiB;
// File segments up to SMALL_SEG are read through one shared read of up to SOURCE_SPAN (rewrite).
const SMALL_SEG = 64 * 1024;
const SOURCE_SPAN = 1 * MiB;

const fsyncAsync = promisify(fs.fsync);

/** Bytes free for this user in the file system holding `dir` (statfs: f_bavail × f_bsize). */
export async function freeSpace(dir: string): Promise<number> {
  try {
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  } catch (err) {
    throw toHexmapError(err, { path: dir, op: "measure the free space of" });
  }
}

// ---- stray temp files -----------------------------------------------------------------------------

/** Temp files this process is writing now (never removed as stale). */
const activeTemps = new Set<string>();

function tempPattern(realFile: string): RegExp {
  const base = path.basename(realFile).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${base}\\.hexmap-(\\d+)-[0-9a-f]+\\.tmp$`);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true; // ours: maybe a Save As running now
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM"; // exists, belongs to someone else
  }
}

function realPathOf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Temp files of a rewrite (or Save As) of `file` left by processes that are gone. Reads only. */
export function findStaleTemps(file: string): string[] {
  const real = realPathOf(file);
  const dir = path.dirname(real);
  const re = tempPattern(real);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const p = path.join(dir, name);
    if (activeTemps.has(p) || processAlive(Number(m[1]))) continue;
    out.push(p);
  }
  return out;
}

/** Removes the stale temp files of `file` (findStaleTemps); returns their paths. */
export function cleanStaleTemps(file: string): string[] {
  const removed: string[] = [];
  for (const p of findStaleTemps(file)) {
    try {
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}

// ---- segments -------------------------------------------------------------------------------------

interface Seg {
  kind: "file" | "bytes" | "fill";
  /** Offset in the new content. */
  dst: number;
  length: number;
  start: number; // file
  bytes?: Uint8Array; // bytes
  pattern?: Uint8Array; // fill
  phase: number; // fill
}

function isSafe(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/** Validates the segments, drops empty ones, joins touching file ranges; gives output offsets. */
function normalize(file: string, segments: Iterable<SaveSegment>, fileSize: number): { segs: Seg[]; size: number; fileBytes: number; addedBytes: number } {
  const segs: Seg[] = [];
  let dst = 0;
  let fileBytes = 0;
  let k = 0;
  for (const s of segments) {
    const at = `segment ${k++}`;
    if (s === null || typeof s !== "object") throw new HexmapError("EINVAL", `${at} is not a segment`);
    if (s.kind === "file") {
      if (!isSafe(s.start) || !isSafe(s.length)) throw new HexmapError("EINVAL", `${at}: start and length must be non-negative integers`);
      if (s.length === 0) continue;
      if (s.start + s.length > fileSize) {
        throw new HexmapError("ECHANGED", `${file} is now ${fileSize} bytes, shorter than the range [${s.start}, ${s.start + s.length}) the save copies from it: it was changed on disk`);
      }
      const last = segs[segs.length - 1];
      if (last && last.kind === "file" && last.start + last.length === s.start) last.length += s.length;
      else segs.push({ kind: "file", dst, length: s.length, start: s.start, phase: 0 });
      fileBytes += s.length;
      dst += s.length;
    } else if (s.kind === "bytes") {
      if (!(s.bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", `${at}: bytes must be a Uint8Array`);
      if (s.bytes.length === 0) continue;
      segs.push({ kind: "bytes", dst, length: s.bytes.length, start: 0, bytes: s.bytes, phase: 0 });
      dst += s.bytes.length;
    } else if (s.kind === "fill") {
      if (!(s.pattern instanceof Uint8Array) || !isSafe(s.length) || !isSafe(s.phase)) throw new HexmapError("EINVAL", `${at}: a fill needs a pattern, a phase and a length`);
      if (s.length === 0) continue;
      if (s.pattern.length === 0 || s.phase >= s.pattern.length) throw new HexmapError("EINVAL", `${at}: the fill pattern is empty or its phase is outside it`);
      segs.push({ kind: "fill", dst, length: s.length, start: 0, pattern: s.pattern, phase: s.phase });
      dst += s.length;
    } else {
      throw new HexmapError("EINVAL", `${at} has an unknown kind ${String((s as { kind?: unknown }).kind)}`);
    }
    if (!Number.isSafeInteger(dst)) throw new HexmapError("EINVAL", "The new content is larger than 2^53 bytes");
  }
  return { segs, size: dst, fileBytes, addedBytes: dst - fileBytes };
}

// ---- entry point ------------------------------------------------------------------------------------

const saving = new Set<string>();

/**
 * Saves `segments` (the new content, in order) over `file`, whose size may change. See the top of
 * this file for the two strategies. Refuses with EBUSY while an interrupted save's journal is
 * there (recover first), ECHANGED when the file is not the size the caller believes or shorter
 * than a range to copy, ENOSPC (before anything is written) when neither strategy fits the free
 * space, ECANCELED when cancelled.
 */
export async function saveResized(file: string, segments: Iterable<SaveSegment>, options: ResizeSaveOptions = {}): Promise<ResizeSaveResult> {
  const t0 = performance.now();
  if (typeof file !== "string" || file.length === 0 || file.includes("\0")) throw new HexmapError("EINVAL", "A save needs a file path");
  const strategy = options.strategy ?? "auto";
  if (strategy !== "auto" && strategy !== "rewrite" && strategy !== "in-place") throw new HexmapError("EINVAL", `Unknown save strategy ${String(strategy)}`);
  const real = realPathOf(file);
  if (saving.has(real)) throw new HexmapError("EBUSY", `${file} is being saved already`);
  saving.add(real);
  try {
    if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save cancelled (the file was not touched)");
    refuseOnJournal(file);
    if (real !== path.resolve(file)) refuseOnJournal(real); // a journal made through the link's target name
    cleanStaleTemps(real);
    let st: fs.Stats;
    try {
      st = fs.statSync(real);
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "open" });
    }
    if (!st.isFile()) throw new HexmapError("ENOTSUP", `${file} is not a regular file: its size cannot change`);
    if (options.expectedSize !== undefined && st.size !== options.expectedSize) {
      throw new HexmapError("ECHANGED", `${file} changed size on disk (${options.expectedSize} → ${st.size} bytes) since it was opened`);
    }
    const norm = normalize(file, segments, st.size);
    options.onProgress?.({ phase: "plan", done: 0, total: norm.size });
    const dir = path.dirname(real);
    const free = await (options.freeSpace ?? freeSpace)(dir);
    const sparse = st.blocks * 512 < st.size;
    const allocRatio = sparse && st.size > 0 ? Math.min(1, (st.blocks * 512) / st.size) : 1;
    const rewriteNeed = Math.ceil(norm.addedBytes + norm.fileBytes * allocRatio) + margin(norm.size);
    const tPlan = performance.now() - t0;

    let inPlacePlan: InPlacePlan | undefined;
    const inPlaceNeed = (): number => {
      inPlacePlan ??= planInPlace(norm.segs, st.size, norm.size, options.chunkSize ?? INPLACE_CHUNK, options.batchBytes ?? INPLACE_BATCH);
      // Moving bytes over holes (or writing into them) allocates them: count that for a sparse file.
      const fillsHoles = sparse ? Math.ceil((inPlacePlan.movedBytes + inPlacePlan.writeBytes) * (1 - allocRatio)) : 0;
      return Math.max(0, norm.size - st.size) + fillsHoles + inPlacePlan.journalBytes + margin(inPlacePlan.journalBytes);
    };
    let chosen: ResizeStrategy;
    if (strategy === "rewrite") chosen = "rewrite";
    else if (strategy === "in-place") chosen = "in-place";
    else if (st.nlink > 1) chosen = "in-place"; // a rename would leave the other links with the old content
    else chosen = rewriteNeed <= free || inPlaceNeed() > free ? "rewrite" : "in-place";

    const need = chosen === "rewrite" ? rewriteNeed : inPlaceNeed();
    if (need > free) {
      const other = chosen === "rewrite" ? (strategy === "auto" ? `, saving in place about ${fmt(inPlaceNeed())}` : "") : strategy === "auto" ? "" : `, rewriting about ${fmt(rewriteNeed)}`;
      throw new HexmapError(
        "ENOSPC",
        `Not enough free space to save ${file}: ${chosen === "rewrite" ? "rewriting it" : "saving it in place"} needs about ${fmt(need)}${other}, and ${dir} has ${fmt(free)} free. Nothing was written; free some space, or save a copy elsewhere`,
      );
    }
    const res = chosen === "rewrite" ? await rewrite(file, real, st, norm.segs, norm.size, sparse, options) : await inPlace(file, real, st, norm.size, inPlacePlan ?? planInPlace(norm.segs, st.size, norm.size, options.chunkSize ?? INPLACE_CHUNK, options.batchBytes ?? INPLACE_BATCH), options);
    res.timings.plan = (res.timings.plan ?? 0) + tPlan;
    res.durationMs = performance.now() - t0;
    return res;
  } finally {
    saving.delete(real);
  }
}

function margin(bytes: number): number {
  return 4 * MiB + Math.ceil(bytes / 256);
}

function fmt(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** An interrupted save's journal (either version) blocks a new save; a damaged one (never applied) is removed. */
function refuseOnJournal(file: string): void {
  const busy = (): HexmapError =>
    new HexmapError("EBUSY", `An earlier save of ${file} was interrupted and its journal is still there; recover the file first (hexmap recover)`);
  if (isJournal2Magic(file)) {
    const j = inspectJournal2(file);
    if (j.status === "valid") throw busy();
    if (j.status === "invalid" && j.reason.startsWith("no valid progress")) throw busy(); // its plan is whole: maybe applied in part
    removeJournal2(file);
    return;
  }
  const j = inspectJournal(file);
  if (j.status === "valid") throw busy();
  if (j.status === "invalid" || j.staleTemp) removeJournal(file);
}

// ---- rewrite ----------------------------------------------------------------------------------------

async function rewrite(file: string, real: string, st: fs.Stats, segs: Seg[], size: number, sparse: boolean, options: ResizeSaveOptions): Promise<ResizeSaveResult> {
  const timings: Record<string, number> = { copy: 0, sync: 0, replace: 0 };
  const dir = path.dirname(real);
  const tmp = path.join(dir, `.${path.basename(real)}.hexmap-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  const bufSize = Math.max(4096, Math.ceil(Math.min(options.chunkSize ?? REWRITE_CHUNK, 256 * MiB) / 4096) * 4096);
  const holeBlock = bufSize % HOLE_BLOCK === 0 ? HOLE_BLOCK : 4096;
  const cancelled = (): HexmapError => new HexmapError("ECANCELED", "Save cancelled; the file was not changed");
  let srcFd: number | undefined;
  let outFd: number | undefined;
  let copied = 0;
  let written = 0;
  const inFlight: (Promise<void> | undefined)[] = [];
  const kept = { mode: false, owner: false, holes: sparse };
  activeTemps.add(tmp);
  try {
    try {
      srcFd = fs.openSync(real, "r");
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "open" });
    }
    const src = fs.fstatSync(srcFd);
    if (src.ino !== st.ino || src.size !== st.size) throw new HexmapError("ECHANGED", `${file} was replaced or changed on disk while the save started`);
    try {
      outFd = fs.openSync(tmp, "wx", 0o600);
    } catch (err) {
      throw toHexmapError(err, { path: tmp, op: "create" });
    }
    resizeHook("rw-temp", 0);
    const S = srcFd;
    const O = outFd;
    let t = performance.now();

    // REWRITE_BUFFERS buffers: one is filled (reads of the original, added bytes, fills) while the others are written.
    const bufs = Array.from({ length: REWRITE_BUFFERS }, () => Buffer.allocUnsafe(Math.min(bufSize, Math.max(size, 1))));
    const zero = sparse ? Buffer.alloc(holeBlock) : undefined;
    let segIdx = 0;
    let segOff = 0;
    let k = 0;
    let native: Pick<NativeAddon, "replaceFile" | "copyFileRange"> | undefined = options.native;
    if (!native) {
      try {
        native = loadNative();
      } catch {
        native = {}; // no addon (a build without it): plain copies and rename
      }
    }
    let kernelCopy = options.kernelCopy !== false && typeof native.copyFileRange === "function";
    let kernelCopied = 0;
    const writeOut = async (buf: Buffer, len: number, pos: number, index: number): Promise<void> => {
      try {
        if (!zero) {
          await pwriteFull(O, buf, 0, len, pos);
          written += len;
        } else {
          // The temp file starts empty, so a zero block not written reads as zeros all the same;
          // only block-aligned ones become holes.
          for (let b = 0; b < len; ) {
            let e = b;
            while (e < len) {
              const l = Math.min(holeBlock, len - e);
              if (buf.compare(zero, 0, l, e, e + l) === 0) break;
              e += l;
            }
            if (e > b) {
              await pwriteFull(O, buf, b, e - b, pos + b);
              written += e - b;
            }
            b = e === b ? Math.min(len, b + holeBlock) : e;
          }
        }
      } catch (err) {
        throw toHexmapError(err, { path: tmp, op: "write", offset: pos });
      }
      resizeHook("rw-copy", index);
    };
    // Small file segments (a replace-all cuts the file into millions) are served from one read
    // of the source span they lie in: the segments that follow, in increasing source order and
    // within SOURCE_SPAN of the first, are read together (one pread instead of one each).
    const cache = { buf: Buffer.allocUnsafe(SOURCE_SPAN), start: 0, end: 0 };
    const fillCache = async (from: number, idx: number): Promise<void> => {
      let end = from;
      for (let i = idx, seen = 0; i < segs.length && seen < 4096; i++) {
        const x = segs[i]!;
        if (x.kind !== "file") continue;
        seen++;
        const xs = i === idx ? from : x.start;
        const xe = x.start + x.length;
        if (xs < end - SMALL_SEG || xe - from > SOURCE_SPAN || x.length > SMALL_SEG) break;
        end = Math.max(end, xe);
      }
      if (end - from <= SMALL_SEG) return; // nothing to share: a plain read
      await preadFull(S, cache.buf, 0, end - from, from, file);
      cache.start = from;
      cache.end = end;
    };
    const bigFileSeg = (s: Seg | undefined, from: number): boolean => kernelCopy && s !== undefined && s.kind === "file" && s.length - from >= KERNEL_COPY_MIN;
    for (let pos = 0; pos < size; ) {
      if (options.signal?.aborted) throw cancelled();
      const seg = segs[segIdx]!;
      if (bigFileSeg(seg, segOff)) {
        // In the kernel: no copy through this process, holes of the original skipped.
        const n = Math.min(seg.length - segOff, KERNEL_COPY_CHUNK);
        let data: number;
        try {
          data = await native.copyFileRange!(S, O, seg.start + segOff, pos, n);
        } catch (err) {
          if ((err as { code?: unknown }).code === "ENOTSUP" && kernelCopied === 0) {
            kernelCopy = false; // this system or file system cannot: through memory from now on
            continue;
          }
          if ((err as { code?: unknown }).code === "ECHANGED") throw new HexmapError("ECHANGED", `${file} was changed on disk by another program during the save; it was not replaced`);
          throw toHexmapError(err, { path: tmp, op: "write", offset: pos });
        }
        written += data;
        copied += n;
        kernelCopied += n;
        resizeHook("rw-copy", k);
        k++;
        pos += n;
        segOff += n;
        if (segOff === seg.length) {
          segIdx++;
          segOff = 0;
        }
        options.onProgress?.({ phase: "copy", done: pos, total: size });
        continue;
      }
      const slot = k % REWRITE_BUFFERS;
      if (inFlight[slot]) await inFlight[slot]; // this buffer's last write
      const buf = bufs[slot]!;
      let want = Math.min(buf.length, size - pos);
      for (let used = 0; used < want; ) {
        const s = segs[segIdx]!;
        if (used > 0 && segOff === 0 && bigFileSeg(s, 0)) {
          want = used; // the rest goes to the kernel copy
          break;
        }
        const n = Math.min(s.length - segOff, want - used);
        if (s.kind === "file") {
          const from = s.start + segOff;
          if (n <= SMALL_SEG && !(from >= cache.start && from + n <= cache.end)) await fillCache(from, segIdx);
          if (from >= cache.start && from + n <= cache.end) cache.buf.copy(buf, used, from - cache.start, from - cache.start + n);
          else await preadFull(S, buf, used, n, from, file);
          copied += n;
        } else if (s.kind === "bytes") {
          buf.set(s.bytes!.subarray(segOff, segOff + n), used);
        } else {
          fillPattern(buf, used, n, s.pattern!, (s.phase + segOff) % s.pattern!.length);
        }
        used += n;
        segOff += n;
        if (segOff === s.length) {
          segIdx++;
          segOff = 0;
        }
      }
      const w = writeOut(buf, want, pos, k);
      // A rejection is awaited when the buffer comes round again or after the loop; keep it from being reported as unhandled meanwhile.
      w.catch(() => {});
      inFlight[slot] = w;
      pos += want;
      k++;
      options.onProgress?.({ phase: "copy", done: pos, total: size });
    }
    await Promise.all(inFlight);
    timings.copy = performance.now() - t;
    t = performance.now();
    try {
      fs.ftruncateSync(O, size); // trailing holes; the size in any case
    } catch (err) {
      throw toHexmapError(err, { path: tmp, op: "set the size of" });
    }
    // Owner first: chown clears set-user-ID/set-group-ID bits, which the chmod then restores.
    if (process.platform !== "win32") {
      const mine = fs.fstatSync(O);
      if (mine.uid === st.uid && mine.gid === st.gid) kept.owner = true;
      else {
        try {
          fs.fchownSync(O, st.uid, st.gid);
          kept.owner = true;
        } catch {
          try {
            fs.fchownSync(O, -1, st.gid); // the owner may give the file a group it is in
          } catch {
            /* not permitted: the new file belongs to whoever saved it */
          }
        }
      }
    } else kept.owner = true; // Windows: the new file gets the folder's inherited ACL (see above)
    try {
      fs.fchmodSync(O, st.mode & 0o7777);
      kept.mode = true;
    } catch {
      /* e.g. a file system without modes */
    }
    options.onProgress?.({ phase: "sync", done: size, total: size });
    try {
      await fsyncAsync(O);
    } catch (err) {
      throw toHexmapError(err, { path: tmp, op: "sync" });
    }
    fs.closeSync(O);
    outFd = undefined;
    timings.sync = performance.now() - t;
    resizeHook("rw-sync", 0);
    if (options.signal?.aborted) throw cancelled();
    // Last look before the replace: the original must be the file we copied, unchanged.
    t = performance.now();
    const now = fs.fstatSync(S);
    let atPath: fs.Stats | undefined;
    try {
      atPath = fs.statSync(real);
    } catch {
      /* removed meanwhile */
    }
    if (now.size !== st.size || now.mtimeMs !== st.mtimeMs || !atPath || atPath.ino !== st.ino || atPath.dev !== st.dev) {
      throw new HexmapError("ECHANGED", `${file} was changed on disk by another program during the save; it was not replaced (save again to overwrite those changes)`);
    }
    options.onProgress?.({ phase: "replace", done: 0, total: 1 });
    await options.beforeCommit?.();
    // Windows refuses to replace a file that is still open (MoveFileExW: access denied): let go of
    // our source descriptor first there.
    if (process.platform === "win32") {
      fs.closeSync(S);
      srcFd = undefined;
    }
    try {
      if (typeof native.replaceFile === "function") native.replaceFile(real, tmp);
      else fs.renameSync(tmp, real);
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "replace" });
    }
    activeTemps.delete(tmp);
    // Our descriptor is now the last reference to the old inode: closing it frees its blocks
    // (seconds for a multi-GiB file). Nothing durable waits on that, so it runs in the background.
    if (srcFd !== undefined) fs.close(S, () => {});
    srcFd = undefined;
    resizeHook("rw-renamed", 0);
    fsyncDir(dir);
    resizeHook("rw-done", 0);
    timings.replace = performance.now() - t;
    options.onProgress?.({ phase: "replace", done: 1, total: 1 });
    return { strategy: "rewrite", size, copiedBytes: copied, writtenBytes: written, durationMs: 0, timings, kept, kernelCopiedBytes: kernelCopied };
  } catch (err) {
    // A write still in flight must settle before its descriptor is closed (the number could be reused).
    await Promise.allSettled(inFlight);
    if (outFd !== undefined) {
      try {
        fs.closeSync(outFd);
      } catch {
        /* closing a temp we delete next */
      }
    }
    if (activeTemps.has(tmp)) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* never created */
      }
    }
    if (osCode(err) === "ENOSPC") {
      throw new HexmapError("ENOSPC", `The disk holding ${file} filled up while the new version was being written; the file was not changed (its temporary copy was removed). Free some space and save again`, { cause: err });
    }
    throw toHexmapError(err, { path: file, op: "save" });
  } finally {
    activeTemps.delete(tmp);
    if (srcFd !== undefined) fs.closeSync(srcFd);
  }
}

/** The OS error code under an error (a HexmapError keeps the original as its cause). */
function osCode(err: unknown): string | undefined {
  for (let e = err, i = 0; e && typeof e === "object" && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && !(e instanceof HexmapError)) return code;
  }
  return undefined;
}

// ---- in place: the plan -------------------------------------------------------------------------------

interface InPlacePlan {
  tables: Plan2Tables;
  /** The data blob, in order: added bytes, fill patterns, and file ranges to stage at plan time. */
  blob: ({ mem: Uint8Array } | { start: number; length: number })[];
  journalBytes: number;
  movedBytes: number;
  /** Bytes of the write records (added bytes, fills, staged pieces). */
  writeBytes: number;
  stagedBytes: number;
  chunkSize: number;
}

/**
 * Picks the file pieces that are moved in place: a chain, in output order, whose sources are in
 * increasing order and do not overlap, of the greatest total length (the normal case — pieces of
 * the original in their original order — is the whole list; a reordered or duplicated piece, as
 * after a cut and paste, falls outside the chain). The others are copied into the journal at plan
 * time and written like added bytes. O(n log n): a Fenwick tree of the best chain ending at or
 * before each source end.
 */
function chooseChain(files: Seg[]): boolean[] {
  const n = files.length;
  const inChain = new Array<boolean>(n).fill(true);
  let monotonic = true;
  for (let i = 1; i < n && monotonic; i++) if (files[i]!.start < files[i - 1]!.start + files[i - 1]!.length) monotonic = false;
  if (monotonic) return inChain;
  const ends = [...new Set(files.map((f) => f.start + f.length))].sort((a, b) => a - b);
  const tree = new Float64Array(ends.length + 1); // best chain weight
  const arg = new Int32Array(ends.length + 1).fill(-1);
  const best = new Float64Array(n);
  const prev = new Int32Array(n).fill(-1);
  const upperIndex = (v: number): number => {
    // number of ends <= v
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (let i = 0; i < n; i++) {
    const f = files[i]!;
    let q = 0;
    let qa = -1;
    for (let x = upperIndex(f.start); x > 0; x -= x & -x) if (tree[x]! > q) ((q = tree[x]!), (qa = arg[x]!));
    best[i] = q + f.length;
    prev[i] = qa;
    for (let x = upperIndex(f.start + f.length); x <= ends.length; x += x & -x) if (best[i]! > tree[x]!) ((tree[x] = best[i]!), (arg[x] = i));
  }
  let top = 0;
  for (let i = 1; i < n; i++) if (best[i]! > best[top]!) top = i;
  inChain.fill(false);
  for (let i = n > 0 ? top : -1; i >= 0; i = prev[i]!) inChain[i] = true;
  return inChain;
}

/**
 * The in-place plan: steps, each made durable (fsync) before the cursor moves past it.
 *
 *   1. extend to the new size, when growing (so the right moves below have room);
 *   2. the chain's LEFT moves (new offset < old offset), in increasing order, each copied front to
 *      back in chunks;
 *   3. the chain's RIGHT moves (new offset > old offset), in decreasing order, back to front;
 *   4. the writes: added bytes, fills and the staged pieces, all from the journal;
 *   5. truncate to the new size, when shrinking.
 *
 * Why no source is overwritten before it is copied. Chain pieces P_i have sources S_i and
 * destinations D_i, both increasing with i and non-overlapping (destinations tile the new file).
 * A left piece L_i writes D_i, which lies left of S_i's end and right of every earlier D_j:
 *   - earlier pieces j < i: a left one was already copied; a right or unmoved one has
 *     S_j ending at or before D_j's end ≤ start of D_i — no overlap;
 *   - later pieces j > i: S_j starts at or after S_i's end > D_i's end — no overlap.
 * A right piece R_i (done after all left ones, in decreasing order) writes D_i, right of S_i:
 *   - later pieces j > i: a right one was already copied, a left one long ago; an unmoved one
 *     has S_j = D_j, after D_i — no overlap;
 *   - earlier pieces j < i: S_j ends at or before S_i's start < D_i's start — no overlap.
 * Within a piece, chunks front to back (left) or back to front (right) only write over source
 * chunks already copied, for the same reason. Writes come after every move and read only the
 * journal. The extension is beyond every source; the truncation after every read.
 *
 * Re-doing a step after a kill. A step is redone from its start, so its writes must not have
 * destroyed its own sources: a "direct" step is a batch of chunks whose destination span and
 * source span do not intersect (a piece shifted by at least the batch's length). A chunk whose
 * destination overlaps its own source (a shift smaller than the chunk), or a batch that cannot
 * grow to a useful size (batchBytes/4) without its spans meeting, is STAGED instead: its sources
 * are copied into the journal's scratch area and made durable before it writes anything, and a
 * redo copies from there (journal2.ts). Shifts of at least batchBytes/4 but less than a chunk
 * use chunks of the shift's length, so they stay direct; smaller shifts (an insert of a few bytes
 * near the start of a huge file) are staged: the bytes go through the journal once more, which
 * is the price of being resumable.
 */
function planInPlace(segs: Seg[], oldSize: number, newSize: number, chunkSizeIn: number, batchBytesIn: number): InPlacePlan {
  const chunkSize = Math.min(MAX_CHUNK, Math.max(1, Math.floor(chunkSizeIn)));
  const batchBytes = Math.max(chunkSize, Math.floor(batchBytesIn));
  const minDirect = Math.max(1, Math.floor(batchBytes / 4));
  const files = segs.filter((s) => s.kind === "file");
  const inChain = chooseChain(files);
  const left: Seg[] = [];
  const right: Seg[] = [];
  const staged = new Set<Seg>();
  files.forEach((f, i) => {
    if (!inChain[i]) staged.add(f);
    else if (f.dst < f.start) left.push(f);
    else if (f.dst > f.start) right.push(f);
  });
  const chunks: number[] = [];
  let movedBytes = 0;
  const chunkLen = (shift: number): number => (shift < chunkSize && shift >= minDirect ? shift : chunkSize);
  for (const p of left) {
    const c = chunkLen(p.start - p.dst);
    for (let off = 0; off < p.length; off += c) chunks.push(p.start + off, p.dst + off, Math.min(c, p.length - off));
    movedBytes += p.length;
  }
  for (let i = right.length - 1; i >= 0; i--) {
    const p = right[i]!;
    const c = chunkLen(p.dst - p.start);
    for (let end = p.length; end > 0; end -= c) {
      const l = Math.min(c, end);
      chunks.push(p.start + end - l, p.dst + end - l, l);
    }
    movedBytes += p.length;
  }

  const steps: number[] = [];
  if (newSize > oldSize) steps.push(STEP_EXTEND, 0, 0, 0);
  let scratchBytes = 0;
  const chunkCount = chunks.length / 3;
  for (let i = 0; i < chunkCount; ) {
    const s0 = chunks[3 * i]!;
    const d0 = chunks[3 * i + 1]!;
    const l0 = chunks[3 * i + 2]!;
    let stagedStep = Math.abs(d0 - s0) < l0;
    let [sLo, sHi, dLo, dHi] = [s0, s0 + l0, d0, d0 + l0];
    let bytes = l0;
    let j = i + 1;
    for (; j < chunkCount; j++) {
      const s = chunks[3 * j]!;
      const d = chunks[3 * j + 1]!;
      const l = chunks[3 * j + 2]!;
      if (bytes + l > batchBytes) break;
      if (!stagedStep) {
        const [a, b, c, e] = [Math.min(sLo, s), Math.max(sHi, s + l), Math.min(dLo, d), Math.max(dHi, d + l)];
        if (!(e <= a || b <= c)) {
          if (bytes >= minDirect) break;
          stagedStep = true;
        }
        [sLo, sHi, dLo, dHi] = [a, b, c, e];
      }
      bytes += l;
    }
    steps.push(stagedStep ? STEP_MOVE_STAGED : STEP_MOVE, i, j - i, bytes);
    if (stagedStep) scratchBytes = Math.max(scratchBytes, bytes);
    i = j;
  }

  // Writes, in output order, cut so that no step holds more than batchBytes.
  const writes: number[] = [];
  const blob: InPlacePlan["blob"] = [];
  let dataBytes = 0;
  let stagedBytes = 0;
  let stepFirst = 0;
  let stepBytes = 0;
  const closeStep = (): void => {
    const count = writes.length / 6 - stepFirst;
    if (count > 0) steps.push(STEP_WRITE, stepFirst, count, stepBytes);
    stepFirst = writes.length / 6;
    stepBytes = 0;
  };
  const addWrite = (kind: number, dst: number, length: number, dataOff: number, patLen: number, phase: number): void => {
    for (let at = 0; at < length; ) {
      if (stepBytes >= batchBytes) closeStep();
      const n = Math.min(length - at, batchBytes - stepBytes);
      if (kind === WRITE_DATA) writes.push(kind, dst + at, n, dataOff + at, 0, 0);
      else writes.push(kind, dst + at, n, dataOff, patLen, (phase + at) % patLen);
      stepBytes += n;
      at += n;
    }
  };
  for (const s of segs) {
    if (s.kind === "file" && !staged.has(s)) continue;
    if (s.kind === "fill") {
      blob.push({ mem: s.pattern! });
      addWrite(WRITE_FILL, s.dst, s.length, dataBytes, s.pattern!.length, s.phase);
      dataBytes += s.pattern!.length;
    } else {
      if (s.kind === "bytes") blob.push({ mem: s.bytes! });
      else {
        blob.push({ start: s.start, length: s.length });
        stagedBytes += s.length;
      }
      addWrite(WRITE_DATA, s.dst, s.length, dataBytes, 0, 0);
      dataBytes += s.length;
    }
  }
  closeStep();
  if (newSize < oldSize) steps.push(STEP_TRUNCATE, 0, 0, 0);
  const tables: Plan2Tables = { steps, chunks, writes, dataBytes, scratchBytes };
  const lay = journal2Layout(steps.length / 4, chunkCount, writes.length / 6, dataBytes, scratchBytes);
  let writeBytes = 0;
  for (let i = 2; i < writes.length; i += 6) writeBytes += writes[i]!;
  return { tables, blob, journalBytes: lay.total, movedBytes, writeBytes, stagedBytes, chunkSize };
}

// ---- in place: running it -----------------------------------------------------------------------------

async function inPlace(file: string, real: string, st: fs.Stats, size: number, plan: InPlacePlan, options: ResizeSaveOptions): Promise<ResizeSaveResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  let srcFd: number | undefined;
  try {
    srcFd = fs.openSync(real, "r");
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "open" });
  }
  try {
    const S = srcFd;
    const now = fs.fstatSync(S);
    if (now.ino !== st.ino || now.size !== st.size) throw new HexmapError("ECHANGED", `${file} was replaced or changed on disk while the save started`);
    const readPiece = plan.chunkSize;
    async function* data(): AsyncGenerator<Uint8Array> {
      for (const part of plan.blob) {
        if ("mem" in part) {
          yield part.mem;
          continue;
        }
        for (let at = 0; at < part.length; ) {
          const n = Math.min(readPiece, part.length - at, 16 * MiB);
          const b = Buffer.allocUnsafe(n); // fresh: the journal writer keeps it until its next flush
          await preadFull(S, b, 0, n, part.start + at, file);
          yield b;
          at += n;
        }
      }
    }
    const journal = await writeJournal2(file, { oldSize: st.size, newSize: size, oldMtimeMs: st.mtimeMs }, plan.tables, data(), {
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total) => options.onProgress?.({ phase: "plan", done, total }),
    });
    resizeHook("ip-journal-durable", 0);
    timings.journal = performance.now() - t;
    t = performance.now();
    fs.closeSync(S);
    srcFd = undefined;
    const check = inspectJournal2(file);
    if (check.status !== "valid") throw new HexmapError("EIO", `The save journal ${journal.path} could not be read back (${check.status === "invalid" ? check.reason : "missing"}); the file was not changed`);
    try {
      await options.beforeCommit?.();
      const run = await runJournal2(file, check.journal, {
        ioBytes: plan.chunkSize,
        onProgress: (p) => options.onProgress?.(p),
      });
      Object.assign(timings, run.timings);
    } catch (err) {
      const cause = toHexmapError(err, { path: file, op: "save" });
      // Nothing written yet (the cursor never said "started"): back out cleanly.
      const after = inspectJournal2(file);
      if (after.status === "valid" && !after.journal.cursor.started) {
        removeJournal2(file);
        throw new HexmapError(cause.code, `Saving ${file} failed before anything was written; the file is unchanged (${cause.message})`, { cause: err });
      }
      throw new HexmapError(
        cause.code === "ECHANGED" ? "ECHANGED" : "EIO",
        `Saving ${file} in place failed midway (${cause.message}); its journal ${journal.path} remains and the save can only be finished: run hexmap recover --forward once the cause is fixed`,
        { cause: err },
      );
    }
    timings.apply = performance.now() - t;
    return {
      strategy: "in-place",
      size,
      copiedBytes: plan.movedBytes,
      writtenBytes: plan.movedBytes + plan.writeBytes,
      durationMs: 0,
      timings,
      kept: { mode: true, owner: true, holes: false },
      journalBytes: journal.bytes,
      stagedBytes: plan.stagedBytes,
    };
  } finally {
    if (srcFd !== undefined) fs.closeSync(srcFd);
  }
}
