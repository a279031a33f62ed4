// .ksy sources: parsing the YAML (with line numbers for every error), resolving `meta.imports`,
// and describing each type for the tree (the generated JavaScript keeps no declared types: a
// u4 and an f4 are both Numbers). Compiling itself happens in the parse worker (compile.ts is
// what it calls), never on the host's main thread.
//
// Imports are resolved by a KsyResolver: from files (the main .ksy's folder, then a user folder)
// for the command line, or from texts the user uploaded (the renderer sends file contents, never
// paths: the browser host cannot show a native file dialog, and a path from the renderer must not
// let it read files it was not given).

import * as fs from "node:fs";
import * as path from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from "yaml";
import { HexmapError } from "../engine/errors";
import type { FieldDesc, TypeDesc } from "./sandbox";

/** One .ksy file's text, named as imports name it (without the .ksy extension, "/"-separated). */
export interface KsyText {
  name: string;
  text: string;
}

export interface KsyResolver {
  /** The text of import `name` ("rel": next to the importing file; "abs": from the user folder), or null. */
  resolve(name: string, mode: "rel" | "abs"): KsyText | null;
}

/** Largest .ksy text accepted (a big public one, e.g. a whole file system, is a few hundred KB). */
export const MAX_KSY_BYTES = 2 * 1024 * 1024;
/** Most .ksy files one format may import (transitively). */
export const MAX_KSY_FILES = 64;

export class KsyError extends HexmapError {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number | null,
  ) {
    super("EFORMAT", message);
  }
}

/** Resolves imports from a folder (the main file's) and an optional user folder, only `.ksy` files. */
export function folderResolver(dirs: readonly string[]): KsyResolver {
  return {
    resolve(name, mode) {
      if (!/^[A-Za-z0-9_./-]+$/.test(name) || name.split("/").includes("..") && mode === "abs") return null;
      const order = mode === "abs" ? [...dirs.slice(1), dirs[0]!] : dirs;
      for (const dir of order) {
        if (!dir) continue;
        const file = path.resolve(dir, `${name}.ksy`);
        try {
          const st = fs.statSync(file);
          if (!st.isFile() || st.size > MAX_KSY_BYTES) continue;
          return { name, text: fs.readFileSync(file, "utf8") };
        } catch {
          /* next folder */
        }
      }
      return null;
    },
  };
}

/** Resolves imports from uploaded texts, by file name (with or without folders, with or without .ksy). */
export function textResolver(files: readonly KsyText[]): KsyResolver {
  const byName = new Map<string, KsyText>();
  for (const f of files) {
    const n = f.name.replace(/\\/g, "/").replace(/\.ksy$/i, "");
    byName.set(n, f);
    byName.set(n.split("/").pop()!, f);
  }
  return {
    resolve(name) {
      const n = name.replace(/^\.\//, "");
      return byName.get(n) ?? byName.get(n.split("/").pop()!) ?? null;
    },
  };
}

export interface LoadedKsy {
  /** The main file first, then every import, each once. */
  files: { name: string; text: string; spec: Record<string, unknown>; id: string }[];
  /** The main file's meta.id. */
  id: string;
  types: TypeDesc[];
}

interface Parsed {
  spec: Record<string, unknown>;
  lines: LineCounter;
  doc: ReturnType<typeof parseDocument>;
}

const parsedCache = new WeakMap<KsyText, Parsed>();

function parseKsy(f: KsyText): Parsed {
  const hit = parsedCache.get(f);
  if (hit) return hit;
  if (Buffer.byteLength(f.text) > MAX_KSY_BYTES) throw new KsyError(`${f.name}.ksy is larger than ${MAX_KSY_BYTES} bytes`, f.name, null);
  const lines = new LineCounter();
  const doc = parseDocument(f.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? null;
    throw new KsyError(`${f.name}.ksy${line ? ` line ${line}` : ""}: ${err.message.split("\n")[0]!.replace(/:\s*$/, "")}`, f.name, line);
  }
  const spec = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) throw new KsyError(`${f.name}.ksy: not a Kaitai Struct file (the top level must be a mapping with meta, seq, types…)`, f.name, 1);
  const p = { spec: spec as Record<string, unknown>, lines, doc };
  parsedCache.set(f, p);
  return p;
}

