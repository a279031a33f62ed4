// The line view shows unsaved edits (browser host): a line typed in the hex view (insert mode)
// is in the line view, with the new line count and numbers, without saving, and undo takes it
// out again; while the line view is on screen, Insert bytes… and Delete range… from the toolbar
// change its lines and count in place (the host's lines-changed "edited" refreshes the cache);
// a save keeps the same lines. Every test edits a file it makes.

import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, type Hexmap } from "./fixtures";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "editing e2e runs against the browser host");
});

const COUNT = 60;
const LINES = Array.from({ length: COUNT }, (_, i) => `line ${i + 1}` + (i % 3 ? ` ${"abcdefgh".slice(0, (i * 3) % 9)}` : ""));
const offsetOf = (n: number) => Buffer.byteLength(LINES.slice(0, n - 1).map((l) => l + "\n").join(""));

let files = 0;
function makeLog(hexmap: Hexmap): string {
  const file = path.join(hexmap.files.dir, `lines-edit-${process.pid}-${++files}-${Date.now()}.log`);
  fs.writeFileSync(file, LINES.join("\n") + "\n");
  return file;
}

async function openLog(hexmap: Hexmap, file: string): Promise<void> {
  const { page } = hexmap;
  await page.getByTestId("open-path").fill(file);
  await page.getByTestId("open-path").press("Enter");
  await expect(page.locator(`[data-testid=tab][title="${file}"]`)).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("line-view")).toBeVisible();
  await expect(page.getByTestId("line-view")).toHaveAttribute("data-complete", "true");
}

function lineText(hexmap: Hexmap, n: number) {
  return hexmap.page.locator(`[data-testid=line-row][data-line="${n}"]`).getByTestId("line-text");
}

async function expectLines(hexmap: Hexmap, from: number, texts: string[]): Promise<void> {
  for (const [i, t] of texts.entries()) await expect(lineText(hexmap, from + i)).toHaveText(t);
}

async function expectCount(hexmap: Hexmap, n: number): Promise<void> {
  await expect(hexmap.page.getByTestId("line-view")).toHaveAttribute("data-line-count", String(n));
  await expect(hexmap.page.getByTestId("lines-status-line")).toHaveAttribute("data-count", String(n));
}

