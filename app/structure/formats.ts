// The formats Hexmap ships (app/structure/formats/*.ksy, written for this project) and how a file
// is matched to one by its first bytes. The .ksy files are read at run time from the source tree
// (dist/app/structure/ → ../../../app/structure/formats), which is also where the packaged app
// keeps them (electron-builder.yml lists the folder).

import * as fs from "node:fs";
import * as path from "node:path";
import { HexmapError } from "../engine/errors";
import { loadKsy, textResolver, type KsyText, type LoadedKsy } from "./ksy";

export interface ShippedFormat {
  name: string;
  title: string;
  /** Magic bytes at offset `at`. */
  magic: number[];
  at: number;
}

export const SHIPPED_FORMATS: readonly ShippedFormat[] = [
  { name: "elf", title: "ELF executable / object (32/64-bit, both byte orders)", magic: [0x7f, 0x45, 0x4c, 0x46], at: 0 },
  { name: "pe", title: "Windows PE executable (MZ, COFF, optional header, sections)", magic: [0x4d, 0x5a], at: 0 },
  { name: "png", title: "PNG image (chunks)", magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], at: 0 },
  { name: "zip", title: "ZIP archive (local headers, central directory)", magic: [0x50, 0x4b, 0x03, 0x04], at: 0 },
  { name: "gzip", title: "gzip stream (header, deflate body, trailer)", magic: [0x1f, 0x8b], at: 0 },
];

/** Bytes detection looks at. */
export const DETECT_BYTES = 16;

export function formatsDir(): string {
  const candidates = [path.join(__dirname, "formats"), path.resolve(__dirname, "../../../app/structure/formats"), path.resolve(__dirname, "../../app/structure/formats")];
  for (const c of candidates) if (fs.existsSync(path.join(c, "elf.ksy"))) return c;
  throw new HexmapError("ENOENT", `The shipped .ksy formats are missing (looked in ${candidates.join(", ")})`);
}

/** The shipped format whose magic `head` (the document's first bytes) starts with, or null. */
export function detectFormat(head: Uint8Array): ShippedFormat | null {
  for (const f of SHIPPED_FORMATS) {
    if (head.length < f.at + f.magic.length) continue;
    if (f.magic.every((b, i) => head[f.at + i] === b)) return f;
  }
  // An empty ZIP is only its end-of-central-directory record.
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x05 && head[3] === 0x06) return SHIPPED_FORMATS.find((f) => f.name === "zip")!;
  return null;
}

const loadedCache = new Map<string, LoadedKsy>();

/** Reads and describes a shipped format (with its imports, all from the formats folder). */
export function loadShippedFormat(name: string): LoadedKsy {
  const hit = loadedCache.get(name);
  if (hit) return hit;
  if (!SHIPPED_FORMATS.some((f) => f.name === name)) {
    throw new HexmapError("EINVAL", `Unknown format ${JSON.stringify(name)} (shipped: ${SHIPPED_FORMATS.map((f) => f.name).join(", ")})`);
  }
  const dir = formatsDir();
  const files: KsyText[] = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ksy"))
    .map((f) => ({ name: f.slice(0, -4), text: fs.readFileSync(path.join(dir, f), "utf8") }));
  const main = files.find((f) => f.name === name)!;
  const loaded = loadKsy(main, textResolver(files));
  loadedCache.set(name, loaded);
  return loaded;
}
