// The one place the main window's options live. The webPreferences lock the renderer down:
// isolated, sandboxed, no Node, web security on; the preload is its only bridge (window.hexmap).
// Only types come from "electron", so this module is unit-tested in plain Node.

import type { BrowserWindowConstructorOptions, WebPreferences } from "electron";

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist/app/preload/preload.js). */
  preloadPath: string;
  /** Dark OS theme: paint the window dark before the page loads (no white flash). */
  dark?: boolean;
}

export function webPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false, // a dropped file is opened by the app, not navigated to
    spellcheck: false,
    safeDialogs: true,
    disableDialogs: true, // no alert/confirm/prompt from the page
  };
}

export function windowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 640,
    minHeight: 400,
    title: "Hexmap",
    show: false, // shown on ready-to-show
    backgroundColor: input.dark ? "#1e1e1e" : "#ffffff",
    autoHideMenuBar: false,
    webPreferences: webPreferences(input.preloadPath),
  };
}
