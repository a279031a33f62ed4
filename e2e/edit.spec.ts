// Editing end to end in the browser host: typing hex past 4 GiB with the nibble cursor, the
// edited colour, Ctrl+S and the bytes on disk (read by this test process), undo/redo across a
// save, typing in the text pane, paste (hex, clipped at the end), fill, read-only refusal, the unsaved-edits prompts (tab ×, beforeunload) and a change on disk
// (overwrite / reload). Every test edits a sparse COPY it makes, never a shared fixture.

import * as fs from "node:fs";
import * as path from "node:path";
import { readBytes, seededBytes } from "./fixture-files";
import { expect, root, test, type Hexmap } from "./fixtures";

const GiB = 1024 ** 3;
const FOUR_GIB = 2 ** 32;
const COPY_SIZE = 5 * GiB;
const SEEDED = { offset: FOUR_GIB - 4096, length: 64 * 1024, seed: 21 };

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "editing e2e runs against the browser host");
});

let copies = 0;
/** A fresh 5 GiB sparse file with seeded bytes around 4 GiB and text at the start. */
function makeCopy(dir: string): string {
  const file = path.join(dir, `edit-copy-${process.pid}-${++copies}-${Date.now()}.bin`);
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, COPY_SIZE);
    fs.writeSync(fd, seededBytes(SEEDED.seed, SEEDED.length), 0, SEEDED.length, SEEDED.offset);
    fs.writeSync(fd, Buffer.from("Hexmap edit e2e: the quick brown fox.\n"), 0, 38, 0);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function rowOf(hexmap: Hexmap, offset: number) {
  return hexmap.page.locator(`[data-testid=row][data-offset='${offset - (offset % 16)}']`);
}

async function rowHex(hexmap: Hexmap, offset: number): Promise<string[]> {
  const text = (await rowOf(hexmap, offset).getByTestId("row-hex").textContent()) ?? "";
  return text.trim().split(/\s+/);
}

async function shownByte(hexmap: Hexmap, offset: number): Promise<string> {
  return (await rowHex(hexmap, offset))[offset % 16]!;
}

async function expectSaved(hexmap: Hexmap): Promise<void> {
  await expect(hexmap.page.getByTestId("status-dirty")).toHaveText("saved");
  await expect(hexmap.page.locator("[data-testid=row] .ed, [data-testid=row] .ins")).toHaveCount(0);
}

