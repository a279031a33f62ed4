// The renderer's one door to a host. It speaks only the protocol (app/protocol/messages.ts):
// in Electron through the preload's window.hexmap, in a browser through the WebSocket of
// `hexmap serve`. Which one is picked at start-up; the rest of the renderer never knows.

import type {
  DocumentInfo,
  Event as HostEvent,
  MenuCommand,
  ProtocolError,
  Reply,
  RequestParams,
  RequestType,
  ResultMap,
} from "../../app/protocol/messages";
import { TOKEN_PARAM, WS_PATH } from "../../app/protocol/channels";
import { decodeMessage, encodeMessage } from "../../app/protocol/codec";

export type { DocumentInfo, HostEvent, MenuCommand, ProtocolError };

/** What window.hexmap looks like in Electron (exposed by app/preload via contextBridge). */
export interface PreloadBridge {
  request(message: unknown): Promise<Reply>;
  onEvent(cb: (event: HostEvent) => void): (() => void) | void;
  onMenuCommand?(cb: (command: MenuCommand) => void): (() => void) | void;
  pathForFile?(file: File): string;
}

declare global {
  interface Window {
    hexmap?: PreloadBridge;
  }
}

/** A failed request: the protocol error's code and sentence. */
export class HostError extends Error {
  readonly code: string;
  constructor(error: ProtocolError) {
    super(error.message);
    this.name = "HostError";
    this.code = error.code;
  }
}

export type ConnectionState = "connecting" | "open" | "closed";

export interface HexmapApi {
  /** Which host this is, for the UI (Electron shows a native menu, the browser an Open bar). */
  readonly host: "electron" | "browser" | "fake";
  request<T extends RequestType>(type: T, params: RequestParams<T>): Promise<ResultMap[T]>;
  onEvent(cb: (event: HostEvent) => void): () => void;
  onMenuCommand(cb: (command: MenuCommand) => void): () => void;
  onConnection(cb: (state: ConnectionState, reason?: string) => void): () => void;
  /** The path of a dropped File, where the host can tell it (Electron), else null. */
  pathForFile(file: File): string | null;
}

type Listener<A extends unknown[]> = (...args: A) => void;
class Emitter<A extends unknown[]> {
  private listeners = new Set<Listener<A>>();
  on(cb: Listener<A>): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  emit(...args: A): void {
    for (const cb of [...this.listeners]) {
      try {
        cb(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

function unwrap<T extends RequestType>(reply: Reply): ResultMap[T] {
  if (reply.ok) return reply.result as ResultMap[T];
  throw new HostError(reply.error);
}

// ---- Electron ---------------------------------------------------------------------------------

export function electronApi(bridge: PreloadBridge): HexmapApi {
  let nextId = 1;
  const connection = new Emitter<[ConnectionState, string | undefined]>();
  return {
    host: "electron",
    async request(type, params) {
      const reply = await bridge.request({ ...params, type, id: nextId++ });
      return unwrap(reply);
    },
    onEvent(cb) {
      const off = bridge.onEvent(cb);
      return typeof off === "function" ? off : () => {};
    },
    onMenuCommand(cb) {
      const off = bridge.onMenuCommand?.(cb);
      return typeof off === "function" ? off : () => {};
    },
    onConnection(cb) {
      cb("open");
      return connection.on(cb);
    },
    pathForFile(file) {
      try {
        return bridge.pathForFile?.(file) || null;
      } catch {
        return null;
      }
    },
  };
}

// ---- Browser host (WebSocket) -------------------------------------------------------------------

interface Pending {
  resolve(reply: Reply): void;
}

/**
 * A WebSocket client for `hexmap serve`. The token comes from the page URL; the host refuses the
 * socket without it. Every request settles: if the socket closes, pending requests fail with
 * EDISCONNECTED rather than hanging.
 */
export function webSocketApi(location: Location): HexmapApi {
  const token = new URLSearchParams(location.search).get(TOKEN_PARAM) ?? "";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
  const events = new Emitter<[HostEvent]>();
  const connection = new Emitter<[ConnectionState, string | undefined]>();
  const pending = new Map<number, Pending>();
  let state: ConnectionState = "connecting";
  let closeReason = "";
  let nextId = 1;

  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const opened = new Promise<void>((resolve) => {
    ws.addEventListener("open", () => {
      state = "open";
      connection.emit("open", undefined);
      resolve();
    });
    ws.addEventListener("close", (ev) => {
      state = "closed";
      closeReason =
        ev.reason ||
        (ev.code === 1006 || ev.code === 1008
          ? "The host refused the connection (missing or wrong token, or the host has stopped)"
          : `Connection closed (code ${ev.code})`);
      connection.emit("closed", closeReason);
      for (const [id, p] of pending) {
        pending.delete(id);
        p.resolve({ id, ok: false, error: { code: "EDISCONNECTED", message: closeReason } });
      }
      resolve();
    });
  });
  ws.addEventListener("message", (ev: MessageEvent) => {
    let message: Record<string, unknown>;
    try {
      message = decodeMessage(ev.data);
    } catch (err) {
      console.error("hexmap: malformed frame from host", err);
      return;
    }
    if (typeof message.event === "string") {
      events.emit(message as unknown as HostEvent);
      return;
    }
    const id = message.id;
    if (typeof id !== "number") {
      console.error("hexmap: host error without request id", message);
      return;
    }
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    p.resolve(message as unknown as Reply);
  });

  return {
    host: "browser",
    async request(type, params) {
      if (state === "connecting") await opened;
      if (state === "closed") throw new HostError({ code: "EDISCONNECTED", message: closeReason || "Not connected" });
      const id = nextId++;
      const reply = await new Promise<Reply>((resolve) => {
        pending.set(id, { resolve });
        try {
          ws.send(encodeMessage({ ...params, type, id }) as string | ArrayBufferView<ArrayBuffer>);
        } catch (err) {
          pending.delete(id);
          resolve({ id, ok: false, error: { code: "EDISCONNECTED", message: String(err) } });
        }
      });
      return unwrap(reply);
    },
    onEvent: (cb) => events.on(cb),
    onMenuCommand: () => () => {},
    onConnection(cb) {
      if (state !== "connecting") cb(state, closeReason || undefined);
      return connection.on(cb);
    },
    pathForFile: () => null,
  };
}

/** Electron's preload bridge if there is one, else the browser host's WebSocket. */
export function connect(): HexmapApi {
  if (typeof window !== "undefined" && window.hexmap && typeof window.hexmap.request === "function") {
    return electronApi(window.hexmap);
  }
  return webSocketApi(window.location);
}
