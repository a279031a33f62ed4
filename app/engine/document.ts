// Document: one open source as the user sees it. Today that is the raw bytes; the edit overlay
// (pending edits merged into reads, undo/redo, journaled save — issue 4) will sit here, between
// the public read() and the RawSource below it, so every kind of source gets it once.

import { loadNative, type NativeAddon } from "../../native/index";
import type { DocumentInfo, DocumentKind } from "../protocol/messages";
import { HexmapError, checkOffset, toHexmapError } from "./errors";
import { MappedSource } from "./mapped-source";
import type { RawSource } from "./raw-source";
import type { ViewCacheStats } from "./view-cache";

/** Largest single read(): bigger ranges must be read in pieces. */
export const MAX_DOCUMENT_READ = 1024 * 1024 * 1024;

export interface OpenOptions {
  /** Default true. A writable document opens the file for writing (needed to save edits later). */
  readOnly?: boolean;
  /** Bytes per mapped window (a multiple of the addon's granularity). Default 64 MiB. */
  viewSize?: number;
  /** Budget for all mapped windows of this document. Default 8 × viewSize. */
  maxBytes?: number;
  /** The addon to use; default loadNative(). Tests may inject one. */
  native?: NativeAddon;
}

/** `native`, else the built addon; EINTERNAL with a hint when it cannot be loaded. */
export function loadAddon(native?: NativeAddon): NativeAddon {
  try {
    return native ?? loadNative();
  } catch (err) {
    throw new HexmapError("EINTERNAL", `The native addon could not be loaded (run npm run build:native): ${(err as Error).message}`, { cause: err });
  }
}

export interface SizeCheck {
  changed: boolean;
  size: number;
}

export class Document {
  readonly kind: DocumentKind;
  /** Path or section name, as the user gave it. */
  readonly name: string;
  readonly readOnly: boolean;
  private readonly source: RawSource;
  private gen = 0;
  private isClosed = false;

  /** Opens a file (synchronously: open + fstat, no mapping yet). Throws HexmapError. */
  static openFile(path: string, options: OpenOptions = {}): Document {
    if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
      throw new HexmapError("EINVAL", "A file path must be a non-empty string");
    }
    if (options.viewSize !== undefined) checkOffset(options.viewSize, "viewSize");
    if (options.maxBytes !== undefined) checkOffset(options.maxBytes, "maxBytes");
    const readOnly = options.readOnly ?? true;
    const native = loadAddon(options.native);
    let handle;
    try {
      handle = native.openFile(path, { writable: !readOnly });
    } catch (err) {
      throw toHexmapError(err, { path, op: readOnly ? "open" : "open for writing" });
    }
    const source = new MappedSource(handle, path, {
      granularity: native.granularity,
      ...(options.viewSize !== undefined ? { viewSize: options.viewSize } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    });
    return new Document(source, path, readOnly);
  }

  /** Wraps an already open raw source (files, shared memory, test doubles). */
  constructor(source: RawSource, name: string, readOnly = !source.writable) {
    this.source = source;
    this.kind = source.kind;
    this.name = name;
    this.readOnly = readOnly || !source.writable;
  }

  /** Size as last seen (at open or at the last checkSize()). */
  get size(): number {
    return this.source.size;
  }

  /** Bumps on every change: size change on disk now; edits, undo and save later. */
  get generation(): number {
    return this.gen;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  info(docId: string): DocumentInfo {
    return { docId, kind: this.kind, name: this.name, size: this.size, readOnly: this.readOnly, generation: this.gen };
  }

  /**
   * Bytes [offset, offset+length), clamped at the end of the document. offset == size, or
   * length 0, gives an empty Buffer; offset > size is ERANGE; non-integers are EINVAL.
   */
  async read(offset: number, length: number): Promise<Buffer> {
    const n = this.checkRead(offset, length);
    if (n === 0) return Buffer.alloc(0);
    return this.source.readRaw(offset, n);
  }

  readSync(offset: number, length: number): Buffer {
    const n = this.checkRead(offset, length);
    if (n === 0) return Buffer.alloc(0);
    return this.source.readRawSync(offset, n);
  }

  /**
   * Re-reads the size from the OS. On a change, bumps the generation and drops windows past the
   * new end (this is also how a document recovers after an EIO from a truncated file).
   */
  checkSize(): SizeCheck {
    this.assertOpen();
    const before = this.source.size;
    const size = this.source.refreshSize();
    const changed = size !== before;
    if (changed) this.gen++;
    return { changed, size };
  }

  /**
   * Records a change made outside this object (a write into a shared-memory section, bytes
   * another process changed under a live view): bumps the generation so cached pages are dropped.
   */
  noteChange(): number {
    this.assertOpen();
    return ++this.gen;
  }

  /** Releases every window and the file handle. Idempotent; later calls fail with EBADDOC. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.source.close();
  }

  stats(): ViewCacheStats {
    this.assertOpen();
    return this.source.stats();
  }

  private checkRead(offset: number, length: number): number {
    this.assertOpen();
    checkOffset(offset, "offset");
    checkOffset(length, "length");
    const size = this.source.size;
    if (offset > size) {
      throw new HexmapError("ERANGE", `Offset ${offset} is past the end of ${this.name} (size ${size})`);
    }
    const n = Math.min(length, size - offset);
    if (n > MAX_DOCUMENT_READ) {
      throw new HexmapError("ETOOBIG", `Cannot read ${n} bytes at once (at most ${MAX_DOCUMENT_READ}); read in pieces`);
    }
    return n;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new HexmapError("EBADDOC", `The document ${this.name} is closed`);
  }
}
