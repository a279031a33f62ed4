// The save journal: `<file>.hexmap-journal` beside the file, holding every byte range a save is
// about to overwrite, with both the original and the new bytes. It is made durable before the
// file is touched, so after a crash at any point a recovery can finish the save (roll forward:
// write every new range) or undo it (roll back: write every original range). Both are idempotent.
//
// Binary format (little-endian):
//
//   header (64 bytes)
//     0  magic        8 bytes  "HEXMAPJ1"
//     8  version      u32      1
//     12 headerSize   u32      64
//     16 fileSize     u64      size of the file before the save (a save never changes it)
//     24 fileMtimeMs  f64      mtime of the file before the save (identity, for messages)
//     32 count        u32      number of records
//     36 flags        u32      0
//     40 dataBytes    u64      sum of the records' lengths
//     48 reserved     16 bytes zero
//   records (count of them, in offset order, non-overlapping)
//     offset   u64
//     length   u32            1 .. 16 MiB
//     original length bytes
//     new      length bytes
//   trailer
//     SHA-256 (32 bytes) of everything before it
//
// The journal is written to `<journal>.tmp`, fsync'd, renamed to its name, and the directory is
// fsync'd, so a journal under its real name is complete. One that is not (bad magic, wrong length,
// checksum mismatch) can only come from a crash while the journal was being written, before the
// file was touched, or from damage to the journal: either way it is not applied, and is deleted.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HexmapError, toHexmapError } from "./errors";

export const JOURNAL_SUFFIX = ".hexmap-journal";
export const JOURNAL_MAGIC = "HEXMAPJ1";
export const JOURNAL_VERSION = 1;
export const JOURNAL_HEADER_SIZE = 64;
export const JOURNAL_RECORD_HEADER = 12;
export const JOURNAL_TRAILER = 32;
/** Longest single record; longer edits are split. */
export const JOURNAL_RECORD_MAX = 16 * 1024 * 1024;

export interface JournalHeader {
  fileSize: number;
  fileMtimeMs: number;
  count: number;
  dataBytes: number;
}

export interface JournalRecord {
  offset: number;
  original: Uint8Array;
  next: Uint8Array;
}

export type JournalStep = "journal-write" | "journal-fsync" | "journal-renamed";

export function journalPathFor(file: string): string {
  return file + JOURNAL_SUFFIX;
}

export function journalTempPathFor(file: string): string {
  return journalPathFor(file) + ".tmp";
}

/**
 * fsyncs a directory so a rename or unlink in it is durable. On Windows a directory cannot be
 * opened for fsync from Node (and NTFS journals the rename itself): skipped there.
 */
export function fsyncDir(dir: string): void {
  if (process.platform === "win32") return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (err) {
    // Some file systems refuse fsync on a directory (EINVAL); the rename is as durable as they allow.
    const code = (err as { code?: string }).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EISDIR") throw toHexmapError(err, { path: dir, op: "sync the directory" });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function encodeHeader(h: JournalHeader): Buffer {
  const b = Buffer.alloc(JOURNAL_HEADER_SIZE);
  b.write(JOURNAL_MAGIC, 0, "latin1");
  b.writeUInt32LE(JOURNAL_VERSION, 8);
  b.writeUInt32LE(JOURNAL_HEADER_SIZE, 12);
  b.writeBigUInt64LE(BigInt(h.fileSize), 16);
  b.writeDoubleLE(h.fileMtimeMs, 24);
  b.writeUInt32LE(h.count, 32);
  b.writeUInt32LE(0, 36);
  b.writeBigUInt64LE(BigInt(h.dataBytes), 40);
  return b;
}

/** Expected journal length for a header. */
export function journalLength(h: JournalHeader): number {
  return JOURNAL_HEADER_SIZE + h.count * JOURNAL_RECORD_HEADER + 2 * h.dataBytes + JOURNAL_TRAILER;
}

/**
 * Gathers small pieces (record headers, short records) into 1 MiB positioned writes, hashing
 * every byte as it goes: how both journal versions write their body.
 */
export class GatheringWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private pos = 0;
  constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly hash: { update(b: Uint8Array): unknown; digest(): Buffer },
    private readonly onFlushed?: (position: number) => void,
    private readonly chunk = 1024 * 1024,
  ) {}

  /** Bytes written so far (the next write's offset). */
  get position(): number {
    return this.pos;
  }

  /** The hash of every byte flushed so far (call once, after the last flush). */
  digest(): Buffer {
    return this.hash.digest();
  }

  async push(b: Uint8Array): Promise<void> {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(buf);
    for (let off = 0; off < buf.length; ) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
    this.onFlushed?.(this.pos);
  }
}

