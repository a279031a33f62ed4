// The Service's `search` request (app/protocol/search.ts): checks the request and compiles the
// pattern at once — so a bad pattern is the request's EINVAL reply, with the parser's sentence —
// then runs startSearch as a detached job: search-hit batches, throttled job-progress, and a
// job-done that always comes last. The Service owns the job registry (jobIds, cancel, ending the
// jobs of a closed document or a gone client); this module is the search itself.

import { Document } from "./document";
import { isEditable, type EditableFile } from "./edit-service";
import { HexmapError, toHexmapError } from "./errors";
import { compilePattern, type SearchPattern } from "./pattern";
import { compileRegex, fileRegexSource, regexSearch, snapshotRegexSource, type CompiledRegex } from "./regex";
import { startSearch } from "./search";
import { checkReplaceRegex, literalReplaceStarts, regexReplaceMatches } from "./replace-matches";
import { searchSnapshot } from "./snapshot-search";
import { isLiveSharedMemory } from "./shm-service";
import type { ServiceDocument } from "./service";
import type { Event } from "../protocol/messages";
import { DEFAULT_SEARCH_HITS, type ReplaceAllRequest, type ReplaceAllResult, type SearchDone, type SearchRequest } from "../protocol/search";

/** job-progress at most this often (~10 a second), search-hit batches at least this often. */
export const SEARCH_EVENT_INTERVAL_MS = 100;
/** A search-hit event carries at most this many offsets. */
export const MAX_HITS_PER_EVENT = 4096;

export interface SearchJobContext {
  jobId: string;
  signal: AbortSignal;
  deliver(event: Event): void;
}

/** The Document whose file (or section) the addon scans. ENOTSUP for other sources. */
function scanTarget(doc: ServiceDocument): Document {
  if (doc instanceof Document) return doc;
  if (isEditable(doc)) return doc.editor.document;
  if (isLiveSharedMemory(doc)) return doc.document;
  throw new HexmapError("ENOTSUP", `Searching is not supported for ${doc.name}`);
}

export interface PreparedSearch {
  run(ctx: SearchJobContext): Promise<SearchDone>;
}

/**
 * Checks a search request against its document now (throws HexmapError: EINVAL for the pattern,
 * ERANGE for from/to, ENOTSUP); the returned job does the scanning.
 */
