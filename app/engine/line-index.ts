// LineIndex: a sparse index of line starts over a Document, for the line view of huge text files.
//
// The addon counts newlines on worker threads over mapped windows (native countLines) and reports
// the offset of every K-th newline (K = sampleEvery, 1024 by default). Only those samples are
// kept: sample j (1-based) is the offset of newline number j*K, so line j*K + 1 (1-based) starts
// right after it. A 20 GB log of 200 M lines keeps ~195 k samples, 1.6 MB. Any line is found by
// starting at the nearest sample at or before it and skipping at most K-1 newlines: in JS over a
// few reads for normal lines, with native counts (bisecting the range) when those K lines are
// long, so the cost stays at memory speed even for a file of 4 GiB without a newline.
//
// The index is usable while it builds: samples arrive in increasing order, lookups work from the
// last one, `newlineCount` is a lower bound until `complete`. Indexing is resumable: after a
// cancel, or when the file grew, build()/extend() index only [indexedBytes, size). A tail that
// did not end in a newline needs no special case: the index counts newlines, not lines.
//
// Definitions (the same as `wc -l`): `newlineCount` is the number of newline characters;
// `lineCount` (for display) adds one for a last line without a newline. An empty file has 0.
//
// Encodings: UTF-8 (default) and Latin-1 search 0x0A bytes; UTF-16LE/BE (detected by their BOM,
// or chosen) search the 2-byte unit U+000A at even offsets, so a 0x0A byte inside another
// character never counts. Line 1 starts at offset 0 (a BOM is part of line 1's bytes; the
// decoder in lines.ts drops it from the text).
//
// Edited documents: rebase(view, keepBefore) makes the index read a frozen snapshot of the edited
// document (Editor.snapshot(): pieces of the saved file and added bytes) instead of the file.
// Offsets, samples and counts are then in document (edited) coordinates. A range is split into
// segments: the long file pieces are counted natively in the file's own coordinates (the shift
// between document and file offset is the piece's), everything else — added bytes, fills, short
// file pieces and the UTF-16 unit that straddles a piece boundary — in JS over reads through the
// snapshot. Segment edges sit on even document offsets for UTF-16 (the addon counts units at
// from, from+2, …, so a file piece at an odd shift is still counted natively), and the sample
// phase (every K-th newline) carries across segments. Samples before `keepBefore` (bytes that did
// not change) stay; the next build() indexes only from the last of them.

import type { NativeAddon, NativeJob, NativeScanner, NativeSource } from "../../native/index";
import type { Document } from "./document";
import { HexmapError, toHexmapError } from "./errors";
import { pieceLength, type Slice } from "./piece-table";
import { openDocumentScanner } from "./search";

/**
 * What an index reads instead of its document's file: a frozen version of an edited document
 * (an Editor Snapshot). Its file pieces are bytes of the file the index's document opened.
 */
export interface LineSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Pieces in [start, end), clipped, with their document offsets. */
  slices(start: number, end: number): Slice[];
}

/** What lines are read from: the index itself (through its source), or a Document. */
export interface LineReader {
  readonly size: number;
  readonly name: string;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export type TextEncoding = "utf-8" | "utf-16le" | "utf-16be" | "latin1";
export const TEXT_ENCODINGS: readonly TextEncoding[] = ["utf-8", "utf-16le", "utf-16be", "latin1"];

export const DEFAULT_SAMPLE_EVERY = 1024;
/** Bytes a lookup scans in JS (a few reads) before it hands the rest to native scans. */
const DEFAULT_JS_SCAN_LIMIT = 1024 * 1024;
const JS_CHUNK = 256 * 1024;
/** File pieces of an edited document at least this long are counted natively; shorter ones in JS. */
export const NATIVE_MIN_PIECE = 256 * 1024;
/** A build over an edited document plans its segments this many bytes at a time. */
const BUILD_WINDOW = 256 * 1024 * 1024;
/** A JS segment of a build is read in parts of this size (progress and cancel between them). */
const JS_BUILD_CHUNK = 1024 * 1024;

/** A run of the document to count: natively in the file (file offset = document offset - shift), or in JS through the source. */
type Segment = { native: true; from: number; to: number; shift: number } | { native: false; from: number; to: number };

export function isTextEncoding(value: unknown): value is TextEncoding {
  return typeof value === "string" && (TEXT_ENCODINGS as readonly string[]).includes(value);
}

/** Bytes per newline: 2 for UTF-16, else 1. */
export function newlineUnit(encoding: TextEncoding): 1 | 2 {
  return encoding === "utf-16le" || encoding === "utf-16be" ? 2 : 1;
}

/** The encoding announced by a byte-order mark at the start of `head`, and the mark's length. */
export function detectBom(head: Uint8Array): { encoding: TextEncoding; bomLength: number } | null {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: "utf-8", bomLength: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: "utf-16le", bomLength: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: "utf-16be", bomLength: 2 };
  return null;
}

export interface TextSniff {
  /** True when the bytes look like text: the line view is the better default. */
  text: boolean;
  encoding: TextEncoding;
  bomLength: number;
  /** Why, in a few words (for logs and tests). */
  reason: string;
}

