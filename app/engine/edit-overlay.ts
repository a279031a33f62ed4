// EditOverlay: pending edits above a raw source (ImHex's Provider patches, DESIGN.md decision 5).
// The file is never touched here: edits are kept as sorted, non-overlapping runs of new bytes and
// merged into every read; undo/redo operate on the runs. Overwrite mode only, so the document
// size never changes.
//
// Data structure. Runs live in a chunked sorted list (RunList): an array of chunks of at most
// 2 × CHUNK runs each, ordered by offset. Finding a position is a binary search over the chunks
// (by the end of each chunk's last run), then inside one chunk: O(log n). Inserting or removing
// moves at most one chunk's worth of pointers, so 1 000 000 scattered single-byte edits cost
// O(n log n) in all, not O(n²) as one flat sorted array with splice would.
//
// Runs are immutable: trimming takes a subarray, merging allocates a new array. That lets an undo
// step share its byte arrays with the overlay at no copy.
//
// Undo. A step records the range it changed, the overlay's runs inside that range *before* the
// change (clipped; a gap means "not edited": undo puts back the gap, so the byte shows the file
// again, not a copy of the file's byte), and the new bytes of the whole range (after an edit the
// whole range is edited, so that is one contiguous array). Undo removes the range and re-inserts
// the old runs; redo removes it and inserts the new bytes. No depth limit but memory.
//
// Typing grouping: an edit coalesces into the top undo step when it passes the same `group` key
// as the edit that made that step, nothing else happened in between (no undo/redo/save), its range
// overlaps or touches the step's range, and the union stays within COALESCE_MAX bytes.
//
// Memory (measured by the 1M-edit case in test/edit/overlay.test.ts): about 280 bytes of JS heap per
// scattered single-byte edit (one run object, its 1-byte subarray of a shared slab — shared with
// the undo step — and the step object); edits of n contiguous bytes cost n bytes plus the same
// constant. The Editor adds about 25 bytes per edited range for its reference copy of the
// original bytes (a compact append-only log, no object per entry).

import { HexmapError, checkOffset } from "./errors";

/** A run of edited bytes: bytes.length > 0. Never mutated once created. */
export interface Run {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface ChangedRange {
  /** First changed offset. */
  start: number;
  /** One past the last changed offset. */
  end: number;
}

export interface EditOptions {
  /** Consecutive edits with the same key that touch each other merge into one undo step (typing). */
  group?: string | number;
}

/** Largest single edit or fill, in bytes; bigger ones are ETOOBIG (they would live in memory). */
export const MAX_EDIT_BYTES = 256 * 1024 * 1024;
/** Largest undo step that typing (same group) may grow into. */
export const COALESCE_MAX = 16 * 1024;
/** Adjacent runs are merged into one while the result stays within this size. */
export const MERGE_MAX = 4096;

const CHUNK = 32;
const EMPTY_RUNS: readonly Run[] = Object.freeze([]);

function runEnd(r: Run): number {
  return r.offset + r.bytes.length;
}

/**
 * Small byte arrays are carved out of shared 16 KiB slabs: a separate Uint8Array(1) costs about
 * 200 bytes of heap, a subarray of a slab about 100. A slab lives while any of its pieces does.
 */
class SlabAllocator {
  private slab = new Uint8Array(0);
  private used = 0;
  alloc(n: number): Uint8Array {
    if (n > 64) return new Uint8Array(n);
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(16 * 1024);
      this.used = 0;
    }
    const piece = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return piece;
  }
}

/** One chunk: runs in order, and their end offsets in a packed number array (cache friendly). */
interface Chunk {
  runs: Run[];
  ends: number[];
}

/** Sorted, non-overlapping runs in chunks: O(log n) lookup, O(log n + CHUNK) insert/remove. */
export class RunList {
  private chunks: Chunk[] = [];
  /** End of each chunk's last run: the binary search over chunks never touches a run object. */
  private lastEnds: number[] = [];
  private nRuns = 0;
  private nBytes = 0;
  readonly slabs = new SlabAllocator();

  /** Number of runs. */
  get count(): number {
    return this.nRuns;
  }

  /** Total bytes covered by runs. */
  get bytes(): number {
    return this.nBytes;
  }

  clear(): void {
    this.chunks = [];
    this.lastEnds = [];
    this.nRuns = 0;
    this.nBytes = 0;
  }

  /** Runs in offset order. Do not modify the list while iterating. */
  *runs(): IterableIterator<Run> {
    for (const ch of this.chunks) yield* ch.runs;
  }

