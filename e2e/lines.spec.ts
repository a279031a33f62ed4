// The log view end to end (issue 6): a generated, seeded 200 000-line log opens in the line view
// with its first screen right; Go to line shows that line's text from the file; Ctrl+T to the
// hex grid (cursor at the line's first byte) and back; a 1 MB line is cut with a marker and
// opens whole, page by page; a regex filter shows exactly the matching lines with their real
// numbers; follow mode shows appended lines and stays at the end, and a rotation reloads with a
// notice. The fixtures are made here and deleted afterwards.

import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, type Hexmap } from "./fixtures";

const LINES = 200_000;
const LONG_LINE = 1234;
const LONG_BYTES = 1_000_000;
const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const WORDS = ["disk", "net", "cache", "auth", "db", "queue", "timer", "gc"];

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The log's lines (no newlines), seeded. */
function makeLines(count: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 1; i <= count; i++) {
    if (i === LONG_LINE) {
      out.push("LONG " + "x".repeat(LONG_BYTES - 10) + " END");
      continue;
    }
    const level = LEVELS[Math.floor(r() * LEVELS.length)]!;
    const word = WORDS[Math.floor(r() * WORDS.length)]!;
    out.push(`2024-05-01T12:${String(i % 60).padStart(2, "0")}:00Z ${level} ${word} request=${Math.floor(r() * 1e6)} line ${i}`);
  }
  return out;
}

function write(file: string, lines: string[]): void {
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

async function openLog(hexmap: Hexmap, file: string): Promise<void> {
  const { page } = hexmap;
  await page.getByTestId("open-path").fill(file);
  await page.getByTestId("open-path").press("Enter");
  await expect(page.locator(`[data-testid=tab][title="${file}"]`)).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("line-view")).toBeVisible();
}

function row(hexmap: Hexmap, n: number) {
  return hexmap.page.locator(`[data-testid=line-row][data-line="${n}"]`);
}

async function expectLine(hexmap: Hexmap, n: number, text: string): Promise<void> {
  await expect(row(hexmap, n).getByTestId("line-text")).toHaveText(text);
}

async function gotoLine(hexmap: Hexmap, n: number | string): Promise<void> {
  await hexmap.page.getByTestId("line-view").focus();
  await hexmap.page.keyboard.press("Control+l");
  await hexmap.page.getByTestId("goto-line-input").fill(String(n));
  await hexmap.page.getByTestId("goto-line-input").press("Enter");
  await expect(hexmap.page.getByTestId("goto-line-dialog")).toHaveCount(0);
}

