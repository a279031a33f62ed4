// Everything the app shell needs for shared memory, in one hook so App.tsx only places it:
// the Open/Create dialog (toolbar buttons in the browser host, File menu commands in Electron),
// one LiveView per open shm document (visible ranges → `watch`, page hidden → `watch-pause`),
// `bytes-changed` events (new generation → the view re-reads its pages; changed bytes flash),
// and Undo/Redo from the live bar.

import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from "react";
import { HostError, type DocumentInfo, type HexmapApi, type HostEvent } from "../api";
import { LiveBar } from "./LiveBar";
import { LiveView } from "./liveView";
import { ShmDialog, type ShmDialogMode, type ShmDialogRequest } from "./ShmDialog";

export interface SharedMemoryDeps {
  api: HexmapApi;
  docs: DocumentInfo[];
  setDocs: Dispatch<SetStateAction<DocumentInfo[]>>;
  addDoc(info: DocumentInfo): void;
  notify(text: string, kind?: "error" | "info"): void;
}

/** A section name as the user sees it in a message. */
function q(name: string): string {
  return `“${name}”`;
}

export function describeShmError(err: unknown, name: string, mode: ShmDialogMode): string {
  const code = err instanceof HostError ? err.code : "";
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "ENOENT":
      return `No shared memory section named ${q(name)}: start the program that creates it (e.g. hexmap shm write ${name} --text "…"), or create it here.`;
    case "EEXIST":
      return `${message} — open it instead, or pick its size.`;
    case "EACCES":
      return `Permission denied for ${q(name)}${mode === "open" ? ": try again with Read-only" : ""}. (${message})`;
    default:
      return `${message}${code ? ` (${code})` : ""}`;
  }
}

export function useSharedMemory({ api, docs, setDocs, addDoc, notify }: SharedMemoryDeps) {
  const [dialog, setDialog] = useState<ShmDialogMode | null>(null);
  const views = useRef(new Map<string, LiveView>());
  const [, setTick] = useState(0);

  /** Moves a document's state forward (never back: events and replies may cross). */
  const advance = useCallback(
    (docId: string, patch: Partial<DocumentInfo> & { generation: number }) => {
      setDocs((ds) => ds.map((d) => (d.docId === docId && patch.generation >= d.generation ? { ...d, ...patch } : d)));
    },
    [setDocs],
  );

  // One LiveView per open shm document; disposed when its tab goes.
  useEffect(() => {
    const map = views.current;
    let added = false;
    for (const d of docs) {
      if (d.kind === "shm" && !map.has(d.docId)) {
        map.set(d.docId, new LiveView(api, d.docId));
        added = true;
      }
    }
    for (const [docId, v] of map) {
      if (!docs.some((d) => d.docId === docId)) {
        v.dispose();
        map.delete(docId);
      }
    }
    if (added) setTick((n) => n + 1);
  }, [api, docs]);

  useEffect(() => {
    const map = views.current;
    return () => {
      for (const v of map.values()) v.dispose();
      map.clear();
    };
  }, []);

  useEffect(() => {
    const offEvent = api.onEvent((e: HostEvent) => {
      if (e.event !== "bytes-changed") return;
      advance(e.docId, { generation: e.generation });
      views.current.get(e.docId)?.noteChanged(e.ranges);
    });
    const offMenu = api.onMenuCommand((command) => {
      if (command === "open-shm") setDialog("open");
      else if (command === "create-shm") setDialog("create");
    });
    return () => {
      offEvent();
      offMenu();
    };
  }, [api, advance]);

  const submit = useCallback(
    async (r: ShmDialogRequest): Promise<string | null> => {
      try {
        const info =
          r.mode === "create"
            ? await api.request("create-shm", { name: r.name, size: r.size! })
            : await api.request("open-shm", { name: r.name, readOnly: r.readOnly === true });
        addDoc(info);
        setDialog(null);
        if (r.mode === "create") {
          const created = (info as DocumentInfo & { created?: boolean }).created;
          notify(created ? `Created shared memory ${q(r.name)} (${info.size} bytes).` : `Shared memory ${q(r.name)} already existed with that size: opened it.`, "info");
        }
        return null;
      } catch (err) {
        return describeShmError(err, r.name, r.mode);
      }
    },
    [api, addDoc, notify],
  );

  const undoRedo = useCallback(
    async (docId: string, which: "undo" | "redo") => {
      try {
        const r = await api.request(which, { docId });
        advance(docId, { generation: r.generation, canUndo: r.canUndo, canRedo: r.canRedo, editCount: r.editCount });
        if (r.changed) views.current.get(docId)?.noteChanged([{ offset: r.changed.start, length: r.changed.end - r.changed.start }]);
        else notify(`Nothing to ${which}.`, "info");
      } catch (err) {
        notify(`Could not ${which}: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    [api, advance, notify],
  );

  const liveFor = useCallback((docId: string | null | undefined) => (docId ? (views.current.get(docId) ?? null) : null), []);

  function bar(doc: DocumentInfo | null) {
    const live = doc?.kind === "shm" ? views.current.get(doc.docId) : undefined;
    if (!doc || !live) return null;
    return <LiveBar doc={doc} live={live} onUndo={() => void undoRedo(doc.docId, "undo")} onRedo={() => void undoRedo(doc.docId, "redo")} />;
  }

  const dialogElement = dialog ? <ShmDialog mode={dialog} platformHint="unknown" onSubmit={submit} onClose={() => setDialog(null)} /> : null;

  function buttons(disabled: boolean) {
    return (
      <span className="shm-buttons">
        <button type="button" className="tool" data-testid="open-shm-button" disabled={disabled} onClick={() => setDialog("open")} title="Open a named shared-memory section">
          Open shared memory…
        </button>
        <button type="button" className="tool" data-testid="create-shm-button" disabled={disabled} onClick={() => setDialog("create")} title="Create a named shared-memory section">
          Create shared memory…
        </button>
      </span>
    );
  }

  return { liveFor, bar, dialog: dialogElement, buttons, openDialog: setDialog };
}
