// Search hits in the grid: the rows on screen ask, byte by byte, whether a byte lies in a hit.
// Hits are sorted starts of equal length (overlapping ones included), so the last start at or
// before a byte is the only one that can cover it: a binary search per byte, no per-hit DOM.

export interface FoundRanges {
  /** Sorted hit offsets (find-all results, or the one current hit). */
  starts: readonly number[];
  /** Pattern length in bytes (regex: the longest hit; `lengths` gives each one's). */
  length: number;
  /** Regex hits: each hit's length, parallel to starts (they do not overlap). */
  lengths?: readonly number[];
  /** The current hit (shown as the selection too), or null. */
  current: number | null;
  /** The current hit's length when it differs from `length` (regex). */
  currentLength?: number;
}

/** The last index i with starts[i] <= offset, or -1. */
function lastAtOrBefore(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** "" (no hit), "hit", or "hit hitnow" (inside the current hit; not "cur": HexRow ghosts classes containing "cur"). */
export function foundClass(offset: number, f: FoundRanges | null | undefined): string {
  if (!f || f.length <= 0) return "";
  if (f.current !== null && offset >= f.current && offset < f.current + (f.currentLength ?? f.length)) return "hit hitnow";
  const i = lastAtOrBefore(f.starts, offset);
  return i >= 0 && offset < f.starts[i]! + (f.lengths ? (f.lengths[i] ?? f.length) : f.length) ? "hit" : "";
}
