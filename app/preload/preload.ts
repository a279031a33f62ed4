// The preload: runs in the sandboxed renderer's isolated world and exposes exactly
// window.hexmap = { request, onEvent, onMenuCommand, pathForFile } — the protocol over IPC and
// nothing else (no ipcRenderer, no Node). Bundled by scripts/build-preload.js (a sandboxed
// preload cannot require local files). The type the renderer sees is HexmapBridge in
// app/protocol/client.ts.
//
// pathForFile: a File the user dropped on the window has a path only through
// webUtils.getPathForFile. The renderer sends it back as an `open-dropped` request, which the
// main process handles like `open` (see the trust note in app/main/main.ts).

import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from "electron";
import { IPC_EVENT, IPC_MENU_COMMAND, IPC_REQUEST } from "../protocol/channels";
import type { HexmapBridge } from "../protocol/client";
import type { Event, MenuCommand, Reply, Request } from "../protocol/messages";

function subscribe<T>(channel: string, cb: (value: T) => void, accept: (value: unknown) => boolean): () => void {
  if (typeof cb !== "function") throw new TypeError("a callback is required");
  const listener = (_event: IpcRendererEvent, value: unknown) => {
    if (accept(value)) cb(value as T);
  };
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const api: HexmapBridge = {
  request(message: Request): Promise<Reply> {
    return ipcRenderer.invoke(IPC_REQUEST, message) as Promise<Reply>;
  },
  onEvent(cb: (event: Event) => void): () => void {
    return subscribe<Event>(IPC_EVENT, cb, (v) => typeof v === "object" && v !== null && typeof (v as { event?: unknown }).event === "string");
  },
  onMenuCommand(cb: (command: MenuCommand) => void): () => void {
    return subscribe<MenuCommand>(IPC_MENU_COMMAND, cb, (v) => typeof v === "string");
  },
  pathForFile(file: unknown): string {
    try {
      return webUtils.getPathForFile(file as File);
    } catch {
      return "";
    }
  },
};

contextBridge.exposeInMainWorld("hexmap", api);
