// Insert and delete end to end in the browser host (document v2: any edit changes the size):
// the Insert key's OVR/INS in the status bar, typing that inserts and shifts what follows, the
// inserted colour, Delete / Backspace in both modes, undo/redo of size changes, saving a resized
// file (the bytes on disk, read by this test, and the save's strategy notice), Insert bytes… and
// Delete range… for 1 GiB in one step, Ctrl+X, paste in insert mode, appending to an empty file,
// a bookmark and a search hit that move with their bytes, and shared memory refusing size
// changes with the host's sentence. Every test edits a file it makes, never a shared fixture.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readBytes, seededBytes } from "./fixture-files";
import { expect, root, test, type Hexmap } from "./fixtures";

// Bookmarks go to a throw-away config folder (read by the host at each request).
process.env.HEXMAP_CONFIG_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "hexmap-e2e-config-"));

const GiB = 1024 ** 3;
const isWin = process.platform === "win32";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "editing e2e runs against the browser host");
});

let files = 0;
/** A file of `bytes` in the fixtures folder (removed with it). */
function makeFile(hexmap: Hexmap, bytes: Uint8Array, stem = "insert"): string {
  const file = path.join(hexmap.files.dir, `${stem}-${process.pid}-${++files}-${Date.now()}.bin`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** 0x00 0x01 … 0xFF. */
const COUNTING = Uint8Array.from({ length: 256 }, (_, i) => i);

function hx(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
}

function rowOf(hexmap: Hexmap, offset: number) {
  return hexmap.page.locator(`[data-testid=row][data-offset='${offset - (offset % 16)}']`);
}

/** `n` bytes shown from `offset` (on screen; across rows), "··" for a byte still loading. */
async function shown(hexmap: Hexmap, offset: number, n: number): Promise<string> {
  const rows = await hexmap.readRows();
  const out: string[] = [];
  for (const r of rows) {
    const cells = r.hex ? r.hex.split(" ") : [];
    cells.forEach((c, i) => {
      const at = r.offset + i;
      if (at >= offset && at < offset + n) out.push(c);
    });
  }
  return out.join(" ");
}

async function expectSize(hexmap: Hexmap, size: number): Promise<void> {
  await expect(hexmap.page.getByTestId("status-size")).toHaveAttribute("data-size", String(size));
}

async function insertMode(hexmap: Hexmap, on: boolean): Promise<void> {
  const badge = hexmap.page.getByTestId("status-insert");
  if ((await badge.getAttribute("data-mode")) !== (on ? "INS" : "OVR")) await hexmap.page.keyboard.press("Insert");
  await expect(badge).toHaveText(on ? "INS" : "OVR");
}

async function paste(hexmap: Hexmap, text: string): Promise<void> {
  await hexmap.grid().evaluate((el, t) => {
    const dt = new DataTransfer();
    dt.setData("text/plain", t);
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
}

async function expectSaved(hexmap: Hexmap): Promise<void> {
  await expect(hexmap.page.getByTestId("status-dirty")).toHaveText("saved");
  await expect(hexmap.page.locator("[data-testid=row] .ed, [data-testid=row] .ins")).toHaveCount(0);
}

test.describe("insert and delete", () => {
  test("Insert toggles OVR/INS; typing inserts and shifts, in its own colour; Backspace/Delete; undo/redo; save writes the resized file", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeFile(hexmap, COUNTING);
    await hexmap.open(file);
    await hexmap.rows();
    const mode = page.getByTestId("status-insert");
    await expect(mode).toHaveText("OVR");
    await page.keyboard.press("Insert");
    await expect(mode).toHaveText("INS");
    await mode.click(); // the badge toggles too, and gives the keyboard back to the grid
    await expect(mode).toHaveText("OVR");
    await page.keyboard.press("Insert");
    await expect(mode).toHaveText("INS");

    // Two bytes typed at 0x10: inserted, the rest moves on by two.
    await hexmap.clickByte(0x10);
    for (const k of "abcd") await page.keyboard.press(k);
    await expectSize(hexmap, 258);
    await expect(page.locator("[data-testid=tab][aria-selected=true] [data-testid=tab-size]")).toHaveAttribute("data-size", "258");
    await expect.poll(() => shown(hexmap, 0x0e, 6)).toBe("0E 0F AB CD 10 11");
    await hexmap.expectCursor(0x12);
    // Bytes after the insert point read correctly across the row (and page) layout.
    await expect.poll(() => shown(hexmap, 0xf0, 16)).toBe(hx(COUNTING.subarray(0xee, 0xfe)));
    // Inserted bytes have their own class, in both panes; nothing shows as overwritten.
    await expect(rowOf(hexmap, 0x10).locator("[data-testid=row-hex] .ins")).not.toHaveCount(0);
    await expect(rowOf(hexmap, 0x10).locator("[data-testid=row-ascii] .ins")).not.toHaveCount(0);
    await expect(page.locator("[data-testid=row] .ed")).toHaveCount(0);
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 1 edit");
    await hexmap.screenshot("hexmap-insert-mode.png");

    // One digit inserts 0xN0 (its low nibble next); the second sets it, in the same step.
    await page.keyboard.press("e");
    await expectSize(hexmap, 259);
    await expect.poll(() => shown(hexmap, 0x12, 2)).toBe("E0 10");
    await expect(rowOf(hexmap, 0x12).locator(".cur.nib")).toHaveCount(1);
    await page.keyboard.press("f");
    await expect.poll(() => shown(hexmap, 0x12, 2)).toBe("EF 10");
    await hexmap.expectCursor(0x13);
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 1 edit");

    // Backspace deletes the byte before the cursor, Delete the one at it.
    await page.keyboard.press("Backspace");
    await expectSize(hexmap, 258);
    await hexmap.expectCursor(0x12);
    await expect.poll(() => shown(hexmap, 0x10, 4)).toBe("AB CD 10 11");
    await page.keyboard.press("Delete");
    await expectSize(hexmap, 257);
    await expect.poll(() => shown(hexmap, 0x10, 4)).toBe("AB CD 11 12");
    await hexmap.expectCursor(0x12);

    // Undo: the two deletes (one step), then the typing; redo brings the typing back.
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, 259);
    await expect.poll(() => shown(hexmap, 0x10, 4)).toBe("AB CD EF 10");
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, 256);
    await expect.poll(() => shown(hexmap, 0x0e, 4)).toBe("0E 0F 10 11");
    await expect(page.locator("[data-testid=row] .ins")).toHaveCount(0);
    await expect(page.getByTestId("status-dirty")).toHaveText("saved");
    await page.keyboard.press("Control+y");
    await expectSize(hexmap, 259);
    await expect.poll(() => shown(hexmap, 0x0e, 6)).toBe("0E 0F AB CD EF 10");
    await expect.poll(() => shown(hexmap, 0xf0, 16)).toBe(hx(COUNTING.subarray(0xed, 0xfd)));

    // Nothing is written before Save; then the file has exactly the new bytes and size.
    expect(fs.readFileSync(file).equals(Buffer.from(COUNTING))).toBe(true);
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    await expect(page.getByTestId("info-banner")).toContainText("rewritten: the size changed");
    const want = Buffer.concat([Buffer.from(COUNTING.subarray(0, 0x10)), Buffer.from([0xab, 0xcd, 0xef]), Buffer.from(COUNTING.subarray(0x10))]);
    expect(fs.readFileSync(file).equals(want), "the resized file on disk").toBe(true);
    expect(fs.existsSync(file + ".hexmap-journal")).toBe(false);
    await expectSize(hexmap, 259);
    await expect.poll(() => shown(hexmap, 0x0e, 6)).toBe("0E 0F AB CD EF 10");

    // Delete in overwrite mode removes bytes too (HxD); save shrinks the file.
    await insertMode(hexmap, false);
    await hexmap.clickByte(0x10);
    await hexmap.clickByte(0x12, { shift: true });
    await page.keyboard.press("Delete");
    await expectSize(hexmap, 256);
    await expect.poll(() => shown(hexmap, 0x0e, 4)).toBe("0E 0F 10 11");
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    expect(fs.readFileSync(file).equals(Buffer.from(COUNTING)), "back to the original bytes").toBe(true);
    fs.rmSync(file);
  });

  test("fast typing in insert mode keeps its order (every key waits for the one before), one undo step per pane", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeFile(hexmap, COUNTING);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(0x10);
    await insertMode(hexmap, true);
    const digits = "0123456789abcdeffedcba9876543210cafebabe";
    await page.keyboard.type(digits); // no waiting between keys
    await expectSize(hexmap, 256 + digits.length / 2);
    await hexmap.expectCursor(0x10 + digits.length / 2);
    const typed = digits.toUpperCase().match(/../g)!.join(" ");
    await expect.poll(() => shown(hexmap, 0x10, digits.length / 2 + 2)).toBe(`${typed} 10 11`);
    await page.keyboard.press("Tab");
    await page.keyboard.type("Hello, world");
    await expectSize(hexmap, 256 + digits.length / 2 + 12);
    await expect.poll(async () => (await hexmap.readRows()).map((r) => r.ascii).join("").slice(0x10 + 20, 0x10 + 32)).toBe("Hello, world");
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 2 edits");
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, 256 + digits.length / 2);
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, 256);
    await expect.poll(() => shown(hexmap, 0x0e, 4)).toBe("0E 0F 10 11");
    fs.rmSync(file);
  });

  test("Insert bytes… puts 1 GiB of a pattern into a sparse file in one step; Delete range… takes it out; undo/redo", async ({ hexmap }) => {
    const { page } = hexmap;
    const size = 2 * GiB;
    const file = path.join(hexmap.files.dir, `insert-sparse-${process.pid}-${++files}.bin`);
    const seeded = seededBytes(31, 4096);
    const fd = fs.openSync(file, "w");
    try {
      fs.ftruncateSync(fd, size);
      fs.writeSync(fd, seeded, 0, seeded.length, 0);
      fs.writeSync(fd, seeded, 0, seeded.length, size - seeded.length);
    } finally {
      fs.closeSync(fd);
    }
    const at = 0x100;
    await hexmap.open(file);
    await hexmap.goto("0x" + at.toString(16));
    await hexmap.rows();

    await page.getByTestId("insert-bytes-button").click();
    const dialog = page.getByTestId("insert-bytes-dialog");
    await expect(dialog).toBeVisible();
    await expect(page.getByTestId("insert-at")).toHaveValue("0x100");
    await page.getByTestId("insert-count").fill("lots");
    await page.getByTestId("insert-submit").click();
    await expect(page.getByTestId("insert-count-error")).toContainText("not a size");
    await page.getByTestId("insert-count").fill("1 GiB");
    await page.getByTestId("insert-fill").fill("DE AD BE EF");
    await page.getByTestId("insert-submit").click();
    await expect(dialog).toBeHidden();
    await expectSize(hexmap, size + GiB);
    await expect(page.getByTestId("info-banner")).toContainText("Inserted 1,073,741,824 bytes (1.00 GiB) of the pattern DE AD BE EF at 0x100");
    await expect.poll(() => shown(hexmap, at - 2, 6)).toBe(`${hx(seeded.subarray(at - 2, at))} DE AD BE EF`);
    await expect(rowOf(hexmap, at).locator("[data-testid=row-hex] .ins")).not.toHaveCount(0);
    // The scrollbar and Go to know the new size: the old bytes at 0x100 are 1 GiB further on.
    await hexmap.goto("0x" + (at + GiB - 4).toString(16));
    await expect.poll(() => shown(hexmap, at + GiB - 4, 8)).toBe(`DE AD BE EF ${hx(seeded.subarray(at, at + 4))}`);
    await hexmap.goto("100%");
    await hexmap.expectCursor(size + GiB - 1);
    await expect.poll(() => shown(hexmap, size + GiB - 16, 16)).toBe(hx(seeded.subarray(seeded.length - 16)));

    // Delete range…: the inserted GiB, by start and length.
    await hexmap.goto("0x" + at.toString(16));
    await page.getByTestId("delete-range-button").click();
    await expect(page.getByTestId("delete-range-dialog")).toBeVisible();
    await expect(page.getByTestId("delete-start")).toHaveValue("0x100");
    await page.getByTestId("delete-amount").fill("1 GiB");
    await expect(page.getByTestId("delete-summary")).toContainText("Deletes 1,073,741,824 bytes");
    // The same range as a last byte.
    await page.getByTestId("delete-by").selectOption("end");
    await expect(page.getByTestId("delete-amount")).toHaveValue("0x400000FF");
    await page.getByTestId("delete-submit").click();
    await expect(page.getByTestId("delete-range-dialog")).toBeHidden();
    await expectSize(hexmap, size);
    await expect.poll(() => shown(hexmap, at - 2, 6)).toBe(hx(seeded.subarray(at - 2, at + 4)));
    await expect(page.locator("[data-testid=row] .ins, [data-testid=row] .ed")).toHaveCount(0);

    // Undo brings the GiB back, undo again removes it, redo inserts it again.
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, size + GiB);
    await expect.poll(() => shown(hexmap, at, 4)).toBe("DE AD BE EF");
    await page.keyboard.press("Control+z");
    await expectSize(hexmap, size);
    await expect.poll(() => shown(hexmap, at - 2, 6)).toBe(hx(seeded.subarray(at - 2, at + 4)));
    await expect(page.getByTestId("status-dirty")).toHaveText("saved");
    expect(fs.statSync(file).size).toBe(size);
    fs.rmSync(file);
  });

  test("Ctrl+X cuts, paste inserts in INS (and overwrites, clipped, in OVR), an empty file grows by typing at its end", async ({ hexmap }) => {
    const { page } = hexmap;
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: hexmap.server!.origin });
    const file = makeFile(hexmap, COUNTING);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(0x20);
    await hexmap.clickByte(0x23, { shift: true });
    await page.keyboard.press("Control+x");
    await expectSize(hexmap, 252);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("20 21 22 23");
    await expect.poll(() => shown(hexmap, 0x1e, 4)).toBe("1E 1F 24 25");
    await hexmap.expectCursor(0x20);

    // Insert mode: the pasted bytes go in before the cursor.
    await insertMode(hexmap, true);
    await paste(hexmap, "20 21 22 23");
    await expectSize(hexmap, 256);
    await expect.poll(() => shown(hexmap, 0x1e, 8)).toBe("1E 1F 20 21 22 23 24 25");
    await hexmap.expectCursor(0x24);
    // Overwrite mode past the end: clipped, and said so.
    await insertMode(hexmap, false);
    await page.keyboard.press("Control+End");
    await paste(hexmap, "AA BB CC");
    await expect(page.getByRole("status").filter({ hasText: "did not fit" })).toBeVisible();
    await expectSize(hexmap, 256);
    await expect.poll(() => shown(hexmap, 0xfe, 2)).toBe("FE AA");
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    const want = Buffer.from(COUNTING);
    want[0xff] = 0xaa;
    expect(fs.readFileSync(file).equals(want)).toBe(true);

    // An empty file: in insert mode the cursor stands after the last byte, and typing appends.
    const empty = makeFile(hexmap, new Uint8Array(0), "empty");
    await hexmap.open(empty);
    await expect(page.getByTestId("empty-file")).toBeVisible();
    await insertMode(hexmap, true);
    await expect(page.getByTestId("empty-file")).toHaveCount(0);
    for (const k of "48692") await page.keyboard.press(k);
    await page.keyboard.press("1");
    await expectSize(hexmap, 3);
    await expect.poll(() => shown(hexmap, 0, 3)).toBe("48 69 21");
    await hexmap.expectCursor(3);
    await page.keyboard.press("Tab");
    await page.keyboard.type("!?");
    await expectSize(hexmap, 5);
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    expect(fs.readFileSync(empty).toString("latin1")).toBe("Hi!!?");
    fs.rmSync(file);
    fs.rmSync(empty);
  });

  test("a bookmark and a search hit after an insert move with their bytes; a bookmark whose bytes are deleted goes", async ({ hexmap }) => {
    const { page } = hexmap;
    const bytes = Uint8Array.from(COUNTING);
    bytes.set(Buffer.from("NEEDLE"), 0x80);
    const file = makeFile(hexmap, bytes);
    await hexmap.open(file);
    await hexmap.rows();
    // Bookmarks at 0x04 (before the edit) and 0x40..0x43 (after it).
    await hexmap.clickByte(0x04);
    await page.keyboard.press("Control+b");
    await hexmap.clickByte(0x40);
    await hexmap.clickByte(0x43, { shift: true });
    await page.keyboard.press("Control+b");
    await page.getByTestId("ptab-bookmarks").click();
    const marks = page.getByTestId("bookmark");
    await expect(marks).toHaveCount(2);
    await expect(marks.nth(1)).toHaveAttribute("data-offset", String(0x40));

    // Find the text; its hit is highlighted at 0x80.
    await hexmap.grid().focus();
    await page.keyboard.press("Control+f");
    await page.getByTestId("search-mode").selectOption("text");
    await page.getByTestId("search-input").fill("NEEDLE");
    await page.getByTestId("search-input").press("Enter");
    await hexmap.expectCursor(0x80);
    await expect(rowOf(hexmap, 0x80).locator(".hit")).not.toHaveCount(0);

    // Two bytes inserted at 0x10: the later bookmark and the hit move by two.
    await hexmap.clickByte(0x10);
    await insertMode(hexmap, true);
    for (const k of "1122") await page.keyboard.press(k);
    await expectSize(hexmap, 258);
    await expect(marks.nth(0)).toHaveAttribute("data-offset", String(0x04));
    await expect(marks.nth(1)).toHaveAttribute("data-offset", String(0x42));
    await expect(marks.nth(1)).toHaveAttribute("data-length", "4");
    await expect.poll(() => rowOf(hexmap, 0x82).locator(".hit").count()).toBeGreaterThan(0);
    await expect.poll(async () => (await rowOf(hexmap, 0x80).getByTestId("row-ascii").textContent())?.slice(2, 8)).toBe("NEEDLE");
    const hitText = await rowOf(hexmap, 0x80).locator("[data-testid=row-ascii] .hit").allTextContents();
    expect(hitText.join("")).toBe("NEEDLE");

    // Deleting the bytes of the second bookmark drops it; F2 finds only the first.
    await insertMode(hexmap, false);
    await hexmap.clickByte(0x41);
    await hexmap.clickByte(0x47, { shift: true });
    await page.keyboard.press("Delete");
    await expectSize(hexmap, 251);
    await expect(marks).toHaveCount(1);
    await expect(marks.nth(0)).toHaveAttribute("data-offset", String(0x04));
    // The moved bookmarks are written to the host (its store in the config folder) shortly after.
    const key = fs.realpathSync.native(file);
    const stored = () => {
      const dir = path.join(process.env.HEXMAP_CONFIG_DIR!, "bookmarks");
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        try {
          const body = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { key: string; bookmarks: { offset: number }[] };
          if (body.key === key) return body.bookmarks.map((b) => b.offset);
        } catch {
          /* being replaced */
        }
      }
      return null;
    };
    await expect.poll(stored).toEqual([0x04]);
    await page.getByTestId("bookmark-delete").first().click();
    await expect(marks).toHaveCount(0);
    fs.rmSync(file);
  });

  test("shared memory keeps its size: insert and delete show the host's sentence, and change nothing", async ({ hexmap }) => {
    const { page } = hexmap;
    const name = `ShareMemory-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const section = isWin ? `Local\\${name}` : name;
    try {
      await page.getByTestId("create-shm-button").click();
      await page.getByTestId("shm-name").fill(section);
      await page.getByTestId("shm-size").fill("4 KiB");
      await page.getByTestId("shm-submit").click();
      await expect(page.locator(`[data-testid=tab][title="${section}"]`)).toHaveAttribute("aria-selected", "true");
      await hexmap.grid().focus();
      await expect(page.getByTestId("insert-bytes-button")).toBeDisabled();
      await page.keyboard.press("Insert");
      await expect(page.getByTestId("status-insert")).toHaveText("INS");
      await page.keyboard.press("4");
      await expect(page.getByRole("alert").filter({ hasText: "fixed size" })).toBeVisible();
      await page.getByRole("alert").filter({ hasText: "fixed size" }).getByRole("button", { name: "Dismiss" }).click();
      await hexmap.grid().focus();
      await page.keyboard.press("Delete");
      await expect(page.getByRole("alert").filter({ hasText: "fixed size" })).toBeVisible();
      await expectSize(hexmap, 4096);
      // The nibble did not stay half-typed, and overwrite mode still types.
      await expect(page.locator("[data-testid=row] .nib")).toHaveCount(0);
      await page.keyboard.press("Insert");
      await page.keyboard.press("4");
      await page.keyboard.press("1");
      await expect.poll(() => shown(hexmap, 0, 2)).toBe("41 00");
      expect(hexmap.pageErrors).toEqual([]);
    } finally {
      if (!isWin) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const native = require(path.join(root, "dist", "native", "index.js")) as { loadNative(): { unlinkShm(n: string): void } };
        try {
          native.loadNative().unlinkShm(section);
        } catch {
          /* already gone */
        }
      }
    }
  });
});