test.describe("line view of the edited document", () => {
  test("a line typed in the hex view is in the line view without saving; undo takes it out", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeLog(hexmap);
    await openLog(hexmap, file);
    await expectCount(hexmap, COUNT);
    await expectLines(hexmap, 2, [LINES[1]!, LINES[2]!]);

    // To the hex view; in insert mode, type "NEW\n" (4E 45 57 0A) where line 3 starts.
    await page.getByTestId("view-toggle").click();
    await expect(hexmap.grid()).toBeVisible();
    await hexmap.rows();
    await hexmap.clickByte(offsetOf(3));
    const mode = page.getByTestId("status-insert");
    if ((await mode.getAttribute("data-mode")) !== "INS") await page.keyboard.press("Insert");
    await expect(mode).toHaveText("INS");
    await page.keyboard.type("4e45570a");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(fs.statSync(file).size + 4));
    await expect(page.getByTestId("status-dirty")).toContainText("modified");

    // Back to the lines: the new line is line 3, what was line 3 is line 4, 61 lines.
    await page.getByTestId("view-toggle").click();
    await expect(page.getByTestId("line-view")).toBeVisible();
    await expect(page.getByTestId("line-view")).toHaveAttribute("data-edited", "true");
    await expectCount(hexmap, COUNT + 1);
    // It opens at the hex cursor's line: the one after the typed line.
    await expect(page.getByTestId("lines-status-line")).toHaveAttribute("data-line", "4");
    await page.getByTestId("line-view").focus();
    await page.keyboard.press("Control+Home");
    await expectLines(hexmap, 1, [LINES[0]!, LINES[1]!, "NEW", LINES[2]!, LINES[3]!]);
    // The file on disk is untouched.
    expect(fs.readFileSync(file, "utf8")).toBe(LINES.join("\n") + "\n");

    // Undo in the hex view: the line view is the file's again.
    await page.getByTestId("view-toggle").click();
    await expect(hexmap.grid()).toBeVisible();
    await hexmap.grid().focus();
    await page.keyboard.press("Control+z");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(fs.statSync(file).size));
    await page.getByTestId("view-toggle").click();
    await expect(page.getByTestId("line-view")).toHaveAttribute("data-edited", "false");
    await expectCount(hexmap, COUNT);
    await page.getByTestId("line-view").focus();
    await page.keyboard.press("Control+Home");
    await expectLines(hexmap, 2, [LINES[1]!, LINES[2]!, LINES[3]!]);
  });

  test("while the line view is shown, Insert bytes… and Delete range… change its lines and count; a save keeps them", async ({ hexmap }) => {
    const { page } = hexmap;
    const file = makeLog(hexmap);
    await openLog(hexmap, file);
    await expectCount(hexmap, COUNT);
    const view = page.getByTestId("line-view");
    const version0 = Number(await view.getAttribute("data-version"));

    // Three empty lines (0A 0A 0A) before line 2, from the toolbar, the line view staying on screen.
    await page.getByTestId("insert-bytes-button").click();
    await expect(page.getByTestId("insert-bytes-dialog")).toBeVisible();
    await page.getByTestId("insert-count").fill("3");
    await page.getByTestId("insert-fill").fill("0A");
    await page.getByTestId("insert-at").fill(String(offsetOf(2)));
    await page.getByTestId("insert-submit").click();
    await expect(page.getByTestId("insert-bytes-dialog")).toBeHidden();
    await expect(view).toBeVisible();
    await expectCount(hexmap, COUNT + 3);
    await expect(view).toHaveAttribute("data-edited", "true");
    await expectLines(hexmap, 1, [LINES[0]!, "", "", "", LINES[1]!, LINES[2]!]);
    expect(Number(await view.getAttribute("data-version"))).toBeGreaterThan(version0);

    // Delete line 5 (the old line 2) with its newline: Delete range… by start and length.
    await page.getByTestId("delete-range-button").click();
    await expect(page.getByTestId("delete-range-dialog")).toBeVisible();
    await page.getByTestId("delete-start").fill(String(offsetOf(2) + 3));
    await page.getByTestId("delete-by").selectOption("length");
    await page.getByTestId("delete-amount").fill(String(Buffer.byteLength(LINES[1]!) + 1));
    await page.getByTestId("delete-submit").click();
    await expect(page.getByTestId("delete-range-dialog")).toBeHidden();
    await expectCount(hexmap, COUNT + 2);
    await expectLines(hexmap, 1, [LINES[0]!, "", "", "", LINES[2]!, LINES[3]!]);
    // The last line too: its number moved with the edits.
    await page.getByTestId("line-view").focus();
    await page.keyboard.press("Control+End");
    await expect(lineText(hexmap, COUNT + 2)).toHaveText(LINES[COUNT - 1]!);
    await expect(page.getByTestId("lines-status-line")).toHaveAttribute("data-line", String(COUNT + 2));

    // Save: the file now holds these lines; the view shows the same ones, no longer "edited".
    await page.getByTestId("save-button").click();
    await expect(view).toHaveAttribute("data-edited", "false");
    await expectCount(hexmap, COUNT + 2);
    const want = [LINES[0]!, "", "", "", ...LINES.slice(2)];
    await expect.poll(() => fs.readFileSync(file, "utf8")).toBe(want.join("\n") + "\n");
    await expect(lineText(hexmap, COUNT + 2)).toHaveText(LINES[COUNT - 1]!);
    await page.getByTestId("line-view").focus();
    await page.keyboard.press("Control+Home");
    await expectLines(hexmap, 1, want.slice(0, 6));
  });
});
