// The log view behind the Service (app/protocol/lines.ts): one LineDoc per document this client
// shows as lines — its own read-only Document on the file (the hex view's editable document is
// swapped on reloads; lines never show unsaved edits), a sparse LineIndex over it, an optional
// Follower, and a generation that bumps when the file is rotated or the index is rebuilt for
// another newline width. Index builds and filters are detached jobs of the Service (cancel,
// job-done); filters run on a worker thread (line-filter.ts).

import { Document } from "./document";
import { isEditable } from "./edit-service";
import { HexmapError } from "./errors";
import { Follower, type FollowEvent } from "./follow";
import { compileFilterRegex, runFilter } from "./line-filter";
import { LineIndex, newlineUnit, sniffText, SNIFF_BYTES, type TextEncoding } from "./line-index";
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
}

type LinesRequest = Extract<
  Request,
  { type: "sniff" | "lines-index" | "lines" | "lines-pick" | "line-text" | "line-at-offset" | "line-start" | "follow" | "filter" }
>;

const FILTER_HITS_EVERY_MS = 100;

class LineDoc {
  index: LineIndex;
  generation = 1;
  follower: Follower | null = null;
  /** How lines are decoded unless a request says (latin1 over a utf-8 index, or the index's own). */
  display: TextEncoding | null = null;
  closed = false;

  constructor(
    readonly docId: string,
    readonly path: string,
    encoding: TextEncoding | "auto",
  ) {
    const doc = Document.openFile(path, { readOnly: true });
    try {
      this.index = new LineIndex(doc, { encoding });
    } catch (err) {
      doc.close();
      throw err;
    }
  }