  /** Index of the first chunk whose last run ends after `off` (chunks.length if none). */
  private chunkFor(off: number): number {
    return RunList.runIndex(this.lastEnds, off);
  }

  /** Index in `ends` (sorted) of the first end after `off` (ends.length if none). */
  private static runIndex(ends: number[], off: number): number {
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! > off) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The run containing offset `off`, if any. */
  find(off: number): Run | undefined {
    const ch = this.chunks[this.chunkFor(off)];
    if (!ch) return undefined;
    const r = ch.runs[RunList.runIndex(ch.ends, off)];
    return r && r.offset <= off ? r : undefined;
  }

  /**
   * Calls fn for every run intersecting [start, end), in order, with the intersection
   * [from, to) (absolute offsets).
   */
  forEachIn(start: number, end: number, fn: (run: Run, from: number, to: number) => void): void {
    if (end <= start) return;
    for (let ci = this.chunkFor(start); ci < this.chunks.length; ci++) {
      const ch = this.chunks[ci]!;
      const runs = ch.runs;
      for (let i = RunList.runIndex(ch.ends, start); i < runs.length; i++) {
        const r = runs[i]!;
        if (r.offset >= end) return;
        fn(r, Math.max(r.offset, start), Math.min(runEnd(r), end));
      }
    }
  }

  /** The runs intersecting [start, end), clipped to it (subarrays: no copy). */
  collect(start: number, end: number): Run[] {
    const out: Run[] = [];
    this.forEachIn(start, end, (r, from, to) => out.push(clip(r, from, to)));
    return out;
  }

  /** The sub-ranges of [start, end) that no run covers. */
  gaps(start: number, end: number): ChangedRange[] {
    const out: ChangedRange[] = [];
    let pos = start;
    this.forEachIn(start, end, (_r, from, to) => {
      if (from > pos) out.push({ start: pos, end: from });
      pos = to;
    });
    if (pos < end) out.push({ start: pos, end });
    return out;
  }

  /** Copies the runs' bytes over `buf`, which holds the bytes at [offset, offset + buf.length). */
  apply(offset: number, buf: Uint8Array): Uint8Array {
    this.forEachIn(offset, offset + buf.length, (r, from, to) => {
      buf.set(r.bytes.subarray(from - r.offset, to - r.offset), from - offset);
    });
    return buf;
  }

  /** Removes every covered byte in [start, end), trimming runs that stick out. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    let ci = this.chunkFor(start);
    let first = true;
    while (ci < this.chunks.length) {
      const ch = this.chunks[ci]!;
      const { runs, ends } = ch;
      const i = first ? RunList.runIndex(ends, start) : 0;
      first = false;
      let j = i;
      let k0: Run | undefined;
      let k1: Run | undefined;
      while (j < runs.length && runs[j]!.offset < end) {
        const r = runs[j]!;
        const rEnd = ends[j]!;
        this.nRuns--;
        this.nBytes -= r.bytes.length;
        if (r.offset < start) k0 = { offset: r.offset, bytes: r.bytes.subarray(0, start - r.offset) };
        if (rEnd > end) k1 = { offset: end, bytes: r.bytes.subarray(end - r.offset) };
        j++;
      }
      const stoppedInside = j < runs.length;
      if (j > i) {
        if (k0 && k1) {
          runs.splice(i, j - i, k0, k1);
          ends.splice(i, j - i, start, runEnd(k1));
        } else if (k0 || k1) {
          const k = (k0 ?? k1)!;
          runs.splice(i, j - i, k);
          ends.splice(i, j - i, runEnd(k));
        } else {
          runs.splice(i, j - i);
          ends.splice(i, j - i);
        }
        for (const k of [k0, k1]) {
          if (!k) continue;
          this.nRuns++;
          this.nBytes += k.bytes.length;
        }
      }
      if (runs.length === 0) {
        this.chunks.splice(ci, 1);
        this.lastEnds.splice(ci, 1);
      } else {
        this.lastEnds[ci] = ends[ends.length - 1]!;
        ci++;
      }
      if (stoppedInside) return;
    }
  }

  /**
   * Inserts a run over bytes no run covers (the caller removed the range first), merging it with
   * a neighbour that touches it while the result stays within MERGE_MAX bytes.
   */
  insert(run: Run): void {
    let { offset, bytes } = run;
    if (bytes.length === 0) return;
    if (bytes.length < MERGE_MAX) {
      const left = offset > 0 ? this.find(offset - 1) : undefined;
      if (left && left.bytes.length + bytes.length <= MERGE_MAX) {
        const merged = this.slabs.alloc(left.bytes.length + bytes.length);
        merged.set(left.bytes, 0);
        merged.set(bytes, left.bytes.length);
        this.remove(left.offset, runEnd(left));
        offset = left.offset;
        bytes = merged;
      }
      const right = this.find(offset + bytes.length);
      if (right && right.bytes.length + bytes.length <= MERGE_MAX) {
        const merged = this.slabs.alloc(right.bytes.length + bytes.length);
        merged.set(bytes, 0);
        merged.set(right.bytes, bytes.length);
        this.remove(right.offset, runEnd(right));
        bytes = merged;
      }
    }
    this.insertRaw(bytes === run.bytes && offset === run.offset ? run : { offset, bytes });
  }

