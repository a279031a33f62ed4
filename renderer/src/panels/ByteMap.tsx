// The byte map: a strip beside the grid's scrollbar showing the whole document, top to bottom, as
// slices coloured by what they hold (zeros, text, binary, high entropy — brighter = more entropy).
// The host samples the file (a `bytemap` job): a coarse map arrives within a moment even for
// 64 GiB and sharpens as `bytemap-partial` events come in. A click jumps to that slice; the
// marker shows where the view is.

import { useEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { ByteMapData } from "../../../app/protocol/panels";
import { BYTEMAP_CLASSES } from "../../../app/protocol/panel-constants";
import { hex, humanSize } from "../format";
import { useClientHeight } from "../useClientHeight";
import { startJob, type JobHandle } from "./jobs";

export interface ByteMapProps {
  api: HexmapApi;
  doc: DocumentInfo;
  /** The grid's top row and row width, to mark the view (the strip is as tall as the grid). */
  topRow: number;
  bpr: number;
  cursor: number;
  onJump(offset: number): void;
}

/** Class colours (HSL hue, saturation); lightness follows entropy. */
const CLASS_STYLE: Record<string, [number, number]> = {
  unknown: [0, 0],
  zeros: [220, 8],
  text: [205, 70],
  binary: [35, 80],
  random: [350, 75],
};

export const CLASS_LABEL: Record<string, string> = {
  unknown: "not sampled",
  zeros: "zeros",
  text: "text",
  binary: "binary",
  random: "high entropy",
};

export function classColor(cls: number, entropy: number, dark: boolean): string {
  const name = BYTEMAP_CLASSES[cls] ?? "unknown";
  const [h, s] = CLASS_STYLE[name]!;
  if (name === "zeros") return dark ? "hsl(220 8% 22%)" : "hsl(220 10% 88%)";
  const l = dark ? 28 + entropy * 4 : 78 - entropy * 5;
  return `hsl(${h} ${s}% ${l.toFixed(0)}%)`;
}

function sliceStart(size: number, slices: number, i: number): number {
  const q = Math.floor(size / slices);
  const r = size - q * slices;
  return i * q + Math.floor((i * r) / slices);
}

export function ByteMap({ api, doc, topRow, bpr, cursor, onJump }: ByteMapProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState(0);
  const [map, setMap] = useState<ByteMapData | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hover, setHover] = useState<{ y: number; slice: number } | null>(null);
  const dark = typeof window !== "undefined" && window.matchMedia?.("(prefers-color-scheme: dark)").matches;

  useClientHeight(boxRef, setHeight);

  // One slice per pixel row (at most 4096); a new map when the document or its size changes.
  const slices = Math.max(1, Math.min(4096, Math.round(height)));
  const viewStart = topRow * bpr;
  const viewEnd = Math.min(doc.size, viewStart + Math.max(1, Math.floor((height - 20) / 20)) * bpr);
  useEffect(() => {
    if (height <= 0 || doc.size === 0) return;
    setError(null);
    let job: JobHandle<ByteMapData> | null = null;
    const timer = window.setTimeout(() => {
      job = startJob(api, "bytemap", { docId: doc.docId, slices }, {
        onProgress: (done, total) => setProgress({ done, total }),
        onEvent: (e) => {
          if (e.event === "bytemap-partial") setMap(e.map);
        },
      });
      job.promise
        .then((m) => {
          setMap(m);
          setProgress(null);
        })
        .catch((err) => {
          if ((err as { code?: string }).code !== "ECANCELED") setError(err instanceof Error ? err.message : String(err));
        });
    }, 120);
    return () => {
      clearTimeout(timer);
      job?.cancel();
    };
  }, [api, doc.docId, doc.size, doc.generation, slices, height]);

  // Draw.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || height <= 0) return;
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, height);
    if (!map || map.slices === 0) return;
    const per = height / map.slices;
    for (let i = 0; i < map.slices; i++) {
      ctx.fillStyle = classColor(map.classes[i]!, map.entropy[i]!, dark);
      ctx.fillRect(0, Math.floor(i * per), w, Math.ceil(per + 0.5));
    }
    if (doc.size > 0) {
      // The view: a translucent band with a border; the cursor: a line.
      const y0 = (viewStart / doc.size) * height;
      const y1 = Math.max(y0 + 2, (viewEnd / doc.size) * height);
      ctx.fillStyle = dark ? "rgba(255,255,255,0.25)" : "rgba(0,0,0,0.18)";
      ctx.fillRect(0, y0, w, y1 - y0);
      const yc = (cursor / doc.size) * height;
      ctx.fillStyle = dark ? "#ffffff" : "#111827";
      ctx.fillRect(0, Math.min(height - 2, Math.floor(yc)), w, 2);
    }
  }, [map, height, viewStart, viewEnd, cursor, doc.size, dark]);

  function sliceAt(clientY: number): number | null {
    const box = boxRef.current?.getBoundingClientRect();
    if (!box || !map || map.slices === 0) return null;
    const y = Math.min(box.height - 1, Math.max(0, clientY - box.top));
    return Math.min(map.slices - 1, Math.floor((y / box.height) * map.slices));
  }

  const tip = (() => {
    if (!hover || !map) return null;
    const i = hover.slice;
    const start = sliceStart(map.size, map.slices, i);
    const end = sliceStart(map.size, map.slices, i + 1);
    const cls = BYTEMAP_CLASSES[map.classes[i]!] ?? "unknown";
    return `${hex(start)} – ${hex(Math.max(start, end - 1))} (${humanSize(end - start)}): ${CLASS_LABEL[cls]}, entropy ${map.entropy[i]!.toFixed(2)} bits/byte`;
  })();

  return (
    <div
      ref={boxRef}
      className="bytemap"
      data-testid="bytemap"
      data-slices={map?.slices ?? 0}
      data-pass={map?.pass ?? -1}
      data-done={map?.done ? "true" : "false"}
      role="navigation"
      aria-label="Byte map of the whole file: click to jump"
      title={tip ?? (error ? `Byte map failed: ${error}` : "Byte map: click to jump")}
      onMouseMove={(e) => {
        const s = sliceAt(e.clientY);
        setHover(s === null ? null : { y: e.clientY, slice: s });
      }}
      onMouseLeave={() => setHover(null)}
      onMouseDown={(e) => {
        if (e.button !== 0 || !map) return;
        e.preventDefault();
        const s = sliceAt(e.clientY);
        if (s !== null) onJump(sliceStart(map.size, map.slices, s));
      }}
    >
      <canvas ref={canvasRef} />
      {progress && progress.total > 0 && progress.done < progress.total && <div className="bytemap-progress" style={{ width: `${(100 * progress.done) / progress.total}%` }} />}
    </div>
  );
}
