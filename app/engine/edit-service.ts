// Editing behind the Service: an EditableFile is the pool's document for a file — an Editor
// (overlay + undo + journaled save, editor.ts) that can be swapped for a fresh one on reload or
// recovery without changing its docId, and whose generation never goes back.
//
// The Service keeps the protocol side (validation, holders, jobs, events) and calls into this
// module for the work; documents that are not EditableFiles (test doubles, future sources) answer
// edit requests with ENOTSUP.

import { Editor, type SaveResult as EditorSaveResult, type SaveStrategy } from "./editor";
import { HexmapError } from "./errors";
import { inspectJournal } from "./journal";
import {
  MAX_EDITED_MASK_READ,
  MAX_EDITED_RANGES,
  MAX_UNDO_BYTES_IN_REPLY,
  type DocumentKind,
  type EditResult,
  type EditState,
  type UndoResult,
} from "../protocol/messages";

export interface EditableOpenOptions {
  /** Default true (the protocol's default): open for viewing only. */
  readOnly?: boolean;
}

/** The subset of ReadResult describing edited bytes in a span. */
export interface EditedSpan {
  edited: number[];
  inserted?: number[];
  editedMask?: string;
  editedTruncated?: boolean;
}

export class EditableFile {
  readonly kind: DocumentKind = "file";
  readonly name: string;
  /** Why the user's request for read-write became read-only ("" when it did not). */
  readonly readOnlyReason: string;
  private ed: Editor;
  /** Added to the editor's generation so a replaced editor never reuses a generation. */
  private base = 0;
  private journal: boolean;

  /**
   * Opens `file` for editing when asked (readOnly: false) and the file is writable; read-only
   * otherwise, saying why. Throws HexmapError (ENOENT, EISDIR, …) when it cannot be read at all.
   */
  static open(file: string, options: EditableOpenOptions = {}): EditableFile {
    const wantWrite = options.readOnly === false;
    if (!wantWrite) return new EditableFile(file, Editor.open(file, { readOnly: true }), "");
    try {
      return new EditableFile(file, Editor.open(file, { readOnly: false }), "");
    } catch (err) {
      if ((err as { code?: string }).code !== "EACCES") throw err;
      const ed = Editor.open(file, { readOnly: true });
      return new EditableFile(file, ed, "You do not have permission to write this file: it is open read-only (Save As can write a copy)");
    }
  }

  private constructor(file: string, ed: Editor, readOnlyReason: string) {
    this.name = file;
    this.ed = ed;
    this.readOnlyReason = readOnlyReason;
    this.journal = journalPresent(file);
  }

  get editor(): Editor {
    return this.ed;
  }

  get readOnly(): boolean {
    return this.ed.readOnly;
  }

  /** The document's size as the user sees it (inserts and deletes included). */
  get size(): number {
    return this.ed.size;
  }

  get generation(): number {
    return this.base + this.ed.generation;
  }

  get hasJournal(): boolean {
    return this.journal;
  }

  get busy(): boolean {
    return this.ed.busyWith !== null;
  }

  state(docId: string): EditState {
    return {
      docId,
      generation: this.generation,
      size: this.size,
      dirty: this.ed.dirty,
      editCount: this.ed.editCount,
      canUndo: this.ed.canUndo,
      canRedo: this.ed.canRedo,
      hasJournal: this.journal,
      savedSize: this.ed.savedSize,
    };
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.ed.read(offset, length);
  }

  /**
   * Re-reads the size. A clean document whose file changed size takes a fresh editor (its
   * overlay is sized at open); a dirty one keeps its edits and the next save reports ECHANGED.
   */
  checkSize(): { changed: boolean; size: number } {
    const r = this.ed.document.checkSize();
    if (r.changed && !this.ed.dirty && !this.busy) {
      try {
        this.replace(false); // the size change already bumped the generation
      } catch {
        /* the old editor stays; reads report any error */
      }
    }
    return { changed: r.changed, size: this.size };
  }

  /** Did the file change on disk since open/last save (size, mtime)? False while a save runs (its own writes). */
  changedOnDisk(): boolean {
    if (this.busy || this.ed.closed) return false;
    try {
      return this.ed.checkExternalChange({ content: false }).changed;
    } catch {
      return false;
    }
  }

  /** After an outside change to a clean document: the file as it is now becomes the reference. */
  adoptDiskState(): void {
    if (!this.ed.dirty && !this.busy && !this.ed.closed) this.ed.discard();
  }

  /** Edited bytes within [offset, offset + length), for a read reply; `inserted` marks those that changed the size. */
  editedSpan(offset: number, length: number): EditedSpan {
    if (length <= 0 || !this.ed.dirty) return { edited: [] };
    const spans = this.ed.spansIn(offset, offset + length);
    const all = [...spans.edited, ...spans.inserted].sort((a, b) => a.start - b.start);
    const out: EditedSpan = { edited: [] };
    const edited = out.edited;
    let count = 0;
    for (const r of all) {
      const s = r.start - offset;
      const e = r.end - offset;
      if (edited.length > 0 && edited[edited.length - 1] === s) {
        edited[edited.length - 1] = e; // adjacent runs read as one
        continue;
      }
      if (count === MAX_EDITED_RANGES) {
        if (length <= MAX_EDITED_MASK_READ) {
          const mask: EditedSpan = { edited: [], editedMask: maskOf(all, offset, length) };
          if (spans.inserted.length > 0) mask.inserted = pairsOf(spans.inserted, offset, MAX_EDITED_RANGES);
          return mask;
        }
        out.editedTruncated = true;
        break;
      }
      edited.push(s, e);
      count++;
    }
    if (spans.inserted.length > 0) out.inserted = pairsOf(spans.inserted, offset, MAX_EDITED_RANGES);
    return out;
  }

