// The search bar end to end: Ctrl+F, hex bytes of a block past 4 GiB in the 64 GiB fixture (the
// grid jumps there with the hit selected and highlighted), Find next/previous and wraparound,
// Find all against offsets computed here from the fixture's bytes, an invalid pattern shown
// inline, and Cancel of a long search (a pattern absent from 64 GiB of holes).
//
// Find all scans the whole file: on the 64 GiB fixture that takes far longer than a test should,
// so the find-all test uses a 4.25 GiB sparse file (blocks on both sides of 4 GiB) made here.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BIG_SIZE, BLOCK, GiB, readBytes, seededBytes } from "./fixture-files";
import { expect, test, type Hexmap } from "./fixtures";

/** Every offset of `needle` in `regions` of `file` (read from disk); the rest of the file is zeros. */
function occurrences(file: string, regions: [number, number][], needle: Uint8Array): number[] {
  if (needle.includes(0)) throw new Error("a needle with a zero byte could match in the holes");
  const out: number[] = [];
  for (const [start, end] of regions) {
    const hay = readBytes(file, start, end - start);
    outer: for (let i = 0; i + needle.length <= hay.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      out.push(start + i);
    }
  }
  return out.sort((a, b) => a - b);
}

/** The 64 GiB fixture's data as disjoint regions (the two blocks around 4 GiB overlap). */
const BIG_REGIONS: [number, number][] = [
  [0, BLOCK],
  [2 ** 32 - 3, 2 ** 32 + 5 + BLOCK],
  [40 * GiB, 40 * GiB + BLOCK],
  [BIG_SIZE - BLOCK, BIG_SIZE],
];

const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, "0")).join(" ");

async function openSearch(hexmap: Hexmap) {
  await hexmap.grid().focus();
  await hexmap.page.keyboard.press("Control+f");
  const input = hexmap.page.getByTestId("search-input");
  await expect(input).toBeFocused();
  return input;
}

