// Everything editing shows outside the grid: the toolbar's Save / Save As / Fill / Insert bytes /
// Delete range buttons, the save progress bar, and the dialogs (unsaved edits on close, changed on
// disk, recovery of an interrupted save, fill, insert bytes, delete range, Save As). Also the
// window-wide keys Ctrl+S / Ctrl+Shift+S, and the browser host's beforeunload prompt while any
// document has unsaved edits.

import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from "react";
import type { DocumentInfo } from "../api";
import { baseName, groupDigits, hex, humanSize } from "../format";
import { parseByteSize } from "../shm/size";
import { EditSession, MAX_FILL_PATTERN, type EditDialog, type JobView } from "./session";
import { parseFillByte, parseFillPattern, parseHexText, parseOffset, textBytes } from "./text";
import { checkPattern, type SearchMode } from "../search/pattern";
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
      if (ctrl && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "h") {
        // Find & Replace, as in HxD.
        e.preventDefault();
        if (latest.current.active) editing.openReplace(latest.current.active);
        return;
      }
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
export function EditToolbar({
  editing,
  doc,
  selection,
  cursor,
}: {
  editing: EditSession;
  doc: DocumentInfo | null;
  selection: { start: number; length: number } | null;
  cursor: number;
}) {
  const snap = useEditSnapshot(editing);
  const busy = !!(doc && snap.jobs[doc.docId]);
  const resizable = !!doc && EditSession.canResize(doc);
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
      <button
        type="button"
        className="tool"
        data-testid="insert-bytes-button"
        disabled={!doc || !resizable || busy}
        onClick={() => doc && editing.openInsertBytes(doc, cursor)}
        title={doc && doc.kind === "shm" ? "Shared memory has a fixed size" : "Insert bytes at the cursor: any count, a byte or a pattern"}
      >
        Insert bytes…
      </button>
      <button
        type="button"
        className="tool"
        data-testid="delete-range-button"
        disabled={!doc || !resizable || doc.size === 0 || busy}
        onClick={() => doc && editing.openDeleteRange(doc, selection?.start ?? Math.min(cursor, doc.size - 1), selection?.length ?? 1)}
        title={doc && doc.kind === "shm" ? "Shared memory has a fixed size" : "Delete a range of any length (prefilled from the selection)"}
      >
        Delete range…
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
      // A dialog opened from a toolbar button hands the keyboard to the grid, where the edit shows.
      if (before && before.isConnected && !before.closest(".toolbar")) before.focus({ preventScroll: true });
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
    case "insert-bytes":
      return doc ? <InsertBytesDialog dialog={dialog} editing={editing} doc={doc} /> : null;
    case "replace":
      return doc ? <ReplaceDialog dialog={dialog} editing={editing} /> : null;
    case "delete-range":
      return doc ? <DeleteRangeDialog dialog={dialog} editing={editing} doc={doc} /> : null;
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

/** A label and its input, with the error or hint under it. */
function Field({ label, testId, value, onChange, error, hint }: { label: string; testId: string; value: string; onChange(v: string): void; error?: string | null; hint?: ReactNode }) {
  return (
    <label className="edit-field">
      <span className="edit-field-label">{label}</span>
      <input
        data-testid={testId}
        aria-label={label}
        value={value}
        spellCheck={false}
        autoComplete="off"
        className={error ? "invalid" : undefined}
        aria-invalid={error ? true : undefined}
        onChange={(e) => onChange(e.target.value)}
        onFocus={(e) => e.target.select()}
      />
      {error ? (
        <span className="dialog-error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </span>
      ) : hint ? (
        <span className="dialog-hint">{hint}</span>
      ) : null}
    </label>
  );
}

function countText(n: number): string {
  return `${groupDigits(n)} ${n === 1 ? "byte" : "bytes"}${n >= 1024 ? ` (${humanSize(n)})` : ""}`;
}

/** Insert bytes…: a count (4096, 0x1000, 1 GiB), a byte or a hex pattern, at an offset (the cursor). */
/** Find & Replace (Ctrl+H): a hex, text or regex pattern; a replacement of any length in hex or text; Replace all. */
function ReplaceDialog({ dialog, editing }: { dialog: Extract<EditDialog, { kind: "replace" }>; editing: EditSession }) {
  const [mode, setMode] = useState<SearchMode>("text");
  const [find, setFind] = useState("");
  const [ignoreCase, setIgnoreCase] = useState(false);
  const [withMode, setWithMode] = useState<"hex" | "text">("text");
  const [replacement, setReplacement] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const check = find.length === 0 ? null : checkPattern({ mode, text: find, encoding: "utf8", ignoreCase: mode !== "hex" && ignoreCase });
  const rep = withMode === "text" ? ({ ok: true, bytes: textBytes(replacement) } as const) : replacement.trim() === "" ? ({ ok: true, bytes: new Uint8Array(0) } as const) : parseHexText(replacement);
  const repError = rep.ok ? null : "The replacement must be hex digits in pairs, like DE AD BE EF (or empty, to delete)";
  const ready = check !== null && check.ok && rep.ok && !busy;
  return (
    <Modal
      title="Find & Replace"
      testId="replace-dialog"
      onCancel={editing.closeDialog}
      onSubmit={() => {
        if (!ready || !check?.ok || !rep.ok) return;
        setBusy(true);
        setResult(null);
        const what = mode === "hex" ? `hex ${find}` : mode === "regex" ? `/${find}/` : JSON.stringify(find);
        void editing.replaceAll(dialog.docId, check.spec, rep.bytes, what).then((n) => {
          setBusy(false);
          setResult(n === null ? "Nothing was replaced (see the message)." : `${groupDigits(n)} replaced.`);
        });
      }}
    >
      <label className="edit-field">
        <span className="edit-field-label">Find</span>
        <span className="replace-row">
          <select aria-label="Find as" data-testid="replace-find-mode" value={mode} onChange={(e) => setMode(e.target.value as SearchMode)}>
            <option value="text">Text</option>
            <option value="hex">Hex</option>
            <option value="regex">Regex</option>
          </select>
          <input data-testid="replace-find" aria-label="Find" value={find} onChange={(e) => setFind(e.target.value)} spellCheck={false} autoComplete="off" />
        </span>
        {check && !check.ok ? (
          <span className="dialog-error" role="alert" data-testid="replace-find-error">
            {check.error}
          </span>
        ) : null}
      </label>
      <label className="replace-check">
        <input type="checkbox" data-testid="replace-ignore-case" checked={ignoreCase} disabled={mode === "hex"} onChange={(e) => setIgnoreCase(e.target.checked)} /> Any case (ASCII letters)
      </label>
      <label className="edit-field">
        <span className="edit-field-label">Replace with</span>
        <span className="replace-row">
          <select aria-label="Replace with, as" data-testid="replace-with-mode" value={withMode} onChange={(e) => setWithMode(e.target.value as "hex" | "text")}>
            <option value="text">Text (UTF-8)</option>
            <option value="hex">Hex</option>
          </select>
          <input data-testid="replace-with" aria-label="Replace with" value={replacement} onChange={(e) => setReplacement(e.target.value)} spellCheck={false} autoComplete="off" />
        </span>
        {repError ? (
          <span className="dialog-error" role="alert" data-testid="replace-with-error">
            {repError}
          </span>
        ) : (
          <span className="dialog-hint">any length; empty deletes the matches</span>
        )}
      </label>
      <p className="dialog-hint">
        Every match, left to right, without overlaps, in the document as you see it; one undo step; nothing is written until you save.
      </p>
      {result ? (
        <p data-testid="replace-result" role="status">
          {result}
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" data-testid="replace-close" onClick={editing.closeDialog}>
          Close
        </button>
        <button type="submit" className="primary" data-testid="replace-all" disabled={!ready}>
          {busy ? "Replacing…" : "Replace all"}
        </button>
      </div>
    </Modal>
  );
}

function InsertBytesDialog({ dialog, editing, doc }: { dialog: Extract<EditDialog, { kind: "insert-bytes" }>; editing: EditSession; doc: DocumentInfo }) {
  const [count, setCount] = useState("1");
  const [fill, setFill] = useState("00");
  const [at, setAt] = useState(hex(dialog.at));
  const [errors, setErrors] = useState<{ count?: string; fill?: string; at?: string }>({});
  const maxCount = Number.MAX_SAFE_INTEGER - doc.size;
  const c = parseByteSize(count, maxCount, "An insert", "the file would be larger than 2^53 bytes");
  const f = parseFillPattern(fill, MAX_FILL_PATTERN);
  const a = parseOffset(at, doc.size);
  return (
    <Modal
      title="Insert bytes"
      testId="insert-bytes-dialog"
      onCancel={editing.closeDialog}
      onSubmit={() => {
        if (!c.ok || !f.ok || !a.ok) {
          setErrors({ ...(c.ok ? {} : { count: c.error }), ...(f.ok ? {} : { fill: f.error }), ...(a.ok ? {} : { at: a.error }) });
          return;
        }
        void editing.insertBytes(dialog.docId, a.offset, c.size, f.bytes);
      }}
    >
      <Field
        label="Count"
        testId="insert-count"
        value={count}
        onChange={(v) => {
          setCount(v);
          setErrors((e) => ({ ...e, count: undefined }));
        }}
        error={errors.count}
        hint={c.ok ? countText(c.size) : "bytes (4096), hex (0x1000), or with a unit: 64 KiB, 10 MiB, 1 GiB"}
      />
      <Field
        label="Fill with"
        testId="insert-fill"
        value={fill}
        onChange={(v) => {
          setFill(v);
          setErrors((e) => ({ ...e, fill: undefined }));
        }}
        error={errors.fill}
        hint="a byte in hex (00, FF) or decimal (#65), or a hex pattern repeated (DE AD BE EF)"
      />
      <Field
        label="At offset"
        testId="insert-at"
        value={at}
        onChange={(v) => {
          setAt(v);
          setErrors((e) => ({ ...e, at: undefined }));
        }}
        error={errors.at}
        hint={`before the byte there (${hex(doc.size)}, the size, appends) · the bytes after it move`}
      />
      <div className="dialog-buttons">
        <button type="button" onClick={editing.closeDialog}>
          Cancel
        </button>
        <button type="submit" className="primary" data-testid="insert-submit">
          Insert
        </button>
      </div>
    </Modal>
  );
}

/** Delete range…: a start and a length or a last byte, prefilled from the selection. */
function DeleteRangeDialog({ dialog, editing, doc }: { dialog: Extract<EditDialog, { kind: "delete-range" }>; editing: EditSession; doc: DocumentInfo }) {
  const [start, setStart] = useState(hex(dialog.start));
  const [by, setBy] = useState<"length" | "end">("length");
  const [amount, setAmount] = useState(String(dialog.length));
  const [error, setError] = useState<string | null>(null);
  const s = parseOffset(start, Math.max(0, doc.size - 1), "The start");
  const range = (): { ok: true; start: number; length: number } | { ok: false; error: string } => {
    if (!s.ok) return s;
    if (by === "length") {
      const l = parseByteSize(amount, doc.size - s.offset, "A delete", `only ${groupDigits(doc.size - s.offset)} bytes follow ${hex(s.offset)}`);
      return l.ok ? { ok: true, start: s.offset, length: l.size } : l;
    }
    const e = parseOffset(amount, doc.size - 1, "The last byte");
    if (!e.ok) return e;
    if (e.offset < s.offset) return { ok: false, error: `The last byte ${hex(e.offset)} is before the start ${hex(s.offset)}` };
    return { ok: true, start: s.offset, length: e.offset - s.offset + 1 };
  };
  const r = range();
  return (
    <Modal
      title="Delete range"
      testId="delete-range-dialog"
      onCancel={editing.closeDialog}
      onSubmit={() => {
        if (!r.ok) setError(r.error);
        else void editing.deleteRangeOf(dialog.docId, r.start, r.length);
      }}
    >
      <Field
        label="Start"
        testId="delete-start"
        value={start}
        onChange={(v) => {
          setStart(v);
          setError(null);
        }}
      />
      <div className="edit-field">
        <span className="edit-field-label">
          <select
            data-testid="delete-by"
            aria-label="Give the length or the last byte"
            value={by}
            onChange={(e) => {
              const next = e.target.value as "length" | "end";
              // Carry the range over to the other form.
              if (r.ok) setAmount(next === "end" ? hex(r.start + r.length - 1) : String(r.length));
              setBy(next);
              setError(null);
            }}
          >
            <option value="length">Length</option>
            <option value="end">Last byte</option>
          </select>
        </span>
        <input
          data-testid="delete-amount"
          aria-label={by === "length" ? "Length" : "Last byte"}
          value={amount}
          spellCheck={false}
          autoComplete="off"
          className={error ? "invalid" : undefined}
          onChange={(e) => {
            setAmount(e.target.value);
            setError(null);
          }}
          onFocus={(e) => e.target.select()}
        />
      </div>
      {error ? (
        <div className="dialog-error" role="alert" data-testid="delete-error">
          {error}
        </div>
      ) : (
        <div className="dialog-hint" data-testid="delete-summary">
          {r.ok ? `Deletes ${countText(r.length)}: ${hex(r.start)} to ${hex(r.start + r.length - 1)}; the bytes after them move back.` : r.error}
        </div>
      )}
      <div className="dialog-buttons">
        <button type="button" onClick={editing.closeDialog}>
          Cancel
        </button>
        <button type="submit" className="primary danger" data-testid="delete-submit">
          Delete
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