  private insertRaw(run: Run): void {
    this.nRuns++;
    this.nBytes += run.bytes.length;
    const end = runEnd(run);
    if (this.chunks.length === 0) {
      this.chunks.push({ runs: [run], ends: [end] });
      this.lastEnds.push(end);
      return;
    }
    let ci = this.chunkFor(run.offset);
    let i: number;
    if (ci === this.chunks.length) {
      ci--;
      i = this.chunks[ci]!.runs.length;
    } else {
      i = RunList.runIndex(this.chunks[ci]!.ends, run.offset);
    }
    const ch = this.chunks[ci]!;
    ch.runs.splice(i, 0, run);
    ch.ends.splice(i, 0, end);
    if (ch.runs.length > 2 * CHUNK) {
      const tail: Chunk = { runs: ch.runs.splice(CHUNK), ends: ch.ends.splice(CHUNK) };
      this.chunks.splice(ci + 1, 0, tail);
      this.lastEnds.splice(ci + 1, 0, tail.ends[tail.ends.length - 1]!);
    }
    this.lastEnds[ci] = ch.ends[ch.ends.length - 1]!;
  }

  /** Checks the invariants (sorted, non-overlapping, non-empty, counters, cached ends). For tests. */
  check(): void {
    let prevEnd = -1;
    let n = 0;
    let b = 0;
    if (this.lastEnds.length !== this.chunks.length) throw new Error("lastEnds length");
    this.chunks.forEach((ch, ci) => {
      if (ch.runs.length === 0) throw new Error("empty chunk");
      if (ch.ends.length !== ch.runs.length) throw new Error("ends length");
      ch.runs.forEach((r, i) => {
        if (r.bytes.length === 0) throw new Error(`empty run at ${r.offset}`);
        if (r.offset < prevEnd) throw new Error(`run at ${r.offset} overlaps or is out of order`);
        prevEnd = runEnd(r);
        if (ch.ends[i] !== prevEnd) throw new Error(`cached end of run at ${r.offset}`);
        n++;
        b += r.bytes.length;
      });
      if (this.lastEnds[ci] !== prevEnd) throw new Error(`cached end of chunk ${ci}`);
    });
    if (n !== this.nRuns || b !== this.nBytes) throw new Error(`counters ${this.nRuns}/${this.nBytes} != ${n}/${b}`);
  }
}

interface Step {
  start: number;
  end: number;
  /** The overlay's runs inside [start, end) before the step; gaps were not edited. */
  before: readonly Run[];
  /** The bytes of [start, end) after the step. */
  after: Uint8Array;
}

/** Pending edits of one document, with undo/redo. Pure: no I/O. */
export class EditOverlay {
  /** Document size: edits must lie within [0, size). */
  readonly size: number;
  private readonly runList = new RunList();
  private undoStack: Step[] = [];
  private redoStack: Step[] = [];
  private gen = 0;
  /** The step the last edit made or grew, and its group, while it may still coalesce. */
  private lastStep: Step | null = null;
  private lastGroup: string | number | undefined;
  // Distance to the last save point in the undo tree (see editCount).
  private savedDepth = 0; // undo depth at the save point, or -1 once it left the current branch
  private forkDepth = 0; // when savedDepth = -1: depth of the common ancestor with the save point
  private forkExtra = 0; // when savedDepth = -1: steps from that ancestor up to the save point

  constructor(size: number) {
    this.size = checkOffset(size, "size");
  }

  /** Bumps on every change (edit, fill, undo, redo, save, clear). */
  get generation(): number {
    return this.gen;
  }

