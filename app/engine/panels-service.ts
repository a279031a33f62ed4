// The Service's handlers for the panel requests of app/protocol/panels.ts: byte map, histogram,
// checksums, compare, export (jobs: progress events, cancel), and bookmarks (a JSON store in the
// user's config folder). The Service hands in how to find this client's documents and how to run
// a job; everything here is plain engine code over ByteSources (edits applied when editable).

import { buildByteMap, byteHistogram, type ByteMapSnapshot } from "./bytemap";
import { BookmarkStore } from "./bookmarks";
import { countDifferences, findNextDifference, findPreviousDifference } from "./compare";
import { isEditable } from "./edit-service";
import { HexmapError } from "./errors";
import { exportRange } from "./export";
import { hashRange } from "./hash";
import type { ServiceDocument } from "./service";
import type { Event } from "../protocol/messages";
import type { ByteMapData, PanelJobOp, PanelRequest, PanelResultMap } from "../protocol/panels";

export interface PanelContext {
  /** This client's open document (EBADDOC otherwise). */
  doc(docId: string): ServiceDocument;
  /**
   * Runs `work` as a job of this client (job-progress events, cancel by jobId). It also ends when
   * `docId`, or one of `otherDocIds` (the second document of a compare), is closed.
   */
  job<T>(
    docId: string,
    op: PanelJobOp,
    work: (progress: (done: number, total: number) => void, signal: AbortSignal, jobId: string) => Promise<T>,
    otherDocIds?: readonly string[],
  ): Promise<T>;
  deliver(event: Event): void;
  bookmarks: BookmarkStore;
}

export const PANEL_REQUEST_TYPES: ReadonlySet<string> = new Set(["bytemap", "histogram", "hash", "compare", "export", "bookmarks-get", "bookmarks-set"]);

function mapData(docId: string, m: ByteMapSnapshot): ByteMapData {
  return {
    docId,
    size: m.size,
    slices: m.slices,
    classes: Array.from(m.classes),
    entropy: Array.from(m.entropy, (h) => Math.round(h * 100) / 100),
    pass: m.pass,
    done: m.done,
  };
}

/**
 * What a job reads: an edited file's snapshot (the bytes the user sees, frozen when the job
 * starts, so editing may go on meanwhile), else the document itself.
 */
function frozen(doc: ServiceDocument): { readonly size: number; read(offset: number, length: number): Promise<Uint8Array> } {
  return isEditable(doc) && !doc.readOnly ? doc.editor.snapshot() : doc;
}

function bookmarkTarget(doc: ServiceDocument) {
  return { kind: doc.kind === "shm" ? ("shm" as const) : ("file" as const), name: doc.name, size: doc.size };
}

export async function handlePanelRequest(req: PanelRequest, ctx: PanelContext): Promise<PanelResultMap[PanelRequest["type"]]> {
  switch (req.type) {
    case "bytemap": {
      const doc = ctx.doc(req.docId);
      return ctx.job(req.docId, "bytemap", async (progress, signal, jobId) => {
        const final = await buildByteMap(frozen(doc), {
          slices: Math.max(1, req.slices),
          signal,
          progressIntervalMs: 150,
          onProgress: (m) => {
            progress(m.reads, m.totalReads);
            if (!m.done) ctx.deliver({ event: "bytemap-partial", jobId, docId: req.docId, map: mapData(req.docId, m) });
          },
        });
        if (doc.size === 0) return { docId: req.docId, size: 0, slices: 0, classes: [], entropy: [], pass: 0, done: true };
        return mapData(req.docId, final);
      });
    }
    case "histogram": {
      const doc = ctx.doc(req.docId);
      if (req.offset > doc.size) throw new HexmapError("ERANGE", `Offset ${req.offset} is past the end of the document (size ${doc.size})`);
      return ctx.job(req.docId, "histogram", async (progress, signal) => {
        const r = await byteHistogram(frozen(doc), { offset: req.offset, length: req.length, signal, onProgress: progress });
        return { docId: req.docId, offset: r.offset, length: r.length, counts: r.counts, entropy: r.entropy };
      });
    }
    case "hash": {
      const doc = ctx.doc(req.docId);
      if ((req.offset ?? 0) > doc.size) throw new HexmapError("ERANGE", `Offset ${req.offset} is past the end of the document (size ${doc.size})`);
      return ctx.job(req.docId, "hash", async (progress, signal) => {
        const r = await hashRange(frozen(doc), { offset: req.offset, length: req.length, algorithms: req.algorithms, signal, onProgress: progress });
        return { docId: req.docId, offset: r.offset, length: r.length, digests: r.digests };
      });
    }
    case "compare": {
      const a = frozen(ctx.doc(req.docId));
      const b = frozen(ctx.doc(req.otherDocId));
      const common = Math.min(a.size, b.size);
      if (req.op !== "previous" && req.from > common) {
        throw new HexmapError("ERANGE", `Offset ${req.from} is past the end of the shorter document (size ${common})`);
      }
      return ctx.job(req.docId, "compare", async (progress, signal) => {
        const eof = a.size === b.size ? null : a.size < b.size ? { shorter: "a" as const, at: a.size } : { shorter: "b" as const, at: b.size };
        const opts = { signal, onProgress: progress };
        switch (req.op) {
          case "next":
            return { op: req.op, from: req.from, difference: await findNextDifference(a, b, { ...opts, from: req.from, length: req.length }), eof };
          case "previous":
            return { op: req.op, from: req.from, difference: await findPreviousDifference(a, b, { ...opts, before: req.from }), eof };
          case "count": {
            const r = await countDifferences(a, b, { ...opts, from: req.from, length: req.length });
            return { op: req.op, from: r.from, length: r.length, differences: r.differences, eof };
          }
        }
      }, [req.otherDocId]);
    }
    case "export": {
      const doc = ctx.doc(req.docId);
      if (req.offset > doc.size) throw new HexmapError("ERANGE", `Offset ${req.offset} is past the end of the document (size ${doc.size})`);
      return ctx.job(req.docId, "export", async (progress, signal) => {
        const r = await exportRange(frozen(doc), req.offset, req.length, req.path, {
          signal,
          onProgress: progress,
          overwrite: req.overwrite === true,
          ...(doc.kind === "file" ? { sourcePath: doc.name } : {}),
        });
        return { docId: req.docId, path: r.path, bytesWritten: r.bytesWritten, durationMs: Math.round(r.durationMs) };
      });
    }
    case "bookmarks-get": {
      const doc = ctx.doc(req.docId);
      return { docId: req.docId, bookmarks: ctx.bookmarks.get(bookmarkTarget(doc)) };
    }
    case "bookmarks-set": {
      const doc = ctx.doc(req.docId);
      return { docId: req.docId, bookmarks: ctx.bookmarks.set(bookmarkTarget(doc), req.bookmarks) };
    }
  }
}