  /** replace(offset, deleteLength, bytes): overwrite when deleteLength == bytes.length, insert when 0. */
  edit(docId: string, offset: number, deleteLength: number, bytes: Uint8Array, group: string | number | undefined): EditResult {
    const r = this.ed.replace(offset, deleteLength, bytes, group === undefined ? {} : { group });
    return { ...this.state(docId), start: r.start, end: r.end };
  }

  /** Replace all (app/protocol/search.ts replace-all): sorted non-overlapping ranges give way to `bytes`, one undo step; null when nothing changed. */
  replaceAll(starts: ArrayLike<number>, lengths: ArrayLike<number> | number, bytes: Uint8Array): { start: number; end: number } | null {
    const r = this.ed.replaceAll(starts, lengths, bytes);
    return r ? { start: r.start, end: r.end } : null;
  }

  /** Overwrites (or inserts, with `insert`) `length` bytes of `pattern` repeated. */
  fill(docId: string, offset: number, length: number, pattern: Uint8Array, insert: boolean): EditResult {
    let r;
    if (insert) r = this.ed.insertFill(offset, length, pattern);
    else if (pattern.length === 1) r = this.ed.fill(offset, length, pattern[0]!);
    else r = this.ed.fillPattern(offset, length, pattern);
    return { ...this.state(docId), start: r.start, end: r.end };
  }

  undoRedo(docId: string, which: "undo" | "redo"): UndoResult {
    const changed = which === "undo" ? this.ed.undo() : this.ed.redo();
    const out: UndoResult = { ...this.state(docId), changed };
    if (changed && changed.end - changed.start <= MAX_UNDO_BYTES_IN_REPLY) {
      out.bytes = ownedCopy(this.ed.readSync(changed.start, changed.end - changed.start));
      const span = this.editedSpan(changed.start, changed.end - changed.start);
      out.edited = span.edited;
      if (span.inserted) out.inserted = span.inserted;
    }
    return out;
  }

  async save(force: boolean, onProgress: (p: { done: number; total: number }) => void, signal: AbortSignal, strategy: SaveStrategy = "auto"): Promise<EditorSaveResult> {
    try {
      return await this.ed.save({ force, onProgress, signal, strategy });
    } finally {
      this.journal = journalPresent(this.name);
    }
  }

  saveAs(target: string, onProgress: (done: number, total: number) => void, signal: AbortSignal) {
    return this.ed.saveAs(target, { onProgress: (p) => onProgress(p.done, p.total), signal });
  }

  /** Drops every pending edit and the undo history. */
  revert(): void {
    this.ed.discard();
  }

  /** Drops every pending edit and re-opens the file as it is now. */
  reload(): void {
    if (this.busy) throw new HexmapError("EBUSY", `${this.name} is being saved; reload when that finishes`);
    this.replace();
  }

  /** Rolls an interrupted save forward or back, then re-opens the file. Refused with unsaved edits. */
  async recover(direction: "forward" | "back") {
    if (this.busy) throw new HexmapError("EBUSY", `${this.name} is being saved; try again when that finishes`);
    if (this.ed.dirty) throw new HexmapError("EBUSY", `${this.name} has unsaved edits: save them elsewhere (Save As) or revert them before recovering the interrupted save`);
    try {
      return await Editor.recover(this.name, direction);
    } finally {
      this.journal = journalPresent(this.name);
      this.replace();
    }
  }

  close(): void {
    this.ed.close();
  }

  /** A fresh editor over the file as it is now; the generation moves on (by one unless `bump` is false). */
  private replace(bump = true): void {
    const before = this.generation;
    const next = Editor.open(this.name, { readOnly: this.ed.readOnly });
    this.ed.close();
    this.ed = next;
    this.base = before + (bump ? 1 : 0) - next.generation;
  }
}

export function isEditable(doc: unknown): doc is EditableFile {
  return doc instanceof EditableFile;
}

function journalPresent(file: string): boolean {
  try {
    return inspectJournal(file).status !== "none";
  } catch {
    return false;
  }
}

function maskOf(runs: readonly { start: number; end: number }[], offset: number, length: number): string {
  const mask = new Uint8Array(Math.ceil(length / 8));
  for (const r of runs) {
    const s = Math.max(0, r.start - offset);
    const e = Math.min(length, r.end - offset);
    for (let i = s; i < e; i++) mask[i >> 3] = mask[i >> 3]! | (1 << (i & 7));
  }
  return Buffer.from(mask).toString("base64");
}

/** [start, end) ranges as flattened pairs relative to `offset`, adjacent ones joined, at most `max` pairs. */
function pairsOf(ranges: readonly { start: number; end: number }[], offset: number, max: number): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    const s = r.start - offset;
    const e = r.end - offset;
    if (out.length > 0 && out[out.length - 1] === s) out[out.length - 1] = e;
    else if (out.length / 2 < max) out.push(s, e);
  }
  return out;
}

function ownedCopy(buf: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}