test.describe("search bar", () => {
  test("hex bytes of a block past 4 GiB: Enter jumps there, selects and highlights the hit; Esc closes", async ({ hexmap }) => {
    const at = 2 ** 32 + 5 + 0x1234;
    const needle = readBytes(hexmap.files.big, at, 8);
    const expected = occurrences(hexmap.files.big, BIG_REGIONS, needle);
    expect(expected[0]).toBe(at);
    const input = await openSearch(hexmap);
    await input.fill(hexOf(needle).toLowerCase());
    await expect(hexmap.page.getByTestId("search-error")).toHaveCount(0);
    await input.press("Enter");
    await expect.poll(async () => (await hexmap.status()).selStart, { timeout: 20_000 }).toBe(at);
    const status = await hexmap.status();
    expect(status.selLength).toBe(8);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows.map((r) => r.offset)).toContain(at - (at % 16));
    // The hit is marked in both panes of its row.
    const row = hexmap.page.locator(`[data-testid=row][data-offset="${at - (at % 16)}"]`);
    await expect(row.locator("[data-testid=row-hex] .hitnow").first()).toBeVisible();
    await expect(row.locator("[data-testid=row-ascii] .hitnow").first()).toBeVisible();
    // (F3 again would scan the other 60 GiB of holes: wraparound is tested on the smaller file.)
    await input.press("Escape");
    await expect(hexmap.page.getByTestId("search-bar")).toBeHidden();
    await expect(hexmap.grid()).toBeFocused();
  });

  test("an invalid pattern is explained inline while typing; Find is disabled until it is fixed", async ({ hexmap }) => {
    const input = await openSearch(hexmap);
    await input.fill("DE AD G1");
    await expect(hexmap.page.getByTestId("search-error")).toContainText('"G" at position 7');
    await expect(hexmap.page.getByTestId("search-next")).toBeDisabled();
    await expect(hexmap.page.getByTestId("search-all")).toBeDisabled();
    await input.fill("DEA");
    await expect(hexmap.page.getByTestId("search-error")).toContainText("odd number of digits");
    await input.fill("DE AD");
    await expect(hexmap.page.getByTestId("search-error")).toHaveCount(0);
    await expect(hexmap.page.getByTestId("search-next")).toBeEnabled();
    // Text mode: ASCII refuses non-ASCII text; UTF-8 takes it.
    await hexmap.page.getByTestId("search-mode").selectOption("text");
    await hexmap.page.getByTestId("search-encoding").selectOption("ascii");
    await input.fill("café");
    await expect(hexmap.page.getByTestId("search-error")).toContainText("not ASCII");
    await hexmap.page.getByTestId("search-encoding").selectOption("utf8");
    await expect(hexmap.page.getByTestId("search-error")).toHaveCount(0);
  });

  test("Cancel ends a long search: the progress bar shows, then goes with a notice", async ({ hexmap }) => {
    // Scans skip holes when the pattern cannot match zeros, so a long search needs one that can:
    // counting every run of eight zero bytes in 64 GiB of holes takes long enough to cancel.
    const needle = new Uint8Array(8);
    const input = await openSearch(hexmap);
    await input.fill(hexOf(needle));
    await hexmap.page.getByTestId("search-all").click();
    const progress = hexmap.page.getByTestId("search-progress");
    await expect(progress).toBeVisible({ timeout: 5_000 });
    await expect(progress.locator("progress")).toBeVisible();
    await hexmap.page.getByTestId("search-cancel").click();
    await expect(progress).toBeHidden({ timeout: 1_000 });
    await expect(hexmap.page.getByTestId("search-message")).toContainText("canceled");
    await expect(hexmap.page.getByTestId("search-summary")).toContainText("(canceled)");
    // Esc with nothing running closes the bar.
    await input.press("Escape");
    await expect(hexmap.page.getByTestId("search-bar")).toBeHidden();
  });

  test.describe("4.25 GiB file with planted matches", () => {
    const SIZE = 4 * GiB + 256 * 1024 * 1024;
    const HIGH = 4 * GiB + 128 * 1024 * 1024;
    const needle = Uint8Array.from([0xc0, 0xff, 0xee, 0x42]);
    // Seeded blocks, and the needle planted at the start, straddling 4 GiB, past it, at the very end.
    const blocks = [
      { offset: 1 << 20, seed: 21 },
      { offset: 2 ** 32 - BLOCK / 2, seed: 22 },
      { offset: HIGH, seed: 23 },
    ];
    const planted = [4096, (1 << 20) + 100, 2 ** 32 - 2, 2 ** 32 + 1000, HIGH + 7, SIZE - 4];
    const regions: [number, number][] = [
      [0, 8192],
      [1 << 20, (1 << 20) + BLOCK],
      [2 ** 32 - BLOCK / 2, 2 ** 32 + BLOCK / 2],
      [HIGH, HIGH + BLOCK],
      [SIZE - 8192, SIZE],
    ];
    let file = "";
    let dir = "";
    let expected: number[] = [];

    test.beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "hexmap-e2e-search-"));
      file = path.join(dir, "planted-4.25GiB.bin");
      const fd = fs.openSync(file, "w");
      try {
        fs.ftruncateSync(fd, SIZE);
        for (const b of blocks) fs.writeSync(fd, seededBytes(b.seed, BLOCK), 0, BLOCK, b.offset);
        for (const p of planted) fs.writeSync(fd, needle, 0, needle.length, p);
      } finally {
        fs.closeSync(fd);
      }
      expected = occurrences(file, regions, needle);
      for (const p of planted) if (!expected.includes(p)) throw new Error(`planted ${p} not found by the reference`);
    });
    test.afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("Find all lists the fixture's offsets; click to go; F3 / Shift+F3 step through them and wrap", async ({ hexmap }) => {
      test.setTimeout(45_000);
      await hexmap.open(file);
      const input = await openSearch(hexmap);
      await input.fill(hexOf(needle));
      await hexmap.page.getByTestId("search-all").click();
      const summary = hexmap.page.getByTestId("search-summary");
      await expect(summary).toHaveText(`${expected.length} matches`, { timeout: 30_000 });
      const listed = await hexmap.page
        .getByTestId("search-result")
        .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
      expect(listed).toEqual(expected);
      // Each result shows its context bytes with the hit marked.
      const third = hexmap.page.locator(`[data-testid=search-result][data-offset="${expected[2]}"]`);
      await expect(third.locator("mark")).toHaveText(hexOf(needle));
      // Find all goes to the first hit; clicking a result goes to it.
      await expect.poll(async () => (await hexmap.status()).selStart).toBe(expected[0]);
      await third.click();
      await expect.poll(async () => (await hexmap.status()).selStart).toBe(expected[2]);
      await hexmap.expectRowsMatchFile(file);
      // Every hit on screen is highlighted, the current one strongest (the one straddling 4 GiB spans two rows).
      await expect(hexmap.page.locator("[data-testid=row-hex] .hitnow").first()).toBeVisible();

      // F3 from the grid: the next hit; Shift+F3: back.
      await hexmap.grid().focus();
      await hexmap.page.keyboard.press("F3");
      await expect.poll(async () => (await hexmap.status()).selStart, { timeout: 10_000 }).toBe(expected[3]);
      await hexmap.page.keyboard.press("F3");
      await expect.poll(async () => (await hexmap.status()).selStart, { timeout: 10_000 }).toBe(expected[4]);
      await hexmap.page.keyboard.press("Shift+F3");
      await expect.poll(async () => (await hexmap.status()).selStart, { timeout: 10_000 }).toBe(expected[3]);
      // From the last hit, Next wraps to the first with a notice.
      await hexmap.page.locator(`[data-testid=search-result][data-offset="${expected[expected.length - 1]}"]`).click();
      await expect.poll(async () => (await hexmap.status()).selStart).toBe(expected[expected.length - 1]);
      await hexmap.page.getByTestId("search-next").click();
      await expect.poll(async () => (await hexmap.status()).selStart, { timeout: 15_000 }).toBe(expected[0]);
      await expect(hexmap.page.getByTestId("search-message")).toContainText("continued from the start");
      // A pattern that is not there says so.
      await hexmap.page.getByTestId("search-mode").selectOption("text");
      await input.fill("Hexmap-not-here");
      await input.press("Enter");
      await expect(hexmap.page.getByTestId("search-message")).toContainText("No match", { timeout: 20_000 });
    });
  });
  test("regex mode: an invalid pattern shows its message and position before Enter; Find all lists every match with its length", async ({ hexmap }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hexmap-e2e-regex-"));
    try {
      const text = "GET /a id=12 ok\nGET /b id=3456 ok\nPOST /c ID=7 id=890\n" + "\x00\x01\x02\xff".repeat(64);
      const file = path.join(dir, "regex.bin");
      fs.writeFileSync(file, text, "latin1");
      const expected = [...text.matchAll(/id=\d+/g)].map((m) => ({ at: m.index!, len: m[0].length }));
      await hexmap.open(file);
      const input = await openSearch(hexmap);
      await hexmap.page.getByTestId("search-mode").selectOption("regex");
      await expect(hexmap.page.getByTestId("search-utf8")).toBeVisible();
      await input.fill("id=(\\d+");
      await expect(hexmap.page.getByTestId("search-error")).toContainText("position");
      await expect(hexmap.page.getByTestId("search-all")).toBeDisabled();
      await expect(hexmap.page.getByTestId("search-next")).toBeDisabled();
      await input.fill("id=\\d+");
      await expect(hexmap.page.getByTestId("search-error")).toHaveCount(0);
      await hexmap.page.getByTestId("search-all").click();
      await expect(hexmap.page.getByTestId("search-summary")).toHaveText(`${expected.length} matches`, { timeout: 10_000 });
      const listed = await hexmap.page.getByTestId("search-result").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
      expect(listed).toEqual(expected.map((e) => e.at));
      // Each hit is marked with its own length.
      const second = hexmap.page.locator(`[data-testid=search-result][data-offset="${expected[1]!.at}"]`);
      await expect(second.locator("mark")).toHaveText(hexOf(Buffer.from(text.slice(expected[1]!.at, expected[1]!.at + expected[1]!.len), "latin1")));
      await expect.poll(async () => (await hexmap.status()).selStart).toBe(expected[0]!.at);
      expect((await hexmap.status()).selLength).toBe(expected[0]!.len);
      // Next from the first hit: the second, selected with its length; any case adds ID=7.
      await input.press("Enter");
      await expect.poll(async () => (await hexmap.status()).selStart).toBe(expected[1]!.at);
      expect((await hexmap.status()).selLength).toBe(expected[1]!.len);
      await hexmap.page.getByTestId("search-ignore-case").check();
      await hexmap.page.getByTestId("search-all").click();
      await expect(hexmap.page.getByTestId("search-summary")).toHaveText(`${expected.length + 1} matches`, { timeout: 10_000 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
