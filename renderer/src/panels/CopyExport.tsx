// Copy the selection as hex text, a C/C++ array, Python bytes, Base64 or raw text (up to
// COPY_AS_LIMIT; the text is shown too, so it can be read or selected by hand), and export the
// selection to a file on the host (`export` job: streamed, progress, cancel; temp file + rename).

import { useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { PageCache } from "../pageCache";
import { groupDigits, humanSize } from "../format";
import { COPY_AS_LIMIT, COPY_FORMATS, formatBytes, type CopyFormat } from "./CopyAs";
import { startJob, type JobHandle } from "./jobs";
import { describeRange, ProgressBar, type Range } from "./scope";

/** Longest text shown in the preview box (the clipboard gets all of it). */
const PREVIEW_CHARS = 64 * 1024;

export interface CopyExportProps {
  api: HexmapApi;
  doc: DocumentInfo;
  cache: PageCache;
  selection: Range | null;
  onNotice(text: string, kind?: "error" | "info"): void;
}

export function CopyExport({ api, doc, cache, selection, onNotice }: CopyExportProps) {
  const [format, setFormat] = useState<CopyFormat>("c");
  const [text, setText] = useState<{ text: string; format: CopyFormat; length: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [target, setTarget] = useState("");
  const [overwrite, setOverwrite] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useRef<JobHandle<{ path: string; bytesWritten: number }> | null>(null);
  const tooBig = !!selection && selection.length > COPY_AS_LIMIT;

  async function copyAs() {
    if (!selection) return;
    if (tooBig) {
      onNotice(`The selection is ${humanSize(selection.length)}: Copy as takes at most ${humanSize(COPY_AS_LIMIT)}. Use Export to file instead.`);
      return;
    }
    setBusy(true);
    try {
      const bytes = await cache.read({ docId: doc.docId, generation: doc.generation, size: doc.size }, selection.offset, selection.length);
      const out = formatBytes(bytes, format);
      setText({ text: out, format, length: bytes.length });
      try {
        await navigator.clipboard.writeText(out);
        onNotice(`Copied ${groupDigits(bytes.length)} bytes as ${COPY_FORMATS.find((f) => f.id === format)!.label}.`, "info");
      } catch {
        onNotice("The clipboard is not available here: select the text below and copy it.", "info");
      }
    } catch (err) {
      onNotice(`Could not copy: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  }

  function exportSelection() {
    if (!selection) return;
    const path = target.trim();
    if (!path) {
      setError("Type the full path of the new file.");
      return;
    }
    setError(null);
    setExported(null);
    setProgress({ done: 0, total: 0 });
    const j = startJob(api, "export", { docId: doc.docId, offset: selection.offset, length: selection.length, path, overwrite }, { onProgress: (done, total) => setProgress({ done, total }) });
    job.current = j;
    j.promise
      .then((r) => {
        setExported(`Wrote ${groupDigits(r.bytesWritten)} bytes to ${r.path}.`);
      })
      .catch((err) => {
        const code = (err as { code?: string }).code;
        setError(code === "ECANCELED" ? "Export cancelled; nothing was written." : err instanceof Error ? err.message : String(err));
      })
      .finally(() => setProgress(null));
  }

  return (
    <section className="panel copy-export" data-testid="copy-export" aria-label="Copy as and export">
      <p className="muted small">{describeRange(selection)}</p>
      <h3>Copy as</h3>
      <div className="panel-bar wrap">
        <select value={format} aria-label="Copy format" data-testid="copy-format" onChange={(e) => setFormat(e.target.value as CopyFormat)}>
          {COPY_FORMATS.map((f) => (
            <option key={f.id} value={f.id}>
              {f.label}
            </option>
          ))}
        </select>
        <button type="button" className="primary" data-testid="copy-as" disabled={!selection || busy} onClick={() => void copyAs()}>
          Copy
        </button>
      </div>
      {tooBig && (
        <p className="field-error" data-testid="copy-too-big" role="alert">
          {humanSize(selection!.length)} selected: Copy as takes at most {humanSize(COPY_AS_LIMIT)}. Export it to a file instead.
        </p>
      )}
      {text && (
        <textarea
          className="mono copy-preview"
          readOnly
          data-testid="copy-text"
          data-format={text.format}
          aria-label="Copied text"
          value={text.text.length > PREVIEW_CHARS ? `${text.text.slice(0, PREVIEW_CHARS)}\n… (${groupDigits(text.text.length)} characters in all, on the clipboard)` : text.text}
        />
      )}
      <h3>Export selection to a file</h3>
      <div className="panel-bar wrap">
        <input
          className="mono grow"
          placeholder={api.host === "electron" ? "Full path of the new file" : "Full path on the host, e.g. /tmp/part.bin"}
          aria-label="Path of the new file"
          data-testid="export-path"
          value={target}
          spellCheck={false}
          onChange={(e) => setTarget(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") exportSelection();
          }}
        />
      </div>
      <div className="panel-bar">
        <label className="check">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace if it exists
        </label>
        <span className="spacer" />
        <button type="button" className="primary" data-testid="export-run" disabled={!selection || !!progress} onClick={exportSelection}>
          Export
        </button>
      </div>
      {progress && <ProgressBar label="Export" done={progress.done} total={progress.total} onCancel={() => job.current?.cancel()} />}
      {error && <p className="field-error" role="alert" data-testid="export-error">{error}</p>}
      {exported && <p className="ok-text" data-testid="export-done">{exported}</p>}
    </section>
  );
}