  get document(): Document {
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
      encoding: this.encoding,
      lineCount: p.lines,
      newlineCount: p.newlines,
      indexedBytes: p.indexedBytes,
      size: p.size,
      complete: p.complete,
      building: p.building,
      following: this.follower !== null,
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

  constructor(
    private readonly ctx: LinesContext,
    options: LinesServiceOptions = {},
  ) {
    this.followIntervalMs = options.followIntervalMs ?? 250;
    this.lineTimeoutMs = options.filterLineTimeoutMs ?? FILTER_LINE_TIMEOUT_MS;
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

  /** The line document of a file this client holds (created on first use). */
  private lineDoc(docId: string, encoding?: TextEncoding | "auto"): LineDoc {
    const doc = this.ctx.doc(docId);
    const existing = this.docs.get(docId);
    if (existing) return existing;
    if (doc.kind !== "file" || !(isEditable(doc) || doc instanceof Document)) {
      throw new HexmapError("ENOTSUP", `${doc.name} cannot be shown as lines (only files can)`);
    }
    const ld = new LineDoc(docId, doc.name, encoding ?? "auto");
    this.docs.set(docId, ld);
    return ld;
  }

  async handle(req: LinesRequest): Promise<ResultMap[LinesRequest["type"]]> {
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
        const ld = this.lineDoc(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const lines = await getLines(ld.document, ld.index, req.from, req.count, { maxLineBytes: req.maxLineBytes ?? 4096, encoding });
        return this.linesResult(ld, lines);
      }
      case "lines-pick": {
        const ld = this.lineDoc(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const opts = { maxLineBytes: req.maxLineBytes ?? 4096, encoding };
        const out: LineInfo[] = [];
        // Runs of consecutive numbers are one lookup each.
        let i = 0;
        const nums = req.numbers;
        while (i < nums.length) {
          let j = i + 1;
          while (j < nums.length && nums[j] === nums[j - 1]! + 1 && j - i < 1000) j++;
          out.push(...(await getLines(ld.document, ld.index, nums[i]!, j - i, opts)));
          i = j;
        }
        return this.linesResult(ld, out);
      }
      case "line-text": {
        const ld = this.lineDoc(req.docId);
        const encoding = ld.decodeAs(req.encoding);
        const opts: { offset?: number; length?: number; encoding?: TextEncoding } = encoding ? { encoding } : {};
        if (req.offset !== undefined) opts.offset = req.offset;
        if (req.length !== undefined) opts.length = req.length;
        const s = await getLineText(ld.document, ld.index, req.line, opts);
        return { docId: req.docId, generation: ld.generation, ...s };
      }
      case "line-at-offset": {
        const ld = this.lineDoc(req.docId);
        const size = ld.document.size;
        if (req.offset > size) throw new HexmapError("ERANGE", `Offset ${req.offset} is past the end of ${ld.path} (size ${size})`);
        return { docId: req.docId, generation: ld.generation, offset: req.offset, line: await ld.index.lineAtOffset(req.offset) };
      }
      case "line-start": {
        const ld = this.lineDoc(req.docId);
        return { docId: req.docId, generation: ld.generation, line: req.line, offset: await ld.index.lineStart(req.line) };
      }
      case "follow": {
        const ld = this.lineDoc(req.docId);
        if (req.on) this.startFollow(ld);
        else {
          ld.follower?.detach();
          ld.follower = null;
        }
        return ld.state();
      }
      case "filter":
        return this.startFilter(req);
    }
  }

  private linesResult(ld: LineDoc, lines: LineInfo[]): LinesResult {
    return { ...ld.state(), lines };
  }

  // ---- index ------------------------------------------------------------------------------------

  private startIndex(docId: string, encoding: TextEncoding | "auto"): { jobId: string; generation: number } {
    let ld = this.docs.get(docId);
    if (!ld) ld = this.lineDoc(docId, encoding === "latin1" ? "utf-8" : encoding);
    else if (encoding !== "auto" && newlineUnit(encoding) !== ld.index.unit) this.rebuild(ld, encoding);
    ld.display = encoding === "auto" ? null : encoding;
    const target = ld;
    const { jobId } = this.ctx.detachedJob(docId, "lines-index", async (jobId, signal) => {
      const index = target.index;
      const off = index.onProgress(() => {
        if (!target.closed) this.ctx.deliver({ event: "index-progress", jobId, ...target.state() });
      });
      const onAbort = () => index.cancel();
      signal.addEventListener("abort", onAbort);
      try {
        this.ctx.deliver({ event: "index-progress", jobId, ...target.state() });
        const p = await index.build();
        const done: LinesIndexDone = { ...target.state(), canceled: p.canceled || signal.aborted };
        return done;
      } finally {
        off();
        signal.removeEventListener("abort", onAbort);
      }
    });
    return { jobId, generation: ld.generation };
  }

  /** A new index with another newline width (UTF-16 ↔ 8-bit): the lines are not the same lines. */
  private rebuild(ld: LineDoc, encoding: TextEncoding): void {
    const following = ld.follower !== null;
    ld.follower?.detach();
    ld.follower = null;
    const doc = ld.index.document;
    const next = new LineIndex(doc, { encoding });
    ld.index.close();
    ld.index = next;
    ld.generation++;
    if (following) this.startFollow(ld);
  }

  // ---- follow -----------------------------------------------------------------------------------

  private startFollow(ld: LineDoc): void {
    if (ld.follower) return;
    const f = Follower.adopt(ld.path, ld.index.document, ld.index, { intervalMs: this.followIntervalMs });
    ld.follower = f;
    f.on((e: FollowEvent) => {
      if (ld.closed || ld.follower !== f) return;
      if (e.kind === "rotated") {
        ld.generation++;
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

  // ---- filter -----------------------------------------------------------------------------------

  private startFilter(req: Extract<LinesRequest, { type: "filter" }>): { jobId: string; generation: number } {
    const flags = req.flags ?? "";
    compileFilterRegex(req.regex, flags); // EINVAL in the reply, before any job
    const ld = this.lineDoc(req.docId);
    if (ld.index.indexedBytes > 0) ld.decodeAs(req.encoding); // EINVAL in the reply when the encoding is known already
    const generation = ld.generation;
    const from = req.from ?? 1;
    const maxMatches = req.maxMatches ?? MAX_FILTER_MATCHES;
    const { jobId } = this.ctx.detachedJob(req.docId, "filter", async (jobId, signal) => {
      const start = await ld.index.lineStart(from);
      const encoding = ld.decodeAs(req.encoding) ?? ld.index.encoding;
      const end = ld.document.size;
      const base: Omit<FilterDone, "matches" | "canceled" | "complete" | "lastLine" | "scannedBytes" | "cappedLines" | "skipped"> = { from, generation };
      if (start === null) {
        return { ...base, matches: 0, canceled: false, complete: true, lastLine: from - 1, scannedBytes: 0, cappedLines: 0, skipped: [] };
      }
      let pending: number[] = [];
      let lastFlush = 0;
      const flush = () => {
        if (pending.length === 0) return;
        this.ctx.deliver({ event: "filter-hits", jobId, docId: req.docId, generation, lines: pending });
        pending = [];
        lastFlush = Date.now();
      };
      let lastProgress = 0;
      const out = await runFilter({
        path: ld.path,
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
