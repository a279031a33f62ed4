// Journaled in-place save, and recovery from an interrupted one.
//
// Save sequence (DESIGN.md decision 5), in time proportional to the edits, never to the file:
//   1. open the file writable (our own NativeSource: the Document stays read-only), read the
//      original bytes of every edited range through read-only views (concurrently, on workers),
//      and let the caller compare them with what it saw when editing (verifyOriginals → ECHANGED);
//   2. write the journal (original + new bytes, SHA-256) to a temp file, fsync it, rename it to
//      `<file>.hexmap-journal`, fsync the directory — from here a crash is recoverable;
//   3. map writable views over the edited ranges only (aligned to the granularity, at most
//      WINDOW_SPAN each, BATCH_VIEWS at a time), write the new bytes, flush the views
//      (FlushViewOfFile; msync(MS_SYNC) on macOS; on Linux the fsync of step 4 does it, see
//      FLUSH_VIEWS) and unmap them;
//   4. sync the file (FlushFileBuffers / fsync);
//   5. delete the journal and fsync the directory.
// A failure in 3-4 (an I/O error, a full disk on a sparse file) rolls the file back from the
// in-memory records and deletes the journal; if even that fails the journal stays for recovery.
// Cancelling is honoured until the journal is durable (nothing was written); after that the save
// runs to completion — a half-done save is exactly what the journal exists to avoid.
//
// Kill points: `faultHook(step, index)` is called at every step boundary; it is a no-op unless a
// test installs one (setSaveFaultHook). The crash test (test/edit/crash.test.ts) pauses the child
// there and kills it with SIGKILL.

import * as fs from "node:fs";
import { loadNative, type NativeAddon, type NativeSource, type NativeView } from "../../native/index";
import { HexmapError, toHexmapError } from "./errors";
import {
  JOURNAL_RECORD_MAX,
  inspectJournal,
  readJournalRecords,
  removeJournal,
  writeJournal,
  type JournalCheck,
  type JournalRecord,
} from "./journal";
import { alignDown } from "./view-cache";
import { inspectJournal2, isJournal2Magic, recovery2State, recoverFile2 } from "./journal2";
import { cleanStaleTemps, findStaleTemps } from "./save-resize";

