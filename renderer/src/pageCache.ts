// The renderer's page cache: 64 KiB pages of a document, LRU, keyed by (docId, generation, page).
// A page of an older generation is never shown: a generation bump (edit, size change on disk)
// makes every old key unreachable, and dropDoc() frees them. Requests are de-duplicated while in
// flight; what the view wants next is queued visible pages first, then prefetch in the direction
// of travel, and the queue is replaced on every call so a fast scroll never waits behind pages
// it has already left.
//
// Edits that change the size (insert, delete, a replace of another length) shift every byte after
// them, so a page from before such an edit is never shown for a later generation at or after the
// edit's start ("cuts"): only the pages wholly before it carry over. A few pages from the start
// on are rebuilt at once from the old pages and the bytes the edit inserted (typing shows without
// a placeholder flash); they are provisional and re-read in the background, like any other page.

import { FAILED, LOADING } from "./format";
import type { HexmapApi } from "./api";

export const PAGE_SIZE = 64 * 1024;
export const PAGE_CAPACITY = 256;
/** Pages from a shifting edit's start rebuilt at once (the rest are dropped and re-read). */
export const REMAP_PAGES = 4;

/** Per-byte marks: as on disk, an unsaved overwrite, an unsaved insert (the decoration layer's colours). */
export const MARK_NONE = 0;
export const MARK_EDITED = 1;
export const MARK_INSERTED = 2;
/** Concurrent reads in flight; more only queue up in the host. */
const MAX_IN_FLIGHT = 4;
/** A page that failed to read is retried after this long (an I/O error may be transient). */
const RETRY_MS = 3000;
/** A read the host refused as busy (EBUSY) is asked again after this long. */
const BUSY_RETRY_MS = 100;

/**
 * Bytes the user just typed, shown at once over whatever page is on screen (optimistic editing).
 * `gen` is null while the edit is in flight, then the generation the host gave it: the patch
 * applies only over pages older than that (a page of `gen` or later already holds it).
 */
export interface Patch {
  docId: string;
  offset: number;
  bytes: Uint8Array;
  /** Per byte: MARK_EDITED (1) or MARK_INSERTED (2) to show it so, 0 for neither. */
  edited: Uint8Array;
  gen: number | null;
}

/**
 * A change that moved the bytes after `start` (replace(start, deleted, inserted) with
 * deleted ≠ inserted). Without `deleted`/`inserted`, only the pages wholly before `start` survive.
 */