export interface WriteJournalOptions {
  /** Called at each kill point (crash tests); a no-op normally. */
  hook?: (step: JournalStep, index: number) => void;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes the journal for `file` durably: to `<journal>.tmp`, fsync, rename, fsync the directory.
 * Records must be sorted and non-overlapping. On failure or abort the temp file is removed.
 */
export async function writeJournal(
  file: string,
  header: Omit<JournalHeader, "count" | "dataBytes">,
  records: readonly JournalRecord[],
  options: WriteJournalOptions = {},
): Promise<{ path: string; bytes: number }> {
  const hook = options.hook ?? (() => {});
  const dataBytes = records.reduce((a, r) => a + r.next.length, 0);
  const full: JournalHeader = { ...header, count: records.length, dataBytes };
  const total = journalLength(full);
  return writeJournalFile(file, total, { fsynced: () => hook("journal-fsync", 0), renamed: () => hook("journal-renamed", 0) }, options, async (fh, out) => {
    const push = (b: Uint8Array): Promise<void> => out.push(b);
    await push(encodeHeader(full));
    for (let k = 0; k < records.length; k++) {
      const r = records[k]!;
      if (r.original.length !== r.next.length || r.next.length === 0 || r.next.length > JOURNAL_RECORD_MAX) {
        throw new HexmapError("EINTERNAL", `Bad journal record at offset ${r.offset} (${r.original.length}/${r.next.length} bytes)`);
      }
      const rh = Buffer.alloc(JOURNAL_RECORD_HEADER);
      rh.writeBigUInt64LE(BigInt(r.offset), 0);
      rh.writeUInt32LE(r.next.length, 8);
      await push(rh);
      await push(r.original);
      await push(r.next);
      hook("journal-write", k);
      if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save cancelled (the file was not touched)");
    }
    await out.flush();
    const digest = out.digest();
    await fh.write(digest, 0, digest.length, out.position);
    return out.position + digest.length;
  });
}

/**
 * The part both journal versions share: `body` writes the journal through a GatheringWriter
 * into `<file>.hexmap-journal.tmp` and returns its length; then the temp is fsync'd, renamed to
 * its real name and the folder fsync'd — from then on a crash is recoverable. Any failure or
 * cancel before the rename removes the temp.
 */
export async function writeJournalFile(
  file: string,
  total: number,
  hooks: { fsynced: () => void; renamed: () => void },
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  body: (fh: fs.promises.FileHandle, out: GatheringWriter) => Promise<number>,
): Promise<{ path: string; bytes: number }> {
  const finalPath = journalPathFor(file);
  const tmpPath = journalTempPathFor(file);
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(tmpPath, "w");
    const out = new GatheringWriter(fh, createHash("sha256"), (pos) => options.onProgress?.(pos, total));
    const bytes = await body(fh, out);
    await fh.sync();
    await fh.close();
    fh = undefined;
    hooks.fsynced();
    if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save cancelled (the file was not touched)");
    fs.renameSync(tmpPath, finalPath);
    hooks.renamed();
    fsyncDir(path.dirname(path.resolve(file)));
    return { path: finalPath, bytes };
  } catch (err) {
    if (fh) await fh.close().catch(() => {});
    try {
      fs.unlinkSync(tmpPath);
    } catch {
      /* already gone */
    }
    throw toHexmapError(err, { path: tmpPath, op: "write the save journal" });
  }
}

export type JournalCheck =
  | { status: "none"; path: string; staleTemp: boolean }
  | { status: "invalid"; path: string; reason: string; staleTemp: boolean }
  | { status: "valid"; path: string; header: JournalHeader; journalBytes: number; staleTemp: boolean };

