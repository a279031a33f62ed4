// Serving the built renderer (dist/renderer/): only regular files inside that folder, with
// their content types. Paths are decoded once and every `..` segment is refused outright, then
// the resolved real path must still lie inside the folder (no symlink escapes).

import * as fs from "node:fs";
import * as path from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

export type Resolved = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404 };

/** Maps a request URL's path (raw, percent-encoded, query allowed) to a file under `root`. */
export function resolveStatic(root: string, rawUrl: string): Resolved {
  const q = rawUrl.search(/[?#]/);
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  if (!rawPath.startsWith("/")) return { ok: false, status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return { ok: false, status: 400 };
  const segments = decoded.split("/").filter((s) => s.length > 0);
  if (segments.some((s) => s === ".." || s === ".")) return { ok: false, status: 403 };
  if (segments.length === 0) segments.push("index.html");

  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return { ok: false, status: 404 };
  }
  const candidate = path.resolve(realRoot, ...segments);
  if (!inside(realRoot, candidate)) return { ok: false, status: 403 };
  let real: string;
  try {
    real = fs.realpathSync(candidate);
    if (!fs.statSync(real).isFile()) return { ok: false, status: 404 };
  } catch {
    return { ok: false, status: 404 };
  }
  if (!inside(realRoot, real)) return { ok: false, status: 403 };
  return { ok: true, file: real };
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel.length > 0 && !rel.startsWith("..") && !path.isAbsolute(rel);
}