export function prepareSearch(req: SearchRequest, doc: ServiceDocument, docId: string): PreparedSearch {
  const target = scanTarget(doc);
  if (req.pattern.kind === "regex") {
    const re = compileRegex(req.pattern.regex, { ignoreCase: req.pattern.ignoreCase === true, utf8: req.pattern.utf8 === true });
    return prepareRegexSearch(req, re, doc, target, docId);
  }
  const pattern: SearchPattern = compilePattern(
    req.pattern.kind === "hex"
      ? { kind: "hex", hex: req.pattern.hex }
      : { kind: "text", text: req.pattern.text, encoding: req.pattern.encoding, ignoreCase: req.pattern.ignoreCase === true },
  );
  const size = doc.size;
  const to = req.to ?? size;
  if (to > size) throw new HexmapError("ERANGE", `to ${to} is past the end of the document (size ${size})`);
  const from = req.from ?? (req.direction === "backward" ? to : 0);
  if (from > size) throw new HexmapError("ERANGE", `from ${from} is past the end of the document (size ${size})`);
  const maxHits = req.maxHits ?? DEFAULT_SEARCH_HITS;
  // An edited document is searched as the user sees it, frozen now: the search goes on over this
  // version while the user keeps editing, and its reply names the version it read.
  const taken = isEditable(doc) ? doc.editor.snapshot() : null;
  const snapshot = taken && !taken.unedited ? taken : null;
  const version = snapshot ? snapshot.version : doc.generation;
  const pendingEdits = false;

  return {
    async run({ jobId, signal, deliver }) {
      let batch: number[] = [];
      let kept = 0;
      let lastFlush = Date.now();
      let lastProgress = 0;
      const flush = () => {
        lastFlush = Date.now();
        while (batch.length > 0) {
          const offsets = batch.length > MAX_HITS_PER_EVENT ? batch.splice(0, MAX_HITS_PER_EVENT) : batch.splice(0);
          deliver({ event: "search-hit", jobId, docId, offsets });
        }
      };
      const timer = setInterval(() => {
        if (batch.length > 0 && Date.now() - lastFlush >= SEARCH_EVENT_INTERVAL_MS) flush();
      }, SEARCH_EVENT_INTERVAL_MS);
      timer.unref?.();
      const base = {
        direction: req.direction,
        from,
        to,
        patternLength: pattern.bytes.length,
        description: pattern.description,
        pendingEdits,
        version,
      };
      try {
        // An empty range, or one shorter than the pattern, has no match: nothing to scan.
        const empty = req.direction === "backward" ? Math.min(from, to) === 0 : from >= to;
        if (empty || signal.aborted) {
          return { ...base, hits: [], total: 0, kept: 0, canceled: signal.aborted, scanned: 0 };
        }
        const run = snapshot
          ? (o: Parameters<typeof startSearch>[2]) => searchSnapshot(snapshot, target, { pattern, direction: req.direction, from, to, maxHits }, o)
          : (o: Parameters<typeof startSearch>[2]) => startSearch(target, { pattern, direction: req.direction, from, to, maxHits }, o);
        const r = await run(
          {
            signal,
            onProgress: (done, total) => {
              const now = Date.now();
              if (now - lastProgress < SEARCH_EVENT_INTERVAL_MS) return;
              lastProgress = now;
              deliver({ event: "job-progress", jobId, docId, op: "search", done, total });
            },
            onHits: (hits) => {
              kept += hits.length;
              for (const h of hits) batch.push(h);
              if (batch.length >= MAX_HITS_PER_EVENT) flush();
            },
          },
        );
        flush();
        return {
          ...base,
          hits: req.direction === "all" ? [] : r.hits,
          total: r.total,
          kept: req.direction === "all" ? kept : r.hits.length,
          canceled: r.canceled,
          scanned: r.scanned,
        };
      } catch (err) {
        flush();
        throw toHexmapError(err, { path: doc.name, op: "search" });
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/** The regex search (kind "regex"): regexSearch over the snapshot (or the file when unedited); hits carry their lengths. */
function prepareRegexSearch(req: SearchRequest, re: CompiledRegex, doc: ServiceDocument, target: Document, docId: string): PreparedSearch {
  const size = doc.size;
  const to = req.to ?? size;
  if (to > size) throw new HexmapError("ERANGE", `to ${to} is past the end of the document (size ${size})`);
  const from = req.from ?? (req.direction === "backward" ? to : 0);
  if (from > size) throw new HexmapError("ERANGE", `from ${from} is past the end of the document (size ${size})`);
  const maxHits = req.maxHits ?? DEFAULT_SEARCH_HITS;
  const taken = isEditable(doc) ? doc.editor.snapshot() : null;
  const snapshot = taken && !taken.unedited ? taken : null;
  const version = snapshot ? snapshot.version : doc.generation;
  return {
    async run({ jobId, signal, deliver }) {
      let offsets: number[] = [];
      let lengths: number[] = [];
      let kept = 0;
      let longest = 0;
      let lastFlush = Date.now();
      let lastProgress = 0;
      const flush = () => {
        lastFlush = Date.now();
        while (offsets.length > 0) {
          const n = Math.min(offsets.length, MAX_HITS_PER_EVENT);
          deliver({ event: "search-hit", jobId, docId, offsets: offsets.splice(0, n), lengths: lengths.splice(0, n) });
        }
      };
      const timer = setInterval(() => {
        if (offsets.length > 0 && Date.now() - lastFlush >= SEARCH_EVENT_INTERVAL_MS) flush();
      }, SEARCH_EVENT_INTERVAL_MS);
      timer.unref?.();
      const base = { direction: req.direction, from, to, description: re.description, pendingEdits: false, version };
      const empty = req.direction === "backward" ? Math.min(from, to) === 0 : from >= to;
      if (empty || signal.aborted) {
        clearInterval(timer);
        return { ...base, patternLength: 0, lengths: [], hits: [], total: 0, kept: 0, canceled: signal.aborted, scanned: 0 };
      }
      const src = snapshot ? snapshotRegexSource(snapshot, target) : fileRegexSource(target);
      try {
        const r = await regexSearch(
          src,
          re,
          { direction: req.direction, from, to, maxHits },
          {
            signal,
            onProgress: (done, total) => {
              const now = Date.now();
              if (now - lastProgress < SEARCH_EVENT_INTERVAL_MS) return;
              lastProgress = now;
              deliver({ event: "job-progress", jobId, docId, op: "search", done, total });
            },
            onHits: (starts, lens) => {
              kept += starts.length;
              for (let i = 0; i < starts.length; i++) {
                offsets.push(starts[i]!);
                lengths.push(lens[i]!);
                if (lens[i]! > longest) longest = lens[i]!;
              }
              if (offsets.length >= MAX_HITS_PER_EVENT) flush();
            },
          },
        );
        flush();
        const all = req.direction === "all";
        if (!all) for (const l of r.lengths) longest = Math.max(longest, l);
        return {
          ...base,
          patternLength: longest,
          lengths: all ? [] : r.lengths,
          hits: all ? [] : r.hits,
          total: r.total,
          kept: all ? kept : r.hits.length,
          canceled: r.canceled,
          scanned: r.scanned,
        };
      } catch (err) {
        flush();
        throw toHexmapError(err, { path: doc.name, op: "search" });
      } finally {
        clearInterval(timer);
        src.close();
      }
    },
  };
}

/**
 * replace-all: finds the non-overlapping matches (left to right, at most req.max) over a snapshot
 * of the document as the user sees it, then replaces them through the editor as ONE undo step.
 * Literal patterns: the snapshot search's overlapping hits in rounds, keeping each one that starts
 * at or after the previous kept one's end (bytes.replace); regex: regexMatches (re.sub).
 */
export async function replaceAllIn(
  req: ReplaceAllRequest,
  doc: EditableFile,
  docId: string,
  progress: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<ReplaceAllResult> {
  if (doc.readOnly) throw new HexmapError("EACCES", `${doc.name} is open read-only: edits are not allowed`);
  const max = req.max ?? Infinity;
  const sizeBefore = doc.size;
  const ed = doc.editor;
  const snap = ed.snapshot();
  const file = ed.document;
  let starts: number[];
  let lengths: number[] | number;
  if (req.pattern.kind === "regex") {
    const re = compileRegex(req.pattern.regex, { ignoreCase: req.pattern.ignoreCase === true, utf8: req.pattern.utf8 === true });
    checkReplaceRegex(re);
    const src = snapshotRegexSource(snap, file);
    try {
      ({ starts, lengths } = await regexReplaceMatches(src, re, max, signal, progress));
    } finally {
      src.close();
    }
  } else {
    const pattern = compilePattern(
      req.pattern.kind === "hex"
        ? { kind: "hex", hex: req.pattern.hex }
        : { kind: "text", text: req.pattern.text, encoding: req.pattern.encoding, ignoreCase: req.pattern.ignoreCase === true },
    );
    lengths = pattern.bytes.length;
    starts = await literalReplaceStarts(
      pattern.bytes.length,
      max,
      (from, maxHits, stop, onHits) =>
        searchSnapshot(snap, file, { pattern, direction: "all", from, maxHits }, { signal: stop, onProgress: (done, total) => progress(from + done, from + total), onHits }),
      signal,
    );
  }
  const nothing = { ...doc.state(docId), start: 0, end: 0, sizeBefore };
  if (signal.aborted) return { ...nothing, replaced: 0, canceled: true };
  if (starts.length === 0) return { ...nothing, replaced: 0, canceled: false };
  if (doc.editor !== ed || ed.generation !== snap.version) {
    throw new HexmapError("EBUSY", `${doc.name} changed while its matches were found: nothing was replaced; run Replace all again`);
  }
  const changed = doc.replaceAll(starts, lengths, req.bytes);
  return { ...doc.state(docId), replaced: changed ? starts.length : 0, canceled: false, start: changed?.start ?? 0, end: changed?.end ?? 0, sizeBefore };
}
