// Follow mode (tail -F for the line view): watches a file by path. When it grows, the line index
// extends over the new tail only and a `grew` event says how many lines there are now. When it is
// truncated in place (copytruncate) or replaced (rename + create: the path's inode changed), the
// follower reopens the path, rebuilds the index and says `rotated`; a consumer then shows
// `follower.document` from line 1 (the old document is closed, so no stale bytes are shown).
//
// Change notices come from fs.watch on the file's folder (inotify/ReadDirectoryChangesW; they
// also see renames and creations) and from a polling timer (the fallback for network file
// systems and for lost notices). Checks never overlap: notices during a check collapse into one
// more check. Nothing accumulates per event: memory stays flat however long it follows (the index
// itself grows by 8 bytes per K lines).

import * as fs from "node:fs";
import * as path from "node:path";
import { Document, type OpenOptions } from "./document";
import { HexmapError, toHexmapError } from "./errors";
import { LineIndex, type LineIndexOptions } from "./line-index";

export type FollowEvent =
  | { kind: "grew"; size: number; lineCount: number; newlineCount: number }
  | { kind: "rotated"; reason: "replaced" | "truncated"; size: number; lineCount: number; newlineCount: number }
  | { kind: "error"; code: string; message: string };

export type FollowListener = (event: FollowEvent) => void;

export interface FollowOptions {
  /** Polling interval in ms (also the fallback when fs.watch is unavailable). Default 1000. */
  intervalMs?: number;
  /** Use fs.watch on the file's folder as well as polling. Default true. */
  watch?: boolean;
  /** Options for (re)opening the document; followed documents are read-only. */
  open?: Omit<OpenOptions, "readOnly">;
  index?: LineIndexOptions;
}

interface Identity {
  dev: number;
  ino: number;
}

function identity(st: fs.Stats): Identity {
  return { dev: st.dev, ino: st.ino };
}

export class Follower {
  readonly path: string;
  private doc: Document;
  private ix: LineIndex;
  private id: Identity;
  private readonly intervalMs: number;
  private readonly useWatch: boolean;
  private readonly openOptions: Omit<OpenOptions, "readOnly">;
  private readonly listeners = new Set<FollowListener>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private checking: Promise<FollowEvent | null> | undefined;
  private again = false;
  private isClosed = false;
  private detached = false;

  /** Opens `file`, builds its line index and starts following it. */
  static async open(file: string, options: FollowOptions = {}): Promise<Follower> {
    const { doc, index, id } = await openIndexed(file, options.open ?? {}, options.index ?? {});
    const f = new Follower(file, doc, index, id, options);
    f.start();
    return f;
  }

  /**
   * Follows a document and index someone else opened (the Service's line view): no build here
   * (a running or later build is extended as the file grows). detach() hands them back unclosed.
   */
  static adopt(file: string, doc: Document, index: LineIndex, options: FollowOptions = {}): Follower {
    const f = new Follower(file, doc, index, identity(fs.statSync(file)), options);
    f.start();
    return f;
  }

  private constructor(file: string, doc: Document, index: LineIndex, id: Identity, options: FollowOptions) {
    this.path = file;
    this.doc = doc;
    this.ix = index;
    this.id = id;
    const interval = options.intervalMs ?? 1000;
    if (!Number.isFinite(interval) || interval < 10) throw new HexmapError("EINVAL", `intervalMs must be at least 10, got ${String(interval)}`);
    this.intervalMs = interval;
    this.useWatch = options.watch ?? true;
    this.openOptions = options.open ?? {};
  }

  /** The document being shown: a new one after `rotated`. Owned by the follower (closed by close()). */
  get document(): Document {
    return this.doc;
  }

