// The app:// scheme that serves the built renderer (dist/renderer) to the Electron window. Pure
// resolution here (unit-tested); main.ts registers it with protocol.handle. Same containment
// rules as the browser host: decoded once, `..` refused, real path inside the folder.

import { APP_HOST, APP_SCHEME } from "../protocol/channels";
import { contentType, resolveStatic } from "../serve/static-files";
import { APP_CSP } from "./security";

export type AppResponse =
  | { status: 200; file: string; headers: Record<string, string> }
  | { status: 400 | 403 | 404; headers: Record<string, string> };

const BASE_HEADERS: Record<string, string> = {
  "Content-Security-Policy": APP_CSP,
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/** What app://hexmap/<path> answers: a file under rendererDir, or an error status. */
export function resolveAppRequest(requestUrl: string, rendererDir: string): AppResponse {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { status: 400, headers: { ...BASE_HEADERS } };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { status: 404, headers: { ...BASE_HEADERS } };
  // The raw path as requested (URL keeps percent-escapes), handed to the shared resolver.
  const raw = requestUrl.slice(`${APP_SCHEME}://${APP_HOST}`.length) || "/";
  const resolved = resolveStatic(rendererDir, raw.startsWith("/") ? raw : "/" + raw);
  if (!resolved.ok) return { status: resolved.status, headers: { ...BASE_HEADERS } };
  return { status: 200, file: resolved.file, headers: { ...BASE_HEADERS, "Content-Type": contentType(resolved.file) } };
}