  /**
   * Number of undo steps between the current state and the last save (or open): 0 at the save
   * point, whether it is reached by undoing or redoing.
   */
  get editCount(): number {
    const d = this.undoStack.length;
    if (this.savedDepth >= 0) return Math.abs(d - this.savedDepth);
    return this.forkExtra + Math.abs(d - this.forkDepth);
  }

  /** True when the document differs from the last save point. */
  get dirty(): boolean {
    return this.editCount > 0;
  }

  /** True when there are pending runs to write (may be true at the save point after redo: they equal the file). */
  get hasPending(): boolean {
    return this.runList.count > 0;
  }

  /** Bytes covered by pending edits. */
  get pendingBytes(): number {
    return this.runList.bytes;
  }

  /** Number of pending runs. */
  get runCount(): number {
    return this.runList.count;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  get undoDepth(): number {
    return this.undoStack.length;
  }

  get redoDepth(): number {
    return this.redoStack.length;
  }

  /** Overwrites [offset, offset + bytes.length). The bytes are copied. */
  edit(offset: number, bytes: Uint8Array, options: EditOptions = {}): ChangedRange {
    if (!(bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "Edit bytes must be a Uint8Array");
    this.checkRange(offset, bytes.length);
    const data = this.runList.slabs.alloc(bytes.length);
    data.set(bytes);
    return this.put(offset, data, options.group);
  }

  /** Sets [offset, offset + length) to `byte`. */
  fill(offset: number, length: number, byte: number, options: EditOptions = {}): ChangedRange {
    checkOffset(length, "length");
    if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) {
      throw new HexmapError("EINVAL", `A fill byte must be an integer 0-255, got ${String(byte)}`);
    }
    this.checkRange(offset, length);
    return this.put(offset, this.runList.slabs.alloc(length).fill(byte), options.group);
  }

  /** Undoes the last step; returns the range it changed, or null when there is nothing to undo. */
  undo(): ChangedRange | null {
    const step = this.undoStack.pop();
    if (!step) return null;
    this.runList.remove(step.start, step.end);
    for (const r of step.before) this.runList.insert(r);
    this.redoStack.push(step);
    this.lastStep = null;
    this.gen++;
    return { start: step.start, end: step.end };
  }

  /** Redoes the last undone step; returns the range it changed, or null. */
  redo(): ChangedRange | null {
    const step = this.redoStack.pop();
    if (!step) return null;
    this.runList.remove(step.start, step.end);
    this.runList.insert({ offset: step.start, bytes: step.after });
    this.undoStack.push(step);
    this.lastStep = null;
    this.gen++;
    return { start: step.start, end: step.end };
  }

  /** The range the next undo or redo would change, or null. */
  peek(kind: "undo" | "redo"): ChangedRange | null {
    const stack = kind === "undo" ? this.undoStack : this.redoStack;
    const step = stack[stack.length - 1];
    return step ? { start: step.start, end: step.end } : null;
  }

  /** Merges the pending edits into `buf`, which holds the source's bytes at [offset, offset + buf.length). */
  apply<T extends Uint8Array>(offset: number, buf: T): T {
    this.runList.apply(offset, buf);
    return buf;
  }

  /** True when the byte at `offset` has a pending edit. */
  isEdited(offset: number): boolean {
    return this.runList.find(offset) !== undefined;
  }

  /** Pending runs intersecting [start, end), clipped (for painting edited bytes in another colour). */
  editedIn(start: number, end: number): Run[] {
    return this.runList.collect(start, end);
  }

  /** The sub-ranges of [start, end) with no pending edit. */
  uneditedIn(start: number, end: number): ChangedRange[] {
    return this.runList.gaps(start, end);
  }

  /** Pending runs in offset order (what a save writes). Do not edit while iterating. */
  ranges(): IterableIterator<Run> {
    return this.runList.runs();
  }

  /**
   * After a successful save: the pending runs are now the file's content. Undo history is kept and
   * stays exact across the save: in every step, the "not edited" gaps over bytes the save wrote are
   * replaced with the bytes the file had before the save (`originalOf`, from the journal), so
   * undoing past the save restores them as edits.
   */
  markSaved(originalOf: (offset: number, length: number) => Uint8Array): void {
    const saved = this.runList;
    const fix = (step: Step): void => {
      const gaps = gapsOf(step.before, step.start, step.end);
      if (gaps.length === 0) return;
      const added: Run[] = [];
      for (const g of gaps) {
        saved.forEachIn(g.start, g.end, (_r, from, to) => {
          added.push({ offset: from, bytes: originalOf(from, to - from) });
        });
      }
      if (added.length > 0) step.before = [...step.before, ...added].sort((a, b) => a.offset - b.offset);
    };
    for (const s of this.undoStack) fix(s);
    for (const s of this.redoStack) fix(s);
    this.runList.clear();
    this.savedDepth = this.undoStack.length;
    this.forkDepth = 0;
    this.forkExtra = 0;
    this.lastStep = null;
    this.gen++;
  }

  /** Drops every pending edit and all history (revert to the file, or reload). */
  clear(): void {
    this.runList.clear();
    this.undoStack = [];
    this.redoStack = [];
    this.savedDepth = 0;
    this.forkDepth = 0;
    this.forkExtra = 0;
    this.lastStep = null;
    this.gen++;
  }

  /** Checks internal invariants. For tests. */
  check(): void {
    this.runList.check();
  }

  private checkRange(offset: number, length: number): void {
    checkOffset(offset, "offset");
    if (length === 0) throw new HexmapError("EINVAL", "An edit must change at least one byte");
    if (length > MAX_EDIT_BYTES) {
      throw new HexmapError("ETOOBIG", `An edit of ${length} bytes is too large (at most ${MAX_EDIT_BYTES} at once)`);
    }
    if (offset + length > this.size) {
      throw new HexmapError(
        "ERANGE",
        `An edit of ${length} bytes at offset ${offset} goes past the end of the document (size ${this.size}); overwrite mode cannot grow the file`,
      );
    }
  }

  private put(start: number, data: Uint8Array, group: string | number | undefined): ChangedRange {
    const end = start + data.length;
    const before = this.runList.collect(start, end);
    this.runList.remove(start, end);
    this.runList.insert({ offset: start, bytes: data });
    this.dropRedo();

    const top = this.undoStack[this.undoStack.length - 1];
    if (
      group !== undefined &&
      top !== undefined &&
      top === this.lastStep &&
      group === this.lastGroup &&
      start <= top.end &&
      end >= top.start &&
      Math.max(end, top.end) - Math.min(start, top.start) <= COALESCE_MAX
    ) {
      // Grow the typing step: the bytes outside the step's old range had, before this edit, the
      // state they had before the step (the step never touched them).
      const us = Math.min(start, top.start);
      const ue = Math.max(end, top.end);
      const outside = before.filter((r) => r.offset < top.start || runEnd(r) > top.end);
      const clipped: Run[] = [];
      for (const r of outside) {
        if (r.offset < top.start) clipped.push(clip(r, r.offset, Math.min(runEnd(r), top.start)));
        if (runEnd(r) > top.end) clipped.push(clip(r, Math.max(r.offset, top.end), runEnd(r)));
      }
      const after = new Uint8Array(ue - us);
      after.set(top.after, top.start - us);
      after.set(data, start - us);
      top.before = [...top.before, ...clipped].sort((a, b) => a.offset - b.offset);
      top.after = after;
      top.start = us;
      top.end = ue;
    } else {
      const step: Step = { start, end, before: before.length === 0 ? EMPTY_RUNS : before, after: data };
      this.undoStack.push(step);
      this.lastStep = step;
      this.lastGroup = group;
    }
    this.gen++;
    return { start, end };
  }

  /** A new edit drops the redo branch; if the save point was on it, remember how far it is. */
  private dropRedo(): void {
    if (this.redoStack.length === 0) return;
    const d = this.undoStack.length;
    if (this.savedDepth >= 0) {
      if (this.savedDepth > d) {
        this.forkDepth = d;
        this.forkExtra = this.savedDepth - d;
        this.savedDepth = -1;
      }
    } else if (d < this.forkDepth) {
      this.forkExtra += this.forkDepth - d;
      this.forkDepth = d;
    }
    this.redoStack = [];
  }
}

function clip(r: Run, from: number, to: number): Run {
  if (from === r.offset && to === runEnd(r)) return r;
  return { offset: from, bytes: r.bytes.subarray(from - r.offset, to - r.offset) };
}

function gapsOf(runs: readonly Run[], start: number, end: number): ChangedRange[] {
  const out: ChangedRange[] = [];
  let pos = start;
  for (const r of runs) {
    if (r.offset > pos) out.push({ start: pos, end: r.offset });
    pos = Math.max(pos, runEnd(r));
  }
  if (pos < end) out.push({ start: pos, end });
  return out;
}
