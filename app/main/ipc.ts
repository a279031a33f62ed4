// The Electron IPC transport: one invoke channel into Service.handle (structured clone carries
// the reply's Uint8Array as is), events and menu commands out with webContents.send. Every
// invoke is answered with a Reply — an untrusted sender gets EACCES, never a rejection.

import type { Service } from "../engine/service";
import { IPC_EVENT, IPC_MENU_COMMAND, IPC_REQUEST } from "../protocol/channels";
import type { MenuCommand, Reply } from "../protocol/messages";
import { isTrustedSender, type IpcEventLike, type WindowLike } from "./security";

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface SendingWindow extends WindowLike {
  readonly webContents: WindowLike["webContents"] & { send(channel: string, ...args: unknown[]): void };
}

export interface IpcOptions {
  ipcMain: IpcMainLike;
  /** The window allowed to talk to the Service (null while there is none). */
  getWindow(): SendingWindow | null;
  service: Service;
}

/** Registers the request channel and forwards the Service's events. Returns an unregister function. */
export function registerIpc({ ipcMain, getWindow, service }: IpcOptions): () => void {
  ipcMain.handle(IPC_REQUEST, async (event, message) => {
    if (!isTrustedSender(event, getWindow())) return refused(message);
    return service.handle(message);
  });
  const off = service.onEvent((ev) => send(getWindow(), IPC_EVENT, ev));
  return () => {
    off();
    ipcMain.removeHandler(IPC_REQUEST);
  };
}

export function sendMenuCommand(window: SendingWindow | null, command: MenuCommand): void {
  send(window, IPC_MENU_COMMAND, command);
}

function send(window: SendingWindow | null, channel: string, payload: unknown): void {
  if (!window || window.isDestroyed() || window.webContents.isDestroyed()) return;
  window.webContents.send(channel, payload);
}

function refused(message: unknown): Reply {
  const rawId = (message as { id?: unknown } | null)?.id;
  const id = typeof rawId === "number" && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : null;
  return { id, ok: false, error: { code: "EACCES", message: "Request refused: it did not come from the Hexmap window" } };
}
