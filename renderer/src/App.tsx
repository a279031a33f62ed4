// The application shell: open bar, document tabs, the active document's hex view, errors.
// All host access goes through `api` (the protocol); documents are addressed only by the ids the
// host gave us.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { HostError, type ConnectionState, type DocumentInfo, type HexmapApi, type HostEvent } from "./api";
import { HexView, initialView, type ViewState } from "./HexView";
import { PageCache } from "./pageCache";
import { ByteMap } from "./panels/ByteMap";
import { SidePanel, jumpView } from "./panels/SidePanel";
import { EditingLayer, EditToolbar, useEditingWindow } from "./editing/EditingLayer";
import { EditSession } from "./editing/session";
import { useSharedMemory } from "./shm/useSharedMemory";
import { useLineMode } from "./lines/useLineMode";
import { SearchBar } from "./search/SearchBar";
import type { FoundRanges } from "./search/highlight";
import { baseName, groupDigits, humanSize } from "./format";

interface Notice {
  id: number;
  text: string;
  kind: "error" | "info";
}

function describeError(err: unknown, path?: string): string {
  const code = err instanceof HostError ? err.code : "";
  const message = err instanceof Error ? err.message : String(err);
  const what = path ? `Cannot open ${path}` : "Error";
  switch (code) {
    case "ENOENT":
      return `${what}: no such file or directory (ENOENT).`;
    case "EISDIR":
      return `${what}: it is a directory, not a file (EISDIR).`;
    case "EACCES":
      return `${what}: permission denied (EACCES).`;
    case "EBUSY":
      return `${what}: locked by another program (EBUSY).`;
    default:
      return `${what}: ${message}${code ? ` (${code})` : ""}`;
  }
}

