// The search bar (HxD / 010 Editor style): Ctrl+F opens it; hex or text (UTF-8, UTF-16LE/BE,
// ASCII; case-insensitive), Find next (F3, Enter) from the cursor, Find previous (Shift+F3,
// Shift+Enter), Find all with a virtualized results list (offset + context bytes; click to go).
// Find next/previous wrap around automatically with a notice, as HxD does. Long searches show a
// progress bar with Cancel. The pattern is checked while typing; Esc closes the bar.
//
// The host searches what the user sees (a snapshot, unsaved edits included). Hits already found
// move with the bytes when an edit inserts or deletes before them, and go when their own bytes are
// edited (editing/ranges.ts, strict).

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { List, type RowComponentProps } from "react-window";
import type { DocumentInfo, HexmapApi } from "../api";
import type { ViewState } from "../HexView";
import { jumpView } from "../panels/SidePanel";
import { ASCII, HEX2, formatOffset, groupDigits, offsetDigits } from "../format";
import type { SearchDirection, SearchDone } from "../../../app/protocol/search";
import { SEARCH_ENCODINGS, type SearchEncoding } from "../../../app/protocol/search-constants";
import type { FoundRanges } from "./highlight";
import type { EditSession } from "../editing/session";
import { shiftRange, shiftStarts, type RangeEdit } from "../editing/ranges";
import { ENCODING_LABELS, checkPattern, type SearchMode, type SearchQuery } from "./pattern";
import { SearchError, SearchJobs, type SearchHandle } from "./searchJobs";
import "./search.css";

/** Find all keeps (and lists) at most this many hits; the total is exact. */
export const FIND_ALL_MAX = 10_000;
const RESULT_ROW = 20;
const RESULT_ROWS_SHOWN = 8;
/** Context bytes shown per result: before the hit, and in all. */
const CONTEXT_BEFORE = 4;
const CONTEXT_LENGTH = 16;

export interface SearchBarProps {
  api: HexmapApi;
  doc: DocumentInfo;
  view: ViewState;
  setView(update: (v: ViewState) => ViewState): void;
  bpr: number;
  /** What the grid highlights: the current hit and find-all hits. */
  onFound(found: FoundRanges | null): void;
  /** Edits move (or drop) the hits found. */
  editing?: EditSession | null;
}

interface Progress {
  done: number;
  total: number;
  what: string;
}

type Message = { kind: "info" | "error" | "warn"; text: string } | null;

interface AllResults {
  docId: string;
  hits: number[];
  /** Regex: each hit's length (parallel to hits). */
  lengths?: number[];
  total: number;
  length: number;
  done: boolean;
  canceled: boolean;
}

function focusGrid(): void {
  (document.querySelector("[data-testid=hex-grid]") as HTMLElement | null)?.focus();
}

/** Hits (sorted starts, of one length or of `lengths`) after an edit: moved, or dropped when their bytes changed. */
export function shiftHits(starts: readonly number[], length: number, lengths: readonly number[] | undefined, edit: RangeEdit): { starts: number[]; lengths?: number[] } {
  if (!lengths) return { starts: shiftStarts(starts, length, edit) as number[] };
  const outS: number[] = [];
  const outL: number[] = [];
  for (let i = 0; i < starts.length; i++) {
    const r = shiftRange({ offset: starts[i]!, length: lengths[i]! }, edit, "strict");
    if (!r) continue;
    outS.push(r.offset);
    outL.push(r.length);
  }
  return { starts: outS, lengths: outL };
}

function describe(q: SearchQuery): string {
  if (q.mode === "hex") return `hex ${q.text.trim()}`;
  if (q.mode === "regex") return `/${q.text}/${q.utf8 || q.ignoreCase ? ` (${[q.utf8 ? "UTF-8" : "", q.ignoreCase ? "any case" : ""].filter(Boolean).join(", ")})` : ""}`;
  return `“${q.text}” (${ENCODING_LABELS[q.encoding]}${q.ignoreCase ? ", any case" : ""})`;
}

