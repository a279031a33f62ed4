// The save journal, version 2: an in-place save that CHANGES THE FILE'S SIZE (DESIGN.md, "The
// document, version 2", SavePlanner (c)). It lives where version 1 does, `<file>.hexmap-journal`,
// so recovery finds either; the magic tells them apart. Version 1 holds old and new bytes of
// equal-length ranges and can go forward or back at any time. Version 2 holds a PLAN — steps that
// move ranges of the file to new offsets, write added bytes, and extend or truncate the file — and
// a durable PROGRESS CURSOR. Moving bytes within one file destroys sources as it goes, so once the
// first step has started writing only forward is possible; before that (the cursor says "not
// started") backing out is just deleting the journal.
//
// Binary format (little-endian; every u64 is a non-negative integer below 2^53):
//
//   header (128 bytes)
//     0   magic        8 bytes "HEXMAPJ2"
//     8   version      u32  2
//     12  headerSize   u32  128
//     16  oldSize      u64  size of the file before the save
//     24  newSize      u64  size after it
//     32  oldMtimeMs   f64  mtime before the save (identity, for messages)
//     40  stepCount    u32
//     44  flags        u32  0
//     48  chunkCount   u64  move chunks
//     56  writeCount   u64  write records
//     64  dataBytes    u64  length of the data blob
//     72  scratchBytes u64  capacity of the scratch area (0: no staged step)
//     80  movedBytes   u64  sum of the chunks' lengths
//     88  writtenBytes u64  sum of the write records' lengths
//     96  reserved     32 bytes zero
//   steps       stepCount × 32:  kind u32 (1 extend, 2 move, 3 staged move, 4 write, 5 truncate),
//                                 0 u32, first u64, count u64, bytes u64
//               (moves: chunks [first, first+count); writes: records [first, first+count))
//   chunks      chunkCount × 24: src u64, dst u64, length u64   (copy file[src, +length) to dst)
//   writes      writeCount × 48: kind u32 (1 data, 2 fill), patternLength u32, dst u64, length u64,
//                                 dataOffset u64 (into the blob), phase u64, 0 u64
//   data blob   dataBytes: added bytes, fill patterns, and file bytes staged at plan time
//   planHash    SHA-256 of everything above
//   (zero padding to a multiple of 4096)
//   cursor      two slots of 512 bytes (one sector each; the valid one with the higher seq wins):
//                 0 seq u64, 8 next u64 (steps [0, next) are done and synced), 16 flags u32
//                 (1 started: the file may have been written; 2 staged: the scratch holds the
//                 sources of step `next`), 20 0 u32, 24 scratchLength u64, 32 scratchHash[32],
//                 64 zero[32], 96 slotHash[32] = SHA-256(planHash ‖ bytes 0..96)
//   scratch     scratchBytes (a hole until a staged step uses it)
//
// The journal is written complete to `<journal>.tmp` (plan, hash, cursor {seq 1, next 0, not
// started}), fsync'd, renamed, and the folder fsync'd. From then on only the cursor slots and the
// scratch area change, each change made durable with fsync before the file is touched again.
//
// Why a redo from the cursor is safe (the executor, runJournal2): step k is redone from scratch
// after a kill. Extend/truncate and writes are idempotent (their data is in the journal). A direct
// move step is planned so that none of its writes overlaps any of its own sources, and the planner
// orders steps so that no step writes over a source that a later step still needs; so when step
// k is redone its sources are still as they were. A move step whose writes would overlap its own
// sources (a shift smaller than the step) is STAGED: its sources are copied into the scratch area
// and the cursor {next k, staged, hash} is made durable before the first byte of it is written;
// a redo then copies from the scratch, not from the half-overwritten file. If the scratch does not
// match its hash (a power cut between writing it and the fsync) the writes of step k had not begun,
// so the file still holds the sources and staging is simply done again. The scratch is reused by
// the next staged step only after a cursor that no longer claims it is durable.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { HexmapError, toHexmapError } from "./errors";
import { fsyncDir, journalPathFor, journalTempPathFor, writeJournalFile } from "./journal";

export const JOURNAL2_MAGIC = "HEXMAPJ2";
export const JOURNAL2_VERSION = 2;
const HEADER = 128;
const STEP_REC = 32;
const CHUNK_REC = 24;
const WRITE_REC = 48;
const HASH = 32;
const SLOT = 512;
const SLOT_USED = 128;
const ALIGN = 4096;
/** Longest move chunk a journal may hold (it is copied through one buffer). */
export const MAX_CHUNK = 64 * 1024 * 1024;

export const STEP_EXTEND = 1;
export const STEP_MOVE = 2;
export const STEP_MOVE_STAGED = 3;
export const STEP_WRITE = 4;
export const STEP_TRUNCATE = 5;
export const WRITE_DATA = 1;
export const WRITE_FILL = 2;

const FLAG_STARTED = 1;
const FLAG_STAGED = 2;

// ---- kill points ------------------------------------------------------------------------------

