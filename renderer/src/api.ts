// The renderer's one door to a host. It speaks only the protocol (app/protocol/messages.ts):
// in Electron through the preload's window.hexmap, in a browser through the WebSocket of
// `hexmap serve`. Which one is picked at start-up; the rest of the renderer never knows.

import type {
  DocumentInfo,
  Event as HostEvent,
  MenuCommand,
  ProtocolError,
  RequestParams,
  RequestType,
  ResultMap,
} from "../../app/protocol/messages";
import {
  bridgeTransport,
  ProtocolClient,
  RequestError,
  webSocketTransport,
  webSocketUrl,
  type HexmapBridge,
  type WebSocketLike,
} from "../../app/protocol/client";

export type { DocumentInfo, HostEvent, MenuCommand, ProtocolError };

declare global {
  interface Window {
    hexmap?: HexmapBridge;
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

// ---- Both hosts, over app/protocol/client.ts -------------------------------------------------

function clientApi(
  host: HexmapApi["host"],
  client: ProtocolClient,
  connection: Emitter<[ConnectionState, string | undefined]>,
  getState: () => { state: ConnectionState; reason?: string },
  bridge?: HexmapBridge,
): HexmapApi {
  return {
    host,
    async request(type, params) {
      try {
        return await (client.request as (t: RequestType, p: unknown) => Promise<ResultMap[typeof type]>)(type, params);
      } catch (err) {
        if (err instanceof RequestError) throw new HostError({ code: err.code, message: err.message });
        throw err;
      }
    },
    onEvent: (cb) => client.onEvent(cb),
    onMenuCommand(cb) {
      const off = bridge?.onMenuCommand?.(cb);
      return typeof off === "function" ? off : () => {};
    },
    onConnection(cb) {
      const s = getState();
      if (s.state !== "connecting") cb(s.state, s.reason);
      return connection.on(cb);
    },
    pathForFile(file) {
      try {
        return bridge?.pathForFile?.(file) || null;
      } catch {
        return null;
      }
    },
  };
}

/** Electron: the preload's window.hexmap (IPC to the main process). */
export function electronApi(bridge: HexmapBridge): HexmapApi {
  const client = new ProtocolClient(bridgeTransport(bridge));
  const connection = new Emitter<[ConnectionState, string | undefined]>();
  return clientApi("electron", client, connection, () => ({ state: "open" }), bridge);
}

/**
 * The browser host (`hexmap serve`): a WebSocket to the page's own host, carrying the token from
 * the page URL. The host refuses the socket without it; every pending request then settles with
 * EDISCONNECTED rather than hanging.
 */
export function webSocketApi(location: Location): HexmapApi {
  const connection = new Emitter<[ConnectionState, string | undefined]>();
  let state: { state: ConnectionState; reason?: string } = { state: "connecting" };
  const ws = new WebSocket(webSocketUrl(location));
  const client = new ProtocolClient(webSocketTransport(ws as unknown as WebSocketLike));
  const opened = new Promise<void>((resolve) => {
    ws.addEventListener("open", () => {
      state = { state: "open" };
      connection.emit("open", undefined);
      resolve();
    });
    ws.addEventListener("close", (ev) => {
      const reason =
        ev.reason ||
        (ev.code === 1006 || ev.code === 1008
          ? "the host refused the connection (missing or wrong token), or it has stopped"
          : `the connection closed (code ${ev.code})`);
      state = { state: "closed", reason };
      connection.emit("closed", reason);
      resolve();
    });
  });
  const api = clientApi("browser", client, connection, () => state);
  const request = api.request;
  // Requests made before the socket opens wait for it (the transport refuses to send earlier).
  api.request = async (type, params) => {
    if (state.state === "connecting") await opened;
    return request(type, params);
  };
  return api;
}

/** Electron's preload bridge if there is one, else the browser host's WebSocket. */
export function connect(): HexmapApi {
  if (typeof window !== "undefined" && window.hexmap && typeof window.hexmap.request === "function") {
    return electronApi(window.hexmap);
  }
  return webSocketApi(window.location);
}
