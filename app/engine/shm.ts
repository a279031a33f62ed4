// Named shared memory as a document kind ('shm'). A section is read exactly like a file — through
// a MappedSource and its ViewCache — and written *immediately*: there is no file to save, the
// bytes are the shared state other processes see. So an edit is a raw write into a writable view,
// and undo (live.ts, ShmEditLog) writes the old bytes back.
//
// Names: "ShareMemory" everywhere; on Windows also "Local\ShareMemory" / "Global\ShareMemory"
// (a bare name is the session-local namespace, like Local\); on POSIX "/ShareMemory" (the addon
// accepts "name" and "/name" as the same object). Sizes: exact on POSIX and for a section this
// process created; a section *opened* on Windows may report its size rounded up to whole pages
// (always under Wine), so never rely on the exact size of an opened win32 section.

import { loadNative, type NativeAddon, type NativeSource } from "../../native/index";
import type { DocumentKind } from "../protocol/messages";
import { Document, loadAddon } from "./document";
import { HexmapError, checkOffset, toHexmapError } from "./errors";
import { MappedSource } from "./mapped-source";
import type { RawSource } from "./raw-source";
import { alignDown, type ViewCacheStats } from "./view-cache";

/** Largest single write: bigger ones are split into pieces of this size. */
const WRITE_PIECE = 16 * 1024 * 1024;

export interface ShmOpenOptions {
  /**
   * Create the section with this size (bytes, >= 1) if it does not exist; if it exists with this
   * size it is opened (`created` is then false). Creating implies writable.
   */
  create?: number;
  /** Default true when not creating. A read-only section refuses writes with EACCES. */
  readOnly?: boolean;
  /** Bytes per mapped read window (a multiple of the addon's granularity). Default 64 MiB. */
  viewSize?: number;
  maxBytes?: number;
  native?: NativeAddon;
  /** Tests: pretend to be another platform for name checks. */
  platform?: NodeJS.Platform;
}

const WIN_PREFIX = /^(Local|Global)\\/i;

/** "name" in double quotes for messages; backslashes stay as typed (Local\X, not Local\\X). */
export function quoteShmName(name: string): string {
  return `"${name.replace(/[\u0000-\u001f"]/g, (c) => JSON.stringify(c).slice(1, -1))}"`;
}

/**
 * Checks a section name as the user typed it and returns the form the addon gets. Throws EINVAL
 * with a sentence the user can act on.
 */
export function normalizeShmName(name: unknown, platform: NodeJS.Platform = process.platform): string {
  if (typeof name !== "string" || name.length === 0 || name.includes("\0")) {
    throw new HexmapError("EINVAL", "A shared-memory name must be a non-empty string");
  }
  if (platform === "win32") {
    const body = name.replace(WIN_PREFIX, "");
    if (body.length === 0 || body.includes("\\")) {
      throw new HexmapError(
        "EINVAL",
        `Invalid shared-memory name ${quoteShmName(name)}: use a name without '\\', optionally prefixed with Local\\ or Global\\`,
      );
    }
    return name;
  }
  if (WIN_PREFIX.test(name)) {
    throw new HexmapError(
      "EINVAL",
      `Invalid shared-memory name ${quoteShmName(name)}: Local\\ and Global\\ are Windows namespaces; on this system use ${quoteShmName(name.replace(WIN_PREFIX, ""))}`,
    );
  }
  const body = name.startsWith("/") ? name.slice(1) : name;
  if (body.length === 0 || body.includes("/") || body.length > 254) {
    throw new HexmapError(
      "EINVAL",
      `Invalid shared-memory name ${quoteShmName(name)}: use a short name without '/' (an optional leading '/' is allowed)`,
    );
  }
  return "/" + body;
}

/** A RawSource over a named section, plus immediate writes. */
export class SharedMemorySource implements RawSource {
  readonly kind: DocumentKind = "shm";
  /** The name as the user gave it. */
  readonly name: string;
  /** True when this call created the section; false when it already existed. */
  readonly created: boolean;
  private readonly native: NativeSource;
  private readonly mapped: MappedSource;
  private readonly granularity: number;

