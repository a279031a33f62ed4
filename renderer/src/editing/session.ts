// The renderer's editing controller (no React): sends edit/fill/undo/redo/save/… requests, shows
// typed bytes at once as page-cache patches and carries the cached pages over to the generation
// the host answers with (so typing never flashes a placeholder nor shows stale bytes), tracks
// jobs (save progress, Save As cancel) and which dialog is up. React components subscribe to
// its snapshot (useSyncExternalStore); App wires it to the document list.

import { HostError, type DocumentInfo, type HexmapApi, type HostEvent } from "../api";
import type { PageCache, Patch } from "../pageCache";
import { baseName, groupDigits, hex } from "../format";
import type { EditState } from "../../../app/protocol/messages";
import { parseHexText, textBytes } from "./text";

export type EditDialog =
  | { kind: "unsaved-close"; docId: string; name: string }
  | { kind: "external-change"; docId: string; name: string; message: string }
  | { kind: "recovery"; docId: string; name: string }
  | { kind: "fill"; docId: string; start: number; length: number }
  | { kind: "save-as"; docId: string; name: string };

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
  /** The cursor byte whose low nibble the next hex digit sets. */
  nibble: { docId: string; offset: number } | null;
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

// The protocol's MAX_EDIT_LENGTH and MAX_FILL_LENGTH (app/protocol/messages.ts). Not imported:
// that module's values bring zod, whose eval probe the page's CSP refuses.
const MAX_EDIT_LENGTH = 16 * 1024 * 1024;
const MAX_FILL_LENGTH = 64 * 1024 * 1024;

/** Largest selection a fill sends its bytes along with (to show them without a reload). */
const FILL_PATCH_MAX = 1024 * 1024;

