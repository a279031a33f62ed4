// What the Structure panel shares with the grid: the leaf fields' ranges of the active document
// (tinted in the rows through the decoration layer) and the selected node (tinted stronger). An
// external store, so the grid re-renders only when the tree or the selection changes.

import { useSyncExternalStore } from "react";

export interface FieldTint {
  docId: string;
  /** Leaf ranges sorted by start: [start, end) pairs flattened, alternating two shades. */
  starts: number[];
  ends: number[];
  selected: { start: number; end: number } | null;
}

let current: FieldTint | null = null;
const listeners = new Set<() => void>();

export function setFieldTint(t: FieldTint | null): void {
  current = t;
  for (const l of [...listeners]) l();
}

export function useFieldTint(docId: string): FieldTint | null {
  const t = useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => current,
  );
  return t && t.docId === docId ? t : null;
}

/** "" or the tint class of the byte at `offset`: "fld0"/"fld1" (alternating fields), plus "fldsel". */
export function tintClass(offset: number, t: FieldTint | null | undefined): string {
  if (!t) return "";
  let cls = "";
  let lo = 0;
  let hi = t.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t.starts[mid]! <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found >= 0 && offset < t.ends[found]!) cls = found % 2 ? "fld1" : "fld0";
  if (t.selected && offset >= t.selected.start && offset < t.selected.end) cls = cls ? `${cls} fldsel` : "fldsel";
  return cls;
}
