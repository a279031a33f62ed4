// Search constants the renderer needs at run time, kept free of zod (which would be bundled
// into the renderer and probe `eval`, refused by its CSP). app/protocol/search.ts re-exports them.

export const SEARCH_ENCODINGS = ["utf8", "utf16le", "utf16be", "ascii"] as const;
export type SearchEncoding = (typeof SEARCH_ENCODINGS)[number];
/** Longest pattern text accepted in a request (the engine limits the encoded pattern to 1 MiB). */
export const MAX_SEARCH_PATTERN_CHARS = 1024 * 1024;
/** find-all: hits kept and streamed, at most (the total still counts every match). */
export const MAX_SEARCH_HITS = 100_000;
/** find-all: hits kept when the request does not say. */
export const DEFAULT_SEARCH_HITS = 10_000;
/** Longest regular expression accepted (app/engine/regex.ts MAX_REGEX_CHARS). */
export const MAX_REGEX_PATTERN_CHARS = 64 * 1024;
