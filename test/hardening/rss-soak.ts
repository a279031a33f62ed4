// The long variant of the RSS bound: `node dist/test/hardening/rss-soak.js [seconds]` (default
// 60) reads 4 KiB pages at random across a 64 GiB sparse file and prints one JSON line with the
// figures. Exit 1 if a read was wrong or RSS went past the stated bound (see resources.test.ts:
// RSS before + the view budget (512 MiB) + 128 MiB of slack for the JS heap and allocator).

import { cleanupFixtures } from "../fixtures";
import { makeSoakFile, randomReads } from "./rss-workload";

async function main(): Promise<number> {
  const seconds = Number(process.argv[2] ?? 60);
  const fx = makeSoakFile();
  try {
    const r = await randomReads(fx, seconds);
    const boundMiB = r.rssBeforeMiB + r.viewBudgetMiB + 128;
    console.log(JSON.stringify({ ...r, readsPerSecond: Math.round(r.reads / seconds), boundMiB }));
    return r.mismatches === 0 && r.rssPeakMiB < boundMiB ? 0 : 1;
  } finally {
    cleanupFixtures();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
