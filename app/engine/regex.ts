// Regular-expression search over a document of any size: the matcher under `hexmap search
// --regex`, the search bar's Regex mode and (later) replace.
//
// Engine. Patterns are parsed by regex-syntax.ts (grep -P's syntax, restricted to what runs in
// linear time) and run by V8's backtracking engine (irregexp, JIT-compiled: fast) with V8's
// linear-time engine as its guard: --enable-experimental-regexp-engine-on-excessive-backtracks
// makes one exec() that backtracks more than BACKTRACK_LIMIT times start over on the linear-time
// (breadth-first) engine, which V8 can only do for patterns without backreferences and
// lookaround — the subset regex-syntax.ts accepts, and which compileRegex double-checks by
// compiling the pattern with the `l` flag. So no pattern is catastrophic: an exec costs at most
// BACKTRACK_LIMIT backtracks plus a linear pass over its piece.
//
// Matching. The document is read in pieces and each piece decoded as Latin-1 (one char per byte:
// a string index is a byte offset). Matches are grep's: within a line, leftmost-first,
// non-overlapping, the next search starting where the last match ended; a zero-length match is
// not reported. A piece's text runs on past the last start it owns up to the end of that line (so
// a match never depends on where a piece or a mapped window ends), or MAX_MATCH bytes when the line
// is longer: in a line longer than MAX_MATCH a match, and what the engine looks at to decide it,
// must lie within MAX_MATCH bytes of the match's start. Matches crossing pieces, windows and (over a
// snapshot) edited pieces are found exactly once, because each start belongs to exactly one piece.
//
// Prefilter. When every match contains a literal run (regex-syntax.ts finds the longest one of the
// top-level sequence), the addon's literal scan (SIMD, worker threads) finds its occurrences and
// only the starts that can reach one are tried: [c − prefixMax, c − prefixMin] for an occurrence at
// c, or from c's line start when the part before the literal is unbounded.

import * as v8 from "node:v8";
import type { NativeAddon, NativeScanner, NativeSource, NativeView } from "../../native/index";
import { Document, loadAddon } from "./document";
import type { Snapshot } from "./editor";
import { HexmapError, toHexmapError } from "./errors";
import type { SearchPattern } from "./pattern";
import { openDocumentScanner, startSearch } from "./search";
import { searchSnapshot } from "./snapshot-search";
import { RegexSyntaxError, translateRegex, type RegexOptions, type RequiredLiteral } from "./regex-syntax";

export { RegexSyntaxError, translateRegex, type RegexOptions } from "./regex-syntax";

/** In a line longer than this, a match (and what decides it) lies within this many bytes of its start. */
export const MAX_MATCH = 1024 * 1024;
/** Longest pattern text accepted. */
export const MAX_REGEX_CHARS = 64 * 1024;
/** Backtracks one exec() may make before V8 reruns it on its linear-time engine. */
export const BACKTRACK_LIMIT = 4_000_000;
/** Backtracking slower than this (measured over SLOW_MS of work) hands over to the linear-time engine. */
const SLOW_MS = 50;
const SLOW_BYTES_PER_MS = 50_000;
/** Unbounded patterns: text with a line longer than this runs on the linear-time engine. */
const LONG_LINE = 16 * 1024;
/** After backtracking crawled: this much text on the linear-time engine before trying it again. */
const LINEAR_SPAN = 16 * 1024 * 1024;
/** Starts owned by one piece of a full scan. */
const PIECE = 4 * 1024 * 1024;
/** Bytes read past a piece at first when matches are unbounded (to find the line's end). */
const FIRST_TAIL = 64 * 1024;
/** Literal occurrences looked for per native job. */
const LITERAL_SEGMENT = 256 * 1024 * 1024;
const LITERAL_HITS = 1 << 20;
/** Candidate regions closer than this are read with one read; a read holds at most READ_MAX bytes. */
const READ_GAP = 16 * 1024;
const READ_MAX = 4 * 1024 * 1024;
/** How far before an occurrence its line start is looked for in the first read. */
const LOOKBACK = 4096;
/** Occurrences closer than this on average (in the first PROBE bytes): the full scan is faster. */
const DENSE_GAP = 2048;
const PROBE = 16 * 1024 * 1024;
/** A literal shorter than this is not worth a prefilter. */
const MIN_LITERAL = 2;

