// UI benchmark (issue 3), in the browser host with system Chromium through Playwright. Not a test:
// it asserts nothing about time.
//   1. Go to: time from Enter in the Ctrl+G dialog to the right bytes painted (the target row in
//      the DOM with the file's bytes, seen in a requestAnimationFrame callback), over 50 seeded
//      random offsets in a 64 GiB sparse file, p50/p95. Peer: `xxd -s OFF -l <one screen>` of the
//      same offsets (spawn to output), the command-line way to see those bytes.
//   2. Frame times while scrolling continuously for 5 s, from requestAnimationFrame deltas:
//      (a) mouse wheel, 120 px notches as fast as input is delivered; (b) dragging the scrollbar
//      thumb through the whole file (every frame a cold page). p50/p95 and frames over 50 ms.
// Prints a table and writes bench/results/ui.json.
//
// Run: npx tsc -p tsconfig.json && node dist/bench/ui-bench.js   (npm run bench -- ui)
// Options (env): BENCH_GOTOS (default 50), BENCH_SCROLL_MS (default 5000), CHROMIUM_PATH.

import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Page } from "@playwright/test";
import { startServer } from "../app/serve/server";
import { BIG_SIZE, BLOCK, BLOCKS, expectedRow, makeFixtures, readBytes, removeFixtures } from "../e2e/fixture-files";
import { percentile, root, writeResult } from "./common";

const GOTOS = Number(process.env.BENCH_GOTOS ?? 50);
const SCROLL_MS = Number(process.env.BENCH_SCROLL_MS ?? 5000);
const BPR = 16;

const sortNum = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Seeded offsets: half inside the seeded blocks (distinct bytes), half anywhere in the file. */
function randomOffsets(n: number): number[] {
  let s = 0x5eed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      const b = BLOCKS[Math.floor(rnd() * BLOCKS.length)]!;
      out.push(Math.min(BIG_SIZE - 1, b.offset + Math.floor(rnd() * BLOCK)));
    } else {
      out.push(Math.floor(rnd() * (BIG_SIZE / 4096)) * 4096 + Math.floor(rnd() * 4096));
    }
  }
  return out;
}

async function gotoLatency(page: Page, file: string, offset: number): Promise<number> {
  const rowOffset = offset - (offset % BPR);
  const want = expectedRow(readBytes(file, rowOffset, BPR)).hex;
  await page.getByTestId("hex-grid").focus();
  await page.keyboard.press("Control+g");
  const input = page.getByTestId("goto-input");
  await input.fill("0x" + offset.toString(16));
  // Arm the watcher in the page, then press Enter; both timestamps are taken in the page.
  await page.evaluate(
    ({ rowOffset, want }) => {
      // Runs in the page (typed loosely: this program is compiled without the DOM library).
      const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      const doc = w.document;
      w.__bench = new Promise<number>((resolve) => {
        let t0 = 0;
        const onKey = (e: { key: string }) => {
          if (e.key === "Enter") t0 = w.performance.now();
        };
        doc.addEventListener("keydown", onKey, { capture: true });
        const check = () => {
          const row = doc.querySelector(`[data-testid=row][data-offset="${rowOffset}"]`);
          const hex = row?.querySelector("[data-testid=row-hex]")?.textContent?.trim().split(/\s+/).join(" ");
          if (t0 && row && row.dataset.loading !== "true" && hex === want) {
            doc.removeEventListener("keydown", onKey, { capture: true });
            resolve(w.performance.now() - t0);
          } else w.requestAnimationFrame(check);
        };
        w.requestAnimationFrame(check);
      });
    },
    { rowOffset, want },
  );
  await input.press("Enter");
  return page.evaluate(() => (globalThis as unknown as { __bench: Promise<number> }).__bench);
}

async function startFrameRecorder(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    w.__frames = [] as number[];
    w.__recording = true;
    let last = 0;
    const tick = (t: number) => {
      w.__frames.push(t - last);
      last = t;
      if (w.__recording) w.requestAnimationFrame(tick);
    };
    w.requestAnimationFrame((t: number) => {
      last = t;
      w.requestAnimationFrame(tick);
    });
  });
}

async function stopFrameRecorder(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = globalThis as unknown as { __frames: number[]; __recording: boolean };
    w.__recording = false;
    return w.__frames;
  });
}

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  over50: number;
  rowsMoved: number;
}

function frameStats(deltas: number[], rowsMoved: number): FrameStats {
  const s = sortNum(deltas);
  return {
    frames: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    max: s[s.length - 1] ?? 0,
    over50: s.filter((d) => d > 50).length,
    rowsMoved,
  };
}

async function topRow(page: Page): Promise<number> {
  return Number(await page.getByTestId("hex-grid").getAttribute("data-top-row"));
}

async function wheelScroll(page: Page): Promise<FrameStats> {
  await page.getByTestId("hex-grid").focus();
  await page.keyboard.press("Control+Home");
  const box = (await page.getByTestId("hex-grid").boundingBox())!;
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  const start = await topRow(page);
  await startFrameRecorder(page);
  const until = Date.now() + SCROLL_MS;
  while (Date.now() < until) await page.mouse.wheel(0, 120);
  const frames = await stopFrameRecorder(page);
  return frameStats(frames, (await topRow(page)) - start);
}

