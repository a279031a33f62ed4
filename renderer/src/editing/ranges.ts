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

/**
 * What edits took from a list of ranges (bookmarks), so that Undo can give it back. An edit that
 * deletes all of a bookmark's bytes drops it, one that deletes some shortens it; shifting the list
 * back by the undo's own edit cannot bring either back exactly (the undo only says which bytes
 * returned). So each edit that dropped or shortened ranges is remembered with the ranges as they
 * were; an undo whose returned bytes cover that edit's deleted bytes puts them back (undo goes
 * back in the order edits were made, so the most recent memories are checked first).
 */
export class RangeUndoMemory<R extends ByteRange> {
  private readonly stack: { edit: RangeEdit; originals: R[]; results: (R | null)[] }[] = [];
  constructor(private readonly limit = 200) {}

  /** The list after an edit or a redo; remembers what it dropped or shortened. Null when nothing moved. */
  afterEdit(list: readonly R[], edit: RangeEdit): R[] | null {
    const originals: R[] = [];
    const results: (R | null)[] = [];
    for (const r of list) {
      const next = shiftRange(r, edit, "grow");
      if (!next || next.length !== r.length) {
        originals.push(r);
        results.push(next);
      }
    }
    if (originals.length > 0) {
      this.stack.push({ edit, originals, results });
      if (this.stack.length > this.limit) this.stack.shift();
    }
    return shiftAll(list, edit, "grow");
  }

  /** The list after an undo that did `edit`: shifted, then with what the undone edits took put back. Null when nothing changed. */
  afterUndo(list: readonly R[], edit: RangeEdit): R[] | null {
    let out: R[] = shiftAll(list, edit, "grow") ?? [...list];
    let changed = out.length !== list.length || out.some((r, i) => r !== list[i]);
    const lo = edit.offset;
    const hi = edit.offset + edit.inserted;
    while (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      const d = top.edit;
      // The undone edit's deleted bytes must be among those the undo brought back.
      if (!(d.deleted > d.inserted && d.offset >= lo && d.offset + d.deleted <= hi)) break;
      this.stack.pop();
      top.originals.forEach((orig, i) => {
        const result = top.results[i];
        if (result) {
          // The shortened one, as the undo's shift left it: replace it by the original.
          const now = shiftRange(result, edit, "grow");
          const at = now ? out.findIndex((x) => x.offset === now.offset && x.length === now.length && sameExtras(x, now)) : -1;
          if (at >= 0) out.splice(at, 1);
          else if (out.some((x) => x.offset === orig.offset && x.length === orig.length && sameExtras(x, orig))) return;
        }
        out.push(orig);
        changed = true;
      });
    }
    if (!changed) return null;
    out = out.sort((a, b) => a.offset - b.offset || a.length - b.length);
    return out;
  }

  /** Forgets everything (another document, a reload). */
  clear(): void {
    this.stack.length = 0;
  }
}

function sameExtras(a: ByteRange, b: ByteRange): boolean {
  for (const k of Object.keys(a) as (keyof ByteRange)[]) {
    if (k === "offset" || k === "length") continue;
    if ((a as unknown as Record<string, unknown>)[k] !== (b as unknown as Record<string, unknown>)[k]) return false;
  }
  return true;
}
