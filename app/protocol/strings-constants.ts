// The strings protocol's limits, without zod: the renderer imports these (app/protocol/strings.ts
// re-exports them), and zod must stay out of the renderer bundle (its JIT check trips the CSP).

export const STRINGS_REQUEST_ENCODINGS = ["ascii", "utf16le", "all"] as const;
export type StringsRequestEncoding = (typeof STRINGS_REQUEST_ENCODINGS)[number];
/** Longest minimum length a client may ask for. */
export const MAX_STRINGS_MIN_LENGTH = 1024;
/** Most strings one job lists (strings-found); the total goes on counting. */
export const MAX_STRINGS_LISTED = 100_000;
/** A listed string's text holds at most this many characters (`length` stays exact). */
export const MAX_STRING_TEXT = 256;
/** A strings-found event carries at most this many strings. */
export const MAX_STRINGS_PER_EVENT = 5000;