/** A run of new bytes at a file offset, for an equal-length in-place save. */
export interface Run {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export type SaveStep =
  | "journal-write" // after journal record k was queued to the temp journal
  | "journal-fsync" // temp journal complete and fsync'd, not yet renamed
  | "journal-renamed" // journal under its real name, directory not yet fsync'd
  | "journal-durable" // directory fsync'd: the file is about to be touched
  | "apply" // record k written into its view (not yet flushed)
  | "flush" // batch k of views flushed
  | "sync" // file synced, journal still there
  | "delete-journal"; // journal deleted, directory not yet fsync'd

export type FaultHook = (step: SaveStep, index: number) => void;

const noHook: FaultHook = () => {};
let faultHook: FaultHook = noHook;

/** Installs a hook called at every kill point of a save or recovery (tests only); null removes it. */
export function setSaveFaultHook(hook: FaultHook | null): void {
  faultHook = hook ?? noHook;
}

export interface SaveProgress {
  phase: "read" | "journal" | "apply" | "flush";
  /** Bytes done in this phase. */
  done: number;
  total: number;
}

export interface SaveEditsOptions {
  onProgress?: (p: SaveProgress) => void;
  signal?: AbortSignal;
  /** Identity of the file before the save, recorded in the journal. */
  fileMtimeMs?: number;
  /** The size the caller believes the file has; a different size now is ECHANGED. */
  expectedSize?: number;
  /**
   * Called with the records once their current bytes (record.original) have been read, before
   * anything is written: a returned sentence means the file changed underneath → ECHANGED.
   */
  verifyOriginals?: (records: readonly JournalRecord[]) => string | null;
  native?: NativeAddon;
}

/** Where a save spent its time (ms), for benchmarks and logs. */
export interface SaveTimings {
  read: number;
  journal: number;
  write: number;
  flush: number;
  sync: number;
  deleteJournal: number;
}

export interface SaveEditsResult {
  timings: SaveTimings;
  /** Views mapped for writing. */
  views: number;
  records: number;
  /** Bytes written into the file. */
  bytes: number;
  journalBytes: number;
  /** The records written, with the original bytes (for undo across the save). */
  written: JournalRecord[];
  durationMs: number;
}

/**
 * Edits closer than this share one view. Mapping is lazy (only touched pages cost anything), and
 * every flush is a synchronous write-back (and on most file systems a journal commit), so the
 * number of views, not their length, is what a save pays for: with scattered edits a save makes
 * min(edits, size / WINDOW_SPAN) views.
 */
const WINDOW_SPAN = 64 * 1024 * 1024;
/** Views mapped at once (bounds address space: at most about BATCH_VIEWS × (WINDOW_SPAN + 16 MiB)). */
const BATCH_VIEWS = 16;
/** Records up to this size are written synchronously when their pages are hot (see applyRecords). */
const SYNC_WRITE_MAX = 64 * 1024;
/** Originals of records closer than this are read in one copy. */
const READ_SPAN = 64 * 1024;
/** Reads up to this size are done on the calling thread (see readOriginals). */
const SYNC_READ_MAX = 64 * 1024;
/** Longest the save's synchronous reads and writes hold the event loop before yielding. */
const YIELD_MS = 4;
/**
 * Linux: the page cache is one cache for mapped and read/write I/O, so one fsync of the file
 * writes back every page dirtied through the views, and a per-view msync(MS_SYNC) only adds a
 * write-back and a file-system journal commit per view (10 000 scattered edits in a 16 GiB file:
 * 256 views, flush 214 ms of a 527 ms save). Elsewhere the views are flushed as documented
 * (Windows: FlushViewOfFile, then FlushFileBuffers; macOS: msync, then fsync).
 */
const FLUSH_VIEWS = process.platform !== "linux";

interface Window {
  start: number;
  length: number;
  records: JournalRecord[];
  firstIndex: number;
}

/** Splits runs into records of at most JOURNAL_RECORD_MAX, joining runs that touch. */
function toRecords(runs: Iterable<Run>): { offset: number; next: Uint8Array }[] {
  const out: { offset: number; next: Uint8Array }[] = [];
  let cur: { offset: number; parts: Uint8Array[]; length: number } | undefined;
  const emit = (): void => {
    if (!cur) return;
    const next = cur.parts.length === 1 ? cur.parts[0]! : Buffer.concat(cur.parts, cur.length);
    out.push({ offset: cur.offset, next });
    cur = undefined;
  };
  for (const r of runs) {
    for (let p = 0; p < r.bytes.length; p += JOURNAL_RECORD_MAX) {
      const piece = r.bytes.subarray(p, Math.min(r.bytes.length, p + JOURNAL_RECORD_MAX));
      const off = r.offset + p;
      if (cur && cur.offset + cur.length === off && cur.length + piece.length <= JOURNAL_RECORD_MAX) {
        cur.parts.push(piece);
        cur.length += piece.length;
      } else {
        emit();
        cur = { offset: off, parts: [piece], length: piece.length };
      }
    }
  }
  emit();
  return out;
}

/** Groups sorted records into aligned windows of at most WINDOW_SPAN (or one record's length). */
function planWindows(records: JournalRecord[], granularity: number, size: number): Window[] {
  const out: Window[] = [];
  let w: Window | undefined;
  records.forEach((r, k) => {
    const end = r.offset + r.next.length;
    if (w && end - w.start <= WINDOW_SPAN) {
      w.records.push(r);
      w.length = end - w.start;
      return;
    }
    const start = alignDown(r.offset, granularity);
    w = { start, length: end - start, records: [r], firstIndex: k };
    out.push(w);
  });
  for (const x of out) x.length = Math.min(x.length, size - x.start);
  return out;
}

function openWritable(native: NativeAddon, file: string): NativeSource {
  try {
    return native.openFile(file, { writable: true });
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "open for writing" });
  }
}

function mapView(src: NativeSource, file: string, w: Window, writable: boolean): NativeView {
  try {
    return src.map(w.start, w.length, writable);
  } catch (err) {
    throw toHexmapError(err, { path: file, op: writable ? "map for writing" : "map", offset: w.start, length: w.length });
  }
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, "r");
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "open" });
  }
}

/** Reads the current bytes of every record into record.original (clusters read concurrently). */
async function readOriginals(src: NativeSource, file: string, windows: Window[], total: number, onProgress?: (p: SaveProgress) => void): Promise<void> {
  const fd = openForReading(file);
  try {
    await readOriginalsWith(src, fd, file, windows, total, onProgress);
  } finally {
    fs.closeSync(fd);
  }
}