export function App({ api }: { api: HexmapApi }) {
  const [docs, setDocs] = useState<DocumentInfo[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [views, setViews] = useState<Record<string, ViewState>>({});
  const [bpr, setBpr] = useState(16);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [connection, setConnection] = useState<{ state: ConnectionState; reason?: string }>({ state: "connecting" });
  const [path, setPath] = useState("");
  const [busy, setBusy] = useState(false);
  const [gotoRequest, setGotoRequest] = useState(0);
  const [dropping, setDropping] = useState(false);
  const [openReadOnly, setOpenReadOnly] = useState(false);
  /** Search hits the grid highlights (set by the search bar). */
  const [found, setFound] = useState<FoundRanges | null>(null);
  const pathInput = useRef<HTMLInputElement>(null);
  const noticeId = useRef(0);
  const activeRef = useRef(activeId);
  activeRef.current = activeId;
  const viewsRef = useRef(views);
  viewsRef.current = views;

  const notify = useCallback((text: string, kind: Notice["kind"] = "error") => {
    const id = ++noticeId.current;
    // One piece of information at a time; up to four errors.
    setNotices((n) => [...n.filter((x) => x.text !== text && (kind === "error" || x.kind === "error")).slice(-3), { id, text, kind }]);
    // Information goes away by itself; errors stay until dismissed or the next success.
    if (kind === "info") setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), 4000);
  }, []);

  const updateDoc = useCallback((docId: string, patch: Partial<DocumentInfo>) => {
    setDocs((ds) => ds.map((d) => (d.docId === docId ? { ...d, ...patch } : d)));
  }, []);

  const cache = useMemo(
    () =>
      new PageCache(api, {
        onNewerGeneration: (docId, generation, size) => {
          updateDoc(docId, { generation, size });
        },
        onError: (_docId, err) => notify(describeError(err)),
      }),
    [api, updateDoc, notify],
  );

  // Editing: typing, undo/redo, save, the unsaved-edits questions (renderer/src/editing/).
  const docsRef = useRef(docs);
  docsRef.current = docs;
  const closeRef = useRef<(docId: string) => void>(() => {});
  const editing = useMemo(
    () =>
      new EditSession(api, cache, {
        notify,
        updateDoc,
        getDoc: (docId) => docsRef.current.find((d) => d.docId === docId),
        closeDoc: (docId) => closeRef.current(docId),
      }),
    [api, cache, notify, updateDoc],
  );

  const addDoc = useCallback((info: DocumentInfo) => {
    setDocs((ds) => (ds.some((d) => d.docId === info.docId) ? ds.map((d) => (d.docId === info.docId ? info : d)) : [...ds, info]));
    setViews((vs) => (vs[info.docId] ? vs : { ...vs, [info.docId]: initialView }));
    setActiveId(info.docId);
    editing.docAdded(info);
  }, [editing]);

  const removeDoc = useCallback(
    (docId: string) => {
      cache.dropDoc(docId);
      setDocs((ds) => {
        const i = ds.findIndex((d) => d.docId === docId);
        const next = ds.filter((d) => d.docId !== docId);
        setActiveId((a) => (a === docId ? (next[Math.min(i, next.length - 1)]?.docId ?? null) : a));
        return next;
      });
    },
    [cache],
  );

  // Connection, documents the host already has open, and host events.
  useEffect(() => {
    const offConn = api.onConnection((state, reason) => {
      setConnection({ state, reason });
      if (state === "open") {
        api
          .request("list", {})
          .then((r) => r.documents.forEach(addDoc))
          .catch((err) => notify(describeError(err)));
      }
    });
    const offEvent = api.onEvent((e: HostEvent) => {
      editing.onEvent(e);
      switch (e.event) {
        case "size-changed":
          cache.dropDoc(e.docId, e.generation);
          updateDoc(e.docId, { size: e.size, generation: e.generation });
          break;
        case "file-changed":
          cache.dropDoc(e.docId, e.generation);
          updateDoc(e.docId, { generation: e.generation });
          break;
        case "document-closed":
          removeDoc(e.docId);
          notify(`Document closed by the host: ${e.reason}`, "info");
          break;
        case "document-opened":
          addDoc(e.info);
          break;
      }
    });
    const offMenu = api.onMenuCommand((command) => {
      if (command === "goto") setGotoRequest((n) => n + 1);
      else if (command === "close" && activeRef.current) closeDoc(activeRef.current);
      else if (command === "save" && activeRef.current) void editing.save(activeRef.current);
      else if (command === "save-as" && activeRef.current) {
        const d = docsRef.current.find((x) => x.docId === activeRef.current);
        if (d) editing.openSaveAs(d);
      } else {
        // Edit-menu commands for a shell that offers them (not in MenuCommand yet: compared as strings).
        const c = command as string;
        const d = docsRef.current.find((x) => x.docId === activeRef.current);
        const v = d ? (viewsRef.current[d.docId] ?? initialView) : null;
        if (c === "toggle-insert-mode") editing.toggleInsertMode();
        else if (c === "insert-bytes" && d && v) editing.openInsertBytes(d, v.cursor);
        else if (c === "delete-range" && d && v) {
          const start = v.anchor === null ? Math.min(v.cursor, d.size - 1) : Math.min(v.anchor, v.cursor);
          editing.openDeleteRange(d, start, v.anchor === null ? 1 : Math.abs(v.cursor - v.anchor) + 1);
        }
      }
    });
    return () => {
      offConn();
      offEvent();
      offMenu();
    };
  }, [api]); // eslint-disable-line react-hooks/exhaustive-deps

  const openPath = useCallback(
    async (p: string, dropped = false) => {
      const target = p.trim();
      if (!target) {
        notify("Type the path of a file to open.");
        return;
      }
      setBusy(true);
      try {
        const info = await api.request(dropped ? "open-dropped" : "open", { path: target, readOnly: openReadOnly });
        if (!openReadOnly && info.readOnly && info.readOnlyReason) notify(`${baseName(info.name)}: ${info.readOnlyReason}.`, "info");
        addDoc(info);
        setNotices((n) => n.filter((x) => x.kind !== "error"));
      } catch (err) {
        notify(describeError(err, target));
      } finally {
        setBusy(false);
      }
    },
    [api, addDoc, notify, openReadOnly],
  );

  // Closing asks first when the document has unsaved edits (save / discard / cancel).
  function closeDoc(docId: string) {
    editing.requestClose(docId);
  }
  closeRef.current = (docId: string) => {
    editing.docRemoved(docId);
    removeDoc(docId);
    api.request("close", { docId }).catch(() => {});
  }

  // Global shortcuts: Ctrl+G (go to) and Ctrl+O (focus the path) from anywhere in the window.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const ctrl = e.ctrlKey || e.metaKey;
      if (!ctrl || e.altKey) return;
      const k = e.key.toLowerCase();
      if (k === "g") {
        e.preventDefault();
        setGotoRequest((n) => n + 1);
      } else if (k === "o" && api.host !== "electron") {
        e.preventDefault();
        pathInput.current?.focus();
        pathInput.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [api]);

  // Drag and drop a file (Electron gives us its path; a browser cannot).
  function onDrop(e: React.DragEvent) {
    e.preventDefault();
    setDropping(false);
    const file = e.dataTransfer.files[0];
    if (!file) return;
    const p = api.pathForFile(file);
    if (p) void openPath(p, true);
    else notify(`The browser does not reveal where “${file.name}” is: type its path in the Open box.`);
  }

  // Changing the row width keeps the same bytes at the top of every view.
  function changeBpr(next: number) {
    if (next === bpr) return;
    setViews((vs) => Object.fromEntries(Object.entries(vs).map(([id, v]) => [id, { ...v, topRow: Math.floor((v.topRow * bpr) / next) }])));
    setBpr(next);
  }

  const active = docs.find((d) => d.docId === activeId) ?? null;
  useEditingWindow(editing, docs, active, api.host);
  const activeView = active ? (views[active.docId] ?? initialView) : null;
  const activeSelection =
    active && activeView && active.size > 0
      ? activeView.anchor === null
        ? activeView.cursor < active.size
          ? { start: activeView.cursor, length: 1 }
          : null
        : (() => {
            const start = Math.min(activeView.anchor, activeView.cursor);
            const length = Math.min(Math.abs(activeView.cursor - activeView.anchor) + 1, active.size - start);
            return length > 0 ? { start, length } : null;
          })()
      : null;
  const shm = useSharedMemory({ api, docs, setDocs, addDoc, notify });
  // The log view: text files open as lines; Ctrl+T toggles (renderer/src/lines/).
  const lineMode = useLineMode({
    api,
    docs,
    active,
    notify,
    hexCursor: (docId) => views[docId]?.cursor ?? 0,
    jumpHex: (docId, offset) => setViews((vs) => ({ ...vs, [docId]: jumpView(vs[docId] ?? initialView, bpr, offset) })),
  });
  const setView = useCallback(
    (update: (v: ViewState) => ViewState) => {
      if (!activeId) return;
      setViews((vs) => ({ ...vs, [activeId]: update(vs[activeId] ?? initialView) }));
    },
    [activeId],
  );

  return (
    <div
      className={`app${dropping ? " dropping" : ""}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <header className="toolbar">
        <span className="brand">Hexmap</span>
        <form
          className="open-form"
          onSubmit={(e) => {
            e.preventDefault();
            void openPath(path);
          }}
        >
          <input
            ref={pathInput}
            data-testid="open-path"
            aria-label="Path of a file to open"
            placeholder="Path of a file to open (Ctrl+O)"
            value={path}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setPath(e.target.value)}
          />
          <button type="submit" data-testid="open-button" disabled={busy || connection.state === "closed"}>
            Open…
          </button>
          <label className="open-readonly" title="Open for viewing only: edits are refused">
            <input type="checkbox" data-testid="open-readonly" checked={openReadOnly} onChange={(e) => setOpenReadOnly(e.target.checked)} />
            Read-only
          </label>
        </form>
        <button
          type="button"
          className="tool"
          data-testid="goto-button"
          disabled={!active}
          onClick={() => setGotoRequest((n) => n + 1)}
          title="Go to offset (Ctrl+G)"
        >
          Go to…
        </button>
        <EditToolbar editing={editing} doc={active} selection={activeSelection} cursor={activeView?.cursor ?? 0} />
        {shm.buttons(connection.state === "closed")}
        {lineMode.button(active)}
        <span className={`conn conn-${connection.state}`} data-testid="connection" title={connection.reason}>
          {api.host === "fake" ? "demo host" : connection.state === "open" ? "connected" : connection.state}
        </span>
      </header>

      {docs.length > 0 && (
        <nav className="tabs" role="tablist" aria-label="Open documents">
          {docs.map((d) => (
            <div
              key={d.docId}
              role="tab"
              aria-selected={d.docId === activeId}
              tabIndex={d.docId === activeId ? 0 : -1}
              className={d.docId === activeId ? "tab active" : "tab"}
              data-testid="tab"
              data-doc-id={d.docId}
              data-size={d.size}
              title={d.name}
              onClick={() => setActiveId(d.docId)}
            >
              {d.kind === "shm" && (
                <span className="tab-icon shm" data-testid="tab-shm" title="Shared memory (live)" aria-label="shared memory">
                  SHM
                </span>
              )}
              <span className="tab-name">{d.kind === "shm" ? d.name : baseName(d.name)}</span>
              <span className="tab-size" data-testid="tab-size" data-size={d.size} title={`${groupDigits(d.size)} bytes`}>
                {humanSize(d.size)}
              </span>
              {d.dirty && (
                <span className="tab-dirty" data-testid="tab-dirty" title="Unsaved edits" aria-label="unsaved edits">
                  ●
                </span>
              )}
              <button
                type="button"
                className="tab-close"
                aria-label={`Close ${baseName(d.name)}`}
                data-testid="tab-close"
                onClick={(e) => {
                  e.stopPropagation();
                  closeDoc(d.docId);
                }}
              >
                ×
              </button>
            </div>
          ))}
        </nav>
      )}

      <div className="notices">
        {connection.state === "closed" && (
          <div className="notice error" role="alert" data-testid="connection-error">
            Not connected to Hexmap: {connection.reason ?? "the connection was closed"}. Open the exact URL that{" "}
            <code>hexmap serve</code> printed (it carries the access token).
          </div>
        )}
        {notices.map((n) => (
          <div key={n.id} className={`notice ${n.kind}`} role={n.kind === "error" ? "alert" : "status"} data-testid={n.kind === "error" ? "error-banner" : "info-banner"}>
            <span>{n.text}</span>
            <button type="button" aria-label="Dismiss" onClick={() => setNotices((ns) => ns.filter((x) => x.id !== n.id))}>
              ×
            </button>
          </div>
        ))}
      </div>

      {shm.bar(active)}
      {active && activeView && !lineMode.isLines(active.docId) && <SearchBar api={api} doc={active} view={activeView} setView={setView} bpr={bpr} onFound={setFound} editing={editing} />}
      {shm.dialog}
      <main className={active ? "main workspace" : "main"}>
        {active ? (
          lineMode.view(active) ?? (
          <>
          <HexView
            key={active.docId}
            overview={<ByteMap api={api} doc={active} topRow={(views[active.docId] ?? initialView).topRow} bpr={bpr} cursor={(views[active.docId] ?? initialView).cursor} onJump={(offset) => setView((v) => jumpView(v, bpr, offset))} />}
            doc={active}
            cache={cache}
            view={views[active.docId] ?? initialView}
            setView={setView}
            bpr={bpr}
            onBprChange={changeBpr}
            gotoRequest={gotoRequest}
            onNotice={notify}
            editing={editing}
            live={shm.liveFor(active.docId)}
            found={found}
          />
          <SidePanel api={api} doc={active} docs={docs} cache={cache} view={views[active.docId] ?? initialView} setView={setView} bpr={bpr} onNotice={notify} editing={editing} />
          </>
          )
        ) : (
          <div className="welcome" data-testid="welcome">
            <h1>Hexmap</h1>
            <p>Open a file of any size — only the bytes on screen are read.</p>
            <p className="muted">
              Type a path above and press Enter{api.host === "electron" ? ", use File ▸ Open (Ctrl+O), or drop a file here" : ""}.
            </p>
          </div>
        )}
      </main>
      <EditingLayer editing={editing} active={active} docs={docs} />
    </div>
  );
}