export interface CompiledRegex {
  pattern: string;
  ignoreCase: boolean;
  utf8: boolean;
  /** The JavaScript source it runs as (flags "gm"). */
  source: string;
  groups: number;
  minWidth: number;
  maxWidth: number;
  literal: RequiredLiteral | null;
  /** For messages: /pattern/ (UTF-8, ignore case). */
  description: string;
}

let engineReady: boolean | undefined;

/** Turns on V8's linear-time engine and its fallback (process-wide, once). */
export function linearEngineAvailable(): boolean {
  if (engineReady === undefined) {
    try {
      v8.setFlagsFromString("--enable-experimental-regexp-engine");
      v8.setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
      v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACK_LIMIT}`);
      new RegExp("a", "l");
      engineReady = true;
    } catch {
      engineReady = false;
    }
  }
  return engineReady;
}

/**
 * Parses a pattern (grep -P syntax). Throws HexmapError EINVAL with the parser's sentence and the
 * 1-based position ("missing closing parenthesis at position 4"), or ENOTSUP when this runtime has
 * no linear-time engine.
 */
export function compileRegex(pattern: string, options: RegexOptions = {}): CompiledRegex {
  if (typeof pattern !== "string") throw new HexmapError("EINVAL", "A regular expression must be a string");
  if (pattern.length > MAX_REGEX_CHARS) throw new HexmapError("EINVAL", `The regular expression is longer than ${MAX_REGEX_CHARS} characters`);
  let t;
  try {
    t = translateRegex(pattern, options);
  } catch (err) {
    if (err instanceof RegexSyntaxError) throw new HexmapError("EINVAL", `Invalid regular expression: ${err.message}`);
    throw err;
  }
  if (!linearEngineAvailable()) {
    throw new HexmapError("ENOTSUP", "This runtime's V8 has no linear-time regexp engine (--enable-experimental-regexp-engine): regular expressions are not available");
  }
  try {
    new RegExp(t.source, "gml");
  } catch (err) {
    throw new HexmapError("EINVAL", `Invalid regular expression: too complex for the linear-time engine (${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "")})`);
  }
  const flags = [options.utf8 ? "UTF-8" : "", options.ignoreCase ? "ignore case" : ""].filter(Boolean).join(", ");
  return {
    pattern,
    ignoreCase: options.ignoreCase === true,
    utf8: options.utf8 === true,
    source: t.source,
    groups: t.groups,
    minWidth: t.minWidth,
    maxWidth: t.maxWidth,
    literal: t.literal && t.literal.bytes.length >= MIN_LITERAL ? t.literal : null,
    description: `/${pattern}/${flags ? ` (${flags})` : ""}`,
  };
}

// ---- sources ----

/** What a regex scan reads. `read` may answer synchronously (the CLI) or not (the service). */
export interface RegexSource {
  readonly size: number;
  read(offset: number, length: number): Buffer | Promise<Buffer>;
  /** Occurrences (overlapping, increasing) of a byte pattern starting in [from, to), up to maxHits kept; total counts all. */
  findLiteral?(pattern: SearchPattern, from: number, to: number, maxHits: number, signal?: AbortSignal): Promise<{ hits: number[]; total: number; canceled: boolean }>;
  close(): void;
}

/** Reads through one mapped window at a time (its own, not the viewer's ViewCache). */
class WindowReader {
  private view: NativeView | null = null;
  constructor(
    private readonly source: NativeSource,
    private readonly granularity: number,
    private readonly sync: boolean,
    private readonly window = 64 * 1024 * 1024,
  ) {}

  read(offset: number, length: number): Buffer | Promise<Buffer> {
    const v = this.viewFor(offset, length);
    return this.sync ? v.readSync(offset - v.offset, length) : v.read(offset - v.offset, length);
  }

  private viewFor(offset: number, length: number): NativeView {
    const v = this.view;
    if (v && !v.closed && offset >= v.offset && offset + length <= v.offset + v.length) return v;
    // An async read may still use the old view: unmap() lets operations in flight finish.
    v?.unmap();
    const start = Math.floor(offset / this.granularity) * this.granularity;
    const size = this.source.size();
    const len = Math.min(size - start, Math.max(this.window, offset + length - start));
    this.view = this.source.map(start, len);
    return this.view;
  }

  close(): void {
    this.view?.unmap();
    this.view = null;
  }
}

function literalPattern(lit: RequiredLiteral): SearchPattern {
  const bytes = Uint8Array.from(lit.bytes);
  let mask: Uint8Array | undefined;
  if (lit.fold) {
    mask = new Uint8Array(bytes.length).fill(0xff);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) mask[i] = 0xdf;
    }
  }
  return { bytes, ...(mask ? { mask } : {}), description: "literal" };
}

/**
 * A file, section or path as a RegexSource: mapped reads, and the addon's literal scan. `sync`
 * reads on the calling thread (the CLI); otherwise on the addon's workers.
 */
export function fileRegexSource(target: Document | { path: string }, options: { native?: NativeAddon; sync?: boolean } = {}): RegexSource {
  const addon = loadAddon(options.native);
  let source: NativeSource & NativeScanner;
  let name: string;
  if (target instanceof Document) {
    if (target.closed) throw new HexmapError("EBADDOC", `The document ${target.name} is closed`);
    source = openDocumentScanner(target, options.native, { open: "open for searching", scan: "search" });
    name = target.name;
  } else {
    name = target.path;
    let raw: NativeSource;
    try {
      raw = addon.openFile(target.path);
    } catch (err) {
      throw toHexmapError(err, { path: target.path, op: "open" });
    }
    source = raw as NativeSource & NativeScanner;
  }
  const size = source.size();
  const reader = new WindowReader(source, addon.granularity, options.sync === true);
  return {
    size,
    read(offset, length) {
      try {
        const r = reader.read(offset, length);
        return r instanceof Promise ? r.catch((err: unknown) => Promise.reject(toHexmapError(err, { path: name, op: "read", offset, length }))) : r;
      } catch (err) {
        throw toHexmapError(err, { path: name, op: "read", offset, length });
      }
    },
    async findLiteral(pattern, from, to, maxHits, signal) {
      const r = await startSearch(source, { pattern, direction: "all", from, to, maxHits }, signal ? { signal, ...(options.native ? { native: options.native } : {}) } : {});
      return { hits: r.hits, total: r.total, canceled: r.canceled };
    },
    close() {
      reader.close();
      source.close();
    },
  };
}

/** An editor snapshot as a RegexSource: its read(), and snapshot search (pieces + boundaries) for literals. */
export function snapshotRegexSource(snap: Snapshot, file: Document, native?: NativeAddon): RegexSource {
  return {
    size: snap.size,
    read: (offset, length) => snap.read(offset, length),
    async findLiteral(pattern, from, to, maxHits, signal) {
      const r = await searchSnapshot(snap, file, { pattern, direction: "all", from, to, maxHits }, { ...(signal ? { signal } : {}), ...(native ? { native } : {}) });
      return { hits: r.hits, total: r.total, canceled: r.canceled };
    },
    close() {},
  };
}

// ---- the matcher ----

export interface RegexScanOptions {
  /** Matches start at or after `from` (default 0) and end by `to` (default: the size); `to` acts as the end of the text. */
  from?: number;
  to?: number;
  /** Only matches starting before this (default `to`); the text still runs to `to`. */
  startsBefore?: number;
  signal?: AbortSignal;
  /** Bytes of [from, to) dealt with so far. */
  onProgress?: (done: number, total: number) => void;
  /** Tests: force the full scan (no prefilter), or change the piece size. */
  noPrefilter?: boolean;
  pieceSize?: number;
}

/** A batch of matches: starts[i] .. ends[i] (exclusive), increasing. */
export interface MatchBatch {
  starts: number[];
  ends: number[];
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The matches of `re` in [from, to) of `src`, in order, non-overlapping, leftmost-first (grep's
 * -o). Yields batches; stops early (without error) when the signal aborts — check signal.aborted.
 * Reusable by replace: each batch's matches are final.
 */
export async function* regexMatches(src: RegexSource, re: CompiledRegex, options: RegexScanOptions = {}): AsyncGenerator<MatchBatch> {
  const size = src.size;
  const to = options.to ?? size;
  const from = options.from ?? 0;
  const until = Math.min(to, options.startsBefore ?? to);
  if (to > size || from > to) throw new HexmapError("ERANGE", `The search range [${from}, ${to}) is outside the document (size ${size})`);
  const { signal } = options;
  const fast = new RegExp(re.source, "gm");
  const linear = new RegExp(re.source, "gml");
  const piece = options.pieceSize ?? PIECE;
  const unbounded = !(re.maxWidth <= MAX_MATCH);
  const tailFixed = unbounded ? 0 : re.maxWidth + 1;
  /** Starts below `done` are dealt with; matches so far end by `prevEnd`. */
  let done = from;
  let prevEnd = from;
  let batch: MatchBatch = { starts: [], ends: [] };
  const total = until - from;

  const get = async (offset: number, length: number): Promise<Buffer> => {
    const r = src.read(offset, length);
    return toBuffer(r instanceof Promise ? await r : r);
  };

  /** Runs the chain over text `str` (document offset `base`, ending at `end`) for starts in [start, hi). */
  // Engine choice. Backtracking (fast) by default. A pattern whose matches are unbounded can be
  // quadratic in a long line even where V8 counts no backtracks (a greedy loop like [^ ]+ms
  // rescans a long run from every start): text with a line longer than LONG_LINE goes to the
  // linear-time engine. And whenever backtracking crawls (below SLOW_BYTES_PER_MS over SLOW_MS of
  // work), the next LINEAR_SPAN bytes go to the linear-time engine too.
  let linearUntil = -1;
  let fastMs = 0, fastBytes = 0;
  const longLine = (str: string, from: number): boolean => {
    let last = from;
    for (let i = str.indexOf("\n", from); ; i = str.indexOf("\n", i + 1)) {
      const end = i < 0 ? str.length : i;
      if (end - last > LONG_LINE) return true;
      if (i < 0) return false;
      last = i + 1;
    }
  };

  /** Runs the chain over text `str` (document offset `base`) for starts in [start, hi). */
  const chain = (str: string, base: number, start: number, hi: number): void => {
    let pos = start - base;
    let regexp = base + pos < linearUntil || (unbounded && longLine(str, pos)) ? linear : fast;
    let t0 = performance.now();
    let p0 = pos;
    for (;;) {
      regexp.lastIndex = pos;
      const m = regexp.exec(str);
      if (regexp === fast) {
        const now = performance.now();
        fastMs += now - t0;
        fastBytes += (m ? m.index : str.length) - p0;
        t0 = now;
        if (fastMs > SLOW_MS) {
          if (fastBytes < fastMs * SLOW_BYTES_PER_MS) {
            linearUntil = base + (m ? m.index : str.length) + LINEAR_SPAN;
            regexp = linear;
          }
          fastMs = 0;
          fastBytes = 0;
        }
      }
      if (m === null) break;
      const s = base + m.index;
      if (s >= hi) break;
      const len = m[0].length;
      pos = m.index + Math.max(1, len);
      p0 = pos;
      if (len === 0) continue;
      batch.starts.push(s);
      batch.ends.push(s + len);
      prevEnd = s + len;
    }
  };

  /** Full scan of the starts in [lo, hi), piece by piece. */
  const scanSpan = async (lo: number, hi: number): Promise<void> => {
    for (let a = Math.max(lo, done, prevEnd); a < hi; ) {
      if (signal?.aborted) return;
      const b = Math.min(hi, a + piece);
      const readLo = Math.max(0, a - 1);
      let readHi: number;
      let buf: Buffer;
      if (!unbounded) {
        readHi = Math.min(to, b + tailFixed);
        buf = await get(readLo, readHi - readLo);
      } else {
        // Up to the end of the line holding start b − 1, or MAX_MATCH past b.
        let tail = FIRST_TAIL;
        for (;;) {
          readHi = Math.min(to, b + tail);
          buf = await get(readLo, readHi - readLo);
          const nl = buf.indexOf(10, b - 1 - readLo);
          if (nl >= 0) {
            readHi = readLo + nl + 1;
            break;
          }
          if (readHi >= to || tail >= MAX_MATCH) break;
          tail = Math.min(MAX_MATCH, tail * 16);
        }
      }
      chain(buf.toString("latin1", 0, readHi - readLo), readLo, Math.max(a, prevEnd), b);
      done = b;
      a = Math.max(b, prevEnd);
      options.onProgress?.(Math.min(a, until) - from, total);
    }
  };

  const flush = function* (): Generator<MatchBatch> {
    if (batch.starts.length > 0) {
      const out = batch;
      batch = { starts: [], ends: [] };
      yield out;
    }
  };

  let literal = !options.noPrefilter && src.findLiteral ? re.literal : null;
  if (literal && src.findLiteral && until - from > 4 * PROBE) {
    // A literal on every line or so only adds work: measure it on a first stretch.
    const probe = await src.findLiteral(literalPattern(literal), from, from + PROBE, 0, signal);
    if (probe.total * DENSE_GAP > PROBE) literal = null;
  }
  if (!literal || !src.findLiteral) {
    for (let a = from; a < until; a = Math.min(until, a + 4 * piece)) {
      await scanSpan(a, Math.min(until, a + 4 * piece));
      yield* flush();
      if (signal?.aborted) return;
    }
    return;
  }

  // Prefilter: occurrences of the literal, segment by segment (the next one scanned while this one is verified).
  const litPat = literalPattern(literal);
  const litLen = litPat.bytes.length;
  const pmin = literal.prefixMin;
  const pmax = literal.prefixMax <= LOOKBACK ? literal.prefixMax : Infinity;
  // Occurrences that can belong to a match starting before `until`.
  const litEnd = Math.min(to, until === to ? to : until + (pmax === Infinity ? MAX_MATCH : pmax) + litLen);
  const scanSegment = (segFrom: number) => {
    const segTo = Math.min(litEnd, segFrom + LITERAL_SEGMENT);
    const p = src.findLiteral!(litPat, segFrom, Math.min(to, segTo + litLen - 1), LITERAL_HITS, signal).then((r) => ({ r, segFrom, segTo }));
    p.catch(() => {}); // a search that ends early leaves the prefetched segment unawaited
    return p;
  };
  const firstFrom = Math.min(litEnd, from + pmin);
  let pending = firstFrom < litEnd ? scanSegment(firstFrom) : null;
  while (pending) {
    const { r, segTo } = await pending;
    if (r.canceled || signal?.aborted) return;
    const truncated = r.total > r.hits.length;
    const segEnd = truncated ? r.hits[r.hits.length - 1]! + 1 : segTo;
    pending = segEnd < litEnd ? scanSegment(segEnd) : null;
    await verify(r.hits);
    yield* flush();
    options.onProgress?.(Math.min(segEnd, until) - from, total);
    if (signal?.aborted) return;
  }

  /** Tries the starts that can reach each occurrence in `hits`. */
  async function verify(hits: number[]): Promise<void> {
    // Regions [lo, hi) of starts, with the occurrence that opened each (for its line start).
    const los: number[] = [], his: number[] = [], firsts: number[] = [];
    for (const c of hits) {
      const hi = Math.min(until, c - pmin + 1);
      const lo = Math.max(from, pmax === Infinity ? c - LOOKBACK : c - pmax);
      if (hi <= lo) continue;
      const k = los.length - 1;
      if (k >= 0 && lo <= his[k]! + 256) his[k] = Math.max(his[k]!, hi);
      else {
        los.push(lo);
        his.push(hi);
        firsts.push(c);
      }
    }
    for (let i = 0; i < los.length; ) {
      if (signal?.aborted) return;
      let j = i;
      while (j + 1 < los.length && los[j + 1]! - his[j]! < READ_GAP && his[j + 1]! - los[i]! < READ_MAX) j++;
      const tail = unbounded ? LOOKBACK : tailFixed;
      const readLo = Math.max(0, los[i]! - 1);
      const readHi = Math.min(to, his[j]! + tail);
      const buf = await get(readLo, readHi - readLo);
      for (let k = i; k <= j; k++) {
        let lo = Math.max(los[k]!, done, prevEnd);
        const hi = his[k]!;
        if (lo >= hi) continue;
        if (pmax === Infinity) {
          // From the line start of the region's first occurrence.
          const c = firsts[k]!;
          const nl = buf.lastIndexOf(10, c - 1 - readLo);
          const line = nl >= 0 ? readLo + nl + 1 : readLo === 0 ? 0 : await lineStart(c);
          lo = Math.max(line, from, done, prevEnd);
          if (lo >= hi) continue;
          if (lo > 0 && lo - 1 < readLo) {
            await scanSpan(lo, hi);
            continue;
          }
        }
        let end = Math.min(readHi, hi + tail);
        if (unbounded) {
          const nl = buf.indexOf(10, hi - 1 - readLo);
          if (nl >= 0) end = readLo + nl + 1;
          else if (readHi < to) {
            await scanSpan(lo, hi);
            continue;
          } else end = readHi;
        }
        const sliceLo = Math.max(readLo, lo - 1);
        chain(buf.toString("latin1", sliceLo - readLo, end - readLo), sliceLo, Math.max(lo, prevEnd), hi);
        done = hi;
      }
      i = j + 1;
    }
  }

  /** The start of the line holding `c`, looked for at most MAX_MATCH back. */
  async function lineStart(c: number): Promise<number> {
    const lo = Math.max(from, c - MAX_MATCH);
    if (lo >= c) return lo;
    const buf = await get(lo, c - lo);
    const nl = buf.lastIndexOf(10);
    return nl < 0 ? lo : lo + nl + 1;
  }
}

// ---- search requests ----

export interface RegexSearchRequest {
  direction: "forward" | "backward" | "all";
  /** forward/all: matches start at or after it (default 0); backward: before it (default: `to`). */
  from?: number;
  to?: number;
  /** all: matches kept (default 10 000; 0 only counts); total counts every match. */
  maxHits?: number;
  noPrefilter?: boolean;
}

export interface RegexSearchResult {
  hits: number[];
  /** Match lengths, parallel to hits. */
  lengths: number[];
  total: number;
  canceled: boolean;
  scanned: number;
}

export interface RegexSearchHandlers {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** all: batches of kept matches (starts, lengths), increasing. */
  onHits?: (starts: number[], lengths: number[]) => void;
}

/**
 * Find next / previous / all over a RegexSource. Backward: the last match starting before `from`,
 * found by scanning back in growing blocks, each from the start of its line.
 */
export async function regexSearch(src: RegexSource, re: CompiledRegex, req: RegexSearchRequest, handlers: RegexSearchHandlers = {}): Promise<RegexSearchResult> {
  const size = src.size;
  const to = req.to ?? size;
  const { signal } = handlers;
  const result: RegexSearchResult = { hits: [], lengths: [], total: 0, canceled: false, scanned: 0 };
  if (to > size) throw new HexmapError("ERANGE", `to ${to} is past the end of the document (size ${size})`);
  const common = { ...(signal ? { signal } : {}), ...(req.noPrefilter ? { noPrefilter: true } : {}) };
  if (req.direction !== "backward") {
    const from = req.from ?? 0;
    if (from > to) throw new HexmapError("ERANGE", `from ${from} is past the end of the range (${to})`);
    const maxHits = req.direction === "forward" ? 1 : (req.maxHits ?? 10_000);
    for await (const b of regexMatches(src, re, { from, to, ...common, ...(handlers.onProgress ? { onProgress: handlers.onProgress } : {}) })) {
      result.total += b.starts.length;
      const room = maxHits - result.hits.length;
      if (room > 0) {
        const s = b.starts.slice(0, room);
        const l = s.map((x, i) => b.ends[i]! - x);
        for (let i = 0; i < s.length; i++) {
          result.hits.push(s[i]!);
          result.lengths.push(l[i]!);
        }
        if (req.direction === "all" && s.length) handlers.onHits?.(s, l);
      }
      if (req.direction === "forward" && result.hits.length > 0) break;
    }
    if (req.direction === "forward") result.total = result.hits.length;
    result.canceled = signal?.aborted === true && (req.direction === "all" || result.hits.length === 0);
    result.scanned = to - from;
    return result;
  }
  // Backward.
  const before = Math.min(req.from ?? to, to);
  let end = before;
  let block = 1024 * 1024;
  while (end > 0) {
    if (signal?.aborted) {
      result.canceled = true;
      break;
    }
    const a = Math.max(0, end - block);
    // Begin at the line start before `a` (at most MAX_MATCH back), so the chain is the file's.
    let chainFrom = a;
    if (a > 0) {
      const lo = Math.max(0, a - MAX_MATCH);
      const r = src.read(lo, a - lo);
      const buf = toBuffer(r instanceof Promise ? await r : r);
      const nl = buf.lastIndexOf(10);
      chainFrom = nl < 0 ? lo : lo + nl + 1;
    }
    let last = -1, lastLen = 0;
    for await (const b of regexMatches(src, re, { from: chainFrom, to, startsBefore: end, ...common })) {
      for (let i = 0; i < b.starts.length; i++) {
        if (b.starts[i]! >= end) break;
        last = b.starts[i]!;
        lastLen = b.ends[i]! - last;
      }
      if (b.starts[b.starts.length - 1]! >= end) break;
    }
    handlers.onProgress?.(before - a, before);
    if (last >= 0) {
      result.hits = [last];
      result.lengths = [lastLen];
      break;
    }
    end = chainFrom;
    block *= 4;
  }
  result.total = result.hits.length;
  result.scanned = before - end;
  return result;
}
