// Service: the protocol implemented over Documents, for one client (an Electron window, one
// WebSocket connection). Hosts create one Service per client over a shared DocumentPool:
//
//   - Document ids ("d1", "d2", …) are global to the pool, never paths. A Service answers only
//     for the ids it opened or was granted (`grant`), so one client cannot read another's
//     documents unless the host shares them (the file on `hexmap serve FILE`).
//   - A document stays open while any holder (a Service, or the host itself) holds it.
//   - The pool watches open documents for size changes (a poll, plus fs.watch where it works)
//     and tells every holder: `size-changed` with the new generation, `file-changed` when the
//     contents changed at the same size, `document-closed` when the host closed it.
//
// handle() ALWAYS settles with a Reply: a malformed request is EINVAL, a throwing handler is its
// HexmapError code (EINTERNAL for bugs). It never rejects.

import * as fs from "node:fs";
import { EditableFile, isEditable } from "./edit-service";
import { LiveSharedMemory, isLiveSharedMemory } from "./shm-service";
import { Editor } from "./editor";
import { HexmapError, toHexmapError } from "./errors";
import { BookmarkStore } from "./bookmarks";
import { handlePanelRequest, type PanelContext } from "./panels-service";
import { prepareSearch, replaceAllIn } from "./search-service";
import { LinesService, type LinesServiceOptions } from "./lines-service";
import { handleStructRequest } from "../structure/struct-service";
import { handleStringsRequest } from "./strings-service";
import {
  parseRequest,
  type DocumentInfo,
  type DocumentKind,
  type Event,
  type JobOp,
  type ProtocolError,
  type Reply,
  type Request,
  type ResultMap,
} from "../protocol/messages";

/** What the Service needs of a Document (the real one, or a test double). */
export interface ServiceDocument {
  readonly kind: DocumentKind;
  readonly name: string;
  readonly readOnly: boolean;
  readonly size: number;
  readonly generation: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  checkSize(): { changed: boolean; size: number };
  close(): void;
}

export type DocumentOpener = (path: string, options: { readOnly?: boolean }) => ServiceDocument;

export interface DocumentPoolOptions {
  /** Opens a document; default EditableFile.open (an Editor over a read-only Document). */
  openDocument?: DocumentOpener;
  /** Size poll interval in ms; 0 turns polling off. Default 1000. */
  pollIntervalMs?: number;
  /** Also use fs.watch on file documents for faster notice. Default true. */
  watch?: boolean;
}

/** Something that holds documents open and hears their events: a Service, or a host. */
export interface DocumentHolder {
  deliver(event: Event): void;
}

interface Entry {
  readonly docId: string;
  readonly doc: ServiceDocument;
  readonly path: string;
  readonly holders: Set<DocumentHolder>;
  watcher: fs.FSWatcher | null;
  watchTimer: NodeJS.Timeout | null;
  mtimeMs: number | null;
  statting: boolean;
}

const WATCH_DEBOUNCE_MS = 30;

export class DocumentPool {
  private readonly entries = new Map<string, Entry>();
  private nextId = 1;
  private readonly openDocument: DocumentOpener;
  private readonly pollIntervalMs: number;
  private readonly watch: boolean;
  private pollTimer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(options: DocumentPoolOptions = {}) {
    this.openDocument = options.openDocument ?? ((path, opts) => EditableFile.open(path, opts));
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.watch = options.watch ?? true;
  }

  /** Opens a document for `holder`. Throws HexmapError (ENOENT, EACCES, EISDIR, …). */
  open(path: string, options: { readOnly?: boolean }, holder: DocumentHolder): string {
    if (this.disposed) throw new HexmapError("EBADDOC", "Hexmap is shutting down");
    const doc = this.openDocument(path, options.readOnly === undefined ? {} : { readOnly: options.readOnly });
    const docId = `d${this.nextId++}`;
    const entry: Entry = {
      docId,
      doc,
      path,
      holders: new Set([holder]),
      watcher: null,
      watchTimer: null,
      mtimeMs: null,
      statting: false,
    };
    this.entries.set(docId, entry);
    if (doc.kind === "file") {
      this.statEntry(entry, false);
      if (this.watch) this.startWatch(entry);
    }
    this.ensurePolling();
    return docId;
  }

  has(docId: string): boolean {
    return this.entries.has(docId);
  }

