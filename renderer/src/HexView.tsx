// The hex grid of one document. Its position is a top row number (a JS number, exact to 2^53),
// not a pixel scroll offset: a 1 TiB file at 16 bytes a row has 2^36 rows, far past what any
// browser lets an element be tall. react-window renders just the rows that fit; our own
// scrollbar, the wheel, the keys and Go to all move the row number.

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { List } from "react-window";
import type { DocumentInfo } from "./api";
import { GotoDialog } from "./GotoDialog";
import { HexRow, type HexRowProps, type Pane } from "./HexRow";
import type { PageCache } from "./pageCache";
import { Scrollbar, useWheelRows } from "./Scrollbar";
import { StatusBar } from "./StatusBar";
import { useClientHeight } from "./useClientHeight";
import { EditSession } from "./editing/session";
import { useEditKeys } from "./editing/useEditKeys";
import type { LiveView } from "./shm/liveView";
import type { FoundRanges } from "./search/highlight";
import { useFieldTint } from "./structure/store";
import { baseName, byteAtHexColumn, copyText, groupDigits, hexHeader, hexWidth, MAX_COPY, offsetDigits, type Highlight } from "./format";

export const ROW_HEIGHT = 20;

export interface ViewState {
  topRow: number;
  cursor: number;
  /** Selection anchor; null when nothing is selected. The selection is anchor..cursor inclusive. */
  anchor: number | null;
  pane: Pane;
}

export const initialView: ViewState = { topRow: 0, cursor: 0, anchor: null, pane: "hex" };

export interface HexViewProps {
  doc: DocumentInfo;
  cache: PageCache;
  view: ViewState;
  setView(update: (v: ViewState) => ViewState): void;
  bpr: number;
  onBprChange(bpr: number): void;
  /** Increments when the app asks for the Go to dialog (Ctrl+G, menu). */
  gotoRequest: number;
  onNotice(text: string, kind?: "error" | "info"): void;
  /** Editing (typing, undo/redo, paste, fill); absent: view only. */
  editing?: EditSession | null;
  /** A live (shared-memory) document: told what is on screen; flashes the bytes that changed. */
  live?: LiveView | null;
  /** Drawn beside the scrollbar (the byte map). */
  overview?: React.ReactNode;
  /** Search hits to highlight in the rows on screen (the search bar's current hit and find-all hits). */
  found?: FoundRanges | null;
}

