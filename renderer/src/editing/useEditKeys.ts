// The grid's editing keys (HxD / Hex Fiend behaviour), for HexView:
//   hex pane     0-9 a-f  type a nibble (first digit: high nibble, second: low, then next byte)
//   text pane    printable characters overwrite a byte each
//   Ctrl+Z       undo;  Ctrl+Y / Ctrl+Shift+Z  redo
//   Ctrl+V       paste (the grid's paste event): hex text in the hex pane, raw text in the text pane
//   Ctrl+Shift+F fill the selection (or the cursor byte) with a byte
//   Delete, Backspace  explain that overwrite mode keeps the file's size
// Save (Ctrl+S) and Save As (Ctrl+Shift+S) are window-wide: EditingLayer.

import { useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import type { DocumentInfo } from "../api";
import type { EditSession } from "./session";
import { charByte, hexDigit } from "./text";

export interface EditKeyView {
  cursor: number;
  anchor: number | null;
  pane: "hex" | "ascii";
}

export interface EditKeys {
  /** Handles an editing key; true when it did (the caller stops there). */
  onKeyDown(e: React.KeyboardEvent): boolean;
  onPaste(e: React.ClipboardEvent): void;
  /** 1 when the cursor byte's low nibble is next. */
  nibble: number;
}

const noop = () => () => {};
const none = () => null;

export function useEditKeys(
  editing: EditSession | null | undefined,
  doc: DocumentInfo,
  view: EditKeyView,
  moveTo: (offset: number) => void,
): EditKeys {
  const snap = useSyncExternalStore(editing?.subscribe ?? noop, editing ? () => editing.snapshot : none);
  const latest = useRef({ doc, view });
  latest.current = { doc, view };
  const typedTo = useRef<number | null>(null);

  // A cursor move the typing did not make starts a new byte (and a new undo step).
  useEffect(() => {
    if (!editing) return;
    if (typedTo.current === view.cursor) return;
    typedTo.current = null;
    editing.cursorMoved();
  }, [editing, view.cursor, view.pane, doc.docId]);

  const onKeyDown = useCallback(
    (e: React.KeyboardEvent): boolean => {
      if (!editing || e.altKey) return false;
      const { doc, view } = latest.current;
      const ctrl = e.ctrlKey || e.metaKey;
      const key = e.key;
      const stop = () => {
        e.preventDefault();
        e.stopPropagation();
        return true;
      };
      const selStart = view.anchor === null ? view.cursor : Math.min(view.anchor, view.cursor);
      const selLength = view.anchor === null ? 1 : Math.abs(view.cursor - view.anchor) + 1;
      if (ctrl) {
        const k = key.toLowerCase();
        if ((k === "z" && e.shiftKey) || (k === "y" && !e.shiftKey)) {
          void editing.undoRedo(doc, "redo").then((r) => r && moveTo(r.start));
          return stop();
        }
        if (k === "z") {
          void editing.undoRedo(doc, "undo").then((r) => r && moveTo(r.start));
          return stop();
        }
        if (k === "f" && e.shiftKey) {
          editing.openFill(doc, selStart, selLength);
          return stop();
        }
        return false; // Ctrl+V goes on to the paste event
      }
      if (key === "Delete" || key === "Backspace") {
        editing.explainNoDelete(doc);
        return stop();
      }
      if (e.metaKey) return false;
      if (view.pane === "hex") {
        const d = hexDigit(key);
        if (d < 0) {
          if (key.length === 1 && key !== " " && !doc.readOnly) {
            // Not a hex digit: ignore it in the hex pane (a read-only document still says why below).
            return stop();
          }
          if (key.length === 1 && doc.readOnly) {
            editing.refuseReadOnly(doc);
            return stop();
          }
          return false;
        }
        const next = editing.typeHexDigit(doc, view.cursor, d);
        if (next !== null && next !== view.cursor) {
          typedTo.current = next;
          moveTo(next);
        }
        return stop();
      }
      const b = charByte(key);
      if (b < 0) return false;
      const next = editing.typeByte(doc, view.cursor, b);
      if (next !== null && next !== view.cursor) {
        typedTo.current = next;
        moveTo(next);
      }
      return stop();
    },
    [editing, moveTo],
  );

  const onPaste = useCallback(
    (e: React.ClipboardEvent) => {
      if (!editing) return;
      e.preventDefault();
      const { doc, view } = latest.current;
      const text = e.clipboardData.getData("text/plain") || e.clipboardData.getData("text");
      const start = view.anchor === null ? view.cursor : Math.min(view.anchor, view.cursor);
      void editing.paste(doc, start, text, view.pane).then((end) => {
        if (end !== null) moveTo(Math.min(end, doc.size - 1));
      });
    },
    [editing, moveTo],
  );

  const nibble = snap?.nibble && snap.nibble.docId === doc.docId && snap.nibble.offset === view.cursor ? 1 : 0;
  return { onKeyDown, onPaste, nibble };
}