function metaOf(spec: Record<string, unknown>): Record<string, unknown> {
  const m = spec.meta;
  return m && typeof m === "object" && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

/** Reads the main file and all its imports; throws KsyError with file and line. */
export function loadKsy(main: KsyText, resolver: KsyResolver): LoadedKsy {
  const files: LoadedKsy["files"] = [];
  const seen = new Set<string>();
  const visit = (f: KsyText, from: string | null) => {
    const p = parseKsy(f);
    const meta = metaOf(p.spec);
    const id = typeof meta.id === "string" ? meta.id : from === null ? "" : f.name.split("/").pop()!;
    if (seen.has(id)) return;
    seen.add(id);
    if (files.length >= MAX_KSY_FILES) throw new KsyError(`More than ${MAX_KSY_FILES} .ksy files are imported`, f.name, null);
    files.push({ name: f.name, text: f.text, spec: p.spec, id });
    const imports = Array.isArray(meta.imports) ? meta.imports : [];
    imports.forEach((imp, i) => {
      if (typeof imp !== "string") return;
      const mode = imp.startsWith("/") ? "abs" : "rel";
      const name = imp.replace(/^\//, "");
      const got = resolver.resolve(name, mode);
      if (!got) {
        const line = lineOf(p, ["meta", "imports", i]);
        throw new KsyError(`${f.name}.ksy${line ? ` line ${line}` : ""}: cannot find the import "${imp}" (${imp}.ksy next to the file or in the import folder)`, f.name, line);
      }
      visit(got, f.name);
    });
  };
  visit(main, null);
  const first = files[0]!;
  if (!first.id) throw new KsyError(`${main.name}.ksy: meta/id is missing`, main.name, lineOf(parseKsy(main), ["meta"]) ?? 1);
  const types: TypeDesc[] = [];
  for (const f of files) describe(f.spec, [camel(f.id)], f.id, null, types);
  return { files, id: first.id, types };
}

/** The line (1-based) of a YAML path in a parsed file, or null. */
function lineOf(p: Parsed, at: (string | number)[]): number | null {
  let node: unknown = p.doc.contents;
  let best: number | null = null;
  for (const key of at) {
    if (isMap(node)) {
      const pair = node.items.find((it) => String((it.key as { value?: unknown } | null)?.value ?? it.key) === String(key));
      if (!pair) break;
      const k = pair.key as YamlNode | null;
      if (k?.range) best = p.lines.linePos(k.range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)] as YamlNode | undefined;
      if (!item) break;
      if (item.range) best = p.lines.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return best;
}

/**
 * The compiler's message ("(main): /seq/0/type:\n\terror: unable to find type 'foo'") with the
 * file and line of the YAML path it names.
 */
export function compileError(err: unknown, loaded: LoadedKsy, mainName: string): KsyError {
  const raw = String((err as { message?: unknown } | null)?.message ?? err);
  const text = raw.replace(/^io\.kaitai\.struct\.problems\.CompilationProblemException:\s*/, "").replace(/^[a-zA-Z.$]+Exception:\s*/, "");
  const m = /^\s*(\S+?):\s*(\/[^\s:]*):?\s*(?:error:)?\s*([\s\S]*)$/.exec(text.replace(/\n\s*error:\s*/, " error: "));
  if (!m) return new KsyError(`${mainName}.ksy: ${text.trim()}`, mainName, null);
  const [, who, ypath, why] = m;
  const file = loaded.files.find((f) => f.id === who) ?? loaded.files[0]!;
  const segs = ypath!.split("/").filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let line: number | null = null;
  try {
    line = lineOf(parseKsy({ name: file.name, text: file.text }), segs);
  } catch {
    line = null;
  }
  const reason = why!.replace(/^error:\s*/, "").trim();
  return new KsyError(`${file.name}.ksy${line ? ` line ${line}` : ""} (${ypath}): ${reason}`, file.name, line);
}

/** Kaitai's class names: section_header → SectionHeader. */
export function camel(id: string): string {
  return id
    .split("_")
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : ""))
    .join("");
}

/** Kaitai's JavaScript property names: ofs_body → ofsBody. */
export function lowerCamel(id: string): string {
  const c = camel(id);
  return c ? c[0]!.toLowerCase() + c.slice(1) : c;
}

function endianOf(meta: Record<string, unknown>, inherited: TypeDesc["endian"]): TypeDesc["endian"] {
  const e = meta.endian;
  if (e === "le" || e === "be") return e;
  if (e && typeof e === "object") return "switch";
  return inherited;
}

function fieldDesc(attr: Record<string, unknown>, isInstance: boolean): FieldDesc {
  if (isInstance && attr.value !== undefined) return { type: "value", value: true };
  if (attr.contents !== undefined) return { type: "contents" };
  const t = attr.type;
  if (typeof t === "string") {
    if (t === "str" || t === "strz") {
      const d: FieldDesc = { type: "str" };
      if (typeof attr.encoding === "string") d.encoding = attr.encoding;
      if (t === "str" && attr.size !== undefined && attr.terminator === undefined) d.fixedSize = true;
      return d;
    }
    return { type: t };
  }
  if (t && typeof t === "object") {
    const cases = (t as { cases?: unknown }).cases;
    return { type: "switch", cases: cases && typeof cases === "object" ? Object.values(cases as Record<string, unknown>).map(String) : [] };
  }
  return { type: "bytes" };
}

function describe(spec: Record<string, unknown>, cls: string[], name: string, inherited: TypeDesc["endian"], out: TypeDesc[]): void {
  const meta = metaOf(spec);
  const endian = endianOf(meta, inherited);
  const fields: Record<string, FieldDesc> = {};
  const seq = Array.isArray(spec.seq) ? spec.seq : [];
  for (const a of seq) {
    if (a && typeof a === "object" && typeof (a as { id?: unknown }).id === "string") {
      const id = (a as { id: string }).id;
      fields[lowerCamel(id)] = { ...fieldDesc(a as Record<string, unknown>, false), id };
    }
  }
  const instances: string[] = [];
  const inst = spec.instances;
  if (inst && typeof inst === "object" && !Array.isArray(inst)) {
    for (const [id, a] of Object.entries(inst as Record<string, unknown>)) {
      if (!a || typeof a !== "object") continue;
      instances.push(lowerCamel(id));
      fields[lowerCamel(id)] = { ...fieldDesc(a as Record<string, unknown>, true), id };
    }
  }
  out.push({ path: cls, name, endian, fields, instances });
  const types = spec.types;
  if (types && typeof types === "object" && !Array.isArray(types)) {
    for (const [id, t] of Object.entries(types as Record<string, unknown>)) {
      if (t && typeof t === "object" && !Array.isArray(t)) describe(t as Record<string, unknown>, [...cls, camel(id)], id, endian, out);
    }
  }
}

/** Reads a .ksy from disk for the CLI / Electron shell: imports from its folder, then `importDir`. */
export function loadKsyFile(file: string, importDir?: string): { main: KsyText; resolver: KsyResolver } {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new HexmapError("EISDIR", `${file} is a folder, not a .ksy file`);
    if (st.size > MAX_KSY_BYTES) throw new KsyError(`${file} is larger than ${MAX_KSY_BYTES} bytes`, file, null);
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof HexmapError) throw err;
    throw new HexmapError("ENOENT", `Cannot read the .ksy file ${file}: ${(err as Error).message}`);
  }
  const dirs = [path.dirname(path.resolve(file))];
  if (importDir) dirs.push(path.resolve(importDir));
  return { main: { name: path.basename(file).replace(/\.ksy$/i, ""), text }, resolver: folderResolver(dirs) };
}
