// Go to line (Ctrl+L): a line number, or a percentage of the file ("50%": the line at that byte).

import { useEffect, useRef, useState, type FormEvent } from "react";
import { groupDigits } from "../format";

export interface GotoLineDialogProps {
  lineCount: number;
  complete: boolean;
  onLine(line: number): void;
  onPercent(percent: number): void;
  onClose(): void;
}

/** "1234", "1,234", "50%" → what to go to, or an error sentence. */
export function parseGotoLine(text: string, lineCount: number, complete: boolean): { line: number } | { percent: number } | { error: string } {
  const t = text.trim().replace(/[,_\s]/g, "");
  if (!t) return { error: "Type a line number or a percentage." };
  const pm = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pm) {
    const p = Number(pm[1]);
    if (p > 100) return { error: "A percentage goes from 0% to 100%." };
    return { percent: p };
  }
  if (!/^\d+$/.test(t)) return { error: `“${text.trim()}” is not a line number (1, 2, …) or a percentage (50%).` };
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 1) return { error: "Lines are numbered from 1." };
  if (complete && n > lineCount) return { error: `There are ${groupDigits(lineCount)} lines.` };
  return { line: n };
}

export function GotoLineDialog({ lineCount, complete, onLine, onPercent, onClose }: GotoLineDialogProps) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = parseGotoLine(text, lineCount, complete);
    if ("error" in r) setError(r.error);
    else if ("line" in r) onLine(r.line);
    else onPercent(r.percent);
  }

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="goto-line-title"
        data-testid="goto-line-dialog"
        onSubmit={submit}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <label id="goto-line-title" htmlFor="goto-line-input" className="dialog-title">
          Go to line
        </label>
        <input
          id="goto-line-input"
          ref={input}
          data-testid="goto-line-input"
          className={error ? "invalid" : undefined}
          value={text}
          autoComplete="off"
          spellCheck={false}
          placeholder={`1 – ${groupDigits(lineCount)}${complete ? "" : "+"}, or 50%`}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
        />
        {error && (
          <div className="dialog-error" role="alert" data-testid="goto-line-error">
            {error}
          </div>
        )}
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="goto-line-go">
            Go
          </button>
        </div>
      </form>
    </div>
  );
}