export type ResizeStep =
  // rewrite
  | "rw-temp" // temp file created, nothing written
  | "rw-copy" // buffer k written into the temp file
  | "rw-sync" // temp file complete and fsync'd
  | "rw-renamed" // temp renamed over the original; folder not yet fsync'd
  | "rw-done" // folder fsync'd
  // in place
  | "ip-journal-write" // data piece k queued to the temp journal
  | "ip-journal-fsync" // temp journal complete and fsync'd, not yet renamed
  | "ip-journal-renamed" // journal under its real name, folder not yet fsync'd
  | "ip-journal-durable" // folder fsync'd: the file is about to be touched
  | "ip-started" // the cursor says "started" (durable); nothing written to the file yet
  | "ip-stage" // the sources of step k copied into the scratch, not yet fsync'd
  | "ip-staged" // scratch + cursor {next k, staged} durable
  | "ip-chunk" // move chunk k written into the file (not synced)
  | "ip-write" // write record k written into the file (not synced)
  | "ip-resize" // step k's ftruncate done (not synced)
  | "ip-step" // step k's writes fsync'd, cursor not yet advanced
  | "ip-cursor" // cursor advanced past step k (durable)
  | "ip-complete" // cursor says every step is done; journal not yet deleted
  | "ip-journal-deleted"; // journal deleted, folder not yet fsync'd

export type ResizeFaultHook = (step: ResizeStep, index: number) => void;
const noHook: ResizeFaultHook = () => {};
let faultHook: ResizeFaultHook = noHook;

/** Installs a hook called at every kill point of a resizing save or its recovery (tests only); null removes it. */
export function setResizeFaultHook(hook: ResizeFaultHook | null): void {
  faultHook = hook ?? noHook;
}

/** The hook in force (read at each call, so a test may swap it mid-save). */
export function resizeHook(step: ResizeStep, index: number): void {
  faultHook(step, index);
}

// ---- plan -------------------------------------------------------------------------------------

export interface Journal2Header {
  oldSize: number;
  newSize: number;
  oldMtimeMs: number;
}

/** A plan's tables, flat: steps 4 numbers each (kind, first, count, bytes), chunks 3 (src, dst, length), writes 6 (kind, dst, length, dataOffset, patternLength, phase). */
export interface Plan2Tables {
  steps: number[];
  chunks: number[];
  writes: number[];
  dataBytes: number;
  scratchBytes: number;
}

export interface Journal2Layout {
  stepsOff: number;
  chunksOff: number;
  writesOff: number;
  dataOff: number;
  planEnd: number;
  cursorOff: number;
  scratchOff: number;
  total: number;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function journal2Layout(stepCount: number, chunkCount: number, writeCount: number, dataBytes: number, scratchBytes: number): Journal2Layout {
  const stepsOff = HEADER;
  const chunksOff = stepsOff + stepCount * STEP_REC;
  const writesOff = chunksOff + chunkCount * CHUNK_REC;
  const dataOff = writesOff + writeCount * WRITE_REC;
  const planEnd = dataOff + dataBytes;
  const cursorOff = alignUp(planEnd + HASH, ALIGN);
  const scratchOff = alignUp(cursorOff + 2 * SLOT, ALIGN);
  return { stepsOff, chunksOff, writesOff, dataOff, planEnd, cursorOff, scratchOff, total: scratchOff + scratchBytes };
}

function u64(b: Buffer, v: number, at: number): void {
  b.writeBigUInt64LE(BigInt(v), at);
}
function r64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
}

export function isJournal2Magic(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(journalPathFor(file), "r");
  } catch {
    return false;
  }
  try {
    const b = Buffer.alloc(8);
    const n = fs.readSync(fd, b, 0, 8, 0);
    return n === 8 && b.toString("latin1") === JOURNAL2_MAGIC;
  } finally {
    fs.closeSync(fd);
  }
}

// ---- cursor -----------------------------------------------------------------------------------

export interface Cursor2 {
  seq: number;
  next: number;
  started: boolean;
  staged: boolean;
  scratchLength: number;
  scratchHash: Buffer;
}

function encodeSlot(c: Cursor2, planHash: Buffer): Buffer {
  const b = Buffer.alloc(SLOT);
  u64(b, c.seq, 0);
  u64(b, c.next, 8);
  b.writeUInt32LE((c.started ? FLAG_STARTED : 0) | (c.staged ? FLAG_STAGED : 0), 16);
  u64(b, c.scratchLength, 24);
  c.scratchHash.copy(b, 32, 0, HASH);
  createHash("sha256").update(planHash).update(b.subarray(0, 96)).digest().copy(b, 96);
  return b;
}

function decodeSlot(b: Buffer, planHash: Buffer): Cursor2 | null {
  const want = createHash("sha256").update(planHash).update(b.subarray(0, 96)).digest();
  if (!want.equals(b.subarray(96, 96 + HASH))) return null;
  const flags = b.readUInt32LE(16);
  const seq = r64(b, 0);
  const next = r64(b, 8);
  const scratchLength = r64(b, 24);
  if (seq <= 0 || next < 0 || scratchLength < 0) return null;
  return { seq, next, started: (flags & FLAG_STARTED) !== 0, staged: (flags & FLAG_STAGED) !== 0, scratchLength, scratchHash: Buffer.from(b.subarray(32, 64)) };
}

// ---- writing the journal ----------------------------------------------------------------------