function readAt(fd: number, buf: Buffer, pos: number, file: string): void {
  for (let got = 0; got < buf.length; ) {
    const n = fs.readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) throw new HexmapError("ECHANGED", `${file} is now shorter than the edits to save`);
    got += n;
  }
}

async function readOriginalsWith(src: NativeSource, fd: number, file: string, windows: Window[], total: number, onProgress?: (p: SaveProgress) => void): Promise<void> {
  let done = 0;
  for (let b = 0; b < windows.length; b += BATCH_VIEWS) {
    const batch = windows.slice(b, b + BATCH_VIEWS);
    const views: NativeView[] = [];
    try {
      for (const w of batch) views.push(mapView(src, file, w, false));
      const reads: Promise<void>[] = [];
      let sliceStart = performance.now();
      for (let vi = 0; vi < batch.length; vi++) {
        const recs = batch[vi]!.records;
        const w = batch[vi]!;
        for (let i = 0; i < recs.length; ) {
          // One copy for a cluster of nearby records, then slices.
          let j = i + 1;
          const first = recs[i]!.offset;
          while (j < recs.length && recs[j]!.offset + recs[j]!.next.length - first <= READ_SPAN) j++;
          const last = recs[j - 1]!;
          const cluster = recs.slice(i, j);
          const length = last.offset + last.next.length - first;
          if (length <= SYNC_READ_MAX) {
            // A small read is a page-cache copy: a worker round trip each would cost more than
            // the read, and so would a first touch of a view (a fault that reads ahead a whole
            // window around the byte). pread it is (10 000 scattered edits: 178 → ~20 ms). The
            // event loop is given back every YIELD_MS, so a cold disk cannot hold it for long.
            if (performance.now() - sliceStart > YIELD_MS) {
              await new Promise<void>((resolve) => setImmediate(resolve));
              sliceStart = performance.now();
            }
            const span = Buffer.allocUnsafe(length);
            readAt(fd, span, first, file);
            for (const r of cluster) {
              r.original = span.subarray(r.offset - first, r.offset - first + r.next.length);
              done += r.next.length;
            }
            i = j;
            continue;
          }
          reads.push(
            views[vi]!.read(first - w.start, last.offset + last.next.length - first).then((span) => {
              for (const r of cluster) {
                r.original = span.subarray(r.offset - first, r.offset - first + r.next.length);
                done += r.next.length;
              }
            }),
          );
          i = j;
        }
      }
      const settled = await Promise.allSettled(reads);
      const rejected = settled.find((x): x is PromiseRejectedResult => x.status === "rejected");
      if (rejected) throw rejected.reason;
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "read" });
    } finally {
      for (const v of views) v.unmap();
    }
    onProgress?.({ phase: "read", done, total });
  }
}

/**
 * Writes `pick(record)` of every record through writable views, flushing each batch of views
 * before unmapping it, then syncs the file. Calls the fault hook at "apply" and "flush".
 */
async function applyRecords(
  src: NativeSource,
  file: string,
  windows: Window[],
  pick: (r: JournalRecord) => Uint8Array,
  total: number,
  onProgress?: (p: SaveProgress) => void,
  hook: FaultHook = faultHook,
  timings?: SaveTimings,
  hotPages = false,
): Promise<void> {
  let done = 0;
  let t = performance.now();
  const lap = (key: "write" | "flush" | "sync"): void => {
    const now = performance.now();
    if (timings) timings[key] += now - t;
    t = now;
  };
  let sliceStart = performance.now();
  for (let b = 0; b < windows.length; b += BATCH_VIEWS) {
    const batch = windows.slice(b, b + BATCH_VIEWS);
    const views: NativeView[] = [];
    try {
      for (const w of batch) views.push(mapView(src, file, w, true));
      // Views are written concurrently (the addon writes on worker threads); every writer has
      // settled before the views are unmapped or a rollback starts, so no stale write can land
      // after it.
      let failed = false;
      const settled = await Promise.allSettled(
        batch.map(async (w, i) => {
          const view = views[i]!;
          for (let k = 0; k < w.records.length && !failed; k++) {
            const r = w.records[k]!;
            try {
              const data = pick(r);
              // Small writes into pages the save has just read (hot in the page cache) are a
              // memcpy: done in place, without a worker round trip each. Big ones, and all of a
              // recovery (pages may be cold), go to a worker.
              if (hotPages && data.length <= SYNC_WRITE_MAX) {
                if (performance.now() - sliceStart > YIELD_MS) {
                  await new Promise<void>((resolve) => setImmediate(resolve));
                  sliceStart = performance.now();
                }
                view.writeSync(r.offset - w.start, data);
              } else await view.write(r.offset - w.start, data);
              done += r.next.length;
              hook("apply", w.firstIndex + k);
            } catch (err) {
              failed = true;
              throw err;
            }
          }
        }),
      );
      const rejected = settled.find((x): x is PromiseRejectedResult => x.status === "rejected");
      if (rejected) throw rejected.reason;
      onProgress?.({ phase: "apply", done, total });
      lap("write");
      if (FLUSH_VIEWS) await Promise.all(views.map((v) => v.flush()));
      lap("flush");
      hook("flush", b / BATCH_VIEWS);
      onProgress?.({ phase: "flush", done, total });
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "write" });
    } finally {
      for (const v of views) v.unmap();
    }
  }
  lap("write");
  try {
    await src.sync();
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "sync" });
  }
  lap("sync");
  hook("sync", 0);
}

