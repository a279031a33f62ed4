// Moving through a 64 GiB sparse file: Go to (every syntax), keys, wheel and the scrollbar, with
// the bytes on screen checked against the bytes on disk wherever we land.

import { BIG_SIZE, GiB, TERA_SIZE } from "./fixture-files";
import { expect, test } from "./fixtures";

test.describe("64 GiB file", () => {
  test("opens at offset 0 with a 9-digit offset column and the file's bytes", async ({ hexmap }) => {
    const status = await hexmap.status();
    expect(status.size).toBe(BIG_SIZE);
    expect(status.readOnly).toBe(true);
    expect(status.cursor).toBe(0);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows[0]!.offset).toBe(0);
    expect(rows.length).toBeGreaterThan(10);
    await expect(hexmap.page.getByTestId("row-offset").first()).toHaveText("000000000");
    await expect(hexmap.page.getByTestId("status-size")).toContainText("68,719,476,736 bytes");
  });

  const targets: [string, string, number][] = [
    ["hex past 4 GiB", "0x100000005", 2 ** 32 + 5],
    ["decimal, the block straddling 4 GiB", String(2 ** 32 - 3), 2 ** 32 - 3],
    ["hex at 40 GiB", "0xA00000000", 40 * GiB],
    ["a page boundary inside a block", "0x100010000", 2 ** 32 + 0x10000],
    ["the last byte", String(BIG_SIZE - 1), BIG_SIZE - 1],
  ];
  for (const [label, input, offset] of targets) {
    test(`Ctrl+G to ${label} (${input}) shows the file's bytes there`, async ({ hexmap }) => {
      await hexmap.goto(input);
      await hexmap.expectCursor(offset);
      const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
      const rowStart = offset - (offset % 16);
      expect(rows.map((r) => r.offset)).toContain(rowStart);
      await expect(hexmap.page.getByTestId("status-cursor-hex")).toHaveText("0x" + offset.toString(16).toUpperCase());
    });
  }

  test("Ctrl+G accepts relative (+N, -N) and percentage offsets", async ({ hexmap }) => {
    await hexmap.goto("0x100000005");
    await hexmap.goto("+0x10");
    await hexmap.expectCursor(2 ** 32 + 0x15);
    await hexmap.goto("-21");
    await hexmap.expectCursor(2 ** 32);
    await hexmap.goto("50%");
    await hexmap.expectCursor(BIG_SIZE / 2);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    await hexmap.goto("100%");
    await hexmap.expectCursor(BIG_SIZE - 1);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows[rows.length - 1]!.offset).toBe(BIG_SIZE - 16);
  });

  test("Ctrl+G explains what is wrong inline: past the end, malformed, before the start", async ({ hexmap }) => {
    expect(await hexmap.gotoError("0x1000000000")).toMatch(/past the end/);
    expect(await hexmap.gotoError("12xyz")).toMatch(/not a number/);
    expect(await hexmap.gotoError("ff00")).toMatch(/looks like hex/);
    expect(await hexmap.gotoError("-1")).toMatch(/before the start/);
    expect(await hexmap.gotoError("101%")).toMatch(/past the end/);
    expect((await hexmap.status()).cursor).toBe(0);
  });

  test("keys: arrows, Home/End, PageDown/PageUp, Ctrl+End/Ctrl+Home are exact", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.grid().focus();
    await page.keyboard.press("ArrowDown");
    await hexmap.expectCursor(16);
    await page.keyboard.press("ArrowRight");
    await hexmap.expectCursor(17);
    await page.keyboard.press("End");
    await hexmap.expectCursor(31);
    await page.keyboard.press("Home");
    await hexmap.expectCursor(16);
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowLeft"); // stays at 0
    await hexmap.expectCursor(0);

    const { fullRows } = await hexmap.gridState();
    for (let i = 1; i <= 3; i++) {
      await page.keyboard.press("PageDown");
      await hexmap.expectCursor(i * fullRows * 16);
      await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(i * fullRows);
    }
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    await page.keyboard.press("PageUp");
    await hexmap.expectCursor(2 * fullRows * 16);

    await page.keyboard.press("Control+End");
    await hexmap.expectCursor(BIG_SIZE - 1);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows[rows.length - 1]!.offset).toBe(BIG_SIZE - 16);
    const st = await hexmap.gridState();
    expect(st.topRow).toBe(st.maxTop);

    // At the very end: down does nothing, up moves one row, PageDown stays on the last byte.
    await page.keyboard.press("ArrowDown");
    await hexmap.expectCursor(BIG_SIZE - 1);
    await page.keyboard.press("ArrowUp");
    await hexmap.expectCursor(BIG_SIZE - 17);
    await page.keyboard.press("PageDown");
    await hexmap.expectCursor(BIG_SIZE - 1);

    await page.keyboard.press("Control+Home");
    await hexmap.expectCursor(0);
    await expect.poll(() => hexmap.topOffset()).toBe(0);
  });

  test("moving the cursor past the bottom row scrolls by exactly one row", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.goto("0xFFFFF000"); // just below 4 GiB, before the block that straddles it
    const before = await hexmap.gridState();
    const cursorRow = (0xfffff000 / 16) | 0;
    // Walk the cursor to the last fully visible row, then one more.
    const down = before.topRow + before.fullRows - 1 - cursorRow;
    for (let i = 0; i < down; i++) await page.keyboard.press("ArrowDown");
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(before.topRow);
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(before.topRow + 1);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
  });

  test("mouse wheel scrolls by rows (pixel deltas) and stops at both ends", async ({ hexmap }) => {
    const { page } = hexmap;
    const box = (await hexmap.grid().boundingBox())!;
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
    await page.mouse.wheel(0, 200); // 200 px at 20 px a row
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(10);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    await page.mouse.wheel(0, -60);
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(7);
    // Over the scrollbar too.
    const bar = (await page.getByTestId("scrollbar").boundingBox())!;
    await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(12);
    await page.mouse.wheel(0, -10_000);
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(0);

    // Near the end of the file the wheel stops at the last row.
    await hexmap.goto("0xFFFFFFF00");
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
    await page.mouse.wheel(0, 100_000);
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow === s.maxTop)).toBe(true);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows[rows.length - 1]!.offset).toBe(BIG_SIZE - 16);
    // And goes back up row by row, crossing a page boundary with the bytes intact.
    await page.mouse.wheel(0, -20 * 300);
    await expect.poll(async () => { const s = await hexmap.gridState(); return s.maxTop - s.topRow; }).toBe(300);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
  });

  test("dragging the scrollbar thumb to the middle lands near 50%; clicking the track pages", async ({ hexmap }) => {
    const { page } = hexmap;
    const track = (await page.getByTestId("scrollbar").boundingBox())!;
    const thumb = (await page.getByTestId("scrollbar-thumb").boundingBox())!;
    await page.mouse.move(thumb.x + thumb.width / 2, thumb.y + thumb.height / 2);
    await page.mouse.down();
    await page.mouse.move(thumb.x + thumb.width / 2, track.y + track.height / 2, { steps: 8 });
    await page.mouse.up();
    const top = await hexmap.topOffset();
    expect(Math.abs(top / BIG_SIZE - 0.5)).toBeLessThan(0.01);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    const thumbNow = (await page.getByTestId("scrollbar-thumb").boundingBox())!;
    expect(Math.abs(thumbNow.y + thumbNow.height / 2 - (track.y + track.height / 2))).toBeLessThan(3);

    // A click in the track below the thumb pages down by one screen.
    const before = await hexmap.gridState();
    await page.mouse.click(track.x + track.width / 2, track.y + track.height - 4);
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow)).toBe(before.topRow + before.fullRows);

    // Dragging to the bottom reaches the very end.
    const t = (await page.getByTestId("scrollbar-thumb").boundingBox())!;
    await page.mouse.move(t.x + t.width / 2, t.y + t.height / 2);
    await page.mouse.down();
    await page.mouse.move(t.x + t.width / 2, track.y + track.height + 50, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => hexmap.gridState().then((s) => s.topRow === s.maxTop)).toBe(true);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.big);
    expect(rows[rows.length - 1]!.offset).toBe(BIG_SIZE - 16);
  });

  test("bytes per row: 32 and 8 show the same bytes, differently cut", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.goto("0x100000005");
    await page.getByTestId("bytes-per-row").selectOption("32");
    let rows = await hexmap.expectRowsMatchFile(hexmap.files.big, 32);
    expect(rows[1]!.offset - rows[0]!.offset).toBe(32);
    expect(rows.map((r) => r.offset)).toContain(2 ** 32);
    await page.getByTestId("bytes-per-row").selectOption("8");
    rows = await hexmap.expectRowsMatchFile(hexmap.files.big, 8);
    expect(rows[1]!.offset - rows[0]!.offset).toBe(8);
    expect(rows.map((r) => r.offset)).toContain(2 ** 32);
    await page.getByTestId("bytes-per-row").selectOption("24");
    rows = await hexmap.expectRowsMatchFile(hexmap.files.big, 24);
    expect(rows[0]!.offset % 24).toBe(0);
  });
});

