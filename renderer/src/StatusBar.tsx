// Status bar: cursor (hex and decimal), selection start and length, file size, read-only,
// overwrite/insert mode (OVR/INS; a click toggles, as the Insert key does), and the row width.
// Every field has a stable data-testid for the e2e suite.

import type { DocumentInfo } from "./api";
import type { ViewState } from "./HexView";
import { groupDigits, hex, humanSize } from "./format";

export const BYTES_PER_ROW = [8, 16, 24, 32] as const;

export interface StatusBarProps {
  doc: DocumentInfo;
  view: ViewState;
  bpr: number;
  onBprChange(bpr: number): void;
  /** Insert mode (true), overwrite (false); null: the view cannot edit. */
  insertMode?: boolean | null;
  onToggleInsert?(): void;
}

export function StatusBar({ doc, view, bpr, onBprChange, insertMode = null, onToggleInsert }: StatusBarProps) {
  const empty = doc.size === 0 && !(insertMode && view.cursor === 0);
  const selected = view.anchor !== null;
  const selStart = selected ? Math.min(view.anchor!, view.cursor) : view.cursor;
  // The append position (insert mode) is not a byte: a selection reaching it counts the bytes only.
  const selLength = selected ? Math.max(0, Math.min(Math.abs(view.cursor - view.anchor!) + 1, doc.size - selStart)) : 0;
  return (
    <footer className="status" data-testid="status-bar" aria-label="Status">
      <span className="field" title="Cursor offset">
        <span className="label">Offset</span>
        <span data-testid="status-cursor-hex">{empty ? "—" : hex(view.cursor)}</span>
        <span className="muted" data-testid="status-cursor-dec">
          {empty ? "" : `(${groupDigits(view.cursor)})`}
        </span>
      </span>
      <span className="field" title="Selection">
        <span className="label">Selection</span>
        <span data-testid="status-selection" data-start={selected ? selStart : undefined} data-length={selLength}>
          {selected ? `${hex(selStart)}, ${groupDigits(selLength)} ${selLength === 1 ? "byte" : "bytes"}` : "none"}
        </span>
      </span>
      <span className="field" title={`${groupDigits(doc.size)} bytes`}>
        <span className="label">Size</span>
        <span data-testid="status-size" data-size={doc.size}>
          {groupDigits(doc.size)} bytes
        </span>
        {doc.size >= 1024 && <span className="muted">({humanSize(doc.size)})</span>}
      </span>
      <span className="field">
        <span data-testid="status-mode" className={doc.readOnly ? "badge" : "badge rw"}>
          {doc.readOnly ? "Read-only" : "Read-write"}
        </span>
      </span>
      {(!doc.readOnly || doc.dirty) && doc.dirty !== undefined && (
        <span className="field" title="Unsaved edits (Ctrl+S saves, Ctrl+Z undoes)">
          <span data-testid="status-dirty" className={doc.dirty ? "status-dirty" : "muted"} data-dirty={doc.dirty ? "true" : "false"} data-edits={doc.editCount ?? 0}>
            {doc.dirty ? `● modified, ${doc.editCount ?? 0} ${doc.editCount === 1 ? "edit" : "edits"}` : "saved"}
          </span>
        </span>
      )}
      {insertMode !== null && (
        <span className="field">
          <button
            type="button"
            className={`badge mode-toggle${insertMode ? " ins" : ""}`}
            data-testid="status-insert"
            data-mode={insertMode ? "INS" : "OVR"}
            aria-pressed={insertMode}
            title={insertMode ? "Insert mode: typing and pasting insert bytes (Insert key: overwrite)" : "Overwrite mode: typing and pasting overwrite bytes (Insert key: insert)"}
            onMouseDown={(e) => e.preventDefault()}
            onClick={onToggleInsert}
          >
            {insertMode ? "INS" : "OVR"}
          </button>
        </span>
      )}
      <span className="field">
        <span data-testid="status-pane" className="muted">
          {view.pane === "hex" ? "Hex" : "Text"}
        </span>
      </span>
      <span className="spacer" />
      <label className="field">
        <span className="label">Bytes/row</span>
        <select data-testid="bytes-per-row" value={bpr} onChange={(e) => onBprChange(Number(e.target.value))}>
          {BYTES_PER_ROW.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
    </footer>
  );
}
