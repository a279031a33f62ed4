// Every channel name of the transports lives here and nowhere else: the Electron IPC channels,
// the browser host's WebSocket path and the name of its token (URL parameter and cookie).
// Imported by app/main, app/preload (bundled), app/serve and the renderer's client.

/** ipcRenderer.invoke channel: one protocol request in, one Reply out. */
export const IPC_REQUEST = "hexmap:request";
/** webContents.send channel: protocol Events (size-changed, document-opened, …). */
export const IPC_EVENT = "hexmap:event";
/** webContents.send channel: application menu commands (a MenuCommand string). */
export const IPC_MENU_COMMAND = "hexmap:menu-command";

/** Path of the browser host's WebSocket endpoint. */
export const WS_PATH = "/ws";
/** Query parameter carrying the per-run token, on the page URL and on the WebSocket URL. */
export const TOKEN_PARAM = "token";
/**
 * Cookie the browser host sets once the page was loaded with a valid token, so the page's own
 * assets load without it. Suffixed with the port: cookies are not isolated by port.
 */
export const TOKEN_COOKIE_PREFIX = "hexmap_token_";
/** Start of the one line `hexmap serve` prints on stdout; the URL follows it. */
export const SERVE_URL_LINE_PREFIX = "Hexmap: ";

/**
 * The Electron shell serves the renderer from its own privileged scheme (app://hexmap/…) rather
 * than file://, so the page has a real origin that the IPC sender check can require.
 */
export const APP_SCHEME = "app";
export const APP_HOST = "hexmap";
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;