async function thumbScroll(page: Page): Promise<FrameStats> {
  await page.getByTestId("hex-grid").focus();
  await page.keyboard.press("Control+Home");
  const track = (await page.getByTestId("scrollbar").boundingBox())!;
  const thumb = (await page.getByTestId("scrollbar-thumb").boundingBox())!;
  const x = thumb.x + thumb.width / 2;
  const y0 = thumb.y + thumb.height / 2;
  const travel = track.height - thumb.height;
  await page.mouse.move(x, y0);
  await page.mouse.down();
  await startFrameRecorder(page);
  const started = Date.now();
  let rows = 0;
  let last = await topRow(page);
  for (;;) {
    const t = (Date.now() - started) / SCROLL_MS;
    if (t >= 1) break;
    // Down and back up once: every position is a different part of the 64 GiB file.
    const f = t < 0.5 ? t * 2 : 2 - t * 2;
    await page.mouse.move(x, y0 + f * travel);
    const now = await topRow(page);
    rows += Math.abs(now - last);
    last = now;
  }
  const frames = await stopFrameRecorder(page);
  await page.mouse.up();
  return frameStats(frames, rows);
}

function xxdLatency(file: string, offsets: number[], rows: number): { p50: number; p95: number } | null {
  const probe = spawnSync("xxd", ["-v"], { encoding: "utf8" });
  if (probe.error) return null;
  const times: number[] = [];
  for (const off of offsets) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync("xxd", ["-s", String(off - (off % BPR)), "-l", String(rows * BPR), file], { encoding: "utf8" });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0) return null;
    times.push(Number(t1 - t0) / 1e6);
  }
  const s = sortNum(times);
  return { p50: percentile(s, 50), p95: percentile(s, 95) };
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(root, "scripts", "build-renderer.js")], { cwd: root, stdio: "inherit" });
  const fixtures = makeFixtures();
  const server = await startServer({ file: fixtures.big, rendererDir: path.join(root, "dist", "renderer"), port: 0 });
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const browser = await chromium.launch({
    headless: true,
    ...(process.platform === "win32" && !fs.existsSync(executablePath) ? { channel: "msedge" } : { executablePath }),
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.locator("[data-testid=row]:not([data-loading])").first().waitFor();
    const fullRows = Number(await page.getByTestId("hex-grid").getAttribute("data-full-rows"));

    // Warm-up: one goto so the first measured one does not pay for JIT and layout.
    await gotoLatency(page, fixtures.big, 12345);
    const offsets = randomOffsets(GOTOS);
    const gotoTimes: number[] = [];
    for (const off of offsets) gotoTimes.push(await gotoLatency(page, fixtures.big, off));
    const g = sortNum(gotoTimes);
    const xxd = xxdLatency(fixtures.big, offsets, fullRows);

    const wheel = await wheelScroll(page);
    const thumb = await thumbScroll(page);

    const chromiumVersion = browser.version();
    const result = {
      date: new Date().toISOString(),
      chromium: chromiumVersion,
      viewport: { width: 1280, height: 800, rows: fullRows },
      file: { size: BIG_SIZE, sparse: true, seededBlocks: BLOCKS.length },
      goto: {
        samples: g.length,
        p50Ms: percentile(g, 50),
        p95Ms: percentile(g, 95),
        maxMs: g[g.length - 1],
        peer: xxd ? { name: `xxd -s OFF -l ${fullRows * BPR} (spawn → output)`, p50Ms: xxd.p50, p95Ms: xxd.p95 } : null,
      },
      scroll: { durationMs: SCROLL_MS, wheel, thumbDrag: thumb },
    };

    const f = (n: number) => n.toFixed(1);
    console.log("");
    console.log("UI bench — browser host, Chromium " + chromiumVersion + `, 64 GiB sparse file, ${fullRows} rows on screen`);
    console.log("");
    console.log("| measure                                   |      p50 |      p95 |      max | notes");
    console.log("|-------------------------------------------|---------:|---------:|---------:|------");
    console.log(
      `| Go to: Enter → right bytes painted (ms)   | ${f(result.goto.p50Ms).padStart(8)} | ${f(result.goto.p95Ms).padStart(8)} | ${f(result.goto.maxMs ?? 0).padStart(8)} | ${g.length} random offsets`,
    );
    if (xxd) {
      console.log(
        `|   peer: xxd of the same screen (ms)       | ${f(xxd.p50).padStart(8)} | ${f(xxd.p95).padStart(8)} |          | ratio p50 ${(result.goto.p50Ms / xxd.p50).toFixed(2)}`,
      );
    }
    for (const [name, s] of [
      ["wheel", wheel],
      ["thumb drag", thumb],
    ] as const) {
      console.log(
        `| ${`Scroll (${name}): frame time (ms)`.padEnd(41)} | ${f(s.p50).padStart(8)} | ${f(s.p95).padStart(8)} | ${f(s.max).padStart(8)} | ${s.frames} frames, ${s.over50} over 50 ms, ${s.rowsMoved.toLocaleString("en-US")} rows moved`,
      );
    }
    console.log("");
    console.log(`wrote ${path.relative(root, writeResult("ui", result))}`);
  } finally {
    await browser.close();
    await server.close();
    removeFixtures(fixtures.dir);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