  /** The document behind an id; EBADDOC if it is not open. */
  get(docId: string): ServiceDocument {
    const entry = this.entries.get(docId);
    if (!entry) throw new HexmapError("EBADDOC", `No open document ${docId}`);
    return entry.doc;
  }

  info(docId: string): DocumentInfo {
    const d = this.get(docId);
    const info: DocumentInfo = { docId, kind: d.kind, name: d.name, size: d.size, readOnly: d.readOnly, generation: d.generation };
    if (isEditable(d) || isLiveSharedMemory(d)) {
      const { docId: _id, generation: _g, size: _s, ...state } = d.state(docId);
      Object.assign(info, state);
      if (isEditable(d) && d.readOnlyReason) info.readOnlyReason = d.readOnlyReason;
    }
    return info;
  }

  /** Tells every holder of an editable document its new editing state (`document-changed`). */
  emitChanged(docId: string): void {
    const entry = this.entries.get(docId);
    if (!entry || !(isEditable(entry.doc) || isLiveSharedMemory(entry.doc))) return;
    const event: Event = { event: "document-changed", readOnly: entry.doc.readOnly, ...entry.doc.state(docId) };
    this.emit(entry, event);
    // Our own save changed the file's mtime: take it as the new reference so it is not reported.
    if (entry.doc.kind === "file") this.statEntry(entry, false);
  }


  /**
   * Opens (`create`: creates, or opens at that size) a named shared-memory section for `holder`:
   * a live document, never watched through the file system. Throws HexmapError (ENOENT, EEXIST…).
   */
  openShm(name: string, options: { readOnly?: boolean; create?: number }, holder: DocumentHolder): { docId: string; created: boolean } {
    if (this.disposed) throw new HexmapError("EBADDOC", "Hexmap is shutting down");
    const live = LiveSharedMemory.open(name, options);
    const docId = `d${this.nextId++}`;
    const entry: Entry = { docId, doc: live, path: name, holders: new Set([holder]), watcher: null, watchTimer: null, mtimeMs: null, statting: false };
    this.entries.set(docId, entry);
    live.onBytesChanged((ranges, generation) => {
      if (this.entries.get(docId) === entry) this.emit(entry, { event: "bytes-changed", docId, ranges, generation });
    });
    return { docId, created: live.created };
  }

  /** Adds a holder to an open document. EBADDOC if it is not open. */
  acquire(docId: string, holder: DocumentHolder): void {
    const entry = this.entries.get(docId);
    if (!entry) throw new HexmapError("EBADDOC", `No open document ${docId}`);
    entry.holders.add(holder);
  }

  /** Drops a holder; the document closes when nobody holds it. */
  release(docId: string, holder: DocumentHolder): void {
    const entry = this.entries.get(docId);
    if (!entry || !entry.holders.delete(holder)) return;
    if (isLiveSharedMemory(entry.doc)) entry.doc.unwatch(holder);
    if (entry.holders.size === 0) this.closeEntry(entry);
  }

  /** Closes a document for every holder, telling each with `document-closed`. */
  forceClose(docId: string, reason: string): void {
    const entry = this.entries.get(docId);
    if (!entry) return;
    const holders = [...entry.holders];
    this.closeEntry(entry);
    for (const h of holders) safeDeliver(h, { event: "document-closed", docId, reason });
  }

  /** Re-checks one document's size now (also what the poll and fs.watch do). */
  check(docId: string): void {
    const entry = this.entries.get(docId);
    if (entry) this.checkEntry(entry);
  }

