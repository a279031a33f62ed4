// Byte-value histogram of the selection (or the whole file): an SVG bar chart of the 256 values,
// linear or log scale, with axes, the entropy, and the value under the pointer. Counted by the
// host (`histogram` job, progress, cancel): a huge selection never blocks the UI.

import { useEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { HistogramData } from "../../../app/protocol/panels";
import { groupDigits } from "../format";
import { startJob, type JobHandle } from "./jobs";
import { describeRange, ProgressBar, rangeOf, ScopeChoice, type Range, type Scope } from "./scope";

export interface HistogramProps {
  api: HexmapApi;
  doc: DocumentInfo;
  selection: Range | null;
}

const W = 320;
const H = 170;
const PAD = { l: 44, r: 6, t: 8, b: 30 };

function byteClassColor(v: number): string {
  if (v === 0) return "var(--hist-zero)";
  if (v >= 0x20 && v < 0x7f) return "var(--hist-text)";
  if (v === 9 || v === 10 || v === 13) return "var(--hist-text)";
  if (v >= 0x80) return "var(--hist-high)";
  return "var(--hist-ctrl)";
}

function niceTicks(max: number, count: number): number[] {
  if (max <= 0) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

function short(n: number): string {
  if (n >= 1e12) return `${+(n / 1e12).toFixed(1)}T`;
  if (n >= 1e9) return `${+(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function Histogram({ api, doc, selection }: HistogramProps) {
  const [scope, setScope] = useState<Scope>(selection ? "selection" : "file");
  const [log, setLog] = useState(false);
  const [data, setData] = useState<HistogramData | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const job = useRef<JobHandle<HistogramData> | null>(null);
  const range = rangeOf(scope, selection, doc.size);
  const key = range ? `${doc.docId}:${doc.generation}:${range.offset}:${range.length}` : "";

  useEffect(() => {
    if (selection && scope === "file") return;
    if (!selection && scope === "selection") setScope("file");
  }, [selection]); // eslint-disable-line react-hooks/exhaustive-deps

  // Recount when the range settles (a drag changes it many times a second).
  useEffect(() => {
    job.current?.cancel();
    setProgress(null);
    if (!range) return;
    const timer = window.setTimeout(() => {
      setError(null);
      setProgress({ done: 0, total: 0 });
      const j = startJob(api, "histogram", { docId: doc.docId, offset: range.offset, length: range.length }, { onProgress: (done, total) => setProgress({ done, total }) });
      job.current = j;
      j.promise
        .then((d) => {
          setData(d);
          setProgress(null);
        })
        .catch((err) => {
          setProgress(null);
          if ((err as { code?: string }).code !== "ECANCELED") setError(err instanceof Error ? err.message : String(err));
        });
    }, 200);
    return () => {
      clearTimeout(timer);
      job.current?.cancel();
    };
  }, [api, key]); // eslint-disable-line react-hooks/exhaustive-deps

  const counts = data?.counts ?? [];
  const max = counts.reduce((m, c) => Math.max(m, c), 0);
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const scale = (c: number) => (c <= 0 ? 0 : log ? Math.log10(c + 1) / Math.log10(max + 1) : c / max);
  const ticks = log
    ? Array.from({ length: Math.floor(Math.log10(Math.max(1, max))) + 1 }, (_, i) => 10 ** i)
    : niceTicks(max, 4);
  const bw = plotW / 256;

  return (
    <section className="panel histogram" data-testid="histogram" aria-label="Byte histogram">
      <div className="panel-bar">
        <ScopeChoice scope={scope} onChange={setScope} selection={selection} name="histogram" />
        <span className="spacer" />
        <label className="check">
          <input type="checkbox" checked={log} data-testid="histogram-log" onChange={(e) => setLog(e.target.checked)} /> Log scale
        </label>
      </div>
      <p className="muted small" data-testid="histogram-range">{describeRange(range)}</p>
      {progress && <ProgressBar label="Histogram" done={progress.done} total={progress.total} onCancel={() => job.current?.cancel()} />}
      {error && <p className="field-error" role="alert">{error}</p>}
      {data && (
        <>
          <svg
            className="chart"
            viewBox={`0 0 ${W} ${H}`}
            role="img"
            aria-label={`Histogram of ${groupDigits(data.length)} bytes`}
            data-testid="histogram-chart"
            data-length={data.length}
            onMouseLeave={() => setHover(null)}
            onMouseMove={(e) => {
              const box = e.currentTarget.getBoundingClientRect();
              const x = ((e.clientX - box.left) / box.width) * W - PAD.l;
              const v = Math.floor(x / bw);
              setHover(v >= 0 && v < 256 ? v : null);
            }}
          >
            {ticks.map((t) => {
              const y = PAD.t + plotH - scale(t) * plotH;
              return (
                <g key={t} className="tick">
                  <line x1={PAD.l} x2={W - PAD.r} y1={y} y2={y} />
                  <text x={PAD.l - 4} y={y + 3} textAnchor="end">
                    {short(t)}
                  </text>
                </g>
              );
            })}
            {counts.map((c, v) =>
              c > 0 ? (
                <rect
                  key={v}
                  data-value={v}
                  x={PAD.l + v * bw}
                  width={Math.max(0.8, bw - 0.2)}
                  y={PAD.t + plotH - Math.max(0.75, scale(c) * plotH)}
                  height={Math.max(0.75, scale(c) * plotH)}
                  fill={byteClassColor(v)}
                  opacity={hover === null || hover === v ? 1 : 0.55}
                />
              ) : null,
            )}
            <line className="axis" x1={PAD.l} x2={W - PAD.r} y1={PAD.t + plotH} y2={PAD.t + plotH} />
            <line className="axis" x1={PAD.l} x2={PAD.l} y1={PAD.t} y2={PAD.t + plotH} />
            {[0, 0x40, 0x80, 0xc0, 0xff].map((v) => (
              <text key={v} className="xlabel" x={PAD.l + (v + 0.5) * bw} y={PAD.t + plotH + 12} textAnchor="middle">
                {v.toString(16).toUpperCase().padStart(2, "0")}
              </text>
            ))}
            <text className="axis-title" x={PAD.l + plotW / 2} y={H - 3} textAnchor="middle">
              byte value
            </text>
            <text className="axis-title" transform={`translate(10 ${PAD.t + plotH / 2}) rotate(-90)`} textAnchor="middle">
              {log ? "count (log)" : "count"}
            </text>
          </svg>
          <div className="chart-foot mono small" data-testid="histogram-info">
            {hover !== null
              ? `0x${hover.toString(16).toUpperCase().padStart(2, "0")} (${hover}): ${groupDigits(counts[hover] ?? 0)} — ${data.length ? (((counts[hover] ?? 0) * 100) / data.length).toFixed(2) : "0"} %`
              : `${groupDigits(data.length)} bytes · ${counts.filter((c) => c > 0).length} distinct values · entropy ${data.entropy.toFixed(3)} bits/byte`}
          </div>
        </>
      )}
    </section>
  );
}
