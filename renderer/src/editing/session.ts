// The renderer's editing controller (no React): sends edit/fill/undo/redo/save/… requests, shows
// overwritten bytes at once as page-cache patches and carries the cached pages over to the
// generation the host answers with (so typing never flashes a placeholder nor shows stale bytes);
// an edit that changes the size (insert, delete, a replace of another length) re-maps the pages
// from its start when the host answers (pageCache `shift`). Tracks overwrite/insert mode, jobs
// (save progress, Save As cancel) and which dialog is up, and tells listeners (bookmarks, search
// hits) how each edit moved the bytes. React components subscribe to its snapshot
// (useSyncExternalStore); App wires it to the document list.
//
// A document's edits go to the host one after another (a queue per document): the second digit
// of a byte typed in insert mode overwrites the byte the first digit inserted, so it must not
// leave before the insert is known to have landed; when an edit fails, the keys typed after it
// and still queued are dropped rather than applied to bytes that are not where the user saw them.

import { HostError, type DocumentInfo, type HexmapApi, type HostEvent } from "../api";
import { MARK_EDITED, MARK_INSERTED, type PageCache, type Patch, type Shift } from "../pageCache";
import { baseName, groupDigits, hex, humanSize } from "../format";
import type { EditResult, EditState, SaveResult, UndoResult } from "../../../app/protocol/messages";
import type { ReplaceAllResult, SearchPatternSpec } from "../../../app/protocol/search";
import { parseHexText, textBytes } from "./text";
import { editFromSizes, type RangeEdit } from "./ranges";

export type EditDialog =
  | { kind: "unsaved-close"; docId: string; name: string }
  | { kind: "external-change"; docId: string; name: string; message: string }
  | { kind: "recovery"; docId: string; name: string }
  | { kind: "fill"; docId: string; start: number; length: number }
  | { kind: "insert-bytes"; docId: string; at: number }
  | { kind: "delete-range"; docId: string; start: number; length: number }
  | { kind: "save-as"; docId: string; name: string }
  | { kind: "replace"; docId: string };

export interface JobView {
  docId: string;
  op: "save" | "save-as" | "recover";
  jobId: string | null;
  done: number;
  total: number;
}

export interface EditSnapshot {
  dialog: EditDialog | null;
  /** Running jobs by document. */
  jobs: Record<string, JobView>;
  /** The cursor byte whose low nibble the next hex digit sets, its value so far, and whether it shows as inserted. */
  nibble: { docId: string; offset: number; value: number; inserted: boolean } | null;
  /** Insert mode (INS): typing and pasting insert bytes; otherwise (OVR) they overwrite. One for all documents, as in HxD. */
  insertMode: boolean;
  /** Bumps when a queued edit fails or is dropped (the view re-checks the cursor against the size). */
  failures: number;
}

export interface EditHooks {
  notify(text: string, kind?: "error" | "info"): void;
  /** Merges fields into the app's copy of a document's info. */
  updateDoc(docId: string, patch: Partial<DocumentInfo>): void;
  getDoc(docId: string): DocumentInfo | undefined;
  /** Closes a tab for good (after the unsaved-edits question, if any). */
  closeDoc(docId: string): void;
}

type Notify = EditHooks["notify"];

// The protocol's MAX_EDIT_LENGTH and MAX_FILL_PATTERN (app/protocol/messages.ts). Not imported:
// that module's values bring zod, whose eval probe the page's CSP refuses.
export const MAX_EDIT_LENGTH = 16 * 1024 * 1024;
export const MAX_FILL_PATTERN = 4096;

/** Largest selection a fill sends its bytes along with (to show them without a reload). */
const FILL_PATCH_MAX = 1024 * 1024;

