// Search over a Snapshot of an edited document: what the user sees, unsaved inserts and deletes
// included, frozen at the version the search started from.
//
// The document is a sequence of pieces. Long file pieces are scanned by the addon in the file's
// own mapped windows (SIMD, worker threads, holes skipped) for the matches that lie wholly inside
// them. Every other match touches an added piece, a short file piece or a boundary between two
// pieces: those are found in JavaScript over small windows read through the snapshot — for an
// added or short piece, the starts from (piece start − (m − 1)) to the piece end; for a boundary
// between two long file pieces, the m − 1 starts before it. The units' start ranges are disjoint
// and ordered, so every match is found exactly once and hits come out in increasing order.

import type { NativeAddon } from "../../native/index";
import type { Document } from "./document";
import type { Snapshot } from "./editor";
import { HexmapError } from "./errors";
import type { SearchPattern } from "./pattern";
import { pieceLength, type Slice } from "./piece-table";
import { startSearch, type SearchDirection, type SearchHandlers, type SearchResult } from "./search";

/** File pieces at least this long are scanned natively; shorter ones join the JavaScript windows. */
export const NATIVE_MIN = 1024 * 1024;
/** A JavaScript window is read and scanned in parts of at most this many bytes. */
const JS_CHUNK = 4 * 1024 * 1024;
/** Backward over a native piece: parts of this size, each a find-all keeping this many hits. */
const BACKWARD_PART = 64 * 1024 * 1024;
const BACKWARD_KEEP = 100_000;

/** One addon search over file bytes [from, to) (starts from `from`, ends by `to`). */
function nativeSearch(
  file: Document,
  pattern: SearchPattern,
  direction: "forward" | "all",
  from: number,
  to: number,
  maxHits: number,
  handlers: SearchHandlers & { native?: NativeAddon },
  signal: AbortSignal | undefined,
  progress?: (n: number) => void,
  onHits?: (hits: number[]) => void,
): Promise<SearchResult> {
  return startSearch(
    file,
    { pattern, direction, from, to, maxHits },
    {
      ...(signal ? { signal } : {}),
      ...(handlers.native ? { native: handlers.native } : {}),
      ...(progress ? { onProgress: (done: number) => progress(Math.min(done, to - from)) } : {}),
      ...(direction === "all" && onHits ? { onHits } : {}),
    },
  );
}

export interface SnapshotSearchRequest {
  pattern: SearchPattern;
  direction: SearchDirection;
  from?: number;
  to?: number;
  maxHits: number;
}

/** A run of match starts [lo, hi) to test: natively in a file piece, or in JavaScript. */
type Unit =
  | { kind: "native"; lo: number; hi: number; fileStart: number; docStart: number; end: number }
  | { kind: "js"; lo: number; hi: number };

/** Does the pattern match buf at i? (mask: 0xFF exact, 0x00 any, 0xDF a letter in either case, else nibble bits.) */
function matchesAt(buf: Uint8Array, i: number, pat: Uint8Array, mask: Uint8Array | undefined): boolean {
  for (let k = 0; k < pat.length; k++) {
    const b = buf[i + k]!;
    const p = pat[k]!;
    const mk = mask ? mask[k]! : 0xff;
    if (mk === 0xff) {
      if (b !== p) return false;
    } else if (mk === 0xdf) {
      if (b !== p && b !== (p ^ 0x20)) return false;
    } else if ((b & mk) !== (p & mk)) return false;
  }
  return true;
}

/**
 * The units covering every match that starts in [lo, hi) and ends at or before `end`, in order.
 * Matches are m bytes long.
 */
function planUnits(slices: readonly Slice[], m: number, lo: number, hi: number, end: number): Unit[] {
  const raw: Unit[] = [];
  const isNative = (s: Slice): boolean => s.piece.kind === "file" && pieceLength(s.piece) >= Math.max(NATIVE_MIN, m);
  for (let i = 0; i < slices.length; i++) {
    const s = slices[i]!;
    const len = pieceLength(s.piece);
    const sEnd = s.offset + len;
    if (isNative(s) && s.piece.kind === "file") {
      raw.push({ kind: "native", lo: s.offset, hi: sEnd - m + 1, fileStart: s.piece.start, docStart: s.offset, end: sEnd });
      const next = slices[i + 1];
      if (next && isNative(next)) raw.push({ kind: "js", lo: sEnd - m + 1, hi: sEnd });
    } else {
      raw.push({ kind: "js", lo: s.offset - m + 1, hi: sEnd });
    }
  }
  // Clip to [lo, hi) and to starts whose match ends by `end`; merge touching JS runs.
  const out: Unit[] = [];
  const lastStart = end - m + 1; // starts < lastStart
  for (const u of raw) {
    const a = Math.max(u.lo, lo);
    const b = Math.min(u.hi, hi, lastStart);
    if (a >= b) continue;
    const prev = out[out.length - 1];
    if (u.kind === "js") {
      if (prev && prev.kind === "js" && prev.hi >= a) {
        prev.hi = Math.max(prev.hi, b);
        continue;
      }
      out.push({ kind: "js", lo: a, hi: b });
    } else {
      out.push({ ...u, lo: a, hi: b });
    }
  }
  return out;
}

/**
 * Searches what `snap` holds; file pieces are scanned natively in `file` (the Document the
 * snapshot's file pieces refer to). Same contract as startSearch: forward = the first match
 * starting at or after `from`; backward = the last starting before `from`; all = every match
 * starting at or after `from`, the first maxHits streamed in order, `total` exact. A match must end
 * at or before `to`.
 */
