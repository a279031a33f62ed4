// The renderer's side of the protocol: a request/reply client over any transport (the browser
// host's WebSocket, or the Electron preload's window.hexmap). Transport-agnostic and free of
// Node and DOM types, so it compiles in the engine's tsconfig and bundles into the renderer.
//
// Every request settles: with its reply, or — if the transport closes first — with a
// RequestError of code EDISCONNECTED. No timeouts: the hosts answer every request.

import { decodeMessage, encodeMessage } from "./codec";
import { TOKEN_PARAM, WS_PATH } from "./channels";
import type { Event, MenuCommand, ProtocolError, Reply, Request, RequestParams, RequestType, ResultMap } from "./messages";

/** A message-passing link to a host. */
export interface Transport {
  /** Sends one request (already carrying its id). */
  send(message: Request): void;
  /** Delivers every reply and event the host sends. Returns an unsubscribe function. */
  onMessage(cb: (message: unknown) => void): () => void;
  /** Called once when the link is gone; optional for transports that never close. */
  onClose?(cb: (reason: string) => void): void;
  close?(): void;
}

/**
 * What the Electron preload exposes as `window.hexmap` (contextBridge), and nothing else.
 * The renderer declares `declare global { interface Window { hexmap?: HexmapBridge } }`.
 */
export interface HexmapBridge {
  /** Sends one request message (with its id) and resolves with its reply. Never rejects for a protocol error. */
  request(message: Request): Promise<Reply>;
  /** Subscribes to protocol events. Returns an unsubscribe function. */
  onEvent(cb: (event: Event) => void): () => void;
  /** Subscribes to application menu commands (Go to offset, Close, …). */
  onMenuCommand(cb: (command: MenuCommand) => void): () => void;
  /** The file system path of a File the user dropped (webUtils.getPathForFile); "" if it has none. */
  pathForFile(file: unknown): string;
}

/** A failed request: the host's error code and message. */
export class RequestError extends Error {
  readonly code: string;
  constructor(error: ProtocolError) {
    super(error.message);
    this.name = "RequestError";
    this.code = error.code;
  }
}

type Pending = { resolve: (reply: Reply) => void };

/** Optional params: `request("list")` needs none, `request("read", {...})` does. */
type ParamsArg<T extends RequestType> = {} extends RequestParams<T> ? [params?: RequestParams<T>] : [params: RequestParams<T>];

export class ProtocolClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: Event) => void>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private closedReason: string | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly transport: Transport) {
    this.unsubscribe = transport.onMessage((m) => this.receive(m));
    transport.onClose?.((reason) => this.closed(reason));
  }

  /** Sends a request; resolves with its result, rejects with a RequestError. */
  async request<T extends RequestType>(type: T, ...params: ParamsArg<T>): Promise<ResultMap[T]> {
    const reply = await this.call(type, ...params);
    if (reply.ok) return reply.result as ResultMap[T];
    throw new RequestError(reply.error);
  }

  /** Sends a request; resolves with its reply whether it succeeded or not. Never rejects. */
  call<T extends RequestType>(type: T, ...params: ParamsArg<T>): Promise<Reply<T>> {
    const id = this.nextId++;
    if (this.closedReason !== null) {
      return Promise.resolve(disconnected(id, this.closedReason) as Reply<T>);
    }
    const message = { ...(params[0] ?? {}), id, type } as unknown as Request;
    return new Promise<Reply<T>>((resolve) => {
      this.pending.set(id, { resolve: resolve as (reply: Reply) => void });
      try {
        this.transport.send(message);
      } catch (err) {
        this.pending.delete(id);
        resolve({ id, ok: false, error: { code: "EDISCONNECTED", message: `Could not send the request: ${errorText(err)}` } });
      }
    });
  }

  /** Subscribes to host events. Returns an unsubscribe function. */
  onEvent(cb: (event: Event) => void): () => void {
    this.eventListeners.add(cb);
    return () => this.eventListeners.delete(cb);
  }

  /** Called once when the transport closes (after pending requests were rejected). */
  onClose(cb: (reason: string) => void): () => void {
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Number of requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.transport.close?.();
    this.closed("closed by the client");
  }

  private receive(message: unknown): void {
    if (typeof message !== "object" || message === null) return;
    const m = message as { id?: unknown; event?: unknown; ok?: unknown };
    if (typeof m.event === "string") {
      for (const cb of [...this.eventListeners]) {
        try {
          cb(message as Event);
        } catch {
          /* a listener's bug must not stop the others */
        }
      }
      return;
    }
    if (typeof m.id !== "number" || typeof m.ok !== "boolean") return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.resolve(message as Reply);
  }

  private closed(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.unsubscribe();
    const pending = [...this.pending];
    this.pending.clear();
    for (const [id, p] of pending) p.resolve(disconnected(id, reason));
    for (const cb of [...this.closeListeners]) {
      try {
        cb(reason);
      } catch {
        /* ignore */
      }
    }
  }
}