interface Metrics {
  bpr: number;
  size: number;
  totalRows: number;
  /** Rows fully visible. */
  fullRows: number;
  /** Rows at least partly visible. */
  visibleRows: number;
  maxTop: number;
  /** Insert mode in a resizable document: the cursor may stand after the last byte (append). */
  append: boolean;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function lastByte(m: Metrics): number {
  return Math.max(0, m.size - 1);
}

/** The last cursor position: the last byte, or the append position after it in insert mode. */
function lastPos(m: Metrics): number {
  return m.append ? m.size : lastByte(m);
}

/** Scrolls as little as possible so the cursor's row is fully visible. */
function reveal(v: ViewState, m: Metrics, center = false): ViewState {
  const row = Math.floor(v.cursor / m.bpr);
  let top = v.topRow;
  if (row < top || row >= top + m.fullRows) {
    top = center ? row - Math.floor(m.fullRows / 2) : row < top ? row : row - m.fullRows + 1;
  }
  return { ...v, topRow: clamp(top, 0, m.maxTop) };
}

function moveCursor(v: ViewState, m: Metrics, to: number, extend: boolean): ViewState {
  const cursor = clamp(to, 0, lastPos(m));
  const anchor = extend ? (v.anchor ?? v.cursor) : null;
  return reveal({ ...v, cursor, anchor }, m);
}

/**
 * Rows are keyed by their absolute row number, so scrolling by a few rows moves the rows that stay
 * on screen (a transform) instead of rewriting the text of every row.
 */
function absoluteRowKey(index: number, props: HexRowProps): number {
  return props.topRow + index;
}

const noSubscribe = () => () => {};
const zero = () => 0;

function useCacheVersion(cache: PageCache): number {
  return useSyncExternalStore(
    useCallback((cb) => cache.subscribe(cb), [cache]),
    () => cache.version,
  );
}

export function HexView({ editing = null, doc, cache, view, setView, bpr, onBprChange, gotoRequest, onNotice, live = null, overview = null, found = null }: HexViewProps) {
  const bodyRef = useRef<HTMLDivElement>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const areaRef = useRef<HTMLDivElement>(null);
  const hexHeaderRef = useRef<HTMLSpanElement>(null);
  const asciiHeaderRef = useRef<HTMLSpanElement>(null);
  const [bodyHeight, setBodyHeight] = useState(0);
  const [gotoOpen, setGotoOpen] = useState(false);
  const version = useCacheVersion(cache);
  const liveVersion = useSyncExternalStore(live?.subscribe ?? noSubscribe, live?.getVersion ?? zero);
  /** Structure panel fields tinted in the rows (renderer/src/structure/store.ts). */
  const tint = useFieldTint(doc.docId);

  const snapInsert = useSyncExternalStore(editing?.subscribe ?? noSubscribe, () => !!editing?.snapshot.insertMode);
  const append = !!editing && snapInsert && EditSession.canResize(doc);
  const size = doc.size;
  const totalRows = Math.ceil((size + (append ? 1 : 0)) / bpr);
  const fullRows = Math.max(1, Math.floor(bodyHeight / ROW_HEIGHT));
  const visibleRows = Math.max(1, Math.ceil(bodyHeight / ROW_HEIGHT));
  const maxTop = Math.max(0, totalRows - fullRows);
  const m: Metrics = { bpr, size, totalRows, fullRows, visibleRows, maxTop, append };
  const latest = useRef({ m, view, doc });
  latest.current = { m, view, doc };
  const digits = offsetDigits(size);
  const topRow = clamp(view.topRow, 0, maxTop);

  // A document that comes to the front takes the keyboard (its tab was clicked, or it was opened).
  useEffect(() => {
    gridRef.current?.focus({ preventScroll: true });
    document.title = `${baseName(doc.name)} — Hexmap`;
    return () => {
      document.title = "Hexmap";
    };
  }, [doc.docId, doc.name]);

  useClientHeight(bodyRef, setBodyHeight, true);

  // Ask the cache for the visible pages, then prefetch in the direction of travel.
  const lastTop = useRef(topRow);
  const direction = useRef<1 | -1>(1);
  const docRef = useMemo(() => ({ docId: doc.docId, generation: doc.generation, size: doc.size }), [doc.docId, doc.generation, doc.size]);
  // A layout effect: the read is on its way before the placeholder frame is painted.
  useLayoutEffect(() => {
    if (size === 0) return;
    if (topRow !== lastTop.current) direction.current = topRow > lastTop.current ? 1 : -1;
    lastTop.current = topRow;
    const first = Math.floor((topRow * bpr) / cache.pageSize);
    const endOffset = Math.min(size, (topRow + visibleRows) * bpr) - 1;
    const last = Math.floor(Math.max(0, endOffset) / cache.pageSize);
    const visible: number[] = [];
    for (let p = first; p <= last; p++) visible.push(p);
    const d = direction.current;
    const ahead = d > 0 ? [last + 1, last + 2, first - 1] : [first - 1, first - 2, last + 1];
    cache.want(docRef, visible, ahead);
  }, [cache, docRef, topRow, visibleRows, bpr, size, version]);

  // A live document re-reads what is on screen: tell it which bytes those are.
  useEffect(() => {
    if (!live) return;
    const start = topRow * bpr;
    live.setVisible(start, Math.max(0, Math.min(size, (topRow + visibleRows) * bpr) - start));
  }, [live, topRow, visibleRows, bpr, size]);

  // ---- Navigation ----------------------------------------------------------------------------

  const update = useCallback(
    (fn: (v: ViewState, m: Metrics) => ViewState) => setView((v) => fn(v, latest.current.m)),
    [setView],
  );

  /** Typing moved the cursor: it may stand past the shown size while its edits are on their way. */
  const revealOnSize = useRef(false);
  const moveTyped = useCallback(
    (offset: number) => {
      revealOnSize.current = true;
      update((v, m) => {
        const expected = editing ? editing.expectedSize(latest.current.doc.docId, m.size) : m.size;
        const cursor = clamp(offset, 0, Math.max(0, expected - 1 + (m.append ? 1 : 0)));
        return reveal({ ...v, cursor, anchor: null }, m);
      });
    },
    [update, editing],
  );
  const editKeys = useEditKeys(editing, doc, view, { moveTyped, copy: () => copySelection() });

  // Keep the position legal when the size, the row width or the window changes (against the size
  // the queued edits will leave: a cursor typed past the shown end is not pulled back).
  useEffect(() => {
    const expected = editing ? editing.expectedSize(doc.docId, size) : size;
    const maxCursor = Math.max(0, expected - 1 + (append ? 1 : 0));
    if (topRow !== view.topRow || view.cursor > maxCursor || (view.anchor !== null && view.anchor > maxCursor)) {
      setView((v) => ({
        ...v,
        topRow: clamp(v.topRow, 0, maxTop),
        cursor: Math.min(v.cursor, maxCursor),
        anchor: v.anchor === null ? null : Math.min(v.anchor, maxCursor),
      }));
    }
  }, [topRow, view.topRow, view.cursor, view.anchor, maxTop, size, append, editKeys.failures]); // eslint-disable-line react-hooks/exhaustive-deps

  // Once the size a typed move waited for arrives, scroll the cursor into view.
  useEffect(() => {
    if (!revealOnSize.current) return;
    revealOnSize.current = false;
    update((v, m) => reveal(v, m));
  }, [size, append, update]);

  const scrollBy = useCallback(
    (rows: number) => update((v, m) => ({ ...v, topRow: clamp(v.topRow + rows, 0, m.maxTop) })),
    [update],
  );

  const goto = useCallback(
    (offset: number) => {
      setGotoOpen(false);
      update((v, m) => reveal({ ...v, cursor: clamp(offset, 0, lastByte(m)), anchor: null }, m, true));
      gridRef.current?.focus();
    },
    [update],
  );

  // A new row width keeps the top bytes in place (App maps topRow); keep the cursor on screen too.
  const seenBpr = useRef(bpr);
  useEffect(() => {
    if (bpr === seenBpr.current || bodyHeight === 0) return;
    seenBpr.current = bpr;
    update((v, m) => reveal(v, m));
  }, [bpr, bodyHeight, update]);

  const seenGoto = useRef(gotoRequest);
  useEffect(() => {
    if (gotoRequest === seenGoto.current) return;
    seenGoto.current = gotoRequest;
    setGotoOpen(true);
  }, [gotoRequest]);

  /** Ctrl+C (and the copy half of Ctrl+X): the selection, or the cursor byte. Resolves true when copied. */
  async function copySelection(): Promise<boolean> {
    const { view, doc } = latest.current;
    const start = view.anchor === null ? view.cursor : Math.min(view.anchor, view.cursor);
    const length = Math.min(view.anchor === null ? 1 : Math.abs(view.cursor - view.anchor) + 1, doc.size - start);
    if (length <= 0) return false;
    if (length > MAX_COPY) {
      onNotice(`The selection is too large to copy (${groupDigits(length)} bytes; at most ${groupDigits(MAX_COPY)}): nothing was copied${view.anchor !== null ? " or cut (Delete range… deletes any amount)" : ""}.`);
      return false;
    }
    try {
      const bytes = await cache.read({ docId: doc.docId, generation: doc.generation, size: doc.size }, start, length);
      await navigator.clipboard.writeText(copyText(bytes, view.pane));
      onNotice(`Copied ${groupDigits(bytes.length)} ${bytes.length === 1 ? "byte" : "bytes"} as ${view.pane === "hex" ? "hex" : "text"}.`, "info");
      return true;
    } catch (err) {
      onNotice(`Could not copy: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  function onKeyDown(e: React.KeyboardEvent) {
    if (editKeys.onKeyDown(e)) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const shift = e.shiftKey;
    const page = m.fullRows;
    let handled = true;
    switch (e.key) {
      case "ArrowLeft":
        update((v, m) => moveCursor(v, m, v.cursor - 1, shift));
        break;
      case "ArrowRight":
        update((v, m) => moveCursor(v, m, v.cursor + 1, shift));
        break;
      case "ArrowUp":
        if (ctrl) scrollBy(-1);
        else update((v, m) => (v.cursor >= m.bpr ? moveCursor(v, m, v.cursor - m.bpr, shift) : moveCursor(v, m, v.cursor, shift)));
        break;
      case "ArrowDown":
        if (ctrl) scrollBy(1);
        else update((v, m) => moveCursor(v, m, v.cursor + m.bpr, shift));
        break;
      case "PageUp":
        update((v, m) => moveCursor({ ...v, topRow: clamp(v.topRow - page, 0, m.maxTop) }, m, v.cursor - page * m.bpr, shift));
        break;
      case "PageDown":
        update((v, m) => {
          const to = v.cursor + page * m.bpr;
          return moveCursor({ ...v, topRow: clamp(v.topRow + page, 0, m.maxTop) }, m, to > lastPos(m) ? lastPos(m) : to, shift);
        });
        break;
      case "Home":
        update((v, m) => moveCursor(v, m, ctrl ? 0 : v.cursor - (v.cursor % m.bpr), shift));
        break;
      case "End":
        update((v, m) => moveCursor(v, m, ctrl ? lastPos(m) : v.cursor - (v.cursor % m.bpr) + m.bpr - 1, shift));
        break;
      case "Tab":
        update((v) => ({ ...v, pane: v.pane === "hex" ? "ascii" : "hex" }));
        break;
      case "Escape":
        update((v) => ({ ...v, anchor: null }));
        break;
      case "c":
      case "C":
        if (ctrl) void copySelection();
        else handled = false;
        break;
      case "a":
      case "A":
        if (ctrl && size > 0) update((v, m) => ({ ...v, anchor: 0, cursor: lastByte(m) }));
        else handled = false;
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  // ---- Wheel: pixel, line and page deltas → rows ---------------------------------------------

  useWheelRows(
    areaRef,
    ROW_HEIGHT,
    () => latest.current.m.fullRows,
    useCallback((rows: number) => setView((v) => ({ ...v, topRow: clamp(v.topRow + rows, 0, latest.current.m.maxTop) })), [setView]),
  );

  // ---- Mouse: click, shift-click, drag to select (auto-scrolls past the edges) ------------------

  const drag = useRef<{ pane: Pane; anchor: number; x: number; y: number; timer: number } | null>(null);

  /** The byte under a point, for a view whose top row is `top` (default: the current one). */
  const hitTest = useCallback((clientX: number, clientY: number, pane: Pane, top?: number): number | null => {
    const body = bodyRef.current;
    const header = (pane === "hex" ? hexHeaderRef : asciiHeaderRef).current;
    const { m, view } = latest.current;
    if (!body || !header || (m.size === 0 && !m.append)) return null;
    const b = body.getBoundingClientRect();
    const h = header.getBoundingClientRect();
    const chars = pane === "hex" ? hexWidth(m.bpr) : m.bpr;
    const charW = h.width / chars;
    const rowInView = Math.floor((clamp(clientY, b.top, b.bottom - 1) - b.top) / ROW_HEIGHT);
    const row = clamp(clamp(top ?? view.topRow, 0, m.maxTop) + rowInView, 0, m.totalRows - 1);
    const col = Math.floor((clientX - h.left) / charW);
    const i = pane === "hex" ? byteAtHexColumn(clamp(col, 0, chars - 1), m.bpr) : clamp(col, 0, m.bpr - 1);
    return clamp(row * m.bpr + i, 0, lastPos(m));
  }, []);

  function paneAt(target: EventTarget | null, clientX: number): Pane {
    const el = (target as HTMLElement | null)?.closest?.("[data-pane]") as HTMLElement | null;
    if (el) return el.dataset.pane as Pane;
    const a = asciiHeaderRef.current?.getBoundingClientRect();
    return a && clientX >= a.left - 8 ? "ascii" : "hex";
  }

  function onMouseDown(e: React.MouseEvent) {
    if (e.button !== 0 || (size === 0 && !append)) return;
    e.preventDefault();
    gridRef.current?.focus();
    const pane = paneAt(e.target, e.clientX);
    const hit = hitTest(e.clientX, e.clientY, pane);
    if (hit === null) return;
    if (e.shiftKey) {
      update((v, m) => reveal({ ...v, pane, anchor: v.anchor ?? v.cursor, cursor: hit }, m));
      return;
    }
    update((v) => ({ ...v, pane, cursor: hit, anchor: null }));
    const state = { pane, anchor: hit, x: e.clientX, y: e.clientY, timer: 0 };
    drag.current = state;

    const extendTo = (x: number, y: number) => {
      const at = hitTest(x, y, state.pane);
      if (at === null) return;
      update((v) => ({ ...v, cursor: at, anchor: at === state.anchor && v.anchor === null ? null : state.anchor }));
    };
    const onMove = (ev: MouseEvent) => {
      state.x = ev.clientX;
      state.y = ev.clientY;
      extendTo(ev.clientX, ev.clientY);
    };
    // Past the top or bottom edge, keep scrolling while the button is held.
    state.timer = window.setInterval(() => {
      const b = bodyRef.current?.getBoundingClientRect();
      if (!b) return;
      const over = state.y < b.top ? state.y - b.top : state.y > b.bottom ? state.y - b.bottom : 0;
      if (!over) return;
      const rows = Math.sign(over) * Math.max(1, Math.round(Math.abs(over) / ROW_HEIGHT));
      // Scroll and extend in one update, so the cursor is always the byte under the pointer.
      update((v, m) => {
        const topRow = clamp(v.topRow + rows, 0, m.maxTop);
        const at = hitTest(state.x, state.y, state.pane, topRow);
        return at === null ? { ...v, topRow } : { ...v, topRow, cursor: at, anchor: state.anchor };
      });
    }, 50);
    const onUp = () => {
      clearInterval(state.timer);
      drag.current = null;
      window.removeEventListener("mousemove", onMove);
      window.removeEventListener("mouseup", onUp);
    };
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
  }

  useEffect(
    () => () => {
      if (drag.current) clearInterval(drag.current.timer);
    },
    [],
  );

  // ---- Render -----------------------------------------------------------------------------------

  const hl: Highlight = useMemo(() => {
    const selStart = view.anchor === null ? 1 : Math.min(view.anchor, view.cursor);
    const selEnd = view.anchor === null ? 0 : Math.max(view.anchor, view.cursor);
    return { cursor: size > 0 || append ? view.cursor : -1, selStart, selEnd, nibble: editKeys.nibble, found, tint };
  }, [view.anchor, view.cursor, size, append, editKeys.nibble, found, tint]);

  const rowProps: HexRowProps = useMemo(
    () => ({ doc: docRef, cache, topRow, bpr, digits, hl, pane: view.pane, version, live, liveVersion, append }),
    [docRef, cache, topRow, bpr, digits, hl, view.pane, version, live, liveVersion, append],
  );
  const rowCount = Math.max(0, Math.min(visibleRows, totalRows - topRow));
  const gridId = `grid-${doc.docId}`;
  const cssVars = { "--digits": digits, "--hexw": hexWidth(bpr), "--bpr": bpr } as React.CSSProperties;

  return (
    <div className="hexview">
      <div className="grid-area" ref={areaRef}>
        <div
          ref={gridRef}
          id={gridId}
          className={`grid pane-${view.pane}`}
          style={cssVars}
          tabIndex={0}
          role="group"
          aria-roledescription="hex grid"
          aria-label={`Bytes of ${doc.name}`}
          data-testid="hex-grid"
          data-top-row={topRow}
          data-full-rows={fullRows}
          data-max-top={maxTop}
          data-bpr={bpr}
          data-active-pane={view.pane}
          data-insert-mode={append || editKeys.insertMode ? "true" : undefined}
          onKeyDown={onKeyDown}
          onPaste={editKeys.onPaste}
          onMouseDown={onMouseDown}
        >
          <div className="row header" aria-hidden="true">
            <span className="off">Offset</span>
            <span className="hex" ref={hexHeaderRef}>
              {hexHeader(bpr)}
            </span>
            <span className="ascii" ref={asciiHeaderRef}>
              {"Decoded text".slice(0, bpr).padEnd(bpr, " ")}
            </span>
          </div>
          <div className="body" ref={bodyRef}>
            {size === 0 && !append ? (
              <div className="empty-file" data-testid="empty-file">
                Empty file (0 bytes)
              </div>
            ) : (
              bodyHeight > 0 && (
                <List
                  className="rows"
                  rowComponent={HexRow}
                  rowCount={rowCount}
                  rowHeight={ROW_HEIGHT}
                  rowKey={absoluteRowKey}
                  rowProps={rowProps}
                  overscanCount={1}
                  defaultHeight={bodyHeight}
                  style={{ overflow: "hidden", height: "100%" }}
                />
              )
            )}
          </div>
        </div>
        <Scrollbar
          topRow={topRow}
          maxTop={maxTop}
          totalRows={totalRows}
          visibleRows={fullRows}
          controls={gridId}
          onScrollTo={(row) => setView((v) => ({ ...v, topRow: clamp(row, 0, latest.current.m.maxTop) }))}
          onPage={(d) => scrollBy(d * latest.current.m.fullRows)}
        />
        {overview}
      </div>
      <StatusBar
        doc={doc}
        view={view}
        bpr={bpr}
        onBprChange={onBprChange}
        insertMode={editing ? editKeys.insertMode : null}
        onToggleInsert={() => {
          editing?.toggleInsertMode();
          gridRef.current?.focus({ preventScroll: true });
        }}
      />
      {gotoOpen && (
        <GotoDialog
          cursor={view.cursor}
          size={size}
          onGo={goto}
          onClose={() => {
            setGotoOpen(false);
            gridRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}
