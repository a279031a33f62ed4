// An in-memory host for developing and unit-testing the renderer without the engine: virtual
// files whose bytes are a function of the offset, so a 64 GiB "file" costs nothing. Enabled by
// opening the page with #fake; never used by the real hosts.

import type { ConnectionState, HexmapApi, HostEvent } from "./api";
import { HostError } from "./api";
import type { DocumentInfo } from "../../app/protocol/messages";

export interface FakeFile {
  size: number;
  byteAt(offset: number): number;
}

/** A cheap, stable byte function: an integer hash of the offset (exact past 2^32). */
export function hashByte(offset: number): number {
  const lo = offset % 0x100000000;
  const hi = Math.floor(offset / 0x100000000);
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 16;
  return h & 0xff;
}

export function defaultFakeFiles(): Map<string, FakeFile | "dir"> {
  const text = new TextEncoder().encode("Hello, Hexmap!\nThis is a small text file used by the fake host.\n");
  return new Map<string, FakeFile | "dir">([
    ["/demo/big.bin", { size: 64 * 1024 ** 3, byteAt: hashByte }],
    ["/demo/tera.bin", { size: 1024 ** 4, byteAt: hashByte }],
    ["/demo/empty.bin", { size: 0, byteAt: () => 0 }],
    ["/demo/hello.txt", { size: text.length, byteAt: (o) => text[o] ?? 0 }],
    ["/demo", "dir"],
  ]);
}

export function fakeApi(files = defaultFakeFiles(), latencyMs = 15): HexmapApi {
  const docs = new Map<string, DocumentInfo & { file: FakeFile }>();
  const events = new Set<(e: HostEvent) => void>();
  let nextDoc = 1;
  const delay = () => new Promise((r) => setTimeout(r, latencyMs));

  function doc(docId: string) {
    const d = docs.get(docId);
    if (!d) throw new HostError({ code: "EBADDOC", message: `No open document ${docId}` });
    return d;
  }
  function info(d: DocumentInfo & { file: FakeFile }): DocumentInfo {
    const { file: _file, ...rest } = d;
    return rest;
  }
  function open(path: string): DocumentInfo {
    const f = files.get(path);
    if (f === undefined) throw new HostError({ code: "ENOENT", message: `No such file: ${path}` });
    if (f === "dir") throw new HostError({ code: "EISDIR", message: `${path} is a directory` });
    const d = { docId: `d${nextDoc++}`, kind: "file" as const, name: path, size: f.size, readOnly: true, generation: 1, file: f };
    docs.set(d.docId, d);
    return info(d);
  }

  const api: HexmapApi = {
    host: "fake",
    async request(type, params) {
      await delay();
      const p = params as Record<string, unknown>;
      switch (type) {
        case "open":
        case "open-dropped":
          return open(String(p.path)) as never;
        case "list":
          return { documents: [...docs.values()].map(info) } as never;
        case "info":
          return info(doc(String(p.docId))) as never;
        case "close": {
          doc(String(p.docId));
          docs.delete(String(p.docId));
          return { docId: p.docId } as never;
        }
        case "read": {
          const d = doc(String(p.docId));
          const offset = Number(p.offset);
          if (offset > d.size) throw new HostError({ code: "ERANGE", message: "Read past the end" });
          const n = Math.min(Number(p.length), d.size - offset);
          const bytes = new Uint8Array(n);
          for (let i = 0; i < n; i++) bytes[i] = d.file.byteAt(offset + i);
          return { docId: d.docId, offset, bytes, generation: d.generation, size: d.size } as never;
        }
        default:
          throw new HostError({ code: "ENOTSUP", message: `Unsupported request ${String(type)}` });
      }
    },
    onEvent(cb) {
      events.add(cb);
      return () => events.delete(cb);
    },
    onMenuCommand: () => () => {},
    onConnection(cb: (state: ConnectionState) => void) {
      cb("open");
      return () => {};
    },
    pathForFile: () => null,
  };
  return api;
}
