// The grid's editing keys (HxD behaviour), for HexView:
//   Insert       toggles overwrite (OVR) and insert (INS) mode (shown in the status bar)
//   hex pane     0-9 a-f  OVR: the first digit sets the high nibble, the second the low one, then
//                the next byte; INS: the first digit inserts 0xN0, the second sets its low nibble
//   text pane    printable characters overwrite (OVR) or insert (INS) a byte each
//   Delete       deletes the selection, or the byte at the cursor (both modes)
//   Backspace    deletes the selection, or the byte before the cursor (both modes)
//   Ctrl+X       cut: copies the selection (as Ctrl+C does), then deletes it
//   Ctrl+Z       undo;  Ctrl+Y / Ctrl+Shift+Z  redo
//   Ctrl+V       paste (the grid's paste event): OVR overwrites, INS inserts (over the selection)
//   Ctrl+Shift+F fill the selection (or the cursor byte) with a byte
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
  /** Insert mode (INS). */
  insertMode: boolean;
  /** Bumps when a queued edit failed (the view re-checks the cursor). */
  failures: number;
}

export interface EditKeyActions {
  /** Moves the cursor where an edit put it (no selection); may be past the shown size while edits are on their way. */
  moveTyped(offset: number): void;
  /** Copies the selection (or the cursor byte) like Ctrl+C; resolves false when it could not. */
  copy(): Promise<boolean>;
}

const noop = () => () => {};
const none = () => null;

/** The selection anchor..cursor (inclusive) as start and length, or null when nothing is selected. */
export function selectionRange(view: EditKeyView): { start: number; length: number } | null {
  if (view.anchor === null) return null;
  return { start: Math.min(view.anchor, view.cursor), length: Math.abs(view.cursor - view.anchor) + 1 };
}

export function useEditKeys(editing: EditSession | null | undefined, doc: DocumentInfo, view: EditKeyView, actions: EditKeyActions): EditKeys {
  const snap = useSyncExternalStore(editing?.subscribe ?? noop, editing ? () => editing.snapshot : none);
  const latest = useRef({ doc, view, actions });
  latest.current = { doc, view, actions };
  const typedTo = useRef<number | null>(null);

  // A cursor move the typing did not make, or the other pane (Tab), starts a new byte (and a new undo step).
  const seenPane = useRef(view.pane);
  useEffect(() => {
    if (!editing) return;
    const paneChanged = seenPane.current !== view.pane;
    seenPane.current = view.pane;
    if (!paneChanged && typedTo.current === view.cursor) return;
    typedTo.current = null;
    editing.cursorMoved();
  }, [editing, view.cursor, view.pane, doc.docId]);

  const onKeyDown = useCallback(
    (e: React.KeyboardEvent): boolean => {
      if (!editing || e.altKey) return false;
      const { doc, view, actions } = latest.current;
      const ctrl = e.ctrlKey || e.metaKey;
      const key = e.key;
      const stop = () => {
        e.preventDefault();
        e.stopPropagation();
        return true;
      };
      const moved = (next: number | null) => {
        if (next === null) return;
        if (next !== view.cursor || view.anchor !== null) {
          typedTo.current = next;
          actions.moveTyped(next);
        }
      };
      const selection = selectionRange(view);
      const selStart = selection ? selection.start : view.cursor;
      const selLength = selection ? selection.length : 1;
      if (key === "Insert" && !ctrl && !e.shiftKey) {
        editing.toggleInsertMode();
        return stop();
      }
      if (ctrl) {
        const k = key.toLowerCase();
        if ((k === "z" && e.shiftKey) || (k === "y" && !e.shiftKey)) {
          void editing.undoRedo(doc, "redo").then((r) => r && actions.moveTyped(r.start));
          return stop();
        }
        if (k === "z") {
          void editing.undoRedo(doc, "undo").then((r) => r && actions.moveTyped(r.start));
          return stop();
        }
        if (k === "f" && e.shiftKey) {
          editing.openFill(doc, selStart, selLength);
          return stop();
        }
        if (k === "x" && !e.shiftKey) {
          if (editing.refuseReadOnly(doc)) return stop();
          const size = editing.expectedSize(doc.docId, doc.size);
          const length = Math.min(selLength, size - selStart);
          if (length <= 0) return stop();
          void actions.copy().then((ok) => {
            if (!ok) return;
            void editing.deleteRange(doc, selStart, length).then((done) => done && moved(selStart));
          });
          return stop();
        }
        return false; // Ctrl+V goes on to the paste event
      }
      if (key === "Delete" || key === "Backspace") {
        moved(editing.deleteKey(doc, view.cursor, selection, key === "Delete" ? "delete" : "backspace"));
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
        moved(editing.typeHexDigit(doc, view.cursor, d));
        return stop();
      }
      const b = charByte(key);
      if (b < 0) return false;
      moved(editing.typeByte(doc, view.cursor, b));
      return stop();
    },
    [editing],
  );

  const onPaste = useCallback(
    (e: React.ClipboardEvent) => {
      if (!editing) return;
      e.preventDefault();
      const { doc, view, actions } = latest.current;
      const text = e.clipboardData.getData("text/plain") || e.clipboardData.getData("text");
      const sel = selectionRange(view);
      const start = sel ? sel.start : view.cursor;
      void editing.paste(doc, start, text, view.pane, sel?.length ?? 0).then((next) => {
        if (next !== null) actions.moveTyped(next);
      });
    },
    [editing],
  );

  const nibble = snap?.nibble && snap.nibble.docId === doc.docId && snap.nibble.offset === view.cursor ? 1 : 0;
  return { onKeyDown, onPaste, nibble, insertMode: !!snap?.insertMode, failures: snap?.failures ?? 0 };
}