  get index(): LineIndex {
    return this.ix;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  on(listener: FollowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private start(): void {
    this.timer = setInterval(() => this.poke(), this.intervalMs);
    this.timer.unref?.();
    if (this.useWatch) {
      try {
        const base = path.basename(this.path);
        this.watcher = fs.watch(path.dirname(path.resolve(this.path)), { persistent: false }, (_event, name) => {
          if (name === null || name === base) this.poke();
        });
        this.watcher.on("error", () => {
          // The folder went away or the watch broke: polling carries on alone.
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch {
        this.watcher = undefined; // no fs.watch here (some network file systems): poll only
      }
    }
  }

  /** A notice: check now, or once more after the running check. */
  private poke(): void {
    if (this.isClosed) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    void this.check();
  }

  /**
   * Looks at the path once (also what the watcher and the timer do) and acts on a change.
   * Resolves with the event emitted, or null when nothing changed.
   */
  check(): Promise<FollowEvent | null> {
    if (this.isClosed) return Promise.resolve(null);
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    const run = this.checkOnce().finally(() => {
      this.checking = undefined;
      if (this.again && !this.isClosed) {
        this.again = false;
        void this.check();
      }
    });
    this.checking = run;
    return run;
  }

  private async checkOnce(): Promise<FollowEvent | null> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(this.path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Renamed away and not yet recreated (mid-rotation): keep the old file until a new one appears.
      if (code === "ENOENT") return null;
      return this.emit({ kind: "error", code: toHexmapError(err, { path: this.path }).code, message: (err as Error).message });
    }
    try {
      if (st.ino !== this.id.ino || st.dev !== this.id.dev) return await this.reopen("replaced");
      if (st.size < this.ix.indexedBytes || st.size < this.doc.size) return await this.reopen("truncated");
      if (st.size > this.doc.size || !this.ix.complete) {
        const before = this.ix.lineCount;
        const sizeBefore = this.doc.size;
        await this.ix.extend();
        if (this.isClosed) return null;
        if (this.doc.size === sizeBefore && this.ix.lineCount === before) return null;
        return this.emit({ kind: "grew", size: this.doc.size, lineCount: this.ix.lineCount, newlineCount: this.ix.newlineCount });
      }
      return null;
    } catch (err) {
      if (this.isClosed) return null;
      const e = toHexmapError(err, { path: this.path });
      // Shrank under the scan (EIO / ECHANGED): the next check sees the smaller size and reloads.
      if (e.code === "EIO" || e.code === "ECHANGED") {
        this.again = true;
        return null;
      }
      return this.emit({ kind: "error", code: e.code, message: e.message });
    }
  }

  private async reopen(reason: "replaced" | "truncated"): Promise<FollowEvent | null> {
    const opened = await openIndexed(this.path, this.openOptions, undefined, this.ix);
    if (this.isClosed) {
      if (this.detached) {
        // The index already follows the new document: its owner keeps that one; the old one goes.
        this.doc.close();
        this.doc = opened.doc;
      } else opened.doc.close();
      return null;
    }
    const old = this.doc;
    this.doc = opened.doc;
    this.id = opened.id;
    old.close();
    return this.emit({ kind: "rotated", reason, size: this.doc.size, lineCount: this.ix.lineCount, newlineCount: this.ix.newlineCount });
  }

  private emit(event: FollowEvent): FollowEvent {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not stop following.
      }
    }
    return event;
  }

  /** Stops watching; the document and the index stay open (their owner closes them). Idempotent. */
  detach(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.detached = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }

  /** Stops watching and closes the document and the index. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
    this.ix.close();
    this.doc.close();
  }
}

/**
 * Opens the path as a Document and builds its index (a new one, or `reuse` reset onto the new
 * document). The path's inode is read before and after opening; when they differ the file was
 * replaced in between, and it opens again, so the identity always belongs to the open file.
 */
async function openIndexed(
  file: string,
  open: Omit<OpenOptions, "readOnly">,
  indexOptions: LineIndexOptions | undefined,
  reuse?: LineIndex,
): Promise<{ doc: Document; index: LineIndex; id: Identity }> {
  for (let attempt = 0; ; attempt++) {
    const before = identity(fs.statSync(file));
    const doc = Document.openFile(file, { ...open, readOnly: true });
    let index: LineIndex;
    try {
      if (reuse) {
        reuse.reset(doc);
        index = reuse;
      } else index = new LineIndex(doc, indexOptions ?? {});
    } catch (err) {
      doc.close();
      throw err;
    }
    let after: Identity | undefined;
    try {
      after = identity(fs.statSync(file));
    } catch {
      after = undefined;
    }
    if ((!after || after.ino !== before.ino || after.dev !== before.dev) && attempt < 5) {
      if (!reuse) index.close();
      doc.close();
      continue;
    }
    try {
      await index.build();
    } catch (err) {
      if (!reuse) index.close();
      doc.close();
      throw err;
    }
    return { doc, index, id: before };
  }
}
