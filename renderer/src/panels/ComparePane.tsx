// Compare two open documents side by side: one position for both (synchronized scrolling), bytes
// that differ highlighted in both, next / previous difference and a count of differing bytes found
// by the host (`compare` jobs over both mappings, with progress and cancel).

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { CompareData } from "../../../app/protocol/panels";
import { baseName, groupDigits, hex, offsetDigits, formatOffset, HEX2, ASCII } from "../format";
import { startJob, type JobHandle } from "./jobs";
import { ProgressBar } from "./scope";
import { useClientHeight } from "../useClientHeight";

const BPR = 16;
const ROW_H = 20;

export interface ComparePaneProps {
  api: HexmapApi;
  a: DocumentInfo;
  b: DocumentInfo;
  onClose(): void;
  onNotice(text: string, kind?: "error" | "info"): void;
}

type Bytes = { offset: number; a: Uint8Array; b: Uint8Array } | null;

function Side({ top, rows, digits, mine, other, size, cursor, label, testId }: { top: number; rows: number; digits: number; mine: Uint8Array | undefined; other: Uint8Array | undefined; size: number; cursor: number | null; label: string; testId: string }) {
  const out = [];
  for (let r = 0; r < rows; r++) {
    const rowOff = (top + r) * BPR;
    if (rowOff >= size && r > 0) break;
    const hexParts: React.ReactElement[] = [];
    const asc: React.ReactElement[] = [];
    for (let i = 0; i < BPR; i++) {
      const at = rowOff + i;
      const k = r * BPR + i;
      const v = at < size ? mine?.[k] : undefined;
      const w = other?.[k];
      const differs = v !== undefined && w !== v;
      const cls = `${differs ? "diff" : ""}${at === cursor ? " cur" : ""}`.trim();
      const sep = i === 0 ? "" : i % 8 === 0 ? "  " : " ";
      if (sep) hexParts.push(<span key={`s${i}`}>{sep}</span>);
      hexParts.push(
        <span key={i} className={cls || undefined} data-offset={differs ? at : undefined}>
          {v === undefined ? (at < size ? "··" : "  ") : HEX2[v]}
        </span>,
      );
      asc.push(
        <span key={i} className={cls || undefined}>
          {v === undefined ? " " : ASCII[v]}
        </span>,
      );
    }
    out.push(
      <div className="crow" key={rowOff} data-offset={rowOff}>
        <span className="off">{formatOffset(rowOff, digits)}</span>
        <span className="hex">{hexParts}</span>
        <span className="ascii">{asc}</span>
      </div>,
    );
  }

  return (
    <div className="cside" data-testid={testId}>
      <div className="cside-title" title={label}>
        {baseName(label)}
      </div>
      {out}
    </div>
  );
}

