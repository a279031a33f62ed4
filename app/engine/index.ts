// The engine's public surface. Host-agnostic: nothing under app/engine imports Electron.
export { Document, MAX_DOCUMENT_READ, type OpenOptions, type SizeCheck } from "./document";
export { HexmapError, isHexmapError, toHexmapError, checkOffset, type ErrorContext } from "./errors";
export type { RawSource } from "./raw-source";
export { MappedSource } from "./mapped-source";
export {
  ViewCache,
  DEFAULT_VIEW_SIZE,
  DEFAULT_MAX_VIEWS,
  type ViewCacheOptions,
  type ViewCacheStats,
  type ViewLease,
} from "./view-cache";
