// A RawSource over a native mapped source (a file or a shared-memory section), read through a
// ViewCache. Reads are split at window boundaries; each piece is copied out of a pinned window
// by the addon (on a worker thread for async reads) and the pieces are joined.

import type { NativeSource } from "../../native/index";
import type { DocumentKind } from "../protocol/messages";
import { HexmapError, toHexmapError } from "./errors";
import type { RawSource } from "./raw-source";
import { ViewCache, type ViewCacheOptions, type ViewCacheStats } from "./view-cache";

/** Reads up to this long are copied on the calling thread when their pages are in memory. */
const RESIDENT_READ_MAX = 256 * 1024;

export class MappedSource implements RawSource {
  readonly kind: DocumentKind;
  readonly writable: boolean;
  /** Path or section name, for messages. */
  readonly name: string;
  private readonly native: NativeSource;
  private readonly cache: ViewCache;
  private knownSize: number;
  private isClosed = false;

  constructor(native: NativeSource, name: string, options: ViewCacheOptions) {
    this.native = native;
    this.name = name;
    this.kind = native.kind;
    this.writable = native.writable;
    try {
      this.cache = new ViewCache(native, options);
      this.knownSize = native.size();
    } catch (err) {
      native.close();
      throw toHexmapError(err, { path: name, op: "open" });
    }
  }

  get size(): number {
    return this.knownSize;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  refreshSize(): number {
    this.assertOpen();
    let now: number;
    try {
      now = this.native.size();
    } catch (err) {
      throw toHexmapError(err, { path: this.name, op: "check the size of" });
    }
    if (now !== this.knownSize) {
      this.cache.invalidate(Math.min(now, this.knownSize));
      this.knownSize = now;
    }
    return now;
  }

  async readRaw(offset: number, length: number): Promise<Buffer> {
    this.assertOpen();
    if (length === 0) return Buffer.alloc(0);
    const end = offset + length;
    let out: Buffer | undefined;
    let pos = offset;
    while (pos < end) {
      const lease = await this.acquire(pos);
      let piece: Buffer;
      try {
        const n = Math.min(end, lease.offset + lease.length) - pos;
        // Pages already in memory are copied here: a worker round trip would cost more than the
        // copy (random 4 KiB reads, warm). Pages that may need the disk go to a worker.
        piece = (n <= RESIDENT_READ_MAX ? lease.view.readIfResident?.(pos - lease.offset, n) : undefined) ?? (await lease.view.read(pos - lease.offset, n));
      } catch (err) {
        throw this.readError(err, pos);
      } finally {
        lease.release();
      }
      if (piece.length === 0) throw new HexmapError("EIO", `Short read from ${this.name} at offset ${pos}`);
      if (pos === offset && piece.length === length) return piece; // one window: no copy
      out ??= Buffer.allocUnsafe(length);
      piece.copy(out, pos - offset);
      pos += piece.length;
    }
    return out ?? Buffer.alloc(0);
  }

  readRawSync(offset: number, length: number): Buffer {
    this.assertOpen();
    if (length === 0) return Buffer.alloc(0);
    const end = offset + length;
    let out: Buffer | undefined;
    let pos = offset;
    while (pos < end) {
      let lease;
      try {
        lease = this.cache.acquireSync(pos, this.knownSize);
      } catch (err) {
        throw this.mapError(err, pos);
      }
      let piece: Buffer;
      try {
        const n = Math.min(end, lease.offset + lease.length) - pos;
        piece = lease.view.readSync(pos - lease.offset, n);
      } catch (err) {
        throw this.readError(err, pos);
      } finally {
        lease.release();
      }
      if (piece.length === 0) throw new HexmapError("EIO", `Short read from ${this.name} at offset ${pos}`);
      if (pos === offset && piece.length === length) return piece;
      out ??= Buffer.allocUnsafe(length);
      piece.copy(out, pos - offset);
      pos += piece.length;
    }
    return out ?? Buffer.alloc(0);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cache.close();
    try {
      this.native.close();
    } catch {
      // Closing twice or after an OS error: nothing left to release.
    }
  }

  stats(): ViewCacheStats {
    return this.cache.stats();
  }

  private async acquire(pos: number) {
    try {
      return await this.cache.acquire(pos, this.knownSize);
    } catch (err) {
      throw this.mapError(err, pos);
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new HexmapError("EBADDOC", `The document ${this.name} is closed`);
  }

  private mapError(err: unknown, pos: number): HexmapError {
    if (err instanceof HexmapError) return err;
    if (this.isClosed) return new HexmapError("EBADDOC", `The document ${this.name} is closed`, { cause: err });
    const code = (err as { code?: unknown } | null)?.code;
    if (code === "ERANGE") {
      // We asked for a window within the size we knew: the file shrank on disk since.
      return new HexmapError(
        "EIO",
        `${this.name} is shorter than it was (changed on disk?): cannot read at offset ${pos}; check its size and read again`,
        { cause: err },
      );
    }
    return toHexmapError(err, { path: this.name, op: "map", offset: pos });
  }

  private readError(err: unknown, pos: number): HexmapError {
    if (this.isClosed) return new HexmapError("EBADDOC", `The document ${this.name} is closed`, { cause: err });
    return toHexmapError(err, { path: this.name, op: "read", offset: pos });
  }
}
