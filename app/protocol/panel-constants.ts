// Constants of the panel protocol (app/protocol/panels.ts) without its zod schemas, so the renderer
// can use them without bundling zod (whose compiled validators need eval, refused by our CSP).

/** Most slices a byte map may have (a strip a few thousand pixels tall at most). */
export const MAX_BYTEMAP_SLICES = 4096;
/** Most bookmarks kept per file. */
export const MAX_BOOKMARKS = 10_000;
export const MAX_BOOKMARK_NAME = 200;

export const HASH_ALGORITHM_NAMES = ["crc32", "md5", "sha1", "sha256"] as const;
export type HashAlgorithmName = (typeof HASH_ALGORITHM_NAMES)[number];

/** Slice classes of the byte map (index = class number). */
export const BYTEMAP_CLASSES = ["unknown", "zeros", "text", "binary", "random"] as const;