/** Reads and verifies the journal of `file` (header, length, checksum). Never changes anything. */
export function inspectJournal(file: string): JournalCheck {
  const jp = journalPathFor(file);
  const staleTemp = fs.existsSync(journalTempPathFor(file));
  let fd: number;
  try {
    fd = fs.openSync(jp, "r");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return { status: "none", path: jp, staleTemp };
    throw toHexmapError(err, { path: jp, op: "open the save journal" });
  }
  try {
    const size = fs.fstatSync(fd).size;
    const invalid = (reason: string): JournalCheck => ({ status: "invalid", path: jp, reason, staleTemp });
    if (size < JOURNAL_HEADER_SIZE + JOURNAL_TRAILER) return invalid(`too short (${size} bytes)`);
    const hb = Buffer.alloc(JOURNAL_HEADER_SIZE);
    fs.readSync(fd, hb, 0, JOURNAL_HEADER_SIZE, 0);
    if (hb.toString("latin1", 0, 8) !== JOURNAL_MAGIC) return invalid("not a Hexmap journal (bad magic)");
    const version = hb.readUInt32LE(8);
    if (version !== JOURNAL_VERSION) return invalid(`unsupported journal version ${version}`);
    if (hb.readUInt32LE(12) !== JOURNAL_HEADER_SIZE) return invalid("bad header size");
    const header: JournalHeader = {
      fileSize: Number(hb.readBigUInt64LE(16)),
      fileMtimeMs: hb.readDoubleLE(24),
      count: hb.readUInt32LE(32),
      dataBytes: Number(hb.readBigUInt64LE(40)),
    };
    if (journalLength(header) !== size) return invalid(`length ${size} does not match its header (${journalLength(header)}): incomplete`);
    // Checksum over everything before the trailer, streamed.
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(1024 * 1024);
    const end = size - JOURNAL_TRAILER;
    for (let pos = 0; pos < end; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n <= 0) return invalid("short read");
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    const trailer = Buffer.alloc(JOURNAL_TRAILER);
    fs.readSync(fd, trailer, 0, JOURNAL_TRAILER, end);
    if (!hash.digest().equals(trailer)) return invalid("checksum mismatch: the journal is damaged or was never completed");
    // Structure: records in order, within the file, lengths adding up.
    let pos = JOURNAL_HEADER_SIZE;
    let prevEnd = 0;
    let sum = 0;
    const rh = Buffer.alloc(JOURNAL_RECORD_HEADER);
    for (let k = 0; k < header.count; k++) {
      fs.readSync(fd, rh, 0, JOURNAL_RECORD_HEADER, pos);
      const offset = Number(rh.readBigUInt64LE(0));
      const length = rh.readUInt32LE(8);
      if (length === 0 || length > JOURNAL_RECORD_MAX || offset < prevEnd || offset + length > header.fileSize) {
        return invalid(`record ${k} is out of order or outside the file`);
      }
      prevEnd = offset + length;
      sum += length;
      pos += JOURNAL_RECORD_HEADER + 2 * length;
    }
    if (sum !== header.dataBytes) return invalid("record lengths do not add up");
    return { status: "valid", path: jp, header, journalBytes: size, staleTemp };
  } finally {
    fs.closeSync(fd);
  }
}

/** The records of a journal that inspectJournal() found valid, read one at a time. */
export function* readJournalRecords(file: string, header: JournalHeader): Generator<JournalRecord> {
  const jp = journalPathFor(file);
  const fd = fs.openSync(jp, "r");
  try {
    let pos = JOURNAL_HEADER_SIZE;
    const rh = Buffer.alloc(JOURNAL_RECORD_HEADER);
    for (let k = 0; k < header.count; k++) {
      fs.readSync(fd, rh, 0, JOURNAL_RECORD_HEADER, pos);
      const offset = Number(rh.readBigUInt64LE(0));
      const length = rh.readUInt32LE(8);
      const data = Buffer.allocUnsafe(2 * length);
      let got = 0;
      while (got < data.length) {
        const n = fs.readSync(fd, data, got, data.length - got, pos + JOURNAL_RECORD_HEADER + got);
        if (n <= 0) throw new HexmapError("EIO", `Short read in the save journal ${jp}`);
        got += n;
      }
      yield { offset, original: data.subarray(0, length), next: data.subarray(length) };
      pos += JOURNAL_RECORD_HEADER + 2 * length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Deletes the journal of `file` and any stale temp journal, then makes that durable. */
export function removeJournal(file: string, hook?: (step: "delete-journal", index: number) => void): void {
  for (const p of [journalPathFor(file), journalTempPathFor(file)]) {
    try {
      fs.unlinkSync(p);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw toHexmapError(err, { path: p, op: "delete the save journal" });
    }
  }
  hook?.("delete-journal", 0);
  fsyncDir(path.dirname(path.resolve(file)));
}