test.describe("log view", () => {
  let dir: string;
  let log: string;
  let lines: string[];

  test.beforeAll(() => {
    dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "hexmap-lines-e2e-"));
    log = path.join(dir, "app.log");
    lines = makeLines(LINES, 42);
    write(log, lines);
  });
  test.afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a text log opens as lines; goto line; Ctrl+T to hex and back; a long line is cut and opens whole", async ({ hexmap }) => {
    test.setTimeout(45_000);
    const { page } = hexmap;
    await openLog(hexmap, log);
    // The first screen, line by line as in the file.
    const view = page.getByTestId("line-view");
    await expect(view).toHaveAttribute("data-line-count", String(LINES));
    const full = Number(await view.getAttribute("data-full-rows"));
    expect(full).toBeGreaterThan(10);
    for (let n = 1; n <= full; n++) await expectLine(hexmap, n, lines[n - 1]!);
    await expect(page.getByTestId("lines-status-line")).toHaveText(`1 of ${LINES.toLocaleString("en-US")}`);
    await expect(page.getByTestId("lines-encoding")).toHaveValue("utf-8");

    // Go to line N: that line's text, from the file.
    const n = 150_001;
    await gotoLine(hexmap, n);
    await expectLine(hexmap, n, lines[n - 1]!);
    await expectLine(hexmap, n + 3, lines[n + 2]!);
    await expect(page.getByTestId("lines-status-line")).toHaveAttribute("data-line", String(n));

    // To hex (the cursor on the line's first byte) and back to the same line.
    await page.keyboard.press("Control+t");
    await expect(page.getByTestId("hex-grid")).toBeVisible();
    const offset = Buffer.byteLength(lines.slice(0, n - 1).join("\n") + "\n");
    await hexmap.expectCursor(offset);
    await page.getByTestId("hex-grid").focus();
    await page.keyboard.press("Control+t");
    await expect(view).toBeVisible();
    await expectLine(hexmap, n, lines[n - 1]!);

    // Percent: 50% lands on the line holding the middle byte.
    await gotoLine(hexmap, "50%");
    const size = fs.statSync(log).size;
    const mid = Math.floor(size / 2);
    let acc = 0;
    let want = 1;
    for (let i = 0; i < lines.length; i++) {
      acc += Buffer.byteLength(lines[i]!) + 1;
      if (acc > mid) {
        want = i + 1;
        break;
      }
    }
    await expect(page.getByTestId("lines-status-line")).toHaveAttribute("data-line", String(want));
    await expectLine(hexmap, want, lines[want - 1]!);

    // The 1 MB line: cut at 4 KiB with a marker; opened whole a page at a time.
    await gotoLine(hexmap, LONG_LINE);
    const long = row(hexmap, LONG_LINE);
    await expect(long.getByTestId("line-more")).toHaveText(/… \[\+99\d KB\]/);
    const shown = (await long.getByTestId("line-text").textContent())!;
    expect(shown.length).toBe(4096);
    expect(lines[LONG_LINE - 1]!.startsWith(shown)).toBe(true);
    await long.getByTestId("line-more").click();
    const dialog = page.getByTestId("long-line-dialog");
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId("long-line-pos")).toHaveAttribute("data-end", String(256 * 1024));
    expect(await page.getByTestId("long-line-text").textContent()).toBe(lines[LONG_LINE - 1]!.slice(0, 256 * 1024));
    for (let i = 0; i < 3; i++) await page.getByTestId("long-line-next").click();
    await expect(page.getByTestId("long-line-pos")).toHaveAttribute("data-done", "true");
    expect((await page.getByTestId("long-line-text").textContent())!.endsWith(" END")).toBe(true);
    await page.getByTestId("long-line-close").click();
    await expect(dialog).toHaveCount(0);
    // The lines around it are whole.
    await expectLine(hexmap, LONG_LINE + 1, lines[LONG_LINE]!);
  });

  test("a regex filter shows only the matching lines with their real numbers; find next", async ({ hexmap }) => {
    test.setTimeout(45_000);
    const { page } = hexmap;
    await openLog(hexmap, log);
    const re = /ERROR (disk|db) request=\d*7\b/;
    const expected: number[] = [];
    lines.forEach((l, i) => {
      if (re.test(l.slice(0, 64 * 1024))) expected.push(i + 1);
    });
    expect(expected.length).toBeGreaterThan(100);

    // Find next (plain text) from line 1.
    await page.getByTestId("lines-find").fill("ERROR db");
    await page.getByTestId("lines-find").press("Enter");
    const firstDb = lines.findIndex((l) => l.toLowerCase().includes("error db")) + 1;
    await expect(page.getByTestId("lines-status-line")).toHaveAttribute("data-line", String(firstDb));

    await page.getByTestId("lines-find-regex").check();
    await page.getByTestId("lines-find-case").check();
    await page.getByTestId("lines-find").fill(re.source);
    await page.getByTestId("lines-filter").click();
    const bar = page.getByTestId("filter-bar");
    await expect(bar).toHaveAttribute("data-done", "true", { timeout: 15_000 });
    await expect(bar).toHaveAttribute("data-matches", String(expected.length));
    const view = page.getByTestId("line-view");
    const full = Number(await view.getAttribute("data-full-rows"));
    for (let i = 0; i < Math.min(full, expected.length); i++) {
      await expect(page.locator(`[data-testid=line-row][data-row="${i}"]`)).toHaveAttribute("data-line", String(expected[i]));
    }
    await expectLine(hexmap, expected[0]!, lines[expected[0]! - 1]!);
    // The end of the filtered list.
    await view.focus();
    await page.keyboard.press("Control+End");
    const last = expected[expected.length - 1]!;
    await expectLine(hexmap, last, lines[last - 1]!);
    // A bad regex is refused with the engine's sentence.
    await page.getByTestId("lines-find").fill("(unclosed");
    await page.getByTestId("lines-filter").click();
    await expect(page.getByRole("alert").filter({ hasText: /Invalid regular expression/ })).toBeVisible();
    // Esc shows all lines again, on the line the cursor was on.
    await view.focus();
    await page.keyboard.press("Escape");
    await expect(bar).toHaveCount(0);
    await expectLine(hexmap, last, lines[last - 1]!);
  });

  test("follow: appended lines appear and the view stays at the end; a rotation reloads with a notice", async ({ hexmap }) => {
    test.setTimeout(40_000);
    const { page } = hexmap;
    const file = path.join(dir, "follow.log");
    const first = makeLines(1000, 7).map((l) => l.replace(/^LONG.*/, "short"));
    write(file, first);
    await openLog(hexmap, file);
    const view = page.getByTestId("line-view");
    await expect(view).toHaveAttribute("data-line-count", "1000");
    await page.getByTestId("lines-follow").check();
    await expect(view).toHaveAttribute("data-following", "true");
    await expectLine(hexmap, 1000, first[999]!);

    const more = Array.from({ length: 50 }, (_, i) => `appended ${i + 1001}`);
    fs.appendFileSync(file, more.join("\n") + "\n");
    await expect(view).toHaveAttribute("data-line-count", "1050", { timeout: 10_000 });
    await expectLine(hexmap, 1050, "appended 1050");
    // At the end: the last line is the last row on screen.
    const top = Number(await view.getAttribute("data-top-row"));
    const full = Number(await view.getAttribute("data-full-rows"));
    expect(top + full).toBe(1050);

    // Rotation: rename away, a new file in its place.
    fs.renameSync(file, file + ".1");
    write(file, ["rotated 1", "rotated 2", "rotated 3"]);
    await expect(page.getByTestId("lines-notice")).toContainText(/replaced|rotat/i, { timeout: 10_000 });
    await expect(view).toHaveAttribute("data-line-count", "3");
    await expectLine(hexmap, 3, "rotated 3");
    await expectLine(hexmap, 1, "rotated 1");
    // And it keeps following the new file.
    fs.appendFileSync(file, "rotated 4\n");
    await expectLine(hexmap, 4, "rotated 4");
  });
});
