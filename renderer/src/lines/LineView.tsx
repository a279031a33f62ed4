// The log view: a document as numbered lines. Its position is a top row number, as in the hex
// grid (a JS number: hundreds of millions of lines are fine); react-window renders the rows that
// fit and the grid's own Scrollbar maps its thumb to the row range. Lines come from the host by
// number (lineCache.ts), cut at 4 KiB with a marker; a long line opens whole, a slice at a time,
// in LongLineDialog. The index builds on the host while the view is already usable.
//
// Unsaved edits (in the hex view, another window, undo/redo) are in the lines: the host sends
// `lines-changed {kind: "edited"}`, the cache drops the lines from the first changed byte on and
// the line count follows as the host re-indexes from there; a filter is run again.
//
// Follow (Ctrl+Shift+F): the host tails the file; new lines appear and the view stays at the end
// if it was there; a rotation reloads from line 1 and says so. Find (Ctrl+F): text or regex,
// Enter / F3 = next match; Filter shows only the matching lines with their real numbers.

import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { List, type RowComponentProps } from "react-window";
import type { DocumentInfo, HexmapApi, HostEvent } from "../api";
import { HostError } from "../api";
import { Scrollbar, useWheelRows } from "../Scrollbar";
import { useClientHeight } from "../useClientHeight";
import { groupDigits } from "../format";
import { CUT_BYTES, LineCache, sizeLabel } from "./lineCache";
import { LongLineDialog } from "./LongLineDialog";
import { GotoLineDialog } from "./GotoLineDialog";
import type { FilterDone, LineEncoding, LineIndexState, LineInfo } from "../../../app/protocol/lines";
import "./lines.css";

export const LINE_HEIGHT = 20;
/** Ctrl+C copies at most this many lines, each cut at COPY_LINE_BYTES. */
export const MAX_COPY_LINES = 10_000;
export const MAX_COPY_CHARS = 16 * 1024 * 1024;
const COPY_LINE_BYTES = 64 * 1024;

export const ENCODING_LABELS: Record<LineEncoding, string> = { "utf-8": "UTF-8", "utf-16le": "UTF-16LE", "utf-16be": "UTF-16BE", latin1: "Latin-1" };

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

interface FilterState {
  jobId: string | null;
  regex: string;
  /** The regular expression sent (regex escaped when it is plain text). */
  source: string;
  flags: string;
  lines: number[];
  done: boolean;
  canceled: boolean;
  progress: number;
  skipped: number;
  error?: string;
}

export interface LineViewProps {
  api: HexmapApi;
  doc: DocumentInfo;
  /** Encoding from the sniff (the host's default when absent). */
  encoding?: LineEncoding;
  /** Line to show first (from the hex view's cursor). */
  initialLine?: number;
  onNotice(text: string, kind?: "error" | "info"): void;
  /** Remember where the view is (to come back to it, and for the hex view's cursor). */
  onPosition?(line: number): void;
}

interface RowData {
  cache: LineCache;
  topRow: number;
  lineOf: (row: number) => number | undefined;
  cursorRow: number;
  selFrom: number;
  selTo: number;
  digits: number;
  wrap: boolean;
  version: number;
  onNumberDown(row: number, e: React.MouseEvent): void;
  onMore(line: LineInfo): void;
}

function LineRow({ index, style, cache, topRow, lineOf, cursorRow, selFrom, selTo, digits, onNumberDown, onMore }: RowComponentProps<RowData>) {
  const row = topRow + index;
  const n = lineOf(row);
  const line = n === undefined ? undefined : cache.get(n);
  const selected = row >= selFrom && row <= selTo;
  const cls = `lrow${row === cursorRow ? " cursor" : ""}${selected ? " selected" : ""}`;
  return (
    <div className={cls} style={style} data-testid="line-row" data-line={n} data-row={row}>
      <span className="ln" style={{ width: `${digits + 1}ch` }} onMouseDown={(e) => onNumberDown(row, e)} data-testid="line-number">
        {n ?? ""}
      </span>
      <span className="lt" data-testid="line-text">
        {line ? line.text : n === undefined ? "" : <span className="loading">…</span>}
      </span>
      {line?.truncated && (
        <button type="button" className="more" data-testid="line-more" title="Show the whole line" onMouseDown={(e) => e.stopPropagation()} onClick={() => onMore(line)}>
          … [+{sizeLabel(Math.max(0, line.length - CUT_BYTES))}]
        </button>
      )}
    </div>
  );
}

