// Go to offset (Ctrl+G): decimal, 0x hex, +N/−N from the cursor, or a percentage of the file.
// Errors (past the end, malformed) are shown inline and the dialog stays open.

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { groupDigits, hex, parseGoto } from "./format";

export interface GotoDialogProps {
  cursor: number;
  size: number;
  onGo(offset: number): void;
  onClose(): void;
}

export function GotoDialog({ cursor, size, onGo, onClose }: GotoDialogProps) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.focus();
  }, []);

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = parseGoto(text, cursor, size);
    if (r.ok) onGo(r.offset);
    else setError(r.error);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  }

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="goto-title"
        data-testid="goto-dialog"
        onSubmit={submit}
        onKeyDown={onKeyDown}
      >
        <label id="goto-title" htmlFor="goto-input" className="dialog-title">
          Go to offset
        </label>
        <input
          id="goto-input"
          ref={input}
          data-testid="goto-input"
          className={error ? "invalid" : undefined}
          value={text}
          autoComplete="off"
          spellCheck={false}
          placeholder="4096, 0x1000, +16, -0x10, 50%"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "goto-error" : "goto-hint"}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
        />
        {error ? (
          <div id="goto-error" className="dialog-error" role="alert" data-testid="goto-error">
            {error}
          </div>
        ) : (
          <div id="goto-hint" className="dialog-hint">
            Cursor {hex(cursor)} · file {groupDigits(size)} bytes
          </div>
        )}
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="goto-submit">
            Go
          </button>
        </div>
      </form>
    </div>
  );
}
