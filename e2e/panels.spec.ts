// The panels of issue 8 against the browser host: data inspector, byte map (+ screenshot), histogram,
// bookmarks (persist across a reload, F2), copy as C array, checksums vs node:crypto, compare of
// two small files — and the 64 GiB sparse fixture stays responsive while jobs run.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readBytes, seededBytes } from "./fixture-files";
import { expect, test, type Hexmap } from "./fixtures";

// Bookmarks go to a throw-away config folder (read by the host at each request).
process.env.HEXMAP_CONFIG_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "hexmap-e2e-config-"));

/** 256 seeded bytes with some text, for the inspector, histogram and copy tests. */
function smallFile(hexmap: Hexmap, name: string, bytes: Uint8Array): string {
  const file = path.join(hexmap.files.dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function tab(hexmap: Hexmap, id: string): Promise<void> {
  await hexmap.page.getByTestId(`ptab-${id}`).click();
}

test.describe("panels", () => {
  test.skip(({ hexmapHost }) => hexmapHost !== "browser", "browser host only");

  test("inspector shows the values at the cursor; the endian toggle flips them", async ({ hexmap }) => {
    const { page } = hexmap;
    const bytes = Buffer.from(seededBytes(77, 256));
    const file = smallFile(hexmap, "inspect.bin", bytes);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(0x13);
    await hexmap.expectCursor(0x13);
    const at = 0x13;
    const v = (id: string) => page.getByTestId(`inspect-${id}`);
    await expect(page.getByTestId("inspector-offset")).toHaveText("0x13");
    await expect(v("uint8")).toHaveText(String(bytes.readUInt8(at)));
    await expect(v("int8")).toHaveText(String(bytes.readInt8(at)));
    await expect(v("int16")).toHaveText(String(bytes.readInt16LE(at)));
    await expect(v("uint32")).toHaveText(String(bytes.readUInt32LE(at)));
    await expect(v("int64")).toHaveText(String(bytes.readBigInt64LE(at)));
    await expect(v("binary")).toHaveText(bytes[at]!.toString(2).padStart(8, "0"));
    await page.getByTestId("endian-big").click();
    await expect(v("uint32")).toHaveText(String(bytes.readUInt32BE(at)));
    await expect(v("uint64")).toHaveText(String(bytes.readBigUInt64BE(at)));
    await expect(v("uint16")).toHaveText(String(bytes.readUInt16BE(at)));
  });

  test("inspector: a typed value goes through the edit overlay and undoes", async ({ hexmap }) => {
    const { page } = hexmap;
    const bytes = Buffer.from(seededBytes(78, 64));
    const file = smallFile(hexmap, "inspect-edit.bin", bytes);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(4);
    await hexmap.expectCursor(4);
    await page.getByTestId("inspect-uint16").dblclick();
    await page.getByTestId("inspector-input").fill("0x1234");
    await page.getByTestId("inspector-input").press("Enter");
    await expect(page.getByTestId("inspect-uint16")).toHaveText(String(0x1234));
    const hexOf = async () => (await hexmap.rows())[0]!.hex.split(" ").slice(4, 6).join(" ");
    await expect.poll(hexOf).toBe("34 12");
    // A value that does not fit is refused with a sentence, nothing written.
    await page.getByTestId("inspect-uint8").dblclick();
    await page.getByTestId("inspector-input").fill("300");
    await page.getByTestId("inspector-input").press("Enter");
    await expect(page.getByTestId("inspector").getByRole("alert")).toBeVisible();
    await page.getByTestId("inspector-input").press("Escape");
    await hexmap.grid().focus();
    await page.keyboard.press("Control+z");
    await expect.poll(hexOf).toBe(`${bytes[4]!.toString(16).toUpperCase().padStart(2, "0")} ${bytes[5]!.toString(16).toUpperCase().padStart(2, "0")}`);
    expect(fs.readFileSync(file)).toEqual(bytes);
  });

  test("byte map of the 64 GiB file appears at once, refines, and a click jumps there", async ({ hexmap }) => {
    const { page } = hexmap;
    const map = page.getByTestId("bytemap");
    const t0 = Date.now();
    await expect.poll(async () => Number(await map.getAttribute("data-slices")), { timeout: 5000 }).toBeGreaterThan(0);
    const firstMs = Date.now() - t0;
    expect(firstMs, "first map within 3 s of the page").toBeLessThan(3000);
    await expect(map).toHaveAttribute("data-done", "true", { timeout: 20_000 });
    const box = (await map.boundingBox())!;
    const slices = Number(await map.getAttribute("data-slices"));
    const size = 64 * 1024 ** 3;
    // Click 5/8 down the strip: 40 GiB, where a random block sits.
    const y = box.height * 0.625 + 0.5;
    await page.mouse.click(box.x + box.width / 2, box.y + y);
    const slice = Math.min(slices - 1, Math.floor((y / box.height) * slices));
    const q = Math.floor(size / slices);
    const r = size - q * slices;
    const startOf = (i: number) => i * q + Math.floor((i * r) / slices);
    // The start of the slice under the pointer (±1 slice for sub-pixel rounding of the click).
    await expect.poll(async () => [slice - 1, slice, slice + 1].map(startOf).includes((await hexmap.status()).cursor)).toBe(true);
    expect(Math.abs((await hexmap.status()).cursor - 40 * 1024 ** 3)).toBeLessThan(2 * q);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    await hexmap.screenshot("bytemap.png");
  });

  test("histogram of a selection is a chart of the selected bytes", async ({ hexmap }) => {
    const { page } = hexmap;
    const bytes = Buffer.concat([Buffer.from(seededBytes(5, 128)), Buffer.from("text text text text text text text text text text text text text text text text!!!!!!!!!!!!!!!!", "latin1")]);
    const file = smallFile(hexmap, "hist.bin", bytes);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(0x10);
    await hexmap.clickByte(0x8f, { shift: true });
    await tab(hexmap, "histogram");
    const chart = page.getByTestId("histogram-chart");
    await expect(chart).toHaveAttribute("data-length", String(0x80));
    const distinct = new Set(bytes.subarray(0x10, 0x90)).size;
    await expect(chart.locator("rect")).toHaveCount(distinct);
    await expect(chart.locator("text", { hasText: "byte value" })).toHaveCount(1);
    await page.getByTestId("histogram-log").check();
    await expect(chart.locator("text", { hasText: "count (log)" })).toHaveCount(1);
  });

  test("bookmarks: Ctrl+B adds, they survive a reload, F2 / Shift+F2 go to them", async ({ hexmap }) => {
    const { page } = hexmap;
    const first = 2 ** 32 - 3;
    const second = 40 * 1024 ** 3 + 0x20;
    await hexmap.goto(`0x${first.toString(16)}`);
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Control+b");
    await hexmap.goto(`0x${second.toString(16)}`);
    await page.keyboard.press("Control+b");
    await tab(hexmap, "bookmarks");
    await expect(page.getByTestId("bookmark")).toHaveCount(2);
    await expect(page.getByTestId("bookmark").first()).toHaveAttribute("data-length", "3");

    await page.reload();
    await expect(page.locator(`[data-testid=tab][title="${hexmap.files.big}"]`)).toBeVisible();
    await tab(hexmap, "bookmarks");
    await expect(page.getByTestId("bookmark")).toHaveCount(2);
    await expect(page.getByTestId("bookmark").nth(0)).toHaveAttribute("data-offset", String(first));
    await expect(page.getByTestId("bookmark").nth(1)).toHaveAttribute("data-offset", String(second));

    await hexmap.grid().focus();
    await page.keyboard.press("F2");
    await hexmap.expectCursor(first);
    await expect.poll(async () => (await hexmap.status()).selLength).toBe(3);
    await page.keyboard.press("F2");
    await hexmap.expectCursor(second);
    await page.keyboard.press("Shift+F2");
    await hexmap.expectCursor(first);
    // Clean up for the other tests of this worker.
    await page.getByTestId("bookmark-delete").first().click();
    await page.getByTestId("bookmark-delete").first().click();
    await expect(page.getByTestId("bookmark")).toHaveCount(0);
  });

  test("copy as C array: the clipboard and the text shown hold the selected bytes", async ({ hexmap }) => {
    const { page } = hexmap;
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    const bytes = Buffer.from(seededBytes(31, 64));
    const file = smallFile(hexmap, "copy.bin", bytes);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(2);
    await hexmap.clickByte(0x1b, { shift: true });
    await tab(hexmap, "copy");
    await page.getByTestId("copy-format").selectOption("c");
    await page.getByTestId("copy-as").click();
    const sel = bytes.subarray(2, 0x1c);
    const rows: string[] = [];
    for (let i = 0; i < sel.length; i += 12) rows.push("    " + Array.from(sel.subarray(i, i + 12), (b) => `0x${b.toString(16).toUpperCase().padStart(2, "0")}`).join(", "));
    const want = `unsigned char data[${sel.length}] = {\n${rows.join(",\n")}\n};`;
    await expect(page.getByTestId("copy-text")).toHaveValue(want);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(want);
  });

  test("checksums of a selection across 4 GiB equal node:crypto; a whole-file hash of 64 GiB can be cancelled", async ({ hexmap }) => {
    const { page } = hexmap;
    const start = 2 ** 32 - 0x40;
    await hexmap.goto(`0x${start.toString(16)}`);
    await hexmap.rows();
    const end = start + 0xbf;
    await hexmap.clickByte(end, { shift: true });
    await expect.poll(async () => (await hexmap.status()).selLength).toBe(0xc0);
    await tab(hexmap, "checksums");
    await page.getByTestId("hash-run").click();
    const bytes = readBytes(hexmap.files.big, start, 0xc0);
    await expect(page.getByTestId("hash-sha256")).toHaveText(createHash("sha256").update(bytes).digest("hex"));
    await expect(page.getByTestId("hash-md5")).toHaveText(createHash("md5").update(bytes).digest("hex"));
    await expect(page.getByTestId("hash-sha1")).toHaveText(createHash("sha1").update(bytes).digest("hex"));

    // The whole 64 GiB file: progress shows, the grid still scrolls, Cancel stops it.
    await page.getByTestId("hash-scope-file").click();
    await page.getByTestId("hash-run").click();
    await expect(page.getByTestId("job-progress")).toBeVisible();
    await hexmap.grid().focus();
    await page.keyboard.press("Control+Home");
    await hexmap.expectCursor(0);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    await page.getByTestId("job-cancel").click();
    await expect(page.getByTestId("checksums").getByRole("alert")).toHaveText("Cancelled.");
  });

  test("compare two small files: count, next and previous difference", async ({ hexmap }) => {
    const { page } = hexmap;
    const a = Buffer.from(seededBytes(9, 4096));
    const b = Buffer.from(a);
    const diffs = [0x11, 0x12, 0x400, 0xfff];
    for (const d of diffs) b[d] = b[d]! ^ 0xff;
    const fa = smallFile(hexmap, "cmp-a.bin", a);
    const fb = smallFile(hexmap, "cmp-b.bin", b);
    await hexmap.open(fb);
    await hexmap.open(fa);
    await tab(hexmap, "compare");
    await page.getByTestId("compare-with").selectOption({ label: fb });
    await page.getByTestId("compare-open").click();
    await expect(page.getByTestId("compare-count")).toHaveAttribute("data-differences", String(diffs.length));
    const cursor = page.getByTestId("compare-cursor");
    await page.getByTestId("compare-next").click();
    await expect(cursor).toHaveAttribute("data-offset", String(0x11));
    await page.getByTestId("compare-next").click();
    await expect(cursor).toHaveAttribute("data-offset", String(0x12));
    await page.getByTestId("compare-next").click();
    await expect(cursor).toHaveAttribute("data-offset", String(0x400));
    // Differing bytes are highlighted in both panes.
    await expect(page.locator(`[data-testid=compare-a] .diff[data-offset="${0x400}"]`)).toHaveCount(1);
    await expect(page.locator(`[data-testid=compare-b] .diff[data-offset="${0x400}"]`)).toHaveCount(1);
    await page.getByTestId("compare-prev").click();
    await expect(cursor).toHaveAttribute("data-offset", String(0x12));
    await page.getByTestId("compare-body").focus();
    await page.keyboard.press("F7");
    await expect(cursor).toHaveAttribute("data-offset", String(0x400));
    await page.keyboard.press("F7");
    await expect(cursor).toHaveAttribute("data-offset", String(0xfff));
    await hexmap.screenshot("compare.png");
    await page.getByTestId("compare-close").click();
    await expect(page.getByTestId("compare")).toBeHidden();
  });
});
