// The Strings panel against the browser host: a file of zeros with known ASCII and UTF-16LE
// strings; the panel lists them with hex offsets and counts, the filter narrows the list, the
// encoding and minimum length rescan, a click selects the string's bytes in the grid (scrolled
// there), and a string typed into the document shows up after Rescan (unsaved edits are scanned).

import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, type Hexmap } from "./fixtures";

const PLACED: { offset: number; text: string; utf16?: boolean }[] = [
  { offset: 0x100, text: "Hello, strings panel" },
  { offset: 0x500, text: "abc" }, // shorter than 4: not a string
  { offset: 0x2000, text: "GNU strings oracle" },
  { offset: 0x3000, text: "WideNeedle", utf16: true },
  { offset: 0x40000, text: "needle in the haystack" },
  { offset: 0x45000, text: "NEEDLE two" },
];

function stringsFile(hexmap: Hexmap): string {
  const bytes = Buffer.alloc(0x50000);
  for (const p of PLACED) bytes.write(p.text, p.offset, p.utf16 ? "utf16le" : "latin1");
  const file = path.join(hexmap.files.dir, "strings.bin");
  fs.writeFileSync(file, bytes);
  return file;
}

test.describe("strings panel", () => {
  test.skip(({ hexmapHost }) => hexmapHost !== "browser", "browser host only");

  test("lists the strings, filters them, and a click selects one in the grid", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = stringsFile(hexmap);
    await hexmap.open(file);
    await hexmap.rows();
    await page.getByTestId("ptab-strings").click();
    const panel = page.getByTestId("strings-panel");
    const summary = page.getByTestId("strings-summary");
    const rows = panel.getByTestId("strings-row");

    await expect(summary).toHaveText("4 strings (4 shown)");
    await expect(rows).toHaveCount(4);
    await expect(rows.nth(0)).toContainText("00000100");
    await expect(rows.nth(0)).toContainText("Hello, strings panel");
    expect(await rows.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.offset)))).toEqual([0x100, 0x2000, 0x40000, 0x45000]);

    // Filter: substring, any case.
    await page.getByTestId("strings-filter").fill("needle");
    await expect(summary).toHaveText("4 strings (2 shown)");
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(1)).toContainText("00045000");
    await expect(rows.nth(1)).toContainText("NEEDLE two");

    // A click selects the string's bytes and scrolls there.
    await rows.nth(1).click();
    await expect.poll(async () => (await hexmap.status()).selStart).toBe(0x45000);
    expect((await hexmap.status()).selLength).toBe("NEEDLE two".length);
    await expect.poll(() => hexmap.topOffset()).toBeGreaterThan(0x44000);
    expect(await hexmap.topOffset()).toBeLessThanOrEqual(0x45000);

    // Both encodings: the UTF-16LE one appears, 2 bytes a character.
    await page.getByTestId("strings-encoding").selectOption("all");
    await expect(summary).toHaveText("5 strings (3 shown)");
    const wide = rows.filter({ hasText: "WideNeedle" });
    await expect(wide).toHaveCount(1);
    await expect(wide).toContainText("00003000");
    await wide.click();
    await expect.poll(async () => (await hexmap.status()).selStart).toBe(0x3000);
    expect((await hexmap.status()).selLength).toBe(20);

    // A longer minimum length drops the short ones.
    await page.getByTestId("strings-filter").fill("");
    await page.getByTestId("strings-min").fill("12");
    await expect(summary).toHaveText("3 strings (3 shown)");
    await page.getByTestId("strings-min").fill("0");
    await expect(panel.getByRole("alert")).toContainText("whole number from 1 to 1024");
  });

  test("unsaved edits are scanned: a typed string appears after Rescan", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = stringsFile(hexmap);
    await hexmap.open(file);
    await hexmap.rows();
    await page.getByTestId("ptab-strings").click();
    const summary = page.getByTestId("strings-summary");
    await expect(summary).toHaveText("4 strings (4 shown)");

    await hexmap.clickByte(0x80, { pane: "ascii" });
    await hexmap.expectCursor(0x80);
    await page.keyboard.type("TYPEDWORD");
    await expect(page.getByTestId("strings-stale")).toBeVisible();
    await page.getByTestId("strings-rescan").click();
    await expect(summary).toHaveText("5 strings (5 shown)");
    const typed = page.getByTestId("strings-row").first();
    await expect(typed).toContainText("00000080");
    await expect(typed).toContainText("TYPEDWORD");
    await expect(page.getByTestId("strings-stale")).toHaveCount(0);
    // Nothing was written to the file.
    expect(fs.readFileSync(file).subarray(0x80, 0x89).every((b) => b === 0)).toBe(true);
  });
});
