// The Service's handlers for app/protocol/structure.ts: the formats list, and `struct-parse` as a
// job over the document's snapshot (the edited bytes, frozen when the parse starts).

import { isEditable } from "../engine/edit-service";
import { HexmapError } from "../engine/errors";
import type { ServiceDocument } from "../engine/service";
import { STRUCT_PANEL_NODES, type StructJobOp, type StructParseResult, type StructRequest, type StructResultMap } from "../protocol/structure";
import { DETECT_BYTES, SHIPPED_FORMATS, detectFormat, loadShippedFormat } from "./formats";
import { loadKsy, textResolver } from "./ksy";
import { parseStructure, type ParseSource } from "./parse";

export interface StructContext {
  doc(docId: string): ServiceDocument;
  job<T>(docId: string, op: StructJobOp, work: (progress: (done: number, total: number) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
}

export const STRUCT_REQUEST_TYPES: ReadonlySet<string> = new Set(["struct-formats", "struct-parse"]);

function frozen(doc: ServiceDocument): ParseSource {
  return isEditable(doc) ? doc.editor.snapshot() : doc;
}

export async function handleStructRequest(req: StructRequest, ctx: StructContext): Promise<StructResultMap[StructRequest["type"]]> {
  if (req.type === "struct-formats") return { formats: SHIPPED_FORMATS.map((f) => ({ name: f.name, title: f.title })) };
  const doc = ctx.doc(req.docId);
  const generation = doc.generation;
  const source = frozen(doc);
  const offset = req.offset ?? 0;
  if (offset > source.size) throw new HexmapError("ERANGE", `Offset ${offset} is past the end of the document (size ${source.size})`);
  let detected = false;
  let format;
  switch (req.format.kind) {
    case "auto": {
      const head = await source.read(offset, DETECT_BYTES);
      const found = detectFormat(head);
      if (!found) {
        return { docId: req.docId, format: null, detected: true, tree: null, partial: false, nodes: 0, compileMs: 0, parseMs: 0, generation } satisfies StructParseResult;
      }
      detected = true;
      format = loadShippedFormat(found.name);
      break;
    }
    case "shipped":
      format = loadShippedFormat(req.format.name);
      break;
    case "ksy": {
      const files = req.format.files.map((f) => ({ name: f.name.replace(/\\/g, "/").replace(/\.ksy$/i, ""), text: f.text }));
      format = loadKsy(files[0]!, textResolver(files.slice(1)));
      break;
    }
  }
  const loaded = format;
  return ctx.job(req.docId, "struct-parse", async (progress, signal) => {
    const r = await parseStructure(source, loaded, { offset, maxNodes: req.maxNodes ?? STRUCT_PANEL_NODES, maxHexBytes: 64, signal, onProgress: progress, timeoutMs: 20_000 });
    const out: StructParseResult = {
      docId: req.docId,
      format: r.format,
      detected,
      tree: r.tree,
      partial: r.partial,
      nodes: r.nodes,
      compileMs: r.compileMs,
      parseMs: r.parseMs,
      generation,
    };
    if (r.error !== undefined) out.error = r.error;
    return out;
  });
}
