// Flashes over the bytes of one row pane that changed lately (shared memory): one absolutely
// placed span per changed run, not per byte, and only where bytes changed — a row stays a handful
// of DOM nodes. The fade is a CSS animation; a span re-created mid-fade starts at its age
// (negative animation-delay), so re-renders never restart it.

import { hexColumn } from "../format";
import type { LiveView } from "./liveView";
import "./shm.css";

export interface LiveMarksProps {
  live: LiveView;
  /** Absolute offset of the row's first byte, and its byte count. */
  offset: number;
  count: number;
  pane: "hex" | "ascii";
}

export function LiveMarks({ live, offset, count, pane }: LiveMarksProps) {
  if (count <= 0) return null;
  const flashes = live.flashesIn(offset, count);
  if (flashes.length === 0) return null;
  const t = performance.now();
  return (
    <>
      {flashes.map((f) => {
        const s = Math.max(f.offset, offset) - offset;
        const e = Math.min(f.offset + f.length, offset + count) - offset;
        const left = pane === "hex" ? hexColumn(s) : s;
        const width = pane === "hex" ? hexColumn(e - 1) + 2 - left : e - s;
        return (
          <span
            key={f.key}
            className="live-changed"
            aria-hidden="true"
            data-testid="live-changed"
            data-offset={offset + s}
            data-length={e - s}
            style={{ left: `${left}ch`, width: `${width}ch`, animationDelay: `${-Math.round(t - f.at)}ms` }}
          />
        );
      })}
    </>
  );
}
