// Parsing a document with a Kaitai Struct format, off the main thread and sandboxed.
//
// Why a worker that blocks on Atomics.wait: the runtime's API is synchronous (readU4le returns a
// number) while a document's snapshot reads asynchronously (mapped windows copied by the addon's
// async work; an edited document's pieces). So the parser runs in a worker thread and, for each
// chunk it lacks, writes the request into a SharedArrayBuffer and waits; this thread, woken by
// Atomics.waitAsync, reads the snapshot and copies the bytes in. The worker never opens the file
// (it could not: the generated code runs in a vm realm without require or process) and never
// holds more than its page cache; the host's event loop never blocks.
//
// Limits: a time limit (the worker is terminated), a heap limit (resourceLimits), a node cap
// (the tree is marked partial), cancel (terminate). Compiled code is cached by the .ksy texts.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { HexmapError } from "../engine/errors";
import { compileError, type LoadedKsy } from "./ksy";
import type { OutNode } from "./sandbox";
import type { ParseWorkerData, ParseWorkerMessage } from "./parse-worker";

export type StructNode = OutNode;

/** What a parse reads: a document snapshot (edits included), or any source of bytes. */
export interface ParseSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface ParseOptions {
  /** Where the root type starts (default 0). */
  offset?: number;
  /** Node cap (default 100 000): past it the tree is cut and marked partial. */
  maxNodes?: number;
  /** Byte arrays show at most this many bytes in hex (default 4096). */
  maxHexBytes?: number;
  /** Default 30 s. */
  timeoutMs?: number;
  /** Heap of the worker, MB (default 256). */
  memoryMb?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /** Generated code to run instead of compiling (tests of the sandbox: hostile code). */
  compiled?: { name: string; code: string }[];
}

export interface StructResult {
  format: string;
  tree: StructNode;
  /** The node cap was reached: the tree stops there. */
  partial: boolean;
  /** Why parsing stopped early (also at the failing node's `error`). */
  error?: string;
  nodes: number;
  /** Time in the compiler (0 when the code was cached). */
  compileMs: number;
  parseMs: number;
  bytesRead: number;
}

export const DEFAULT_MAX_NODES = 100_000;
export const MAX_NODES_LIMIT = 10_000_000;
const DATA_BYTES = 1024 * 1024;