export function SearchBar({ api, doc, view, setView, bpr, onFound, editing = null }: SearchBarProps) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState<SearchQuery>({ mode: "hex", text: "", encoding: "utf8", ignoreCase: false });
  const [progress, setProgress] = useState<Progress | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [all, setAll] = useState<AllResults | null>(null);
  const [current, setCurrent] = useState<{ docId: string; offset: number; length: number } | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const jobs = useMemo(() => new SearchJobs(api), [api]);
  useEffect(() => () => jobs.dispose(), [jobs]);
  const running = useRef<SearchHandle | null>(null);
  /** Bumps with every search started: a superseded one (canceled by the next) reports nothing. */
  const seq = useRef(0);
  const check = useMemo(() => checkPattern(query), [query]);
  const typed = query.text.length > 0;
  const latest = useRef({ view, doc, bpr, check, query, current });
  latest.current = { view, doc, bpr, check, query, current };

  // Another document: its own hits (none yet), and any running search stops.
  useEffect(() => {
    running.current?.cancel();
    running.current = null;
    seq.current++;
    setProgress(null);
    setAll(null);
    setCurrent(null);
    setMessage(null);
  }, [doc.docId]);
  // An edit moves the hits after it and drops the ones whose bytes it changed. Hits a search reports
  // later belong to the version it read: the edits since are applied to them too (`since`).
  const edits = useRef<{ docId: string; gen: number; edit: RangeEdit }[]>([]);
  const since = useCallback((docId: string, version: number, starts: readonly number[], length: number): number[] => {
    let out = starts;
    for (const e of edits.current) if (e.docId === docId && e.gen > version) out = shiftStarts(out, length, e.edit);
    return out as number[];
  }, []);
  /** since() for regex hits, each with its own length. */
  const sinceEach = useCallback((docId: string, version: number, starts: number[], lengths: number[]): { starts: number[]; lengths: number[] } => {
    let out = { starts, lengths };
    for (const e of edits.current) if (e.docId === docId && e.gen > version) out = shiftHits(out.starts, 0, out.lengths, e.edit) as { starts: number[]; lengths: number[] };
    return out;
  }, []);
  useEffect(() => {
    if (!editing) return;
    return editing.onEdit((docId, edit, gen) => {
      edits.current.push({ docId, gen, edit });
      if (edits.current.length > 256) edits.current.splice(0, edits.current.length - 256);
      setCurrent((c) => {
        if (!c || c.docId !== docId) return c;
        const r = shiftRange(c, edit, "strict");
        return r === c ? c : r;
      });
      setAll((a) => {
        if (!a || a.docId !== docId) return a;
        if (a.lengths) {
          const moved = shiftHits(a.hits, a.length, a.lengths, edit);
          return { ...a, hits: moved.starts, lengths: moved.lengths!, total: a.total - (a.hits.length - moved.starts.length) };
        }
        const hits = shiftStarts(a.hits, a.length, edit) as number[];
        return hits === a.hits ? a : { ...a, hits, total: a.total - (a.hits.length - hits.length) };
      });
    });
  }, [editing]);

  // The grid's highlights.
  useEffect(() => {
    const cur = current && current.docId === doc.docId ? current : null;
    const list = all && all.docId === doc.docId ? all : null;
    if (!cur && !list) onFound(null);
    else
      onFound({
        starts: list ? list.hits : cur ? [cur.offset] : [],
        length: Math.max(list ? list.length : 0, cur ? cur.length : 0),
        ...(list?.lengths ? { lengths: list.lengths } : {}),
        current: cur ? cur.offset : null,
        ...(cur ? { currentLength: cur.length } : {}),
      });
  }, [current, all, doc.docId, onFound]);
  useEffect(() => () => onFound(null), [onFound]);

  const goTo = useCallback(
    (offset: number, length: number) => {
      setCurrent({ docId: latest.current.doc.docId, offset, length });
      setView((v) => jumpView(v, latest.current.bpr, offset, length));
    },
    [setView],
  );

  const runJob = useCallback(
    (direction: SearchDirection, from: number | undefined, what: string, onHits?: (offsets: number[], lengths?: number[]) => void): Promise<SearchDone> => {
      const { doc, check } = latest.current;
      if (!check.ok) return Promise.reject(new SearchError("EINVAL", check.error));
      running.current?.cancel();
      const started = Date.now();
      const handle = jobs.start(
        {
          docId: doc.docId,
          pattern: check.spec,
          direction,
          ...(from !== undefined ? { from } : {}),
          ...(direction === "all" ? { maxHits: FIND_ALL_MAX } : {}),
        },
        {
          onProgress: (done, total) => {
            if (running.current === handle && Date.now() - started > 100) setProgress({ done, total, what });
          },
          ...(onHits ? { onHits } : {}),
        },
      );
      running.current = handle;
      return handle.done.finally(() => {
        if (running.current === handle) {
          running.current = null;
          setProgress(null);
        }
      });
    },
    [jobs],
  );

  const reportError = useCallback((err: unknown) => {
    const e = err as { code?: string; message?: string };
    setMessage({ kind: "error", text: e.message ?? String(err) });
  }, []);

  /** Find next (forward) or previous (backward) from the cursor, wrapping around once. */
  const findStep = useCallback(
    async (direction: "forward" | "backward") => {
      const { view, doc, check, query, current } = latest.current;
      if (!check.ok) {
        setOpen(true);
        setMessage({ kind: "error", text: check.error });
        return;
      }
      if (doc.size === 0) {
        setMessage({ kind: "info", text: "The file is empty." });
        return;
      }
      const selStart = view.anchor === null ? view.cursor : Math.min(view.anchor, view.cursor);
      const onCurrent = current !== null && current.docId === doc.docId && current.offset === selStart;
      // Next: a match at the cursor counts, unless it is the hit we are on (or a selection starts there).
      const from = direction === "forward" ? (view.anchor !== null || onCurrent ? selStart + 1 : selStart) : selStart;
      const what = direction === "forward" ? "Finding next" : "Finding previous";
      const mine = ++seq.current;
      setMessage(null);
      try {
        let r = await runJob(direction, Math.min(from, doc.size), what);
        if (mine !== seq.current) return;
        if (r.canceled) {
          setMessage({ kind: "info", text: "Search canceled." });
          return;
        }
        let wrapped = false;
        if (r.hits.length === 0 && (direction === "forward" ? from > 0 : from < doc.size)) {
          // HxD wraps around: search the rest from the other end.
          r = await runJob(direction, direction === "forward" ? 0 : doc.size, what);
          if (mine !== seq.current) return;
          if (r.canceled) {
            setMessage({ kind: "info", text: "Search canceled." });
            return;
          }
          wrapped = true;
        }
        let hit: number | undefined;
        let hitLength = r.patternLength;
        if (r.lengths) {
          const moved = sinceEach(doc.docId, r.version, r.hits.slice(0, 1), r.lengths.slice(0, 1));
          hit = moved.starts[0];
          hitLength = moved.lengths[0] ?? 0;
        } else hit = since(doc.docId, r.version, r.hits.slice(0, 1), r.patternLength)[0];
        if (hit === undefined) {
          setMessage({ kind: "warn", text: `No match for ${describe(query)} in the file.` });
          return;
        }
        goTo(hit, hitLength);
        setMessage(
          wrapped
            ? {
                kind: "info",
                text: direction === "forward" ? "Searched to the end — continued from the start." : "Searched to the start — continued from the end.",
              }
            : null,
        );
      } catch (err) {
        if (mine === seq.current) reportError(err);
      }
    },
    [runJob, goTo, reportError, since, sinceEach],
  );

  const findAll = useCallback(async () => {
    const { doc, check } = latest.current;
    if (!check.ok) {
      setMessage({ kind: "error", text: check.error });
      return;
    }
    const docId = doc.docId;
    const base = doc.generation;
    const hits: number[] = [];
    const regex = check.spec.kind === "regex";
    const lens: number[] = [];
    const mine = ++seq.current;
    setMessage(null);
    setAll({ docId, hits: [], ...(regex ? { lengths: [] } : {}), total: 0, length: check.length, done: false, canceled: false });
    let last = 0;
    let longest = 0;
    try {
      const r = await runJob("all", 0, "Finding all", (offsets, lengths) => {
        for (const o of offsets) hits.push(o);
        if (lengths) for (const l of lengths) {
          lens.push(l);
          if (l > longest) longest = l;
        }
        const now = Date.now();
        if (regex && now - last > 150 && mine === seq.current) {
          last = now;
          const shown = sinceEach(docId, base, hits.slice(), lens.slice());
          setAll({ docId, hits: shown.starts, lengths: shown.lengths, total: shown.starts.length, length: longest, done: false, canceled: false });
        } else if (now - last > 150 && mine === seq.current) {
          last = now;
          const shown = since(docId, base, hits, check.length);
          setAll({ docId, hits: shown === hits ? hits.slice() : shown, total: shown.length, length: check.length, done: false, canceled: false });
        }
      });
      if (mine !== seq.current) return;
      let first: { offset: number; length: number } | undefined;
      if (regex) {
        const shown = sinceEach(docId, r.version, hits, lens);
        setAll({ docId, hits: shown.starts, lengths: shown.lengths, total: r.total - (hits.length - shown.starts.length), length: Math.max(longest, r.patternLength), done: true, canceled: r.canceled });
        if (shown.starts[0] !== undefined) first = { offset: shown.starts[0], length: shown.lengths[0]! };
      } else {
        const shown = since(docId, r.version, hits, r.patternLength);
        setAll({ docId, hits: shown, total: r.total - (hits.length - shown.length), length: r.patternLength, done: true, canceled: r.canceled });
        if (shown[0] !== undefined) first = { offset: shown[0], length: r.patternLength };
      }
      if (r.total === 0 && !r.canceled) setMessage({ kind: "warn", text: `No match for ${describe(latest.current.query)} in the file.` });
      else if (r.canceled) setMessage({ kind: "info", text: "Search canceled: the list shows what was found so far." });
      else if (first) goTo(first.offset, first.length);
    } catch (err) {
      if (mine !== seq.current) return;
      setAll(null);
      reportError(err);
    }
  }, [runJob, goTo, reportError, since, sinceEach]);

  const cancel = useCallback(() => running.current?.cancel(), []);

  const openBar = useCallback(() => {
    setOpen(true);
    requestAnimationFrame(() => {
      inputRef.current?.focus();
      inputRef.current?.select();
    });
  }, []);

  const close = useCallback(() => {
    running.current?.cancel();
    seq.current++;
    setOpen(false);
    setAll(null);
    setMessage(null);
    focusGrid();
  }, []);

  // Ctrl+F, F3, Shift+F3 from anywhere in the window.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ctrl = e.ctrlKey || e.metaKey;
      if (ctrl && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "f") {
        e.preventDefault();
        e.stopPropagation();
        openBar();
      } else if (e.key === "F3" && !ctrl && !e.altKey) {
        e.preventDefault();
        e.stopPropagation();
        if (!latest.current.query.text) openBar();
        else void findStep(e.shiftKey ? "backward" : "forward");
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [openBar, findStep]);

  // The desktop app's Edit menu (Find…, Find Next, Find Previous).
  useEffect(
    () =>
      api.onMenuCommand((command) => {
        if (command === "find") openBar();
        else if (command === "find-next" || command === "find-previous") {
          if (!latest.current.query.text) openBar();
          else void findStep(command === "find-next" ? "forward" : "backward");
        }
      }),
    [api, openBar, findStep],
  );

  if (!open) return null;
  const inlineError = typed && !check.ok ? check.error : null;
  const pct = progress && progress.total > 0 ? Math.min(100, (progress.done / progress.total) * 100) : 0;
  const listed = all && all.docId === doc.docId ? all : null;

  return (
    <div
      className="searchbar"
      data-testid="search-bar"
      role="search"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          if (running.current) cancel();
          else close();
        }
      }}
    >
      <div className="search-row">
        <select
          aria-label="Search mode"
          data-testid="search-mode"
          value={query.mode}
          onChange={(e) => setQuery((q) => ({ ...q, mode: e.target.value as SearchMode }))}
        >
          <option value="hex">Hex</option>
          <option value="text">Text</option>
          <option value="regex">Regex</option>
        </select>
        <input
          ref={inputRef}
          className={inlineError ? "invalid" : ""}
          data-testid="search-input"
          aria-label={query.mode === "hex" ? "Hex bytes to find" : query.mode === "regex" ? "Regular expression to find" : "Text to find"}
          aria-invalid={inlineError ? true : undefined}
          placeholder={query.mode === "hex" ? "Hex bytes, e.g. DE AD ?? EF" : query.mode === "regex" ? "Regular expression, e.g. id=\\d+" : "Text to find"}
          spellCheck={false}
          autoComplete="off"
          value={query.text}
          onChange={(e) => setQuery((q) => ({ ...q, text: e.target.value }))}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void findStep(e.shiftKey ? "backward" : "forward");
            }
          }}
        />
        <select
          aria-label="Text encoding"
          data-testid="search-encoding"
          value={query.encoding}
          disabled={query.mode !== "text"}
          onChange={(e) => setQuery((q) => ({ ...q, encoding: e.target.value as SearchEncoding }))}
        >
          {SEARCH_ENCODINGS.map((enc) => (
            <option key={enc} value={enc}>
              {ENCODING_LABELS[enc]}
            </option>
          ))}
        </select>
        <label className="search-case" title="Match ASCII letters in either case">
          <input
            type="checkbox"
            data-testid="search-ignore-case"
            disabled={query.mode === "hex"}
            checked={query.ignoreCase}
            onChange={(e) => setQuery((q) => ({ ...q, ignoreCase: e.target.checked }))}
          />
          Any case
        </label>
        {query.mode === "regex" && (
          <label className="search-case" title="Match UTF-8 characters instead of bytes ('.' is one whole character)">
            <input type="checkbox" data-testid="search-utf8" checked={query.utf8 === true} onChange={(e) => setQuery((q) => ({ ...q, utf8: e.target.checked }))} />
            UTF-8
          </label>
        )}
        <button type="button" data-testid="search-prev" disabled={!check.ok} onClick={() => void findStep("backward")} title="Find previous (Shift+F3)">
          ◀ Previous
        </button>
        <button type="button" data-testid="search-next" disabled={!check.ok} onClick={() => void findStep("forward")} title="Find next (F3, Enter)">
          Next ▶
        </button>
        <button type="button" data-testid="search-all" disabled={!check.ok} onClick={() => void findAll()} title="Find every match">
          Find all
        </button>
        <button type="button" className="search-close" aria-label="Close search" data-testid="search-close" onClick={close} title="Close (Esc)">
          ×
        </button>
      </div>
      {inlineError && (
        <div className="search-msg error" role="alert" data-testid="search-error">
          {inlineError}
        </div>
      )}
      {!inlineError && message && (
        <div className={`search-msg ${message.kind}`} role={message.kind === "error" ? "alert" : "status"} data-testid={message.kind === "error" ? "search-error" : "search-message"}>
          {message.text}
        </div>
      )}
      {progress && (
        <div className="search-progress" data-testid="search-progress">
          <span>{progress.what}…</span>
          <progress max={100} value={pct} aria-label="Search progress" />
          <span className="search-pct">{pct.toFixed(0)}%</span>
          <button type="button" data-testid="search-cancel" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {listed && (
        <Results
          api={api}
          doc={doc}
          results={listed}
          current={current && current.docId === doc.docId ? current.offset : null}
          onPick={(offset, index) => goTo(offset, listed.lengths ? (listed.lengths[index] ?? listed.length) : listed.length)}
        />
      )}
    </div>
  );
}