export async function searchSnapshot(snap: Snapshot, file: Document, req: SnapshotSearchRequest, handlers: SearchHandlers & { native?: NativeAddon } = {}): Promise<SearchResult> {
  const { pattern, direction, maxHits } = req;
  const m = pattern.bytes.length;
  if (m === 0) throw new HexmapError("EINVAL", "The search pattern has no bytes");
  const size = snap.size;
  const to = req.to ?? size;
  const from = req.from ?? (direction === "backward" ? to : 0);
  const { signal } = handlers;
  const result: SearchResult = { hits: [], total: 0, canceled: false, scanned: 0, pattern };
  if (to > size || from > size) throw new HexmapError("ERANGE", `The search range runs past the end of the document (size ${size})`);
  // Starts to consider: forward/all [from, to); backward [0, from).
  const lo = direction === "backward" ? 0 : from;
  const hi = direction === "backward" ? Math.min(from, to) : to;
  if (lo >= hi || to - lo < m) return result;
  const slices = snap.slices(Math.max(0, lo - m + 1), Math.min(size, to));
  const units = planUnits(slices, m, lo, hi, to);
  const totalBytes = units.reduce((a, u) => a + (u.hi - u.lo), 0);
  let scannedBefore = 0;
  const progress = (n: number): void => handlers.onProgress?.(scannedBefore + n, totalBytes);

  const order = direction === "backward" ? [...units].reverse() : units;
  for (const u of order) {
    if (signal?.aborted) {
      result.canceled = true;
      break;
    }
    if (u.kind === "native") {
      const shift = u.docStart - u.fileStart;
      const fileLo = u.lo - shift;
      const fileHi = u.hi - shift;
      if (direction === "backward") {
        // The addon's backward search has no lower bound: look at the unit in parts from its end,
        // each a find-all (the last hit of the last part with one is the answer).
        for (let partHi = fileHi; partHi > fileLo && result.hits.length === 0 && !result.canceled; ) {
          const partLo = Math.max(fileLo, partHi - BACKWARD_PART);
          const r = await nativeSearch(file, pattern, "all", partLo, partHi + m - 1, BACKWARD_KEEP, handlers, signal);
          result.scanned += r.scanned;
          if (r.canceled) result.canceled = true;
          else if (r.total > r.hits.length) {
            // Too many to keep: the part's tail, in JavaScript.
            await scanJs(snap, { lo: partLo + shift, hi: partHi + shift }, pattern, "backward", 1, result, handlers, () => {});
          } else if (r.hits.length > 0) result.hits = [r.hits[r.hits.length - 1]! + shift];
          partHi = partLo;
        }
        progress(u.hi - u.lo);
      } else {
        const keep = direction === "all" ? Math.max(0, maxHits - result.hits.length) : 1;
        const r = await nativeSearch(file, pattern, direction, fileLo, fileHi + m - 1, keep, handlers, signal, progress, (hits) => {
          const mapped = hits.map((h) => h + shift);
          for (const h of mapped) result.hits.push(h);
          handlers.onHits?.(mapped);
        });
        if (direction === "forward") {
          if (r.hits.length > 0) result.hits = [r.hits[0]! + shift];
        } else result.total += r.total;
        result.scanned += r.scanned;
        if (r.canceled) result.canceled = true;
      }
    } else {
      await scanJs(snap, u, pattern, direction, maxHits, result, handlers, progress);
    }
    scannedBefore += u.hi - u.lo;
    if (direction !== "all" && result.hits.length > 0) break;
    if (result.canceled) break;
  }
  if (direction !== "all") result.total = result.hits.length;
  return result;
}

async function scanJs(
  snap: Snapshot,
  u: { lo: number; hi: number },
  pattern: SearchPattern,
  direction: SearchDirection,
  maxHits: number,
  result: SearchResult,
  handlers: SearchHandlers,
  progress: (n: number) => void,
): Promise<void> {
  const m = pattern.bytes.length;
  const n = u.hi - u.lo;
  // Parts of starts [a, b), read with the m − 1 bytes after them; backward walks parts from the end.
  const parts: [number, number][] = [];
  for (let a = u.lo; a < u.hi; a += JS_CHUNK) parts.push([a, Math.min(u.hi, a + JS_CHUNK)]);
  if (direction === "backward") parts.reverse();
  let done = 0;
  for (const [a, b] of parts) {
    if (handlers.signal?.aborted) {
      result.canceled = true;
      return;
    }
    const buf = await snap.read(a, b - a + m - 1);
    const count = Math.min(b - a, buf.length - m + 1);
    if (direction === "backward") {
      for (let i = count - 1; i >= 0; i--) {
        if (matchesAt(buf, i, pattern.bytes, pattern.mask)) {
          result.hits = [a + i];
          return;
        }
      }
    } else {
      const batch: number[] = [];
      for (let i = 0; i < count; i++) {
        if (!matchesAt(buf, i, pattern.bytes, pattern.mask)) continue;
        if (direction === "forward") {
          result.hits = [a + i];
          return;
        }
        result.total++;
        if (result.hits.length < maxHits) {
          result.hits.push(a + i);
          batch.push(a + i);
        }
      }
      if (batch.length > 0) handlers.onHits?.(batch);
    }
    done += b - a;
    result.scanned += b - a;
    progress(Math.min(done, n));
  }
}