test.describe("1 TiB file", () => {
  test("Ctrl+End, Go to and PageUp are exact at the end of a 1 TiB file; the offset column has 10 digits", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.open(hexmap.files.tera);
    await expect.poll(() => hexmap.status().then((s) => s.size)).toBe(TERA_SIZE);
    await page.keyboard.press("Control+End");
    await hexmap.expectCursor(TERA_SIZE - 1);
    let rows = await hexmap.expectRowsMatchFile(hexmap.files.tera);
    expect(rows[rows.length - 1]!.offset).toBe(TERA_SIZE - 16);
    await expect(page.getByTestId("row-offset").last()).toHaveText("FFFFFFFFF0");
    await expect(page.getByTestId("status-cursor-hex")).toHaveText("0xFFFFFFFFFF");

    const { fullRows } = await hexmap.gridState();
    await page.keyboard.press("PageUp");
    await hexmap.expectCursor(TERA_SIZE - 1 - fullRows * 16);
    await hexmap.expectRowsMatchFile(hexmap.files.tera);

    // The unaligned block in the middle (2^39 + 3), by hex and by percentage.
    await hexmap.goto("0x8000000003");
    await hexmap.expectCursor(2 ** 39 + 3);
    rows = await hexmap.expectRowsMatchFile(hexmap.files.tera);
    expect(rows.map((r) => r.offset)).toContain(2 ** 39);
    await hexmap.goto("50%");
    await hexmap.expectCursor(2 ** 39);
    await hexmap.expectRowsMatchFile(hexmap.files.tera);

    // The thumb at the bottom of its track is the last row, exactly.
    const track = (await page.getByTestId("scrollbar").boundingBox())!;
    await page.mouse.click(track.x + track.width / 2, track.y + 2); // page up once
    await page.keyboard.press("Control+End");
    const st = await hexmap.gridState();
    expect(st.topRow).toBe(st.maxTop);
    expect(st.maxTop).toBe(TERA_SIZE / 16 - st.fullRows);
  });
});
