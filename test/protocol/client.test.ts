import { strict as assert } from "node:assert";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import {
  ProtocolClient,
  RequestError,
  bridgeTransport,
  webSocketUrl,
  type HexmapBridge,
  type Transport,
} from "../../app/protocol/client";
import { decodeMessage, encodeMessage } from "../../app/protocol/codec";
import type { Event, MenuCommand, Reply, Request } from "../../app/protocol/messages";
import { cleanupFixtures, makeFile } from "../fixtures";

after(cleanupFixtures);

/** An in-memory transport to a Service, through the codec as over a WebSocket. */
function loopback(service: Service, opts: { reverse?: boolean } = {}) {
  const listeners = new Set<(m: unknown) => void>();
  const closeCbs: Array<(r: string) => void> = [];
  const deliver = (m: object) => {
    const wire = decodeMessage(encodeMessage(m));
    for (const cb of listeners) cb(wire);
  };
  service.onEvent(deliver);
  const held: Array<Promise<Reply>> = [];
  const transport: Transport & { closeNow(reason: string): void; flush(): Promise<void>; sent: Request[] } = {
    sent: [],
    send(message) {
      transport.sent.push(message);
      const p = service.handle(decodeMessage(encodeMessage(message)));
      if (opts.reverse) held.push(p);
      else void p.then(deliver);
    },
    onMessage(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    onClose(cb) {
      closeCbs.push(cb);
    },
    closeNow(reason) {
      for (const cb of closeCbs) cb(reason);
    },
    async flush() {
      const replies = await Promise.all(held.splice(0));
      for (const r of replies.reverse()) deliver(r);
    },
  };
  return transport;
}

describe("ProtocolClient", () => {
  it("requests resolve with results, errors reject with a RequestError carrying the code", async () => {
    const file = makeFile("Hello, hexmap!");
    const service = new Service({ pollIntervalMs: 0 });
    const client = new ProtocolClient(loopback(service));
    try {
      const info = await client.request("open", { path: file });
      assert.equal(info.size, 14);
      const read = await client.request("read", { docId: info.docId, offset: 7, length: 6 });
      assert.equal(Buffer.from(read.bytes).toString(), "hexmap");
      const list = await client.request("list");
      assert.equal(list.documents.length, 1);
      await assert.rejects(client.request("read", { docId: "d42", offset: 0, length: 1 }), (e: unknown) => {
        assert.ok(e instanceof RequestError);
        assert.equal(e.code, "EBADDOC");
        return true;
      });
      await assert.rejects(client.request("open", { path: file + ".missing" }), { code: "ENOENT" });
      const reply = await client.call("info", { docId: "d9" });
      assert.equal(reply.ok, false);
      assert.equal(client.pendingCount, 0);
    } finally {
      service.dispose();
    }
  });

  it("matches replies to requests by id, whatever their order", async () => {
    const file = makeFile(Buffer.from([...Array(256).keys()]));
    const service = new Service({ pollIntervalMs: 0 });
    const transport = loopback(service, { reverse: true });
    const client = new ProtocolClient(transport);
    try {
      const opened = client.request("open", { path: file });
      await transport.flush();
      const { docId } = await opened;
      const reads = [0, 10, 100, 200].map((offset) => client.request("read", { docId, offset, length: 4 }));
      await transport.flush(); // delivered newest first
      const results = await Promise.all(reads);
      assert.deepEqual(results.map((r) => r.bytes[0]), [0, 10, 100, 200]);
      assert.deepEqual(transport.sent.map((m) => m.id), [1, 2, 3, 4, 5]);
    } finally {
      service.dispose();
    }
  });

  it("pending requests settle with EDISCONNECTED when the transport closes; later ones at once", async () => {
    const sent: Request[] = [];
    const t: Transport & { close(): void } = (() => {
      let closeCb: (r: string) => void = () => {};
      return {
        send: (m: Request) => void sent.push(m),
        onMessage: () => () => {},
        onClose: (cb: (r: string) => void) => void (closeCb = cb),
        close: () => closeCb("gone"),
      };
    })();
    const client = new ProtocolClient(t);
    let closedWith = "";
    client.onClose((r) => (closedWith = r));
    const p1 = client.request("list");
    const p2 = client.call("info", { docId: "d1" });
    assert.equal(client.pendingCount, 2);
    t.close();
    await assert.rejects(p1, { code: "EDISCONNECTED" });
    const r2 = await p2;
    assert.equal(r2.ok, false);
    assert.equal(r2.ok ? "" : r2.error.code, "EDISCONNECTED");
    assert.equal(closedWith, "gone");
    assert.equal(client.isClosed, true);
    await assert.rejects(client.request("list"), { code: "EDISCONNECTED" });
    assert.equal(sent.length, 2);
  });

  it("a transport whose send throws settles the request", async () => {
    const client = new ProtocolClient({
      send() {
        throw new Error("socket not open");
      },
      onMessage: () => () => {},
    });
    await assert.rejects(client.request("list"), { code: "EDISCONNECTED" });
  });

  it("delivers events to subscribers until they unsubscribe; ignores junk and unknown ids", async () => {
    let push: (m: unknown) => void = () => {};
    const client = new ProtocolClient({ send() {}, onMessage: (cb) => ((push = cb), () => {}) });
    const got: Event[] = [];
    const off = client.onEvent((e) => got.push(e));
    client.onEvent(() => {
      throw new Error("a buggy listener");
    });
    const ev: Event = { event: "size-changed", docId: "d1", size: 10, generation: 1 };
    push(ev);
    push(null);
    push("text");
    push({ id: 99, ok: true, result: {} });
    push({ id: null, ok: false, error: { code: "EINVAL", message: "x" } });
    off();
    push(ev);
    assert.deepEqual(got, [ev]);
  });
});

describe("bridgeTransport (Electron preload API)", () => {
  it("runs requests through window.hexmap.request and events through onEvent", async () => {
    const file = makeFile("bridge!");
    const service = new Service({ pollIntervalMs: 0 });
    const bridge: HexmapBridge = {
      request: (m) => service.handle(structuredClone(m)).then((r) => structuredClone(r)),
      onEvent: (cb) => service.onEvent(cb),
      onMenuCommand: (_cb: (c: MenuCommand) => void) => () => {},
      pathForFile: () => "",
    };
    const client = new ProtocolClient(bridgeTransport(bridge));
    const events: Event[] = [];
    client.onEvent((e) => events.push(e));
    try {
      const info = await client.request("open-dropped", { path: file });
      const read = await client.request("read", { docId: info.docId, offset: 0, length: 6 });
      assert.equal(Buffer.from(read.bytes).toString(), "bridge");
      service.deliver({ event: "document-opened", docId: info.docId, info, reason: "test" });
      assert.equal(events[0]?.event, "document-opened");
    } finally {
      service.dispose();
    }
  });

  it("an IPC failure (rejected invoke) settles as EINTERNAL", async () => {
    const bridge: HexmapBridge = {
      request: () => Promise.reject(new Error("No handler registered")),
      onEvent: () => () => {},
      onMenuCommand: () => () => {},
      pathForFile: () => "",
    };
    const client = new ProtocolClient(bridgeTransport(bridge));
    await assert.rejects(client.request("list"), { code: "EINTERNAL" });
  });
});

describe("webSocketUrl", () => {
  it("takes the token from the page URL and the host from the page", () => {
    assert.equal(webSocketUrl({ protocol: "http:", host: "127.0.0.1:8123", search: "?token=abc_-D" }), "ws://127.0.0.1:8123/ws?token=abc_-D");
    assert.equal(webSocketUrl({ protocol: "http:", host: "localhost:1", search: "" }), "ws://localhost:1/ws");
    assert.equal(webSocketUrl({ protocol: "https:", host: "h:2", search: "?x=1&token=a%20b" }), "wss://h:2/ws?token=a%20b");
  });
});
