// Everything editing shows outside the grid: the toolbar's Save / Save As / Fill buttons, the
// save progress bar, and the dialogs (unsaved edits on close, changed on disk, recovery of an
// interrupted save, fill, Save As). Also the window-wide keys Ctrl+S / Ctrl+Shift+S, and the
// browser host's beforeunload prompt while any document has unsaved edits.

import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from "react";
import type { DocumentInfo } from "../api";
import { baseName, groupDigits, hex } from "../format";
import type { EditDialog, EditSession, JobView } from "./session";
import { parseFillByte } from "./text";
import "./editing.css";

export function useEditSnapshot(editing: EditSession) {
  return useSyncExternalStore(editing.subscribe, () => editing.snapshot);
}

/** Window-wide editing keys and the unsaved-edits prompt when the page is closed or reloaded. */
export function useEditingWindow(editing: EditSession, docs: readonly DocumentInfo[], active: DocumentInfo | null, host: string): void {
  const latest = useRef({ docs, active });
  latest.current = { docs, active };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ctrl = e.ctrlKey || e.metaKey;
      if (!ctrl || e.altKey || e.key.toLowerCase() !== "s") return;
      e.preventDefault();
      const doc = latest.current.active;
      if (!doc) return;
      if (e.shiftKey) editing.openSaveAs(doc);
      else void editing.save(doc.docId);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [editing]);

  // The browser host: closing the tab or reloading with unsaved edits asks first. (Electron asks
  // in the main process, with a native dialog that can also save: app/main/unsaved.ts.)
  useEffect(() => {
    if (host === "electron") return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!editing.anyDirty(latest.current.docs)) return;
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [editing, host]);
}

/** Toolbar buttons for the active document. */
export function EditToolbar({ editing, doc, selection }: { editing: EditSession; doc: DocumentInfo | null; selection: { start: number; length: number } | null }) {
  const snap = useEditSnapshot(editing);
  const busy = !!(doc && snap.jobs[doc.docId]);
  return (
    <>
      <button
        type="button"
        className="tool"
        data-testid="save-button"
        disabled={!doc || doc.readOnly || !doc.dirty || busy}
        onClick={() => doc && void editing.save(doc.docId)}
        title="Save (Ctrl+S)"
      >
        Save
      </button>
      <button type="button" className="tool" data-testid="save-as-button" disabled={!doc || busy} onClick={() => doc && editing.openSaveAs(doc)} title="Save a copy (Ctrl+Shift+S)">
        Save As…
      </button>
      <button
        type="button"
        className="tool"
        data-testid="fill-button"
        disabled={!doc || doc.readOnly || doc.size === 0 || !selection}
        onClick={() => doc && selection && editing.openFill(doc, selection.start, selection.length)}
        title="Fill the selection with a byte (Ctrl+Shift+F)"
      >
        Fill…
      </button>
    </>
  );
}

/** The dialogs and the progress bar. */
export function EditingLayer({ editing, active, docs }: { editing: EditSession; active: DocumentInfo | null; docs: readonly DocumentInfo[] }) {
  const snap = useEditSnapshot(editing);
  const job = active ? snap.jobs[active.docId] : undefined;
  const dialogDoc = snap.dialog ? docs.find((d) => d.docId === snap.dialog!.docId) : undefined;
  return (
    <>
      {job && job.op !== "save-as" && <ProgressBar job={job} />}
      {snap.dialog && <DialogFor dialog={snap.dialog} editing={editing} doc={dialogDoc} job={snap.jobs[snap.dialog.docId]} />}
    </>
  );
}

function ProgressBar({ job }: { job: JobView }) {
  const pct = job.total > 0 ? Math.min(100, Math.floor((job.done / job.total) * 100)) : null;
  const label = job.op === "save" ? "Saving" : job.op === "recover" ? "Recovering" : "Copying";
  return (
    <div className="edit-progress" role="status" data-testid="save-progress" data-op={job.op}>
      <span>
        {label}…{pct !== null ? ` ${pct}%` : ""}
      </span>
      <progress max={100} value={pct ?? undefined} />
    </div>
  );
}

function Modal({ title, testId, children, onCancel, onSubmit }: { title: string; testId: string; children: ReactNode; onCancel(): void; onSubmit?(e: FormEvent): void }) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    // Focus the dialog; give the keyboard back (to the grid, usually) when it closes.
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current?.querySelector<HTMLElement>("input, button.primary, button");
    el?.focus();
    return () => {
      if (before && before.isConnected) before.focus({ preventScroll: true });
      else document.querySelector<HTMLElement>("[data-testid=hex-grid]")?.focus({ preventScroll: true });
    };
  }, []);
  const onKeyDown = (e: ReactKeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  };
  return (
    <div className="dialog-backdrop">
      <form
        ref={ref}
        className="dialog edit-dialog"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        data-testid={testId}
        onKeyDown={onKeyDown}
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit?.(e);
        }}
      >
        <div className="dialog-title">{title}</div>
        {children}
      </form>
    </div>
  );
}

