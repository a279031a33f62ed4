// The Service's handler for `strings` (app/protocol/strings.ts): findStrings (app/engine/strings.ts)
// over the document as the user sees it — an editable file's snapshot, frozen when the job starts,
// so editing may go on meanwhile — streamed as `strings-found` batches, at most maxResults listed,
// every string counted.

import { isEditable } from "./edit-service";
import { HexmapError } from "./errors";
import { findStrings, type StringsSource } from "./strings";
import type { ServiceDocument } from "./service";
import type { Event } from "../protocol/messages";
import {
  MAX_STRINGS_LISTED,
  MAX_STRINGS_PER_EVENT,
  MAX_STRING_TEXT,
  type StringEntry,
  type StringsJobOp,
  type StringsRequest,
  type StringsResult,
} from "../protocol/strings";

export interface StringsContext {
  /** This client's open document (EBADDOC otherwise). */
  doc(docId: string): ServiceDocument;
  /** Runs `work` as a job of this client (job-progress events, cancel by jobId). */
  job<T>(docId: string, op: StringsJobOp, work: (progress: (done: number, total: number) => void, signal: AbortSignal, jobId: string) => Promise<T>): Promise<T>;
  deliver(event: Event): void;
}

/** strings-found at least this often while strings are being found. */
const FLUSH_MS = 100;

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The bytes a job reads, and the version they are. */
function source(doc: ServiceDocument): { src: StringsSource; version: number } {
  if (isEditable(doc)) {
    const snap = doc.editor.snapshot();
    return { src: snap, version: snap.version };
  }
  return { src: { size: doc.size, read: async (o, n) => asBuffer(await doc.read(o, n)) }, version: doc.generation };
}

export async function handleStringsRequest(req: StringsRequest, ctx: StringsContext): Promise<StringsResult> {
  const doc = ctx.doc(req.docId);
  const minLength = req.minLength ?? 4;
  const encoding = req.encoding ?? "ascii";
  const maxResults = Math.min(req.maxResults ?? MAX_STRINGS_LISTED, MAX_STRINGS_LISTED);
  const { src, version } = source(doc);
  return ctx.job(req.docId, "strings", async (progress, signal, jobId) => {
    let total = 0;
    let listed = 0;
    let batch: StringEntry[] = [];
    let lastFlush = Date.now();
    const flush = () => {
      if (batch.length > 0) ctx.deliver({ event: "strings-found", jobId, docId: req.docId, strings: batch });
      batch = [];
      lastFlush = Date.now();
    };
    // A string being collected over several parts (one longer than findStrings' part size), per encoding.
    const open: Record<"ascii" | "utf16le", StringEntry | null> = { ascii: null, utf16le: null };
    for await (const found of findStrings(src, { minLength, encoding, signal, onProgress: progress })) {
      for (const s of found) {
        const width = s.encoding === "utf16le" ? 2 : 1;
        const pending = open[s.encoding];
        let entry: StringEntry;
        if (s.continued && pending && pending.offset === s.offset) {
          entry = pending;
          entry.length += s.text.length * width;
          if (entry.text.length < MAX_STRING_TEXT) entry.text += s.text.slice(0, MAX_STRING_TEXT - entry.text.length);
        } else {
          entry = { offset: s.offset, length: s.text.length * width, encoding: s.encoding, text: s.text.slice(0, MAX_STRING_TEXT) };
        }
        if (entry.length / width > entry.text.length) entry.truncated = true;
        if (s.more) {
          open[s.encoding] = entry;
          continue;
        }
        open[s.encoding] = null;
        total++;
        if (listed < maxResults) {
          listed++;
          batch.push(entry);
          if (batch.length >= MAX_STRINGS_PER_EVENT) flush();
        }
      }
      if (Date.now() - lastFlush >= FLUSH_MS) flush();
    }
    if (signal.aborted) throw new HexmapError("ECANCELED", "The strings job was cancelled");
    flush();
    progress(src.size, src.size);
    return { docId: req.docId, total, listed, minLength, encoding, scanned: src.size, version };
  });
}
