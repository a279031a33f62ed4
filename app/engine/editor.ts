// Editor: the editing layer above one read-only Document (ImHex's Provider split: the Document
// only does raw mapped reads; pending edits, undo/redo and the journaled save live here, once).
//
//   read(offset, len)     Document.read merged with the pending edits
//   edit / fill           overwrite only; the file size never changes
//   undo / redo           EditOverlay steps, typing grouped by `group`
//   save()                journaled in-place save (save.ts), in time proportional to the edits
//   saveAs(path)          streamed copy with the edits applied, temp file + rename
//   checkExternalChange   size + mtime since open/last save, plus the original bytes of every
//                         range edited since then (captured when the range was first edited)
//
// Concurrency rule: while a save or save-as runs, edit/fill/undo/redo are refused with EBUSY (not
// queued: the UI must show that the document is busy, and a queued edit would silently land after
// a save the user believes contains it). Reads are always allowed: during a save they still show
// the edits (the overlay is only cleared once the file holds them).

import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { NativeAddon } from "../../native/index";
import { Document, MAX_DOCUMENT_READ } from "./document";
import { EditOverlay, RunList, type ChangedRange, type EditOptions, type Run } from "./edit-overlay";
import { HexmapError, toHexmapError } from "./errors";
import { fsyncDir, type JournalRecord } from "./journal";
import {
  recoverFile,
  recoveryState,
  saveEdits,
  type RecoverDirection,
  type RecoverResult,
  type RecoveryState,
  type SaveProgress,
  type SaveTimings,
} from "./save";

export interface EditorOpenOptions {
  /** Default false: the editor may save into the file. */
  readOnly?: boolean;
  viewSize?: number;
  maxBytes?: number;
  native?: NativeAddon;
}

export interface SaveOptions {
  onProgress?: (p: SaveProgress) => void;
  /** Honoured until the journal is durable; after that a save runs to completion. */
  signal?: AbortSignal;
  /** Save even though the file changed on disk since it was opened or last saved. */
  force?: boolean;
}

export interface SaveResult {
  /** Where the save spent its time (ms): read originals, journal, write, flush, sync, delete journal. */
  timings?: SaveTimings;
  records: number;
  bytes: number;
  journalBytes: number;
  durationMs: number;
  generation: number;
}

