// Security policy of the Electron shell as small functions over Electron's event objects, so they
// are unit-tested with fakes in plain Node (only types come from "electron"):
//   - the renderer's Content-Security-Policy (set by the app:// handler and on every response),
//   - navigation, new windows, webviews and permission requests: all denied,
//   - requests leaving the app (http, file, …): blocked,
//   - IPC sender check: only the main frame of our window, showing our app:// origin.

import type { OnBeforeRequestListenerDetails, OnHeadersReceivedListenerDetails } from "electron";
import { APP_HOST, APP_SCHEME } from "../protocol/channels";

/** The renderer talks only over IPC: no connect-src, nothing remote, no inline code. */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** True for a URL of our own app:// origin. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

// ---- IPC sender --------------------------------------------------------------------------------

/** The parts of an IPC event and a window the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly processId: number;
  readonly routingId: number;
  readonly parent: FrameLike | null;
  readonly detached?: boolean;
}
export interface IpcEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: FrameLike | null;
}
export interface WindowLike {
  isDestroyed(): boolean;
  readonly webContents: { readonly id: number; readonly mainFrame: FrameLike; isDestroyed(): boolean };
}

/**
 * An IPC message is trusted only from our window's webContents, from its main frame (no
 * iframes), while that frame shows our app:// origin.
 */
export function isTrustedSender(event: IpcEventLike, window: WindowLike | null): boolean {
  if (!window || window.isDestroyed() || window.webContents.isDestroyed()) return false;
  const frame = event.senderFrame;
  if (!frame || frame.detached || frame.parent !== null) return false;
  if (event.sender.id !== window.webContents.id) return false;
  const main = window.webContents.mainFrame;
  if (frame.processId !== main.processId || frame.routingId !== main.routingId) return false;
  return isAppUrl(frame.url);
}

// ---- navigation, windows, permissions ----------------------------------------------------------

/** will-navigate / will-redirect / will-frame-navigate: the app is one page; every navigation is refused. */
export function preventNavigation(event: { preventDefault(): void }, _url?: string): void {
  event.preventDefault();
}

/** setWindowOpenHandler: no new windows, ever. */
export function denyWindowOpen(): { action: "deny" } {
  return { action: "deny" };
}

/** will-attach-webview: no webviews. */
export function denyWebview(event: { preventDefault(): void }): void {
  event.preventDefault();
}

/** setPermissionRequestHandler: the viewer needs no camera, notifications, clipboard-read, … */
export function denyPermissionRequest(_wc: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/** setPermissionCheckHandler. */
export function denyPermissionCheck(): boolean {
  return false;
}

// ---- network -------------------------------------------------------------------------------------

/** Schemes the renderer may load from: our own, inline data images, and DevTools. */
const ALLOWED_SCHEMES = new Set([`${APP_SCHEME}:`, "data:", "devtools:"]);

/** session.webRequest.onBeforeRequest: anything leaving the app (http, ws, file, …) is cancelled. */
export function filterRequest(details: Pick<OnBeforeRequestListenerDetails, "url">, callback: (response: { cancel: boolean }) => void): void {
  let allowed = false;
  try {
    const u = new URL(details.url);
    allowed = ALLOWED_SCHEMES.has(u.protocol) && (u.protocol !== `${APP_SCHEME}:` || u.host === APP_HOST);
  } catch {
    allowed = false;
  }
  callback({ cancel: !allowed });
}

/** session.webRequest.onHeadersReceived: our CSP on every response, replacing any other. */
export function addCspHeader(
  details: Pick<OnHeadersReceivedListenerDetails, "responseHeaders">,
  callback: (response: { responseHeaders: Record<string, string[]> }) => void,
): void {
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(details.responseHeaders ?? {})) {
    if (k.toLowerCase() !== "content-security-policy") headers[k] = v;
  }
  headers["Content-Security-Policy"] = [APP_CSP];
  callback({ responseHeaders: headers });
}

/** The subset of Electron objects `lockDown` wires the handlers into. */
export interface SessionLike {
  setPermissionRequestHandler(handler: typeof denyPermissionRequest): void;
  setPermissionCheckHandler(handler: typeof denyPermissionCheck): void;
  webRequest: {
    onBeforeRequest(listener: typeof filterRequest): void;
    onHeadersReceived(listener: typeof addCspHeader): void;
  };
}
export interface WebContentsLike {
  on(event: "will-navigate" | "will-redirect" | "will-frame-navigate" | "will-attach-webview", listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: typeof denyWindowOpen): void;
}

/** Installs every policy above on a session and a window's webContents. */
export function lockDown(session: SessionLike, contents: WebContentsLike): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
  session.webRequest.onBeforeRequest(filterRequest);
  session.webRequest.onHeadersReceived(addCspHeader);
  contents.on("will-navigate", preventNavigation);
  contents.on("will-redirect", preventNavigation);
  contents.on("will-frame-navigate", preventNavigation);
  contents.on("will-attach-webview", denyWebview);
  contents.setWindowOpenHandler(denyWindowOpen);
}
