// Editor: the one document model of a file (DESIGN.md, "The document, version 2"). The file is
// read through a read-only Document (mapped windows); what the user sees is a PieceTable over it
// (piece-table.ts): pieces of the file, added bytes and fills, in a persistent balanced tree, so
// any edit — overwrite, insert, delete, replace of another length, 10 GiB fills — is O(log pieces)
// and a snapshot is the table object itself.
//
//   read(offset, len)       the document as the user sees it (file pieces read through the Document)
//   replace(o, del, bytes)  the one primitive; edit (overwrite), insert, remove, fill, insertFill
//   undo / redo             steps that record what they removed and inserted, as pieces
//   save()                  SavePlanner: (a) journaled in place when the size is the same and every
//                           file piece is at its own offset (save.ts); otherwise (b) rewrite to a temp
//                           file + atomic replace, or (c) in place with a v2 journal (save-resize.ts)
//   saveAs(path)            streamed copy of what the user sees, temp file + rename
//   snapshot()              a frozen version for long jobs (search, hash) while editing goes on
//   checkExternalChange     size + mtime since open/last save, plus the original bytes of ranges the
//                           user replaced (captured when first replaced)
//
// Undo steps. A step is replace(offset, removedLength, removed pieces → inserted pieces); undo
// applies the inverse. Steps hold pieces, not versions, so old roots are garbage and memory per
// edit stays a few hundred bytes. Typing (the same `group` key, nothing else in between) coalesces
// into the top step when the new edit starts inside or right after the step's inserted bytes, or
// (backspace) ends right where the step starts.
//
// Across a save the file changes, so file pieces in the history would read the wrong bytes. Before
// a save writes anything, the history is rebased onto the file as it will be: a file range that
// survives in the new file (it is a file piece of the current document) becomes a file piece of
// the new file at its new place; a range the save overwrites or drops is read now and kept as
// bytes, up to REBASE_MAX bytes in all — past that the history is cleared and the save says so.
//
// Concurrency rule: while a save or save-as runs, edits are refused with EBUSY (not queued: a
// queued edit would land after a save the user believes contains it). Reads are always allowed.

import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { NativeAddon } from "../../native/index";
import { Document, MAX_DOCUMENT_READ } from "./document";
import { HexmapError, checkOffset, toHexmapError } from "./errors";
import { fsyncDir, type JournalRecord } from "./journal";
import { NO_PIECES, StepLog, type Step } from "./history";
import { PieceTable, clipPiece, pieceLength, type Piece, type Slice } from "./piece-table";
import {
  recoverFile,
  recoveryState,
  saveEdits,
  type RecoverDirection,
  type RecoverResult,
  type RecoveryState,
  type Run,
  type SaveProgress,
  type SaveTimings,
} from "./save";
import { saveResized, type ResizeStrategy, type SaveSegment } from "./save-resize";

export type { Run } from "./save";

export interface ChangedRange {
  /** First changed offset. */
  start: number;
  /** One past the last changed offset; the document size when everything after `start` shifted. */
  end: number;
}

export interface EditOptions {
  /** Consecutive edits with the same key that touch each other merge into one undo step (typing). */
  group?: string | number;
}

/** Largest single edit payload, in bytes (it lives in memory); fills have no such limit. */
export const MAX_EDIT_BYTES = 256 * 1024 * 1024;
/** Largest undo step that typing (same group) may grow into. */
export const COALESCE_MAX = 16 * 1024;
/** Bytes a save may read to keep the undo history valid across it (see the header). */
export const REBASE_MAX = 64 * 1024 * 1024;
/** Reference copies of replaced file bytes (for checkExternalChange) up to this much in all. */
const CAPTURE_MAX = 16 * 1024 * 1024;
/** Added bytes an in-place equal-length save keeps in memory; above it the save rewrites. */
const IN_PLACE_ADDED_MAX = 256 * 1024 * 1024;

export type SaveStrategy = "auto" | "in-place" | "rewrite";

export interface EditorOpenOptions {
  /** Default false: the editor may save into the file. */
  readOnly?: boolean;
  viewSize?: number;
  maxBytes?: number;
  native?: NativeAddon;
}

export interface SaveOptions {
  onProgress?: (p: SaveProgress | { phase: string; done: number; total: number }) => void;
  /** Honoured until the save is committed (journal durable / before the replace). */
  signal?: AbortSignal;
  /** Save even though the file changed on disk since it was opened or last saved. */
  force?: boolean;
  /**
   * How a size-changing save reaches the disk: "rewrite" (temp file + atomic replace), "in-place"
   * (v2 journal, moves with a durable cursor), "auto" (rewrite unless free space is short).
   * An equal-length save with every file byte at its place always writes in place (journal v1).
   */
  strategy?: SaveStrategy;
}

export interface SaveResult {
  /** How the save reached the disk. */
  strategy: "none" | "journal" | ResizeStrategy;
  /** Where the save spent its time (ms). */
  timings?: SaveTimings | Record<string, number>;
  records: number;
  bytes: number;
  journalBytes: number;
  durationMs: number;
  generation: number;
  /** The file's size after the save. */
  size: number;
  /** The undo history could not be kept across this save (it would have needed more than REBASE_MAX bytes). */
  historyCleared?: boolean;
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

/** Where bytes of the document come from, for painting: as in the file, replaced in place, inserted. */
export interface EditedSpans {
  /** Added bytes that replaced the same number of bytes at the same place (overwrite colour). */
  edited: ChangedRange[];
  /** Added bytes that changed the size around them (insert colour). */
  inserted: ChangedRange[];
}

/** A frozen version of the document: what long jobs read while the user goes on editing. */
export interface Snapshot {
  /** The document version (Editor.generation) it was taken at. */
  readonly version: number;
  readonly size: number;
  /** True when it is the file as on disk (no pending edits): a job may scan the file natively. */
  readonly unedited: boolean;
  read(offset: number, length: number): Promise<Buffer>;
  /** Its pieces in [start, end), clipped (file pieces refer to the file as on disk). */
  slices(start: number, end: number): Slice[];
}

interface FileIdentity {
  size: number;
  mtimeNs: bigint;
  mtimeMs: number;
}

/**
 * Original bytes of file ranges replaced since open/last save, as they were when first replaced:
 * the reference for the content part of checkExternalChange. Append-only and compact.
 */
class OriginalLog {
  private offsets: number[] = [];
  private starts: number[] = [];
  private lengths: number[] = [];
  private pool = new Uint8Array(4096);
  private used = 0;