function disconnected(id: number, reason: string): Reply {
  return { id, ok: false, error: { code: "EDISCONNECTED", message: `The connection to Hexmap closed (${reason})` } };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- Transports ---------------------------------------------------------------------------------

/** Transport over the Electron preload's window.hexmap. */
export function bridgeTransport(bridge: HexmapBridge): Transport {
  const listeners = new Set<(message: unknown) => void>();
  const deliver = (message: unknown) => {
    for (const cb of [...listeners]) cb(message);
  };
  bridge.onEvent((event) => deliver(event));
  return {
    send(message) {
      bridge.request(message).then(deliver, (err: unknown) =>
        deliver({ id: message.id, ok: false, error: { code: "EINTERNAL", message: `IPC failed: ${errorText(err)}` } }),
      );
    },
    onMessage(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}

/**
 * The part of a WebSocket this client uses: the browser's WebSocket and the `ws` package's both
 * fit. readyState: 0 connecting, 1 open, 2 closing, 3 closed.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", cb: (ev: { data: unknown }) => void): void;
  addEventListener(type: "close", cb: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: "open", cb: () => void): void;
  addEventListener(type: "error", cb: (ev: unknown) => void): void;
}

/** Transport over a WebSocket to the browser host (codec: JSON text, binary for bytes). */
export function webSocketTransport(ws: WebSocketLike): Transport {
  ws.binaryType = "arraybuffer";
  const listeners = new Set<(message: unknown) => void>();
  const closeListeners = new Set<(reason: string) => void>();
  let closed = false;
  const fireClose = (reason: string) => {
    if (closed) return;
    closed = true;
    for (const cb of [...closeListeners]) cb(reason);
  };
  ws.addEventListener("message", (ev) => {
    let message: unknown;
    try {
      message = decodeMessage(ev.data);
    } catch {
      return; // a malformed frame from the host is dropped; its request settles on close
    }
    for (const cb of [...listeners]) cb(message);
  });
  ws.addEventListener("close", (ev) => fireClose(`code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""}`));
  ws.addEventListener("error", () => fireClose("error"));
  return {
    send(message) {
      if (ws.readyState !== 1) throw new Error("the WebSocket is not open");
      ws.send(encodeMessage(message));
    },
    onMessage(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    onClose(cb) {
      if (closed) cb("closed");
      else closeListeners.add(cb);
    },
    close() {
      ws.close(1000, "client closed");
    },
  };
}

/**
 * The browser host's WebSocket URL for a page at `location` (window.location): same host, the
 * token taken from the page's own `?token=` (empty if absent: the cookie set with the page then
 * authenticates the upgrade).
 */
export function webSocketUrl(location: { protocol: string; host: string; search: string }): string {
  const token = new URLSearchParams(location.search).get(TOKEN_PARAM) ?? "";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = token ? `?${TOKEN_PARAM}=${encodeURIComponent(token)}` : "";
  return `${scheme}//${location.host}${WS_PATH}${query}`;
}

/** Opens a WebSocket and resolves with a client once it is open (rejects if it fails to open). */
export function connectWebSocket(ws: WebSocketLike): Promise<ProtocolClient> {
  return new Promise((resolve, reject) => {
    const transport = webSocketTransport(ws);
    if (ws.readyState === 1) return resolve(new ProtocolClient(transport));
    let settled = false;
    ws.addEventListener("open", () => {
      if (settled) return;
      settled = true;
      resolve(new ProtocolClient(transport));
    });
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      reject(new RequestError({ code: "EDISCONNECTED", message: `Could not connect to Hexmap (${why})` }));
    };
    ws.addEventListener("error", () => fail("connection refused or the token was not accepted"));
    ws.addEventListener("close", (ev) => fail(`code ${ev.code}`));
  });
}
