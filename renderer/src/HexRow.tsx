// One row of the grid: offset, hex and ASCII panes. Each pane is a single text run, split into
// spans only where the cursor or the selection is — a row costs four or five DOM nodes, not one
// per byte (the trap a web hex editor fell into at 1 MB).

import type { RowComponentProps } from "react-window";
import type { DocRef, PageCache } from "./pageCache";
import { LiveMarks } from "./shm/LiveMarks";
import type { LiveView } from "./shm/liveView";
import { asciiRuns, formatOffset, hexRuns, type Highlight, type Run } from "./format";

export type Pane = "hex" | "ascii";

export interface HexRowProps {
  doc: DocRef;
  cache: PageCache;
  topRow: number;
  bpr: number;
  digits: number;
  hl: Highlight;
  pane: Pane;
  /** Cache version: changes when pages arrive, so rows re-read their bytes. */
  version: number;
  /** Insert mode: the empty cell after the last byte where typing appends is drawn. */
  append?: boolean;
  /** Shared memory: flashes over bytes that changed lately (liveVersion re-renders rows). */
  live?: LiveView | null;
  liveVersion?: number;
}

const scratch: number[] = [];
const scratchEdited: number[] = [];

function renderRuns(runs: Run[], active: boolean) {
  if (runs.length === 1 && runs[0]!.cls === "") return runs[0]!.text;
  return runs.map((r, i) =>
    r.cls === "" ? (
      r.text
    ) : (
      <span key={i} className={r.cls.includes("cur") && !active ? r.cls.replace("cur", "cur ghost") : r.cls}>
        {r.text}
      </span>
    ),
  );
}

export function HexRow({ index, style, ariaAttributes, doc, cache, topRow, bpr, digits, hl, pane, live, append = false }: RowComponentProps<HexRowProps>) {
  const row = topRow + index;
  const offset = row * bpr;
  const n = Math.max(0, Math.min(bpr, doc.size - offset));
  const appendHere = append && offset + n === doc.size && n < bpr;
  const bytes = cache.fill(doc, offset, n, scratch, scratchEdited);
  const loading = bytes.some((b) => b < 0);
  return (
    <div
      {...ariaAttributes}
      style={style}
      className={`row${row % 2 ? " odd" : ""}${loading ? " loading" : ""}`}
      data-testid="row"
      data-offset={offset}
      data-loading={loading ? "true" : undefined}
    >
      <span className="off" data-testid="row-offset">
        {formatOffset(offset, digits)}
      </span>
      <span className="hex" data-pane="hex" data-testid="row-hex">
        {renderRuns(hexRuns(bytes, offset, bpr, hl, scratchEdited, appendHere), pane === "hex")}
        {live && <LiveMarks live={live} offset={offset} count={n} pane="hex" />}
      </span>
      <span className="ascii" data-pane="ascii" data-testid="row-ascii">
        {renderRuns(asciiRuns(bytes, offset, hl, scratchEdited, appendHere), pane === "ascii")}
        {live && <LiveMarks live={live} offset={offset} count={n} pane="ascii" />}
      </span>
    </div>
  );
}