  get bytes(): number {
    return this.used;
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

/**
 * Small byte arrays are carved out of shared 16 KiB slabs (a separate Uint8Array(1) costs about
 * 200 bytes of heap). Consecutive allocations are adjacent views of one buffer, so the piece table
 * merges bytes typed one after another into one piece.
 */
class SlabAllocator {
  private slab = new Uint8Array(0);
  private used = 0;
  copy(src: Uint8Array): Uint8Array {
    const n = src.length;
    if (n > 1024) return Uint8Array.from(src);
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(16 * 1024);
      this.used = 0;
    }
    const piece = this.slab.subarray(this.used, this.used + n);
    piece.set(src);
    this.used += n;
    return piece;
  }
}

/** Largest piece read at once during save-as. */
const COPY_CHUNK = 4 * 1024 * 1024;
/** Save As leaves all-zero blocks of this size as holes. */
const HOLE_BLOCK = 64 * 1024;

function piecesLength(pieces: readonly Piece[]): number {
  let n = 0;
  for (const p of pieces) n += pieceLength(p);
  return n;
}

/** Pieces [from, to) of a piece list (relative offsets). */
function clipPieces(pieces: readonly Piece[], from: number, to: number): Piece[] {
  const out: Piece[] = [];
  let pos = 0;
  for (const p of pieces) {
    const n = pieceLength(p);
    const s = Math.max(from, pos);
    const e = Math.min(to, pos + n);
    if (s < e) out.push(clipPiece(p, s - pos, e - pos));
    pos += n;
    if (pos >= to) break;
  }
  return out;
}

/** The bytes of a fill piece's [0, length) into out at `at`. */
function expandFill(p: Extract<Piece, { kind: "fill" }>, out: Uint8Array, at: number): void {
  const pat = p.pattern;
  if (pat.length === 1) {
    out.fill(pat[0]!, at, at + p.length);
    return;
  }
  let phase = p.phase;
  for (let i = 0; i < p.length; i++) {
    out[at + i] = pat[phase]!;
    phase = phase + 1 === pat.length ? 0 : phase + 1;
  }
}

/** Reads `slices` into one buffer: file pieces through `readFile`, added bytes from memory. */
async function readSlices(slices: readonly Slice[], offset: number, length: number, readFile: (start: number, length: number) => Promise<Uint8Array>): Promise<Buffer> {
  if (slices.length === 1 && slices[0]!.piece.kind === "file") {
    const p = slices[0]!.piece;
    const b = await readFile(p.start, p.length);
    return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  }
  const out = Buffer.allocUnsafe(length);
  const reads: Promise<void>[] = [];
  for (const s of slices) {
    const at = s.offset - offset;
    const p = s.piece;
    if (p.kind === "bytes") out.set(p.bytes, at);
    else if (p.kind === "fill") expandFill(p, out, at);
    else
      reads.push(
        readFile(p.start, p.length).then((b) => {
          if (b.length !== p.length) throw new HexmapError("EIO", `Short read of the file at offset ${p.start}: it changed on disk`);
          out.set(b, at);
        }),
      );
  }
  await Promise.all(reads);
  return out;
}

export class Editor {
  readonly path: string;
  readonly readOnly: boolean;
  private doc: Document;
  private readonly ownsDoc: boolean;
  private readonly openOptions: EditorOpenOptions;
  private table: PieceTable;
  /** Size of the file as of open / last save: the file pieces refer to it. */
  private fileSize: number;
  private undoStack = new StepLog();
  private redoStack = new StepLog();
  /** Undo depth at the last save; -1 when that state can no longer be reached by undo/redo. */
  private saveDepth = 0;
  /** The top step may take more typing (nothing else happened since it was made). */
  private coalescible = false;
  private editGen = 0;
  /** Bumps when the file under the pieces changes (save, reload): snapshots of older epochs refuse to read. */
  private fileEpoch = 0;
  /** Bumps when what the document holds changes (edit, undo, redo, discard); a save keeps it (same bytes, now on disk). */
  private contentGen = 0;
  private lastStrategy: SaveResult["strategy"] = "none";
  private readonly slabs = new SlabAllocator();
  private readonly originals = new OriginalLog();
  private identity: FileIdentity;
  private busy: "save" | "save-as" | null = null;
  /** A plain read-only descriptor for reference copies of replaced ranges (lazily opened). */
  private rawFd: number | undefined;

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
    const doc = Editor.openDocument(file, options);
    try {
      return new Editor(doc, file, { ...options, readOnly, ownsDocument: true });
    } catch (err) {
      doc.close();
      throw err;
    }
  }