// ---- Find-all results: virtualized rows, each reading its context bytes when shown ------------

interface ResultRowProps {
  api: HexmapApi;
  docId: string;
  generation: number;
  size: number;
  hits: readonly number[];
  length: number;
  lengths: readonly number[] | undefined;
  current: number | null;
  digits: number;
  snippets: Map<string, Uint8Array>;
  onPick(offset: number): void;
}

function ResultRow({ index, style, ariaAttributes, api, docId, generation, size, hits, length: common, lengths, current, digits, snippets, onPick }: RowComponentProps<ResultRowProps>) {
  const hit = hits[index]!;
  const length = lengths ? (lengths[index] ?? common) : common;
  const start = Math.max(0, hit - CONTEXT_BEFORE);
  const key = `${docId}:${generation}:${start}`;
  const [bytes, setBytes] = useState<Uint8Array | null>(() => snippets.get(key) ?? null);
  useEffect(() => {
    const have = snippets.get(key);
    if (have) {
      setBytes(have);
      return;
    }
    let live = true;
    setBytes(null);
    api
      .request("read", { docId, offset: start, length: Math.min(CONTEXT_LENGTH, size - start) })
      .then((r) => {
        snippets.set(key, r.bytes);
        if (snippets.size > 2000) snippets.delete(snippets.keys().next().value!);
        if (live) setBytes(r.bytes);
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [api, key, docId, start, size, snippets]);
  const rel = hit - start;
  let hexBefore = "";
  let hexHit = "";
  let hexAfter = "";
  let text = "";
  if (bytes) {
    bytes.forEach((b, i) => {
      const part = HEX2[b]! + " ";
      if (i < rel) hexBefore += part;
      else if (i < rel + length) hexHit += part;
      else hexAfter += part;
      text += ASCII[b]!;
    });
  }
  return (
    <div
      {...ariaAttributes}
      style={style}
      className={`search-result${hit === current ? " current" : ""}`}
      data-testid="search-result"
      data-offset={hit}
      onClick={() => onPick(hit)}
    >
      <span className="search-result-off">{formatOffset(hit, digits)}</span>
      <span className="search-result-hex">
        {bytes ? (
          <>
            {hexBefore}
            <mark>{hexHit.trimEnd()}</mark> {hexAfter}
          </>
        ) : (
          "…"
        )}
      </span>
      <span className="search-result-ascii">{text}</span>
    </div>
  );
}

function Results({ api, doc, results, current, onPick }: { api: HexmapApi; doc: DocumentInfo; results: AllResults; current: number | null; onPick(offset: number, index: number): void }) {
  const snippets = useMemo(() => new Map<string, Uint8Array>(), []);
  const rowProps: ResultRowProps = useMemo(
    () => ({
      api,
      docId: doc.docId,
      generation: doc.generation,
      size: doc.size,
      hits: results.hits,
      length: results.length,
      lengths: results.lengths,
      current,
      digits: offsetDigits(doc.size),
      snippets,
      onPick: (offset: number) => onPick(offset, results.hits.indexOf(offset)),
    }),
    [api, doc.docId, doc.generation, doc.size, results.hits, results.length, results.lengths, current, snippets, onPick],
  );
  const shown = results.hits.length;
  const summary = !results.done
    ? `${groupDigits(shown)} found so far…`
    : shown < results.total
      ? `${groupDigits(shown)} of ${groupDigits(results.total)} shown${results.canceled ? " (canceled)" : ""}`
      : `${groupDigits(results.total)} ${results.total === 1 ? "match" : "matches"}${results.canceled ? " (canceled)" : ""}`;
  return (
    <div className="search-results" data-testid="search-results">
      <div className="search-summary" data-testid="search-summary">
        {summary}
      </div>
      {shown > 0 && (
        <List
          className="search-list"
          rowComponent={ResultRow}
          rowCount={shown}
          rowHeight={RESULT_ROW}
          rowProps={rowProps}
          overscanCount={4}
          defaultHeight={Math.min(shown, RESULT_ROWS_SHOWN) * RESULT_ROW}
          style={{ height: Math.min(shown, RESULT_ROWS_SHOWN) * RESULT_ROW }}
        />
      )}
    </div>
  );
}
