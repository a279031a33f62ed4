// The renderer's page cache: 64 KiB pages of a document, LRU, keyed by (docId, generation, page).
// A page of an older generation is never shown: a generation bump (edit, size change on disk)
// makes every old key unreachable, and dropDoc() frees them. Requests are de-duplicated while in
// flight; what the view wants next is queued visible pages first, then prefetch in the direction
// of travel, and the queue is replaced on every call so a fast scroll never waits behind pages
// it has already left.

import { FAILED, LOADING } from "./format";
import type { HexmapApi } from "./api";

export const PAGE_SIZE = 64 * 1024;
export const PAGE_CAPACITY = 256;
/** Concurrent reads in flight; more only queue up in the host. */
const MAX_IN_FLIGHT = 4;
/** A page that failed to read is retried after this long (an I/O error may be transient). */
const RETRY_MS = 3000;
/** A read the host refused as busy (EBUSY) is asked again after this long. */
const BUSY_RETRY_MS = 100;

export interface DocRef {
  docId: string;
  generation: number;
  size: number;
}

export interface PageCacheOptions {
  pageSize?: number;
  capacity?: number;
  /** Called when a reply reveals a newer generation/size than the caller knew (file changed). */
  onNewerGeneration?(docId: string, generation: number, size: number): void;
  /** Called when a page read fails. */
  onError?(docId: string, error: Error): void;
}

interface Job {
  key: string;
  doc: DocRef;
  page: number;
}

export class PageCache {
  readonly pageSize: number;
  readonly capacity: number;
  /** Bumps whenever a page arrives or is dropped: a cheap "something changed" for React. */
  version = 0;
  private readonly pages = new Map<string, Uint8Array>();
  private readonly failed = new Map<string, { at: number; error: Error }>();
  private readonly inFlight = new Set<string>();
  private queue: Job[] = [];
  private readonly listeners = new Set<() => void>();
  /** Counters for tests and the bench. */
  readonly stats = { requests: 0, hits: 0, misses: 0, evictions: 0, staleReplies: 0 };

  constructor(
    private readonly api: Pick<HexmapApi, "request">,
    private readonly options: PageCacheOptions = {},
  ) {
    this.pageSize = options.pageSize ?? PAGE_SIZE;
    this.capacity = options.capacity ?? PAGE_CAPACITY;
  }

