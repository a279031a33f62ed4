// Range arithmetic for edits that change the size (pure, no DOM): where a bookmark, a search hit
// or the cursor goes after replace(offset, deleted, inserted). The page cache, the bookmarks and
// the search bar all use these, so they agree on what an edit did.
//
// A replace is read as: the first min(deleted, inserted) bytes are overwritten in place, then
// the rest is a pure insert (inserted > deleted) or a pure delete (deleted > inserted) right after
// them. Overwritten bytes do not move; bytes after the edit move by inserted − deleted.

/** replace(offset, deleted, inserted): `deleted` bytes at `offset` gave way to `inserted` new ones. */
export interface RangeEdit {
  offset: number;
  deleted: number;
  inserted: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * How a range reacts to an edit touching it:
 *   grow   (bookmarks) an insert inside it widens it, a delete of some of its bytes shortens it;
 *          it is dropped only when all of its bytes are deleted.
 *   strict (search hits) any edit of its bytes, or an insert inside it, drops it: it no longer
 *          holds what was found.
 */
export type ShiftMode = "grow" | "strict";

/** The size change of an edit. */
export function editDelta(e: RangeEdit): number {
  return e.inserted - e.deleted;
}

/** Where `range` is after `edit`, or null when its bytes are gone. */
export function shiftRange<R extends ByteRange>(range: R, edit: RangeEdit, mode: ShiftMode = "grow"): R | null {
  const start = range.offset;
  const end = range.offset + range.length;
  const p = edit.offset;
  if (mode === "strict") {
    const touched = edit.deleted > 0 ? start < p + edit.deleted && end > p : start < p && end > p;
    if (touched) return null;
    if (start >= p + edit.deleted) return moved(range, start + editDelta(edit), range.length);
    return range;
  }
  const kept = Math.min(edit.deleted, edit.inserted);
  const q = p + kept; // where the pure insert or delete happens
  if (edit.inserted > edit.deleted) {
    const n = edit.inserted - edit.deleted;
    if (start >= q) return moved(range, start + n, range.length);
    if (end > q) return moved(range, start, range.length + n);
    return range;
  }
  if (edit.deleted > edit.inserted) {
    const n = edit.deleted - edit.inserted;
    const qe = q + n;
    if (end <= q) return range;
    if (start >= qe) return moved(range, start - n, range.length);
    const overlap = Math.min(end, qe) - Math.max(start, q);
    const length = range.length - overlap;
    if (length <= 0) return null;
    return moved(range, Math.min(start, q), length);
  }
  return range;
}

function moved<R extends ByteRange>(range: R, offset: number, length: number): R {
  return offset === range.offset && length === range.length ? range : { ...range, offset, length };
}

/** Every range of `list` after `edit` (those whose bytes went are left out), or null when none moved. */
export function shiftAll<R extends ByteRange>(list: readonly R[], edit: RangeEdit, mode: ShiftMode = "grow"): R[] | null {
  let changed = false;
  const out: R[] = [];
  for (const r of list) {
    const next = shiftRange(r, edit, mode);
    if (next !== r) changed = true;
    if (next) out.push(next);
  }
  return changed ? out : null;
}

/**
 * Sorted hit starts of one length after an edit (strict: hits whose bytes changed are dropped).
 * Returns the same array when nothing moved.
 */
export function shiftStarts(starts: readonly number[], length: number, edit: RangeEdit): readonly number[] {
  let changed = false;
  const out: number[] = [];
  for (const s of starts) {
    const r = shiftRange({ offset: s, length }, edit, "strict");
    if (!r) {
      changed = true;
      continue;
    }
    if (r.offset !== s) changed = true;
    out.push(r.offset);
  }
  return changed ? out : starts;
}

/** Where a single offset (a cursor) goes: after the inserted bytes when at/after the edit's end; clamped into the edit when inside what was deleted. */
export function shiftOffset(offset: number, edit: RangeEdit): number {
  if (offset < edit.offset) return offset;
  if (offset >= edit.offset + edit.deleted) return offset + editDelta(edit);
  return Math.min(offset, edit.offset + edit.inserted);
}

/**
 * The edit an undo/redo made, from what its reply says: the changed start and the sizes before
 * and after. Exact for an undone/redone insert or delete; a replace of another length is taken as
 * an insert or a delete of the difference at the start (its bytes reload either way).
 */
export function editFromSizes(start: number, end: number, sizeBefore: number, sizeAfter: number): RangeEdit {
  const delta = sizeAfter - sizeBefore;
  if (delta > 0) return { offset: start, deleted: 0, inserted: delta };
  if (delta < 0) return { offset: start, deleted: -delta, inserted: 0 };
  return { offset: start, deleted: end - start, inserted: end - start };
}
