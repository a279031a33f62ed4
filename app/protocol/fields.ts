// Zod field schemas every request module shares (messages.ts, panels.ts, search.ts, lines.ts).
// Its own module because messages.ts imports the others: they cannot import it back.

import { z } from "zod";

/** Request ids, offsets: non-negative safe integers. */
export const reqId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const offset = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Lengths, line numbers: positive safe integers. */
export const positive = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const docId = z.string().regex(/^d[0-9]{1,9}$/, "not a document id");
export const filePath = z.string().min(1).max(32767);
