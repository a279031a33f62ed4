// A long line viewed whole: it is read from the host a page (256 KiB) at a time with line-text,
// so a 50 MB line — or a 4 GiB file of zeros without a newline — never lands in the DOM at once.
// Previous / Next page through it; Copy copies the page shown.

import { useCallback, useEffect, useState } from "react";
import type { HexmapApi } from "../api";
import { HostError } from "../api";
import { groupDigits } from "../format";
import type { LineEncoding, LineInfo, LineTextResult } from "../../../app/protocol/lines";
import { sizeLabel } from "./lineCache";

export const PAGE_BYTES = 256 * 1024;

export interface LongLineDialogProps {
  api: HexmapApi;
  docId: string;
  line: LineInfo;
  encoding: LineEncoding | undefined;
  onClose(): void;
  onNotice(text: string, kind?: "error" | "info"): void;
}

export function LongLineDialog({ api, docId, line, encoding, onClose, onNotice }: LongLineDialogProps) {
  const [slice, setSlice] = useState<LineTextResult | null>(null);
  /** Start offsets of the pages seen, for Previous. */
  const [history, setHistory] = useState<number[]>([]);
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    async (offset: number) => {
      setLoading(true);
      try {
        const r = await api.request("line-text", { docId, line: line.number, offset, length: PAGE_BYTES, ...(encoding ? { encoding } : {}) });
        setSlice(r);
      } catch (err) {
        onNotice(`Cannot read line ${groupDigits(line.number)}: ${err instanceof HostError ? `${err.message} (${err.code})` : String(err)}`);
      } finally {
        setLoading(false);
      }
    },
    [api, docId, encoding, line.number, onNotice],
  );

  useEffect(() => {
    void load(0);
  }, [load]);

  const next = () => {
    if (!slice || slice.done) return;
    setHistory((h) => [...h, slice.offset]);
    void load(slice.end);
  };
  const prev = () => {
    const h = history.slice();
    const back = h.pop();
    if (back === undefined) return;
    setHistory(h);
    void load(back);
  };

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="dialog long-line"
        role="dialog"
        aria-modal="true"
        aria-label={`Line ${line.number}`}
        data-testid="long-line-dialog"
        tabIndex={-1}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <div className="dialog-title">
          Line {groupDigits(line.number)} — {groupDigits(line.length)} bytes ({sizeLabel(line.length)})
        </div>
        <div className="long-line-pos" data-testid="long-line-pos" data-offset={slice?.offset ?? 0} data-end={slice?.end ?? 0} data-done={slice?.done ? "true" : "false"}>
          {slice ? `bytes ${groupDigits(slice.offset)} – ${groupDigits(slice.end)} of ${groupDigits(slice.lineLength)}` : "loading…"}
        </div>
        <pre className="long-line-text" data-testid="long-line-text">
          {slice?.text ?? ""}
        </pre>
        <div className="dialog-buttons">
          <button type="button" data-testid="long-line-prev" disabled={loading || history.length === 0} onClick={prev}>
            ◀ Previous
          </button>
          <button type="button" data-testid="long-line-next" disabled={loading || !slice || slice.done} onClick={next}>
            Next ▶
          </button>
          <button
            type="button"
            disabled={!slice}
            onClick={() =>
              slice &&
              navigator.clipboard.writeText(slice.text).then(
                () => onNotice(`Copied ${sizeLabel(slice.end - slice.offset)} of line ${groupDigits(line.number)}.`, "info"),
                (err) => onNotice(`Could not copy: ${String(err)}`),
              )
            }
          >
            Copy this page
          </button>
          <button type="button" className="primary" data-testid="long-line-close" autoFocus onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
