// Cursor and selection with the mouse and the keyboard, as the status bar reports them; the
// hex/ASCII pane switch; and the DOM cost of a row.

import { expectedRow, readBytes } from "./fixture-files";
import { expect, test } from "./fixtures";

test.describe("cursor and selection", () => {
  test("click, shift+click and shift+arrows select; the status bar reports start and length", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.rows();
    await hexmap.clickByte(0x21);
    await hexmap.expectCursor(0x21);
    expect((await hexmap.status()).selLength).toBe(0);
    await expect(page.getByTestId("status-selection")).toHaveText("none");

    await hexmap.clickByte(0x45, { shift: true });
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x45, selStart: 0x21, selLength: 0x25 });
    await expect(page.getByTestId("status-selection")).toHaveText("0x21, 37 bytes");

    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x47, selStart: 0x21, selLength: 0x27 });
    await page.keyboard.press("Shift+ArrowDown");
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x57, selStart: 0x21, selLength: 0x37 });
    // Backwards past the anchor: the selection flips to before it.
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Shift+ArrowUp");
    await page.keyboard.press("Shift+ArrowUp");
    await page.keyboard.press("Shift+ArrowUp");
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x20, selStart: 0x20, selLength: 2 });

    // The selected bytes are highlighted, in both panes, as spans inside one text run.
    await expect(page.locator("[data-testid=row][data-offset='32'] [data-testid=row-hex] .sel").first()).toBeVisible();
    await expect(page.locator("[data-testid=row][data-offset='32'] [data-testid=row-ascii] .sel").first()).toBeVisible();

    await page.keyboard.press("Escape");
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x20, selStart: null, selLength: 0 });
    // Plain arrows move the cursor and drop the selection.
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x22, selLength: 0 });
  });

  test("drag selects, in the ASCII pane too; Tab switches panes", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.rows();
    const from = await hexmap.byteBox(0x10, "ascii");
    const to = await hexmap.byteBox(0x3f, "ascii");
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x3f, selStart: 0x10, selLength: 0x30, pane: "ascii" });

    await page.keyboard.press("Tab");
    await expect.poll(() => hexmap.status().then((s) => s.pane)).toBe("hex");
    await expect(page.getByTestId("status-pane")).toHaveText("Hex");
    await page.keyboard.press("Tab");
    await expect.poll(() => hexmap.status().then((s) => s.pane)).toBe("ascii");

    // A hex-pane drag over a group gap.
    const a = await hexmap.byteBox(0x44, "hex");
    const b = await hexmap.byteBox(0x4b, "hex");
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0x4b, selStart: 0x44, selLength: 8, pane: "hex" });
  });

  test("dragging past the bottom edge scrolls and keeps extending the selection", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.rows();
    const from = await hexmap.byteBox(0x20, "hex");
    const grid = (await page.getByTestId("scrollbar").boundingBox())!;
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x, grid.y + grid.height + 30, { steps: 5 });
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow), { timeout: 5000 }).toBeGreaterThan(10);
    await page.mouse.up();
    const st = await hexmap.status();
    expect(st.selStart).toBe(0x20);
    const { topRow, fullRows } = await hexmap.gridState();
    // The cursor follows the pointer: on the last row on screen, in the column under it.
    expect(Math.floor(st.cursor / 16)).toBeGreaterThanOrEqual(topRow + fullRows - 2);
    expect(st.cursor % 16).toBe(0);
    expect(st.selLength).toBe(st.cursor - 0x20 + 1);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
  });

  test("a selection far past 4 GiB is exact", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.goto("0x9FFFFFFF8"); // 40 GiB − 8
    await hexmap.rows();
    await hexmap.clickByte(0x9fffffff8);
    await hexmap.clickByte(0xa00000007, { shift: true });
    await expect.poll(() => hexmap.status()).toMatchObject({ cursor: 0xa00000007, selStart: 0x9fffffff8, selLength: 16 });
    await expect(page.getByTestId("status-cursor-dec")).toHaveText("(42,949,672,967)");
  });

  test("Ctrl+C copies the selection as hex (hex pane) or text (ASCII pane), across pages", async ({ hexmap }) => {
    test.skip(hexmap.host !== "browser", "clipboard permissions are granted through the browser context");
    const { page } = hexmap;
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: hexmap.server!.origin });
    // 40 bytes across the 64 KiB page boundary inside the block after 4 GiB.
    const start = 2 ** 32 + 0x10000 - 20;
    await hexmap.goto("0x" + start.toString(16));
    await hexmap.rows();
    await hexmap.clickByte(start + 39, { shift: true });
    await expect.poll(() => hexmap.status()).toMatchObject({ selStart: start, selLength: 40 });
    await page.keyboard.press("Control+c");
    await expect(page.getByTestId("info-banner")).toContainText("Copied 40 bytes as hex");
    const disk = readBytes(hexmap.files.big, start, 40);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expectedRow(disk).hex);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+c");
    await expect(page.getByTestId("info-banner")).toContainText("as text");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expectedRow(disk).ascii);
  });

  test("a row costs a handful of DOM nodes, not one per byte", async ({ hexmap }) => {
    await hexmap.rows();
    const counts = await hexmap.page.evaluate(() =>
      Array.from(document.querySelectorAll("[data-testid=row]")).map((r) => r.querySelectorAll("*").length),
    );
    // offset + hex + ascii, plus a cursor span per pane on the cursor's row.
    expect(Math.max(...counts)).toBeLessThanOrEqual(5);
    expect(counts.filter((c) => c > 3).length).toBeLessThanOrEqual(1);
  });
});