  key(doc: DocRef, page: number): string {
    return `${doc.docId}:${doc.generation}:${page}`;
  }

  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    this.version++;
    for (const cb of [...this.listeners]) cb();
  }

  /** The page's bytes if cached (and marks it recently used). */
  get(doc: DocRef, page: number): Uint8Array | undefined {
    const key = this.key(doc, page);
    const bytes = this.pages.get(key);
    if (bytes) {
      this.pages.delete(key);
      this.pages.set(key, bytes);
    }
    return bytes;
  }

  has(doc: DocRef, page: number): boolean {
    return this.pages.has(this.key(doc, page));
  }

  pageCount(doc: DocRef): number {
    return Math.ceil(doc.size / this.pageSize);
  }

  /**
   * Copies bytes [offset, offset+length) into `out` as numbers, LOADING for bytes whose page is
   * not here yet and FAILED for bytes whose page could not be read. Spans page boundaries.
   */
  fill(doc: DocRef, offset: number, length: number, out: number[]): number[] {
    out.length = length;
    let i = 0;
    while (i < length) {
      const at = offset + i;
      const page = Math.floor(at / this.pageSize);
      const within = at - page * this.pageSize;
      const n = Math.min(length - i, this.pageSize - within);
      const bytes = this.get(doc, page);
      if (bytes) {
        for (let k = 0; k < n; k++) out[i + k] = within + k < bytes.length ? bytes[within + k]! : LOADING;
      } else {
        const mark = this.failed.has(this.key(doc, page)) ? FAILED : LOADING;
        for (let k = 0; k < n; k++) out[i + k] = mark;
      }
      i += n;
    }
    return out;
  }

  /**
   * Declares what the view needs now: `visible` pages first, then `prefetch`. Replaces any
   * earlier queue; pages already cached or in flight are skipped.
   */
  want(doc: DocRef, visible: number[], prefetch: number[] = []): void {
    const now = Date.now();
    const last = this.pageCount(doc) - 1;
    const jobs: Job[] = [];
    const seen = new Set<string>();
    for (const page of [...visible, ...prefetch]) {
      if (page < 0 || page > last) continue;
      const key = this.key(doc, page);
      if (seen.has(key)) continue;
      seen.add(key);
      if (this.pages.has(key) || this.inFlight.has(key)) continue;
      const failed = this.failed.get(key);
      if (failed && now - failed.at < RETRY_MS) continue;
      jobs.push({ key, doc, page });
    }
    this.queue = jobs;
    this.pump();
  }

  private pump(): void {
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length) {
      const job = this.queue.shift()!;
      if (this.pages.has(job.key) || this.inFlight.has(job.key)) continue;
      this.load(job);
    }
  }

  private load({ key, doc, page }: Job): void {
    const offset = page * this.pageSize;
    const length = Math.min(this.pageSize, doc.size - offset);
    if (length <= 0) return;
    this.inFlight.add(key);
    this.stats.requests++;
    this.api
      .request("read", { docId: doc.docId, offset, length })
      .then((result) => {
        this.failed.delete(key);
        if (result.generation !== doc.generation) {
          // The document changed while we asked. Keep the bytes under the generation they
          // belong to (the view will ask for it) and tell the owner about the change.
          this.stats.staleReplies++;
          if (result.generation > doc.generation) {
            const newer: DocRef = { docId: doc.docId, generation: result.generation, size: result.size };
            this.store(this.key(newer, page), result.bytes);
            this.options.onNewerGeneration?.(doc.docId, result.generation, result.size);
          }
          return;
        }
        this.store(key, result.bytes);
      })
      .catch((error: Error & { code?: string }) => {
        if (error.code === "EBUSY") {
          // The host is shedding load: not a failure of the page, ask again shortly.
          setTimeout(() => {
            if (this.pages.has(key) || this.inFlight.has(key) || this.queue.some((j) => j.key === key)) return;
            this.queue.unshift({ key, doc, page });
            this.pump();
          }, BUSY_RETRY_MS);
          return;
        }
        this.failed.set(key, { at: Date.now(), error });
        // A lost connection is reported once, by the app's connection banner, not per page.
        if (error.code !== "EDISCONNECTED") this.options.onError?.(doc.docId, error);
        this.changed();
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.pump();
      });
  }

  private store(key: string, bytes: Uint8Array): void {
    this.pages.set(key, bytes);
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value as string;
      this.pages.delete(oldest);
      this.stats.evictions++;
    }
    this.changed();
  }

  /**
   * The bytes [offset, offset+length) as one array, from cached pages where possible and with
   * direct reads (cached afterwards) for the rest. For copying a selection; rejects on a read error
   * or when the document changed meanwhile.
   */
  async read(doc: DocRef, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, Math.min(length, doc.size - offset)));
    const first = Math.floor(offset / this.pageSize);
    const last = Math.floor((offset + out.length - 1) / this.pageSize);
    for (let page = first; page <= last && out.length > 0; page++) {
      let bytes = this.get(doc, page);
      if (!bytes) {
        const at = page * this.pageSize;
        const result = await this.api.request("read", { docId: doc.docId, offset: at, length: Math.min(this.pageSize, doc.size - at) });
        if (result.generation !== doc.generation) throw new Error("The file changed while copying; try again");
        bytes = result.bytes;
        this.store(this.key(doc, page), bytes);
      }
      const pageStart = page * this.pageSize;
      const from = Math.max(offset, pageStart);
      const to = Math.min(offset + out.length, pageStart + bytes.length);
      if (to > from) out.set(bytes.subarray(from - pageStart, to - pageStart), from - offset);
    }
    return out;
  }

  /** Forgets every page of a document (all generations), e.g. on close or a generation bump. */
  dropDoc(docId: string, keepGeneration?: number): void {
    const prefix = `${docId}:`;
    const keep = keepGeneration === undefined ? null : `${docId}:${keepGeneration}:`;
    for (const map of [this.pages, this.failed] as Map<string, unknown>[]) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix) && !(keep && key.startsWith(keep))) map.delete(key);
    }
    this.queue = this.queue.filter((j) => j.doc.docId !== docId);
    this.changed();
  }

  get size(): number {
    return this.pages.size;
  }
}