/** Bytes the text/binary detection looks at. */
export const SNIFF_BYTES = 8192;

/**
 * Text or binary, from the first bytes of a file. A BOM decides (UTF-8/UTF-16). Otherwise a NUL
 * byte means binary; valid UTF-8 (allowing a sequence cut at the end of `head`) with few control
 * characters is UTF-8 text; bytes that are not UTF-8 but have few C0 controls are Latin-1 text.
 * "Few" is at most 1 in 32 of the bytes being a control other than tab, CR, LF, FF, VT, ESC.
 * An empty file counts as (UTF-8) text.
 */
export function sniffText(head: Uint8Array): TextSniff {
  const bom = detectBom(head);
  if (bom) return { text: true, encoding: bom.encoding, bomLength: bom.bomLength, reason: `${bom.encoding} byte-order mark` };
  if (head.length === 0) return { text: true, encoding: "utf-8", bomLength: 0, reason: "empty" };
  let controls = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) return { text: false, encoding: "utf-8", bomLength: 0, reason: `NUL byte at offset ${i}` };
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x0b && b !== 0x1b) || b === 0x7f) controls++;
  }
  if (controls * 32 > head.length) return { text: false, encoding: "utf-8", bomLength: 0, reason: `${controls} control bytes in ${head.length}` };
  if (isUtf8Prefix(head)) return { text: true, encoding: "utf-8", bomLength: 0, reason: "valid UTF-8" };
  return { text: true, encoding: "latin1", bomLength: 0, reason: "not UTF-8, few control bytes" };
}

/** Valid UTF-8, except that the last (up to 3) bytes may be the start of a cut sequence. */
function isUtf8Prefix(bytes: Uint8Array): boolean {
  let cut = bytes.length;
  // Back off an incomplete final sequence: at most 3 bytes, ending at a lead byte.
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation: keep looking for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need > back) cut = bytes.length - back;
    break;
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, cut));
    return true;
  } catch {
    return false;
  }
}

/** sniffText() over the first SNIFF_BYTES of a document. */
export async function sniffDocument(doc: Document, bytes = SNIFF_BYTES): Promise<TextSniff> {
  return sniffText(await doc.read(0, Math.min(bytes, doc.size)));
}

export interface LineIndexOptions {
  /** K: keep the offset of every K-th newline. Default 1024. */
  sampleEvery?: number;
  /** "auto" (default): a UTF-16 BOM selects UTF-16, anything else UTF-8. */
  encoding?: TextEncoding | "auto";
  /** The addon (tests may inject one). Default loadNative(). */
  native?: NativeAddon;
  /** Scan tuning (see ScanTuning in native/index.ts); for tests and benchmarks. */
  threads?: number;
  windowSize?: number;
  chunkSize?: number;
  /** Bytes a lookup scans in JS before switching to native scans. Default 1 MiB (tests go lower). */
  jsScanLimit?: number;
  /** Edited documents: file pieces at least this long are counted natively. Default NATIVE_MIN_PIECE (tests go lower). */
  nativeMinPiece?: number;
}

export interface IndexProgress {
  /** End of the indexed prefix: bytes [0, indexedBytes) are scanned (while building: so far). */
  indexedBytes: number;
  /** Size of the document the index is built to. */
  size: number;
  /** Newlines in the indexed prefix: exact when complete, a lower bound while building. */
  newlines: number;
  /** Lines for display (see LineIndex.lineCount), with the same caveat. */
  lines: number;
  complete: boolean;
  building: boolean;
  /** The last build stopped because of cancel() (build()/extend() resume it). */
  canceled: boolean;
}

export type IndexProgressListener = (progress: IndexProgress) => void;