function errorCode(err: unknown): string {
  return err instanceof HostError ? err.code : ((err as { code?: string })?.code ?? "");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ones(n: number): Uint8Array {
  return new Uint8Array(n).fill(1);
}

function maskOf(edited: number[] | undefined, n: number): Uint8Array {
  const m = new Uint8Array(n);
  if (edited) for (let k = 0; k + 1 < edited.length; k += 2) m.fill(1, edited[k]!, edited[k + 1]!);
  return m;
}

export class EditSession {
  private snap: EditSnapshot = { dialog: null, jobs: {}, nibble: null };
  private readonly listeners = new Set<() => void>();
  /** Highest generation seen per document (replies and events may arrive in either order). */
  private readonly gens = new Map<string, number>();
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
    const { docId, generation, ...rest } = state;
    const patch: Partial<DocumentInfo> = { ...rest };
    if (generation >= seen) {
      this.gens.set(docId, generation);
      patch.generation = generation;
    } else {
      // An older state arriving late: keep only what does not go back in time.
      return;
    }
    this.hooks.updateDoc(docId, patch);
  }

  /** A document appeared (opened, listed, granted): offer recovery when a journal was found. */
  docAdded(info: DocumentInfo): void {
    this.gens.set(info.docId, Math.max(info.generation, this.gens.get(info.docId) ?? -1));
    if (info.hasJournal && !this.snap.dialog) this.set({ dialog: { kind: "recovery", docId: info.docId, name: info.name } });
  }

  docRemoved(docId: string): void {
    this.gens.delete(docId);
    if (this.snap.jobs[docId]) this.setJob(docId, null);
    if (this.snap.dialog && this.snap.dialog.docId === docId) this.closeDialog();
  }

  /** Host events the editing state follows. Returns true when handled. */
  onEvent(e: HostEvent): boolean {
    switch (e.event) {
      case "document-changed":
        this.applyState(e);
        return true;
      case "job-progress": {
        const job = this.snap.jobs[e.docId];
        if (job && job.op === e.op) this.setJob(e.docId, { ...job, jobId: e.jobId, done: e.done, total: e.total });
        return true;
      }
      case "size-changed":
      case "file-changed":
        this.gens.set(e.docId, Math.max(e.generation, this.gens.get(e.docId) ?? -1));
        return false;
      default:
        return false;
    }
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

  /** The byte shown at `offset` (with the patches), or -1 while it loads. */
  byteAt(doc: DocumentInfo, offset: number): number {
    const out: number[] = [];
    this.cache.fill(this.ref(doc), offset, 1, out);
    return out[0]!;
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

  /**
   * A hex digit typed at `cursor`: the first sets the high nibble, the second the low one and
   * moves on. Returns the new cursor (or null when nothing was typed).
   */
  typeHexDigit(doc: DocumentInfo, cursor: number, digit: number): number | null {
    if (this.refuseReadOnly(doc) || doc.size === 0) return null;
    const old = this.byteAt(doc, cursor);
    if (old < 0) return null; // still loading: the key is dropped rather than guessed
    const nib = this.snap.nibble && this.snap.nibble.docId === doc.docId && this.snap.nibble.offset === cursor ? 1 : 0;
    const value = nib === 0 ? ((digit << 4) | (old & 0x0f)) & 0xff : ((old & 0xf0) | digit) & 0xff;
    this.edit(doc, cursor, Uint8Array.of(value), `t${this.typingGroup}`);
    if (nib === 0) {
      this.set({ nibble: { docId: doc.docId, offset: cursor } });
      return cursor;
    }
    const next = Math.min(cursor + 1, doc.size - 1);
    this.set({ nibble: null });
    return next;
  }

  /** A character typed in the text pane at `cursor`. Returns the new cursor. */
  typeByte(doc: DocumentInfo, cursor: number, byte: number): number | null {
    if (this.refuseReadOnly(doc) || doc.size === 0) return null;
    this.edit(doc, cursor, Uint8Array.of(byte), `t${this.typingGroup}`);
    if (this.snap.nibble) this.set({ nibble: null });
    return Math.min(cursor + 1, doc.size - 1);
  }

  /** Sends one edit, shown at once; the cached pages move to the new generation when it lands. */
  edit(doc: DocumentInfo, offset: number, bytes: Uint8Array, group?: string): Promise<boolean> {
    const patch = this.cache.addPatch({ docId: doc.docId, offset, bytes, edited: ones(bytes.length) });
    return this.api
      .request("edit", { docId: doc.docId, offset, bytes, ...(group !== undefined ? { group } : {}) })
      .then((r) => {
        this.applyState(r); // the app's generation first, then the pages (one render sees both)
        this.cache.advance(doc.docId, r.generation, 1, { patch });
        return true;
      })
      .catch((err) => {
        this.cache.removePatch(patch);
        this.editFailed(doc, err);
        return false;
      });
  }

  private editFailed(doc: DocumentInfo, err: unknown): void {
    const code = errorCode(err);
    if (code === "EACCES") this.refuseReadOnly({ ...doc, readOnly: true });
    else if (code === "EBUSY") this.notify(`${baseName(doc.name)} is busy (${errorText(err)}): the edit was not made.`);
    else this.notify(`The edit was not made: ${errorText(err)}${code ? ` (${code})` : ""}`);
  }

  /** Delete/Backspace: overwrite mode never changes the size. */
  explainNoDelete(doc: DocumentInfo): void {
    if (this.refuseReadOnly(doc)) return;
    this.notify(
      "Hexmap edits in overwrite mode: the file keeps its size, so bytes cannot be deleted or inserted. Type over them, or fill a selection (Ctrl+Shift+F) with 00.",
      "info",
    );
  }

  /**
   * Pastes clipboard text at `start` (the selection's start, or the cursor): hex text in the hex
   * pane, the text's bytes in the text pane. Overwrites; clipped at the end of the file (said so).
   * Returns the offset after the last byte written, or null.
   */
  async paste(doc: DocumentInfo, start: number, text: string, pane: "hex" | "ascii"): Promise<number | null> {
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
    const room = doc.size - start;
    if (room <= 0) return null;
    let clipped = false;
    if (bytes.length > room) {
      bytes = bytes.subarray(0, room);
      clipped = true;
    }
    if (bytes.length > MAX_EDIT_LENGTH) {
      this.notify(`Nothing pasted: ${groupDigits(bytes.length)} bytes is more than one paste may hold (${groupDigits(MAX_EDIT_LENGTH)}).`);
      return null;
    }
    this.cursorMoved();
    const ok = await this.edit(doc, start, bytes);
    if (!ok) return null;
    if (clipped) {
      this.notify(`Pasted ${groupDigits(bytes.length)} bytes at ${hex(start)}: the rest did not fit before the end of the file (overwrite mode never grows it).`, "info");
    } else {
      this.notify(`Pasted ${groupDigits(bytes.length)} ${bytes.length === 1 ? "byte" : "bytes"} at ${hex(start)}.`, "info");
    }
    return start + bytes.length;
  }

  // ---- undo / redo ------------------------------------------------------------------------------

  /** Returns the range that changed (to put the cursor there), or null. */
  async undoRedo(doc: DocumentInfo, which: "undo" | "redo"): Promise<{ start: number; end: number } | null> {
    if (this.refuseReadOnly(doc)) return null;
    this.cursorMoved();
    try {
      const r = await this.api.request(which, { docId: doc.docId });
      if (r.changed) {
        if (r.bytes && r.bytes.length === r.changed.end - r.changed.start) {
          const patch = this.cache.addPatch({ docId: doc.docId, offset: r.changed.start, bytes: r.bytes, edited: maskOf(r.edited, r.bytes.length) });
          this.cache.advance(doc.docId, r.generation, 1, { patch });
        } else {
          this.cache.advance(doc.docId, r.generation, 1, { range: r.changed });
        }
      } else {
        this.notify(which === "undo" ? "Nothing to undo." : "Nothing to redo.", "info");
      }
      this.applyState(r);
      return r.changed;
    } catch (err) {
      this.editFailed(doc, err);
      return null;
    }
  }

  // ---- fill ---------------------------------------------------------------------------------------

  openFill(doc: DocumentInfo, start: number, length: number): void {
    if (this.refuseReadOnly(doc) || doc.size === 0) return;
    this.set({ dialog: { kind: "fill", docId: doc.docId, start, length } });
  }

  async fill(docId: string, start: number, length: number, byte: number): Promise<void> {
    const doc = this.hooks.getDoc(docId);
    if (!doc) return;
    this.closeDialog();
    if (length > MAX_FILL_LENGTH) {
      this.notify(`Cannot fill ${groupDigits(length)} bytes at once (at most ${groupDigits(MAX_FILL_LENGTH)}): select less.`);
      return;
    }
    this.cursorMoved();
    const patch = length <= FILL_PATCH_MAX ? this.cache.addPatch({ docId, offset: start, bytes: new Uint8Array(length).fill(byte), edited: ones(length) }) : null;
    try {
      const r = await this.api.request("fill", { docId, offset: start, length, byte });
      this.cache.advance(docId, r.generation, 1, patch ? { patch } : { range: { start: r.start, end: r.end } });
      this.applyState(r);
      this.notify(`Filled ${groupDigits(length)} ${length === 1 ? "byte" : "bytes"} at ${hex(start)} with ${hex(byte)}.`, "info");
    } catch (err) {
      if (patch) this.cache.removePatch(patch);
      this.editFailed(doc, err);
    }
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
      const r = await this.api.request("save", { docId, ...(force ? { force: true } : {}) });
      // A save changes no byte on screen: the pages carry over, without the edited colour.
      if (r.records > 0) this.cache.advance(docId, r.generation, 2, { clearEdited: true });
      this.applyState(r);
      this.notify(r.records > 0 ? `Saved ${baseName(doc.name)} (${groupDigits(r.bytesWritten)} ${r.bytesWritten === 1 ? "byte" : "bytes"} written).` : "Nothing to save.", "info");
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

  async revertOrReload(docId: string, which: "revert" | "reload"): Promise<boolean> {
    this.closeDialog();
    try {
      const info = await this.api.request(which, { docId });
      this.cursorMoved();
      this.gens.set(docId, Math.max(info.generation, this.gens.get(docId) ?? -1));
      this.hooks.updateDoc(docId, info);
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
      if (r.info) {
        this.gens.set(docId, Math.max(r.info.generation, this.gens.get(docId) ?? -1));
        this.hooks.updateDoc(docId, r.info);
      }
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