  constructor(native: NativeSource, name: string, options: { granularity: number; viewSize?: number; maxBytes?: number; created?: boolean }) {
    this.native = native;
    this.name = name;
    this.created = options.created ?? false;
    this.granularity = options.granularity;
    this.mapped = new MappedSource(native, name, options);
  }

  get writable(): boolean {
    return this.native.writable;
  }
  get size(): number {
    return this.mapped.size;
  }
  get closed(): boolean {
    return this.mapped.closed;
  }
  refreshSize(): number {
    return this.mapped.refreshSize();
  }
  readRaw(offset: number, length: number): Promise<Buffer> {
    return this.mapped.readRaw(offset, length);
  }
  readRawSync(offset: number, length: number): Buffer {
    return this.mapped.readRawSync(offset, length);
  }
  close(): void {
    this.mapped.close();
  }
  stats(): ViewCacheStats {
    return this.mapped.stats();
  }

  /**
   * Writes `bytes` at `offset` into the section, now: other processes see them at once. The range
   * must lie within the size (ERANGE); a read-only section refuses (EACCES). Each piece goes
   * through its own short-lived writable view (writes are rare; reads keep their cached windows).
   */
  async writeRaw(offset: number, bytes: Uint8Array): Promise<void> {
    for (const piece of this.pieces(offset, bytes)) {
      const view = this.mapWritable(piece.start, piece.length);
      try {
        await view.write(piece.at, piece.data);
      } catch (err) {
        throw this.writeError(err, piece.start + piece.at);
      } finally {
        view.unmap();
      }
    }
  }

  writeRawSync(offset: number, bytes: Uint8Array): void {
    for (const piece of this.pieces(offset, bytes)) {
      const view = this.mapWritable(piece.start, piece.length);
      try {
        view.writeSync(piece.at, piece.data);
      } catch (err) {
        throw this.writeError(err, piece.start + piece.at);
      } finally {
        view.unmap();
      }
    }
  }

