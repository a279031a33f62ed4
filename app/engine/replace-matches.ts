// The places a Replace all changes: every non-overlapping match, left to right, at most `max` —
// what Python's bytes.replace and re.sub replace. Shared by `hexmap replace` (a file) and the
// host's replace-all request (an editor snapshot); each supplies its own scan.

import { HexmapError } from "./errors";
import { regexMatches, type CompiledRegex, type RegexScanOptions, type RegexSource } from "./regex";

/** A regex that can match nothing would replace between every two bytes: refused (EINVAL). */
export function checkReplaceRegex(re: CompiledRegex): void {
  if (re.minWidth === 0) throw new HexmapError("EINVAL", `${re.description} can match nothing at all: it would replace between every two bytes; make it match at least one byte`);
}

/** One round of a literal scan: occurrences from `from`, overlapping, increasing, to `onHits`, until `stop` aborts. */
export type LiteralScan = (from: number, maxHits: number, stop: AbortSignal, onHits: (hits: number[]) => void) => Promise<{ canceled: boolean; total: number }>;

/** Occurrences a round collects before it is stopped and the next begins after the last one. */
const ROUND = 1 << 18;

/**
 * The non-overlapping starts of a `length`-byte pattern, left to right, at most `max`. The native
 * scans report overlapping occurrences ("aa" in "aaaa": 3), which for a dense pattern could be
 * billions; so they run in rounds of ROUND occurrences, each stopped once it has them, the next
 * starting after the last one seen. Stops early (with what it has) when `signal` aborts.
 */
export async function literalReplaceStarts(length: number, max: number, scan: LiteralScan, signal?: AbortSignal): Promise<number[]> {
  const starts: number[] = [];
  let nextFree = 0;
  let from = 0;
  while (!signal?.aborted) {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let seen = 0;
    let last = -1;
    let r;
    try {
      r = await scan(from, ROUND, stop.signal, (hits) => {
        for (const h of hits) {
          last = h;
          if (++seen >= ROUND) stop.abort();
          if (h < nextFree || starts.length >= max) continue;
          starts.push(h);
          nextFree = h + length;
        }
        if (starts.length >= max) stop.abort();
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (starts.length >= max || (!r.canceled && r.total <= seen) || last < 0) break;
    from = last + 1;
  }
  return starts;
}

/** The regex matches of `src` (non-overlapping, leftmost-first), at most `max`: starts and lengths. */
export async function regexReplaceMatches(
  src: RegexSource,
  re: CompiledRegex,
  max: number,
  signal?: AbortSignal,
  onProgress?: RegexScanOptions["onProgress"],
): Promise<{ starts: number[]; lengths: number[] }> {
  const starts: number[] = [];
  const lengths: number[] = [];
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const b of regexMatches(src, re, { signal: stop.signal, ...(onProgress ? { onProgress } : {}) })) {
      for (let i = 0; i < b.starts.length && starts.length < max; i++) {
        starts.push(b.starts[i]!);
        lengths.push(b.ends[i]! - b.starts[i]!);
      }
      if (starts.length >= max) {
        stop.abort();
        break;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return { starts, lengths };
}
