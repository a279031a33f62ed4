// Bookmarks: named, coloured ranges of a file, kept by the host per file in the user's config
// folder (bookmarks-get / bookmarks-set), so they come back after a restart. Add from the
// selection (Ctrl+B), go to the next / previous one (F2 / Shift+F2), rename, recolour, delete,
// export and import as JSON. An edit that inserts or deletes bytes moves the bookmarks after it
// with their bytes (and drops those whose bytes it deleted): editing/ranges.ts shiftRange, grow;
// Undo of that edit brings the dropped or shortened ones back as they were (RangeUndoMemory).

import { useCallback, useEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { Bookmark } from "../../../app/protocol/panels";
import { MAX_BOOKMARK_NAME, MAX_BOOKMARKS } from "../../../app/protocol/panel-constants";
import { groupDigits, hex } from "../format";
import type { Range } from "./scope";
import type { EditSession } from "../editing/session";
import { RangeUndoMemory } from "../editing/ranges";

/** Bookmarks moved by typing are written to the host this long after the last keystroke. */
const SHIFT_SAVE_DELAY_MS = 300;


export const BOOKMARK_COLORS = ["#e5534b", "#d4a72c", "#57ab5a", "#39c5cf", "#539bf5", "#b083f0", "#e275ad"] as const;

export interface BookmarkState {
  list: Bookmark[];
  loaded: boolean;
  save(next: Bookmark[]): Promise<boolean>;
  add(range: Range): Promise<void>;
  /** The first bookmark starting after `offset` (wraps), or the last one before it. */
  next(offset: number, direction: 1 | -1): Bookmark | null;
}

export function useBookmarks(
  api: HexmapApi,
  doc: DocumentInfo | null,
  onNotice: (t: string, k?: "error" | "info") => void,
  editing: EditSession | null = null,
): BookmarkState {
  const [list, setList] = useState<Bookmark[]>([]);
  const [loaded, setLoaded] = useState(false);
  const latest = useRef(list);
  latest.current = list;
  const docId = doc?.docId ?? null;
  /** What edits dropped or shortened, for Undo to give back. */
  const memory = useRef(new RangeUndoMemory<Bookmark>());
  /** A write of bookmarks moved by edits, not sent yet. */
  const pendingShift = useRef<{ docId: string; timer: number } | null>(null);

  const flushShift = useCallback(() => {
    const p = pendingShift.current;
    if (!p) return;
    pendingShift.current = null;
    clearTimeout(p.timer);
    api.request("bookmarks-set", { docId: p.docId, bookmarks: latest.current }).catch((err) => onNotice(`Could not save the moved bookmarks: ${err instanceof Error ? err.message : String(err)}`));
  }, [api, onNotice]);

  // Edits move the bookmarks at once on screen; the host gets the new list shortly after.
  useEffect(() => {
    if (!editing || !docId) return;
    return editing.onEdit((id, edit, _generation, cause) => {
      if (id !== docId) return;
      const next = cause === "undo" ? memory.current.afterUndo(latest.current, edit) : memory.current.afterEdit(latest.current, edit);
      if (!next) return;
      latest.current = next;
      setList(next);
      if (pendingShift.current) clearTimeout(pendingShift.current.timer);
      pendingShift.current = { docId, timer: window.setTimeout(flushShift, SHIFT_SAVE_DELAY_MS) };
    });
  }, [editing, docId, flushShift]);

  useEffect(() => {
    flushShift(); // the bookmarks of the document left behind, moved by its edits
    memory.current.clear();
    setList([]);
    setLoaded(false);
    if (!docId) return;
    let live = true;
    api
      .request("bookmarks-get", { docId })
      .then((r) => {
        if (!live) return;
        setList(r.bookmarks);
        setLoaded(true);
      })
      .catch((err) => live && onNotice(`Could not load bookmarks: ${err instanceof Error ? err.message : String(err)}`));
    return () => {
      live = false;
    };
  }, [api, docId]); // eslint-disable-line react-hooks/exhaustive-deps

  const save = useCallback(
    async (next: Bookmark[]) => {
      if (!docId) return false;
      if (pendingShift.current) {
        clearTimeout(pendingShift.current.timer);
        pendingShift.current = null;
      }
      // Shown at once (a second click right after a delete acts on the list as it now is); the
      // host's reply is the checked list, and a refusal puts the previous one back.
      const before = latest.current;
      latest.current = next;
      setList(next);
      try {
        const r = await api.request("bookmarks-set", { docId, bookmarks: next });
        if (latest.current === next) {
          latest.current = r.bookmarks;
          setList(r.bookmarks);
        }
        return true;
      } catch (err) {
        if (latest.current === next) {
          latest.current = before;
          setList(before);
        }
        onNotice(`Could not save bookmarks: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
    },
    [api, docId, onNotice],
  );

  const add = useCallback(
    async (range: Range) => {
      const cur = latest.current;
      const n = cur.length + 1;
      const b: Bookmark = { name: `Bookmark ${n}`, offset: range.offset, length: range.length, color: BOOKMARK_COLORS[(n - 1) % BOOKMARK_COLORS.length]! };
      if (await save([...cur, b])) onNotice(`Bookmark added at ${hex(range.offset)} (${groupDigits(range.length)} ${range.length === 1 ? "byte" : "bytes"}).`, "info");
    },
    [save, onNotice],
  );

  const next = useCallback((offset: number, direction: 1 | -1) => {
    const sorted = [...latest.current].sort((a, b) => a.offset - b.offset);
    if (sorted.length === 0) return null;
    if (direction > 0) return sorted.find((b) => b.offset > offset) ?? sorted[0]!;
    return [...sorted].reverse().find((b) => b.offset < offset) ?? sorted[sorted.length - 1]!;
  }, []);

  return { list, loaded, save, add, next };
}

/** Checks an imported bookmarks file: {format: "hexmap-bookmarks", bookmarks: [...]} or a bare array. */
export function parseBookmarkFile(text: string, size: number): { ok: true; bookmarks: Bookmark[] } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "The file is not JSON." };
  }
  const arr = Array.isArray(json) ? json : (json as { bookmarks?: unknown })?.bookmarks;
  if (!Array.isArray(arr)) return { ok: false, error: 'Expected {"format": "hexmap-bookmarks", "bookmarks": [...]}.' };
  if (arr.length > MAX_BOOKMARKS) return { ok: false, error: `At most ${MAX_BOOKMARKS} bookmarks.` };
  const out: Bookmark[] = [];
  for (let i = 0; i < arr.length; i++) {
    const b = arr[i] as Record<string, unknown>;
    const where = `Bookmark ${i + 1}`;
    if (typeof b !== "object" || b === null) return { ok: false, error: `${where} is not an object.` };
    const { name, offset, length, color } = b;
    if (typeof name !== "string" || name.length > MAX_BOOKMARK_NAME) return { ok: false, error: `${where}: "name" must be a string of at most ${MAX_BOOKMARK_NAME} characters.` };
    if (!Number.isSafeInteger(offset) || (offset as number) < 0) return { ok: false, error: `${where}: "offset" must be a non-negative integer.` };
    if (!Number.isSafeInteger(length) || (length as number) < 1) return { ok: false, error: `${where}: "length" must be a positive integer.` };
    if (typeof color !== "string" || !/^#[0-9a-fA-F]{6}$/.test(color)) return { ok: false, error: `${where}: "color" must look like #rrggbb.` };
    if ((offset as number) + (length as number) > size) return { ok: false, error: `${where} (${name}) ends past the end of this file.` };
    out.push({ name, offset: offset as number, length: length as number, color });
  }
  return { ok: true, bookmarks: out };
}

export interface BookmarksProps {
  doc: DocumentInfo;
  state: BookmarkState;
  selection: Range | null;
  cursor: number;
  onJump(offset: number, length?: number): void;
  onNotice(text: string, kind?: "error" | "info"): void;
}

export function Bookmarks({ doc, state, selection, cursor, onJump, onNotice }: BookmarksProps) {
  const [editing, setEditing] = useState<number | null>(null);
  const [name, setName] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const list = state.list;

  function exportJson() {
    const body = JSON.stringify({ format: "hexmap-bookmarks", version: 1, file: doc.name, size: doc.size, bookmarks: list }, null, 2);
    const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${doc.name.split(/[\\/]/).filter(Boolean).pop() ?? "file"}.bookmarks.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async function importJson(file: File) {
    const parsed = parseBookmarkFile(await file.text(), doc.size);
    if (!parsed.ok) {
      onNotice(`Cannot import ${file.name}: ${parsed.error}`);
      return;
    }
    if (await state.save([...list, ...parsed.bookmarks])) onNotice(`Imported ${parsed.bookmarks.length} bookmarks.`, "info");
  }

  return (
    <section className="panel bookmarks" data-testid="bookmarks" aria-label="Bookmarks">
      <div className="panel-bar">
        <button type="button" data-testid="bookmark-add" disabled={doc.size === 0} onClick={() => void state.add(selection ?? { offset: cursor, length: 1 })} title="Bookmark the selection (Ctrl+B)">
          Add <kbd>Ctrl+B</kbd>
        </button>
        <button type="button" data-testid="bookmark-prev" disabled={!list.length} onClick={() => { const b = state.next(cursor, -1); if (b) onJump(b.offset, b.length); }} title="Previous bookmark (Shift+F2)">
          ↑ <kbd>Shift+F2</kbd>
        </button>
        <button type="button" data-testid="bookmark-next" disabled={!list.length} onClick={() => { const b = state.next(cursor, 1); if (b) onJump(b.offset, b.length); }} title="Next bookmark (F2)">
          ↓ <kbd>F2</kbd>
        </button>
        <span className="spacer" />
        <button type="button" data-testid="bookmark-export" disabled={!list.length} onClick={exportJson} title="Download the bookmarks as JSON">
          Export
        </button>
        <button type="button" data-testid="bookmark-import" onClick={() => fileInput.current?.click()} title="Add bookmarks from a JSON file">
          Import
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="bookmark-import-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = "";
            if (f) void importJson(f);
          }}
        />
      </div>
      {list.length === 0 ? (
        <p className="hint">No bookmarks yet. Select bytes and press Ctrl+B. They are kept for this file in your Hexmap settings folder.</p>
      ) : (
        <ul className="bm-list" data-testid="bookmark-list">
          {list.map((b, i) => {
            const inside = cursor >= b.offset && cursor < b.offset + b.length;
            return (
              <li key={`${b.offset}:${b.length}:${i}`} className={inside ? "current" : ""} data-testid="bookmark" data-offset={b.offset} data-length={b.length}>
                <input
                  type="color"
                  value={b.color}
                  aria-label={`Colour of ${b.name}`}
                  onChange={(e) => void state.save(list.map((x, j) => (j === i ? { ...x, color: e.target.value } : x)))}
                />
                {editing === i ? (
                  <input
                    autoFocus
                    className="bm-name-input"
                    value={name}
                    maxLength={MAX_BOOKMARK_NAME}
                    aria-label="Bookmark name"
                    onChange={(e) => setName(e.target.value)}
                    onBlur={() => {
                      setEditing(null);
                      if (name !== b.name) void state.save(list.map((x, j) => (j === i ? { ...x, name } : x)));
                    }}
                    onKeyDown={(e) => {
                      if (e.key === "Enter") (e.target as HTMLInputElement).blur();
                      if (e.key === "Escape") {
                        setName(b.name);
                        setEditing(null);
                      }
                      e.stopPropagation();
                    }}
                  />
                ) : (
                  <button type="button" className="bm-go" onClick={() => onJump(b.offset, b.length)} onDoubleClick={() => { setName(b.name); setEditing(i); }} title="Go to (double-click to rename)">
                    <span className="bm-name" data-testid="bookmark-name">{b.name || "(unnamed)"}</span>
                    <span className="bm-range mono">
                      {hex(b.offset)} · {groupDigits(b.length)} B
                    </span>
                  </button>
                )}
                <button type="button" className="icon" aria-label={`Delete ${b.name}`} data-testid="bookmark-delete" onClick={() => void state.save(list.filter((_, j) => j !== i))}>
                  ×
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
