// The browser host: node:http serving the built renderer, and a WebSocket endpoint to the engine
// Service (one Service per connection over one DocumentPool). It is reached through a URL with a
// random per-run token, answers only to its own Host names (DNS rebinding) and its own Origin
// (cross-site WebSocket hijacking), and binds 127.0.0.1 unless told otherwise.

import * as fs from "node:fs";
import * as http from "node:http";
import type { Duplex } from "node:stream";
import * as os from "node:os";
import { WebSocketServer, WebSocket, type RawData } from "ws";
import { DocumentPool, Service, type DocumentHolder, type DocumentPoolOptions } from "../engine/service";
import { decodeMessage, encodeMessage, MAX_BINARY_HEADER } from "../protocol/codec";
import { TOKEN_PARAM, WS_PATH } from "../protocol/channels";
import { MAX_EDIT_LENGTH, MAX_READ_LENGTH, type DocumentInfo, type Reply } from "../protocol/messages";
import {
  allowedHosts,
  contentSecurityPolicy,
  cookieName,
  hostAllowed,
  hostPort,
  newToken,
  originAllowed,
  requestTokens,
  tokenMatches,
} from "./guard";
import { contentType, resolveStatic } from "./static-files";

/** Largest inbound WebSocket message: an `edit` of MAX_EDIT_LENGTH bytes plus its binary frame header. */
export const MAX_INBOUND_MESSAGE = MAX_EDIT_LENGTH + MAX_BINARY_HEADER + 4;
/**
 * Requests one connection may have in flight; more are answered EBUSY at once. `cancel` and
 * `close` (CONTROL_REQUESTS) are never refused nor counted: they stop work and free resources,
 * so they must get through precisely when a client has the most running.
 */
export const MAX_IN_FLIGHT = 64;
/** Requests the in-flight limit never refuses: they end jobs and release documents, and answer at once. */
export const CONTROL_REQUESTS: ReadonlySet<string> = new Set(["cancel", "close"]);
/**
 * Bytes of reads one connection may have in flight plus unsent in its socket buffer: a client
 * that asks for 16 MiB reads faster than it takes them gets EBUSY, not the host's memory.
 */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  /** A file opened at start and shared with every client (they get it via `list`). */
  file?: string;
  /** Open `file` for editing (default false: read-only, so a viewer never changes it). */
  writable?: boolean;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** The built renderer: index.html and its assets (dist/renderer). */
  rendererDir: string;
  /** Fixed token (tests); default a fresh random one. */
  token?: string;
  /** Size poll and fs.watch settings for the document pool. */
  pool?: DocumentPoolOptions;
}

export interface RunningServer {
  /** The URL to open, token included: http://HOST:PORT/?token=… */
  url: string;
  /** http://HOST:PORT (no token, no slash). */
  origin: string;
  token: string;
  host: string;
  port: number;
  /** The shared file's document, when one was given. */
  shared: DocumentInfo | null;
  pool: DocumentPool;
  /** Number of open WebSocket connections. */
  readonly connections: number;
  /**
   * Jobs still running for this host's clients, closed connections included until their jobs
   * have stopped (a dropped connection's jobs are cancelled; this goes to 0 once they ended).
   */
  readonly jobs: number;
  /** Closes every connection and document, then the server. Idempotent. */
  close(): Promise<void>;
}