async function paste(hexmap: Hexmap, text: string): Promise<void> {
  await hexmap.grid().evaluate((el, t) => {
    const dt = new DataTransfer();
    dt.setData("text/plain", t);
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
}

test.describe("editing", () => {
  test("hex typing past 4 GiB: nibble cursor, edited colour, Ctrl+S writes exactly those bytes; undo/redo across a save", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeCopy(hexmap.files.dir);
    const at = FOUR_GIB + 0x12; // inside the seeded block, past 4 GiB
    const before = readBytes(file, SEEDED.offset, SEEDED.length);
    await hexmap.open(file);
    await expect(page.getByTestId("status-mode")).toHaveText("Read-write");
    await expect(page.getByTestId("status-dirty")).toHaveText("saved");
    await hexmap.goto("0x" + at.toString(16));
    await hexmap.rows();

    await page.keyboard.press("a");
    // First digit: the high nibble changed, the cursor stays, its low nibble is marked next.
    const orig = before[at - SEEDED.offset]!;
    await expect.poll(() => shownByte(hexmap, at)).toBe(((0xa0 | (orig & 0x0f)) >>> 0).toString(16).toUpperCase().padStart(2, "0"));
    await expect(rowOf(hexmap, at).locator(".cur.nib")).toHaveCount(1);
    await hexmap.expectCursor(at);
    for (const k of ["b", "1", "2", "C", "d"]) await page.keyboard.press(k);
    await hexmap.expectCursor(at + 3);
    await expect.poll(async () => (await rowHex(hexmap, at)).slice(at % 16, (at % 16) + 3).join(" ")).toBe("AB 12 CD");
    // Edited bytes are coloured, in both panes; the tab and the status bar say modified.
    await expect(rowOf(hexmap, at).locator("[data-testid=row-hex] .ed").first()).toBeVisible();
    await expect(rowOf(hexmap, at).locator("[data-testid=row-ascii] .ed").first()).toBeVisible();
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 1 edit");
    await expect(page.getByTestId("tab-dirty")).toBeVisible();
    // Nothing is written before Save.
    expect(readBytes(file, SEEDED.offset, SEEDED.length).equals(before)).toBe(true);

    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    await expect(page.getByTestId("tab-dirty")).toHaveCount(0);
    const want = Buffer.from(before);
    want.set([0xab, 0x12, 0xcd], at - SEEDED.offset);
    expect(readBytes(file, SEEDED.offset, SEEDED.length).equals(want), "exactly the typed bytes changed on disk").toBe(true);
    expect(readBytes(file, 0, 38).toString()).toBe("Hexmap edit e2e: the quick brown fox.\n");
    expect(fs.statSync(file).size).toBe(COPY_SIZE);
    expect(fs.existsSync(file + ".hexmap-journal")).toBe(false);
    // The screen still shows the saved bytes (no reload flash needed).
    expect((await rowHex(hexmap, at)).slice(at % 16, (at % 16) + 3).join(" ")).toBe("AB 12 CD");

    // Undo across the save: the old bytes come back as (unsaved) edits; save writes them.
    await page.keyboard.press("Control+z");
    await expect.poll(() => shownByte(hexmap, at)).toBe(orig.toString(16).toUpperCase().padStart(2, "0"));
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 1 edit");
    await expect(rowOf(hexmap, at).locator("[data-testid=row-hex] .ed").first()).toBeVisible();
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    expect(readBytes(file, SEEDED.offset, SEEDED.length).equals(before), "undo + save restores the file").toBe(true);
    // Redo (Ctrl+Y, and Ctrl+Shift+Z after an undo).
    await page.keyboard.press("Control+y");
    await expect.poll(() => shownByte(hexmap, at)).toBe("AB");
    await page.keyboard.press("Control+z");
    await expect.poll(() => shownByte(hexmap, at)).toBe(orig.toString(16).toUpperCase().padStart(2, "0"));
    await page.keyboard.press("Control+Shift+z");
    await expect.poll(() => shownByte(hexmap, at)).toBe("AB");
    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    expect(readBytes(file, SEEDED.offset, SEEDED.length).equals(want)).toBe(true);
    fs.rmSync(file);
  });

  test("text pane typing, paste hex (clipped at the end), fill", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeCopy(hexmap.files.dir);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.clickByte(7, { pane: "ascii" });
    await page.keyboard.type("EDIT");
    await hexmap.expectCursor(11);
    await expect.poll(async () => (await rowOf(hexmap, 0).getByTestId("row-ascii").textContent())?.slice(0, 16)).toBe("Hexmap EDIT e2e:");

    // Paste hex text into the hex pane at the cursor.
    await hexmap.clickByte(0x20);
    await paste(hexmap, "de ad\nBE,EF");
    await expect.poll(async () => (await rowHex(hexmap, 0x20)).slice(0, 4).join(" ")).toBe("DE AD BE EF");
    await hexmap.expectCursor(0x24);
    // Not hex: nothing pasted, the user is told.
    await paste(hexmap, "hello");
    await expect(page.getByRole("alert").filter({ hasText: "not hex" })).toBeVisible();

    // Fill a selection with a byte (Ctrl+Shift+F).
    await hexmap.clickByte(0x30);
    await hexmap.clickByte(0x33, { shift: true });
    await page.keyboard.press("Control+Shift+F");
    await page.getByTestId("fill-input").fill("5a");
    await page.getByTestId("fill-input").press("Enter");
    await expect.poll(async () => (await rowHex(hexmap, 0x30)).slice(0, 5).join(" ")).toBe("5A 5A 5A 5A 00");

    // Paste past the end is clipped there, and the user is told.
    await hexmap.goto("0x" + (COPY_SIZE - 2).toString(16));
    await hexmap.rows();
    await paste(hexmap, "01 02 03 04");
    await expect(page.getByRole("status").filter({ hasText: "did not fit" })).toBeVisible();
    await expect.poll(async () => (await rowHex(hexmap, COPY_SIZE - 1)).slice(-2).join(" ")).toBe("01 02");

    await page.keyboard.press("Control+s");
    await expectSaved(hexmap);
    expect(readBytes(file, 0, 16).toString("latin1")).toBe("Hexmap EDIT e2e:");
    expect([...readBytes(file, 0x20, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect([...readBytes(file, 0x30, 5)]).toEqual([0x5a, 0x5a, 0x5a, 0x5a, 0]);
    expect([...readBytes(file, COPY_SIZE - 4, 4)]).toEqual([0, 0, 1, 2]);
    expect(fs.statSync(file).size).toBe(COPY_SIZE);
    fs.rmSync(file);
  });

  test("read-only documents refuse typing visibly and change nothing", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeCopy(hexmap.files.dir);
    await page.getByTestId("open-readonly").check();
    await hexmap.open(file);
    await expect(page.getByTestId("status-mode")).toHaveText("Read-only");
    await hexmap.rows();
    await page.keyboard.press("a");
    await expect(page.getByRole("alert").filter({ hasText: "read-only" })).toBeVisible();
    await page.keyboard.press("Control+z");
    await paste(hexmap, "00 11");
    expect(await shownByte(hexmap, 0)).toBe("48");
    await expect(page.locator("[data-testid=row] .ed")).toHaveCount(0);
    await expect(page.getByTestId("tab-dirty")).toHaveCount(0);
    expect(readBytes(file, 0, 6).toString()).toBe("Hexmap");
    fs.rmSync(file);
  });

  test("unsaved edits: the tab's × asks (cancel / discard), closing the page asks (beforeunload)", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeCopy(hexmap.files.dir);
    await hexmap.open(file);
    await hexmap.rows();
    await page.keyboard.press("f");
    await page.keyboard.press("f");
    await expect(page.getByTestId("tab-dirty")).toBeVisible();

    const tab = page.locator(`[data-testid=tab][title="${file}"]`);
    await tab.getByTestId("tab-close").click();
    await expect(page.getByTestId("unsaved-dialog")).toBeVisible();
    await page.getByTestId("unsaved-cancel").click();
    await expect(page.getByTestId("unsaved-dialog")).toBeHidden();
    await expect(tab).toBeVisible();

    // Closing the browser tab: the beforeunload prompt.
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.type());
      void d.dismiss();
    });
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => dialogs).toEqual(["beforeunload"]);
    expect(page.isClosed()).toBe(false);

    // Discard: the tab closes and the file is unchanged.
    await tab.getByTestId("tab-close").click();
    await page.getByTestId("unsaved-discard").click();
    await expect(tab).toHaveCount(0);
    expect(readBytes(file, 0, 6).toString()).toBe("Hexmap");
    fs.rmSync(file);
  });

  test("a change on disk: Save asks (overwrite / reload / cancel)", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeCopy(hexmap.files.dir);
    await hexmap.open(file);
    await hexmap.rows();
    await page.keyboard.press("1");
    await page.keyboard.press("1");
    // Another program writes the file.
    const outside = () => {
      const fd = fs.openSync(file, "r+");
      fs.writeSync(fd, Buffer.from("OUTSIDE"), 0, 7, 100);
      fs.closeSync(fd);
      const t = new Date(Date.now() + 60_000 * ++copies);
      fs.utimesSync(file, t, t);
    };
    outside();
    await page.keyboard.press("Control+s");
    await expect(page.getByTestId("changed-dialog")).toBeVisible();
    await page.getByTestId("changed-cancel").click();
    await expect(page.getByTestId("status-dirty")).toHaveText("● modified, 1 edit");
    expect(readBytes(file, 0, 1)[0]).toBe(0x48);

    // Reload: the edits go, the file as it is now shows.
    await page.keyboard.press("Control+s");
    await page.getByTestId("changed-reload").click();
    await expectSaved(hexmap);
    await expect.poll(() => shownByte(hexmap, 0)).toBe("48");
    await expect.poll(async () => (await rowOf(hexmap, 100).getByTestId("row-ascii").textContent())?.slice(4, 11)).toBe("OUTSIDE");

    // Overwrite: the edit is written over the changed file.
    await hexmap.clickByte(0);
    await page.keyboard.press("2");
    await page.keyboard.press("2");
    outside();
    await page.keyboard.press("Control+s");
    await page.getByTestId("changed-overwrite").click();
    await expectSaved(hexmap);
    expect(readBytes(file, 0, 1)[0]).toBe(0x22);
    expect(readBytes(file, 100, 7).toString()).toBe("OUTSIDE");
    fs.rmSync(file);
  });

  test("a file with an interrupted save's journal: the recovery dialog finishes or undoes it", async ({ hexmap }) => {
    const { page } = hexmap;
    // Leave a durable journal behind, as a crash right after writing it would (the engine's own kill point).
    const engine = (m: string) => require(path.join(root, "dist", "app", "engine", m));
    const { Editor } = engine("editor.js") as { Editor: { open(f: string): { edit(o: number, b: Uint8Array): void; save(): Promise<unknown>; close(): void } } };
    const { setSaveFaultHook } = engine("save.js") as { setSaveFaultHook(h: ((step: string) => void) | null): void };
    for (const [direction, want] of [
      ["forward", "NEW"],
      ["back", "Hex"],
    ] as const) {
      const file = makeCopy(hexmap.files.dir);
      const ed = Editor.open(file);
      ed.edit(0, Buffer.from("NEW"));
      setSaveFaultHook((step) => {
        if (step === "journal-durable") throw new Error("injected crash");
      });
      await ed.save().catch(() => {});
      setSaveFaultHook(null);
      ed.close();
      expect(fs.existsSync(file + ".hexmap-journal")).toBe(true);

      await hexmap.open(file);
      await expect(page.getByTestId("recovery-dialog")).toBeVisible();
      await page.getByTestId(direction === "forward" ? "recovery-forward" : "recovery-back").click();
      await expect(page.getByRole("status").filter({ hasText: direction === "forward" ? "was finished" : "was undone" })).toBeVisible();
      expect(fs.existsSync(file + ".hexmap-journal")).toBe(false);
      expect(readBytes(file, 0, 3).toString()).toBe(want);
      await expect.poll(async () => (await rowOf(hexmap, 0).getByTestId("row-ascii").textContent())?.slice(0, 3)).toBe(want);
      fs.rmSync(file);
    }
  });
});
