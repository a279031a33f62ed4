// The log view behind the Service (app/protocol/lines.ts): one LineDoc per document this client
// shows as lines — a sparse LineIndex, an optional Follower, and a generation that bumps when the
// file is rotated or the index is rebuilt for another newline width. Index builds and filters are
// detached jobs of the Service (cancel, job-done); filters run on a worker thread (line-filter.ts).
//
// Lines are those of the document as the user sees it, unsaved edits included. While the
// document has no pending edits the index reads the LineDoc's own read-only Document of the file
// (what follow mode extends as the file grows); once it has, the index reads a frozen snapshot of
// the edited document (Editor.snapshot()) and counts its file pieces natively, its added bytes in
// JS. Every change of the document (an edit here or in another window, undo/redo, save, revert,
// reload, a size change on disk) reaches sync(): from the Service's document events and at the
// start of every request. sync() takes the new snapshot, finds from the pieces where it first
// differs from what the index read, rebases the index (samples before that point stay; a save
// keeps everything: the same bytes, now on disk), tells the client (`lines-changed`
// {kind: "edited"}) and lets the build job re-index from there once the edits pause. Replies carry
// the document `version` (generation) they were answered for.

import * as fs from "node:fs";
import { Document } from "./document";
import { isEditable } from "./edit-service";
import type { Editor, Snapshot } from "./editor";
import { HexmapError, toHexmapError } from "./errors";
import { Follower, type FollowEvent } from "./follow";
import { compileFilterRegex, runFilter } from "./line-filter";
import { LineIndex, firstDifference, newlineUnit, sniffText, wholeFile, SNIFF_BYTES, type TextEncoding } from "./line-index";
import { getLines, getLineText } from "./lines";
import type { ServiceDocument } from "./service";
import type { Event, JobOp, Request, ResultMap } from "../protocol/messages";
import {
  FILTER_LINE_TIMEOUT_MS,
  MAX_FILTER_LINE_BYTES,
  MAX_FILTER_MATCHES,
  type FilterDone,
  type LineIndexState,
  type LineInfo,
  type LinesDone,
  type LinesIndexDone,
  type LinesResult,
} from "../protocol/lines";

export interface LinesContext {
  /** This client's document (EBADDOC otherwise). */
  doc(docId: string): ServiceDocument;
  detachedJob(docId: string, op: JobOp, work: (jobId: string, signal: AbortSignal) => Promise<LinesDone>): { jobId: string };
  deliver(event: Event): void;
  /** The file was replaced under a followed document: reload the hex view's document if it has no edits. */
  reloadDocument(docId: string): void;
}

export interface LinesServiceOptions {
  /** Follow mode's polling interval (fs.watch notices come sooner). Default 250 ms. */
  followIntervalMs?: number;
  /** Filter: a line the regex spends longer on is skipped. Default FILTER_LINE_TIMEOUT_MS. */
  filterLineTimeoutMs?: number;
  /** After an edit, the index is rebuilt once edits have paused this long. Default 150 ms. */
  rebuildDelayMs?: number;
}

type LinesRequest = Extract<
  Request,
  { type: "sniff" | "lines-index" | "lines" | "lines-pick" | "line-text" | "line-at-offset" | "line-start" | "follow" | "filter" }
>;

/** What reached the LinesService: a request, or one of the document events of the pool. */
export type DocumentChange = "request" | "document-changed" | "size-changed" | "file-changed";

const FILTER_HITS_EVERY_MS = 100;
/** While a build reads an edited document, how often it looks whether a save started. */
const SAVE_POLL_MS = 20;

interface Identity {
  dev: number;
  ino: number;
}

