// Our own vertical scrollbar. A native one cannot span a billion rows (browsers cap an element's
// height near 16.7M px), so the thumb maps to the row range instead: thumb at the top is row 0,
// at the bottom the last page. Drag the thumb, click the track to page, hold to keep paging.

import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent, type RefObject } from "react";
import { rowForThumb, thumbGeometry } from "./scrollMath";
import { useClientHeight } from "./useClientHeight";

export interface ScrollbarProps {
  topRow: number;
  maxTop: number;
  totalRows: number;
  visibleRows: number;
  onScrollTo(row: number): void;
  onPage(direction: 1 | -1): void;
  controls?: string;
}

export function Scrollbar({ topRow, maxTop, totalRows, visibleRows, onScrollTo, onPage, controls }: ScrollbarProps) {
  const trackRef = useRef<HTMLDivElement>(null);
  const [trackHeight, setTrackHeight] = useState(0);
  const drag = useRef<{ startY: number; startTop: number; travel: number } | null>(null);
  const repeat = useRef<{ timer: number; y: number } | null>(null);
  const [dragging, setDragging] = useState(false);
  const latest = useRef({ topRow, maxTop, onPage, onScrollTo, trackHeight, totalRows, visibleRows });
  latest.current = { topRow, maxTop, onPage, onScrollTo, trackHeight, totalRows, visibleRows };

  useClientHeight(trackRef, setTrackHeight);

  useEffect(() => () => stopRepeat(), []);

  const { thumb, top } = thumbGeometry(trackHeight, topRow, maxTop, totalRows, visibleRows);
  const disabled = maxTop <= 0;

  function stopRepeat() {
    if (repeat.current) {
      clearInterval(repeat.current.timer);
      repeat.current = null;
    }
  }

  function pageTowards(y: number) {
    const l = latest.current;
    const g = thumbGeometry(l.trackHeight, l.topRow, l.maxTop, l.totalRows, l.visibleRows);
    if (y < g.top) l.onPage(-1);
    else if (y > g.top + g.thumb) l.onPage(1);
    else stopRepeat();
  }

  function onTrackPointerDown(e: ReactPointerEvent<HTMLDivElement>) {
    if (e.button !== 0 || disabled) return;
    e.preventDefault();
    const rect = trackRef.current!.getBoundingClientRect();
    const y = e.clientY - rect.top;
    const target = e.target as HTMLElement;
    if (target.dataset.part === "thumb") {
      const g = thumbGeometry(trackHeight, topRow, maxTop, totalRows, visibleRows);
      drag.current = { startY: e.clientY, startTop: g.top, travel: g.travel };
      setDragging(true);
      trackRef.current!.setPointerCapture(e.pointerId);
      return;
    }
    trackRef.current!.setPointerCapture(e.pointerId);
    pageTowards(y);
    stopRepeat();
    const state = { y, timer: 0 };
    state.timer = window.setTimeout(() => {
      state.timer = window.setInterval(() => pageTowards(state.y), 60);
    }, 350);
    repeat.current = state;
  }

  function onPointerMove(e: ReactPointerEvent<HTMLDivElement>) {
    const d = drag.current;
    if (d) {
      const pos = Math.min(d.travel, Math.max(0, d.startTop + e.clientY - d.startY));
      const l = latest.current;
      const row = rowForThumb(pos, d.travel, l.maxTop);
      if (row !== l.topRow) l.onScrollTo(row);
    } else if (repeat.current) {
      repeat.current.y = e.clientY - trackRef.current!.getBoundingClientRect().top;
    }
  }

  function onPointerUp(e: ReactPointerEvent<HTMLDivElement>) {
    drag.current = null;
    setDragging(false);
    stopRepeat();
    if (trackRef.current?.hasPointerCapture(e.pointerId)) trackRef.current.releasePointerCapture(e.pointerId);
  }

  return (
    <div
      ref={trackRef}
      className={`scrollbar${disabled ? " disabled" : ""}${dragging ? " dragging" : ""}`}
      data-testid="scrollbar"
      role="scrollbar"
      aria-orientation="vertical"
      aria-controls={controls}
      aria-valuemin={0}
      aria-valuemax={maxTop}
      aria-valuenow={topRow}
      aria-label="Rows"
      onPointerDown={onTrackPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
    >
      {!disabled && (
        <div className="thumb" data-part="thumb" data-testid="scrollbar-thumb" style={{ height: thumb, transform: `translateY(${top}px)` }} />
      )}
    </div>
  );
}

/**
 * The mouse wheel over `ref`'s element, in whole rows, for `onRows` (a native listener: React's
 * is passive). Line deltas count rows, page deltas pages of `pageRows()` rows; pixel deltas carry
 * their remainder to the next event. Ctrl+wheel (browser zoom) and mostly horizontal wheels (the
 * browser scrolls a wide row) are left alone.
 */
export function useWheelRows(ref: RefObject<HTMLElement | null>, rowHeight: number, pageRows: () => number, onRows: (rows: number) => void): void {
  const page = useRef(pageRows);
  page.current = pageRows;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let carry = 0;
    const onWheel = (e: WheelEvent) => {
      if (e.ctrlKey) return;
      if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
      e.preventDefault();
      let rows: number;
      if (e.deltaMode === WheelEvent.DOM_DELTA_LINE) rows = e.deltaY;
      else if (e.deltaMode === WheelEvent.DOM_DELTA_PAGE) rows = e.deltaY * page.current();
      else {
        carry += e.deltaY / rowHeight;
        rows = Math.trunc(carry);
        carry -= rows;
      }
      rows = Math.trunc(rows);
      if (rows) onRows(rows);
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [ref, rowHeight, onRows]);
}