  /** Checks the write and splits it into aligned windows: {start, length} mapped, data at `at`. */
  private pieces(offset: number, bytes: Uint8Array): Array<{ start: number; length: number; at: number; data: Uint8Array }> {
    if (this.closed) throw new HexmapError("EBADDOC", `The document ${this.name} is closed`);
    checkOffset(offset, "offset");
    if (!(bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "bytes must be a Uint8Array");
    if (!this.writable) {
      throw new HexmapError("EACCES", `Shared memory ${quoteShmName(this.name)} is open read-only: open it writable to change it`);
    }
    const size = this.size;
    if (offset + bytes.length > size) {
      throw new HexmapError(
        "ERANGE",
        `Cannot write ${bytes.length} bytes at offset ${offset}: shared memory ${quoteShmName(this.name)} has ${size} bytes (a section never grows)`,
      );
    }
    const out = [];
    for (let done = 0; done < bytes.length; ) {
      const pos = offset + done;
      const start = alignDown(pos, this.granularity);
      const n = Math.min(bytes.length - done, WRITE_PIECE);
      out.push({ start, length: pos + n - start, at: pos - start, data: bytes.subarray(done, done + n) });
      done += n;
    }
    return out;
  }

  private mapWritable(start: number, length: number) {
    try {
      return this.native.map(start, length, true);
    } catch (err) {
      throw this.writeError(err, start);
    }
  }

  private writeError(err: unknown, pos: number): HexmapError {
    if (this.closed) return new HexmapError("EBADDOC", `The document ${this.name} is closed`, { cause: err });
    return toHexmapError(err, { path: `shared memory ${quoteShmName(this.name)}`, op: "write", offset: pos });
  }
}

/** Opens (or, with `create`, creates) a section as a SharedMemorySource. Throws HexmapError. */
export function openSharedMemorySource(name: string, options: ShmOpenOptions = {}): SharedMemorySource {
  const osName = normalizeShmName(name, options.platform);
  if (options.create !== undefined) {
    checkOffset(options.create, "size");
    if (options.create < 1) throw new HexmapError("EINVAL", "A shared-memory section needs a size of at least 1 byte");
    if (options.readOnly === true) throw new HexmapError("EINVAL", "A section being created cannot be read-only");
  }
  if (options.viewSize !== undefined) checkOffset(options.viewSize, "viewSize");
  if (options.maxBytes !== undefined) checkOffset(options.maxBytes, "maxBytes");
  const native = loadAddon(options.native);
  let handle: NativeSource;
  let created = false;
  try {
    if (options.create !== undefined) {
      const h = native.createShm(osName, options.create);
      created = !h.existed;
      handle = h;
    } else {
      handle = native.openShm(osName, { writable: options.readOnly === false });
    }
  } catch (err) {
    throw shmOpenError(err, name, options);
  }
  return new SharedMemorySource(handle, name, {
    granularity: native.granularity,
    created,
    ...(options.viewSize !== undefined ? { viewSize: options.viewSize } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
  });
}

function shmOpenError(err: unknown, name: string, options: ShmOpenOptions): HexmapError {
  const e = err as { code?: unknown; message?: unknown };
  const q = quoteShmName(name);
  switch (e?.code) {
    case "ENOENT":
      return new HexmapError("ENOENT", `No shared memory section named ${q} (start the program that creates it, or create it)`, { cause: err });
    case "EEXIST":
      return new HexmapError("EEXIST", `${typeof e.message === "string" ? e.message : `Shared memory ${q} already exists with a different size`}`, { cause: err });
    case "EACCES":
    case "EPERM":
      return new HexmapError(
        "EACCES",
        `Permission denied: shared memory ${q} cannot be opened${options.create !== undefined || options.readOnly === false ? " for writing (open it read-only)" : ""}`,
        { cause: err },
      );
    default:
      return toHexmapError(err, { path: `shared memory ${q}`, op: options.create !== undefined ? "create" : "open" });
  }
}

const shmSources = new WeakMap<Document, SharedMemorySource>();

/**
 * A Document over a named section (kind 'shm'), read through the same path as files. Writes go
 * through writeShm(doc, …) (or a ShmEditLog), applied immediately.
 */
export function openSharedMemoryDocument(name: string, options: ShmOpenOptions = {}): Document {
  const source = openSharedMemorySource(name, options);
  const readOnly = options.create !== undefined ? false : options.readOnly ?? true;
  const doc = new Document(source, name, readOnly);
  shmSources.set(doc, source);
  return doc;
}

/** The section under a document from openSharedMemoryDocument, else undefined. */
export function sharedMemorySourceOf(doc: Document): SharedMemorySource | undefined {
  return shmSources.get(doc);
}

function sourceFor(doc: Document): SharedMemorySource {
  const source = shmSources.get(doc);
  if (!source) throw new HexmapError("ENOTSUP", `${doc.name} is not a shared-memory document: its edits are saved, not applied immediately`);
  if (doc.closed) throw new HexmapError("EBADDOC", `The document ${doc.name} is closed`);
  if (doc.readOnly) throw new HexmapError("EACCES", `Shared memory ${quoteShmName(doc.name)} is open read-only: open it writable to change it`);
  return source;
}

/** Writes into a shared-memory document immediately (no undo: see ShmEditLog for that). */
export function writeShm(doc: Document, offset: number, bytes: Uint8Array): Promise<void> {
  try {
    return sourceFor(doc).writeRaw(offset, bytes);
  } catch (err) {
    return Promise.reject(err);
  }
}

export function writeShmSync(doc: Document, offset: number, bytes: Uint8Array): void {
  sourceFor(doc).writeRawSync(offset, bytes);
}

/**
 * Removes a section's name (POSIX shm_unlink; mappings stay valid until closed). On Windows a
 * section has no name to remove — it dies with its last handle — so this is a no-op there.
 */
export function unlinkShm(name: string, options: { native?: NativeAddon; platform?: NodeJS.Platform } = {}): void {
  const osName = normalizeShmName(name, options.platform);
  const native = options.native ?? loadNative();
  try {
    native.unlinkShm(osName);
  } catch (err) {
    if ((err as { code?: unknown })?.code === "ENOENT") {
      throw new HexmapError("ENOENT", `No shared memory section named ${quoteShmName(name)}`, { cause: err });
    }
    throw toHexmapError(err, { path: `shared memory ${quoteShmName(name)}`, op: "unlink" });
  }
}