function identityOf(file: string): Identity | null {
  try {
    const st = fs.statSync(file);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

function sameIdentity(a: Identity | null, b: Identity | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the index reads: the file itself, or a snapshot of the edited document. */
type Basis =
  | { kind: "file" }
  | { kind: "edited"; snap: Snapshot; editor: Editor; epochDoc: Document; contentGen: number };

class LineDoc {
  index: LineIndex;
  generation = 1;
  /** The document's generation the index reflects (NaN: not synced yet). */
  version = Number.NaN;
  basis: Basis = { kind: "file" };
  follower: Follower | null = null;
  /** The client asked to follow (a follower runs only while the document has no edits). */
  wantFollow = false;
  /** The client asked for the index: edits rebuild it (a user's cancel turns it off). */
  autoBuild = false;
  buildJob: string | null = null;
  /** When the document last changed (the rebuild waits for edits to pause). */
  lastChange = 0;
  /** Rebases so far (a build that stopped early because of one goes on). */
  rebases = 0;
  /** Identity of the file the own Document maps, and of the file the editor's Document maps. */
  ownId: Identity | null;
  edDoc: Document | null = null;
  edId: Identity | null = null;
  /** How lines are decoded unless a request says (latin1 over a utf-8 index, or the index's own). */
  display: TextEncoding | null = null;
  closed = false;

  constructor(
    readonly docId: string,
    readonly path: string,
    encoding: TextEncoding | "auto",
  ) {
    const doc = Document.openFile(path, { readOnly: true });
    this.ownId = identityOf(path);
    try {
      this.index = new LineIndex(doc, { encoding });
    } catch (err) {
      doc.close();
      throw err;
    }
  }

  /** The read-only Document of the file (the index's); what it reads is the document while it has no edits. */
  get own(): Document {
    return this.index.document;
  }

  get encoding(): TextEncoding {
    return this.display ?? this.index.encoding;
  }

  /**
   * The encoding a request asks for, checked against the index's newline width; undefined: the
   * index's own (which an "auto" index settles from the BOM on its first lookup).
   */
  decodeAs(requested: TextEncoding | undefined): TextEncoding | undefined {
    const enc = requested ?? this.display ?? undefined;
    if (enc === undefined) return undefined;
    if (newlineUnit(enc) !== this.index.unit) {
      throw new HexmapError("EINVAL", `Lines are split as ${this.index.encoding}; to show them as ${enc}, index them with that encoding first (lines-index)`);
    }
    return enc;
  }

  state(): LineIndexState {
    const p = this.index.progress();
    return {
      docId: this.docId,
      generation: this.generation,
      version: Number.isNaN(this.version) ? 0 : this.version,
      edited: this.basis.kind === "edited",
      encoding: this.encoding,
      lineCount: p.lines,
      newlineCount: p.newlines,
      indexedBytes: p.indexedBytes,
      size: p.size,
      complete: p.complete,
      building: p.building,
      following: this.wantFollow,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.follower?.detach();
    this.follower = null;
    const doc = this.index.document;
    this.index.close();
    doc.close();
  }
}

export class LinesService {
  private readonly docs = new Map<string, LineDoc>();
  private readonly followIntervalMs: number;
  private readonly lineTimeoutMs: number;
  private readonly rebuildDelayMs: number;

  constructor(
    private readonly ctx: LinesContext,
    options: LinesServiceOptions = {},
  ) {
    this.followIntervalMs = options.followIntervalMs ?? 250;
    this.lineTimeoutMs = options.filterLineTimeoutMs ?? FILTER_LINE_TIMEOUT_MS;
    this.rebuildDelayMs = options.rebuildDelayMs ?? 150;
  }

  /** The document closed (for this client): stop following, close the index. */
  drop(docId: string): void {
    const ld = this.docs.get(docId);
    if (!ld) return;
    this.docs.delete(docId);
    ld.close();
  }

  dispose(): void {
    for (const docId of [...this.docs.keys()]) this.drop(docId);
  }

  /**
   * The document changed (a pool event: an edit from any window, undo/redo, save, revert, reload,
   * a size or content change on disk): bring its line document up to date now and tell the client.
   */
  documentChanged(docId: string, change: DocumentChange): void {
    const ld = this.docs.get(docId);
    if (!ld) return;
    try {
      this.sync(ld, change);
    } catch {
      /* the next request reports it */
    }
  }

  /** The line document of a file this client holds (created on first use). */
  private lineDoc(docId: string, encoding?: TextEncoding | "auto"): LineDoc {
    const doc = this.ctx.doc(docId);
    const existing = this.docs.get(docId);
    if (existing) return existing;
    if (doc.kind !== "file" || !(isEditable(doc) || doc instanceof Document)) {
      throw new HexmapError("ENOTSUP", `${doc.name} cannot be shown as lines (only files can)`);
    }
    const ld = new LineDoc(docId, doc.name, encoding ?? "auto");
    if (isEditable(doc)) {
      ld.edDoc = doc.editor.document;
      ld.edId = ld.ownId;
    }
    this.docs.set(docId, ld);
    return ld;
  }

  /** The line document of a request, synced with the document. */
  private synced(docId: string): LineDoc {
    const ld = this.lineDoc(docId);
    this.sync(ld, "request");
    return ld;
  }

  async handle(req: LinesRequest): Promise<ResultMap[LinesRequest["type"]]> {
    // A read of a snapshot a save has just replaced is ECHANGED: wait for the save, sync, again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.handleOnce(req);
      } catch (err) {
        const code = (err as { code?: unknown } | null)?.code;
        const ld = this.docs.get(req.docId);
        if (code !== "ECHANGED" || attempt >= 2 || !ld || ld.closed || req.type === "lines-index" || req.type === "filter") throw err;
        await this.whileSaving(ld);
      }
    }
  }

  private async handleOnce(req: LinesRequest): Promise<ResultMap[LinesRequest["type"]]> {
    switch (req.type) {
      case "sniff": {
        const doc = this.ctx.doc(req.docId);
        const head = doc.size > 0 ? await doc.read(0, Math.min(SNIFF_BYTES, doc.size)) : new Uint8Array(0);
        const s = sniffText(head);
        const unit = newlineUnit(s.encoding);
        let hasNewline = false;
        for (let i = 0; i + unit <= head.length && !hasNewline; i += unit) {
          hasNewline = unit === 1 ? head[i] === 0x0a : s.encoding === "utf-16le" ? head[i] === 0x0a && head[i + 1] === 0 : head[i] === 0 && head[i + 1] === 0x0a;
        }
        return { docId: req.docId, text: s.text, encoding: s.encoding, bomLength: s.bomLength, reason: s.reason, hasNewline };
      }
      case "lines-index":
        return this.startIndex(req.docId, req.encoding ?? "auto");
      case "lines": {
        const ld = this.synced(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const index = ld.index;
        const lines = await getLines(index, index, req.from, req.count, { maxLineBytes: req.maxLineBytes ?? 4096, encoding });
        return this.linesResult(ld, lines);
      }
      case "lines-pick": {
        const ld = this.synced(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const opts = { maxLineBytes: req.maxLineBytes ?? 4096, encoding };
        const index = ld.index;
        const out: LineInfo[] = [];
        // Runs of consecutive numbers are one lookup each.
        let i = 0;
        const nums = req.numbers;
        while (i < nums.length) {
          let j = i + 1;
          while (j < nums.length && nums[j] === nums[j - 1]! + 1 && j - i < 1000) j++;
          out.push(...(await getLines(index, index, nums[i]!, j - i, opts)));
          i = j;
        }
        return this.linesResult(ld, out);
      }
      case "line-text": {
        const ld = this.synced(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const opts: { offset?: number; length?: number; encoding?: TextEncoding } = encoding ? { encoding } : {};
        if (req.offset !== undefined) opts.offset = req.offset;
        if (req.length !== undefined) opts.length = req.length;
        const version = ld.state().version;
        const s = await getLineText(ld.index, ld.index, req.line, opts);
        return { docId: req.docId, generation: ld.generation, version, ...s };
      }
      case "line-at-offset": {
        const ld = this.synced(req.docId);
        const size = ld.index.size;
        if (req.offset > size) throw new HexmapError("ERANGE", `Offset ${req.offset} is past the end of ${ld.path} (size ${size})`);
        const version = ld.state().version;
        return { docId: req.docId, generation: ld.generation, version, offset: req.offset, line: await ld.index.lineAtOffset(req.offset) };
      }
      case "line-start": {
        const ld = this.synced(req.docId);
        const version = ld.state().version;
        return { docId: req.docId, generation: ld.generation, version, line: req.line, offset: await ld.index.lineStart(req.line) };
      }
      case "follow": {
        const ld = this.synced(req.docId);
        ld.wantFollow = req.on;
        if (req.on) this.startFollow(ld);
        else this.stopFollow(ld);
        return ld.state();
      }
      case "filter":
        return this.startFilter(req);
    }
  }

  private linesResult(ld: LineDoc, lines: LineInfo[]): LinesResult {
    return { ...ld.state(), lines };
  }

  // ---- the document changed -----------------------------------------------------------------------

  /**
   * Brings the index to the document as it is now (see the header). Synchronous: a snapshot is
   * O(1), and finding the first change costs the pieces before it.
   */
  private sync(ld: LineDoc, change: DocumentChange): void {
    if (ld.closed) return;
    const svc = this.ctx.doc(ld.docId);
    const gen = svc.generation;
    if (gen === ld.version && change !== "file-changed") return;
    const first = Number.isNaN(ld.version);
    const previousVersion = ld.version;
    ld.version = gen;
    const sizeBefore = ld.index.size;
    const basis = ld.basis;
    let keep: number;
    let fresh: Document | undefined;
    if (!isEditable(svc)) {
      // A document without edits (a plain Document): only the file's own changes.
      const before = ld.own.size;
      const now = ld.own.checkSize().size;
      keep = change === "file-changed" || now < before ? 0 : Infinity;
      if (keep === 0) ld.index.rebase(null, 0);
    } else {
      const ed = svc.editor;
      // A save in place that moved bytes (the same file, rewritten inside) changed ranges the index may
      // have counted natively while they moved: nothing it holds is trusted then.
      let movedInPlace = false;
      if (ed.document !== ld.edDoc) {
        // A new Document under the editor (a save, a reload, a size change): which file is it?
        const before = ld.edId;
        ld.edDoc = ed.document;
        ld.edId = identityOf(ld.path);
        movedInPlace = sameIdentity(before, ld.edId) && ed.lastSaveStrategy === "in-place";
      }
      const snap = ed.snapshot();
      const contentGen = ed.contentGeneration;
      const sameContent = basis.kind === "edited" && basis.editor === ed && basis.contentGen === contentGen;
      const sameEpoch = basis.kind === "edited" && basis.editor === ed && basis.epochDoc === ed.document;
      const ownMatches = sameIdentity(ld.ownId, ld.edId);
      if (!ownMatches) {
        // The own Document maps an older file (the save wrote a new one, the path was replaced):
        // the index's native counts must read the file the snapshot's pieces refer to.
        fresh = Document.openFile(ld.path, { readOnly: true });
        ld.ownId = identityOf(ld.path);
      }
      if (!snap.unedited) {
        if (change === "file-changed") keep = 0;
        else if (sameContent) keep = Infinity;
        else if (sameEpoch && basis.kind === "edited") keep = firstDifference(basis.snap, snap);
        else if (basis.kind === "file" && ownMatches) keep = firstDifference(wholeFile(ld.index.size), snap);
        else keep = 0;
        ld.basis = { kind: "edited", snap, editor: ed, epochDoc: ed.document, contentGen };
        this.pauseFollow(ld);
        this.rebase(ld, snap, keep, fresh);
      } else {
        const own = fresh ?? ld.own;
        const ownBefore = own.size;
        const ownSize = own.checkSize().size;
        if (change === "file-changed" || movedInPlace) keep = 0;
        else if (basis.kind === "edited") {
          // Saved (the same bytes, now the file's), or undone / reverted to the file's bytes.
          if (sameContent) keep = ownSize === basis.snap.size ? Infinity : Math.min(ownSize, basis.snap.size);
          else if (sameEpoch) keep = Math.min(firstDifference(basis.snap, snap), ownSize);
          else keep = 0;
        } else keep = ownMatches && ownSize >= ownBefore ? Infinity : 0;
        ld.basis = { kind: "file" };
        if (basis.kind === "edited" || keep !== Infinity || fresh) {
          this.pauseFollow(ld);
          this.rebase(ld, null, keep, fresh);
        }
        if (ld.wantFollow) this.startFollow(ld);
      }
    }
    const size = ld.index.size;
    const changedFrom = keep !== Infinity ? keep : size !== sizeBefore ? Math.min(size, sizeBefore) : null;
    if (changedFrom !== null) ld.lastChange = Date.now();
    if (!first) {
      this.ctx.deliver({
        event: "lines-changed",
        kind: "edited",
        previousVersion,
        ...(changedFrom !== null ? { changedFrom } : {}),
        ...ld.state(),
      });
    }
    if (ld.autoBuild && !ld.index.complete) this.ensureBuilding(ld);
  }

  private rebase(ld: LineDoc, view: Snapshot | null, keep: number, fresh: Document | undefined): void {
    const old = ld.index.document;
    ld.index.rebase(view, keep, fresh);
    ld.rebases++;
    if (fresh && fresh !== old) old.close();
  }

  /** Resolves when the document is not being saved (or is gone). */
  private async whileSaving(ld: LineDoc, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (ld.closed || signal?.aborted) return;
      let doc: ServiceDocument;
      try {
        doc = this.ctx.doc(ld.docId);
      } catch {
        return;
      }
      if (!isEditable(doc) || !doc.busy) return;
      await delay(SAVE_POLL_MS);
    }
  }

  // ---- index ------------------------------------------------------------------------------------

  private startIndex(docId: string, encoding: TextEncoding | "auto"): { jobId: string; generation: number } {
    let ld = this.docs.get(docId);
    if (!ld) ld = this.lineDoc(docId, encoding === "latin1" ? "utf-8" : encoding);
    else if (encoding !== "auto" && newlineUnit(encoding) !== ld.index.unit) this.rebuild(ld, encoding);
    ld.display = encoding === "auto" ? null : encoding;
    ld.autoBuild = true;
    this.sync(ld, "request");
    return { jobId: this.ensureBuilding(ld), generation: ld.generation };
  }

  /** The build job of a line document: the running one, or a new one. */
  private ensureBuilding(ld: LineDoc): string {
    if (ld.buildJob) return ld.buildJob;
    const { jobId } = this.ctx.detachedJob(ld.docId, "lines-index", (id, signal) => this.buildJob(ld, id, signal));
    ld.buildJob = jobId;
    return jobId;
  }

  /**
   * One build job: builds the index to the end, going on across edits (each rebase stops the
   * build; it starts again from the kept prefix once edits pause) and saves (a build over an
   * edited document stops while a save runs, then goes on over the saved file). Ends when the
   * index is complete, or on cancel.
   */
  private async buildJob(ld: LineDoc, jobId: string, signal: AbortSignal): Promise<LinesIndexDone> {
    let index = ld.index;
    const listen = (ix: LineIndex) =>
      ix.onProgress(() => {
        if (!ld.closed) this.ctx.deliver({ event: "index-progress", jobId, ...ld.state() });
      });
    let off = listen(index);
    let canceled = false;
    const onAbort = () => {
      canceled = true;
      ld.autoBuild = false;
      ld.index.cancel();
    };
    signal.addEventListener("abort", onAbort);
    try {
      this.ctx.deliver({ event: "index-progress", jobId, ...ld.state() });
      for (let idle = 0; !ld.closed && !signal.aborted; ) {
        // Let edits pause before indexing again.
        const quiet = ld.lastChange + this.rebuildDelayMs - Date.now();
        if (quiet > 0) {
          await delay(Math.min(quiet, this.rebuildDelayMs));
          continue;
        }
        await this.whileSaving(ld, signal);
        if (ld.closed || signal.aborted) break;
        this.sync(ld, "request");
        if (ld.index !== index) {
          off();
          index = ld.index;
          off = listen(index);
        }
        const rebases = ld.rebases;
        let paused = false;
        const doc = this.ctx.doc(ld.docId);
        const watch =
          ld.basis.kind === "edited" && isEditable(doc)
            ? setInterval(() => {
                if (doc.busy) {
                  paused = true;
                  index.cancel();
                }
              }, SAVE_POLL_MS)
            : null;
        try {
          await index.build();
        } catch (err) {
          // A read of a snapshot that a save or reload replaced: sync and go on.
          if ((err as { code?: unknown }).code !== "ECHANGED" || ++idle > 20) throw err;
          await delay(SAVE_POLL_MS);
          continue;
        } finally {
          if (watch) clearInterval(watch);
        }
        if (ld.index === index && index.complete) break;
        if (signal.aborted || ld.closed) break;
        // Stopped early without a reason to go on (someone else's cancel): stop here.
        if (!paused && ld.rebases === rebases && ld.index === index) break;
      }
      const done: LinesIndexDone = { ...ld.state(), canceled: canceled || !ld.index.complete };
      return done;
    } finally {
      off();
      signal.removeEventListener("abort", onAbort);
      if (ld.buildJob === jobId) ld.buildJob = null;
    }
  }

  /** A new index with another newline width (UTF-16 ↔ 8-bit): the lines are not the same lines. */
  private rebuild(ld: LineDoc, encoding: TextEncoding): void {
    this.pauseFollow(ld);
    const doc = ld.index.document;
    const next = new LineIndex(doc, { encoding });
    if (ld.basis.kind === "edited") next.rebase(ld.basis.snap, 0);
    ld.index.close();
    ld.index = next;
    ld.generation++;
    ld.rebases++;
    if (ld.wantFollow) this.startFollow(ld);
  }

  // ---- follow -----------------------------------------------------------------------------------

  /** Follows the file while the document has no edits (an edited document is what the user made of the file). */
  private startFollow(ld: LineDoc): void {
    if (ld.follower || ld.basis.kind !== "file" || ld.closed) return;
    const f = Follower.adopt(ld.path, ld.index.document, ld.index, { intervalMs: this.followIntervalMs });
    ld.follower = f;
    f.on((e: FollowEvent) => {
      if (ld.closed || ld.follower !== f) return;
      if (e.kind === "rotated") {
        ld.generation++;
        ld.ownId = identityOf(ld.path);
        try {
          this.ctx.reloadDocument(ld.docId);
        } catch {
          /* the hex view keeps its document; the line view has the new file */
        }
        this.ctx.deliver({
          event: "lines-changed",
          kind: "rotated",
          reason: e.reason === "replaced" ? "The file was replaced (log rotation): reloaded from line 1" : "The file was truncated: reloaded from line 1",
          ...ld.state(),
        });
      } else if (e.kind === "grew") {
        this.ctx.deliver({ event: "lines-changed", kind: "grew", ...ld.state() });
      } else {
        this.ctx.deliver({ event: "lines-changed", kind: "error", message: e.message, ...ld.state() });
      }
    });
    // Catch up with what happened since the index was built.
    void f.check();
  }

  /** Stops the follower but keeps the wish (edits pause following). */
  private pauseFollow(ld: LineDoc): void {
    ld.follower?.detach();
    ld.follower = null;
  }

  private stopFollow(ld: LineDoc): void {
    ld.wantFollow = false;
    this.pauseFollow(ld);
  }

  // ---- filter -----------------------------------------------------------------------------------

  private startFilter(req: Extract<LinesRequest, { type: "filter" }>): { jobId: string; generation: number } {
    const flags = req.flags ?? "";
    compileFilterRegex(req.regex, flags); // EINVAL in the reply, before any job
    const ld = this.synced(req.docId);
    if (ld.index.indexedBytes > 0) ld.decodeAs(req.encoding); // EINVAL in the reply when the encoding is known already
    const generation = ld.generation;
    const from = req.from ?? 1;
    const maxMatches = req.maxMatches ?? MAX_FILTER_MATCHES;
    const { jobId } = this.ctx.detachedJob(req.docId, "filter", async (jobId, signal) => {
      // The document as it is when the filter starts: a frozen snapshot of an edited document
      // (read through this thread), or the file (read by the worker itself).
      await this.whileSaving(ld, signal);
      this.sync(ld, "request");
      let source = ld.index.source;
      let start = await ld.index.lineStart(from);
      for (let i = 0; ld.index.source !== source && i < 5; i++) {
        this.sync(ld, "request");
        source = ld.index.source;
        start = await ld.index.lineStart(from);
      }
      if (ld.index.source !== source) throw new HexmapError("ECHANGED", `${ld.path} keeps changing: filter it again when the edits pause`);
      const version = ld.state().version;
      const encoding = ld.decodeAs(req.encoding) ?? ld.index.encoding;
      const end = source ? source.size : ld.index.size;
      const base: Omit<FilterDone, "matches" | "canceled" | "complete" | "lastLine" | "scannedBytes" | "cappedLines" | "skipped"> = { from, generation, version };
      if (start === null) {
        return { ...base, matches: 0, canceled: false, complete: true, lastLine: from - 1, scannedBytes: 0, cappedLines: 0, skipped: [] };
      }
      let pending: number[] = [];
      let lastFlush = 0;
      const flush = () => {
        if (pending.length === 0) return;
        this.ctx.deliver({ event: "filter-hits", jobId, docId: req.docId, generation, version, lines: pending });
        pending = [];
        lastFlush = Date.now();
      };
      let lastProgress = 0;
      const out = await runFilter({
        path: ld.path,
        ...(source ? { source } : {}),
        start,
        end,
        fromLine: from,
        encoding,
        regex: req.regex,
        flags,
        maxMatches,
        capBytes: MAX_FILTER_LINE_BYTES,
        lineTimeoutMs: this.lineTimeoutMs,
        signal,
        onHits: (lines) => {
          for (const l of lines) pending.push(l);
          if (pending.length >= 10_000 || Date.now() - lastFlush >= FILTER_HITS_EVERY_MS) flush();
        },
        onProgress: (done, total) => {
          const now = Date.now();
          if (done < total && now - lastProgress < 100) return;
          lastProgress = now;
          this.ctx.deliver({ event: "job-progress", jobId, docId: req.docId, op: "filter", done, total });
        },
      });
      flush();
      return { ...base, ...out };
    });
    return { jobId, generation };
  }
}
