// The parse worker (started by parse.ts, never imported). Trusted code out here; the generated
// parser runs in a vm context inside (its own realm: no require, no process, no eval), which sees
// only the Kaitai runtime, sandbox.ts and the generated code. The worker itself was started with
// an empty environment and memory limits, and the host terminates it on a timeout or a cancel.
//
// Steps: compile the .ksy if the host has no cached code (the Kaitai compiler is trusted code),
// build the context, hand the host the context's SharedArrayBuffer (the only channel for bytes),
// evaluate the generated code, run the parse and post the tree as JSON text.

import * as vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";

export interface ParseWorkerData {
  runtimeSource: string;
  sandboxSource: string;
  /** Generated files (the host's cache), or absent: compile `specs`. */
  compiled?: { name: string; code: string }[];
  /** Parsed .ksy files, main first (for the compiler and its importer). */
  specs: { name: string; id: string; spec: unknown }[];
  /** JSON for sandbox.run(). */
  params: string;
  dataBytes: number;
}

export type ParseWorkerMessage =
  | { type: "compiled"; files: { name: string; code: string }[]; ms: number }
  | { type: "compile-error"; message: string }
  | { type: "channel"; sab: SharedArrayBuffer }
  | { type: "result"; json: string }
  | { type: "fatal"; message: string };

interface Compiler {
  compile(lang: string, spec: unknown, importer: { importYaml(name: string, mode: string): Promise<unknown> }, debug: boolean): Promise<Record<string, string>>;
}

async function compile(d: ParseWorkerData): Promise<{ name: string; code: string }[] | null> {
  if (d.compiled) return d.compiled;
  const t0 = Date.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ksc = require("kaitai-struct-compiler") as Compiler;
  const byName = new Map<string, unknown>();
  for (const s of d.specs) {
    byName.set(s.name, s.spec);
    byName.set(s.name.split("/").pop()!, s.spec);
    byName.set(s.id, s.spec);
  }
  const importer = {
    importYaml(name: string) {
      const n = name.replace(/^\.?\//, "").replace(/\.ksy$/, "");
      const spec = byName.get(n) ?? byName.get(n.split("/").pop()!);
      return spec ? Promise.resolve(structuredClone(spec)) : Promise.reject(new Error(`cannot find the import "${name}"`));
    },
  };
  try {
    const out = await ksc.compile("javascript", structuredClone(d.specs[0]!.spec), importer, true);
    const files = Object.entries(out).map(([name, code]) => ({ name, code }));
    parentPort!.postMessage({ type: "compiled", files, ms: Date.now() - t0 } satisfies ParseWorkerMessage);
    return files;
  } catch (err) {
    const e = err as { message?: unknown; s?: unknown };
    const message = typeof e?.message === "string" ? e.message : String(err);
    parentPort!.postMessage({ type: "compile-error", message } satisfies ParseWorkerMessage);
    return null;
  }
}

async function main(): Promise<void> {
  const d = workerData as ParseWorkerData;
  const files = await compile(d);
  if (!files) return;
  const ctx = vm.createContext(vm.constants.DONT_CONTEXTIFY, { codeGeneration: { strings: false, wasm: false } });
  vm.runInContext(d.runtimeSource, ctx, { filename: "KaitaiStream.js" });
  vm.runInContext(`(function (exports) {\n${d.sandboxSource}\n;globalThis.__hexmap = exports; })({});`, ctx, { filename: "sandbox.js" });
  const sab: unknown = vm.runInContext(`__hexmap.createChannel(${Number(d.dataBytes)})`, ctx);
  parentPort!.postMessage({ type: "channel", sab: sab as SharedArrayBuffer } satisfies ParseWorkerMessage);
  for (const f of files) vm.runInContext(f.code, ctx, { filename: f.name });
  // Only a string crosses back: JSON.parse on the host side, nothing of the context's objects.
  const json: unknown = vm.runInContext(`__hexmap.run(${JSON.stringify(d.params)})`, ctx);
  if (typeof json !== "string") throw new Error("the parser returned no tree");
  parentPort!.postMessage({ type: "result", json } satisfies ParseWorkerMessage);
}

main().catch((err: unknown) => {
  const e = err as { message?: unknown; name?: unknown };
  // The error may be an object of the context: read only its message, as text.
  let message = "the parser failed";
  try {
    message = typeof e?.message === "string" ? e.message : String(err);
  } catch {
    /* a hostile toString */
  }
  parentPort!.postMessage({ type: "fatal", message } satisfies ParseWorkerMessage);
});
