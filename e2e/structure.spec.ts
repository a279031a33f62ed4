// The Structure panel (issue 15) against the browser host: a gzip file detected by magic, a node
// selected → its bytes selected and tinted in the grid, a field edited from the tree (undoable,
// the tree re-parses and marks the change), a broken .ksy shows the compiler's message and line,
// and a file that does not match shows the failing field in red.

import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, type Hexmap } from "./fixtures";

/** A small gzip member: header with FNAME "hi.txt", mtime 0x01020304, a fake body, trailer. */
function gzipBytes(): Buffer {
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0x08, 4, 3, 2, 1, 0, 3]),
    Buffer.from("hi.txt\0", "latin1"),
    Buffer.from([0xcb, 0xc8, 0x04, 0x00]),
    Buffer.from([0x7a, 0x7a, 0x6f, 0xed, 2, 0, 0, 0]),
  ]);
}

function write(hexmap: Hexmap, name: string, bytes: Buffer | string): string {
  const file = path.join(hexmap.files.dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

const node = (hexmap: Hexmap, p: string) => hexmap.page.locator(`[data-testid=struct-node][data-path="${p}"]`);

test.describe("structure panel", () => {
  test.skip(({ hexmapHost }) => hexmapHost !== "browser", "browser host only");

  test("detects gzip; selecting a node selects and tints its bytes", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = write(hexmap, "s.gz", gzipBytes());
    await hexmap.open(file);
    await hexmap.rows();
    await page.getByTestId("ptab-structure").click();
    await expect(page.getByTestId("struct-summary")).toContainText("gzip (detected)");
    await expect(node(hexmap, "name").getByTestId("struct-value")).toHaveText('"hi.txt"');
    await node(hexmap, "mod_time").click();
    await hexmap.expectCursor(4);
    // The selection covers the 4 bytes of mod_time, tinted as the selected field.
    const selected = page.locator("[data-testid=row-hex] .fldsel");
    await expect(selected.first()).toBeVisible();
    await expect.poll(async () => (await selected.allTextContents()).join("").replace(/\s+/g, "")).toBe("04030201"); // separators are not part of a field
    // Leaf fields are tinted (two alternating shades).
    await expect(page.locator("[data-testid=row-hex] .fld0").first()).toBeVisible();
    await expect(page.locator("[data-testid=row-hex] .fld1").first()).toBeVisible();
  });

  test("editing a field writes its bytes, marks the change, and undoes", async ({ hexmap }) => {
    const { page } = hexmap;
    const bytes = gzipBytes();
    const file = write(hexmap, "e.gz", bytes);
    await hexmap.open(file);
    await hexmap.rows();
    await page.getByTestId("ptab-structure").click();
    const value = node(hexmap, "mod_time").getByTestId("struct-value");
    await expect(value).toContainText(String(0x01020304));
    await value.dblclick();
    await page.getByTestId("struct-edit-input").fill("0xAABBCCDD");
    await page.getByTestId("struct-edit-input").press("Enter");
    await expect.poll(async () => (await hexmap.rows())[0]!.hex.split(" ").slice(4, 8).join(" ")).toBe("DD CC BB AA");
    await expect(value).toContainText(String(0xaabbccdd));
    await expect(node(hexmap, "mod_time")).toHaveClass(/changed/);
    // Too large for a u4: refused with a sentence, nothing written.
    await value.dblclick();
    await page.getByTestId("struct-edit-input").fill("0x1FFFFFFFF");
    await page.getByTestId("struct-edit-input").press("Enter");
    await expect(page.getByTestId("struct-edit-error")).toContainText("between");
    await page.getByTestId("struct-edit-input").press("Escape");
    await hexmap.grid().focus();
    await page.keyboard.press("Control+z");
    await expect(value).toContainText(String(0x01020304));
    expect(fs.readFileSync(file)).toEqual(bytes);
  });

  test("a broken .ksy shows the compiler's message with its line; a mismatch shows the failing field", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = write(hexmap, "d.bin", Buffer.from("NOTMAGIC and some more bytes here"));
    await hexmap.open(file);
    await hexmap.rows();
    await page.getByTestId("ptab-structure").click();
    await expect(page.getByTestId("struct-none")).toBeVisible();
    await page.getByTestId("struct-ksy-input").setInputFiles({
      name: "broken.ksy",
      mimeType: "text/plain",
      buffer: Buffer.from("meta:\n  id: broken\n  endian: le\nseq:\n  - id: a\n    type: u4\n  - id: b\n    type: no_such_type\n"),
    });
    await expect(page.getByTestId("struct-error")).toContainText("broken.ksy line 8");
    await expect(page.getByTestId("struct-error")).toContainText("unable to find type 'no_such_type'");
    await page.getByTestId("struct-ksy-input").setInputFiles({
      name: "magic.ksy",
      mimeType: "text/plain",
      buffer: Buffer.from("meta:\n  id: tagged\n  endian: le\nseq:\n  - id: len\n    type: u2\n  - id: magic\n    contents: 'MAGIC'\n"),
    });
    await expect(page.getByTestId("struct-parse-error")).toContainText("not equal");
    await expect(node(hexmap, "magic")).toHaveClass(/failed/);
    await expect(node(hexmap, "len")).not.toHaveClass(/failed/);
  });
});
