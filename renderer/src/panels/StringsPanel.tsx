// The Strings panel: the printable runs of the document (ASCII/Latin-1 as `strings -a`, UTF-16LE
// as `strings -el`, or both), found by the host's `strings` job over the document as edited,
// streamed in batches with progress and Cancel. A filter box narrows the listed strings
// (substring, case-insensitive); a click on a row selects the string's bytes in the grid.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { List, type RowComponentProps } from "react-window";
import type { DocumentInfo, HexmapApi } from "../api";
import { MAX_STRINGS_MIN_LENGTH, type StringsRequestEncoding } from "../../../app/protocol/strings-constants";
import type { StringEntry, StringsResult } from "../../../app/protocol/strings";
import { groupDigits } from "../format";
import { startJob, type JobHandle } from "./jobs";
import { ProgressBar } from "./scope";
import "./strings.css";

export interface StringsPanelProps {
  api: HexmapApi;
  doc: DocumentInfo;
  onJump(offset: number, length: number): void;
}

const ROW = 20;
const ROWS_SHOWN = 18;

interface RowProps {
  items: StringEntry[];
  digits: number;
  onPick(s: StringEntry): void;
}

function StringRow({ index, style, ariaAttributes, items, digits, onPick }: RowComponentProps<RowProps>) {
  const s = items[index]!;
  return (
    <div
      {...ariaAttributes}
      style={style}
      className="strings-row"
      data-testid="strings-row"
      data-offset={s.offset}
      data-length={s.length}
      title={`${s.length} bytes at 0x${s.offset.toString(16).toUpperCase()}${s.truncated ? " (text cut)" : ""}`}
      onClick={() => onPick(s)}
    >
      <span className="strings-off">{s.offset.toString(16).toUpperCase().padStart(digits, "0")}</span>
      <span className={`strings-enc ${s.encoding}`}>{s.encoding === "utf16le" ? "U" : "A"}</span>
      <span className="strings-text">
        {s.text}
        {s.truncated ? "…" : ""}
      </span>
    </div>
  );
}

function parseMin(text: string): number | null {
  const t = text.trim();
  if (!/^[0-9]+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= MAX_STRINGS_MIN_LENGTH ? n : null;
}

export function StringsPanel({ api, doc, onJump }: StringsPanelProps) {
  const [minText, setMinText] = useState("4");
  const [encoding, setEncoding] = useState<StringsRequestEncoding>("ascii");
  const [filter, setFilter] = useState("");
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [result, setResult] = useState<StringsResult | null>(null);
  const [canceled, setCanceled] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [run, setRun] = useState(0); // bumps to rescan
  // Strings of the current job: appended to in place, `count` re-renders.
  const items = useRef<StringEntry[]>([]);
  const [count, setCount] = useState(0);
  const job = useRef<JobHandle<StringsResult> | null>(null);
  const minLength = parseMin(minText);

  useEffect(() => {
    if (minLength === null) return;
    job.current?.cancel();
    items.current = [];
    setCount(0);
    setResult(null);
    setCanceled(false);
    setError(null);
    setProgress({ done: 0, total: 0 });
    let live = true;
    const timer = window.setTimeout(() => {
      let frame = 0;
      const j = startJob(
        api,
        "strings",
        { docId: doc.docId, minLength, encoding },
        {
          onProgress: (done, total) => live && setProgress({ done, total }),
          onEvent: (e) => {
            if (!live || e.event !== "strings-found") return;
            for (const s of e.strings) items.current.push(s);
            if (!frame) {
              frame = window.requestAnimationFrame(() => {
                frame = 0;
                if (live) setCount(items.current.length);
              });
            }
          },
        },
      );
      job.current = j;
      j.promise
        .then((r) => {
          if (!live) return;
          setResult(r);
          setCount(items.current.length);
          setProgress(null);
        })
        .catch((err) => {
          if (!live) return;
          setProgress(null);
          setCount(items.current.length);
          if ((err as { code?: string }).code === "ECANCELED") setCanceled(true);
          else setError(err instanceof Error ? err.message : String(err));
        });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
      job.current?.cancel();
      job.current = null;
    };
  }, [api, doc.docId, minLength, encoding, run]);

  const needle = filter.trim().toLowerCase();
  const shown = useMemo(() => {
    const all = items.current.slice(0, count);
    return needle ? all.filter((s) => s.text.toLowerCase().includes(needle)) : all;
  }, [count, needle]);

  const pick = useCallback((s: StringEntry) => onJump(s.offset, s.length), [onJump]);
  const digits = Math.max(8, Math.max(1, doc.size - 1).toString(16).length);
  const rowProps: RowProps = useMemo(() => ({ items: shown, digits, onPick: pick }), [shown, digits, pick]);

  const total = result ? result.total : count;
  const stale = result !== null && result.version !== doc.generation;
  const summary = `${groupDigits(total)} ${total === 1 ? "string" : "strings"} (${groupDigits(shown.length)} shown)`;

  return (
    <section className="panel strings-panel" data-testid="strings-panel" aria-label="Strings">
      <div className="panel-bar wrap">
        <label className="small">
          Min length{" "}
          <input
            className={`strings-min${minLength === null ? " invalid" : ""}`}
            aria-label="Minimum length"
            aria-invalid={minLength === null}
            data-testid="strings-min"
            value={minText}
            size={4}
            onChange={(e) => setMinText(e.target.value)}
          />
        </label>
        <select aria-label="Encoding" data-testid="strings-encoding" value={encoding} onChange={(e) => setEncoding(e.target.value as StringsRequestEncoding)}>
          <option value="ascii">ASCII / Latin-1</option>
          <option value="utf16le">UTF-16LE</option>
          <option value="all">Both</option>
        </select>
        <button type="button" data-testid="strings-rescan" disabled={minLength === null} onClick={() => setRun((n) => n + 1)}>
          Rescan
        </button>
      </div>
      {minLength === null && (
        <p className="field-error" role="alert">
          The minimum length is a whole number from 1 to {MAX_STRINGS_MIN_LENGTH}.
        </p>
      )}
      <div className="panel-bar">
        <input className="grow" type="text" placeholder="Filter (substring, any case)" aria-label="Filter strings" data-testid="strings-filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <p className="muted small" data-testid="strings-summary">
        {summary}
        {result && result.total > result.listed ? ` — the first ${groupDigits(result.listed)} listed` : ""}
        {canceled ? " — canceled" : ""}
        {progress ? " — scanning…" : ""}
      </p>
      {stale && (
        <p className="hint" data-testid="strings-stale">
          The document changed since this scan: Rescan to update.
        </p>
      )}
      {progress && <ProgressBar label="Strings" done={progress.done} total={progress.total} onCancel={() => job.current?.cancel()} />}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {shown.length > 0 && (
        <List
          className="strings-list"
          rowComponent={StringRow}
          rowCount={shown.length}
          rowHeight={ROW}
          rowProps={rowProps}
          overscanCount={6}
          defaultHeight={Math.min(shown.length, ROWS_SHOWN) * ROW}
          style={{ height: Math.min(shown.length, ROWS_SHOWN) * ROW }}
        />
      )}
    </section>
  );
}