/** A sorted, growable list of sample offsets (8 bytes each). */
class Samples {
  private data = new Float64Array(64);
  length = 0;
  push(offset: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = offset;
  }
  at(i: number): number {
    return this.data[i]!;
  }
  /** Keeps the first n samples. */
  truncate(n: number): void {
    if (n < this.length) this.length = Math.max(0, n);
  }
  /** Number of samples <= value. */
  countAtMost(value: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.data[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  clear(): void {
    this.data = new Float64Array(64);
    this.length = 0;
  }
  get bytes(): number {
    return this.data.byteLength;
  }
}

interface SkipResult {
  /** Offset of the k-th newline found, or -1. */
  offset: number;
  /** Newlines seen (k when found). */
  seen: number;
}

export class LineIndex {
  readonly sampleEvery: number;
  private doc: Document;
  private readonly requestedEncoding: TextEncoding | "auto";
  private enc: TextEncoding | undefined;
  private readonly native: NativeAddon | undefined;
  private readonly tuning: { threads?: number; windowSize?: number; chunkSize?: number };
  private readonly jsLimit: number;
  private readonly nativeMin: number;
  private scanner: (NativeSource & NativeScanner) | undefined;

  private readonly samples = new Samples();
  /** The edited document this index reads (null: the document's file itself). */
  private view: LineSource | null = null;
  /** Committed state: exact newline count of [0, indexed). Invariant: samples.length == floor(newlines / K). */
  private indexed = 0;
  private newlines = 0;
  /** End of the bytes scanned by the running build (>= indexed). */
  private frontier = 0;
  private running: Promise<IndexProgress> | undefined;
  private job: NativeJob<unknown> | undefined;
  private cancelRequested = false;
  private wasCanceled = false;
  /** Bumps on reset(): a build started before it drops its results. */
  private epoch = 0;
  private readonly listeners = new Set<IndexProgressListener>();
  private isClosed = false;

  /** Creates an empty index (nothing scanned yet: call build()). Opens a read-only scan handle on the document's file. */
  constructor(doc: Document, options: LineIndexOptions = {}) {
    const k = options.sampleEvery ?? DEFAULT_SAMPLE_EVERY;
    if (!Number.isSafeInteger(k) || k < 1) throw new HexmapError("EINVAL", `sampleEvery must be a positive integer, got ${String(k)}`);
    const encoding = options.encoding ?? "auto";
    if (encoding !== "auto" && !isTextEncoding(encoding)) {
      throw new HexmapError("EINVAL", `encoding must be one of auto, ${TEXT_ENCODINGS.join(", ")}; got ${JSON.stringify(encoding)}`);
    }
    this.sampleEvery = k;
    this.doc = doc;
    this.requestedEncoding = encoding;
    this.native = options.native;
    this.tuning = {
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    };
    this.jsLimit = Math.max(16, options.jsScanLimit ?? DEFAULT_JS_SCAN_LIMIT);
    this.nativeMin = Math.max(2, options.nativeMinPiece ?? NATIVE_MIN_PIECE);
    if (encoding !== "auto") this.enc = encoding;
    this.scanner = this.openScanner(doc);
  }

  /** Creates an index and builds it to the end of the document. */
  static async build(doc: Document, options: LineIndexOptions = {}, onProgress?: IndexProgressListener): Promise<LineIndex> {
    const index = new LineIndex(doc, options);
    const off = onProgress ? index.onProgress(onProgress) : undefined;
    try {
      await index.build();
    } finally {
      off?.();
    }
    return index;
  }

  get document(): Document {
    return this.doc;
  }

  /** The encoding lines are split and decoded with (UTF-8 until an "auto" index has looked at the BOM in build()). */
  get encoding(): TextEncoding {
    return this.enc ?? "utf-8";
  }

  get unit(): 1 | 2 {
    return newlineUnit(this.encoding);
  }

  /** End of the committed indexed prefix (newlineCount is exact for [0, indexedBytes)). */
  get indexedBytes(): number {
    return this.indexed;
  }

  get building(): boolean {
    return this.running !== undefined;
  }

  /** The whole document (as of its last size check) is indexed. */
  get complete(): boolean {
    const size = this.size;
    return !this.running && this.indexed >= this.alignDown(size) && (this.tailAt === size || size === 0);
  }

  /** Size of what the index reads: the edited document (rebase) or the document's file. */
  get size(): number {
    return this.view ? this.view.size : this.doc.size;
  }

  get name(): string {
    return this.doc.name;
  }

  /** The edited document the index reads, or null when it reads its document's file. */
  get source(): LineSource | null {
    return this.view;
  }

  /** Bytes of what the index reads (the edited document, or the file). */
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.readAt(offset, length);
  }

  /** Newline characters (wc -l). Exact when complete; while building, a lower bound. */
  get newlineCount(): number {
    return Math.max(this.newlines, this.samples.length * this.sampleEvery);
  }

  /** Lines for display: newlineCount, plus one when bytes follow the last newline. */
  get lineCount(): number {
    const n = this.newlineCount;
    if (!this.complete) return n;
    return n + (this.tailUnterminated ? 1 : 0);
  }

  /** Set by the last completed build: bytes follow the last newline. */
  private tailUnterminated = false;
  /** The size tailUnterminated was checked at (-1: not checked for this content). */
  private tailAt = -1;
  private lastEmit = 0;

  /** Samples kept and the memory they use (the index's whole per-line cost). */
  get sampleCount(): number {
    return this.samples.length;
  }
  get memoryBytes(): number {
    return this.samples.bytes;
  }

  progress(): IndexProgress {
    return {
      indexedBytes: Math.max(this.indexed, this.frontier),
      size: this.size,
      newlines: this.newlineCount,
      lines: this.lineCount,
      complete: this.complete,
      building: this.building,
      canceled: this.wasCanceled,
    };
  }

  /** Calls `listener` as the build goes (at most every ~50 ms) and when it ends. Returns an unsubscribe function. */
  onProgress(listener: IndexProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Indexes [indexedBytes, size): the whole file the first time, the rest after a cancel or a
   * growth. Resolves when done or canceled (never rejects for a cancel); rejects with a
   * HexmapError on I/O errors (EIO: the file was truncated under the scan — reset() then build()).
   * Concurrent calls share one run.
   */
  build(): Promise<IndexProgress> {
    this.assertOpen();
    if (this.running) return this.running;
    this.cancelRequested = false;
    const epoch = this.epoch;
    const run = this.run(epoch).finally(() => {
      if (this.epoch === epoch) this.running = undefined;
    });
    this.running = run;
    return run.then((p) => (this.epoch === epoch ? this.progress() : p));
  }

  /**
   * The file grew (or may have): re-reads the document's size (Document.checkSize) and indexes
   * only the new tail. A file that shrank is ECHANGED: call reset() and build() (log rotation).
   */
  async extend(): Promise<IndexProgress> {
    this.assertOpen();
    if (this.view) return this.build(); // a snapshot does not grow
    const { size } = this.doc.checkSize();
    if (size < this.indexed) {
      throw new HexmapError("ECHANGED", `${this.doc.name} shrank from ${this.indexed} to ${size} bytes; the line index must be rebuilt`);
    }
    if (this.running) await this.running.catch(() => undefined);
    return this.build();
  }

  /** Stops the running build within one chunk; its promise resolves with canceled: true. The indexed prefix stays usable. */
  cancel(): void {
    if (!this.running) return;
    this.cancelRequested = true;
    this.job?.cancel();
  }

  /**
   * Forgets everything (the file was truncated or replaced). With `doc`, the index follows that
   * document from now on (the old one is not closed here). Call build() again.
   */
  reset(doc?: Document): void {
    this.assertOpen();
    this.epoch++;
    this.job?.cancel();
    this.job = undefined;
    this.running = undefined;
    this.samples.clear();
    this.indexed = 0;
    this.newlines = 0;
    this.frontier = 0;
    this.tailUnterminated = false;
    this.tailAt = -1;
    this.wasCanceled = false;
    this.view = null;
    if (this.requestedEncoding === "auto") this.enc = undefined;
    if (doc && doc !== this.doc) this.switchDocument(doc);
  }

  /**
   * The document changed: from now on the index reads `view` (a frozen snapshot of the edited
   * document whose file pieces are bytes of the index's document's file — or of `doc` when given),
   * or the file itself when `view` is null. Bytes [0, keepBefore) are the same as in what it read
   * before: samples there stay, everything after the last of them is indexed again by the next
   * build(). keepBefore = Infinity: the content did not change at all (a save: the same bytes, now
   * in the file), the whole index stays. A running build stops (its promise resolves). The
   * encoding stays as it was settled.
   */
  rebase(view: LineSource | null, keepBefore: number, doc?: Document): void {
    this.assertOpen();
    if (!(keepBefore >= 0)) throw new HexmapError("EINVAL", `keepBefore must be a non-negative number, got ${String(keepBefore)}`);
    this.epoch++;
    this.job?.cancel();
    this.job = undefined;
    this.running = undefined;
    this.cancelRequested = false;
    this.wasCanceled = false;
    if (doc && doc !== this.doc) this.switchDocument(doc);
    this.view = view;
    if (keepBefore === Infinity) {
      this.frontier = this.indexed;
      return;
    }
    this.tailAt = -1;
    const keep = Math.min(keepBefore, this.size);
    if (this.indexed > keep) {
      // Samples of newlines that end by `keep` stay; counting resumes right after the last one.
      const j = this.samples.countAtMost(keep - this.unit);
      this.samples.truncate(j);
      this.newlines = j * this.sampleEvery;
      this.indexed = j === 0 ? 0 : this.samples.at(j - 1) + this.unit;
    }
    this.frontier = this.indexed;
  }

  /** Cancels a build and closes the scan handle (not the document). */
  close(): void {
    if (this.isClosed) return;
    this.cancel();
    this.epoch++;
    this.isClosed = true;
    this.listeners.clear();
    this.scanner?.close();
    this.scanner = undefined;
  }

  // ---- lookups ---------------------------------------------------------------------------------

  /**
   * Byte offset where line n (1-based) starts, or null when there is no such line (past the end;
   * an empty "line" after a final newline does not count). Works before and while the index is
   * built: it scans from the nearest sample, at memory speed.
   */
  async lineStart(n: number): Promise<number | null> {
    this.assertOpen();
    if (!Number.isSafeInteger(n) || n < 1) throw new HexmapError("EINVAL", `A line number must be a positive integer, got ${String(n)}`);
    await this.ensureEncoding();
    const size = this.size;
    if (n === 1) return size > 0 ? 0 : null;
    if (this.complete && n > this.lineCount) return null;
    const k = this.sampleEvery;
    const j = Math.min(Math.floor((n - 1) / k), this.samples.length);
    const base = j * k + 1;
    const from = j === 0 ? 0 : this.samples.at(j - 1) + this.unit;
    if (n === base) return from < size ? from : null;
    const r = await this.skipNewlines(from, n - base, this.alignDown(size));
    if (r.offset < 0) return null;
    const start = r.offset + this.unit;
    return start < size ? start : null;
  }

  /**
   * Offset just past the `lines`-th newline at or after `offset` (the start of the line
   * `lines` lines further), or the document's size when there are fewer.
   */
  async advance(offset: number, lines: number): Promise<number> {
    this.assertOpen();
    await this.ensureEncoding();
    const size = this.size;
    if (lines <= 0) return offset;
    const r = await this.skipNewlines(this.alignUp(offset), lines, this.alignDown(size));
    return r.offset < 0 ? size : Math.min(size, r.offset + this.unit);
  }

  /** Line number (1-based) of the byte at `offset` (offset == size: the last line). */
  async lineAtOffset(offset: number): Promise<number> {
    this.assertOpen();
    const size = this.size;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
      throw new HexmapError("ERANGE", `Offset ${String(offset)} is outside ${this.doc.name} (size ${size})`);
    }
    await this.ensureEncoding();
    const unit = this.unit;
    const j = this.samples.countAtMost(offset - unit);
    const line = j * this.sampleEvery + 1;
    const from = j === 0 ? 0 : this.samples.at(j - 1) + unit;
    const to = this.alignDown(offset);
    const found = line + (to > from ? await this.countRange(from, to) : 0);
    if (offset === size && size > 0 && this.complete) return Math.max(1, Math.min(found, this.lineCount));
    return found;
  }

  /** Offset of the first newline at or after `from` (aligned for UTF-16) before `to` (default: the size), or -1. */
  async findNewline(from: number, to = this.size): Promise<number> {
    this.assertOpen();
    await this.ensureEncoding();
    const start = this.alignUp(from);
    const end = this.alignDown(Math.min(to, this.size));
    if (start >= end) return -1;
    // A complete index without any newline answers at once (a 4 GiB file of zeros).
    if (this.complete && this.newlineCount === 0) return -1;
    const r = await this.skipNewlines(start, 1, end);
    return r.offset;
  }

  /** Counts all newlines of the document (threads, no samples); does not change the index. See countDocumentNewlines(). */
  async countAll(options: CountNewlinesOptions = {}): Promise<{ newlines: number; encoding: TextEncoding; canceled: boolean }> {
    this.assertOpen();
    await this.ensureEncoding();
    const end = this.alignDown(this.size);
    if (end === 0) return { newlines: 0, encoding: this.encoding, canceled: false };
    if (options.signal?.aborted) return { newlines: 0, encoding: this.encoding, canceled: true };
    if (this.view) return this.countAllSegments(end, options);
    const tuning = {
      ...this.countOptions(),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    };
    let job: NativeJob<{ newlines: number; canceled: boolean }>;
    try {
      job = this.scan.countLines({ from: 0, to: end, ...tuning, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    } catch (err) {
      throw toHexmapError(err, { path: this.doc.name, op: "count the lines of" });
    }
    const abort = () => job.cancel();
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      const r = await job.promise;
      return { newlines: r.newlines, encoding: this.encoding, canceled: r.canceled };
    } catch (err) {
      throw toHexmapError(err, { path: this.doc.name, op: "count the lines of" });
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.isClosed) throw new HexmapError("EBADDOC", "The line index is closed");
  }

  private openScanner(doc: Document): NativeSource & NativeScanner {
    return openDocumentScanner(doc, this.native, { open: "open for indexing", scan: "index" });
  }

  private switchDocument(doc: Document): void {
    const next = this.openScanner(doc);
    const old = this.scanner;
    this.doc = doc;
    this.scanner = next;
    old?.close();
  }

  /** Bytes through the snapshot (edited document) or the file. */
  private readAt(offset: number, length: number): Promise<Uint8Array> {
    return this.view ? this.view.read(offset, length) : this.doc.read(offset, length);
  }

  /**
   * [from, to) (aligned) as segments in order: the file itself is one native segment; an edited
   * document's long file pieces are native segments (their units wholly inside the piece), the
   * rest — added bytes, short pieces, a unit straddling two pieces — JS segments between them.
   */
  private segments(from: number, to: number): Segment[] {
    if (from >= to) return [];
    const view = this.view;
    if (!view) return [{ native: true, from, to, shift: 0 }];
    const out: Segment[] = [];
    let js = from;
    for (const s of view.slices(from, to)) {
      if (s.piece.kind !== "file") continue;
      const a = this.alignUp(Math.max(from, s.offset));
      const b = this.alignDown(Math.min(to, s.offset + pieceLength(s.piece)));
      if (b - a < this.nativeMin) continue;
      if (a > js) out.push({ native: false, from: js, to: a });
      out.push({ native: true, from: a, to: b, shift: s.offset - s.piece.start });
      js = b;
    }
    if (to > js) out.push({ native: false, from: js, to });
    return out;
  }

  private async countAllSegments(end: number, options: CountNewlinesOptions): Promise<{ newlines: number; encoding: TextEncoding; canceled: boolean }> {
    const tuning = {
      ...this.countOptions(),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
      ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    };
    let newlines = 0;
    let done = 0;
    for (const seg of this.segments(0, end)) {
      if (options.signal?.aborted) return { newlines, encoding: this.encoding, canceled: true };
      if (seg.native) {
        const base = done;
        let job: NativeJob<{ newlines: number; canceled: boolean }>;
        try {
          job = this.scan.countLines({
            from: seg.from - seg.shift,
            to: seg.to - seg.shift,
            ...tuning,
            ...(options.onProgress ? { onProgress: (scanned: number) => options.onProgress!(base + scanned, end) } : {}),
          });
        } catch (err) {
          throw toHexmapError(err, { path: this.doc.name, op: "count the lines of" });
        }
        const abort = () => job.cancel();
        options.signal?.addEventListener("abort", abort, { once: true });
        try {
          const r = await job.promise;
          newlines += r.newlines;
          if (r.canceled) return { newlines, encoding: this.encoding, canceled: true };
        } catch (err) {
          throw toHexmapError(err, { path: this.doc.name, op: "count the lines of" });
        } finally {
          options.signal?.removeEventListener("abort", abort);
        }
      } else newlines += (await this.scanJs(seg.from, seg.to, Infinity)).seen;
      done += seg.to - seg.from;
      options.onProgress?.(done, end);
    }
    return { newlines, encoding: this.encoding, canceled: false };
  }

  private get scan(): NativeSource & NativeScanner {
    if (!this.scanner) throw new HexmapError("EBADDOC", "The line index is closed");
    return this.scanner;
  }

  private alignDown(x: number): number {
    return this.unit === 2 ? x - (x % 2) : x;
  }
  private alignUp(x: number): number {
    return this.unit === 2 ? x + (x % 2) : x;
  }

  private async ensureEncoding(): Promise<void> {
    if (this.enc !== undefined) return;
    const head = await this.readAt(0, Math.min(4, this.size));
    const bom = detectBom(head);
    this.enc = bom && bom.encoding !== "utf-8" ? bom.encoding : "utf-8";
  }

  private emit(): void {
    this.lastEmit = Date.now();
    if (this.listeners.size === 0) return;
    const p = this.progress();
    for (const l of this.listeners) l(p);
  }

  private countOptions() {
    const enc = this.encoding;
    return { unit: newlineUnit(enc), bigEndian: enc === "utf-16be", ...this.tuning };
  }

  /** Runs one native job, tracked so cancel() reaches it. */
  private async runJob<T>(job: NativeJob<T>): Promise<T> {
    this.job = job as NativeJob<unknown>;
    if (this.cancelRequested) job.cancel();
    try {
      return await job.promise;
    } finally {
      if (this.job === (job as NativeJob<unknown>)) this.job = undefined;
    }
  }

  private async run(epoch: number): Promise<IndexProgress> {
    try {
      await this.ensureEncoding();
      // Loop: the document may have grown (extend()) while a pass ran.
      for (;;) {
        if (this.epoch !== epoch) return this.progress();
        const end = this.alignDown(this.size);
        if (this.indexed >= end) break;
        this.wasCanceled = false;
        if (this.cancelRequested) {
          this.wasCanceled = true;
          break;
        }
        // An edited document is planned a window at a time (its pieces may be many).
        const until = this.view ? this.alignDown(Math.min(end, this.indexed + BUILD_WINDOW)) : end;
        for (const seg of this.segments(this.indexed, until)) {
          const more = seg.native ? await this.indexNative(seg, epoch) : await this.indexJs(seg, epoch);
          if (this.epoch !== epoch) return this.progress();
          if (!more) {
            this.wasCanceled = true;
            break;
          }
        }
        if (this.wasCanceled) break;
      }
      if (this.epoch !== epoch) return this.progress();
      if (!this.wasCanceled) await this.checkTail(epoch);
      if (this.epoch !== epoch) return this.progress();
      this.running = undefined; // so that progress() below reports complete
      this.emit();
      return this.progress();
    } catch (err) {
      if (this.epoch !== epoch) return this.progress();
      throw toHexmapError(err, { path: this.doc.name, op: "index the lines of" });
    }
  }

  /** Indexes a native segment starting at `indexed`. False when canceled. */
  private async indexNative(seg: Extract<Segment, { native: true }>, epoch: number): Promise<boolean> {
    const k = this.sampleEvery;
    this.frontier = this.indexed;
    let from = seg.from;
    const r = this.newlines % k;
    if (r !== 0) {
      // Mid-block: find the next sample's newline first so that the native pass starts on a
      // multiple of K and its samples are global ones.
      const s = await this.skipNewlines(from, k - r, seg.to, true);
      if (this.epoch !== epoch) return true;
      if (s.offset < 0) {
        if (this.cancelRequested) return false;
        this.newlines += s.seen;
        this.indexed = seg.to;
        return true;
      }
      this.samples.push(s.offset);
      this.newlines += k - r;
      from = s.offset + this.unit;
      this.indexed = from;
      if (from >= seg.to) return true;
    }
    if (this.cancelRequested) return false;
    const start = from;
    const shift = seg.shift;
    const job = this.scan.countLines({
      from: start - shift,
      to: seg.to - shift,
      sampleEvery: k,
      ...this.countOptions(),
      onSamples: (offsets) => {
        if (this.epoch !== epoch) return;
        for (let i = 0; i < offsets.length; i++) this.samples.push(offsets[i]! + shift);
      },
      onProgress: (scanned) => {
        if (this.epoch !== epoch) return;
        this.frontier = start + scanned;
        this.emit();
      },
    });
    const res = await this.runJob(job);
    if (this.epoch !== epoch) return true;
    this.newlines += res.newlines;
    if (res.samples) for (let i = 0; i < res.samples.length; i++) this.samples.push(res.samples[i]! + shift);
    this.indexed = res.canceled ? this.alignDown(start + res.scanned) : seg.to;
    this.frontier = this.indexed;
    return !res.canceled;
  }

  /** Indexes a JS segment (added bytes, short pieces) starting at `indexed`, read through the source. False when canceled. */
  private async indexJs(seg: Extract<Segment, { native: false }>, epoch: number): Promise<boolean> {
    const k = this.sampleEvery;
    const unit = this.unit;
    for (let pos = seg.from; pos < seg.to; ) {
      if (this.cancelRequested) return false;
      const buf = await this.readAt(pos, Math.min(JS_BUILD_CHUNK, seg.to - pos));
      if (this.epoch !== epoch) return true;
      if (buf.length === 0) throw new HexmapError("ECHANGED", `${this.doc.name} changed while its lines were being counted`);
      const n = unit === 2 ? buf.length - (buf.length % 2) : buf.length;
      forEachNewline(buf, n, this.encoding, (i) => {
        this.newlines++;
        if (this.newlines % k === 0) this.samples.push(pos + i);
      });
      pos += n;
      this.indexed = pos;
      this.frontier = pos;
      if (Date.now() - this.lastEmit >= 50) this.emit();
      if (n === 0) throw new HexmapError("ECHANGED", `${this.doc.name} changed while its lines were being counted`);
    }
    return true;
  }

  /** Whether bytes follow the last newline (the last line has no newline of its own). */
  private async checkTail(epoch: number): Promise<void> {
    const size = this.size;
    const unit = this.unit;
    let unterminated = false;
    if (size > 0) {
      if (size % unit !== 0 || size < unit) unterminated = true;
      else {
        const last = await this.readAt(size - unit, unit);
        unterminated = !this.isNewlineAt(last, 0);
      }
    }
    if (this.epoch === epoch) {
      this.tailUnterminated = unterminated;
      this.tailAt = size;
    }
  }

  private isNewlineAt(buf: Uint8Array, i: number): boolean {
    const enc = this.encoding;
    if (enc === "utf-16le") return buf[i] === 0x0a && buf[i + 1] === 0x00;
    if (enc === "utf-16be") return buf[i] === 0x00 && buf[i + 1] === 0x0a;
    return buf[i] === 0x0a;
  }

  /**
   * Finds the k-th newline (k >= 1) in [from, end), `from` aligned. JS over the first jsLimit
   * bytes, then native counts over growing spans; the span holding the target is bisected with
   * counts down to jsLimit and finished in JS. With `cancelable`, stops early (offset -1) on cancel().
   */
  private async skipNewlines(from: number, k: number, end: number, cancelable = false): Promise<SkipResult> {
    let seen = 0;
    let pos = from;
    // JS phase.
    const jsEnd = Math.min(end, pos + this.jsLimit);
    if (pos < jsEnd) {
      const r = await this.scanJs(pos, jsEnd, k);
      if (r.offset >= 0) return r;
      seen += r.seen;
      pos = jsEnd;
    }
    // Native phase.
    let span = 16 * this.jsLimit;
    while (pos < end) {
      if (cancelable && this.cancelRequested) return { offset: -1, seen };
      let to = this.alignDown(Math.min(end, pos + span));
      const c = await this.countRange(pos, to);
      if (seen + c < k) {
        seen += c;
        pos = to;
        span = Math.min(span * 2, 1024 * 1024 * 1024);
        continue;
      }
      // The target is in [pos, to): bisect.
      while (to - pos > this.jsLimit) {
        const mid = this.alignDown(pos + Math.floor((to - pos) / 2));
        const c1 = await this.countRange(pos, mid);
        if (seen + c1 >= k) to = mid;
        else {
          seen += c1;
          pos = mid;
        }
      }
      const r = await this.scanJs(pos, to, k - seen);
      if (r.offset >= 0) return { offset: r.offset, seen: k };
      // Cannot happen unless the file changed under us.
      throw new HexmapError("ECHANGED", `${this.doc.name} changed while its lines were being counted`);
    }
    return { offset: -1, seen };
  }

  /** Newlines in [from, to) (both aligned): JS for short ranges, a native count otherwise. */
  private async countRange(from: number, to: number): Promise<number> {
    if (to <= from) return 0;
    if (to - from <= this.jsLimit) return (await this.scanJs(from, to, Infinity)).seen;
    let n = 0;
    for (const seg of this.segments(from, to)) {
      if (!seg.native) {
        n += (await this.scanJs(seg.from, seg.to, Infinity)).seen;
        continue;
      }
      try {
        const res = await this.scan.countLines({ from: seg.from - seg.shift, to: seg.to - seg.shift, ...this.countOptions() }).promise;
        n += res.newlines;
      } catch (err) {
        throw toHexmapError(err, { path: this.doc.name, op: "count the lines of" });
      }
    }
    return n;
  }

  /** Reads [from, to) (from aligned) in chunks and finds the k-th newline (k may be Infinity: just count). */
  private async scanJs(from: number, to: number, k: number): Promise<SkipResult> {
    let seen = 0;
    const enc = this.encoding;
    const unit = this.unit;
    for (let pos = from; pos < to; ) {
      const buf = await this.readAt(pos, Math.min(JS_CHUNK, to - pos));
      // Whole units only (to is aligned, so this drops a byte only at an odd end of the document).
      const n = unit === 2 ? buf.length - (buf.length % 2) : buf.length;
      if (n === 0) break;
      let found = -1;
      forEachNewline(buf, n, enc, (i) => {
        seen++;
        if (seen === k) {
          found = i;
          return false;
        }
        return true;
      });
      if (found >= 0) return { offset: pos + found, seen };
      pos += n;
    }
    return { offset: -1, seen };
  }
}

/**
 * Calls `each(i)` with the offset of every newline in buf[0, n) (n whole units; UTF-16: units at
 * even offsets of buf), in order, until it returns false.
 */
function forEachNewline(buf: Uint8Array, n: number, enc: TextEncoding, each: (i: number) => boolean | void): void {
  if (enc === "utf-16le" || enc === "utf-16be") {
    // The 0x0A byte sits at even offsets (LE) or odd ones (BE).
    const parity = enc === "utf-16le" ? 0 : 1;
    const other = enc === "utf-16le" ? 1 : -1;
    let i = buf.indexOf(0x0a, parity);
    while (i >= 0 && i < n) {
      if ((i & 1) === parity && buf[i + other] === 0x00) {
        if (each(i - parity) === false) return;
      }
      i = buf.indexOf(0x0a, i + 1);
    }
    return;
  }
  let i = buf.indexOf(0x0a);
  while (i >= 0 && i < n) {
    if (each(i) === false) return;
    i = buf.indexOf(0x0a, i + 1);
  }
}

/** The pieces of a document; `slices` as Snapshot.slices. */
export type PieceView = Pick<LineSource, "size" | "slices">;

/** A whole file as a piece view: one file piece [0, size). */
export function wholeFile(size: number): PieceView {
  return {
    size,
    slices: (start: number, end: number): Slice[] => (end > start ? [{ offset: start, piece: { kind: "file", start, length: end - start } }] : []),
  };
}

/** Do the two slices hold the same byte at document offset p (the same file byte, added byte or fill phase)? */
function samePieceAt(x: Slice, y: Slice, p: number): boolean {
  const a = x.piece;
  const b = y.piece;
  const dx = p - x.offset;
  const dy = p - y.offset;
  if (a.kind === "file" && b.kind === "file") return a.start + dx === b.start + dy;
  if (a.kind === "bytes" && b.kind === "bytes") return a.bytes.buffer === b.bytes.buffer && a.bytes.byteOffset + dx === b.bytes.byteOffset + dy;
  if (a.kind === "fill" && b.kind === "fill") {
    const n = a.pattern.length;
    if (n !== b.pattern.length || (a.phase + dx) % n !== (b.phase + dy) % n) return false;
    for (let i = 0; i < n; i++) if (a.pattern[i] !== b.pattern[i]) return false;
    return true;
  }
  return false;
}

/**
 * The first offset where two versions of a document may differ, from their pieces (no bytes are
 * read): runs of the same file bytes, the same added bytes (added bytes are never changed in place)
 * or the same fill are equal. Infinity when they are the same. Both must refer to the same file.
 * Costs the pieces before the difference.
 */
export function firstDifference(a: PieceView, b: PieceView): number {
  const end = Math.min(a.size, b.size);
  let pos = 0;
  for (let win = 64 * 1024; pos < end; win = Math.min(win * 4, 1024 * 1024 * 1024)) {
    const to = Math.min(end, pos + win);
    const sa = a.slices(pos, to);
    const sb = b.slices(pos, to);
    let i = 0;
    let j = 0;
    for (let p = pos; p < to; ) {
      const x = sa[i];
      const y = sb[j];
      if (!x || !y || !samePieceAt(x, y, p)) return p;
      const xe = x.offset + pieceLength(x.piece);
      const ye = y.offset + pieceLength(y.piece);
      p = Math.min(xe, ye);
      if (xe === p) i++;
      if (ye === p) j++;
    }
    pos = to;
  }
  return a.size === b.size ? Infinity : end;
}

export interface CountNewlinesOptions {
  /** "auto" (default): a UTF-16 BOM counts 2-byte units; anything else counts 0x0A bytes (wc -l). */
  encoding?: TextEncoding | "auto";
  onProgress?: (scanned: number, total: number) => void;
  signal?: AbortSignal;
  native?: NativeAddon;
  threads?: number;
  windowSize?: number;
  chunkSize?: number;
}

/**
 * Counts the newlines of a whole document (wc -l) without keeping samples: the fastest pass (the
 * addon splits it across threads). Resolves with canceled: true (and a partial count) on abort.
 */
export async function countDocumentNewlines(doc: Document, options: CountNewlinesOptions = {}): Promise<{ newlines: number; encoding: TextEncoding; canceled: boolean }> {
  const index = new LineIndex(doc, {
    ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
    ...(options.native !== undefined ? { native: options.native } : {}),
  });
  try {
    return await index.countAll(options);
  } finally {
    index.close();
  }
}