/**
 * Saves `runs` (sorted, non-overlapping: EditOverlay.ranges()) into `file` in place, journaled.
 * Refuses with EBUSY when an unfinished save's journal is there (recover first).
 */
export async function saveEdits(file: string, runs: Iterable<Run>, options: SaveEditsOptions = {}): Promise<SaveEditsResult> {
  const t0 = performance.now();
  const native = options.native ?? loadNative();
  // A version-2 journal (a resizing in-place save, journal2.ts) reads as "invalid" to inspectJournal: it must block this save, never be deleted by it.
  const existing = isJournal2Magic(file) ? ({ status: "valid" } as const) : inspectJournal(file);
  if (existing.status === "valid") {
    throw new HexmapError(
      "EBUSY",
      `An earlier save of ${file} was interrupted and its journal is still there; recover the file first (hexmap recover)`,
    );
  }
  if (existing.status === "invalid" || existing.staleTemp) removeJournal(file); // never applied: the file is intact

  const plain = toRecords(runs);
  const records: JournalRecord[] = plain.map((r) => ({ offset: r.offset, original: r.next, next: r.next }));
  const total = records.reduce((a, r) => a + r.next.length, 0);
  const timings: SaveTimings = { read: 0, journal: 0, write: 0, flush: 0, sync: 0, deleteJournal: 0 };
  if (records.length === 0) return { records: 0, bytes: 0, journalBytes: 0, written: [], durationMs: performance.now() - t0, timings, views: 0 };

  const src = openWritable(native, file);
  try {
    const size = src.size();
    if (options.expectedSize !== undefined && size !== options.expectedSize) {
      throw new HexmapError("ECHANGED", `${file} changed size on disk (${options.expectedSize} → ${size} bytes) since it was opened`);
    }
    const last = records[records.length - 1]!;
    if (last.offset + last.next.length > size) {
      throw new HexmapError("ECHANGED", `${file} is now shorter (${size} bytes) than the edits to save`);
    }
    const windows = planWindows(records, native.granularity, size);
    let t = performance.now();
    await readOriginals(src, file, windows, total, options.onProgress);
    timings.read = performance.now() - t;
    const changed = options.verifyOriginals?.(records);
    if (changed) throw new HexmapError("ECHANGED", changed);
    t = performance.now();
    if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save cancelled (the file was not touched)");

    const journal = await writeJournal(
      file,
      { fileSize: size, fileMtimeMs: options.fileMtimeMs ?? fs.statSync(file).mtimeMs },
      records,
      {
        hook: (step, k) => faultHook(step, k),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (done, t) => options.onProgress?.({ phase: "journal", done, total: t }),
      },
    );
    faultHook("journal-durable", 0);
    timings.journal = performance.now() - t;

    try {
      await applyRecords(src, file, windows, (r) => r.next, total, options.onProgress, faultHook, timings, true);
    } catch (err) {
      // Put the original bytes back, from memory; the journal stays if even that fails.
      const cause = toHexmapError(err, { path: file, op: "write" });
      try {
        await applyRecords(src, file, windows, (r) => r.original, total, undefined, noHook, undefined, true);
        removeJournal(file);
      } catch {
        throw new HexmapError(
          "EIO",
          `Saving ${file} failed (${cause.message}) and the file could not be rolled back; its journal ${journal.path} remains: run hexmap recover`,
          { cause: err },
        );
      }
      throw new HexmapError("EIO", `Saving ${file} failed and was rolled back; the file is unchanged (${cause.message})`, { cause: err });
    }
    t = performance.now();
    removeJournal(file, (step, k) => faultHook(step, k));
    timings.deleteJournal = performance.now() - t;
    return { records: records.length, bytes: total, journalBytes: journal.bytes, written: records, durationMs: performance.now() - t0, timings, views: windows.length };
  } finally {
    src.close();
  }
}