function describe(err: unknown): string {
  if (err instanceof HostError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function LineView({ api, doc, encoding: sniffed, initialLine = 1, onNotice, onPosition }: LineViewProps) {
  const cache = useMemo(() => new LineCache(api, doc.docId), [api, doc.docId]);
  const version = useSyncExternalStore(cache.subscribe, () => cache.version);
  const [idx, setIdx] = useState<LineIndexState | null>(null);
  const [encoding, setEncoding] = useState<LineEncoding | undefined>(sniffed);
  const [topRow, setTopRow] = useState(Math.max(0, initialLine - 1));
  const [cursorRow, setCursorRow] = useState(Math.max(0, initialLine - 1));
  const [anchorRow, setAnchorRow] = useState<number | null>(null);
  const [wrap, setWrap] = useState(false);
  const [following, setFollowing] = useState(false);
  const [filter, setFilter] = useState<FilterState | null>(null);
  const [longLine, setLongLine] = useState<LineInfo | null>(null);
  const [gotoOpen, setGotoOpen] = useState(false);
  const [banner, setBanner] = useState<string | null>(null);
  const [findText, setFindText] = useState("");
  const [findRegex, setFindRegex] = useState(false);
  const [findCase, setFindCase] = useState(false);
  const [finding, setFinding] = useState(false);
  const [indexJob, setIndexJob] = useState<string | null>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<HTMLDivElement>(null);
  const findRef = useRef<HTMLInputElement>(null);
  const [bodyHeight, setBodyHeight] = useState(0);
  const stickToEnd = useRef(false);

  cache.encoding = encoding;
  cache.onState = (s) =>
    setIdx((old) => (old && old.generation === s.generation && old.version >= s.version && old.lineCount > s.lineCount && !s.complete ? old : { ...s }));
  cache.onError = (err) => onNotice(`Cannot read lines: ${describe(err)}`);

  const lineCount = idx?.lineCount ?? 0;
  const rowCount = filter ? filter.lines.length : lineCount;
  const fullRows = Math.max(1, Math.floor(bodyHeight / LINE_HEIGHT));
  const visibleRows = Math.max(1, Math.ceil(bodyHeight / LINE_HEIGHT));
  const maxTop = Math.max(0, rowCount - fullRows);
  const top = clamp(topRow, 0, maxTop);
  const lineOf = useCallback((row: number): number | undefined => (filter ? filter.lines[row] : row < rowCount ? row + 1 : undefined), [filter, rowCount]);
  const latest = useRef({ maxTop, fullRows, rowCount, top, cursorRow, filter, lineCount });
  latest.current = { maxTop, fullRows, rowCount, top, cursorRow, filter, lineCount };

  useClientHeight(bodyRef, setBodyHeight, true);

  useEffect(() => {
    viewRef.current?.focus({ preventScroll: true });
  }, [doc.docId]);

  // Index (or resume): progress events keep the line count current while it builds.
  const startIndex = useCallback(
    (enc?: LineEncoding) => {
      api
        .request("lines-index", { docId: doc.docId, ...(enc ? { encoding: enc } : {}) })
        .then((r) => {
          setIndexJob(r.jobId);
          if (r.generation !== cache.generation) cache.reset(r.generation);
        })
        .catch((err) => onNotice(`Cannot index the lines of ${doc.name}: ${describe(err)}`));
    },
    [api, cache, doc.docId, doc.name, onNotice],
  );
  useEffect(() => {
    startIndex(sniffed);
  }, [startIndex]); // eslint-disable-line react-hooks/exhaustive-deps

  // Host events for this document.
  useEffect(() => {
    return api.onEvent((e: HostEvent) => {
      if (!("docId" in e) || e.docId !== doc.docId) return;
      switch (e.event) {
        case "index-progress":
          setIdx((old) => (old && old.version > e.version ? old : { ...e }));
          setIndexJob(e.jobId);
          break;
        case "lines-changed": {
          if (e.kind === "rotated") {
            cache.reset(e.generation);
            setFilter(null);
            setBanner(e.reason ?? "The file was rotated: reloaded");
            onNotice(e.reason ?? "The file was rotated: reloaded", "info");
            if (!stickToEnd.current) {
              setTopRow(0);
              setCursorRow(0);
            }
          } else if (e.kind === "grew") {
            const before = latest.current.lineCount;
            cache.dropFrom(Math.max(1, before));
          } else if (e.kind === "error" && e.message) {
            onNotice(`Following ${doc.name}: ${e.message}`);
          } else if (e.kind === "edited") {
            if (cache.edited(e)) rerunFilter.current();
          }
          setIdx({ ...e });
          break;
        }
        case "filter-hits":
          setFilter((f) => (f && f.jobId === e.jobId ? { ...f, lines: f.lines.concat(e.lines) } : f));
          break;
        case "job-progress":
          if (e.op === "filter") setFilter((f) => (f && f.jobId === e.jobId ? { ...f, progress: e.total ? e.done / e.total : 1 } : f));
          break;
        case "job-done":
          if (e.op === "lines-index" && e.result && "lineCount" in e.result) setIdx({ ...(e.result as LineIndexState) });
          if (e.op === "filter") {
            setFilter((f) => {
              if (!f || f.jobId !== e.jobId) return f;
              if (e.error) return { ...f, done: true, jobId: null, error: e.error.message };
              const r = e.result as FilterDone;
              return { ...f, done: true, jobId: null, canceled: r.canceled, progress: 1, skipped: r.skipped.length };
            });
          }
          break;
        case "size-changed":
        case "file-changed":
          break;
      }
    });
  }, [api, cache, doc.docId, doc.name, onNotice]);

  // Follow: stick to the end while following and at the end.
  useEffect(() => {
    if (stickToEnd.current && !filter) {
      setTopRow(maxTop);
      setCursorRow(Math.max(0, rowCount - 1));
    }
  }, [rowCount, maxTop, filter]);

  // Fetch what is on screen (and a screen ahead).
  useEffect(() => {
    if (bodyHeight === 0 || rowCount === 0) return;
    if (filter) {
      cache.wantNumbers(filter.lines.slice(top, top + visibleRows + 1));
    } else {
      cache.wantRange(top + 1, Math.min(rowCount, top + visibleRows + 1));
    }
  }, [cache, top, visibleRows, rowCount, filter, bodyHeight, version, encoding]);

  // Report the position (the hex view's cursor follows it on toggle).
  const cursorLine = lineOf(clamp(cursorRow, 0, Math.max(0, rowCount - 1))) ?? 1;
  useEffect(() => {
    onPosition?.(cursorLine);
  }, [cursorLine]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---- navigation -----------------------------------------------------------------------------

  const scrollTo = useCallback((row: number) => {
    const l = latest.current;
    const t = clamp(row, 0, l.maxTop);
    stickToEnd.current = following && t >= l.maxTop;
    setTopRow(t);
  }, [following]);

  const moveCursor = useCallback(
    (row: number, extend: boolean) => {
      const l = latest.current;
      const r = clamp(row, 0, Math.max(0, l.rowCount - 1));
      setAnchorRow((a) => (extend ? (a ?? l.cursorRow) : null));
      setCursorRow(r);
      let t = l.top;
      if (r < t) t = r;
      else if (r >= t + l.fullRows) t = r - l.fullRows + 1;
      t = clamp(t, 0, l.maxTop);
      stickToEnd.current = following && t >= l.maxTop;
      setTopRow(t);
    },
    [following],
  );

  const revealRow = useCallback((row: number) => {
    const l = latest.current;
    setAnchorRow(null);
    setCursorRow(row);
    const t = clamp(row - Math.floor(l.fullRows / 3), 0, Math.max(0, Math.max(l.rowCount, row + 1) - l.fullRows));
    stickToEnd.current = false;
    setTopRow(t);
  }, []);

  /** Shows line n (the normal view; leaves the filter view). */
  const gotoLine = useCallback(
    (n: number) => {
      setFilter(null);
      setGotoOpen(false);
      revealRow(Math.max(0, n - 1));
      viewRef.current?.focus();
    },
    [revealRow],
  );

  const gotoPercent = useCallback(
    async (p: number) => {
      const size = idx?.size ?? doc.size;
      try {
        const r = await api.request("line-at-offset", { docId: doc.docId, offset: Math.min(size, Math.floor((size * p) / 100)) });
        gotoLine(Math.max(1, r.line));
      } catch (err) {
        onNotice(`Cannot go to ${p}%: ${describe(err)}`);
      }
    },
    [api, doc.docId, doc.size, idx?.size, gotoLine, onNotice],
  );

  // ---- follow ------------------------------------------------------------------------------------

  const toggleFollow = useCallback(async () => {
    const on = !following;
    setFollowing(on); // at once: the checkbox shows the choice while the host starts
    try {
      const s = await api.request("follow", { docId: doc.docId, on });
      setIdx(s);
      if (on) {
        setFilter(null);
        stickToEnd.current = true;
        setTopRow(Math.max(0, s.lineCount - latest.current.fullRows));
        setCursorRow(Math.max(0, s.lineCount - 1));
      } else stickToEnd.current = false;
    } catch (err) {
      setFollowing(!on);
      onNotice(`Cannot follow ${doc.name}: ${describe(err)}`);
    }
  }, [api, doc.docId, doc.name, following, onNotice]);

  useEffect(
    () => () => {
      // Leaving the view (toggle, close) stops following.
      void api.request("follow", { docId: doc.docId, on: false }).catch(() => {});
    },
    [api, doc.docId],
  );

  // ---- find / filter ----------------------------------------------------------------------------

  const pattern = useCallback((): { regex: string; flags: string } | null => {
    if (!findText) return null;
    return { regex: findRegex ? findText : escapeRegex(findText), flags: findCase ? "" : "i" };
  }, [findText, findRegex, findCase]);

  const findNext = useCallback(async () => {
    const p = pattern();
    if (!p) return;
    const l = latest.current;
    const fromLine = (lineOf(l.cursorRow) ?? 0) + 1;
    setFinding(true);
    try {
      const { jobId } = await api.request("filter", { docId: doc.docId, ...p, from: fromLine, maxMatches: 1 });
      const found = await new Promise<number | null>((resolve, reject) => {
        let hit: number | null = null;
        const off = api.onEvent((e) => {
          if (!("jobId" in e) || e.jobId !== jobId) return;
          if (e.event === "filter-hits" && e.lines.length) hit = hit ?? e.lines[0]!;
          if (e.event === "job-done") {
            off();
            if (e.error) reject(new HostError(e.error));
            else resolve(hit);
          }
        });
      });
      if (found === null) onNotice(`No match for ${findText} after line ${groupDigits(fromLine - 1)}.`, "info");
      else if (l.filter) {
        const i = l.filter.lines.indexOf(found);
        if (i >= 0) revealRow(i);
      } else revealRow(found - 1);
    } catch (err) {
      onNotice(`Find: ${describe(err)}`);
    } finally {
      setFinding(false);
    }
  }, [api, doc.docId, findText, lineOf, onNotice, pattern, revealRow]);

  const startFilter = useCallback(async () => {
    const p = pattern();
    if (!p) return;
    if (filter?.jobId) void api.request("cancel", { jobId: filter.jobId }).catch(() => {});
    try {
      const { jobId } = await api.request("filter", { docId: doc.docId, ...p });
      stickToEnd.current = false;
      setFilter({ jobId, regex: findText, source: p.regex, flags: p.flags, lines: [], done: false, canceled: false, progress: 0, skipped: 0 });
      setTopRow(0);
      setCursorRow(0);
      setAnchorRow(null);
    } catch (err) {
      onNotice(`Filter: ${describe(err)}`);
    }
  }, [api, doc.docId, filter, findText, onNotice, pattern]);

  // The document changed under a filter: its line numbers are of the old version; run it again.
  const rerunFilter = useRef<() => void>(() => {});
  rerunFilter.current = () => {
    const f = filter;
    if (!f) return;
    if (f.jobId) void api.request("cancel", { jobId: f.jobId }).catch(() => {});
    api
      .request("filter", { docId: doc.docId, regex: f.source, flags: f.flags })
      .then(({ jobId }) =>
        setFilter((cur) => (cur && cur.source === f.source && cur.flags === f.flags ? { ...cur, jobId, lines: [], done: false, canceled: false, progress: 0, skipped: 0 } : cur)),
      )
      .catch((err) => onNotice(`Filter: ${describe(err)}`));
  };

  const cancelFilter = useCallback(() => {
    if (filter?.jobId) void api.request("cancel", { jobId: filter.jobId }).catch(() => {});
  }, [api, filter]);

  const clearFilter = useCallback(() => {
    if (!filter) return;
    cancelFilter();
    const line = lineOf(latest.current.cursorRow);
    setFilter(null);
    if (line) setTimeout(() => revealRow(line - 1), 0);
  }, [cancelFilter, filter, lineOf, revealRow]);

  // ---- copy -------------------------------------------------------------------------------------

  const copyLines = useCallback(async () => {
    const l = latest.current;
    const a = anchorRow ?? cursorRow;
    const from = Math.min(a, cursorRow);
    const to = Math.max(a, cursorRow);
    const count = to - from + 1;
    if (l.rowCount === 0) return;
    if (count > MAX_COPY_LINES) {
      onNotice(`Too many lines to copy (${groupDigits(count)}; at most ${groupDigits(MAX_COPY_LINES)}).`);
      return;
    }
    try {
      let lines: LineInfo[];
      if (l.filter) {
        const nums = l.filter.lines.slice(from, to + 1);
        lines = [];
        for (let i = 0; i < nums.length; i += 1000) {
          const r = await api.request("lines-pick", { docId: doc.docId, numbers: nums.slice(i, i + 1000), maxLineBytes: COPY_LINE_BYTES, ...(encoding ? { encoding } : {}) });
          lines.push(...r.lines);
        }
      } else {
        const r = await api.request("lines", { docId: doc.docId, from: from + 1, count, maxLineBytes: COPY_LINE_BYTES, ...(encoding ? { encoding } : {}) });
        lines = r.lines;
      }
      let text = lines.map((x) => x.text).join("\n");
      const cut = lines.some((x) => x.truncated);
      if (text.length > MAX_COPY_CHARS) {
        onNotice(`The selected lines are too large to copy (${sizeLabel(text.length)}; at most ${sizeLabel(MAX_COPY_CHARS)}).`);
        return;
      }
      if (lines.length > 1) text += "\n";
      await navigator.clipboard.writeText(text);
      onNotice(`Copied ${groupDigits(lines.length)} ${lines.length === 1 ? "line" : "lines"}${cut ? " (long lines cut at 64 KiB)" : ""}.`, "info");
    } catch (err) {
      onNotice(`Could not copy: ${describe(err)}`);
    }
  }, [anchorRow, api, cursorRow, doc.docId, encoding, onNotice]);

  // ---- keys and wheel -----------------------------------------------------------------------------

  function onKeyDown(e: React.KeyboardEvent) {
    const ctrl = e.ctrlKey || e.metaKey;
    const shift = e.shiftKey;
    const l = latest.current;
    let handled = true;
    if (ctrl && shift && e.key.toLowerCase() === "f") void toggleFollow();
    else if (ctrl && e.key.toLowerCase() === "f") {
      findRef.current?.focus();
      findRef.current?.select();
    } else if (ctrl && e.key.toLowerCase() === "l") setGotoOpen(true);
    else if (ctrl && e.key.toLowerCase() === "c") void copyLines();
    else if (ctrl && e.key.toLowerCase() === "a") {
      setAnchorRow(0);
      setCursorRow(Math.max(0, l.rowCount - 1));
    } else if (e.key === "F3") void findNext();
    else
      switch (e.key) {
        case "ArrowUp":
          if (ctrl) scrollTo(l.top - 1);
          else moveCursor(l.cursorRow - 1, shift);
          break;
        case "ArrowDown":
          if (ctrl) scrollTo(l.top + 1);
          else moveCursor(l.cursorRow + 1, shift);
          break;
        case "PageUp":
          scrollTo(l.top - l.fullRows);
          moveCursor(l.cursorRow - l.fullRows, shift);
          break;
        case "PageDown":
          scrollTo(l.top + l.fullRows);
          moveCursor(l.cursorRow + l.fullRows, shift);
          break;
        case "Home":
          if (ctrl) moveCursor(0, shift);
          else handled = false;
          break;
        case "End":
          if (ctrl || !shift) {
            moveCursor(l.rowCount - 1, shift);
            stickToEnd.current = following;
          } else handled = false;
          break;
        case "Escape":
          if (filter) clearFilter();
          else setAnchorRow(null);
          break;
        default:
          handled = false;
      }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  const areaRef = useRef<HTMLDivElement>(null);
  useWheelRows(
    areaRef,
    LINE_HEIGHT,
    () => latest.current.fullRows,
    useCallback((rows: number) => scrollTo(latest.current.top + rows), [scrollTo]),
  );

  const onNumberDown = useCallback((row: number, e: React.MouseEvent) => {
    if (e.button !== 0) return;
    e.preventDefault();
    viewRef.current?.focus();
    if (e.shiftKey) {
      setAnchorRow((a) => a ?? latest.current.cursorRow);
      setCursorRow(row);
    } else {
      setAnchorRow(row);
      setCursorRow(row);
    }
  }, []);

  const onRowClick = (e: React.MouseEvent) => {
    if ((e.target as HTMLElement).closest(".ln, .more")) return;
    const el = (e.target as HTMLElement).closest("[data-row]") as HTMLElement | null;
    if (!el) return;
    const row = Number(el.dataset.row);
    if (e.shiftKey) {
      setAnchorRow((a) => a ?? latest.current.cursorRow);
      setCursorRow(row);
    } else if (window.getSelection()?.isCollapsed !== false) {
      setAnchorRow(null);
      setCursorRow(row);
    }
  };

  // ---- encoding ------------------------------------------------------------------------------------

  function changeEncoding(enc: LineEncoding) {
    setEncoding(enc);
    cache.encoding = enc;
    cache.reset();
    setFilter(null);
    startIndex(enc);
  }

  // ---- render --------------------------------------------------------------------------------------

  const selFrom = anchorRow === null ? -1 : Math.min(anchorRow, cursorRow);
  const selTo = anchorRow === null ? -2 : Math.max(anchorRow, cursorRow);
  const lastLine = lineOf(Math.max(0, rowCount - 1)) ?? 1;
  const digits = Math.max(3, String(Math.max(lastLine, lineCount)).length);
  const rowProps: RowData = useMemo(
    () => ({ cache, topRow: top, lineOf, cursorRow, selFrom, selTo, digits, wrap, version, onNumberDown, onMore: setLongLine }),
    [cache, top, lineOf, cursorRow, selFrom, selTo, digits, wrap, version, onNumberDown],
  );
  const shownRows = Math.max(0, Math.min(visibleRows, rowCount - top));
  const viewId = `lines-${doc.docId}`;
  const indexing = idx && !idx.complete;
  const pct = idx && idx.size > 0 ? Math.floor((idx.indexedBytes / idx.size) * 100) : 0;
  const enc: LineEncoding = encoding ?? idx?.encoding ?? "utf-8";

  return (
    <div className="lineview" data-testid="line-view-root">
      <div className="lines-toolbar" role="toolbar" aria-label="Line view">
        <form
          className="find"
          onSubmit={(e) => {
            e.preventDefault();
            void findNext();
          }}
        >
          <input
            ref={findRef}
            data-testid="lines-find"
            aria-label="Find in lines"
            placeholder={findRegex ? "Regular expression (Ctrl+F)" : "Find text (Ctrl+F)"}
            value={findText}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setFindText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                viewRef.current?.focus();
              } else if (e.key === "F3") {
                e.preventDefault();
                void findNext();
              }
            }}
          />
          <label title="Regular expression (JavaScript syntax)">
            <input type="checkbox" data-testid="lines-find-regex" checked={findRegex} onChange={(e) => setFindRegex(e.target.checked)} />
            .*
          </label>
          <label title="Match case">
            <input type="checkbox" data-testid="lines-find-case" checked={findCase} onChange={(e) => setFindCase(e.target.checked)} />
            Aa
          </label>
          <button type="submit" data-testid="lines-find-next" disabled={!findText || finding} title="Find next (Enter, F3)">
            Find next
          </button>
          <button type="button" data-testid="lines-filter" disabled={!findText} onClick={() => void startFilter()} title="Show only the matching lines">
            Filter
          </button>
        </form>
        <label className="toggle" title="Follow the file as it grows, like tail -f (Ctrl+Shift+F)">
          <input type="checkbox" data-testid="lines-follow" checked={following} onChange={() => void toggleFollow()} />
          Follow
        </label>
        <label className="toggle" title="Wrap long lines (within the first 4 KiB shown)">
          <input type="checkbox" data-testid="lines-wrap" checked={wrap} onChange={(e) => setWrap(e.target.checked)} />
          Wrap
        </label>
        <button type="button" data-testid="lines-goto" onClick={() => setGotoOpen(true)} title="Go to line or percent (Ctrl+L)">
          Go to line…
        </button>
      </div>
      {filter && (
        <div className="filter-bar" data-testid="filter-bar" data-done={filter.done ? "true" : "false"} data-matches={filter.lines.length}>
          <span>
            Filter <code>{filter.regex}</code>: {groupDigits(filter.lines.length)} matching {filter.lines.length === 1 ? "line" : "lines"}
            {!filter.done && ` — scanning ${Math.floor(filter.progress * 100)}%…`}
            {filter.canceled && " (canceled)"}
            {filter.skipped > 0 && ` — ${filter.skipped} line(s) skipped: the regex took too long on them`}
            {filter.error && ` — ${filter.error}`}
          </span>
          {!filter.done && (
            <button type="button" data-testid="filter-cancel" onClick={cancelFilter}>
              Cancel
            </button>
          )}
          <button type="button" data-testid="filter-clear" onClick={clearFilter} title="Show all lines (Esc)">
            Show all lines
          </button>
        </div>
      )}
      {banner && (
        <div className="notice info lines-banner" role="status" data-testid="lines-notice">
          <span>{banner}</span>
          <button type="button" aria-label="Dismiss" onClick={() => setBanner(null)}>
            ×
          </button>
        </div>
      )}
      <div className="grid-area" ref={areaRef}>
        <div
          ref={viewRef}
          id={viewId}
          className={`lines${wrap ? " wrap" : ""}`}
          tabIndex={0}
          role="group"
          aria-roledescription="line view"
          aria-label={`Lines of ${doc.name}`}
          data-testid="line-view"
          data-top-row={top}
          data-full-rows={fullRows}
          data-row-count={rowCount}
          data-line-count={lineCount}
          data-complete={idx?.complete ? "true" : "false"}
          data-following={following ? "true" : "false"}
          data-generation={cache.generation}
          data-version={idx?.version ?? 0}
          data-edited={idx?.edited ? "true" : "false"}
          onKeyDown={onKeyDown}
          onClick={onRowClick}
        >
          <div className="body" ref={bodyRef}>
            {idx && rowCount === 0 && !indexing ? (
              <div className="empty-file" data-testid="lines-empty">
                {filter ? (filter.done ? "No matching lines" : "Searching…") : "No lines (empty file)"}
              </div>
            ) : bodyHeight > 0 && wrap ? (
              <div className="rows wrapped">
                {Array.from({ length: shownRows }, (_, i) => (
                  <LineRow key={top + i} index={i} style={{}} ariaAttributes={{ "aria-posinset": i + 1, "aria-setsize": shownRows, role: "listitem" }} {...rowProps} />
                ))}
              </div>
            ) : (
              bodyHeight > 0 && (
                <List
                  className="rows"
                  rowComponent={LineRow}
                  rowCount={shownRows}
                  rowHeight={LINE_HEIGHT}
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
          topRow={top}
          maxTop={maxTop}
          totalRows={rowCount}
          visibleRows={fullRows}
          controls={viewId}
          onScrollTo={scrollTo}
          onPage={(d) => scrollTo(latest.current.top + d * latest.current.fullRows)}
        />
      </div>
      <footer className="status" data-testid="lines-status" aria-label="Status">
        <span className="field">
          <span className="label">Line</span>
          <span data-testid="lines-status-line" data-line={cursorLine} data-count={lineCount}>
            {rowCount ? groupDigits(cursorLine) : "—"} of {groupDigits(lineCount)}
            {indexing ? "+" : ""}
          </span>
        </span>
        {indexing && (
          <span className="field" data-testid="lines-indexing">
            indexing {pct}%…
            {indexJob && (
              <button type="button" className="link" onClick={() => void api.request("cancel", { jobId: indexJob }).catch(() => {})}>
                stop
              </button>
            )}
          </span>
        )}
        {following && (
          <span className="field badge rw" data-testid="lines-following">
            following
          </span>
        )}
        <span className="field">
          <label>
            <span className="label">Encoding</span>
            <select data-testid="lines-encoding" value={enc} onChange={(e) => changeEncoding(e.target.value as LineEncoding)}>
              {(Object.keys(ENCODING_LABELS) as LineEncoding[]).map((k) => (
                <option key={k} value={k}>
                  {ENCODING_LABELS[k]}
                </option>
              ))}
            </select>
          </label>
        </span>
        <span className="field muted">Ctrl+T: hex</span>
      </footer>
      {gotoOpen && (
        <GotoLineDialog
          lineCount={lineCount}
          complete={!!idx?.complete}
          onLine={gotoLine}
          onPercent={(p) => {
            setGotoOpen(false);
            void gotoPercent(p);
          }}
          onClose={() => {
            setGotoOpen(false);
            viewRef.current?.focus();
          }}
        />
      )}
      {longLine && <LongLineDialog api={api} docId={doc.docId} line={longLine} encoding={encoding} onClose={() => { setLongLine(null); viewRef.current?.focus(); }} onNotice={onNotice} />}
    </div>
  );
}
