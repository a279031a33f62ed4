// The random-read workload behind the RSS bound (resources.test.ts runs it ~10 s; the soak
// script rss-soak.ts runs it 60 s): page-sized reads at random offsets across a 64 GiB sparse
// file with seeded blocks, through a Document with the default view budget (8 × 64 MiB), each
// read checked against the fixture, RSS sampled as it goes.

import { Document } from "../../app/engine/document";
import { FOUR_GIB, GiB, Rng, makeSparseFile, type SparseFixture } from "../fixtures";
import { rssBytes } from "./helpers";

export const SOAK_FILE_SIZE = 64 * GiB;

export function makeSoakFile(): SparseFixture {
  return makeSparseFile({
    size: SOAK_FILE_SIZE,
    blocks: [
      { offset: 0, length: 1 << 20, seed: 21 },
      { offset: FOUR_GIB - 4096, length: 1 << 20, seed: 22 },
      { offset: 32 * GiB + 12345, length: 1 << 20, seed: 23 },
      { offset: SOAK_FILE_SIZE - (1 << 20), length: 1 << 20, seed: 24 },
    ],
  });
}

export interface SoakResult {
  seconds: number;
  reads: number;
  bytesRead: number;
  mismatches: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  peakMappedMiB: number;
  viewBudgetMiB: number;
}

/** Reads 4 KiB pages at random (a quarter of them inside the data blocks) for `seconds`. */
export async function randomReads(fx: SparseFixture, seconds: number, seed = 99): Promise<SoakResult> {
  const rng = new Rng(seed);
  const doc = Document.openFile(fx.path);
  const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  const before = rssBytes();
  let peak = before;
  let reads = 0;
  let bytes = 0;
  let mismatches = 0;
  const end = Date.now() + seconds * 1000;
  try {
    while (Date.now() < end) {
      for (let i = 0; i < 256; i++) {
        const length = 4096;
        const offset =
          i % 4 === 0
            ? (() => {
                const b = rng.pick(fx.blocks);
                return Math.min(fx.size - length, b.offset + rng.below(b.length));
              })()
            : rng.below(fx.size - length);
        const buf = await doc.read(offset, length);
        if (!buf.equals(fx.expected(offset, length))) mismatches++;
        reads++;
        bytes += buf.length;
      }
      const rss = rssBytes();
      if (rss > peak) peak = rss;
    }
    const stats = doc.stats();
    return {
      seconds,
      reads,
      bytesRead: bytes,
      mismatches,
      rssBeforeMiB: mib(before),
      rssPeakMiB: mib(peak),
      rssEndMiB: mib(rssBytes()),
      peakMappedMiB: mib(stats.peakMappedBytes),
      viewBudgetMiB: mib(stats.maxBytes),
    };
  } finally {
    doc.close();
  }
}