export interface WriteJournal2Options {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const cancelled = (): HexmapError => new HexmapError("ECANCELED", "Save cancelled (the file was not touched)");

/**
 * Writes the journal of `file` durably (temp, fsync, rename, folder fsync). `data` yields the data
 * blob in order, `tables.dataBytes` in all. On failure or abort the temp journal is removed and
 * nothing else exists.
 */
export async function writeJournal2(
  file: string,
  header: Journal2Header,
  tables: Plan2Tables,
  data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: WriteJournal2Options = {},
): Promise<{ path: string; bytes: number }> {
  const stepCount = tables.steps.length / 4;
  const chunkCount = tables.chunks.length / 3;
  const writeCount = tables.writes.length / 6;
  const lay = journal2Layout(stepCount, chunkCount, writeCount, tables.dataBytes, tables.scratchBytes);
  return writeJournalFile(file, lay.total, { fsynced: () => resizeHook("ip-journal-fsync", 0), renamed: () => resizeHook("ip-journal-renamed", 0) }, options, async (fh, out) => {
    const push = (b: Uint8Array): Promise<void> => out.push(b);
    const h = Buffer.alloc(HEADER);
    h.write(JOURNAL2_MAGIC, 0, "latin1");
    h.writeUInt32LE(JOURNAL2_VERSION, 8);
    h.writeUInt32LE(HEADER, 12);
    u64(h, header.oldSize, 16);
    u64(h, header.newSize, 24);
    h.writeDoubleLE(header.oldMtimeMs, 32);
    h.writeUInt32LE(stepCount, 40);
    u64(h, chunkCount, 48);
    u64(h, writeCount, 56);
    u64(h, tables.dataBytes, 64);
    u64(h, tables.scratchBytes, 72);
    let moved = 0;
    for (let i = 0; i < chunkCount; i++) moved += tables.chunks[3 * i + 2]!;
    let written = 0;
    for (let i = 0; i < writeCount; i++) written += tables.writes[6 * i + 2]!;
    u64(h, moved, 80);
    u64(h, written, 88);
    await push(h);
    // Tables, in 64 KiB pieces.
    const table = async (values: number[], per: number, encode: (b: Buffer, at: number, i: number) => void): Promise<void> => {
      const n = values.length / per;
      const recSize = per === 4 ? STEP_REC : per === 3 ? CHUNK_REC : WRITE_REC;
      const perPiece = Math.max(1, Math.floor(65536 / recSize));
      for (let i = 0; i < n; i += perPiece) {
        const m = Math.min(perPiece, n - i);
        const b = Buffer.alloc(m * recSize);
        for (let k = 0; k < m; k++) encode(b, k * recSize, i + k);
        await push(b);
      }
    };
    await table(tables.steps, 4, (b, at, i) => {
      b.writeUInt32LE(tables.steps[4 * i]!, at);
      u64(b, tables.steps[4 * i + 1]!, at + 8);
      u64(b, tables.steps[4 * i + 2]!, at + 16);
      u64(b, tables.steps[4 * i + 3]!, at + 24);
    });
    await table(tables.chunks, 3, (b, at, i) => {
      u64(b, tables.chunks[3 * i]!, at);
      u64(b, tables.chunks[3 * i + 1]!, at + 8);
      u64(b, tables.chunks[3 * i + 2]!, at + 16);
    });
    await table(tables.writes, 6, (b, at, i) => {
      const w = tables.writes;
      b.writeUInt32LE(w[6 * i]!, at);
      b.writeUInt32LE(w[6 * i + 4]!, at + 4);
      u64(b, w[6 * i + 1]!, at + 8);
      u64(b, w[6 * i + 2]!, at + 16);
      u64(b, w[6 * i + 3]!, at + 24);
      u64(b, w[6 * i + 5]!, at + 32);
    });
    let dataSeen = 0;
    let k = 0;
    for await (const piece of data as AsyncIterable<Uint8Array>) {
      dataSeen += piece.length;
      if (dataSeen > tables.dataBytes) break;
      await push(piece);
      resizeHook("ip-journal-write", k++);
      if (options.signal?.aborted) throw cancelled();
    }
    if (dataSeen !== tables.dataBytes) throw new HexmapError("EINTERNAL", `Save journal data is ${dataSeen} bytes, its plan says ${tables.dataBytes}`);
    await out.flush();
    if (out.position !== lay.planEnd) throw new HexmapError("EINTERNAL", `Save journal plan is ${out.position} bytes, expected ${lay.planEnd}`);
    const planHash = out.digest();
    await fh.write(planHash, 0, HASH, lay.planEnd);
    const first: Cursor2 = { seq: 1, next: 0, started: false, staged: false, scratchLength: 0, scratchHash: Buffer.alloc(HASH) };
    await fh.write(encodeSlot(first, planHash), 0, SLOT, lay.cursorOff + SLOT); // slot seq % 2 = 1
    await fh.truncate(lay.total);
    return lay.total;
  });
}

// ---- reading and checking a journal -------------------------------------------------------------

export interface Journal2 {
  path: string;
  header: Journal2Header;
  layout: Journal2Layout;
  steps: Float64Array; // 4 per step
  chunks: Float64Array; // 3 per chunk
  writes: Float64Array; // 6 per record
  dataBytes: number;
  scratchBytes: number;
  movedBytes: number;
  writtenBytes: number;
  planHash: Buffer;
  cursor: Cursor2;
  journalBytes: number;
}

export type Journal2Check =
  | { status: "none"; path: string; staleTemp: boolean }
  | { status: "invalid"; path: string; reason: string; staleTemp: boolean }
  | { status: "valid"; path: string; journal: Journal2; staleTemp: boolean };

function readFull(fd: number, buf: Buffer, pos: number): void {
  for (let got = 0; got < buf.length; ) {
    const n = fs.readSync(fd, buf, got, buf.length - got, pos + got);
    if (n <= 0) throw new HexmapError("EIO", "Short read in the save journal");
    got += n;
  }
}

/** Reads and verifies a version-2 journal of `file` (header, lengths, plan hash, structure, cursor). Changes nothing. */
export function inspectJournal2(file: string): Journal2Check {
  const jp = journalPathFor(file);
  const staleTemp = fs.existsSync(journalTempPathFor(file));
  let fd: number;
  try {
    fd = fs.openSync(jp, "r");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return { status: "none", path: jp, staleTemp };
    throw toHexmapError(err, { path: jp, op: "open the save journal" });
  }
  const invalid = (reason: string): Journal2Check => ({ status: "invalid", path: jp, reason, staleTemp });
  try {
    const size = fs.fstatSync(fd).size;
    if (size < HEADER) return invalid(`too short (${size} bytes)`);
    const h = Buffer.alloc(HEADER);
    readFull(fd, h, 0);
    if (h.toString("latin1", 0, 8) !== JOURNAL2_MAGIC) return invalid("not a Hexmap version-2 journal (bad magic)");
    if (h.readUInt32LE(8) !== JOURNAL2_VERSION) return invalid(`unsupported journal version ${h.readUInt32LE(8)}`);
    if (h.readUInt32LE(12) !== HEADER) return invalid("bad header size");
    const oldSize = r64(h, 16);
    const newSize = r64(h, 24);
    const oldMtimeMs = h.readDoubleLE(32);
    const stepCount = h.readUInt32LE(40);
    const chunkCount = r64(h, 48);
    const writeCount = r64(h, 56);
    const dataBytes = r64(h, 64);
    const scratchBytes = r64(h, 72);
    const movedBytes = r64(h, 80);
    const writtenBytes = r64(h, 88);
    if ([oldSize, newSize, chunkCount, writeCount, dataBytes, scratchBytes, movedBytes, writtenBytes].some((v) => v < 0)) return invalid("a size in its header is out of range");
    if (chunkCount > size / CHUNK_REC || writeCount > size / WRITE_REC) return invalid("tables larger than the journal");
    const lay = journal2Layout(stepCount, chunkCount, writeCount, dataBytes, scratchBytes);
    if (lay.total !== size) return invalid(`length ${size} does not match its header (${lay.total}): incomplete`);
    // Plan hash, streamed.
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let pos = 0; pos < lay.planEnd; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, lay.planEnd - pos), pos);
      if (n <= 0) return invalid("short read");
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    const planHash = hash.digest();
    const stored = Buffer.alloc(HASH);
    readFull(fd, stored, lay.planEnd);
    if (!planHash.equals(stored)) return invalid("checksum mismatch: the journal is damaged or was never completed");
    // Tables.
    const steps = new Float64Array(stepCount * 4);
    const sb = Buffer.alloc(stepCount * STEP_REC);
    readFull(fd, sb, lay.stepsOff);
    for (let i = 0; i < stepCount; i++) {
      steps[4 * i] = sb.readUInt32LE(i * STEP_REC);
      steps[4 * i + 1] = r64(sb, i * STEP_REC + 8);
      steps[4 * i + 2] = r64(sb, i * STEP_REC + 16);
      steps[4 * i + 3] = r64(sb, i * STEP_REC + 24);
    }
    const chunks = new Float64Array(chunkCount * 3);
    const writes = new Float64Array(writeCount * 6);
    const TB = 65536;
    for (let i = 0; i < chunkCount; ) {
      const m = Math.min(Math.floor(TB / CHUNK_REC), chunkCount - i);
      const b = Buffer.alloc(m * CHUNK_REC);
      readFull(fd, b, lay.chunksOff + i * CHUNK_REC);
      for (let k = 0; k < m; k++) for (let f = 0; f < 3; f++) chunks[3 * (i + k) + f] = r64(b, k * CHUNK_REC + 8 * f);
      i += m;
    }
    for (let i = 0; i < writeCount; ) {
      const m = Math.min(Math.floor(TB / WRITE_REC), writeCount - i);
      const b = Buffer.alloc(m * WRITE_REC);
      readFull(fd, b, lay.writesOff + i * WRITE_REC);
      for (let k = 0; k < m; k++) {
        const at = k * WRITE_REC;
        const j = 6 * (i + k);
        writes[j] = b.readUInt32LE(at);
        writes[j + 4] = b.readUInt32LE(at + 4);
        writes[j + 1] = r64(b, at + 8);
        writes[j + 2] = r64(b, at + 16);
        writes[j + 3] = r64(b, at + 24);
        writes[j + 5] = r64(b, at + 32);
      }
      i += m;
    }
    const bad = checkStructure({ oldSize, newSize }, steps, chunks, writes, dataBytes, scratchBytes);
    if (bad) return invalid(bad);
    // Cursor: the valid slot with the higher sequence number.
    const slots = Buffer.alloc(2 * SLOT);
    readFull(fd, slots, lay.cursorOff);
    let cursor: Cursor2 | null = null;
    for (let s = 0; s < 2; s++) {
      const c = decodeSlot(slots.subarray(s * SLOT, s * SLOT + SLOT_USED), planHash);
      if (c && c.seq % 2 === s && c.next <= stepCount && (!cursor || c.seq > cursor.seq)) cursor = c;
    }
    if (!cursor) return invalid("no valid progress record (both cursor slots are damaged)");
    return {
      status: "valid",
      path: jp,
      staleTemp,
      journal: { path: jp, header: { oldSize, newSize, oldMtimeMs }, layout: lay, steps, chunks, writes, dataBytes, scratchBytes, movedBytes, writtenBytes, planHash, cursor, journalBytes: size },
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** Every reference in the plan stays inside the file, the blob and the scratch. Returns a reason, or null. */
function checkStructure(h: { oldSize: number; newSize: number }, steps: Float64Array, chunks: Float64Array, writes: Float64Array, dataBytes: number, scratchBytes: number): string | null {
  const chunkCount = chunks.length / 3;
  const writeCount = writes.length / 6;
  for (let i = 0; i < chunkCount; i++) {
    const [s, d, l] = [chunks[3 * i]!, chunks[3 * i + 1]!, chunks[3 * i + 2]!];
    if (s < 0 || d < 0 || l <= 0 || s + l > h.oldSize || d + l > h.newSize) return `move ${i} is outside the file`;
    if (l > MAX_CHUNK) return `move ${i} is longer than a chunk can be`;
  }
  for (let i = 0; i < writeCount; i++) {
    const j = 6 * i;
    const [kind, d, l, off, pl, ph] = [writes[j]!, writes[j + 1]!, writes[j + 2]!, writes[j + 3]!, writes[j + 4]!, writes[j + 5]!];
    if (d < 0 || l <= 0 || d + l > h.newSize || off < 0) return `write ${i} is outside the file`;
    if (kind === WRITE_DATA) {
      if (off + l > dataBytes) return `write ${i} is outside the journal's data`;
    } else if (kind === WRITE_FILL) {
      if (pl <= 0 || ph < 0 || ph >= pl || off + pl > dataBytes) return `fill ${i} has a bad pattern`;
    } else return `write ${i} has an unknown kind ${kind}`;
  }
  for (let k = 0; k < steps.length / 4; k++) {
    const [kind, first, count, bytes] = [steps[4 * k]!, steps[4 * k + 1]!, steps[4 * k + 2]!, steps[4 * k + 3]!];
    if (first < 0 || count < 0 || bytes < 0) return `step ${k} is out of range`;
    if (kind === STEP_MOVE || kind === STEP_MOVE_STAGED) {
      if (first + count > chunkCount) return `step ${k} refers to moves that are not there`;
      if (kind === STEP_MOVE_STAGED && bytes > scratchBytes) return `staged step ${k} does not fit the scratch area`;
    } else if (kind === STEP_WRITE) {
      if (first + count > writeCount) return `step ${k} refers to writes that are not there`;
    } else if (kind !== STEP_EXTEND && kind !== STEP_TRUNCATE) return `step ${k} has an unknown kind ${kind}`;
  }
  return null;
}

// ---- the executor -------------------------------------------------------------------------------

const readAsync = promisify(fs.read);
const writeAsync = promisify(fs.write);
const fsyncAsync = promisify(fs.fsync);
const ftruncateAsync = promisify(fs.ftruncate);
/** Below this, plain synchronous calls: a worker round trip costs more than the copy. */
const SYNC_IO_MAX = 64 * 1024;

export async function preadFull(fd: number, buf: Buffer, off: number, len: number, pos: number, what: string): Promise<void> {
  for (let got = 0; got < len; ) {
    const n = len - got <= SYNC_IO_MAX ? fs.readSync(fd, buf, off + got, len - got, pos + got) : (await readAsync(fd, buf, off + got, len - got, pos + got)).bytesRead;
    if (n <= 0) throw new HexmapError("ECHANGED", `${what} ended early at offset ${pos + got}: it was changed (made shorter) by another program during the save`);
    got += n;
  }
}

/**
 * Writes longer than this go out as concurrent slices of it. Measured on Linux 6.18/ext4 (2-core
 * VM, 4 GiB copy into a new file): 1 MiB pwrites at 1 MiB-aligned offsets ran 2–3× slower than
 * the same bytes in 128–256 KiB writes (long aligned writes make the page cache allocate large
 * folios, which costs more than it saves here); 128 KiB slices in flight together kept pace
 * with cp, whose own loop writes 128 KiB at a time.
 */
const WRITE_SLICE = 128 * 1024;

export async function pwriteFull(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<void> {
  if (len > WRITE_SLICE) {
    const parts: Promise<void>[] = [];
    for (let o = 0; o < len; o += WRITE_SLICE) parts.push(pwriteFull(fd, buf, off + o, Math.min(WRITE_SLICE, len - o), pos + o));
    // Every slice settles before this returns or throws: no write is left in flight behind a caller that closes the descriptor.
    const settled = await Promise.allSettled(parts);
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failed) throw failed.reason;
    return;
  }
  for (let done = 0; done < len; ) {
    const n = len - done <= SYNC_IO_MAX ? fs.writeSync(fd, buf, off + done, len - done, pos + done) : (await writeAsync(fd, buf, off + done, len - done, pos + done)).bytesWritten;
    done += n;
  }
}

/** Fills buf[off, off+len) with `pattern` repeated, starting at pattern[phase]. */
export function fillPattern(buf: Buffer, off: number, len: number, pattern: Uint8Array, phase: number): void {
  if (len <= 0) return;
  const p = Buffer.from(pattern.buffer, pattern.byteOffset, pattern.byteLength);
  const rotated = phase === 0 ? p : Buffer.concat([p.subarray(phase), p.subarray(0, phase)]);
  buf.fill(rotated, off, off + len);
}

export interface RunJournal2Options {
  onProgress?: (p: { phase: "copy" | "write" | "sync"; done: number; total: number }) => void;
  /** Largest buffer used for one read/write (default: the plan's largest chunk, at most 16 MiB). */
  ioBytes?: number;
}

export interface RunJournal2Result {
  movedBytes: number;
  writtenBytes: number;
  timings: { stage: number; copy: number; write: number; sync: number; cursor: number };
}

/**
 * Runs (or resumes, from its cursor) the plan of a valid journal against the file, then deletes
 * the journal. Used by the in-place save and by recovery; a kill anywhere is recovered by
 * calling it again.
 */
export async function runJournal2(file: string, j: Journal2, options: RunJournal2Options = {}): Promise<RunJournal2Result> {
  const lay = j.layout;
  const stepCount = j.steps.length / 4;
  let maxChunk = 0;
  for (let i = 0; i < j.chunks.length / 3; i++) maxChunk = Math.max(maxChunk, j.chunks[3 * i + 2]!);
  const ioBytes = Math.max(4096, Math.min(options.ioBytes ?? Math.max(maxChunk, 1024 * 1024), 16 * 1024 * 1024));
  const buf = Buffer.allocUnsafe(Math.max(ioBytes, maxChunk));
  /** Staging: the sources of a staged step gathered before they go to the scratch area. */
  const sbuf = Buffer.allocUnsafe(buf.length);
  /**
   * Chunks [c, end) read in one go: consecutive ones whose sources span at most the buffer and
   * not much more than their own bytes (many small pieces after scattered edits would otherwise
   * cost a read each). Reading all of a group before writing any of it is safe in a direct step:
   * its writes never overlap its sources.
   */
  const groupOf = (c: number, end: number, srcOf: (x: number) => number, lenOf: (x: number) => number): { end: number; lo: number; hi: number } => {
    let lo = srcOf(c);
    let hi = lo + lenOf(c);
    let sum = hi - lo;
    let x = c + 1;
    for (; x < end; x++) {
      const s = srcOf(x);
      const l = lenOf(x);
      const nlo = Math.min(lo, s);
      const nhi = Math.max(hi, s + l);
      if (nhi - nlo > buf.length || nhi - nlo > 2 * (sum + l) + 65536) break;
      lo = nlo;
      hi = nhi;
      sum += l;
    }
    return { end: x, lo, hi };
  };
  const timings = { stage: 0, copy: 0, write: 0, sync: 0, cursor: 0 };
  let fileFd: number | undefined;
  let jfd: number | undefined;
  let cursor = j.cursor;
  const totalBytes = j.movedBytes + j.writtenBytes;
  let doneBytes = 0;
  // Bytes of the steps before the cursor, for progress.
  for (let k = 0; k < cursor.next; k++) doneBytes += j.steps[4 * k + 3]!;
  try {
    try {
      fileFd = fs.openSync(file, "r+");
    } catch (err) {
      throw toHexmapError(err, { path: file, op: "open for writing" });
    }
    jfd = fs.openSync(j.path, "r+");
    const F = fileFd;
    const J = jfd;

    const writeCursor = async (c: Omit<Cursor2, "seq">): Promise<void> => {
      const t = performance.now();
      const next: Cursor2 = { ...c, seq: cursor.seq + 1 };
      const slot = encodeSlot(next, j.planHash);
      await pwriteFull(J, slot, 0, SLOT, lay.cursorOff + (next.seq % 2) * SLOT);
      await fsyncAsync(J);
      cursor = next;
      timings.cursor += performance.now() - t;
    };
    const syncFile = async (): Promise<void> => {
      const t = performance.now();
      try {
        await fsyncAsync(F);
      } catch (err) {
        throw toHexmapError(err, { path: file, op: "sync" });
      }
      timings.sync += performance.now() - t;
    };
    const noHash = Buffer.alloc(HASH);

    /** Copies the sources of staged step k into the scratch area; returns its length and hash (not yet durable). */
    const stage = async (k: number): Promise<{ length: number; hash: Buffer }> => {
      const t0 = performance.now();
      const first = j.steps[4 * k + 1]!;
      const end = first + j.steps[4 * k + 2]!;
      const hash = createHash("sha256");
      let at = 0; // scratch bytes written
      let fill = 0; // bytes waiting in sbuf
      const flushStage = async (): Promise<void> => {
        await pwriteFull(J, sbuf, 0, fill, lay.scratchOff + at);
        at += fill;
        fill = 0;
      };
      for (let c = first; c < end; ) {
        const g = groupOf(c, end, (x) => j.chunks[3 * x]!, (x) => j.chunks[3 * x + 2]!);
        await preadFull(F, buf, 0, g.hi - g.lo, g.lo, file);
        for (; c < g.end; c++) {
          const src = j.chunks[3 * c]! - g.lo;
          const len = j.chunks[3 * c + 2]!;
          if (fill + len > sbuf.length) await flushStage();
          buf.copy(sbuf, fill, src, src + len);
          hash.update(buf.subarray(src, src + len));
          fill += len;
        }
      }
      await flushStage();
      timings.stage += performance.now() - t0;
      resizeHook("ip-stage", k);
      return { length: at, hash: hash.digest() };
    };
    /** Does the scratch hold exactly what the cursor says (the sources of step `next`)? */
    const scratchValid = async (k: number): Promise<boolean> => {
      if (!cursor.staged || cursor.next !== k || cursor.scratchLength !== j.steps[4 * k + 3]!) return false;
      const hash = createHash("sha256");
      for (let at = 0; at < cursor.scratchLength; ) {
        const n = Math.min(buf.length, cursor.scratchLength - at);
        await preadFull(J, buf, 0, n, lay.scratchOff + at, j.path);
        hash.update(buf.subarray(0, n));
        at += n;
      }
      return hash.digest().equals(cursor.scratchHash);
    };
    /** Makes the cursor {next: k, started} durable, staging step k first when it is a staged move. */
    const arriveAt = async (k: number): Promise<void> => {
      if (k < stepCount && j.steps[4 * k] === STEP_MOVE_STAGED) {
        // The scratch still backs the cursor's own step (staged): release it durably before it is
        // overwritten, or a kill while staging step k would leave that step to be redone from a
        // file whose sources it already overwrote. (Found by the kill -9 trials.)
        if (cursor.staged) await writeCursor({ next: k, started: true, staged: false, scratchLength: 0, scratchHash: noHash });
        const s = await stage(k);
        await writeCursor({ next: k, started: true, staged: true, scratchLength: s.length, scratchHash: s.hash });
        resizeHook("ip-staged", k);
      } else {
        await writeCursor({ next: k, started: true, staged: false, scratchLength: 0, scratchHash: noHash });
      }
    };

    if (!cursor.started) {
      await arriveAt(cursor.next);
      resizeHook("ip-started", 0);
    } else if (cursor.next < stepCount && j.steps[4 * cursor.next] === STEP_MOVE_STAGED && !(await scratchValid(cursor.next))) {
      // Staging of this step never became durable: its writes never began, the file still holds its sources.
      await arriveAt(cursor.next);
    }
    for (let k = cursor.next; k < stepCount; k++) {
      const kind = j.steps[4 * k]!;
      const first = j.steps[4 * k + 1]!;
      const count = j.steps[4 * k + 2]!;
      let t = performance.now();
      if (kind === STEP_EXTEND || kind === STEP_TRUNCATE) {
        try {
          await ftruncateAsync(F, j.header.newSize);
        } catch (err) {
          throw toHexmapError(err, { path: file, op: kind === STEP_EXTEND ? "extend" : "truncate" });
        }
        resizeHook("ip-resize", k);
      } else if (kind === STEP_MOVE || kind === STEP_MOVE_STAGED) {
        // Staged: the sources lie one after another in the scratch area.
        const scratchAt = new Float64Array(count);
        for (let x = 1; x < count; x++) scratchAt[x] = scratchAt[x - 1]! + j.chunks[3 * (first + x - 1) + 2]!;
        const srcOf = kind === STEP_MOVE ? (x: number): number => j.chunks[3 * x]! : (x: number): number => lay.scratchOff + scratchAt[x - first]!;
        for (let c = first; c < first + count; ) {
          const g = groupOf(c, first + count, srcOf, (x) => j.chunks[3 * x + 2]!);
          if (kind === STEP_MOVE) await preadFull(F, buf, 0, g.hi - g.lo, g.lo, file);
          else await preadFull(J, buf, 0, g.hi - g.lo, g.lo, j.path);
          for (; c < g.end; c++) {
            const at = srcOf(c) - g.lo;
            const dst = j.chunks[3 * c + 1]!;
            const len = j.chunks[3 * c + 2]!;
            try {
              await pwriteFull(F, buf, at, len, dst);
            } catch (err) {
              throw toHexmapError(err, { path: file, op: "write", offset: dst });
            }
            doneBytes += len;
            resizeHook("ip-chunk", c);
          }
        }
        timings.copy += performance.now() - t;
        options.onProgress?.({ phase: "copy", done: doneBytes, total: totalBytes });
      } else if (kind === STEP_WRITE) {
        const W = j.writes;
        const small = (x: number): boolean => W[6 * x] === WRITE_DATA && W[6 * x + 2]! <= buf.length;
        for (let w = first; w < first + count; ) {
          if (small(w)) {
            // A run of data records whose bytes lie close together in the journal: one read.
            let e = w + 1;
            while (e < first + count && small(e)) e++;
            const g = groupOf(w, e, (x) => lay.dataOff + W[6 * x + 3]!, (x) => W[6 * x + 2]!);
            await preadFull(J, buf, 0, g.hi - g.lo, g.lo, j.path);
            for (; w < g.end; w++) {
              const dst = W[6 * w + 1]!;
              const len = W[6 * w + 2]!;
              try {
                await pwriteFull(F, buf, lay.dataOff + W[6 * w + 3]! - g.lo, len, dst);
              } catch (err) {
                throw toHexmapError(err, { path: file, op: "write", offset: dst });
              }
              doneBytes += len;
              resizeHook("ip-write", w);
            }
            continue;
          }
          const i = 6 * w;
          const wk = W[i]!;
          const dst = W[i + 1]!;
          const len = W[i + 2]!;
          const off = W[i + 3]!;
          const patLen = W[i + 4]!;
          const phase = W[i + 5]!;
          let pattern: Buffer | undefined;
          if (wk === WRITE_FILL) {
            pattern = Buffer.alloc(patLen);
            await preadFull(J, pattern, 0, patLen, lay.dataOff + off, j.path);
          }
          for (let at = 0; at < len; ) {
            const n = Math.min(buf.length, len - at);
            if (pattern) fillPattern(buf, 0, n, pattern, (phase + at) % patLen);
            else await preadFull(J, buf, 0, n, lay.dataOff + off + at, j.path);
            try {
              await pwriteFull(F, buf, 0, n, dst + at);
            } catch (err) {
              throw toHexmapError(err, { path: file, op: "write", offset: dst + at });
            }
            at += n;
          }
          doneBytes += len;
          resizeHook("ip-write", w);
          w++;
        }
        timings.write += performance.now() - t;
        options.onProgress?.({ phase: "write", done: doneBytes, total: totalBytes });
      }
      t = performance.now();
      await syncFile();
      resizeHook("ip-step", k);
      await arriveAt(k + 1);
      resizeHook("ip-cursor", k);
    }
    resizeHook("ip-complete", 0);
    options.onProgress?.({ phase: "sync", done: totalBytes, total: totalBytes });
  } finally {
    if (fileFd !== undefined) fs.closeSync(fileFd);
    if (jfd !== undefined) fs.closeSync(jfd);
  }
  removeJournal2(file);
  return { movedBytes: j.movedBytes, writtenBytes: j.writtenBytes, timings };
}

/** Deletes the journal (and a stale temp journal), then makes that durable. */
export function removeJournal2(file: string): void {
  for (const p of [journalPathFor(file), journalTempPathFor(file)]) {
    try {
      fs.unlinkSync(p);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw toHexmapError(err, { path: p, op: "delete the save journal" });
    }
  }
  resizeHook("ip-journal-deleted", 0);
  fsyncDir(path.dirname(path.resolve(file)));
}

// ---- recovery -----------------------------------------------------------------------------------

export interface Recovery2State {
  journalPath: string;
  staleTemp: boolean;
  journalBytes: number;
  oldSize: number;
  newSize: number;
  fileSize: number;
  steps: number;
  /** Steps done and synced (the cursor). */
  stepsDone: number;
  /** The cursor says the file may have been written: only forward is possible. */
  started: boolean;
  bytes: number;
  fileState: "old" | "new" | "mixed" | "foreign";
}

/** What recovery would find in a valid version-2 journal. Reads only. */
export function recovery2State(file: string, j: Journal2, staleTemp: boolean): Recovery2State {
  let fileSize: number;
  try {
    fileSize = fs.statSync(file).size;
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "open" });
  }
  const steps = j.steps.length / 4;
  const c = j.cursor;
  const sizeOk = c.started ? fileSize === j.header.oldSize || fileSize === j.header.newSize : fileSize === j.header.oldSize;
  const fileState = !sizeOk ? "foreign" : !c.started ? "old" : c.next >= steps ? "new" : "mixed";
  return {
    journalPath: j.path,
    staleTemp,
    journalBytes: j.journalBytes,
    oldSize: j.header.oldSize,
    newSize: j.header.newSize,
    fileSize,
    steps,
    stepsDone: c.started ? c.next : 0,
    started: c.started,
    bytes: j.movedBytes + j.writtenBytes,
    fileState,
  };
}

