// Find & Replace (Ctrl+H) in the browser host: a text pattern replaced by a longer text in every
// place at once (one undo step), the grid showing the new bytes and size before any save, an
// invalid regex refused as it is typed, a regex replace that deletes, Ctrl+Z restoring, and the
// saved file equal to what Python's bytes.replace gives (computed here the same way).

import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, type Hexmap } from "./fixtures";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "editing e2e runs against the browser host");
});

function makeFile(hexmap: Hexmap, text: string): string {
  const file = path.join(hexmap.files.dir, `replace-${process.pid}-${Date.now()}.bin`);
  fs.writeFileSync(file, Buffer.from(text, "latin1"));
  return file;
}

async function shownText(hexmap: Hexmap, n: number): Promise<string> {
  const rows = await hexmap.readRows();
  const bytes: number[] = [];
  for (const r of rows) for (const c of r.hex ? r.hex.split(" ") : []) if (bytes.length < n) bytes.push(parseInt(c, 16));
  return Buffer.from(bytes).toString("latin1");
}

test.describe("Find & Replace", () => {
  test("Ctrl+H: replace all (text, then regex), one undo step each, shown before saving; save writes it", async ({ hexmap }) => {
    const { page } = hexmap;
    // Binary bytes first, so it opens in the hex view (text opens as lines).
    const text = "\x00\x01\x02" + "cat dog cat bird\n".repeat(50);
    const file = makeFile(hexmap, text);
    await hexmap.open(file);
    await hexmap.rows();
    await hexmap.grid().focus();

    await page.keyboard.press("Control+h");
    const dialog = page.getByTestId("replace-dialog");
    await expect(dialog).toBeVisible();
    await page.getByTestId("replace-find").fill("cat");
    await page.getByTestId("replace-with").fill("tiger");
    await page.getByTestId("replace-all").click();
    await expect(page.getByTestId("replace-result")).toHaveText("100 replaced.");
    await expect(page.getByTestId("info-banner")).toContainText("Replaced 100 matches");
    const replaced = text.split("cat").join("tiger");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(replaced.length));
    await expect.poll(() => shownText(hexmap, 22)).toBe(replaced.slice(0, 22));

    // An invalid regex is refused as it is typed; a valid one deletes (empty replacement).
    await page.getByTestId("replace-find-mode").selectOption("regex");
    await page.getByTestId("replace-find").fill("(bird");
    await expect(page.getByTestId("replace-find-error")).toContainText("position");
    await expect(page.getByTestId("replace-all")).toBeDisabled();
    await page.getByTestId("replace-find").fill(" b[a-z]+d");
    await page.getByTestId("replace-with").fill("");
    await page.getByTestId("replace-all").click();
    await expect(page.getByTestId("replace-result")).toHaveText("50 replaced.");
    const both = replaced.split(" bird").join("");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(both.length));
    await page.getByTestId("replace-close").click();
    await expect(dialog).toBeHidden();

    // Each replace all is one undo step.
    await hexmap.grid().focus();
    await page.keyboard.press("Control+z");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(replaced.length));
    await page.keyboard.press("Control+y");
    await expect(page.getByTestId("status-size")).toHaveAttribute("data-size", String(both.length));
    expect(fs.readFileSync(file, "latin1")).toBe(text); // nothing written yet
    await page.keyboard.press("Control+s");
    await expect(page.getByTestId("status-dirty")).toHaveText("saved");
    expect(fs.readFileSync(file, "latin1")).toBe(both);
    await expect.poll(() => shownText(hexmap, 16)).toBe(both.slice(0, 16));
  });
});