export interface SaveAsOptions {
  onProgress?: (p: { phase: "copy"; done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface SaveAsResult {
  path: string;
  bytes: number;
  durationMs: number;
}

export interface ExternalChange {
  changed: boolean;
  /** A sentence for the user when changed; "" otherwise. */
  reason: string;
}

interface FileIdentity {
  size: number;
  mtimeNs: bigint;
  mtimeMs: number;
}

/**
 * Original bytes of ranges edited since open/last save, as they were when first edited: the
 * reference for the content part of checkExternalChange. Append-only and compact (no object per
 * entry): 8 + 8 + 8 bytes plus the bytes themselves.
 */
class OriginalLog {
  private offsets: number[] = [];
  private starts: number[] = [];
  private lengths: number[] = [];
  private pool = new Uint8Array(4096);
  private used = 0;

  get count(): number {
    return this.offsets.length;
  }

  add(offset: number, bytes: Uint8Array): void {
    if (this.used + bytes.length > this.pool.length) {
      const grown = new Uint8Array(Math.max(this.pool.length * 2, this.used + bytes.length));
      grown.set(this.pool.subarray(0, this.used));
      this.pool = grown;
    }
    this.pool.set(bytes, this.used);
    this.offsets.push(offset);
    this.starts.push(this.used);
    this.lengths.push(bytes.length);
    this.used += bytes.length;
  }

  *entries(): Generator<{ offset: number; bytes: Uint8Array }> {
    for (let i = 0; i < this.offsets.length; i++) {
      const s = this.starts[i]!;
      yield { offset: this.offsets[i]!, bytes: this.pool.subarray(s, s + this.lengths[i]!) };
    }
  }

  clear(): void {
    this.offsets = [];
    this.starts = [];
    this.lengths = [];
    this.pool = new Uint8Array(4096);
    this.used = 0;
  }
}

/** Largest piece read at once during save-as. */
const COPY_CHUNK = 4 * 1024 * 1024;
/** Save As leaves all-zero blocks of this size as holes. */
const HOLE_BLOCK = 64 * 1024;

export class Editor {
  readonly path: string;
  readonly readOnly: boolean;
  private readonly doc: Document;
  private readonly ownsDoc: boolean;
  private readonly native: NativeAddon | undefined;
  private readonly overlay: EditOverlay;
  private readonly originals = new OriginalLog();
  private identity: FileIdentity;
  private busy: "save" | "save-as" | null = null;
  /** A plain read-only descriptor for reference copies of edited ranges (lazily opened). */
  private rawFd: number | undefined;
  private saveGen = 0;

  /** Opens `file` for viewing (a read-only Document) and editing (unless readOnly). */
  static open(file: string, options: EditorOpenOptions = {}): Editor {
    const readOnly = options.readOnly ?? false;
    if (!readOnly) {
      try {
        fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
      } catch (err) {
        throw toHexmapError(err, { path: file, op: "write" });
      }
    }
    const doc = Document.openFile(file, {
      readOnly: true,
      ...(options.viewSize !== undefined ? { viewSize: options.viewSize } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...(options.native ? { native: options.native } : {}),
    });
    try {
      return new Editor(doc, file, { readOnly, ...(options.native ? { native: options.native } : {}), ownsDocument: true });
    } catch (err) {
      doc.close();
      throw err;
    }
  }

  /** Wraps an open Document of the file at `file`. */
  constructor(doc: Document, file: string, options: { readOnly?: boolean; native?: NativeAddon; ownsDocument?: boolean } = {}) {
    if (doc.kind !== "file") throw new HexmapError("ENOTSUP", `Editing is supported for files only, not for ${doc.kind} documents`);
    this.doc = doc;
    this.path = file;
    this.readOnly = options.readOnly ?? false;
    this.native = options.native;
    this.ownsDoc = options.ownsDocument ?? false;
    this.overlay = new EditOverlay(doc.size);
    this.identity = this.statNow();
  }

  /** Document size (fixed: overwrite mode). */
  get size(): number {
    return this.overlay.size;
  }

  /** Bumps on any change: edit, undo, redo, save, or the file's size changing on disk. */
  get generation(): number {
    return this.doc.generation + this.overlay.generation + this.saveGen;
  }

  get dirty(): boolean {
    return this.overlay.dirty;
  }

  /** Undo steps between now and the last save (0 at the save point). */
  get editCount(): number {
    return this.overlay.editCount;
  }

  /** Bytes with a pending edit. */
  get pendingBytes(): number {
    return this.overlay.pendingBytes;
  }

  get canUndo(): boolean {
    return this.overlay.canUndo;
  }

  get canRedo(): boolean {
    return this.overlay.canRedo;
  }

  /** "save" or "save-as" while one runs, else null. */
  get busyWith(): "save" | "save-as" | null {
    return this.busy;
  }

  get closed(): boolean {
    return this.doc.closed;
  }

  /** The underlying read-only Document. */
  get document(): Document {
    return this.doc;
  }

  /** Bytes [offset, offset+length) as the user sees them (clamped at the end, like Document.read). */
  async read(offset: number, length: number): Promise<Buffer> {
    const buf = await this.doc.read(offset, length);
    return this.overlay.apply(offset, buf);
  }

  readSync(offset: number, length: number): Buffer {
    return this.overlay.apply(offset, this.doc.readSync(offset, length));
  }

  /** Pending edited runs in [start, end) (to paint edited bytes in another colour). */
  editedIn(start: number, end: number): Run[] {
    return this.overlay.editedIn(start, end);
  }

  edit(offset: number, bytes: Uint8Array, options: EditOptions = {}): ChangedRange {
    this.assertEditable();
    const gaps = this.uneditedIn(offset, bytes instanceof Uint8Array ? bytes.length : 0);
    const range = this.overlay.edit(offset, bytes, options);
    this.capture(gaps);
    return range;
  }

  fill(offset: number, length: number, byte: number, options: EditOptions = {}): ChangedRange {
    this.assertEditable();
    const gaps = this.uneditedIn(offset, length);
    const range = this.overlay.fill(offset, length, byte, options);
    this.capture(gaps);
    return range;
  }

  undo(): ChangedRange | null {
    this.assertEditable();
    const step = this.overlay.canUndo ? this.peekRange("undo") : null;
    const range = this.overlay.undo();
    if (range && step) this.capture(step);
    return range;
  }

  redo(): ChangedRange | null {
    this.assertEditable();
    const step = this.overlay.canRedo ? this.peekRange("redo") : null;
    const range = this.overlay.redo();
    if (range && step) this.capture(step);
    return range;
  }

  /** Drops every pending edit and the undo history (revert to the file on disk). */
  discard(): void {
    this.assertOpen();
    if (this.busy) throw this.busyError();
    this.overlay.clear();
    this.originals.clear();
    this.identity = this.statNow();
  }

  /**
   * Has the file changed on disk since it was opened or last saved? Size and mtime, then (when
   * those match) the original bytes of every range edited since, read raw now.
   */
  checkExternalChange(options: { content?: boolean } = {}): ExternalChange {
    this.assertOpen();
    let now: FileIdentity;
    try {
      now = this.statNow();
    } catch (err) {
      return { changed: true, reason: `${this.path} can no longer be read (${(err as Error).message}): it was deleted, renamed or locked` };
    }
    if (now.size !== this.identity.size) {
      return { changed: true, reason: `${this.path} changed size on disk (${this.identity.size} → ${now.size} bytes) since it was opened or last saved` };
    }
    if (now.mtimeNs !== this.identity.mtimeNs) {
      return { changed: true, reason: `${this.path} was modified on disk (at ${new Date(now.mtimeMs).toISOString()}) since it was opened or last saved` };
    }
    if (options.content === false) return { changed: false, reason: "" };
    for (const { offset, bytes } of this.originals.entries()) {
      let raw: Buffer;
      try {
        raw = this.readRawFile(offset, bytes.length);
      } catch (err) {
        return { changed: true, reason: `${this.path} can no longer be read at offset ${offset} (${(err as Error).message})` };
      }
      if (!raw.equals(bytes)) {
        return { changed: true, reason: `The bytes at offset ${offset} of ${this.path} were changed on disk by another program since you edited them` };
      }
    }
    return { changed: false, reason: "" };
  }

  /**
   * Saves the pending edits into the file, journaled (save.ts). Refuses with ECHANGED when the
   * file changed on disk (unless force), EBUSY while another save runs or an interrupted save's
   * journal is present, EACCES for a read-only editor.
   */
  async save(options: SaveOptions = {}): Promise<SaveResult> {
    this.assertOpen();
    if (this.readOnly) throw new HexmapError("EACCES", `${this.path} is open read-only; use Save As to write a copy`);
    if (this.busy) throw this.busyError();
    this.busy = "save";
    try {
      // Size and mtime here; the content of the edited ranges is compared by the save itself,
      // against the bytes it reads for the journal anyway (verifyOriginals), off the main thread.
      const change = this.checkExternalChange({ content: false });
      if (change.changed && !options.force) {
        throw new HexmapError("ECHANGED", `${change.reason}. Reload it, or save anyway to overwrite those changes`);
      }
      const runs = [...this.overlay.ranges()];
      if (runs.length === 0) {
        return { records: 0, bytes: 0, journalBytes: 0, durationMs: 0, generation: this.generation };
      }
      let res;
      try {
        res = await saveEdits(this.path, runs, {
          fileMtimeMs: this.identity.mtimeMs,
          ...(options.force ? {} : { expectedSize: this.identity.size, verifyOriginals: (recs) => this.verifyOriginals(recs) }),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(this.native ? { native: this.native } : {}),
        });
      } catch (err) {
        // A failed save either never touched the file or rolled it back (same bytes, new mtime);
        // if it was unchanged before, take its identity now so a retry is not refused. (If the
        // rollback failed, the journal stays and the next save refuses with EBUSY anyway.)
        if (!change.changed) {
          try {
            this.identity = this.statNow();
          } catch {
            /* the next check reports it */
          }
        }
        throw err;
      }
      // The file now holds the edits. Keep the undo history exact across the save: bytes a step
      // saw as "not edited" become edits of what the file held before (from the journal records).
      const before = new RunList();
      for (const r of res.written) before.insert({ offset: r.offset, bytes: r.original });
      this.overlay.markSaved((offset, length) => {
        const out = new Uint8Array(length);
        before.apply(offset, out);
        return out;
      });
      this.originals.clear();
      this.identity = this.statNow();
      this.saveGen++;
      return { records: res.records, bytes: res.bytes, journalBytes: res.journalBytes, durationMs: res.durationMs, timings: res.timings, generation: this.generation };
    } finally {
      this.busy = null;
    }
  }

  /**
   * Writes a copy of the document as the user sees it (edits applied) to `target`: streamed
   * through the engine into a temp file beside the target, fsync'd, renamed over it. All-zero
   * chunks are left as holes, so a sparse file stays sparse. The editor keeps editing this file;
   * its pending edits are not cleared. Cancel (signal) removes the temp file.
   */
  async saveAs(target: string, options: SaveAsOptions = {}): Promise<SaveAsResult> {
    this.assertOpen();
    if (this.busy) throw this.busyError();
    if (typeof target !== "string" || target.length === 0 || target.includes("\0")) throw new HexmapError("EINVAL", "Save As needs a file path");
    if (this.sameFile(target)) throw new HexmapError("EINVAL", `${target} is the file being edited: use Save`);
    // The temp file is renamed over the target: never over a folder, device, FIFO or socket (as root, over /dev/null).
    let existing: fs.Stats | undefined;
    try {
      existing = fs.statSync(target);
    } catch {
      /* a new file */
    }
    if (existing?.isDirectory()) throw new HexmapError("EISDIR", `${target} is a folder: give a file name`);
    if (existing && !existing.isFile()) throw new HexmapError("EINVAL", `${target} is not a regular file (a device, FIFO or socket): save to a file`);
    const t0 = performance.now();
    const dir = path.dirname(path.resolve(target));
    const tmp = path.join(dir, `.${path.basename(target)}.hexmap-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
    this.busy = "save-as";
    let fh: fs.promises.FileHandle | undefined;
    try {
      try {
        fh = await fs.promises.open(tmp, "wx");
      } catch (err) {
        throw toHexmapError(err, { path: tmp, op: "create" });
      }
      const size = this.size;
      const chunk = Math.min(COPY_CHUNK, MAX_DOCUMENT_READ);
      let zero: Buffer | undefined;
      for (let pos = 0; pos < size; ) {
        if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save As cancelled; nothing was written");
        const n = Math.min(chunk, size - pos);
        const buf = await this.read(pos, n);
        if (buf.length !== n) throw new HexmapError("ECHANGED", `${this.path} became shorter while it was being copied`);
        // Write only the 64 KiB blocks that are not all zero: holes stay holes.
        zero ??= Buffer.alloc(HOLE_BLOCK);
        for (let b = 0; b < n; ) {
          let e = b;
          while (e < n && !buf.subarray(e, Math.min(n, e + HOLE_BLOCK)).equals(zero.subarray(0, Math.min(HOLE_BLOCK, n - e)))) e += HOLE_BLOCK;
          e = Math.min(e, n);
          for (let off = b; off < e; ) {
            const { bytesWritten } = await fh.write(buf, off, e - off, pos + off);
            off += bytesWritten;
          }
          b = e === b ? b + HOLE_BLOCK : e;
        }
        pos += n;
        options.onProgress?.({ phase: "copy", done: pos, total: size });
      }
      await fh.truncate(size); // trailing holes
      await fh.sync();
      await fh.close();
      fh = undefined;
      if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save As cancelled; nothing was written");
      fs.renameSync(tmp, target);
      fsyncDir(dir);
      return { path: target, bytes: size, durationMs: performance.now() - t0 };
    } catch (err) {
      if (fh) await fh.close().catch(() => {});
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* not created, or already renamed */
      }
      throw toHexmapError(err, { path: target, op: "save a copy to" });
    } finally {
      this.busy = null;
    }
  }

  /** Closes the Document if this editor opened it. Pending edits are dropped. */
  close(): void {
    this.closeRawFd();
    if (this.ownsDoc) this.doc.close();
  }

  /** Is there an interrupted save of `file` to recover? Reads only. */
  static recoverState(file: string): RecoveryState {
    return recoveryState(file);
  }

  /** Finishes ('forward') or undoes ('back') an interrupted save of `file`, then deletes its journal. */
  static recover(file: string, direction: RecoverDirection, options: { native?: NativeAddon } = {}): Promise<RecoverResult> {
    return recoverFile(file, direction, options);
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * Compares the bytes a save just read from the file (records' originals) with the reference
   * copies taken when those ranges were first edited. Returns a sentence on a mismatch.
   */
  private verifyOriginals(records: readonly JournalRecord[]): string | null {
    for (const { offset, bytes } of this.originals.entries()) {
      const end = offset + bytes.length;
      // First record ending after `offset` (records are sorted and do not overlap).
      let lo = 0;
      let hi = records.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const r = records[mid]!;
        if (r.offset + r.original.length > offset) hi = mid;
        else lo = mid + 1;
      }
      for (let k = lo; k < records.length && records[k]!.offset < end; k++) {
        const r = records[k]!;
        const from = Math.max(offset, r.offset);
        const to = Math.min(end, r.offset + r.original.length);
        const now = r.original.subarray(from - r.offset, to - r.offset);
        const then = bytes.subarray(from - offset, to - offset);
        if (Buffer.compare(now, then) !== 0) {
          return `The bytes at offset ${from} of ${this.path} were changed on disk by another program since you edited them. Reload it, or save anyway to overwrite those changes`;
        }
      }
    }
    return null;
  }

  /**
   * The file's bytes now, with a plain positioned read on a descriptor of our own. Used for the
   * reference copies of edited ranges: a few bytes at scattered offsets, where mapping a 64 MiB
   * window of the Document per edit would cost far more than the read (and churn its view cache).
   */
  private readRawFile(offset: number, length: number): Buffer {
    this.rawFd ??= fs.openSync(this.path, "r");
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(this.rawFd, buf, got, length - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  private closeRawFd(): void {
    if (this.rawFd === undefined) return;
    try {
      fs.closeSync(this.rawFd);
    } catch {
      /* already closed */
    }
    this.rawFd = undefined;
  }

  private statNow(): FileIdentity {
    const st = fs.statSync(this.path, { bigint: true });
    return { size: Number(st.size), mtimeNs: st.mtimeNs, mtimeMs: Number(st.mtimeMs) };
  }

  private sameFile(target: string): boolean {
    if (path.resolve(target) === path.resolve(this.path)) return true;
    try {
      const a = fs.statSync(target, { bigint: true });
      const b = fs.statSync(this.path, { bigint: true });
      return a.ino !== 0n && a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }

  private assertOpen(): void {
    if (this.doc.closed) throw new HexmapError("EBADDOC", `The document ${this.path} is closed`);
  }

  private assertEditable(): void {
    this.assertOpen();
    if (this.readOnly) throw new HexmapError("EACCES", `${this.path} is open read-only: edits are not allowed`);
    if (this.busy) throw this.busyError();
  }

  private busyError(): HexmapError {
    return new HexmapError("EBUSY", `${this.path} is being ${this.busy === "save" ? "saved" : "copied (Save As)"}; try again when that finishes`);
  }

  /** Sub-ranges of [offset, offset+length) with no pending edit, for valid arguments (else none). */
  private uneditedIn(offset: number, length: number): ChangedRange[] {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0) return [];
    if (offset + length > this.size) return [];
    return this.overlay.uneditedIn(offset, offset + length);
  }

  /** The range the next undo/redo will change, restricted to bytes with no pending edit now. */
  private peekRange(kind: "undo" | "redo"): ChangedRange[] {
    const r = this.overlay.peek(kind);
    return r ? this.overlay.uneditedIn(r.start, r.end) : [];
  }

  /**
   * Records the raw bytes of ranges that just became edited (they had no pending edit a moment
   * ago, so the file's bytes are what the user saw). A read error only loses the content check
   * for those bytes; the size/mtime check and the save's own checks remain.
   */
  private capture(ranges: ChangedRange[]): void {
    for (const g of ranges) {
      for (const r of this.overlay.editedIn(g.start, g.end)) {
        try {
          const raw = this.readRawFile(r.offset, r.bytes.length);
          if (raw.length > 0) this.originals.add(r.offset, raw);
        } catch {
          /* see above */
        }
      }
    }
  }
}
