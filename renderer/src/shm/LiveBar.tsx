// The bar over a shared-memory document: says that edits apply immediately (there is no save),
// shows whether the live view is running or paused (page hidden), lets the user pick the re-read
// interval, and offers Undo/Redo of this window's edits (also Ctrl+Z / Ctrl+Y in the grid).

import { useSyncExternalStore } from "react";
import type { DocumentInfo } from "../api";
import { INTERVAL_CHOICES, type LiveView } from "./liveView";
import "./shm.css";

export interface LiveBarProps {
  doc: DocumentInfo;
  live: LiveView;
  onUndo(): void;
  onRedo(): void;
}

export function LiveBar({ doc, live, onUndo, onRedo }: LiveBarProps) {
  useSyncExternalStore(live.subscribe, live.getVersion);
  const state = live.hidden ? "paused while the page is hidden" : `re-reading the visible rows every ${live.intervalMs} ms`;
  return (
    <div className="live-bar" role="status" data-testid="live-bar" data-doc-id={doc.docId}>
      <span className="live-note" data-testid="shm-note">
        {doc.readOnly ? "Shared memory (read-only): live view" : "Shared memory: changes apply immediately — no save"}
      </span>
      <span className="live-state" data-testid="live-state" data-paused={live.hidden ? "true" : "false"}>
        <span className={`live-dot${live.hidden ? " paused" : ""}`} aria-hidden="true" />
        Live, {state}
        {live.changes > 0 ? ` · ${live.changes} ${live.changes === 1 ? "change" : "changes"} seen` : ""}
        {live.lastError ? ` · ${live.lastError}` : ""}
      </span>
      <span className="live-spacer" />
      <label>
        Interval{" "}
        <select
          data-testid="live-interval"
          aria-label="Live re-read interval"
          value={live.intervalMs}
          onChange={(e) => live.setIntervalMs(Number(e.target.value))}
        >
          {INTERVAL_CHOICES.map((ms) => (
            <option key={ms} value={ms}>
              {ms} ms
            </option>
          ))}
        </select>
      </label>
      {!doc.readOnly && (
        <>
          <button type="button" data-testid="shm-undo" disabled={!doc.canUndo} onClick={onUndo} title="Undo the last edit (writes the old bytes back)">
            Undo
          </button>
          <button type="button" data-testid="shm-redo" disabled={!doc.canRedo} onClick={onRedo} title="Redo">
            Redo
          </button>
        </>
      )}
    </div>
  );
}
