// "Open shared memory…" and "Create shared memory…": a section name (and a size to create one).
// The same dialog in the browser host (toolbar buttons) and in Electron (File menu items, which
// arrive as menu commands). Errors from the host (no such section, exists with another size, a
// bad name) show inline and the dialog stays open.

import { useEffect, useRef, useState, type FormEvent } from "react";
import { parseByteSize } from "./size";
import "./shm.css";

export type ShmDialogMode = "open" | "create";

export interface ShmDialogRequest {
  mode: ShmDialogMode;
  name: string;
  /** create only */
  size?: number;
  /** open only */
  readOnly?: boolean;
}

export interface ShmDialogProps {
  mode: ShmDialogMode;
  /** "win32" shows the Local\ / Global\ hint; anything else the POSIX one. */
  platformHint: "windows" | "posix" | "unknown";
  /** Performs the open/create; resolves with an error sentence to show, or null when done. */
  onSubmit(request: ShmDialogRequest): Promise<string | null>;
  onClose(): void;
}

export function ShmDialog({ mode, platformHint, onSubmit, onClose }: ShmDialogProps) {
  const [name, setName] = useState("");
  const [sizeText, setSizeText] = useState("4 KiB");
  const [readOnly, setReadOnly] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    nameInput.current?.focus();
  }, []);

  // Escape closes the dialog wherever the focus is (it may be on the body after a click).
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const n = name.trim();
    if (!n) {
      setError("Enter the name of the section, e.g. ShareMemory");
      return;
    }
    let size: number | undefined;
    if (mode === "create") {
      const r = parseByteSize(sizeText);
      if (!r.ok) {
        setError(r.error);
        return;
      }
      size = r.size;
    }
    setBusy(true);
    try {
      const message = await onSubmit(mode === "create" ? { mode, name: n, size: size! } : { mode, name: n, readOnly });
      if (message) setError(message);
    } finally {
      setBusy(false);
    }
  }

  const title = mode === "open" ? "Open shared memory" : "Create shared memory";
  const nameHint =
    platformHint === "windows"
      ? "A name such as ShareMemory, Local\\ShareMemory (this session) or Global\\ShareMemory (all sessions)."
      : platformHint === "posix"
        ? "A name such as ShareMemory (POSIX shm_open; /ShareMemory is the same section)."
        : "A name such as ShareMemory (on a Windows host also Local\\ShareMemory or Global\\ShareMemory).";

  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shm-title"
        data-testid="shm-dialog"
        data-mode={mode}
        onSubmit={submit}
      >
        <div id="shm-title" className="dialog-title">
          {title}
        </div>
        <div className="field">
          <label htmlFor="shm-name">Section name</label>
          <input
            id="shm-name"
            ref={nameInput}
            data-testid="shm-name"
            value={name}
            autoComplete="off"
            spellCheck={false}
            placeholder="ShareMemory"
            onChange={(e) => {
              setName(e.target.value);
              setError(null);
            }}
          />
        </div>
        {mode === "create" ? (
          <div className="field">
            <label htmlFor="shm-size">Size</label>
            <input
              id="shm-size"
              data-testid="shm-size"
              value={sizeText}
              autoComplete="off"
              spellCheck={false}
              placeholder="4096, 0x1000, 64 KiB, 1 MiB"
              onChange={(e) => {
                setSizeText(e.target.value);
                setError(null);
              }}
            />
          </div>
        ) : (
          <label className="check">
            <input type="checkbox" data-testid="shm-readonly" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} />
            Read-only (never write into the section)
          </label>
        )}
        {error ? (
          <div className="dialog-error" role="alert" data-testid="shm-error">
            {error}
          </div>
        ) : (
          <div className="dialog-hint">
            {nameHint}{" "}
            {mode === "create"
              ? "An existing section of that size is opened instead."
              : "Edits apply to the section immediately and can be undone; there is nothing to save."}
          </div>
        )}
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="shm-submit" aria-busy={busy}>
            {mode === "open" ? "Open" : "Create"}
          </button>
        </div>
      </form>
    </div>
  );
}