  private static openDocument(file: string, options: EditorOpenOptions): Document {
    return Document.openFile(file, {
      readOnly: true,
      ...(options.viewSize !== undefined ? { viewSize: options.viewSize } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...(options.native ? { native: options.native } : {}),
    });
  }

  /** Wraps an open Document of the file at `file`. */
  constructor(doc: Document, file: string, options: EditorOpenOptions & { ownsDocument?: boolean } = {}) {
    if (doc.kind !== "file") throw new HexmapError("ENOTSUP", `Editing is supported for files only, not for ${doc.kind} documents`);
    this.doc = doc;
    this.path = file;
    this.readOnly = options.readOnly ?? false;
    this.openOptions = options;
    this.ownsDoc = options.ownsDocument ?? false;
    this.fileSize = doc.size;
    this.table = PieceTable.ofFile(doc.size);
    this.identity = this.statNow();
  }

  /** The document's size as the user sees it (edits included). */
  get size(): number {
    return this.table.size;
  }

  /** Bumps on any change: edit, undo, redo, save, or the file's size changing on disk. */
  get generation(): number {
    return this.doc.generation + this.editGen;
  }

  /** Bumps when the bytes the document holds change (edit, undo, redo, discard), not on a save: the line index keeps its samples across a save. */
  get contentGeneration(): number {
    return this.contentGen;
  }

  get dirty(): boolean {
    return this.saveDepth !== this.undoStack.length;
  }

  /** Undo steps between now and the last save (0 at the save point). */
  get editCount(): number {
    if (this.saveDepth < 0) return this.undoStack.length;
    return Math.abs(this.undoStack.length - this.saveDepth);
  }

  /** Bytes that are not the file's own bytes at their own place (added, or shifted by an insert/delete). */
  get pendingBytes(): number {
    if (!this.dirty && this.table.isIdentity(this.fileSize)) return 0;
    let n = 0;
    for (const s of this.table.iterate(0, this.table.size)) {
      if (s.piece.kind !== "file" || s.piece.start !== s.offset) n += pieceLength(s.piece);
    }
    return n;
  }

  get pieceCount(): number {
    return this.table.pieceCount;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** "save" or "save-as" while one runs, else null. */
  /** How the last save reached the disk ("in-place": file ranges were moved inside the file itself); "none" before any. */
  get lastSaveStrategy(): SaveResult["strategy"] {
    return this.lastStrategy;
  }

  get busyWith(): "save" | "save-as" | null {
    return this.busy;
  }

  get closed(): boolean {
    return this.doc.closed;
  }

  /** The underlying read-only Document of the file as on disk. */
  get document(): Document {
    return this.doc;
  }

  /** Size of the file on disk as of open or the last save. */
  get savedSize(): number {
    return this.fileSize;
  }

  /** Bytes [offset, offset+length) as the user sees them (clamped at the end; offset > size is ERANGE). */
  async read(offset: number, length: number): Promise<Buffer> {
    const n = this.checkRead(offset, length);
    if (n === 0) return Buffer.alloc(0);
    const doc = this.doc;
    return readSlices(this.table.slices(offset, offset + n), offset, n, (s, l) => doc.read(s, l));
  }

  readSync(offset: number, length: number): Buffer {
    const n = this.checkRead(offset, length);
    if (n === 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(n);
    this.table.readSync(offset, out, (s, l) => this.doc.readSync(s, l));
    return out;
  }

  /** A frozen version for a long job; reading it after a save or reload of the file is ECHANGED. */
  snapshot(): Snapshot {
    this.assertOpen();
    const table = this.table;
    const epoch = this.fileEpoch;
    const doc = this.doc;
    const version = this.generation;
    const unedited = table.isIdentity(this.fileSize);
    const check = (): void => {
      if (this.fileEpoch !== epoch || doc.closed) {
        throw new HexmapError("ECHANGED", `${this.path} was saved or reloaded while this job ran: its results would mix two versions; run it again`);
      }
    };
    return {
      version,
      size: table.size,
      unedited,
      read: async (offset: number, length: number): Promise<Buffer> => {
        check();
        checkOffset(offset, "offset");
        checkOffset(length, "length");
        if (offset > table.size) throw new HexmapError("ERANGE", `Offset ${offset} is past the end of the document (size ${table.size})`);
        const n = Math.min(length, table.size - offset, MAX_DOCUMENT_READ);
        if (n === 0) return Buffer.alloc(0);
        return readSlices(table.slices(offset, offset + n), offset, n, (s, l) => {
          check();
          return doc.read(s, l);
        });
      },
      slices: (start: number, end: number) => table.slices(start, end),
    };
  }

  /** Pending added runs in [start, end) (to paint edited bytes in another colour), overwrite and insert alike. */
  editedIn(start: number, end: number): Run[] {
    const out: Run[] = [];
    for (const s of this.table.iterate(start, Math.min(end, this.table.size))) {
      if (s.piece.kind === "file") continue;
      const bytes = s.piece.kind === "bytes" ? s.piece.bytes : this.expand(s.piece);
      out.push({ offset: s.offset, bytes });
    }
    return out;
  }

  /**
   * Added bytes in [start, end), split into those that replaced bytes in place (same size, same
   * place: the file pieces around them are not shifted relative to each other) and inserted ones.
   */
  spansIn(start: number, end: number): EditedSpans {
    const edited: ChangedRange[] = [];
    const inserted: ChangedRange[] = [];
    const size = this.table.size;
    end = Math.min(end, size);
    if (start >= end || !this.dirty) return { edited, inserted };
    // Widen to whole runs of added pieces, so each run is judged by the file pieces around it.
    const slices = this.table.slices(start, end);
    let i = 0;
    while (i < slices.length) {
      const s = slices[i]!;
      if (s.piece.kind === "file") {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < slices.length && slices[j + 1]!.piece.kind !== "file") j++;
      const runStart = s.offset;
      const last = slices[j]!;
      const runEnd = last.offset + pieceLength(last.piece);
      const shiftBefore = this.shiftBefore(runStart);
      const shiftAfter = this.shiftAfter(runEnd);
      const target = shiftBefore === shiftAfter ? edited : inserted;
      target.push({ start: Math.max(start, runStart), end: Math.min(end, runEnd) });
      i = j + 1;
    }
    return { edited, inserted };
  }

  /** Overwrites bytes at offset (the size stays): ERANGE past the end. */
  edit(offset: number, bytes: Uint8Array, options: EditOptions = {}): ChangedRange {
    const data = this.checkBytes(bytes, false);
    checkOffset(offset, "offset");
    if (offset + data.length > this.size) {
      throw new HexmapError("ERANGE", `${data.length} bytes at offset ${offset} run past the end of the document (size ${this.size}); overwrite needs existing bytes`);
    }
    return this.replace(offset, data.length, data, options);
  }

  /** Inserts bytes before offset (offset == size appends). */
  insert(offset: number, bytes: Uint8Array, options: EditOptions = {}): ChangedRange {
    this.checkBytes(bytes, false);
    return this.replace(offset, 0, bytes, options);
  }

  /** Deletes [offset, offset+length). */
  remove(offset: number, length: number, options: EditOptions = {}): ChangedRange {
    checkOffset(length, "length");
    if (length === 0) throw new HexmapError("EINVAL", "Nothing to delete: the length is 0");
    return this.replace(offset, length, new Uint8Array(0), options);
  }

  /** Overwrites [offset, offset+length) with `byte` (no memory for the bytes: a fill piece). */
  fill(offset: number, length: number, byte: number, options: EditOptions = {}): ChangedRange {
    this.checkFill(length, Uint8Array.of(this.checkByte(byte)));
    checkOffset(offset, "offset");
    if (offset + length > this.size) throw new HexmapError("ERANGE", `A fill of ${length} bytes at offset ${offset} runs past the end of the document (size ${this.size})`);
    return this.replacePieces(offset, length, [{ kind: "fill", pattern: Uint8Array.of(byte), phase: 0, length }], options.group);
  }

  /** Overwrites [offset, offset+length) with `pattern` repeated. */
  fillPattern(offset: number, length: number, pattern: Uint8Array, options: EditOptions = {}): ChangedRange {
    this.checkFill(length, pattern);
    checkOffset(offset, "offset");
    if (offset + length > this.size) throw new HexmapError("ERANGE", `A fill of ${length} bytes at offset ${offset} runs past the end of the document (size ${this.size})`);
    return this.replacePieces(offset, length, [{ kind: "fill", pattern: Uint8Array.from(pattern), phase: 0, length }], options.group);
  }

  /** Inserts `length` bytes of `pattern` repeated before offset: 10 GiB costs a few bytes. */
  insertFill(offset: number, length: number, pattern: Uint8Array, options: EditOptions = {}): ChangedRange {
    this.checkFill(length, pattern);
    return this.replacePieces(offset, 0, [{ kind: "fill", pattern: Uint8Array.from(pattern), phase: 0, length }], options.group);
  }

  /**
   * The one primitive: delete [offset, offset+deleteLength), insert `bytes` there. Insert and
   * delete are its special cases. ERANGE when the deleted range runs past the end.
   */
  replace(offset: number, deleteLength: number, bytes: Uint8Array, options: EditOptions = {}): ChangedRange {
    const data = this.checkBytes(bytes, true);
    if (data.length === 0 && deleteLength === 0) throw new HexmapError("EINVAL", "An edit must delete or insert at least one byte");
    return this.replacePieces(offset, deleteLength, data.length === 0 ? [] : [{ kind: "bytes", bytes: this.slabs.copy(data) }], options.group);
  }

  /**
   * Replace all: every range [starts[i], starts[i] + lengths[i]) — sorted, not overlapping, in
   * the document as it is now — gives way to `replacement`, as ONE undo step however many there
   * are. The replacement's bytes are stored once and shared by every place; each place costs two
   * pieces (the bytes kept before it, the replacement), so a million replacements in a 2 GiB file
   * stay in a few hundred MB, whatever the file's size. A range may be empty (an insert there,
   * as re.sub does for an empty match). Returns null when there is nothing to replace.
   */
  replaceAll(starts: ArrayLike<number>, lengths: ArrayLike<number> | number, replacement: Uint8Array): ChangedRange | null {
    this.assertEditable();
    const data = this.checkBytes(replacement, true);
    const n = starts.length;
    if (typeof lengths !== "number" && lengths.length !== n) throw new HexmapError("EINVAL", `${n} starts but ${lengths.length} lengths`);
    const lenOf = typeof lengths === "number" ? (): number => lengths : (i: number): number => lengths[i]!;
    if (n === 0) return null;
    const size = this.table.size;
    let prevEnd = 0;
    let changes = false;
    for (let i = 0; i < n; i++) {
      const at = starts[i]!;
      const len = lenOf(i);
      checkOffset(at, "start");
      checkOffset(len, "length");
      if (at < prevEnd) throw new HexmapError("EINVAL", `Replacement ${i} at ${at} overlaps the one before it (which ends at ${prevEnd}), or the list is not sorted`);
      if (at + len > size) throw new HexmapError("ERANGE", `Replacement ${i} (${len} bytes at ${at}) runs past the end of the document (size ${size})`);
      if (len > 0 || data.length > 0) changes = true;
      prevEnd = at + len;
    }
    if (!changes) return null;
    const first = starts[0]!;
    const last = starts[n - 1]! + lenOf(n - 1);
    const removed = last > first ? this.table.slices(first, last).map((x) => x.piece) : NO_PIECES;
    const rep: Piece | null = data.length > 0 ? { kind: "bytes", bytes: this.slabs.copy(data) } : null;
    const out: Piece[] = [];
    const replaced: Piece[] = [];
    let pi = 0;
    let pOff = 0;
    let pos = first;
    // Moves through `removed` to `to`: the pieces passed go to `into` (kept bytes) or, for the
    // replaced ranges, to the content check (the first few thousand: a read each).
    const advance = (to: number, into: Piece[] | null): void => {
      while (pos < to) {
        const p = removed[pi]!;
        const plen = pieceLength(p);
        const k = Math.min(plen - pOff, to - pos);
        const part = clipPiece(p, pOff, pOff + k);
        if (into) into.push(part);
        else if (replaced.length < 4096) replaced.push(part);
        pOff += k;
        pos += k;
        if (pOff === plen) {
          pi++;
          pOff = 0;
        }
      }
    };
    for (let i = 0; i < n; i++) {
      advance(starts[i]!, out);
      if (rep) out.push(rep);
      advance(starts[i]! + lenOf(i), null);
    }
    const insertedLength = piecesLength(out);
    if (!Number.isSafeInteger(size - (last - first) + insertedLength)) throw new HexmapError("ETOOBIG", "The document would be larger than 2^53 bytes");
    this.capture(replaced);
    this.table = this.table.replace(first, last - first, out);
    const step: Step = { offset: first, removed, removedLength: last - first, inserted: out.length === 0 ? NO_PIECES : out, insertedLength, group: undefined };
    if (this.saveDepth > this.undoStack.length) this.saveDepth = -1;
    this.undoStack.push(step);
    if (this.redoStack.length > 0) this.redoStack = new StepLog();
    this.coalescible = false;
    this.editGen++;
    this.contentGen++;
    return this.changed(first, insertedLength, size);
  }

  undo(): ChangedRange | null {
    return this.travel(this.undoStack, this.redoStack, false);
  }

  redo(): ChangedRange | null {
    return this.travel(this.redoStack, this.undoStack, true);
  }

  /** Drops every pending edit and the undo history (revert to the file on disk). */
  discard(): void {
    this.assertOpen();
    if (this.busy) throw this.busyError();
    this.table = PieceTable.ofFile(this.doc.size);
    this.fileSize = this.doc.size;
    this.undoStack = new StepLog();
    this.redoStack = new StepLog();
    this.saveDepth = 0;
    this.coalescible = false;
    this.originals.clear();
    this.identity = this.statNow();
    this.editGen++;
    this.contentGen++;
  }

  /**
   * Has the file changed on disk since it was opened or last saved? Size and mtime, then (when
   * those match) the original bytes of every range replaced since, read raw now.
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
   * Saves the document into the file, choosing how (see SaveOptions.strategy). Refuses with
   * ECHANGED when the file changed on disk (unless force), EBUSY while another save runs or an
   * interrupted save's journal is present, EACCES for a read-only editor, ENOSPC before anything
   * is written when the disk is too full.
   */
  async save(options: SaveOptions = {}): Promise<SaveResult> {
    this.assertOpen();
    if (this.readOnly) throw new HexmapError("EACCES", `${this.path} is open read-only; use Save As to write a copy`);
    if (this.busy) throw this.busyError();
    const strategy = options.strategy ?? "auto";
    if (strategy !== "auto" && strategy !== "in-place" && strategy !== "rewrite") throw new HexmapError("EINVAL", `Unknown save strategy ${String(strategy)}: use auto, in-place or rewrite`);
    this.busy = "save";
    const t0 = performance.now();
    let externallyChanged = true;
    try {
      const change = this.checkExternalChange({ content: false });
      externallyChanged = change.changed;
      if (change.changed && !options.force) {
        throw new HexmapError("ECHANGED", `${change.reason}. Reload it, or save anyway to overwrite those changes`);
      }
      if (recoveryState(this.path).journal === "valid") {
        throw new HexmapError("EBUSY", `An interrupted save of ${this.path} must be recovered first (hexmap recover, or Finish / Undo the save when opening it)`);
      }
      const table = this.table;
      if (table.isIdentity(this.fileSize)) {
        this.markSavedState(table, this.undoStack, this.redoStack);
        return { strategy: "none", records: 0, bytes: 0, journalBytes: 0, durationMs: 0, generation: this.generation, size: this.fileSize };
      }
      const inPlace = strategy === "rewrite" ? null : this.inPlaceRuns(table);
      // Keep the history valid across the save: rebase it onto the file as the save leaves it. The
      // old bytes it needs are the bytes the save overwrites or drops: a journaled save reads them
      // itself (its records' originals), any other save needs them read now, while they exist.
      const rebased = this.rebaseHistory(table);
      if (rebased && !inPlace) await this.readOld(rebased.reads);
      let result: SaveResult;
      if (inPlace) {
        const res = await saveEdits(this.path, inPlace, {
          fileMtimeMs: this.identity.mtimeMs,
          ...(options.force ? {} : { expectedSize: this.identity.size, verifyOriginals: (recs) => this.verifyOriginals(recs) }),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(this.openOptions.native ? { native: this.openOptions.native } : {}),
        });
        if (rebased) fillFromRecords(rebased.reads, res.written);
        result = { strategy: "journal", records: res.records, bytes: res.bytes, journalBytes: res.journalBytes, durationMs: 0, timings: res.timings, generation: 0, size: table.size };
      } else {
        if (!options.force) {
          const content = this.checkExternalChange();
          if (content.changed) throw new HexmapError("ECHANGED", `${content.reason}. Reload it, or save anyway to overwrite those changes`);
        }
        const segments: SaveSegment[] = [];
        for (const p of table.pieces()) segments.push(p.kind === "bytes" ? { kind: "bytes", bytes: p.bytes } : p);
        // Windows refuses to replace or resize a file that is mapped: the Document lets go of it
        // right before the save touches the file (reads wait for the reopen below).
        let released = false;
        let res;
        try {
          res = await saveResized(this.path, segments, {
            strategy: strategy === "auto" ? "auto" : strategy,
            ...(options.force ? {} : { expectedSize: this.identity.size }),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            beforeCommit: () => {
              this.doc.close();
              this.closeRawFd();
              released = true;
            },
          });
        } catch (err) {
          if (released) this.reopen(false);
          throw err;
        }
        result = { strategy: res.strategy, records: segments.length, bytes: res.writtenBytes + res.copiedBytes, journalBytes: 0, durationMs: 0, timings: res.timings, generation: 0, size: res.size };
      }
      // The file now holds the document: reopen it (a rewrite made a new file) and start over from one file piece.
      this.lastStrategy = result.strategy;
      this.reopen();
      this.markSavedState(PieceTable.ofFile(this.doc.size), rebased?.undo ?? new StepLog(), rebased?.redo ?? new StepLog());
      if (!rebased) {
        this.saveDepth = 0;
        result.historyCleared = true;
      }
      result.generation = this.generation;
      result.durationMs = performance.now() - t0;
      return result;
    } catch (err) {
      // A failed save either never touched the file or rolled it back (same bytes, new mtime); if
      // it was unchanged before, take its identity now so a retry is not refused. (If the rollback
      // failed, the journal stays and the next save refuses with EBUSY anyway.)
      if (!externallyChanged) {
        try {
          this.identity = this.statNow();
        } catch {
          /* the next check reports it */
        }
      }
      throw err;
    } finally {
      this.busy = null;
    }
  }

  /**
   * Writes a copy of the document as the user sees it (edits applied) to `target`: streamed
   * into a temp file beside the target, fsync'd, renamed over it. All-zero 64 KiB blocks are left
   * as holes, so a sparse file stays sparse. Cancel (signal) removes the temp file.
   */
  async saveAs(target: string, options: SaveAsOptions = {}): Promise<SaveAsResult> {
    this.assertOpen();
    if (this.busy) throw this.busyError();
    if (typeof target !== "string" || target.length === 0 || target.includes("\0")) throw new HexmapError("EINVAL", "Save As needs a file path");
    if (this.sameFile(target)) throw new HexmapError("EINVAL", `${target} is the file being edited: use Save`);
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
    const snap = this.snapshot();
    let fh: fs.promises.FileHandle | undefined;
    try {
      try {
        fh = await fs.promises.open(tmp, "wx");
      } catch (err) {
        throw toHexmapError(err, { path: tmp, op: "create" });
      }
      const size = snap.size;
      const zero = Buffer.alloc(HOLE_BLOCK);
      for (let pos = 0; pos < size; ) {
        if (options.signal?.aborted) throw new HexmapError("ECANCELED", "Save As cancelled; nothing was written");
        const n = Math.min(COPY_CHUNK, size - pos);
        const buf = await snap.read(pos, n);
        if (buf.length !== n) throw new HexmapError("ECHANGED", `${this.path} became shorter while it was being copied`);
        // Write only the 64 KiB blocks that are not all zero: holes stay holes.
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

  /** Undo (forward false: put back what the step removed) or redo (apply it again), moving it to the other stack. */
  private travel(from: StepLog, to: StepLog, forward: boolean): ChangedRange | null {
    this.assertEditable();
    const step = from.pop();
    if (!step) return null;
    const before = this.table.size;
    const [gone, put, putLength] = forward ? [step.removedLength, step.inserted, step.insertedLength] : [step.insertedLength, step.removed, step.removedLength];
    this.table = this.table.replace(step.offset, gone, put);
    to.push(step);
    this.coalescible = false;
    this.editGen++;
    this.contentGen++;
    return this.changed(step.offset, putLength, before);
  }

  private replacePieces(offset: number, deleteLength: number, pieces: Piece[], group: string | number | undefined): ChangedRange {
    this.assertEditable();
    checkOffset(offset, "offset");
    checkOffset(deleteLength, "deleteLength");
    const size = this.table.size;
    if (offset > size) throw new HexmapError("ERANGE", `Offset ${offset} is past the end of the document (size ${size})`);
    if (offset + deleteLength > size) throw new HexmapError("ERANGE", `Deleting ${deleteLength} bytes at offset ${offset} runs past the end of the document (size ${size})`);
    const removed = deleteLength === 0 ? NO_PIECES : this.table.slices(offset, offset + deleteLength).map((s) => s.piece);
    const insertedLength = piecesLength(pieces);
    if (!Number.isSafeInteger(size - deleteLength + insertedLength)) throw new HexmapError("ETOOBIG", "The document would be larger than 2^53 bytes");
    this.capture(removed);
    this.table = this.table.replace(offset, deleteLength, pieces);
    const step: Step = { offset, removed, removedLength: deleteLength, inserted: pieces.length === 0 ? NO_PIECES : pieces, insertedLength, group };
    if (!this.coalesce(step)) {
      if (this.saveDepth > this.undoStack.length) this.saveDepth = -1; // the saved state was in the redo stack: gone
      this.undoStack.push(step);
    }
    if (this.redoStack.length > 0) this.redoStack = new StepLog();
    this.coalescible = group !== undefined;
    this.editGen++;
    this.contentGen++;
    return this.changed(offset, insertedLength, size);
  }

  /** Merges `next` into the top undo step when it continues typing there. */
  private coalesce(next: Step): boolean {
    if (!this.coalescible || next.group === undefined) return false;
    const top = this.undoStack.top();
    if (!top || top.group !== next.group) return false;
    if (this.saveDepth === this.undoStack.length) return false; // the step before a save stays whole
    const p = top.offset;
    const q = next.offset;
    let merged: Step | null = null;
    if (q >= p && q <= p + top.insertedLength) {
      // Starts inside (or right after) the bytes the top step inserted.
      const a = q - p;
      const inI1 = Math.min(next.removedLength, top.insertedLength - a);
      const removed = [...top.removed, ...clipPieces(next.removed, inI1, next.removedLength)];
      const inserted = [...clipPieces(top.inserted, 0, a), ...next.inserted, ...clipPieces(top.inserted, a + inI1, top.insertedLength)];
      merged = { offset: p, removed, removedLength: top.removedLength + next.removedLength - inI1, inserted, insertedLength: piecesLength(inserted), group: top.group };
    } else if (q + next.removedLength === p) {
      // Backspace: deletes (or replaces) the bytes right before the step.
      const removed = [...next.removed, ...top.removed];
      const inserted = [...next.inserted, ...top.inserted];
      merged = { offset: q, removed, removedLength: next.removedLength + top.removedLength, inserted, insertedLength: next.insertedLength + top.insertedLength, group: top.group };
    }
    if (!merged || merged.insertedLength > COALESCE_MAX || merged.removedLength > COALESCE_MAX) return false;
    merged.removed = mergeBytes(merged.removed);
    merged.inserted = mergeBytes(merged.inserted);
    this.undoStack.setTop(merged);
    return true;
  }

  private changed(offset: number, newLength: number, sizeBefore: number): ChangedRange {
    const size = this.table.size;
    return { start: offset, end: size === sizeBefore ? offset + newLength : Math.max(size, offset + newLength) };
  }

  /**
   * Doc offset minus file offset ("shift") of the nearest file piece ending at or before `at`
   * (0 at the start). The shift of a piece is the same for any clip of it, so looking at the
   * clipped slices of a window to the left is enough; the window widens until it finds one.
   */
  private shiftBefore(at: number): number {
    for (let k = 4096; ; k *= 8) {
      const from = Math.max(0, at - k);
      const sl = this.table.slices(from, at);
      for (let i = sl.length - 1; i >= 0; i--) {
        const s = sl[i]!;
        if (s.piece.kind === "file") return s.offset - s.piece.start;
      }
      if (from === 0) return 0;
    }
  }

  /** Shift of the nearest file piece starting at or after `at` (size − fileSize at the end). */
  private shiftAfter(at: number): number {
    const size = this.table.size;
    for (const s of this.table.iterate(at, size)) {
      if (s.piece.kind === "file") return s.offset - s.piece.start;
    }
    return size - this.fileSize;
  }

  /** Same size, every file piece at its own offset and little enough added data: the runs to write in place. */
  private inPlaceRuns(table: PieceTable): Run[] | null {
    if (table.size !== this.fileSize) return null;
    const runs: Run[] = [];
    let added = 0;
    for (const s of table.iterate(0, table.size)) {
      const p = s.piece;
      if (p.kind === "file") {
        if (p.start !== s.offset) return null;
        continue;
      }
      added += pieceLength(p);
      if (added > IN_PLACE_ADDED_MAX) return null;
      runs.push({ offset: s.offset, bytes: p.kind === "bytes" ? p.bytes : this.expand(p) });
    }
    return runs;
  }

  private expand(p: Extract<Piece, { kind: "fill" }>): Uint8Array {
    if (p.length > MAX_EDIT_BYTES) throw new HexmapError("ETOOBIG", `A fill of ${p.length} bytes is too large to expand in memory`);
    const out = new Uint8Array(p.length);
    expandFill(p, out, 0);
    return out;
  }

  /**
   * The undo and redo stacks with every file piece re-expressed against the file as `table` will
   * write it; bytes that will not survive in the file are read now. null: more than REBASE_MAX.
   */
  private rebaseHistory(table: PieceTable): { undo: StepLog; redo: StepLog; reads: OldRead[] } | null {
    if (this.undoStack.length === 0 && this.redoStack.length === 0) return { undo: new StepLog(), redo: new StepLog(), reads: [] };
    // Where each surviving file range will be in the new file, sorted by file offset.
    const map: { start: number; length: number; at: number }[] = [];
    for (const s of table.iterate(0, table.size)) {
      if (s.piece.kind === "file") map.push({ start: s.piece.start, length: s.piece.length, at: s.offset });
    }
    map.sort((x, y) => x.start - y.start);
    let budget = REBASE_MAX;
    const reads: OldRead[] = [];
    const rebasePieces = (pieces: readonly Piece[]): Piece[] | null => {
      const out: Piece[] = [];
      for (const p of pieces) {
        if (p.kind !== "file") {
          out.push(p);
          continue;
        }
        let pos = p.start;
        const end = p.start + p.length;
        // First map entry ending after pos.
        let lo = 0;
        let hi = map.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (map[mid]!.start + map[mid]!.length > pos) hi = mid;
          else lo = mid + 1;
        }
        for (let k = lo; pos < end; ) {
          const m = map[k];
          if (m && m.start <= pos) {
            const to = Math.min(end, m.start + m.length);
            out.push({ kind: "file", start: m.at + (pos - m.start), length: to - pos });
            pos = to;
            k++;
            continue;
          }
          const to = Math.min(end, m ? m.start : end);
          const n = to - pos;
          budget -= n;
          if (budget < 0) return null;
          const bytes = new Uint8Array(n);
          reads.push({ out: bytes, start: pos });
          out.push({ kind: "bytes", bytes });
          pos = to;
        }
      }
      return out;
    };
    const rebaseSteps = (steps: StepLog): StepLog | null =>
      steps.map((st) => {
        const removed = rebasePieces(st.removed);
        const inserted = rebasePieces(st.inserted);
        return removed && inserted ? { ...st, removed, inserted } : null;
      });
    const undo = rebaseSteps(this.undoStack);
    const redo = undo && rebaseSteps(this.redoStack);
    if (!undo || !redo) return null;
    return { undo, redo, reads };
  }

  /** Fills `reads` from the file as it is now (before the save changes it). */
  private async readOld(readsIn: readonly OldRead[]): Promise<void> {
    // Small ranges close together (a replace-all of short matches) are read in shared spans of
    // up to 1 MiB: one pread for all the ranges a span holds.
    const reads = [...readsIn].sort((a, b) => a.start - b.start);
    for (let i = 0; i < reads.length; ) {
      const r = reads[i]!;
      // Small scattered ranges (the usual case: bytes the user typed over) with a plain pread:
      // mapping a 64 MiB window for each of 10 000 one-byte ranges would cost far more.
      if (r.out.length <= 1024 * 1024) {
        let j = i + 1;
        let end = r.start + r.out.length;
        while (j < reads.length) {
          const x = reads[j]!;
          const xe = x.start + x.out.length;
          if (x.start > end + 256 || xe - r.start > 1024 * 1024) break;
          end = Math.max(end, xe);
          j++;
        }
        const b = this.readRawFile(r.start, end - r.start);
        if (b.length !== end - r.start) throw new HexmapError("ECHANGED", `${this.path} became shorter while it was being saved`);
        for (let k = i; k < j; k++) {
          const x = reads[k]!;
          x.out.set(b.subarray(x.start - r.start, x.start - r.start + x.out.length));
        }
        i = j;
        continue;
      }
      i++;
      for (let done = 0; done < r.out.length; ) {
        const n = Math.min(r.out.length - done, 64 * 1024 * 1024);
        const b = await this.doc.read(r.start + done, n);
        if (b.length !== n) throw new HexmapError("ECHANGED", `${this.path} became shorter while it was being saved`);
        r.out.set(b, done);
        done += n;
      }
    }
  }

  private markSavedState(table: PieceTable, undo: StepLog, redo: StepLog): void {
    this.table = table;
    this.undoStack = undo;
    this.redoStack = redo;
    this.saveDepth = undo.length;
    this.coalescible = false;
    this.originals.clear();
    this.identity = this.statNow();
    this.editGen++;
  }

  /**
   * A fresh Document over the file as it is now (after a save replaced or resized it). With
   * `saved` false (a failed save that had let go of the file) the pieces still describe the file.
   */
  private reopen(saved = true): void {
    const next = Editor.openDocument(this.path, this.openOptions);
    const gen = this.generation;
    this.doc.close();
    this.doc = next;
    this.closeRawFd();
    if (saved) {
      this.fileSize = next.size;
      this.fileEpoch++;
    }
    // Generations never go back: the new Document counts from 0.
    this.editGen = gen + 1 - next.generation;
  }

  /**
   * Compares the bytes a save just read from the file (records' originals) with the reference
   * copies taken when those ranges were first replaced. Returns a sentence on a mismatch.
   */
  private verifyOriginals(records: readonly JournalRecord[]): string | null {
    for (const { offset, bytes } of this.originals.entries()) {
      const end = offset + bytes.length;
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

  /** Keeps reference copies of file bytes an edit removes (small ranges, within CAPTURE_MAX). */
  private capture(removed: readonly Piece[]): void {
    for (const p of removed) {
      if (p.kind !== "file" || p.length > 64 * 1024 || this.originals.bytes + p.length > CAPTURE_MAX) continue;
      try {
        const raw = this.readRawFile(p.start, p.length);
        if (raw.length > 0) this.originals.add(p.start, raw);
      } catch {
        /* only loses the content check for those bytes; size/mtime checks remain */
      }
    }
  }

  /**
   * The file's bytes now, with a plain positioned read on a descriptor of our own (a few bytes at
   * scattered offsets: mapping a 64 MiB window per edit would cost far more and churn the cache).
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

  private checkRead(offset: number, length: number): number {
    this.assertOpen();
    checkOffset(offset, "offset");
    checkOffset(length, "length");
    const size = this.table.size;
    if (offset > size) throw new HexmapError("ERANGE", `Offset ${offset} is past the end of ${this.path} (size ${size})`);
    const n = Math.min(length, size - offset);
    if (n > MAX_DOCUMENT_READ) throw new HexmapError("ETOOBIG", `Cannot read ${n} bytes at once (at most ${MAX_DOCUMENT_READ}); read in pieces`);
    return n;
  }

  private checkBytes(bytes: Uint8Array, allowEmpty: boolean): Uint8Array {
    if (!(bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "Edit bytes must be a Uint8Array");
    if (!allowEmpty && bytes.length === 0) throw new HexmapError("EINVAL", "An edit needs at least one byte");
    if (bytes.length > MAX_EDIT_BYTES) throw new HexmapError("ETOOBIG", `An edit of ${bytes.length} bytes is too large (at most ${MAX_EDIT_BYTES}); use a fill or insert it in parts`);
    return bytes;
  }

  private checkByte(byte: number): number {
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new HexmapError("EINVAL", `A fill byte must be an integer 0–255, got ${String(byte)}`);
    return byte;
  }

  private checkFill(length: number, pattern: Uint8Array): void {
    checkOffset(length, "length");
    if (length === 0) throw new HexmapError("EINVAL", "A fill needs a length of at least 1");
    if (!(pattern instanceof Uint8Array) || pattern.length === 0 || pattern.length > 4096) {
      throw new HexmapError("EINVAL", "A fill pattern must be 1 to 4096 bytes");
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
}

/** Adjacent bytes pieces (views of one buffer, or small ones) become one, so typing stays one piece per step. */
function mergeBytes(pieces: readonly Piece[]): Piece[] {
  if (pieces.length < 2) return [...pieces];
  const out: Piece[] = [];
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    if (pending.length === 1) out.push({ kind: "bytes", bytes: pending[0]! });
    else {
      const b = new Uint8Array(pendingLen);
      let at = 0;
      for (const p of pending) {
        b.set(p, at);
        at += p.length;
      }
      out.push({ kind: "bytes", bytes: b });
    }
    pending = [];
    pendingLen = 0;
  };
  for (const p of pieces) {
    if (p.kind === "bytes") {
      pending.push(p.bytes);
      pendingLen += p.bytes.length;
    } else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/** A range of the file's old bytes the undo history keeps as bytes across a save. */
interface OldRead {
  start: number;
  out: Uint8Array;
}

/**
 * Fills `reads` from the originals of a journaled save's records (sorted, disjoint). An equal-size
 * save with every file piece at its place changes exactly the bytes under added pieces, and those
 * are the records: every byte the history lost is among them.
 */
function fillFromRecords(reads: readonly OldRead[], records: readonly JournalRecord[]): void {
  for (const r of reads) {
    const end = r.start + r.out.length;
    let lo = 0;
    let hi = records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const rec = records[mid]!;
      if (rec.offset + rec.original.length > r.start) hi = mid;
      else lo = mid + 1;
    }
    let filled = 0;
    for (let k = lo; k < records.length && records[k]!.offset < end; k++) {
      const rec = records[k]!;
      const from = Math.max(r.start, rec.offset);
      const to = Math.min(end, rec.offset + rec.original.length);
      r.out.set(rec.original.subarray(from - rec.offset, to - rec.offset), from - r.start);
      filled += to - from;
    }
    if (filled !== r.out.length) throw new HexmapError("EINTERNAL", `The saved journal does not hold the old bytes at offset ${r.start} the undo history needs`);
  }
}
