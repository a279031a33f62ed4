// The side panel beside the hex grid: Inspector, Bookmarks, Histogram, Checksums, Copy/Export and
// Compare, for the active document and its cursor/selection. It also owns the bookmark keys
// (Ctrl+B add, F2 / Shift+F2 next / previous) and the compare view, which covers the workspace.

import { useCallback, useEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { ViewState } from "../HexView";
import type { PageCache } from "../pageCache";
import { Bookmarks, useBookmarks } from "./Bookmarks";
import { ChecksumPanel } from "./ChecksumPanel";
import { ComparePane } from "./ComparePane";
import { CopyExport } from "./CopyExport";
import { Histogram } from "./Histogram";
import { Inspector } from "./Inspector";
import { StructurePanel } from "../structure/StructurePanel";
import { StringsPanel } from "./StringsPanel";
import type { Range } from "./scope";
import type { EditSession } from "../editing/session";
import "./panels.css";

export const PANEL_TABS = [
  { id: "inspector", label: "Inspector" },
  { id: "bookmarks", label: "Bookmarks" },
  { id: "histogram", label: "Histogram" },
  { id: "checksums", label: "Checksums" },
  { id: "copy", label: "Copy / Export" },
  { id: "compare", label: "Compare" },
  { id: "structure", label: "Structure" },
  { id: "strings", label: "Strings" },
] as const;
export type PanelTab = (typeof PANEL_TABS)[number]["id"];

export function selectionOf(view: ViewState, size: number): Range | null {
  if (view.anchor === null || size === 0) return null;
  const start = Math.min(view.anchor, view.cursor);
  // Not past the last byte (the append position of insert mode is not one).
  const length = Math.min(Math.abs(view.cursor - view.anchor) + 1, size - start);
  return length > 0 ? { offset: start, length } : null;
}

/** A view showing [offset, offset+length) selected, the cursor on its first byte, a few rows below the top. */
export function jumpView(v: ViewState, bpr: number, offset: number, length = 1): ViewState {
  const row = Math.floor(offset / bpr);
  return { ...v, cursor: offset, anchor: length > 1 ? offset + length - 1 : null, topRow: Math.max(0, row - 4) };
}

export interface SidePanelProps {
  api: HexmapApi;
  doc: DocumentInfo;
  docs: DocumentInfo[];
  cache: PageCache;
  view: ViewState;
  setView(update: (v: ViewState) => ViewState): void;
  bpr: number;
  onNotice(text: string, kind?: "error" | "info"): void;
  /** Edits move the bookmarks with their bytes. */
  editing?: EditSession | null;
}

export function SidePanel({ api, doc, docs, cache, view, setView, bpr, onNotice, editing = null }: SidePanelProps) {
  const [tab, setTab] = useState<PanelTab>("inspector");
  const [open, setOpen] = useState(true);
  const [compareWith, setCompareWith] = useState<string | null>(null);
  const [compareOpen, setCompareOpen] = useState(false);
  const bookmarks = useBookmarks(api, doc, onNotice, editing);
  const selection = selectionOf(view, doc.size);
  const latest = useRef({ view, selection, bookmarks, doc });
  latest.current = { view, selection, bookmarks, doc };

  const jump = useCallback(
    (offset: number, length = 1) => {
      setView((v) => jumpView(v, bpr, offset, length));
      document.querySelector<HTMLElement>("[data-testid=hex-grid]")?.focus({ preventScroll: true });
    },
    [setView, bpr],
  );

  // Bookmark keys, from anywhere but a text field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      const { view, selection, bookmarks, doc } = latest.current;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "b") {
        e.preventDefault();
        if (doc.size > 0 && (selection || view.cursor < doc.size)) void bookmarks.add(selection ?? { offset: view.cursor, length: 1 });
      } else if (e.key === "F2" && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        const b = bookmarks.next(view.cursor, e.shiftKey ? -1 : 1);
        if (b) jump(b.offset, b.length);
        else onNotice("No bookmarks in this file yet (Ctrl+B adds one).", "info");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [jump, onNotice]);

  const others = docs.filter((d) => d.docId !== doc.docId);
  const other = others.find((d) => d.docId === compareWith) ?? others[0] ?? null;
  useEffect(() => setCompareOpen(false), [doc.docId]);

  if (!open) {
    return (
      <aside className="sidepanel collapsed" aria-label="Panels">
        <button type="button" className="icon" title="Show the panels" data-testid="panels-show" onClick={() => setOpen(true)}>
          ‹
        </button>
      </aside>
    );
  }

  return (
    <>
      <aside className="sidepanel" aria-label="Panels" data-testid="sidepanel">
        <div className="ptabs" role="tablist">
          {PANEL_TABS.map((t) => (
            <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} className={tab === t.id ? "on" : ""} data-testid={`ptab-${t.id}`} onClick={() => setTab(t.id)}>
              {t.label}
              {t.id === "bookmarks" && bookmarks.list.length > 0 && <span className="count">{bookmarks.list.length}</span>}
            </button>
          ))}
          <button type="button" className="icon hide" title="Hide the panels" aria-label="Hide the panels" onClick={() => setOpen(false)}>
            ›
          </button>
        </div>
        <div className="pbody">
          {tab === "inspector" && <Inspector api={api} doc={doc} cache={cache} cursor={view.cursor} onNotice={onNotice} />}
          {tab === "bookmarks" && <Bookmarks doc={doc} state={bookmarks} selection={selection} cursor={view.cursor} onJump={jump} onNotice={onNotice} />}
          {tab === "structure" && <StructurePanel api={api} doc={doc} cursor={view.cursor} onJump={jump} onNotice={onNotice} />}
          {tab === "strings" && <StringsPanel api={api} doc={doc} onJump={jump} />}
          {tab === "histogram" && <Histogram api={api} doc={doc} selection={selection} />}
          {tab === "checksums" && <ChecksumPanel api={api} doc={doc} selection={selection} onNotice={onNotice} />}
          {tab === "copy" && <CopyExport api={api} doc={doc} cache={cache} selection={selection} onNotice={onNotice} />}
          {tab === "compare" && (
            <section className="panel" data-testid="compare-panel" aria-label="Compare">
              {others.length === 0 ? (
                <p className="hint">Open a second file (the Open box above) to compare it with this one.</p>
              ) : (
                <>
                  <p className="muted small">Compare this file with:</p>
                  <div className="panel-bar wrap">
                    <select className="grow" aria-label="File to compare with" data-testid="compare-with" value={other?.docId ?? ""} onChange={(e) => setCompareWith(e.target.value)}>
                      {others.map((d) => (
                        <option key={d.docId} value={d.docId}>
                          {d.name}
                        </option>
                      ))}
                    </select>
                    <button type="button" className="primary" data-testid="compare-open" onClick={() => setCompareOpen(true)}>
                      Compare side by side
                    </button>
                  </div>
                  <p className="hint">Both files scroll together; differing bytes are highlighted. Next / previous difference: F7 / Shift+F7.</p>
                </>
              )}
            </section>
          )}
        </div>
      </aside>
      {compareOpen && other && (
        <div className="compare-overlay">
          <ComparePane api={api} a={doc} b={other} onClose={() => setCompareOpen(false)} onNotice={onNotice} />
        </div>
      )}
    </>
  );
}
