// The range a panel works on: the selection, or the whole file.

import { groupDigits, hex } from "../format";

export interface Range {
  offset: number;
  length: number;
}

export type Scope = "selection" | "file";

export function rangeOf(scope: Scope, selection: Range | null, size: number): Range | null {
  if (scope === "selection") return selection;
  return size > 0 ? { offset: 0, length: size } : null;
}

export function describeRange(r: Range | null): string {
  if (!r) return "nothing selected";
  return `${hex(r.offset)} – ${hex(r.offset + r.length - 1)}, ${groupDigits(r.length)} ${r.length === 1 ? "byte" : "bytes"}`;
}

export function ScopeChoice({ scope, onChange, selection, name }: { scope: Scope; onChange(s: Scope): void; selection: Range | null; name: string }) {
  return (
    <div className="seg" role="radiogroup" aria-label={`${name}: what to use`}>
      <button type="button" role="radio" aria-checked={scope === "selection"} className={scope === "selection" ? "on" : ""} data-testid={`${name}-scope-selection`} onClick={() => onChange("selection")} disabled={!selection && scope !== "selection"}>
        Selection
      </button>
      <button type="button" role="radio" aria-checked={scope === "file"} className={scope === "file" ? "on" : ""} data-testid={`${name}-scope-file`} onClick={() => onChange("file")}>
        Whole file
      </button>
    </div>
  );
}

export function ProgressBar({ done, total, onCancel, label }: { done: number; total: number; onCancel(): void; label: string }) {
  const pct = total > 0 ? (100 * done) / total : 0;
  return (
    <div className="job" data-testid="job-progress" role="status">
      <div className="bar" aria-label={`${label} progress`} aria-valuenow={Math.round(pct)} role="progressbar">
        <div style={{ width: `${pct}%` }} />
      </div>
      <span className="muted mono">{total > 0 ? `${pct.toFixed(1)} %` : "starting…"}</span>
      <button type="button" data-testid="job-cancel" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