function errorCode(err: unknown): string {
  return err instanceof HostError ? err.code : ((err as { code?: string })?.code ?? "");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function marks(n: number, mark: number): Uint8Array {
  return new Uint8Array(n).fill(mark);
}

/** A reply's edited runs (and the inserted subset) as a mark per byte. */
function maskOf(edited: number[] | undefined, n: number, inserted?: number[]): Uint8Array {
  const m = new Uint8Array(n);
  if (edited) for (let k = 0; k + 1 < edited.length; k += 2) m.fill(MARK_EDITED, edited[k]!, edited[k + 1]!);
  if (inserted) for (let k = 0; k + 1 < inserted.length; k += 2) m.fill(MARK_INSERTED, inserted[k]!, inserted[k + 1]!);
  return m;
}

/** `pattern` repeated, bytes [from, from + length) of it. */
export function patternBytes(pattern: Uint8Array, from: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (pattern.length === 1) return out.fill(pattern[0]!);
  for (let i = 0; i < length; i++) out[i] = pattern[(from + i) % pattern.length]!;
  return out;
}

/** Just the editing state of a reply (not its range, bytes or save figures). */
function stateOf(r: EditState & { readOnly?: boolean }): EditState & { readOnly?: boolean } {
  const out: EditState & { readOnly?: boolean } = {
    docId: r.docId,
    generation: r.generation,
    size: r.size,
    dirty: r.dirty,
    editCount: r.editCount,
    canUndo: r.canUndo,
    canRedo: r.canRedo,
    hasJournal: r.hasJournal,
  };
  if (r.savedSize !== undefined) out.savedSize = r.savedSize;
  if (r.readOnly !== undefined) out.readOnly = r.readOnly;
  return out;
}

/** Told how an edit that landed moved the bytes, and the generation it made. */
/** cause: an edit made here ("edit"), or an undo/redo of earlier ones. */
export type EditListener = (docId: string, edit: RangeEdit, generation: number, cause: "edit" | "undo" | "redo") => void;

interface DocQueue {
  tail: Promise<void>;
  /** Bumps when an edit fails: edits queued before that are dropped. */
  epoch: number;
  /** Edits queued or in flight. */
  count: number;
  /** Their size changes together (the size the user will see once they land). */
  delta: number;
}

/** What an edit request does, for the queue. */
interface EditOp {
  doc: DocumentInfo;
  offset: number;
  deleteLength: number;
  bytes: Uint8Array;
  group?: string;
  /** How the written bytes show until the host's pages say (MARK_EDITED by default for an overwrite, MARK_INSERTED otherwise). */
  mark?: number;
}

/** What the user is told after a save: how it reached the disk when that was not the plain journal. */
export function saveNotice(name: string, r: Pick<SaveResult, "records" | "bytesWritten" | "strategy" | "historyCleared" | "size">, savedBefore?: number): string {
  const wrote = r.strategy ? r.strategy !== "none" : r.records > 0;
  if (!wrote) return "Nothing to save.";
  const bytes = `${groupDigits(r.bytesWritten)} ${r.bytesWritten === 1 ? "byte" : "bytes"} written`;
  const resized = savedBefore !== undefined && savedBefore !== r.size;
  const how =
    r.strategy === "rewrite"
      ? `rewritten: ${resized ? "the size changed" : "bytes moved"}; `
      : r.strategy === "in-place"
        ? `${resized ? "resized" : "rewritten"} in place, journaled; `
        : "";
  const history = r.historyCleared ? " The undo history was cleared: it could not be kept across this save." : "";
  return `Saved ${name} (${how}${bytes}).${history}`;
}

export class EditSession {
  private snap: EditSnapshot = { dialog: null, jobs: {}, nibble: null, insertMode: false, failures: 0 };
  private readonly listeners = new Set<() => void>();
  /** Highest generation seen per document (replies and events may arrive in either order). */
  private readonly gens = new Map<string, number>();
  /** The document's size as of the newest state seen (kept here, not in React state: the queue needs it at once). */
  private readonly sizes = new Map<string, number>();
  /** The file's size on disk, as of open or the last save. */
  private readonly savedSizes = new Map<string, number>();
  private readonly queues = new Map<string, DocQueue>();
  private readonly editListeners = new Set<EditListener>();
  private typingGroup = 1;
  private readOnlyNoticeAt = 0;

  constructor(
    private readonly api: Pick<HexmapApi, "request">,
    private readonly cache: PageCache,
    private readonly hooks: EditHooks,
  ) {}

  // ---- store ------------------------------------------------------------------------------------

  get snapshot(): EditSnapshot {
    return this.snap;
  }

  subscribe = (cb: () => void): (() => void) => {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  };

  private set(patch: Partial<EditSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const cb of [...this.listeners]) cb();
  }

  private setJob(docId: string, job: JobView | null): void {
    const jobs = { ...this.snap.jobs };
    if (job) jobs[docId] = job;
    else delete jobs[docId];
    this.set({ jobs });
  }

  closeDialog = (): void => this.set({ dialog: null });

  private notify: Notify = (text, kind) => this.hooks.notify(text, kind);

  /** True when any open document has unsaved edits (beforeunload). */
  anyDirty(docs: readonly DocumentInfo[]): boolean {
    return docs.some((d) => d.dirty);
  }

  // ---- document state ---------------------------------------------------------------------------

  /** Applies an editing state from a reply or an event; the generation never goes back. */
  private applyState(state: EditState & { readOnly?: boolean }): void {
    const seen = this.gens.get(state.docId) ?? -1;
    const { docId, generation, ...rest } = stateOf(state);
    const patch: Partial<DocumentInfo> = { ...rest };
    if (generation >= seen) {
      this.gens.set(docId, generation);
      this.sizes.set(docId, state.size);
      if (state.savedSize !== undefined) this.savedSizes.set(docId, state.savedSize);
      patch.generation = generation;
    } else {
      // An older state arriving late: keep only what does not go back in time.
      return;
    }
    this.hooks.updateDoc(docId, patch);
  }

  /** Listens to every edit, undo and redo this session makes land: how it moved the bytes (bookmarks, search hits). */
  onEdit(cb: EditListener): () => void {
    this.editListeners.add(cb);
    return () => this.editListeners.delete(cb);
  }

  private emitEdit(docId: string, edit: RangeEdit, generation: number, cause: "edit" | "undo" | "redo" = "edit"): void {
    for (const cb of [...this.editListeners]) {
      try {
        cb(docId, edit, generation, cause);
      } catch (err) {
        console.error(err);
      }
    }
  }

  /**
   * The size the document will have once the edits queued for it land (the cursor may already
   * stand where they put it); `shown` (the size on screen) when none is queued.
   */
  expectedSize(docId: string, shown: number): number {
    const q = this.queues.get(docId);
    if (!q || q.count === 0) return shown;
    return (this.sizes.get(docId) ?? shown) + q.delta;
  }

  /** May this document's size change here (a writable file, not a fixed-size shared-memory section)? */
  static canResize(doc: DocumentInfo): boolean {
    return !doc.readOnly && doc.kind !== "shm";
  }

  /** A document appeared (opened, listed, granted): offer recovery when a journal was found. */
  docAdded(info: DocumentInfo): void {
    if (info.generation >= (this.gens.get(info.docId) ?? -1)) {
      this.sizes.set(info.docId, info.size);
      if (!info.dirty) this.savedSizes.set(info.docId, info.size);
    }
    this.gens.set(info.docId, Math.max(info.generation, this.gens.get(info.docId) ?? -1));
    if (info.hasJournal && !this.snap.dialog) this.set({ dialog: { kind: "recovery", docId: info.docId, name: info.name } });
  }

  docRemoved(docId: string): void {
    this.gens.delete(docId);
    this.sizes.delete(docId);
    this.savedSizes.delete(docId);
    this.queues.delete(docId);
    if (this.snap.jobs[docId]) this.setJob(docId, null);
    if (this.snap.dialog && this.snap.dialog.docId === docId) this.closeDialog();
  }

  /** Host events the editing state follows. Returns true when handled. */
  onEvent(e: HostEvent): boolean {
    switch (e.event) {
      case "document-changed": {
        // Another client's edit that changed the size (ours come with their reply first, at this
        // generation): no page of before it, at any offset, stands in for the new generation.
        const seen = this.gens.get(e.docId) ?? -1;
        const known = this.sizes.get(e.docId);
        if (e.generation > seen && known !== undefined && known !== e.size) this.cache.cut(e.docId, e.generation, 0);
        this.applyState(e);
        return true;
      }
      case "job-progress": {
        const job = this.snap.jobs[e.docId];
        if (job && job.op === e.op) this.setJob(e.docId, { ...job, jobId: e.jobId, done: e.done, total: e.total });
        return true;
      }
      case "size-changed":
      case "file-changed":
        if (e.event === "size-changed" && e.generation >= (this.gens.get(e.docId) ?? -1)) this.sizes.set(e.docId, e.size);
        this.gens.set(e.docId, Math.max(e.generation, this.gens.get(e.docId) ?? -1));
        return false;
      default:
        return false;
    }
  }

  // ---- the queue ---------------------------------------------------------------------------------

  private queueOf(docId: string): DocQueue {
    let q = this.queues.get(docId);
    if (!q) {
      q = { tail: Promise.resolve(), epoch: 0, count: 0, delta: 0 };
      this.queues.set(docId, q);
    }
    return q;
  }

  /**
   * Runs `op` after the document's earlier edits. Resolves null without sending anything when an
   * edit queued before it failed (or the document closed): it was typed on bytes that are not there.
   */
  private enqueue<T>(docId: string, delta: number, op: () => Promise<T | null>): Promise<T | null> {
    const q = this.queueOf(docId);
    const epoch = q.epoch;
    q.count++;
    q.delta += delta;
    const run = q.tail.then(async () => {
      let result: T | null = null;
      try {
        if (q.epoch === epoch && this.queues.get(docId) === q) result = await op();
      } finally {
        q.count--;
        q.delta -= delta;
      }
      if (result === null && q.epoch === epoch) {
        q.epoch++;
        this.set({ failures: this.snap.failures + 1 });
      }
      return result;
    });
    q.tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * replace(offset, deleteLength, bytes) through the queue. An overwrite shows at once (a patch);
   * an insert or delete when the host answers, when the pages from its start are re-mapped.
   * Resolves the host's reply, or null when it was refused (said so) or dropped.
   */
  private replace(op: EditOp): Promise<EditResult | null> {
    const { doc, offset, deleteLength, bytes, group } = op;
    const docId = doc.docId;
    const delta = bytes.length - deleteLength;
    const mark = op.mark ?? (delta === 0 ? MARK_EDITED : MARK_INSERTED);
    const patch = delta === 0 ? this.cache.addPatch({ docId, offset, bytes, edited: marks(bytes.length, mark) }) : null;
    const settled = this.enqueue(docId, delta, async () => {
      try {
        const r = await this.api.request("edit", {
          docId,
          offset,
          bytes,
          ...(deleteLength !== bytes.length ? { deleteLength } : {}),
          ...(group !== undefined ? { group } : {}),
        });
        this.applyState(r); // the app's generation first, then the pages (one render sees both)
        if (patch) this.cache.advance(docId, r.generation, 1, { patch });
        else {
          const shift: Shift = {
            start: offset,
            size: r.size,
            deleted: deleteLength,
            inserted: bytes.length,
            bytes: (from, n) => bytes.subarray(from, from + n),
            mark,
          };
          this.cache.advance(docId, r.generation, 1, { shift });
        }
        this.emitEdit(docId, { offset, deleted: deleteLength, inserted: bytes.length }, r.generation);
        return r;
      } catch (err) {
        this.editFailed(doc, err);
        return null;
      }
    });
    if (patch) void settled.then((r) => r === null && this.cache.removePatch(patch));
    return settled;
  }

  private editFailed(doc: DocumentInfo, err: unknown): void {
    const code = errorCode(err);
    if (code === "EACCES") this.refuseReadOnly({ ...doc, readOnly: true });
    else if (code === "EBUSY") this.notify(`${baseName(doc.name)} is busy (${errorText(err)}): the edit was not made.`);
    else if (code === "ENOTSUP") this.notify(/[.!?]$/.test(errorText(err)) ? errorText(err) : `${errorText(err)}.`);
    else this.notify(`The edit was not made: ${errorText(err)}${code ? ` (${code})` : ""}`);
  }

  // ---- modes --------------------------------------------------------------------------------------

  /** The Insert key, or a click on OVR/INS in the status bar. */
  toggleInsertMode(): void {
    this.typingGroup++; // a byte typed in the other mode is another undo step
    this.set({ insertMode: !this.snap.insertMode, nibble: null });
  }

  // ---- typing -------------------------------------------------------------------------------------

  /** The cursor moved by itself (not by typing): the next digit starts a new byte and a new undo step. */
  cursorMoved(): void {
    this.typingGroup++;
    if (this.snap.nibble) this.set({ nibble: null });
  }

  private ref(doc: DocumentInfo) {
    return { docId: doc.docId, generation: doc.generation, size: doc.size };
  }

  /** The byte shown at `offset` (with the patches), or -1 while it loads; and its mark. */
  private shownAt(doc: DocumentInfo, offset: number): { byte: number; mark: number } {
    const out: number[] = [];
    const ed: number[] = [];
    this.cache.fill(this.ref(doc), offset, 1, out, ed);
    return { byte: out[0]!, mark: ed[0] ?? 0 };
  }

  /** The byte shown at `offset` (with the patches), or -1 while it loads. */
  byteAt(doc: DocumentInfo, offset: number): number {
    return this.shownAt(doc, offset).byte;
  }

  /** Refuses an edit of a read-only document, visibly. Returns true when refused. */
  refuseReadOnly(doc: DocumentInfo): boolean {
    if (!doc.readOnly) return false;
    const now = Date.now();
    if (now - this.readOnlyNoticeAt > 1500) {
      this.readOnlyNoticeAt = now;
      this.notify(
        `${baseName(doc.name)} is open read-only${doc.readOnlyReason ? ` (${doc.readOnlyReason})` : ""}: it cannot be edited. Open it again with “Read-only” unticked to edit it, or use Save As for a copy.`,
      );
    }
    return true;
  }

  private nibbleAt(doc: DocumentInfo, cursor: number) {
    const n = this.snap.nibble;
    return n && n.docId === doc.docId && n.offset === cursor ? n : null;
  }

  /**
   * A hex digit typed at `cursor`. Overwrite: the first sets the high nibble, the second the low
   * one and moves on. Insert: the first inserts 0xN0 there, the second sets its low nibble (an
   * overwrite of that byte in the same undo step) and moves on. Returns the new cursor (or null
   * when nothing was typed).
   */
  typeHexDigit(doc: DocumentInfo, cursor: number, digit: number): number | null {
    if (this.refuseReadOnly(doc)) return null;
    const size = this.expectedSize(doc.docId, doc.size);
    const group = `t${this.typingGroup}`;
    const nib = this.nibbleAt(doc, cursor);
    if (nib) {
      const value = ((nib.value & 0xf0) | digit) & 0xff;
      void this.replace({ doc, offset: cursor, deleteLength: 1, bytes: Uint8Array.of(value), group, mark: nib.inserted ? MARK_INSERTED : MARK_EDITED });
      this.set({ nibble: null });
      return this.snap.insertMode ? cursor + 1 : Math.min(cursor + 1, size - 1);
    }
    if (this.snap.insertMode || cursor >= size) {
      if (cursor > size) return null;
      const value = (digit << 4) & 0xff;
      const nibble = { docId: doc.docId, offset: cursor, value, inserted: true };
      this.set({ nibble });
      void this.replace({ doc, offset: cursor, deleteLength: 0, bytes: Uint8Array.of(value), group }).then((r) => {
        if (!r && this.snap.nibble === nibble) this.set({ nibble: null });
      });
      return cursor;
    }
    const shown = this.shownAt(doc, cursor);
    if (shown.byte < 0) return null; // still loading: the key is dropped rather than guessed
    const value = ((digit << 4) | (shown.byte & 0x0f)) & 0xff;
    const mark = shown.mark === MARK_INSERTED ? MARK_INSERTED : MARK_EDITED;
    const nibble = { docId: doc.docId, offset: cursor, value, inserted: mark === MARK_INSERTED };
    void this.replace({ doc, offset: cursor, deleteLength: 1, bytes: Uint8Array.of(value), group, mark }).then((r) => {
      if (!r && this.snap.nibble === nibble) this.set({ nibble: null });
    });
    this.set({ nibble });
    return cursor;
  }

  /** A character typed in the text pane at `cursor`: overwrites (OVR) or inserts (INS) its byte. Returns the new cursor. */
  typeByte(doc: DocumentInfo, cursor: number, byte: number): number | null {
    if (this.refuseReadOnly(doc)) return null;
    const size = this.expectedSize(doc.docId, doc.size);
    const group = `t${this.typingGroup}`;
    if (this.snap.nibble) this.set({ nibble: null });
    if (this.snap.insertMode || cursor >= size) {
      if (cursor > size) return null;
      void this.replace({ doc, offset: cursor, deleteLength: 0, bytes: Uint8Array.of(byte), group });
      return cursor + 1;
    }
    const mark = this.shownAt(doc, cursor).mark === MARK_INSERTED ? MARK_INSERTED : MARK_EDITED;
    void this.replace({ doc, offset: cursor, deleteLength: 1, bytes: Uint8Array.of(byte), group, mark });
    return Math.min(cursor + 1, size - 1);
  }

  /**
   * Delete (the selection, or the byte at the cursor) and Backspace (the selection, or the byte
   * before the cursor), in both modes. Repeated keys are one undo step. Returns the new cursor, or
   * null when nothing was deleted.
   */
  deleteKey(doc: DocumentInfo, cursor: number, selection: { start: number; length: number } | null, key: "delete" | "backspace"): number | null {
    if (this.refuseReadOnly(doc)) return null;
    const size = this.expectedSize(doc.docId, doc.size);
    if (this.snap.nibble) this.set({ nibble: null });
    if (selection) {
      const length = Math.min(selection.length, size - selection.start);
      if (length <= 0) return null;
      this.cursorMoved();
      void this.replace({ doc, offset: selection.start, deleteLength: length, bytes: new Uint8Array(0) });
      return selection.start;
    }
    const at = key === "delete" ? cursor : cursor - 1;
    if (at < 0 || at >= size) return null;
    void this.replace({ doc, offset: at, deleteLength: 1, bytes: new Uint8Array(0), group: `x${this.typingGroup}` });
    return at;
  }

  /** Deletes [start, start+length) in one step (Cut, the Delete range dialog). Resolves true when it landed. */
  async deleteRange(doc: DocumentInfo, start: number, length: number): Promise<boolean> {
    if (this.refuseReadOnly(doc) || length <= 0) return false;
    this.cursorMoved();
    return (await this.replace({ doc, offset: start, deleteLength: length, bytes: new Uint8Array(0) })) !== null;
  }

  /**
   * Pastes clipboard text at `start` (the selection's start, or the cursor): hex text in the hex
   * pane, the text's bytes in the text pane. Overwrite mode overwrites, clipped at the end of the
   * file (said so); insert mode inserts, replacing the selection when there is one.
   * Returns where the cursor goes (after the last byte written), or null.
   */
  async paste(doc: DocumentInfo, start: number, text: string, pane: "hex" | "ascii", selectionLength = 0): Promise<number | null> {
    if (this.refuseReadOnly(doc)) return null;
    let bytes: Uint8Array;
    if (pane === "hex") {
      const parsed = parseHexText(text);
      if (!parsed.ok) {
        this.notify(`Nothing pasted: ${parsed.error}.`);
        return null;
      }
      bytes = parsed.bytes;
    } else {
      bytes = textBytes(text);
      if (bytes.length === 0) {
        this.notify("Nothing pasted: the clipboard holds no text.");
        return null;
      }
    }
    const size = this.expectedSize(doc.docId, doc.size);
    const insert = this.snap.insertMode || start >= size;
    let clipped = false;
    let deleteLength: number;
    if (insert) {
      if (start > size) return null;
      deleteLength = Math.max(0, Math.min(selectionLength, size - start));
    } else {
      const room = size - start;
      if (room <= 0) return null;
      if (bytes.length > room) {
        bytes = bytes.subarray(0, room);
        clipped = true;
      }
      deleteLength = bytes.length;
    }
    if (bytes.length > MAX_EDIT_LENGTH) {
      this.notify(`Nothing pasted: ${groupDigits(bytes.length)} bytes is more than one paste may hold (${groupDigits(MAX_EDIT_LENGTH)}).`);
      return null;
    }
    this.cursorMoved();
    const r = await this.replace({ doc, offset: start, deleteLength, bytes });
    if (!r) return null;
    const what = `${groupDigits(bytes.length)} ${bytes.length === 1 ? "byte" : "bytes"}`;
    if (clipped) {
      this.notify(`Pasted ${what} at ${hex(start)}: the rest did not fit before the end of the file (overwrite mode never grows it; Insert switches to insert mode).`, "info");
    } else if (insert) {
      this.notify(`Inserted ${what} at ${hex(start)}${deleteLength > 0 ? ` in place of ${groupDigits(deleteLength)} selected` : ""}.`, "info");
    } else {
      this.notify(`Pasted ${what} at ${hex(start)}.`, "info");
    }
    return insert ? Math.min(start + bytes.length, r.size) : Math.min(start + bytes.length, r.size - 1);
  }

  // ---- undo / redo ------------------------------------------------------------------------------

  /** Returns the range that changed (to put the cursor there), or null. */
  async undoRedo(doc: DocumentInfo, which: "undo" | "redo"): Promise<{ start: number; end: number } | null> {
    if (this.refuseReadOnly(doc)) return null;
    this.cursorMoved();
    const docId = doc.docId;
    const r = await this.enqueue<UndoResult>(docId, 0, async () => {
      try {
        const before = this.sizes.get(docId) ?? doc.size;
        const r = await this.api.request(which, { docId });
        if (r.changed) this.applyChange(docId, r, before, which);
        else this.notify(which === "undo" ? "Nothing to undo." : "Nothing to redo.", "info");
        this.applyState(r);
        return r;
      } catch (err) {
        this.editFailed(doc, err);
        return null;
      }
    });
    return r?.changed ?? null;
  }

  /** The pages after an undo/redo that changed `r.changed`, the size going from `before` to `r.size`. */
  private applyChange(docId: string, r: UndoResult, before: number, which: "undo" | "redo"): void {
    const changed = r.changed!;
    const n = changed.end - changed.start;
    const hasBytes = !!r.bytes && r.bytes.length === n;
    if (r.size === before) {
      if (hasBytes) {
        const patch = this.cache.addPatch({ docId, offset: changed.start, bytes: r.bytes!, edited: maskOf(r.edited, n, r.inserted) });
        this.cache.advance(docId, r.generation, 1, { patch });
      } else {
        this.cache.advance(docId, r.generation, 1, { range: changed });
      }
    } else if (hasBytes && changed.end === r.size) {
      // The whole tail from the start came back: every page from there can be built from it.
      const bytes = r.bytes!;
      const mask = maskOf(r.edited, n, r.inserted);
      this.cache.advance(docId, r.generation, 1, {
        shift: {
          start: changed.start,
          size: r.size,
          deleted: before - changed.start,
          inserted: n,
          bytes: (from, len) => bytes.subarray(from, from + len),
          mark: (from, len) => mask.subarray(from, from + len),
        },
      });
    } else {
      this.cache.advance(docId, r.generation, 1, { shift: { start: changed.start, size: r.size } });
    }
    this.emitEdit(docId, editFromSizes(changed.start, changed.end, before, r.size), r.generation, which);
  }

  // ---- fill, insert bytes, delete range -------------------------------------------------------------

  openFill(doc: DocumentInfo, start: number, length: number): void {
    if (this.refuseReadOnly(doc) || doc.size === 0) return;
    this.set({ dialog: { kind: "fill", docId: doc.docId, start, length } });
  }

  /** Find & Replace (Ctrl+H). */
  openReplace(doc: DocumentInfo): void {
    if (this.refuseReadOnly(doc)) return;
    this.set({ dialog: { kind: "replace", docId: doc.docId } });
  }

  /**
   * Replace all: every non-overlapping match of `pattern` in the document as it is now gives way
   * to `bytes`, as one undo step (the host's replace-all job). Resolves to the count, or null
   * when it failed (the reason is in the notice).
   */
  async replaceAll(docId: string, pattern: SearchPatternSpec, bytes: Uint8Array, describe: string): Promise<number | null> {
    const doc = this.hooks.getDoc(docId);
    if (!doc || this.refuseReadOnly(doc)) return null;
    this.cursorMoved();
    const r = await this.enqueue<ReplaceAllResult>(docId, 0, async () => {
      try {
        const r = await this.api.request("replace-all", { docId, pattern, bytes });
        this.applyState(r);
        if (r.replaced > 0) {
          // Pages before the first match stand; from there on they are read again.
          this.cache.advance(docId, r.generation, 1, { shift: { start: r.start, size: r.size } });
          this.emitEdit(docId, editFromSizes(r.start, r.end, r.sizeBefore, r.size), r.generation);
        }
        return r;
      } catch (err) {
        this.editFailed(doc, err);
        return null;
      }
    });
    if (!r) return null;
    if (r.canceled) this.notify("Replace all was cancelled; nothing was replaced.", "info");
    else if (r.replaced === 0) this.notify(`No match for ${describe}; nothing was replaced.`, "info");
    else this.notify(`Replaced ${groupDigits(r.replaced)} ${r.replaced === 1 ? "match" : "matches"} of ${describe} (one undo step; not saved yet).`, "info");
    return r.replaced;
  }

  openInsertBytes(doc: DocumentInfo, at: number): void {
    if (this.refuseReadOnly(doc)) return;
    this.set({ dialog: { kind: "insert-bytes", docId: doc.docId, at: Math.min(at, doc.size) } });
  }

  openDeleteRange(doc: DocumentInfo, start: number, length: number): void {
    if (this.refuseReadOnly(doc) || doc.size === 0) return;
    this.set({ dialog: { kind: "delete-range", docId: doc.docId, start, length } });
  }

  /** Overwrites [start, start+length) with `byte` (the Fill dialog). Any length: the host keeps it as a fill. */
  async fill(docId: string, start: number, length: number, byte: number): Promise<void> {
    const doc = this.hooks.getDoc(docId);
    if (!doc) return;
    this.closeDialog();
    this.cursorMoved();
    const patch = length <= FILL_PATCH_MAX ? this.cache.addPatch({ docId, offset: start, bytes: new Uint8Array(length).fill(byte), edited: marks(length, MARK_EDITED) }) : null;
    const r = await this.enqueue<EditResult>(docId, 0, async () => {
      try {
        const r = await this.api.request("fill", { docId, offset: start, length, byte });
        this.applyState(r);
        this.cache.advance(docId, r.generation, 1, patch ? { patch } : { range: { start: r.start, end: r.end } });
        this.emitEdit(docId, { offset: start, deleted: length, inserted: length }, r.generation);
        return r;
      } catch (err) {
        this.editFailed(doc, err);
        return null;
      }
    });
    if (!r) {
      if (patch) this.cache.removePatch(patch);
      return;
    }
    this.notify(`Filled ${groupDigits(length)} ${length === 1 ? "byte" : "bytes"} at ${hex(start)} with ${hex(byte)}.`, "info");
  }

  /** Inserts `count` bytes of `pattern` repeated before `at` (the Insert bytes dialog): one step, any count. */
  async insertBytes(docId: string, at: number, count: number, pattern: Uint8Array): Promise<boolean> {
    const doc = this.hooks.getDoc(docId);
    if (!doc || this.refuseReadOnly(doc)) return false;
    this.closeDialog();
    this.cursorMoved();
    const r = await this.enqueue<EditResult>(docId, count, async () => {
      try {
        const r = await this.api.request("fill", {
          docId,
          offset: at,
          length: count,
          insert: true,
          ...(pattern.length === 1 ? { byte: pattern[0]! } : { bytes: pattern }),
        });
        this.applyState(r);
        this.cache.advance(docId, r.generation, 1, {
          shift: { start: at, size: r.size, deleted: 0, inserted: count, bytes: (from, n) => patternBytes(pattern, from, n), mark: MARK_INSERTED },
        });
        this.emitEdit(docId, { offset: at, deleted: 0, inserted: count }, r.generation);
        return r;
      } catch (err) {
        this.editFailed(doc, err);
        return null;
      }
    });
    if (!r) return false;
    const what = pattern.length === 1 ? hex(pattern[0]!) : `the pattern ${Array.from(pattern.subarray(0, 8), (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ")}${pattern.length > 8 ? " …" : ""}`;
    this.notify(`Inserted ${groupDigits(count)} ${count === 1 ? "byte" : "bytes"}${count >= 1024 ? ` (${humanSize(count)})` : ""} of ${what} at ${hex(at)}.`, "info");
    return true;
  }

  /** The Delete range dialog: deletes [start, start+length) in one step. */
  async deleteRangeOf(docId: string, start: number, length: number): Promise<boolean> {
    const doc = this.hooks.getDoc(docId);
    if (!doc) return false;
    this.closeDialog();
    const ok = await this.deleteRange(doc, start, length);
    if (ok) this.notify(`Deleted ${groupDigits(length)} ${length === 1 ? "byte" : "bytes"}${length >= 1024 ? ` (${humanSize(length)})` : ""} at ${hex(start)}.`, "info");
    return ok;
  }

  // ---- save, save as, revert, reload, recover -------------------------------------------------------

  /** Ctrl+S. Resolves true when the document is saved (or had nothing to save). */
  async save(docId: string, force = false): Promise<boolean> {
    const doc = this.hooks.getDoc(docId);
    if (!doc) return false;
    if (doc.readOnly) {
      this.notify(`${baseName(doc.name)} is open read-only: use Save As (Ctrl+Shift+S) to write a copy.`);
      return false;
    }
    if (this.snap.jobs[docId]) {
      this.notify(`${baseName(doc.name)} is already being saved.`, "info");
      return false;
    }
    this.setJob(docId, { docId, op: "save", jobId: null, done: 0, total: 0 });
    try {
      // The edits typed before Ctrl+S go first (edits typed while the save runs are refused, busy).
      await this.queues.get(docId)?.tail;
      const savedBefore = this.savedSizes.get(docId);
      const r = await this.api.request("save", { docId, ...(force ? { force: true } : {}) });
      const wrote = r.strategy ? r.strategy !== "none" : r.records > 0;
      // A save changes no byte on screen: the pages carry over, without the edited colour.
      if (wrote) this.cache.advance(docId, r.generation, 2, { clearEdited: true });
      this.applyState(r);
      this.notify(saveNotice(baseName(doc.name), r, savedBefore), "info");
      return true;
    } catch (err) {
      const code = errorCode(err);
      if (code === "ECHANGED") {
        this.set({ dialog: { kind: "external-change", docId, name: doc.name, message: errorText(err) } });
      } else if (code === "EBUSY" && doc.hasJournal) {
        this.set({ dialog: { kind: "recovery", docId, name: doc.name } });
      } else {
        this.notify(`Could not save ${baseName(doc.name)}: ${errorText(err)}${code ? ` (${code})` : ""}`);
      }
      return false;
    } finally {
      this.setJob(docId, null);
    }
  }

  openSaveAs(doc: DocumentInfo): void {
    this.set({ dialog: { kind: "save-as", docId: doc.docId, name: doc.name } });
  }

  /** Runs Save As; the dialog stays up with its progress until it ends. Resolves true on success. */
  async saveAs(docId: string, path: string): Promise<boolean> {
    const doc = this.hooks.getDoc(docId);
    if (!doc) return false;
    this.setJob(docId, { docId, op: "save-as", jobId: null, done: 0, total: doc.size });
    try {
      const r = await this.api.request("save-as", { docId, path });
      this.closeDialog();
      this.notify(`Saved a copy to ${r.path} (${groupDigits(r.bytesWritten)} bytes).`, "info");
      return true;
    } catch (err) {
      const code = errorCode(err);
      if (code === "ECANCELED") {
        this.closeDialog();
        this.notify("Save As cancelled: nothing was written.", "info");
      } else this.notify(`Save As failed: ${errorText(err)}${code ? ` (${code})` : ""}`);
      return false;
    } finally {
      this.setJob(docId, null);
    }
  }

  /** Cancels the document's running job (Save As; a save until its journal is written). */
  cancelJob(docId: string): void {
    const jobId = this.snap.jobs[docId]?.jobId;
    if (jobId) this.api.request("cancel", { jobId }).catch(() => {});
  }

  /**
   * A document's state after revert, reload or recovery: every byte may have moved, so no page of
   * before stands in for the new generation (a placeholder until it is read, never stale bytes).
   */
  private adoptInfo(info: DocumentInfo): void {
    const docId = info.docId;
    if (info.generation >= (this.gens.get(docId) ?? -1)) {
      this.sizes.set(docId, info.size);
      if (!info.dirty) this.savedSizes.set(docId, info.size);
    }
    this.gens.set(docId, Math.max(info.generation, this.gens.get(docId) ?? -1));
    this.cache.cut(docId, info.generation, 0);
    this.hooks.updateDoc(docId, info);
  }

  async revertOrReload(docId: string, which: "revert" | "reload"): Promise<boolean> {
    this.closeDialog();
    try {
      await this.queues.get(docId)?.tail;
      const info = await this.api.request(which, { docId });
      this.cursorMoved();
      this.adoptInfo(info);
      if (which === "reload") this.notify("Reloaded from disk; your unsaved edits were dropped.", "info");
      return true;
    } catch (err) {
      this.notify(`Could not ${which}: ${errorText(err)}`);
      return false;
    }
  }

  async recover(docId: string, direction: "forward" | "back"): Promise<void> {
    this.closeDialog();
    this.setJob(docId, { docId, op: "recover", jobId: null, done: 0, total: 0 });
    try {
      const r = await this.api.request("recover", { docId, direction });
      if (r.info) this.adoptInfo(r.info);
      this.notify(
        r.action === "rolled-forward"
          ? "The interrupted save was finished: the file holds the saved edits."
          : r.action === "rolled-back"
            ? "The interrupted save was undone: the file is as it was before that save."
            : r.action === "discarded-invalid"
              ? "The journal was incomplete (the save had not touched the file yet); it was deleted."
              : "There was nothing to recover.",
        "info",
      );
    } catch (err) {
      this.notify(`Recovery failed: ${errorText(err)}${errorCode(err) ? ` (${errorCode(err)})` : ""}`);
    } finally {
      this.setJob(docId, null);
    }
  }

  // ---- closing ----------------------------------------------------------------------------------

  /** A tab's ×, Ctrl+W or the menu's Close: asks first when the document has unsaved edits. */
  requestClose(docId: string): void {
    const doc = this.hooks.getDoc(docId);
    if (doc?.dirty) this.set({ dialog: { kind: "unsaved-close", docId, name: doc.name } });
    else this.hooks.closeDoc(docId);
  }

  async answerClose(docId: string, answer: "save" | "discard" | "cancel"): Promise<void> {
    this.closeDialog();
    if (answer === "cancel") return;
    if (answer === "save") {
      if (!(await this.save(docId))) return;
    } else {
      // Drop the edits in the host too: another window may hold the same document.
      await this.api.request("revert", { docId }).catch(() => {});
    }
    this.hooks.closeDoc(docId);
  }

  /** The external-change dialog's answer to a refused save. */
  async answerExternalChange(docId: string, answer: "overwrite" | "reload" | "cancel"): Promise<void> {
    this.closeDialog();
    if (answer === "overwrite") await this.save(docId, true);
    else if (answer === "reload") await this.revertOrReload(docId, "reload");
  }
}

export type { Patch };
