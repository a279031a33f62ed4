// The raw layer under a Document (ImHex's Provider::readRaw idea): a source only does mapped I/O
// on the bytes as they are on disk (or in shared memory). Pending edits, undo and journaled save
// live above it, in the Document, once for every kind of source.

import type { DocumentKind } from "../protocol/messages";
import type { ViewCacheStats } from "./view-cache";

export interface RawSource {
  readonly kind: DocumentKind;
  readonly writable: boolean;
  /** Size as last seen (at open, or at the last refreshSize()). */
  readonly size: number;
  /**
   * Re-reads the size from the OS. When it changed, drops windows past the new end and
   * remembers the new size. Returns the new size.
   */
  refreshSize(): number;
  /** Bytes [offset, offset+length), which the caller guarantees lie within `size`. */
  readRaw(offset: number, length: number): Promise<Buffer>;
  readRawSync(offset: number, length: number): Buffer;
  /** Releases every window and the OS handle. Idempotent. */
  close(): void;
  readonly closed: boolean;
  stats(): ViewCacheStats;
}