const COMMON_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer", // the page URL carries the token
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Starts the browser host. Rejects with a HexmapError if `file` cannot be opened, or on a listen error. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? newToken();
  const rendererDir = options.rendererDir;
  const pool = new DocumentPool(options.pool ?? {});
  const hostHolder: DocumentHolder = { deliver() {} };

  let shared: DocumentInfo | null = null;
  if (options.file !== undefined) {
    try {
      const docId = pool.open(options.file, { readOnly: !options.writable }, hostHolder);
      shared = pool.info(docId);
    } catch (err) {
      pool.dispose();
      throw err;
    }
  }

  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INBOUND_MESSAGE });
  let allowed = new Set<string>();
  let port = 0;
  /** Every connection's Service, kept after its socket closed while its cancelled jobs wind down. */
  const services = new Set<Service>();
  /** Forgets closed connections whose jobs have ended (on every socket close, and when counted). */
  const prune = () => {
    for (const s of services) if (s.isDisposed && s.jobCount === 0) services.delete(s);
  };

  server.on("request", (req, res) => serveHttp(req, res));
  server.on("upgrade", (req, socket, head) => upgrade(req, socket, head));
  server.on("clientError", (_err, socket) => socket.destroy());

  function refuse(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra });
    res.end(text + "\n");
  }

  function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const rawUrl = req.url ?? "/";
    if (!hostAllowed(req.headers.host, allowed)) return refuse(res, 403, "Forbidden: unknown Host");
    if (!originAllowed(req.headers.origin, allowed)) return refuse(res, 403, "Forbidden: foreign Origin");
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "Method not allowed", { Allow: "GET, HEAD" });
    const tokens = requestTokens(rawUrl, req.headers.cookie, port);
    if (!tokens.some((t) => tokenMatches(t, token))) {
      return refuse(
        res,
        401,
        "Hexmap: this page needs the token. Open the full URL that `hexmap serve` printed (it ends in ?token=…).",
      );
    }
    const resolved = resolveStatic(rendererDir, rawUrl);
    if (!resolved.ok) {
      const text = { 400: "Bad request", 403: "Forbidden", 404: "Not found" }[resolved.status];
      return refuse(res, resolved.status, text);
    }
    const headers: Record<string, string> = {
      ...COMMON_HEADERS,
      "Content-Type": contentType(resolved.file),
      "Content-Security-Policy": contentSecurityPolicy(req.headers.host!.toLowerCase()),
    };
    // Authenticated by the URL's token: let the page's own assets (which carry no token) load.
    if (new URLSearchParams(rawUrl.split("?")[1] ?? "").get(TOKEN_PARAM) !== null) {
      headers["Set-Cookie"] = `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    }
    fs.stat(resolved.file, (err, st) => {
      if (err) return refuse(res, 404, "Not found");
      headers["Content-Length"] = String(st.size);
      res.writeHead(200, headers);
      if (req.method === "HEAD") return res.end();
      const stream = fs.createReadStream(resolved.file);
      stream.on("error", () => res.destroy());
      stream.pipe(res);
    });
  }

  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    const body = text + "\n";
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const rawUrl = req.url ?? "/";
    if (!hostAllowed(req.headers.host, allowed)) return refuseUpgrade(socket, 403, "Forbidden: unknown Host");
    if (!originAllowed(req.headers.origin, allowed)) return refuseUpgrade(socket, 403, "Forbidden: foreign Origin");
    if (rawUrl.split("?")[0] !== WS_PATH) return refuseUpgrade(socket, 404, "Not found");
    const tokens = requestTokens(rawUrl, req.headers.cookie, port);
    if (!tokens.some((t) => tokenMatches(t, token))) return refuseUpgrade(socket, 401, "Unauthorized: missing or wrong token");
    wss.handleUpgrade(req, socket, head, (ws) => connection(ws));
  }

  function connection(ws: WebSocket): void {
    const service = new Service({ pool });
    services.add(service);
    if (shared && pool.has(shared.docId)) service.grant(shared.docId);
    let inFlight = 0;
    let pendingBytes = 0;
    const send = (message: object) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      try {
        ws.send(encodeMessage(message));
      } catch {
        /* unencodable: cannot happen for our own replies */
      }
    };
    const off = service.onEvent((event) => send(event));
    ws.on("message", (data: RawData, isBinary: boolean) => {
      let message: unknown;
      try {
        // ws hands text frames over as Buffers too (already checked to be UTF-8).
        const frame = isBinary ? data : Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(toBuffers(data)).toString("utf8");
        message = decodeMessage(frame, { maxFrameBytes: MAX_INBOUND_MESSAGE });
      } catch (err) {
        const reply: Reply = { id: null, ok: false, error: { code: "EINVAL", message: `Malformed message: ${(err as Error).message}` } };
        return send(reply);
      }
      const m = message as { id?: unknown; type?: unknown; length?: unknown };
      if (typeof m.type === "string" && CONTROL_REQUESTS.has(m.type)) {
        void service.handle(message).then(send);
        return;
      }
      // Counted only when well-formed: a malformed length gets the Service's EINVAL, not EBUSY.
      const readBytes =
        m.type === "read" && Number.isSafeInteger(m.length) && (m.length as number) > 0 && (m.length as number) <= MAX_READ_LENGTH
          ? (m.length as number)
          : 0;
      const busy =
        inFlight >= MAX_IN_FLIGHT
          ? `Too many requests in flight (at most ${MAX_IN_FLIGHT})`
          : readBytes > 0 && pendingBytes + readBytes + ws.bufferedAmount > MAX_PENDING_BYTES
            ? "Too many bytes waiting to be sent; read less at once"
            : null;
      if (busy) {
        const id = typeof m.id === "number" && Number.isSafeInteger(m.id) && m.id >= 0 ? m.id : null;
        return send({ id, ok: false, error: { code: "EBUSY", message: busy } });
      }
      inFlight++;
      pendingBytes += readBytes;
      void service.handle(message).then((reply) => {
        inFlight--;
        pendingBytes -= readBytes;
        send(reply);
      });
    });
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      off();
      service.dispose();
      prune();
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      pool.dispose();
      reject(err);
    };
    server.once("error", onError);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  allowed = allowedHosts(host, port);
  const origin = `http://${hostPort(displayHost(host), port)}`;
  const url = `${origin}/?${TOKEN_PARAM}=${token}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    origin,
    token,
    host,
    port,
    shared,
    pool,
    get connections() {
      return wss.clients.size;
    },
    get jobs() {
      prune();
      let n = 0;
      for (const s of services) n += s.jobCount;
      return n;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        pool.dispose();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function toBuffers(data: RawData): Buffer[] {
  if (Array.isArray(data)) return data;
  return [Buffer.isBuffer(data) ? data : Buffer.from(data)];
}

/** The host name to print: the bound address, or for 0.0.0.0 / :: the machine's first LAN address. */
function displayHost(host: string): string {
  if (host !== "0.0.0.0" && host !== "::") return host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === "IPv4") return a.address;
  }
  return "127.0.0.1";
}
