// Electron main process: thin wiring of Electron's objects to the modules beside this one
// (window-options, security, ipc, app-protocol, menu, recent-files, args) and to the engine
// Service. The logic lives in those modules, which are unit-tested in Node; this file is only
// type-checked here (no Electron binary can be downloaded on the build machine).
//
// Trust decisions:
//   - The renderer is our own bundle, served from app://hexmap (not file://) under a strict CSP,
//     sandboxed, without Node; its only door is window.hexmap (IPC → Service.handle), and every
//     IPC message must come from our window's main frame at that origin.
//   - Documents are addressed by opaque ids. The renderer may `open` a path the user typed, or
//     `open-dropped` a path the preload read from a dropped File (webUtils.getPathForFile):
//     both are what the user asked for, and grant nothing a typed path does not. A compromised
//     renderer could thus open files the user can read — the same reach as the user at the
//     Open dialog — and edit those it opened read-write (edits stay pending until a Save; the
//     user sees them) — but could not reach the network.

import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, protocol } from "electron";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Service } from "../engine/service";
import { APP_INDEX_URL, APP_SCHEME } from "../protocol/channels";
import { resolveAppRequest } from "./app-protocol";
import { fileFromArgv } from "./args";
import { registerIpc, sendMenuCommand } from "./ipc";
import { confirmClose, saveThroughService, unsavedDocuments } from "./unsaved";
import { menuTemplate } from "./menu";
import { RecentFiles } from "./recent-files";
import { denyWebview, denyWindowOpen, lockDown, preventNavigation } from "./security";
import { windowOptions } from "./window-options";

// dist/app/main/main.js → dist/
const distDir = path.join(__dirname, "..", "..");
const rendererDir = path.join(distDir, "renderer");
const preloadPath = path.join(distDir, "app", "preload", "preload.js");

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);
app.enableSandbox();

let win: BrowserWindow | null = null;
let service: Service | null = null;
let recent: RecentFiles | null = null;
/** Quit was asked for (the window's close handler then says "quitting", and quits once allowed). */
let quitting = false;
/** Files asked for before the app was ready (macOS open-file). */
const pendingFiles: string[] = [];

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on("second-instance", (_event, argv, workingDirectory) => {
    const file = fileFromArgv(argv, { packaged: app.isPackaged, cwd: workingDirectory });
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
    if (file) openFromHost(file, "second-instance");
  });
  app.on("open-file", (event, file) => {
    event.preventDefault();
    if (service && win) openFromHost(file, "open-file");
    else pendingFiles.push(file);
  });
  app.on("web-contents-created", (_event, contents) => {
    contents.setWindowOpenHandler(denyWindowOpen);
    contents.on("will-navigate", preventNavigation);
    contents.on("will-attach-webview", denyWebview);
  });
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });
  app.on("activate", () => {
    if (!win && app.isReady()) createWindow();
  });
  app.on("before-quit", () => {
    quitting = true;
  });
  app.on("will-quit", () => {
    service?.dispose();
    service = null;
  });
  app.whenReady().then(start, (err: unknown) => {
    dialog.showErrorBox("Hexmap could not start", String(err));
    app.exit(1);
  });
}

function start(): void {
  recent = new RecentFiles(path.join(app.getPath("userData"), "recent-files.json"));
  service = new Service({ onOpened: (_info, file) => remember(file), configDir: app.getPath("userData") });

  protocol.handle(APP_SCHEME, async (request) => {
    const r = resolveAppRequest(request.url, rendererDir);
    if (r.status !== 200) return new Response(null, { status: r.status, headers: r.headers });
    try {
      return new Response(await fsp.readFile(r.file), { status: 200, headers: r.headers });
    } catch {
      return new Response(null, { status: 404, headers: r.headers });
    }
  });

  registerIpc({ ipcMain, getWindow: () => win, service });
  buildMenu();

  // Opened before the page loads, so the renderer finds it with `list` at start-up.
  const file = fileFromArgv(process.argv, { packaged: app.isPackaged, cwd: process.cwd() });
  if (file) openFromHost(file, "command-line");
  for (const f of pendingFiles.splice(0)) openFromHost(f, "open-file");
  createWindow();
}

function createWindow(): void {
  const w = new BrowserWindow(windowOptions({ preloadPath, dark: nativeTheme.shouldUseDarkColors }));
  win = w;
  lockDown(w.webContents.session, w.webContents);
  w.once("ready-to-show", () => w.show());
  // Unsaved edits: ask (Save / Don't Save / Cancel) before the window closes or the app quits.
  let closeAllowed = false;
  let asking = false;
  w.on("close", (event) => {
    if (closeAllowed || !service || unsavedDocuments(service).length === 0) return;
    event.preventDefault();
    if (asking) return;
    asking = true;
    const s = service;
    void confirmClose(
      {
        unsaved: () => unsavedDocuments(s),
        ask: async (prompt) => (await dialog.showMessageBox(w, prompt)).response,
        save: (docId) => saveThroughService(s, docId),
        reportError: (title, message) => dialog.showErrorBox(title, message),
      },
      quitting,
    ).then(
      (ok) => {
        asking = false;
        if (!ok) {
          quitting = false;
          return;
        }
        closeAllowed = true;
        if (quitting) app.quit();
        else w.close();
      },
      () => {
        asking = false;
        quitting = false;
      },
    );
  });
  w.on("closed", () => {
    if (win === w) win = null;
  });
  void w.loadURL(APP_INDEX_URL);
}

/** Opens a file for the window on the host's initiative (dialog, command line, recent, …). */
function openFromHost(file: string, reason: string): void {
  if (!service) return;
  try {
    // Read-write when the file allows it (else read-only, saying why); nothing is written before Save.
    const info = service.open(file, { readOnly: false });
    remember(file);
    service.deliver({ event: "document-opened", docId: info.docId, info, reason });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "ENOENT" && recent) {
      recent.remove(file);
      buildMenu();
    }
    dialog.showErrorBox("Cannot open the file", e.message ?? String(err));
  }
}

function remember(file: string): void {
  if (!recent) return;
  recent.add(file);
  app.addRecentDocument(path.resolve(file));
  buildMenu();
}

function buildMenu(): void {
  const template = menuTemplate(
    {
      open: () => void showOpenDialog(),
      openRecent: (file) => openFromHost(file, "recent"),
      clearRecent: () => {
        recent?.clear();
        app.clearRecentDocuments();
        buildMenu();
      },
      close: () => sendMenuCommand(win, "close"),
      goto: () => sendMenuCommand(win, "goto"),
      save: () => sendMenuCommand(win, "save"),
      saveAs: () => sendMenuCommand(win, "save-as"),
      find: () => sendMenuCommand(win, "find"),
      findNext: () => sendMenuCommand(win, "find-next"),
      findPrevious: () => sendMenuCommand(win, "find-previous"),
      toggleInsertMode: () => sendMenuCommand(win, "toggle-insert-mode"),
      insertBytes: () => sendMenuCommand(win, "insert-bytes"),
      deleteRange: () => sendMenuCommand(win, "delete-range"),
      openShm: () => sendMenuCommand(win, "open-shm"),
      createShm: () => sendMenuCommand(win, "create-shm"),
      quit: () => app.quit(),
    },
    { recent: recent?.list() ?? [], platform: process.platform, dev: !app.isPackaged },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function showOpenDialog(): Promise<void> {
  const options = { title: "Open a file", properties: ["openFile" as const, "showHiddenFiles" as const] };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  const file = result.filePaths[0];
  if (!result.canceled && file) openFromHost(file, "dialog");
}