/**
 * Finishes ("forward") an interrupted resizing save from its cursor, or backs out of one that
 * never wrote to the file ("back": deletes the journal). "back" once the file was written is
 * refused: the moves destroyed the bytes that an undo would need.
 */
export async function recoverFile2(
  file: string,
  direction: "forward" | "back",
  j: Journal2,
  options: RunJournal2Options = {},
): Promise<{ action: "rolled-forward" | "rolled-back"; steps: number; bytes: number }> {
  const steps = j.steps.length / 4;
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    throw toHexmapError(err, { path: file, op: "open" });
  }
  const allowed = j.cursor.started ? [j.header.oldSize, j.header.newSize] : [j.header.oldSize];
  if (!allowed.includes(size)) {
    throw new HexmapError(
      "ECHANGED",
      `${file} is ${size} bytes but the interrupted save's journal expects ${allowed.join(" or ")} bytes: the file was changed since; recovery refused (the journal ${j.path} is kept)`,
    );
  }
  if (direction === "back") {
    if (j.cursor.started) {
      throw new HexmapError(
        "ENOTSUP",
        `The interrupted save of ${file} had already started moving bytes (${j.cursor.next} of ${steps} steps done): it cannot be undone, only finished. Run hexmap recover --forward`,
      );
    }
    removeJournal2(file);
    return { action: "rolled-back", steps: 0, bytes: 0 };
  }
  await runJournal2(file, j, options);
  return { action: "rolled-forward", steps, bytes: j.movedBytes + j.writtenBytes };
}