/** Atomics.waitAsync (Node ≥ 16; typed in lib es2024, newer than this project's es2023). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

let sources: { runtime: string; sandbox: string } | null = null;

function workerSources(): { runtime: string; sandbox: string } {
  if (sources) return sources;
  const runtime = fs.readFileSync(require.resolve("kaitai-struct/KaitaiStream.js"), "utf8");
  const sandbox = fs.readFileSync(path.join(__dirname, "sandbox.js"), "utf8").replace(/\/\/# sourceMappingURL=.*$/m, "");
  sources = { runtime, sandbox };
  return sources;
}

const compiledCache = new Map<string, { name: string; code: string }[]>();
const CACHE_ENTRIES = 32;

function cacheKey(k: LoadedKsy): string {
  const h = createHash("sha256");
  for (const f of k.files) h.update(f.name).update("\0").update(f.text).update("\0");
  return h.digest("hex");
}

/** Parses `source` with `format`. Throws KsyError (EFORMAT) when the .ksy does not compile. */
export function parseStructure(source: ParseSource, format: LoadedKsy, options: ParseOptions = {}): Promise<StructResult> {
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > source.size) {
    return Promise.reject(new HexmapError("ERANGE", `Offset ${offset} is outside the document (size ${source.size})`));
  }
  const maxNodes = Math.max(1, Math.min(options.maxNodes ?? DEFAULT_MAX_NODES, MAX_NODES_LIMIT));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const key = cacheKey(format);
  const cached = options.compiled ?? compiledCache.get(key);
  const src = workerSources();
  const t0 = Date.now();
  const data: ParseWorkerData = {
    runtimeSource: src.runtime,
    sandboxSource: src.sandbox,
    specs: format.files.map((f) => ({ name: f.name, id: f.id, spec: f.spec })),
    params: JSON.stringify({
      root: format.types[0]!.path[0],
      types: format.types,
      docSize: source.size,
      offset,
      maxNodes,
      maxHexBytes: options.maxHexBytes ?? 4096,
      waitMs: timeoutMs + 5000,
    }),
    dataBytes: DATA_BYTES,
    ...(cached ? { compiled: cached } : {}),
  };

  return new Promise<StructResult>((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, "parse-worker.js"), {
      workerData: data,
      env: {},
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb ?? 256, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    });
    let settled = false;
    let compileMs = 0;
    let parseStart = Date.now();
    let f64: Float64Array | null = null;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(ticker);
      options.signal?.removeEventListener("abort", onAbort);
      void worker.terminate();
      fn();
    };
    const fail = (err: unknown) => finish(() => reject(err));
    const timer = setTimeout(() => fail(new HexmapError("ETOOBIG", `Parsing took longer than its time limit (${Math.round(timeoutMs / 1000)} s) and was stopped`)), timeoutMs);
    const ticker = setInterval(() => {
      if (f64 && options.onProgress) options.onProgress(Math.min(source.size, f64[5]!), source.size);
    }, 100);
    const onAbort = () => fail(new HexmapError("ECANCELED", "The parse was cancelled"));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort);

    const serve = async (sab: SharedArrayBuffer) => {
      const i32 = new Int32Array(sab, 0, 2);
      f64 = new Float64Array(sab, 0, 8);
      const bytes = new Uint8Array(sab, 64);
      while (!settled) {
        const st = Atomics.load(i32, 0);
        if (st !== 1) {
          const w = waitAsync(i32, 0, st, 1000);
          if (w.async) await w.value;
          continue;
        }
        const at = f64[1]!;
        const len = f64[2]!;
        try {
          // The request comes from the sandbox: check it like any untrusted input.
          if (!Number.isSafeInteger(at) || !Number.isSafeInteger(len) || at < 0 || len < 0 || len > bytes.length || at + len > source.size) {
            throw new HexmapError("ERANGE", `Read of ${len} bytes at ${at} is outside the document (size ${source.size})`);
          }
          const got = len === 0 ? new Uint8Array(0) : await source.read(at, len);
          if (settled) return;
          bytes.set(got.subarray(0, len));
          f64[3] = Math.min(got.length, len);
          Atomics.store(i32, 0, 2);
        } catch (err) {
          if (settled) return;
          const msg = Buffer.from(String((err as Error).message ?? err).slice(0, 4000), "latin1");
          bytes.set(msg.subarray(0, bytes.length));
          f64[3] = Math.min(msg.length, bytes.length);
          Atomics.store(i32, 0, 3);
        }
        Atomics.notify(i32, 0);
      }
    };

    worker.on("message", (m: ParseWorkerMessage) => {
      if (settled) return;
      switch (m.type) {
        case "compiled":
          compileMs = m.ms;
          parseStart = Date.now();
          compiledCache.set(key, m.files);
          if (compiledCache.size > CACHE_ENTRIES) compiledCache.delete(compiledCache.keys().next().value!);
          break;
        case "compile-error":
          fail(compileError(new Error(m.message), format, format.files[0]!.name));
          break;
        case "channel":
          serve(m.sab).catch(fail);
          break;
        case "fatal":
          fail(new HexmapError("EINVAL", `The parser failed: ${m.message}`));
          break;
        case "result": {
          let out: { tree?: StructNode; partial?: boolean; error?: string; nodes?: number; fatal?: string };
          try {
            out = JSON.parse(m.json) as typeof out;
          } catch {
            return fail(new HexmapError("EINTERNAL", "The parser sent a tree that is not JSON"));
          }
          if (out.fatal || !out.tree || typeof out.tree !== "object") return fail(new HexmapError("EINVAL", out.fatal ?? "The parser sent no tree"));
          const res: StructResult = {
            format: format.id,
            tree: out.tree,
            partial: out.partial === true,
            nodes: typeof out.nodes === "number" ? out.nodes : 0,
            compileMs,
            parseMs: Date.now() - parseStart,
            bytesRead: f64 ? f64[5]! : 0,
          };
          if (typeof out.error === "string") res.error = out.error;
          finish(() => resolve(res));
          break;
        }
      }
    });
    worker.on("error", (err: Error & { code?: string }) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") fail(new HexmapError("ETOOBIG", `Parsing needed more than its memory limit (${options.memoryMb ?? 256} MB) and was stopped; try a smaller --max-nodes`));
      else fail(new HexmapError("EINTERNAL", `The parse worker failed: ${err.message}`));
    });
    worker.on("exit", (code) => {
      if (!settled) fail(new HexmapError("EINTERNAL", `The parse worker stopped (exit code ${code})`));
    });
    void t0;
  });
}
