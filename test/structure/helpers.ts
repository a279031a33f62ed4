// Shared by the structure tests: run `hexmap struct` as users do, walk its JSON tree; a .ksy from
// text and a source that counts its reads.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadKsy, textResolver } from "../../app/structure/ksy";
import type { ParseSource } from "../../app/structure/parse";

export const root = path.resolve(__dirname, "..", "..", "..");
export const bin = path.join(root, "bin", "hexmap.js");

export interface Node {
  name: string;
  type: string;
  offset: number;
  size: number;
  value?: number | string | boolean | null;
  enum?: string | null;
  fields?: Node[];
  items?: Node[];
  error?: string;
  partial?: boolean;
  format?: string;
  edit?: { kind: string; size: number; signed?: boolean; le?: boolean; encoding?: string };
}

export interface StructRun {
  status: number | null;
  tree: Node | null;
  stdout: string;
  stderr: string;
}

export function struct(args: string[]): StructRun {
  const r = spawnSync(process.execPath, [bin, "struct", ...args], { encoding: "utf8", maxBuffer: 256 << 20 });
  let tree: Node | null = null;
  try {
    tree = JSON.parse(r.stdout) as Node;
  } catch {
    tree = null;
  }
  return { status: r.status, tree, stdout: r.stdout, stderr: r.stderr };
}

/** The child named `name` (a field), throwing with the names there are when missing. */
export function field(n: Node, name: string): Node {
  const f = n.fields?.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${n.name} (has ${(n.fields ?? []).map((x) => x.name).join(", ")})`);
  return f;
}

/** A path like "header.section_headers" → the node. */
export function at(n: Node, p: string): Node {
  return p.split(".").reduce((cur, name) => field(cur, name), n);
}

export function val(n: Node, name: string): number | string | boolean | null | undefined {
  return field(n, name).value;
}

export function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: "C" }, ...(input !== undefined ? { input } : {}) });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** Every node of the tree, depth first. */
export function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.fields ?? []) yield* walk(c);
  for (const c of n.items ?? []) yield* walk(c);
}

/** A .ksy from text, without imports. */
export const ksy = (text: string, name = "t"): ReturnType<typeof loadKsy> => loadKsy({ name, text }, textResolver([]));

/** A source that counts what is read. */
export function counting(bytes: Uint8Array): ParseSource & { reads: number; bytes: number } {
  const s = {
    size: bytes.length,
    reads: 0,
    bytes: 0,
    async read(offset: number, length: number) {
      s.reads++;
      s.bytes += length;
      return bytes.subarray(offset, offset + length);
    },
  };
  return s;
}