export type FileState =
  | "old" // every journaled range holds its original bytes: the save never touched the file
  | "new" // every range holds its new bytes: the save finished, only the journal delete was missed
  | "mixed" // some ranges old, some new: the save was interrupted while writing
  | "foreign"; // some range holds neither: the file was changed by something else since

export interface RecoveryState {
  /** none: nothing to recover; invalid: a damaged/incomplete journal (the file was not touched); valid: recovery needed. */
  journal: "none" | "invalid" | "valid";
  journalPath: string;
  /** Why an invalid journal is invalid. */
  reason?: string;
  /** A leftover `<journal>.tmp` (a crash while writing the journal; harmless). */
  staleTemp: boolean;
  records?: number;
  bytes?: number;
  journalBytes?: number;
  /** File size recorded in the journal, and now. */
  journalFileSize?: number;
  fileSize?: number;
  /** Records whose range holds the new bytes / the original bytes now (a record can be both). */
  appliedRecords?: number;
  originalRecords?: number;
  fileState?: FileState;
  /** Journal format: 1 (equal-length save: forward or back) or 2 (a save that changes the size, journal2.ts). Absent when there is none. */
  version?: 1 | 2;
  /** Version 2: the size the save produces, its steps, how many are done (the durable cursor). */
  newFileSize?: number;
  steps?: number;
  stepsDone?: number;
  /** Version 2: back is possible only while nothing was written (the cursor never said "started"). */
  canGoBack?: boolean;
  /** Temp files of a rewrite (or Save As) left by a process that died; recoverFile removes them. */
  staleSaveTemps?: string[];
}

/** What recovery would find for `file`. Reads only; changes nothing. */
export function recoveryState(file: string): RecoveryState {
  const temps = findStaleTemps(file);
  const st = isJournal2Magic(file) ? recoveryState2(file) : recoveryState1(file);
  if (temps.length > 0) st.staleSaveTemps = temps;
  return st;
}

function recoveryState2(file: string): RecoveryState {
  const j = inspectJournal2(file);
  if (j.status === "none") return { journal: "none", journalPath: j.path, staleTemp: j.staleTemp };
  if (j.status === "invalid") return { journal: "invalid", journalPath: j.path, reason: j.reason, staleTemp: j.staleTemp, version: 2 };
  const r = recovery2State(file, j.journal, j.staleTemp);
  return {
    journal: "valid",
    journalPath: r.journalPath,
    staleTemp: r.staleTemp,
    version: 2,
    records: r.steps,
    bytes: r.bytes,
    journalBytes: r.journalBytes,
    journalFileSize: r.oldSize,
    newFileSize: r.newSize,
    fileSize: r.fileSize,
    steps: r.steps,
    stepsDone: r.stepsDone,
    appliedRecords: r.stepsDone,
    canGoBack: !r.started,
    fileState: r.fileState,
  };
}

function recoveryState1(file: string): RecoveryState {
  const j: JournalCheck = inspectJournal(file);
  if (j.status === "none") return { journal: "none", journalPath: j.path, staleTemp: j.staleTemp };
  if (j.status === "invalid") return { journal: "invalid", journalPath: j.path, reason: j.reason, staleTemp: j.staleTemp };
  const st: RecoveryState = {
    journal: "valid",
    journalPath: j.path,
    staleTemp: j.staleTemp,
    records: j.header.count,
    bytes: j.header.dataBytes,
    journalBytes: j.journalBytes,
    journalFileSize: j.header.fileSize,
  };
  const fd = openForReading(file);
  try {
    st.fileSize = fs.fstatSync(fd).size;
    let applied = 0;
    let original = 0;
    let foreign = false;
    for (const r of readJournalRecords(file, j.header)) {
      const now = Buffer.alloc(r.next.length);
      const n = r.offset < st.fileSize ? fs.readSync(fd, now, 0, now.length, r.offset) : 0;
      const cur = now.subarray(0, n);
      const isNew = n === r.next.length && cur.equals(r.next);
      const isOld = n === r.next.length && cur.equals(r.original);
      if (isNew) applied++;
      if (isOld) original++;
      if (!isNew && !isOld) foreign = true;
    }
    st.appliedRecords = applied;
    st.originalRecords = original;
    st.fileState = foreign ? "foreign" : original === j.header.count ? "old" : applied === j.header.count ? "new" : "mixed";
  } finally {
    fs.closeSync(fd);
  }
  st.version = 1;
  return st;
}

