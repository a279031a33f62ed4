// Which view each document shows — the hex grid or the lines — for App. A file whose first bytes
// look like text with line breaks (the host's `sniff`) opens in the line view; Ctrl+T (or the
// toolbar button) toggles, keeping the place: the hex cursor's line when going to lines, the
// current line's first byte when going back to hex.

import { useCallback, useEffect, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { LineEncoding } from "../../../app/protocol/lines";
import { LineView } from "./LineView";

type Mode = "hex" | "lines";

interface DocLines {
  mode: Mode;
  encoding?: LineEncoding;
  line: number;
}

export interface LineModeOptions {
  api: HexmapApi;
  docs: DocumentInfo[];
  active: DocumentInfo | null;
  notify(text: string, kind?: "error" | "info"): void;
  /** The hex view's cursor offset of a document. */
  hexCursor(docId: string): number;
  /** Moves the hex view's cursor (and its top row) to an offset. */
  jumpHex(docId: string, offset: number): void;
}

export function useLineMode({ api, docs, active, notify, hexCursor, jumpHex }: LineModeOptions) {
  const [state, setState] = useState<Record<string, DocLines>>({});
  const sniffed = useRef(new Set<string>());
  const latest = useRef({ state, active, hexCursor, jumpHex });
  latest.current = { state, active, hexCursor, jumpHex };

  // Sniff each new file once: text with line breaks opens as lines.
  useEffect(() => {
    for (const d of docs) {
      if (sniffed.current.has(d.docId)) continue;
      sniffed.current.add(d.docId);
      if (d.kind !== "file" || d.size === 0) continue;
      api
        .request("sniff", { docId: d.docId })
        .then((s) => {
          setState((st) => ({ ...st, [d.docId]: { mode: s.text && s.hasNewline ? "lines" : (st[d.docId]?.mode ?? "hex"), encoding: s.encoding, line: st[d.docId]?.line ?? 1 } }));
        })
        .catch(() => {});
    }
  }, [api, docs]);

  const toggle = useCallback(
    async (docId: string) => {
      const cur = latest.current.state[docId] ?? { mode: "hex" as Mode, line: 1 };
      if (cur.mode === "hex") {
        let line = 1;
        try {
          line = (await api.request("line-at-offset", { docId, offset: latest.current.hexCursor(docId) })).line || 1;
        } catch {
          /* binary or unreadable: from the top */
        }
        setState((st) => ({ ...st, [docId]: { ...cur, mode: "lines", line } }));
      } else {
        setState((st) => ({ ...st, [docId]: { ...cur, mode: "hex" } }));
        try {
          const r = await api.request("line-start", { docId, line: cur.line });
          if (r.offset !== null) latest.current.jumpHex(docId, r.offset);
        } catch {
          /* stay where the hex view was */
        }
      }
    },
    [api],
  );

  // Ctrl+T from anywhere in the window.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== "t") return;
      const a = latest.current.active;
      if (!a || a.kind !== "file") return;
      e.preventDefault();
      void toggle(a.docId);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [toggle]);

  const isLines = (docId: string) => state[docId]?.mode === "lines";

  const onPosition = useCallback((docId: string, line: number) => {
    setState((st) => (st[docId] && st[docId]!.line !== line ? { ...st, [docId]: { ...st[docId]!, line } } : st));
  }, []);

  return {
    isLines,
    toggle,
    /** The toolbar's Hex/Lines switch. */
    button(doc: DocumentInfo | null) {
      if (!doc || doc.kind !== "file") return null;
      const lines = isLines(doc.docId);
      return (
        <button
          type="button"
          className="tool"
          data-testid="view-toggle"
          data-mode={lines ? "lines" : "hex"}
          onClick={() => void toggle(doc.docId)}
          title={lines ? "Show the bytes (Ctrl+T)" : "Show as lines of text (Ctrl+T)"}
        >
          {lines ? "Hex" : "Lines"}
        </button>
      );
    },
    /** The line view of a document in line mode, else null. */
    view(doc: DocumentInfo) {
      const s = state[doc.docId];
      if (!s || s.mode !== "lines") return null;
      return (
        <LineView
          key={doc.docId}
          api={api}
          doc={doc}
          {...(s.encoding ? { encoding: s.encoding } : {})}
          initialLine={s.line}
          onNotice={notify}
          onPosition={(line) => onPosition(doc.docId, line)}
        />
      );
    },
  };
}
