// The application menu as data (unit-tested): File (Open…, Open Recent, Open/Create Shared Memory…,
// Close, Quit), Go (Go to Offset…), View, Help. Actions are callbacks supplied by main.ts.

import type { MenuItemConstructorOptions } from "electron";
import * as path from "node:path";

export interface MenuActions {
  open(): void;
  openRecent(file: string): void;
  clearRecent(): void;
  close(): void;
  goto(): void;
  /** Save / Save As of the active document (menu commands save / save-as; the renderer does the work). */
  save?(): void;
  saveAs?(): void;
  /** Search bar (menu commands find / find-next / find-previous; the renderer searches). */
  find?(): void;
  findNext?(): void;
  findPrevious?(): void;
  /** Any-length editing (menu commands toggle-insert-mode / insert-bytes / delete-range; the renderer edits). */
  toggleInsertMode?(): void;
  insertBytes?(): void;
  deleteRange?(): void;
  /** Shared memory: the renderer shows its Open/Create dialog (menu commands open-shm/create-shm). */
  openShm(): void;
  createShm(): void;
  quit(): void;
}

export function menuTemplate(actions: MenuActions, options: { recent: string[]; platform: NodeJS.Platform; dev: boolean }): MenuItemConstructorOptions[] {
  const mac = options.platform === "darwin";
  const recent: MenuItemConstructorOptions[] = options.recent.length
    ? [
        ...options.recent.map((file) => ({ label: `${path.basename(file)} — ${path.dirname(file)}`, click: () => actions.openRecent(file) })),
        { type: "separator" as const },
        { label: "Clear Recently Opened", click: () => actions.clearRecent() },
      ]
    : [{ label: "No Recent Files", enabled: false }];

  const template: MenuItemConstructorOptions[] = [];
  if (mac) template.push({ role: "appMenu" });
  template.push({
    label: "&File",
    submenu: [
      { label: "&Open…", accelerator: "CmdOrCtrl+O", click: () => actions.open() },
      { label: "Open &Recent", submenu: recent },
      { type: "separator" },
      { label: "Open &Shared Memory…", click: () => actions.openShm() },
      { label: "Create Shared &Memory…", click: () => actions.createShm() },
      { type: "separator" },
      // Shown with their keys, but the keys stay the renderer's (it also handles them in the browser host).
      ...(actions.save ? [{ label: "&Save", accelerator: "CmdOrCtrl+S", registerAccelerator: false, click: () => actions.save?.() }] : []),
      ...(actions.saveAs ? [{ label: "Save &As…", accelerator: "CmdOrCtrl+Shift+S", registerAccelerator: false, click: () => actions.saveAs?.() }] : []),
      { type: "separator" },
      { label: "&Close", accelerator: "CmdOrCtrl+W", click: () => actions.close() },
      ...(mac ? [] : [{ type: "separator" as const }, { label: "&Quit", accelerator: "CmdOrCtrl+Q", click: () => actions.quit() }]),
    ],
  });
  // Paste: Ctrl+V becomes a paste event in the page (the grid pastes hex or text at the cursor).
  template.push({
    label: "&Edit",
    submenu: [
      { role: "cut" },
      { role: "copy" },
      { role: "paste" },
      { role: "selectAll" },
      // Shown with their keys; the keys stay the renderer's (Insert toggles OVR/INS in both hosts).
      ...(actions.insertBytes
        ? [
            { type: "separator" as const },
            { label: "&Insert Mode (OVR/INS)", accelerator: "Insert", registerAccelerator: false, click: () => actions.toggleInsertMode?.() },
            { label: "Insert &Bytes…", click: () => actions.insertBytes?.() },
            { label: "&Delete Range…", click: () => actions.deleteRange?.() },
          ]
        : []),
      // Shown with their keys; the keys stay the renderer's (the search bar handles them in both hosts).
      ...(actions.find
        ? [
            { type: "separator" as const },
            { label: "&Find…", accelerator: "CmdOrCtrl+F", registerAccelerator: false, click: () => actions.find?.() },
            { label: "Find &Next", accelerator: "F3", registerAccelerator: false, click: () => actions.findNext?.() },
            { label: "Find &Previous", accelerator: "Shift+F3", registerAccelerator: false, click: () => actions.findPrevious?.() },
          ]
        : []),
    ],
  });
  template.push({
    label: "&Go",
    submenu: [{ label: "&Go to Offset…", accelerator: "CmdOrCtrl+G", click: () => actions.goto() }],
  });
  template.push({
    label: "&View",
    submenu: [
      { role: "resetZoom" },
      { role: "zoomIn" },
      { role: "zoomOut" },
      { type: "separator" },
      { role: "togglefullscreen" },
      ...(options.dev ? [{ type: "separator" as const }, { role: "reload" as const }, { role: "toggleDevTools" as const }] : []),
    ],
  });
  template.push({ role: "windowMenu" });
  return template;
}