export type RecoverDirection = "forward" | "back";

export interface RecoverResult {
  action: "none" | "discarded-invalid" | "rolled-forward" | "rolled-back";
  records: number;
  bytes: number;
  reason?: string;
  /** Journal format of what was recovered (absent: there was none). */
  version?: 1 | 2;
}

/**
 * Finishes (forward: write every new range) or undoes (back: write every original range) an
 * interrupted save, flushes and syncs, then deletes the journal. An invalid journal is deleted
 * (the file was never touched). Idempotent: a crash during recovery is recovered the same way.
 */
export async function recoverFile(file: string, direction: RecoverDirection, options: { native?: NativeAddon; onProgress?: (p: SaveProgress) => void } = {}): Promise<RecoverResult> {
  if (direction !== "forward" && direction !== "back") throw new HexmapError("EINVAL", `Recovery direction must be "forward" or "back", got ${String(direction)}`);
  cleanStaleTemps(file);
  if (isJournal2Magic(file)) return recoverFile2Dispatch(file, direction, options);
  const j = inspectJournal(file);
  if (j.status === "none") {
    if (j.staleTemp) removeJournal(file);
    return { action: "none", records: 0, bytes: 0 };
  }
  if (j.status === "invalid") {
    removeJournal(file);
    return { action: "discarded-invalid", records: 0, bytes: 0, reason: j.reason };
  }
  const native = options.native ?? loadNative();
  const src = openWritable(native, file);
  try {
    const size = src.size();
    if (size !== j.header.fileSize) {
      throw new HexmapError(
        "ECHANGED",
        `${file} is ${size} bytes but the interrupted save's journal was made for ${j.header.fileSize} bytes: the file was changed since; recovery refused (the journal ${j.path} is kept)`,
      );
    }
    // Apply in slices so a huge journal never sits in memory at once.
    const SLICE = 64 * 1024 * 1024;
    let slice: JournalRecord[] = [];
    let sliceBytes = 0;
    let done = 0;
    const flushSlice = async (): Promise<void> => {
      if (slice.length === 0) return;
      const windows = planWindows(slice, native.granularity, size);
      await applyRecords(src, file, windows, direction === "forward" ? (r) => r.next : (r) => r.original, j.header.dataBytes);
      done += sliceBytes;
      options.onProgress?.({ phase: "apply", done, total: j.header.dataBytes });
      slice = [];
      sliceBytes = 0;
    };
    for (const r of readJournalRecords(file, j.header)) {
      slice.push(r);
      sliceBytes += r.next.length;
      if (sliceBytes >= SLICE) await flushSlice();
    }
    await flushSlice();
    if (j.header.count === 0) await src.sync();
    removeJournal(file);
    return { action: direction === "forward" ? "rolled-forward" : "rolled-back", records: j.header.count, bytes: j.header.dataBytes };
  } finally {
    src.close();
  }
}

/** recoverFile for a version-2 journal (a save that changes the size): forward resumes from the cursor; back only before anything was written. */
async function recoverFile2Dispatch(file: string, direction: RecoverDirection, options: { onProgress?: (p: SaveProgress) => void }): Promise<RecoverResult> {
  const j = inspectJournal2(file);
  if (j.status === "none") {
    if (j.staleTemp) removeJournal(file);
    return { action: "none", records: 0, bytes: 0 };
  }
  if (j.status === "invalid") {
    if (j.reason.startsWith("no valid progress")) {
      throw new HexmapError("EIO", `The interrupted save of ${file} left a journal whose progress record is damaged (${j.reason}): the file may be partly saved and cannot be finished automatically. The journal ${j.path} is kept`);
    }
    removeJournal(file); // never complete, so never applied: the file is as it was
    return { action: "discarded-invalid", records: 0, bytes: 0, reason: j.reason, version: 2 };
  }
  const res = await recoverFile2(file, direction, j.journal, {
    onProgress: (p) => options.onProgress?.({ phase: p.phase === "copy" || p.phase === "write" ? "apply" : "flush", done: p.done, total: p.total }),
  });
  return { action: res.action, records: res.steps, bytes: res.bytes, version: 2 };
}