export function ComparePane({ api, a, b, onClose, onNotice }: ComparePaneProps) {
  const bodyRef = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState(0);
  const [top, setTop] = useState(0);
  const [cursor, setCursor] = useState<number | null>(null);
  const [data, setData] = useState<Bytes>(null);
  const [count, setCount] = useState<CompareData | null>(null);
  const [progress, setProgress] = useState<{ what: string; done: number; total: number } | null>(null);
  const [gotoText, setGotoText] = useState("");
  const job = useRef<JobHandle<CompareData> | null>(null);
  const size = Math.max(a.size, b.size);
  const common = Math.min(a.size, b.size);
  const rows = Math.max(1, Math.floor((height - 26) / ROW_H));
  const totalRows = Math.ceil(size / BPR);
  const maxTop = Math.max(0, totalRows - rows);
  const digits = offsetDigits(size);

  useClientHeight(bodyRef, setHeight, true);
  useLayoutEffect(() => bodyRef.current?.focus({ preventScroll: true }), []);

  useEffect(() => {
    let live = true;
    const offset = top * BPR;
    const length = rows * BPR;
    const read = (d: DocumentInfo) => (offset < d.size ? api.request("read", { docId: d.docId, offset, length }).then((r) => r.bytes) : Promise.resolve(new Uint8Array(0)));
    Promise.all([read(a), read(b)])
      .then(([x, y]) => live && setData({ offset, a: x, b: y }))
      .catch((err) => live && onNotice(`Compare: ${err instanceof Error ? err.message : String(err)}`));
    return () => {
      live = false;
    };
  }, [api, a.docId, b.docId, a.generation, b.generation, top, rows]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => () => job.current?.cancel(), []);

  const clampTop = (t: number) => Math.min(maxTop, Math.max(0, Math.floor(t)));
  const reveal = (offset: number) => {
    setCursor(offset);
    const row = Math.floor(offset / BPR);
    setTop((t) => (row >= t && row < t + rows ? t : clampTop(row - Math.floor(rows / 3))));
  };

  function run(op: "next" | "previous" | "count") {
    job.current?.cancel();
    const from = op === "count" ? 0 : op === "next" ? (cursor === null ? top * BPR : cursor + 1) : (cursor ?? top * BPR);
    if (op === "next" && from >= common) {
      onNotice("No more differences: this is the end of the shorter file.", "info");
      return;
    }
    const what = op === "count" ? "Counting differences" : op === "next" ? "Finding the next difference" : "Finding the previous difference";
    setProgress({ what, done: 0, total: 0 });
    const j = startJob(api, "compare", { docId: a.docId, otherDocId: b.docId, op, from }, { onProgress: (done, total) => setProgress({ what, done, total }) });
    job.current = j;
    j.promise
      .then((r) => {
        if (op === "count") setCount(r);
        else if (r.difference) reveal(r.difference.offset);
        else onNotice(op === "next" ? "No more differences after this point." : "No differences before this point.", "info");
      })
      .catch((err) => {
        if ((err as { code?: string }).code !== "ECANCELED") onNotice(`Compare: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => setProgress(null));
  }

  useEffect(() => {
    run("count");
  }, [a.docId, b.docId, a.generation, b.generation]); // eslint-disable-line react-hooks/exhaustive-deps

  function onKeyDown(e: React.KeyboardEvent) {
    let handled = true;
    switch (e.key) {
      case "ArrowDown":
        setTop((t) => clampTop(t + 1));
        break;
      case "ArrowUp":
        setTop((t) => clampTop(t - 1));
        break;
      case "PageDown":
        setTop((t) => clampTop(t + rows));
        break;
      case "PageUp":
        setTop((t) => clampTop(t - rows));
        break;
      case "Home":
        setTop(0);
        break;
      case "End":
        setTop(maxTop);
        break;
      case "F7":
      case "n":
        run(e.shiftKey ? "previous" : "next");
        break;
      case "p":
        run("previous");
        break;
      case "Escape":
        onClose();
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  const eof = a.size === b.size ? null : a.size < b.size ? `${baseName(a.name)} ends at ${hex(a.size)}` : `${baseName(b.name)} ends at ${hex(b.size)}`;
  const view = data && data.offset === top * BPR ? data : null;

  return (
    <div className="compare" data-testid="compare" role="region" aria-label={`Compare ${a.name} with ${b.name}`}>
      <div className="compare-bar">
        <strong>Compare</strong>
        <span className="muted">
          {baseName(a.name)} ↔ {baseName(b.name)}
        </span>
        <button type="button" data-testid="compare-prev" onClick={() => run("previous")} title="Previous difference (Shift+F7, p)">
          ↑ Previous difference
        </button>
        <button type="button" data-testid="compare-next" onClick={() => run("next")} title="Next difference (F7, n)">
          ↓ Next difference
        </button>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const t = gotoText.trim();
            const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
            if (Number.isSafeInteger(n) && n < size) reveal(n);
            else onNotice(`Go to: type an offset below ${hex(size)} (decimal or 0x hex).`);
          }}
        >
          <input className="mono" placeholder="Go to offset" aria-label="Go to offset" value={gotoText} onChange={(e) => setGotoText(e.target.value)} />
        </form>
        <span className="spacer" />
        <span data-testid="compare-count" data-differences={count?.differences ?? ""}>
          {count ? `${groupDigits(count.differences ?? 0)} differing ${count.differences === 1 ? "byte" : "bytes"}` : "counting…"}
          {eof ? ` · ${eof}` : ""}
        </span>
        <span className="muted mono" data-testid="compare-cursor" data-offset={cursor ?? ""}>
          {cursor !== null ? `at ${hex(cursor)}` : ""}
        </span>
        <button type="button" data-testid="compare-close" onClick={onClose}>
          Close
        </button>
      </div>
      {progress && <ProgressBar label={progress.what} done={progress.done} total={progress.total} onCancel={() => job.current?.cancel()} />}
      <div
        className="compare-body"
        ref={bodyRef}
        tabIndex={0}
        data-testid="compare-body"
        data-top={top}
        onKeyDown={onKeyDown}
        onWheel={(e) => setTop((t) => clampTop(t + Math.sign(e.deltaY) * Math.max(1, Math.round(Math.abs(e.deltaY) / ROW_H))))}
      >
        <Side top={top} rows={rows} digits={digits} mine={view?.a} other={view?.b} size={a.size} cursor={cursor} label={a.name} testId="compare-a" />
        <Side top={top} rows={rows} digits={digits} mine={view?.b} other={view?.a} size={b.size} cursor={cursor} label={b.name} testId="compare-b" />
        <input
          type="range"
          className="compare-pos"
          aria-label="Position in both files"
          min={0}
          max={Math.max(1, maxTop)}
          value={top}
          onChange={(e) => setTop(clampTop(Number(e.target.value)))}
        />
      </div>
    </div>
  );
}