  get openCount(): number {
    return this.entries.size;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const docId of [...this.entries.keys()]) this.forceClose(docId, "Hexmap is shutting down");
    this.disposed = true;
    this.stopPolling();
  }

  // ---- watching ------------------------------------------------------------------------------

  private ensurePolling(): void {
    if (this.pollTimer || this.pollIntervalMs <= 0 || this.entries.size === 0) return;
    this.pollTimer = setInterval(() => {
      for (const entry of [...this.entries.values()]) this.checkEntry(entry);
    }, this.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private startWatch(entry: Entry): void {
    try {
      const watcher = fs.watch(entry.path, { persistent: false }, () => {
        if (entry.watchTimer) return;
        entry.watchTimer = setTimeout(() => {
          entry.watchTimer = null;
          if (this.entries.get(entry.docId) === entry) this.checkEntry(entry);
        }, WATCH_DEBOUNCE_MS);
        entry.watchTimer.unref();
      });
      watcher.on("error", () => {
        watcher.close();
        if (entry.watcher === watcher) entry.watcher = null;
      });
      entry.watcher = watcher;
    } catch {
      // fs.watch is not available everywhere (some network file systems): the poll covers it.
    }
  }

  private checkEntry(entry: Entry): void {
    if (this.entries.get(entry.docId) !== entry) return;
    let result: { changed: boolean; size: number };
    try {
      result = entry.doc.checkSize();
    } catch {
      return; // e.g. the handle went bad; reads will report the error to the user
    }
    if (result.changed) {
      this.emit(entry, { event: "size-changed", docId: entry.docId, size: result.size, generation: entry.doc.generation });
    }
    if (entry.doc.kind === "file") this.statEntry(entry, !result.changed);
  }

  /** Notices a rewrite at the same size through the file's modification time. */
  private statEntry(entry: Entry, report: boolean): void {
    if (entry.statting) return;
    entry.statting = true;
    fs.stat(entry.path, (err, st) => {
      entry.statting = false;
      if (this.entries.get(entry.docId) !== entry) return;
      if (err) return; // renamed or deleted: the open handle still reads the old file
      const before = entry.mtimeMs;
      entry.mtimeMs = st.mtimeMs;
      // An editable document knows its own saves: only a change it did not make is reported.
      const foreign = !isEditable(entry.doc) || entry.doc.changedOnDisk();
      const onDisk = isEditable(entry.doc) ? entry.doc.editor.savedSize : entry.doc.size;
      if (report && foreign && before !== null && st.mtimeMs !== before && st.size === onDisk) {
        // A clean document takes the file as it is now as its new reference (no ECHANGED later).
        if (isEditable(entry.doc)) entry.doc.adoptDiskState();
        this.emit(entry, {
          event: "file-changed",
          docId: entry.docId,
          generation: entry.doc.generation,
          reason: "The file was modified on disk by another program",
        });
      }
    });
  }

  private emit(entry: Entry, event: Event): void {
    for (const h of [...entry.holders]) safeDeliver(h, event);
  }

  private closeEntry(entry: Entry): void {
    this.entries.delete(entry.docId);
    if (entry.watchTimer) clearTimeout(entry.watchTimer);
    entry.watcher?.close();
    entry.watcher = null;
    try {
      entry.doc.close();
    } catch {
      /* closing is best effort */
    }
    if (this.entries.size === 0) this.stopPolling();
  }
}

function safeDeliver(holder: DocumentHolder, event: Event): void {
  try {
    holder.deliver(event);
  } catch {
    /* a holder's listener bug must not stop the others */
  }
}

export interface ServiceOptions extends DocumentPoolOptions {
  /** Pool shared with other Services (one per client). Default: a private pool, disposed with the Service. */
  pool?: DocumentPool;
  /** Called after a successful open/open-dropped from the client (e.g. to record a recent file). */
  onOpened?: (info: DocumentInfo, path: string, via: "open" | "open-dropped") => void;
  /** Where bookmarks are kept (Electron: userData). Default: bookmarks.defaultConfigDir(). */
  configDir?: string;
  /** The log view (follow interval, filter line timeout). */
  lines?: LinesServiceOptions;
}

export class Service implements DocumentHolder {
  readonly pool: DocumentPool;
  private readonly ownsPool: boolean;
  /** The document ids this client may address. */
  private readonly allowed = new Set<string>();
  private readonly listeners = new Set<(event: Event) => void>();
  private readonly onOpened: ServiceOptions["onOpened"];
  private disposed = false;
  /** Running jobs of this client (every kind: panel jobs, save, save-as, recover, detached jobs), for `cancel`. */
  private readonly jobs = new Map<string, AbortController>();
  private nextJob = 1;
  /**
   * The documents of each running job (both of a compare): closing any of them — this client's
   * `close`, or the host's `document-closed` — ends the job (EBADDOC for a job awaiting its reply).
   */
  private readonly jobDocs = new Map<string, readonly string[]>();
  /** Byte map, histogram, hash, compare, export, bookmarks (app/engine/panels-service.ts). */
  private readonly panels: PanelContext;
  /** The log view: line index, lines, follow, filter (app/engine/lines-service.ts). */
  private readonly lines: LinesService;

  constructor(options: ServiceOptions = {}) {
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new DocumentPool(options);
    this.onOpened = options.onOpened;
    this.panels = {
      doc: (docId) => this.doc(docId),
      job: (docId, op, work, otherDocIds) => this.job(docId, op, work, otherDocIds),
      deliver: (event) => this.deliver(event),
      bookmarks: new BookmarkStore(options.configDir),
    };
    this.lines = new LinesService(
      {
        doc: (docId) => this.doc(docId),
        detachedJob: (docId, op, work) => this.detachedJob(docId, op, work),
        deliver: (event) => this.deliver(event),
        reloadDocument: (docId) => {
          const doc = this.doc(docId);
          if (isEditable(doc) && !doc.state(docId).dirty && !doc.busy) {
            doc.reload();
            this.changed(docId);
          }
        },
      },
      options.lines,
    );
  }

  /** Validates and answers one untrusted message. Never rejects. */
  async handle(message: unknown): Promise<Reply> {
    let id: number | null = null;
    try {
      const parsed = parseRequest(message);
      if (!parsed.ok) return { id: parsed.id, ok: false, error: parsed.error };
      id = parsed.request.id;
      if (this.disposed) throw new HexmapError("EBADDOC", "This session is closed");
      const result = await this.dispatch(parsed.request);
      return { id, ok: true, result } as Reply;
    } catch (err) {
      return { id, ok: false, error: toProtocolError(err) };
    }
  }

  /** Opens a document for this client (host use: dialog, command line). Throws HexmapError. */
  open(path: string, options: { readOnly?: boolean } = {}): DocumentInfo {
    if (this.disposed) throw new HexmapError("EBADDOC", "This session is closed");
    const docId = this.pool.open(path, options, this);
    this.allowed.add(docId);
    return this.pool.info(docId);
  }

  /** Lets this client address a document the host (or another client) holds. */
  grant(docId: string): DocumentInfo {
    if (this.disposed) throw new HexmapError("EBADDOC", "This session is closed");
    if (!this.allowed.has(docId)) {
      this.pool.acquire(docId, this);
      this.allowed.add(docId);
    }
    return this.pool.info(docId);
  }

  /** The ids this client may address, in opening order. */
  documents(): string[] {
    return [...this.allowed].filter((d) => this.pool.has(d));
  }

  /** Subscribes to this client's events. Returns an unsubscribe function. */
  onEvent(cb: (event: Event) => void): () => void {
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }

  /** Sends an event to this client (hosts use it for `document-opened`). */
  deliver(event: Event): void {
    if (this.disposed) return;
    if (event.event === "document-closed") {
      this.allowed.delete(event.docId);
      this.endJobsOf(event.docId);
      this.lines.drop(event.docId);
    }
    // The line view reads the edited document: it follows every change before the client hears of it.
    if (event.event === "document-changed" || event.event === "size-changed" || event.event === "file-changed") {
      this.lines.documentChanged(event.docId, event.event);
    }
    for (const cb of [...this.listeners]) {
      try {
        cb(event);
      } catch {
        /* one listener's bug must not stop the others */
      }
    }
  }

  /**
   * Jobs of this client still running (a disposed client's jobs included, until they have seen
   * their cancel and stopped reading).
   */
  get jobCount(): number {
    return this.jobs.size;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Releases this client's documents (closing those nobody else holds) and cancels its jobs. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const gone = new HexmapError("ECANCELED", "The job was cancelled: its client went away");
    for (const ac of this.jobs.values()) ac.abort(gone);
    this.lines.dispose();
    for (const docId of this.allowed) this.pool.release(docId, this);
    this.allowed.clear();
    this.listeners.clear();
    if (this.ownsPool) this.pool.dispose();
  }

  private doc(docId: string): ServiceDocument {
    // Same answer for "never existed" and "not yours": ids must not be probeable.
    if (!this.allowed.has(docId) || !this.pool.has(docId)) {
      throw new HexmapError("EBADDOC", `No open document ${docId}`);
    }
    return this.pool.get(docId);
  }

  /** An open document of this client that can be edited; ENOTSUP for other kinds. */
  private editable(docId: string): EditableFile {
    const doc = this.doc(docId);
    if (!isEditable(doc)) throw new HexmapError("ENOTSUP", `Editing is not supported for ${doc.name}`);
    return doc;
  }

  /** Tells every holder after this reply went out (the requester learns the state from its reply first). */
  private changed(docId: string): void {
    setImmediate(() => this.pool.emitChanged(docId));
  }

  /**
   * Runs `work` as a job of this client: progress events, cancel by jobId; settles with its result.
   * Closing `docId` or one of `otherDocIds`, and dispose(), abort it like a cancel: a job stopped
   * that way rejects with the reason (EBADDOC: its document closed; ECANCELED otherwise).
   */
  private async job<T>(
    docId: string,
    op: JobOp,
    work: (progress: (done: number, total: number) => void, signal: AbortSignal, jobId: string) => Promise<T>,
    otherDocIds: readonly string[] = [],
  ): Promise<T> {
    const jobId = `j${this.nextJob++}`;
    const ac = new AbortController();
    this.jobs.set(jobId, ac);
    this.jobDocs.set(jobId, [docId, ...otherDocIds]);
    let last = 0;
    const progress = (done: number, total: number) => {
      const now = Date.now();
      if (done < total && now - last < 50) return; // at most ~20 events a second
      last = now;
      this.deliver({ event: "job-progress", jobId, docId, op, done, total });
    };
    this.deliver({ event: "job-progress", jobId, docId, op, done: 0, total: 0 });
    try {
      return await work(progress, ac.signal, jobId);
    } catch (err) {
      throw abortOutcome(ac.signal, err);
    } finally {
      this.jobs.delete(jobId);
      this.jobDocs.delete(jobId);
    }
  }

  /**
   * Starts `work` as a detached job of this client and returns its jobId at once (the reply);
   * the work starts after the reply is sent, and a `job-done` event with its result or error is
   * always its last event. `cancel`, closing the document and dispose() abort its signal.
   */
  private detachedJob<R extends NonNullable<Extract<Event, { event: "job-done" }>["result"]>>(
    docId: string,
    op: JobOp,
    work: (jobId: string, signal: AbortSignal) => Promise<R>,
  ): { jobId: string } {
    const jobId = `j${this.nextJob++}`;
    const ac = new AbortController();
    this.jobs.set(jobId, ac);
    this.jobDocs.set(jobId, [docId]);
    const end = (outcome: { result: R } | { error: ProtocolError }) => {
      // Gone from the registry before job-done goes out: a cancel after it answers canceled: false.
      this.jobs.delete(jobId);
      this.jobDocs.delete(jobId);
      this.deliver({ event: "job-done", jobId, docId, op, ...outcome });
    };
    setImmediate(() => {
      void work(jobId, ac.signal).then(
        (result) => end({ result }),
        (err) => end({ error: toProtocolError(abortOutcome(ac.signal, err)) }),
      );
    });
    return { jobId };
  }

  /** Cancels this client's jobs on a document, of every kind (it closed, or this client closed it). */
  private endJobsOf(docId: string): void {
    for (const [jobId, docs] of this.jobDocs) {
      if (docs.includes(docId)) this.jobs.get(jobId)?.abort(new HexmapError("EBADDOC", `The document ${docId} was closed while the job ran`));
    }
  }

  // ---- shared memory: live documents whose edits apply at once --------------------------------

  /** An open shared-memory document of this client; ENOTSUP for files. */
  private live(docId: string): LiveSharedMemory {
    const doc = this.doc(docId);
    if (!isLiveSharedMemory(doc)) throw new HexmapError("ENOTSUP", `${doc.name} is not shared memory: only shared-memory documents are watched live`);
    return doc;
  }

  /** The shared-memory document an editing request addresses, if it does. */
  private liveTarget(req: Request): LiveSharedMemory | null {
    const docId = (req as { docId?: unknown }).docId;
    if (typeof docId !== "string") return null;
    const doc = this.doc(docId);
    return isLiveSharedMemory(doc) ? doc : null;
  }

  /** edit/fill/undo/redo write into the section now (undoable); there is nothing to save or revert. */
  private async dispatchLiveEdit(live: LiveSharedMemory, req: Request): Promise<ResultMap[Request["type"]]> {
    switch (req.type) {
      case "edit": {
        if (req.deleteLength !== undefined && req.deleteLength !== req.bytes.length) throw fixedSize(live.name);
        const r = await live.edit(req.docId, req.offset, req.bytes, req.group);
        this.changed(req.docId);
        return r;
      }
      case "fill": {
        if (req.insert) throw fixedSize(live.name);
        if (req.byte === undefined) throw new HexmapError("ENOTSUP", "A shared-memory section is filled with one byte value, not a pattern");
        const r = await live.fill(req.docId, req.offset, req.length, req.byte);
        this.changed(req.docId);
        return r;
      }
      case "undo":
      case "redo": {
        const r = await live.undoRedo(req.docId, req.type);
        if (r.changed) this.changed(req.docId);
        return r;
      }
      case "save":
      case "save-as":
      case "revert":
      case "reload":
      case "recover":
        throw new HexmapError(
          "ENOTSUP",
          `Changes to shared memory apply immediately: there is nothing to ${req.type === "save-as" ? "save as" : req.type} (use Undo to take an edit back)`,
        );
      default:
        throw new HexmapError("EINTERNAL", `No shared-memory handler for ${req.type}`);
    }
  }

  private async dispatchEdit(req: Request): Promise<ResultMap[Request["type"]]> {
    const live = this.liveTarget(req);
    if (live) return this.dispatchLiveEdit(live, req);
    switch (req.type) {
      case "edit": {
        const r = this.editable(req.docId).edit(req.docId, req.offset, req.deleteLength ?? req.bytes.length, req.bytes, req.group);
        this.changed(req.docId);
        return r;
      }
      case "fill": {
        const r = this.editable(req.docId).fill(req.docId, req.offset, req.length, req.bytes ?? Uint8Array.of(req.byte ?? 0), req.insert === true);
        this.changed(req.docId);
        return r;
      }
      case "undo":
      case "redo": {
        const r = this.editable(req.docId).undoRedo(req.docId, req.type);
        if (r.changed) this.changed(req.docId);
        return r;
      }
      case "save": {
        const doc = this.editable(req.docId);
        try {
          const res = await this.job(req.docId, "save", (progress, signal) =>
            doc.save(req.force === true, (p) => progress(p.done, p.total), signal, req.strategy ?? "auto"),
          );
          return {
            ...doc.state(req.docId),
            records: res.records,
            bytesWritten: res.bytes,
            durationMs: res.durationMs,
            strategy: res.strategy,
            ...(res.historyCleared ? { historyCleared: true } : {}),
          };
        } finally {
          this.changed(req.docId);
        }
      }
      case "save-as": {
        const doc = this.editable(req.docId);
        const res = await this.job(req.docId, "save-as", (progress, signal) => doc.saveAs(req.path, progress, signal));
        return { docId: req.docId, path: res.path, bytesWritten: res.bytes, durationMs: res.durationMs };
      }
      case "revert":
      case "reload": {
        const doc = this.editable(req.docId);
        if (req.type === "revert") doc.revert();
        else doc.reload();
        this.changed(req.docId);
        return this.pool.info(req.docId);
      }
      case "recover": {
        if (req.docId !== undefined) {
          const doc = this.editable(req.docId);
          const docId = req.docId;
          try {
            const r = await this.job(docId, "recover", () => doc.recover(req.direction));
            return { action: r.action, records: r.records, bytesWritten: r.bytes, info: this.pool.info(docId) };
          } finally {
            this.changed(docId);
          }
        }
        const r = await Editor.recover(req.path!, req.direction);
        return { action: r.action, records: r.records, bytesWritten: r.bytes };
      }
      case "cancel": {
        const ac = this.jobs.get(req.jobId);
        ac?.abort();
        return { jobId: req.jobId, canceled: ac !== undefined };
      }
      default:
        throw new HexmapError("EINTERNAL", `No handler for ${req.type}`);
    }
  }

  private async dispatch(req: Request): Promise<ResultMap[Request["type"]]> {
    switch (req.type) {
      case "open":
      case "open-dropped": {
        const info = this.open(req.path, req.readOnly === undefined ? {} : { readOnly: req.readOnly });
        try {
          this.onOpened?.(info, req.path, req.type);
        } catch {
          /* recording a recent file must not fail the open */
        }
        return info;
      }
      case "list":
        return { documents: this.documents().map((d) => this.pool.info(d)) };
      case "info":
        this.doc(req.docId);
        return this.pool.info(req.docId);
      case "read": {
        const doc = this.doc(req.docId);
        // The generation before the read: if the file changes meanwhile, the reply is stale and
        // the client, which gets a size-changed with a newer generation, drops it.
        const generation = doc.generation;
        const bytes = ownedBytes(await doc.read(req.offset, req.length));
        if (isEditable(doc) && doc.generation === generation) {
          return { docId: req.docId, offset: req.offset, bytes, generation, size: doc.size, ...doc.editedSpan(req.offset, bytes.length) };
        }
        return { docId: req.docId, offset: req.offset, bytes, generation, size: doc.size };
      }
      case "close":
        this.doc(req.docId);
        this.allowed.delete(req.docId);
        this.endJobsOf(req.docId);
        this.lines.drop(req.docId);
        this.pool.release(req.docId, this);
        return { docId: req.docId };
      case "open-shm":
      case "create-shm": {
        const create = req.type === "create-shm";
        const opened = this.pool.openShm(req.name, create ? { create: req.size } : { readOnly: req.readOnly ?? true }, this);
        this.allowed.add(opened.docId);
        const info = this.pool.info(opened.docId);
        return create ? { ...info, created: opened.created } : info;
      }
      case "watch":
        return { docId: req.docId, ...this.live(req.docId).watch(this, req.ranges, req.intervalMs) };
      case "watch-pause":
        return { docId: req.docId, ...this.live(req.docId).pauseWatch(this, req.paused) };
      case "search": {
        const search = prepareSearch(req, this.doc(req.docId), req.docId);
        return this.detachedJob(req.docId, "search", (jobId, signal) =>
          search.run({ jobId, signal, deliver: (event) => this.deliver(event) }),
        );
      }
      case "replace-all": {
        const doc = this.editable(req.docId);
        const r = await this.job(req.docId, "replace-all", (progress, signal) => replaceAllIn(req, doc, req.docId, progress, signal));
        if (r.replaced > 0) this.changed(req.docId);
        return r;
      }
      case "bytemap":
      case "histogram":
      case "hash":
      case "compare":
      case "export":
      case "bookmarks-get":
      case "bookmarks-set":
        return handlePanelRequest(req, this.panels);
      case "sniff":
      case "lines-index":
      case "lines":
      case "lines-pick":
      case "line-text":
      case "line-at-offset":
      case "line-start":
      case "follow":
      case "filter":
        return this.lines.handle(req);
      case "struct-formats":
      case "struct-parse":
        return handleStructRequest(req, { doc: (docId) => this.doc(docId), job: (docId, op, work) => this.job(docId, op, work) });
      case "strings":
        return handleStringsRequest(req, { doc: (docId) => this.doc(docId), job: (docId, op, work) => this.job(docId, op, work), deliver: (event) => this.deliver(event) });
      default:
        return this.dispatchEdit(req);
    }
  }
}

/**
 * A Uint8Array that owns exactly its bytes. Node pools small Buffers in a shared ArrayBuffer,
 * and structured clone (Electron IPC) sends a view's whole ArrayBuffer: never leak the rest.
 */
function ownedBytes(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    // A plain Uint8Array over the same memory (no copy): IPC clones it as bytes, not a Buffer.
    return buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  const out = new Uint8Array(buf.byteLength);
  out.set(buf);
  return out;
}

/**
 * What a job that failed reports. Once its signal was aborted, the failure the abort caused —
 * ECANCELED at a chunk boundary, or EBADDOC/ECHANGED from a read of the document closed under it —
 * is reported as the abort's reason (ECANCELED for a cancel or a gone client, EBADDOC for a closed
 * document), so the outcome does not depend on where the job was. Other errors are kept.
 */
function abortOutcome(signal: AbortSignal, err: unknown): unknown {
  if (!signal.aborted) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "ECANCELED" && code !== "EBADDOC" && code !== "ECHANGED") return err;
  return signal.reason instanceof HexmapError ? signal.reason : new HexmapError("ECANCELED", "The job was cancelled");
}

export function toProtocolError(err: unknown): ProtocolError {
  const e = toHexmapError(err, { op: "handle the request" });
  return { code: e.code, message: e.message };
}

/** A named section cannot change size: ENOTSUP, in a sentence. */
function fixedSize(name: string): HexmapError {
  return new HexmapError(
    "ENOTSUP",
    `Shared memory ${name} has a fixed size: bytes can be overwritten but not inserted or deleted (open a file, or create a larger section, to change the size)`,
  );
}