export interface Shift {
  start: number;
  /** The document's size after the change. */
  size: number;
  deleted?: number;
  inserted?: number;
  /** Bytes [from, from + length) of the inserted run (typed, pasted, a fill's pattern), when known. */
  bytes?: (from: number, length: number) => Uint8Array;
  /** Marks of the inserted run: one for all (default MARK_INSERTED), or per byte. */
  mark?: number | ((from: number, length: number) => Uint8Array);
}

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
  /** Per page key: a mark per byte (MARK_EDITED, MARK_INSERTED; absent = none marked). */
  private readonly masks = new Map<string, Uint8Array>();
  /** Per document: generations at which a shifting edit moved every byte from `start` on. */
  private readonly cuts = new Map<string, { gen: number; start: number }[]>();
  /** Per document: pages older than this generation are not kept (late replies are dropped). */
  private readonly minGen = new Map<string, number>();
  /** Page keys rebuilt locally after a shift: shown, and re-read when the view wants them. */
  private readonly provisional = new Set<string>();
  /** "docId:page" → generation of the newest copy of that page held (shown while a newer one loads). */
  private readonly latest = new Map<string, number>();
  private patches: Patch[] = [];
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
  fill(doc: DocRef, offset: number, length: number, out: number[], edited?: number[]): number[] {
    out.length = length;
    if (edited) edited.length = length;
    let i = 0;
    while (i < length) {
      const at = offset + i;
      const page = Math.floor(at / this.pageSize);
      const within = at - page * this.pageSize;
      const n = Math.min(length - i, this.pageSize - within);
      let key = this.key(doc, page);
      let bytes: Uint8Array | undefined;
      let shownGen = doc.generation;
      // A newer copy than asked for (carried over by an edit the app has not rendered yet) wins.
      const newest = this.latest.get(`${doc.docId}:${page}`);
      if (newest !== undefined && newest > doc.generation && this.pages.has(`${doc.docId}:${newest}:${page}`) && this.usable(doc.docId, newest, doc.generation, page)) {
        key = `${doc.docId}:${newest}:${page}`;
        bytes = this.pages.get(key);
        shownGen = newest;
      } else bytes = this.get(doc, page);
      if (!bytes) {
        // While the page of this generation loads, show the newest copy held (after an edit,
        // undo or save): never a placeholder flash over bytes we had a moment ago.
        const g = this.latest.get(`${doc.docId}:${page}`);
        const k = g === undefined ? undefined : `${doc.docId}:${g}:${page}`;
        if (k !== undefined && this.pages.has(k) && this.usable(doc.docId, g!, doc.generation, page)) {
          key = k;
          bytes = this.pages.get(k);
          shownGen = g!;
        }
      }
      if (bytes) {
        const mask = edited ? this.masks.get(key) : undefined;
        for (let k = 0; k < n; k++) {
          out[i + k] = within + k < bytes.length ? bytes[within + k]! : LOADING;
          if (edited) edited[i + k] = mask ? mask[within + k]! : 0;
        }
      } else {
        const mark = this.failed.has(this.key(doc, page)) ? FAILED : LOADING;
        for (let k = 0; k < n; k++) {
          out[i + k] = mark;
          if (edited) edited[i + k] = 0;
        }
      }
      for (const p of this.patches) {
        if (p.docId !== doc.docId || (p.gen !== null && p.gen <= shownGen && bytes)) continue;
        const from = Math.max(p.offset, at);
        const to = Math.min(p.offset + p.bytes.length, at + n);
        for (let x = from; x < to; x++) {
          if (out[x - offset]! < 0 && !bytes) continue; // nothing under it yet: keep the placeholder
          out[x - offset] = p.bytes[x - p.offset]!;
          if (edited) edited[x - offset] = p.edited[x - p.offset]!;
        }
      }
      i += n;
    }
    return out;
  }

  /** May a copy of `page` from generation `g` stand in for generation `want`? Not across a shift at or before its end. */
  private usable(docId: string, g: number, want: number, page: number): boolean {
    if (g === want) return true;
    const lo = Math.min(g, want);
    const hi = Math.max(g, want);
    const end = (page + 1) * this.pageSize;
    for (const c of this.cuts.get(docId) ?? []) if (c.gen > lo && c.gen <= hi && c.start < end) return false;
    return true;
  }

  /**
   * Generation `gen` moved every byte from `start` on (an edit by another client, a change whose
   * range is unknown): no older page at or after `start` stands in for it or anything later.
   */
  cut(docId: string, gen: number, start = 0): void {
    const list = this.cuts.get(docId) ?? [];
    list.push({ gen, start });
    const min = this.minGen.get(docId) ?? -Infinity;
    this.cuts.set(
      docId,
      list.filter((c) => c.gen > min).slice(-64),
    );
    this.changed();
  }

  // ---- Optimistic editing ------------------------------------------------------------------------

  /** Shows `patch` at once (its bytes over the pages on screen). Returns it, to settle later. */
  addPatch(patch: Omit<Patch, "gen">): Patch {
    const p: Patch = { ...patch, gen: null };
    this.patches.push(p);
    this.changed();
    return p;
  }

  /** The request failed: the bytes under the patch show again. */
  removePatch(p: Patch): void {
    const i = this.patches.indexOf(p);
    if (i >= 0) this.patches.splice(i, 1);
    this.changed();
  }

  /**
   * The host applied a change that took the document from generation `to - steps` to `to`.
   * Pages of generation `to - steps` become pages of `to`: unchanged where the change did not
   * touch them, with `patch` applied where it did (exact: nothing else happened in between), and
   * with no edited mark at all when `clearEdited` (a save: same bytes, now on disk). Pages the
   * change touched without a patch are not carried over (they reload; the old copy shows until then).
   * A `shift` (the size changed) carries only the pages wholly before its start; a few pages from
   * there are rebuilt from the old ones when the inserted bytes are known, and every older page
   * from there on is cut off (never shown for this generation or a later one).
   */
  advance(docId: string, to: number, steps: number, change: { patch?: Patch; range?: { start: number; end: number }; clearEdited?: boolean; shift?: Shift }): void {
    const from = to - steps;
    const prefix = `${docId}:${from}:`;
    const shift = change.shift;
    for (const [key, bytes] of [...this.pages]) {
      if (!key.startsWith(prefix)) continue;
      const page = Number(key.slice(prefix.length));
      const start = page * this.pageSize;
      const end = start + bytes.length;
      const newKey = `${docId}:${to}:${page}`;
      if (this.pages.has(newKey)) continue;
      // A shift: only full pages before its start keep their bytes (a short last page grows).
      if (shift && !(end <= shift.start && (bytes.length === this.pageSize || end === shift.size))) continue;
      let mask = change.clearEdited ? undefined : this.masks.get(key);
      let out = bytes;
      const p = change.patch;
      const r = p ? { start: p.offset, end: p.offset + p.bytes.length } : change.range;
      if (r && r.start < end && r.end > start) {
        if (!p) continue;
        out = bytes.slice();
        mask = mask ? mask.slice() : new Uint8Array(bytes.length);
        const a = Math.max(r.start, start);
        const b = Math.min(r.end, end);
        out.set(p.bytes.subarray(a - p.offset, b - p.offset), a - start);
        mask.set(p.edited.subarray(a - p.offset, b - p.offset), a - start);
      }
      this.pages.set(newKey, out);
      if (mask && mask.some((v) => v)) this.masks.set(newKey, mask);
      if (this.provisional.has(key)) this.provisional.add(newKey);
      this.latest.set(`${docId}:${page}`, Math.max(to, this.latest.get(`${docId}:${page}`) ?? -1));
    }
    if (shift) {
      this.rebuildAfterShift(docId, from, to, shift);
      // Settled patches past the start hold offsets of before the shift.
      this.patches = this.patches.filter((q) => q.docId !== docId || q.gen === null || q.offset + q.bytes.length <= shift.start);
      this.cuts.set(docId, [...(this.cuts.get(docId) ?? []), { gen: to, start: shift.start }]);
    }
    if (change.patch) change.patch.gen = to;
    // Two generations at most: the one just left (a render may still ask for it) and the new one.
    for (const key of [...this.pages.keys()]) {
      if (!key.startsWith(`${docId}:`)) continue;
      const g = Number(key.split(":")[1]);
      if (g < from) this.deletePage(key);
    }
    this.minGen.set(docId, Math.max(from, this.minGen.get(docId) ?? -Infinity));
    this.cuts.set(
      docId,
      (this.cuts.get(docId) ?? []).filter((c) => c.gen > from).slice(-64),
    );
    this.prunePatches(docId);
    this.trim();
    this.changed();
  }

  /** The first REMAP_PAGES pages from a shift's start, built from the old pages and the inserted bytes where every byte is known. */
  private rebuildAfterShift(docId: string, from: number, to: number, shift: Shift): void {
    if (shift.deleted === undefined || shift.inserted === undefined) return;
    const P = this.pageSize;
    const first = Math.floor(shift.start / P);
    const last = Math.min(first + REMAP_PAGES, Math.ceil(shift.size / P)) - 1;
    for (let k = first; k <= last; k++) {
      const key = `${docId}:${to}:${k}`;
      if (this.pages.has(key)) continue;
      const built = this.rebuildPage(docId, from, k, shift);
      if (!built) continue;
      this.pages.set(key, built.bytes);
      if (built.mask) this.masks.set(key, built.mask);
      else this.masks.delete(key);
      this.provisional.add(key);
      this.latest.set(`${docId}:${k}`, Math.max(to, this.latest.get(`${docId}:${k}`) ?? -1));
    }
  }

  private rebuildPage(docId: string, from: number, page: number, shift: Shift): { bytes: Uint8Array; mask: Uint8Array | null } | null {
    const P = this.pageSize;
    const a = page * P;
    const b = Math.min(a + P, shift.size);
    if (b <= a) return null;
    const s = shift.start;
    const ins = shift.inserted!;
    const del = shift.deleted!;
    const bytes = new Uint8Array(b - a);
    const mask = new Uint8Array(b - a);
    // Before the start: the old bytes at the same offsets.
    if (a < s && !this.copyOld(docId, from, a, bytes, mask, 0, Math.min(b, s) - a)) return null;
    // The inserted run.
    const i0 = Math.max(a, s);
    const i1 = Math.min(b, s + ins);
    if (i1 > i0) {
      if (!shift.bytes) return null;
      bytes.set(shift.bytes(i0 - s, i1 - i0), i0 - a);
      const m = shift.mark ?? MARK_INSERTED;
      if (typeof m === "number") mask.fill(m, i0 - a, i1 - a);
      else mask.set(m(i0 - s, i1 - i0), i0 - a);
    }
    // After it: the old bytes that followed the deleted ones.
    const t0 = Math.max(a, s + ins);
    if (b > t0 && !this.copyOld(docId, from, t0 - ins + del, bytes, mask, t0 - a, b - t0)) return null;
    return { bytes, mask: mask.some((v) => v) ? mask : null };
  }

  /** Copies old bytes [src, src + n) of generation `gen` into `out` at `at`; false when a page is missing. */
  private copyOld(docId: string, gen: number, src: number, out: Uint8Array, mask: Uint8Array, at: number, n: number): boolean {
    const P = this.pageSize;
    let done = 0;
    while (done < n) {
      const x = src + done;
      const page = Math.floor(x / P);
      const within = x - page * P;
      const key = `${docId}:${gen}:${page}`;
      const bytes = this.pages.get(key);
      const take = Math.min(n - done, P - within);
      if (!bytes || within + take > bytes.length) return false;
      out.set(bytes.subarray(within, within + take), at + done);
      const m = this.masks.get(key);
      if (m) mask.set(m.subarray(within, within + take), at + done);
      done += take;
    }
    return true;
  }

  /** Drops patches every held page already contains. */
  private prunePatches(docId: string): void {
    this.patches = this.patches.filter((p) => {
      if (p.docId !== docId || p.gen === null) return true;
      const first = Math.floor(p.offset / this.pageSize);
      const last = Math.floor((p.offset + p.bytes.length - 1) / this.pageSize);
      for (let page = first; page <= last; page++) {
        const g = this.latest.get(`${docId}:${page}`);
        if (g !== undefined && g < p.gen) return true;
      }
      return false;
    });
  }

  private deletePage(key: string): void {
    this.pages.delete(key);
    this.masks.delete(key);
    this.provisional.delete(key);
  }

  private trim(): void {
    while (this.pages.size > this.capacity) {
      const oldest = this.pages.keys().next().value as string;
      this.deletePage(oldest);
      this.stats.evictions++;
    }
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
      if ((this.pages.has(key) && !this.provisional.has(key)) || this.inFlight.has(key)) continue;
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
      if ((this.pages.has(job.key) && !this.provisional.has(job.key)) || this.inFlight.has(job.key)) continue;
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
            this.store(this.key(newer, page), result.bytes, editedMask(result));
            this.options.onNewerGeneration?.(doc.docId, result.generation, result.size);
          }
          return;
        }
        this.store(key, result.bytes, editedMask(result));
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

  private store(key: string, bytes: Uint8Array, mask?: Uint8Array | null): void {
    const [docId0, g0] = key.split(":");
    // A late reply of a generation already left behind: not worth keeping (and maybe shifted since).
    if (Number(g0) < (this.minGen.get(docId0!) ?? -Infinity)) return;
    this.provisional.delete(key);
    this.pages.set(key, bytes);
    if (mask) this.masks.set(key, mask);
    else this.masks.delete(key);
    const [docId, g, page] = key.split(":");
    const lk = `${docId}:${page}`;
    if (Number(g) >= (this.latest.get(lk) ?? -1)) this.latest.set(lk, Number(g));
    this.prunePatches(docId!);
    this.trim();
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
        this.store(this.key(doc, page), bytes, editedMask(result));
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
    for (const map of [this.pages, this.failed, this.masks] as Map<string, unknown>[]) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix) && !(keep && key.startsWith(keep))) map.delete(key);
    }
    for (const key of [...this.latest.keys()]) if (key.startsWith(prefix)) this.latest.delete(key);
    for (const key of [...this.provisional]) if (key.startsWith(prefix) && !(keep && key.startsWith(keep))) this.provisional.delete(key);
    if (keep) {
      for (const key of this.pages.keys()) {
        if (key.startsWith(keep)) this.latest.set(`${docId}:${key.slice(keep.length)}`, keepGeneration!);
      }
    } else {
      this.patches = this.patches.filter((p) => p.docId !== docId);
      this.cuts.delete(docId);
      this.minGen.delete(docId);
    }
    this.queue = this.queue.filter((j) => j.doc.docId !== docId);
    this.changed();
  }

  get size(): number {
    return this.pages.size;
  }
}

/**
 * A read reply's marks, one per byte (MARK_EDITED for an overwrite, MARK_INSERTED for a byte
 * inserted: `inserted` is the subset of `edited` that changed the size), or null when none is edited.
 */
export function editedMask(result: { bytes: Uint8Array; edited?: number[]; editedMask?: string; inserted?: number[] }): Uint8Array | null {
  const n = result.bytes.length;
  let mask: Uint8Array | null = null;
  if (result.editedMask) {
    const bits = Uint8Array.from(atob(result.editedMask), (c) => c.charCodeAt(0));
    mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) mask[i] = (bits[i >> 3]! >> (i & 7)) & 1;
  } else {
    const e = result.edited;
    if (e && e.length > 0) {
      mask = new Uint8Array(n);
      for (let k = 0; k + 1 < e.length; k += 2) mask.fill(MARK_EDITED, Math.max(0, e[k]!), Math.min(n, e[k + 1]!));
    }
  }
  const ins = result.inserted;
  if (ins && ins.length > 0) {
    mask ??= new Uint8Array(n);
    for (let k = 0; k + 1 < ins.length; k += 2) mask.fill(MARK_INSERTED, Math.max(0, ins[k]!), Math.min(n, ins[k + 1]!));
  }
  return mask;
}