function DialogFor({ dialog, editing, doc, job }: { dialog: EditDialog; editing: EditSession; doc: DocumentInfo | undefined; job: JobView | undefined }) {
  switch (dialog.kind) {
    case "unsaved-close":
      return (
        <Modal title="Unsaved edits" testId="unsaved-dialog" onCancel={() => void editing.answerClose(dialog.docId, "cancel")}>
          <p>
            <b>{baseName(dialog.name)}</b> has {doc?.editCount ? `${groupDigits(doc.editCount)} unsaved ${doc.editCount === 1 ? "edit" : "edits"}` : "unsaved edits"}. Save them before
            closing?
          </p>
          <div className="dialog-buttons">
            <button type="button" data-testid="unsaved-cancel" onClick={() => void editing.answerClose(dialog.docId, "cancel")}>
              Cancel
            </button>
            <button type="button" data-testid="unsaved-discard" onClick={() => void editing.answerClose(dialog.docId, "discard")}>
              Discard
            </button>
            <button type="button" className="primary" data-testid="unsaved-save" onClick={() => void editing.answerClose(dialog.docId, "save")}>
              Save
            </button>
          </div>
        </Modal>
      );
    case "external-change":
      return (
        <Modal title="The file changed on disk" testId="changed-dialog" onCancel={() => void editing.answerExternalChange(dialog.docId, "cancel")}>
          <p>{dialog.message}</p>
          <p className="muted">Overwrite writes your edits over the file as it is now; Reload drops your edits and shows the file as it is now.</p>
          <div className="dialog-buttons">
            <button type="button" data-testid="changed-cancel" onClick={() => void editing.answerExternalChange(dialog.docId, "cancel")}>
              Cancel
            </button>
            <button type="button" data-testid="changed-reload" onClick={() => void editing.answerExternalChange(dialog.docId, "reload")}>
              Reload
            </button>
            <button type="button" className="primary danger" data-testid="changed-overwrite" onClick={() => void editing.answerExternalChange(dialog.docId, "overwrite")}>
              Overwrite
            </button>
          </div>
        </Modal>
      );
    case "recovery":
      return (
        <Modal title="Recover an interrupted save" testId="recovery-dialog" onCancel={editing.closeDialog}>
          <p>
            A save of <b>{baseName(dialog.name)}</b> was interrupted (Hexmap or the computer stopped while saving). Its journal can finish that save or undo it, so the
            file holds either all of the saved edits or none of them.
          </p>
          <div className="dialog-buttons">
            <button type="button" data-testid="recovery-later" onClick={editing.closeDialog}>
              Later
            </button>
            <button type="button" data-testid="recovery-back" onClick={() => void editing.recover(dialog.docId, "back")}>
              Undo the save
            </button>
            <button type="button" className="primary" data-testid="recovery-forward" onClick={() => void editing.recover(dialog.docId, "forward")}>
              Finish the save
            </button>
          </div>
        </Modal>
      );
    case "fill":
      return <FillDialog dialog={dialog} editing={editing} />;
    case "save-as":
      return <SaveAsDialog dialog={dialog} editing={editing} job={job} />;
  }
}

function FillDialog({ dialog, editing }: { dialog: Extract<EditDialog, { kind: "fill" }>; editing: EditSession }) {
  const [text, setText] = useState("00");
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal
      title="Fill with a byte"
      testId="fill-dialog"
      onCancel={editing.closeDialog}
      onSubmit={() => {
        const r = parseFillByte(text);
        if (!r.ok) setError(r.error);
        else void editing.fill(dialog.docId, dialog.start, dialog.length, r.byte);
      }}
    >
      <input
        data-testid="fill-input"
        aria-label="Byte to fill with (hex)"
        value={text}
        spellCheck={false}
        autoComplete="off"
        className={error ? "invalid" : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onFocus={(e) => e.target.select()}
      />
      {error ? (
        <div className="dialog-error" role="alert" data-testid="fill-error">
          {error}
        </div>
      ) : (
        <div className="dialog-hint">
          {groupDigits(dialog.length)} {dialog.length === 1 ? "byte" : "bytes"} from {hex(dialog.start)} · hex (00–FF) or decimal (#65)
        </div>
      )}
      <div className="dialog-buttons">
        <button type="button" onClick={editing.closeDialog}>
          Cancel
        </button>
        <button type="submit" className="primary" data-testid="fill-submit">
          Fill
        </button>
      </div>
    </Modal>
  );
}

function SaveAsDialog({ dialog, editing, job }: { dialog: Extract<EditDialog, { kind: "save-as" }>; editing: EditSession; job: JobView | undefined }) {
  const [path, setPath] = useState(`${dialog.name}.copy`);
  const running = job?.op === "save-as";
  const pct = running && job.total > 0 ? Math.floor((job.done / job.total) * 100) : 0;
  return (
    <Modal
      title={`Save a copy of ${baseName(dialog.name)}`}
      testId="save-as-dialog"
      onCancel={() => (running ? editing.cancelJob(dialog.docId) : editing.closeDialog())}
      onSubmit={() => {
        if (!running && path.trim()) void editing.saveAs(dialog.docId, path.trim());
      }}
    >
      <input data-testid="save-as-path" aria-label="Path of the copy" value={path} spellCheck={false} autoComplete="off" disabled={running} onChange={(e) => setPath(e.target.value)} />
      {running ? (
        <div className="dialog-hint" data-testid="save-as-progress">
          Copying… {pct}% <progress max={100} value={pct} />
        </div>
      ) : (
        <div className="dialog-hint">The copy holds your edits; this document keeps them unsaved. Holes in a sparse file stay holes.</div>
      )}
      <div className="dialog-buttons">
        {running ? (
          <button type="button" data-testid="save-as-cancel" onClick={() => editing.cancelJob(dialog.docId)}>
            Cancel copy
          </button>
        ) : (
          <>
            <button type="button" onClick={editing.closeDialog}>
              Cancel
            </button>
            <button type="submit" className="primary" data-testid="save-as-submit">
              Save copy
            </button>
          </>
        )}
      </div>
    </Modal>
  );
}
