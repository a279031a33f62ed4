// The host around the grid: opening files (and the errors a user gets), the empty file, the
// token that guards the browser host, the `hexmap serve` command line as a user runs it, the
// CSP, the themes, and a screenshot for the record (e2e/output/, not committed).

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import WebSocket from "ws";
import { expectedRow, readBytes, SMALL_TEXT } from "./fixture-files";
import { expect, root, test } from "./fixtures";

test.describe("opening files", () => {
  test("a missing path and a directory are shown as errors; the open document stays usable", async ({ hexmap }) => {
    const missing = await hexmap.openExpectingError(hexmap.files.missing);
    expect(missing).toMatch(/ENOENT|no such file/i);
    const dir = await hexmap.openExpectingError(hexmap.files.dirPath);
    expect(dir).toMatch(/EISDIR|directory/i);
    await expect(hexmap.page.getByTestId("tab")).toHaveCount(1);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
  });

  test("an empty file opens as empty, not as an error", async ({ hexmap }) => {
    await hexmap.open(hexmap.files.empty);
    await expect(hexmap.page.getByTestId("empty-file")).toBeVisible();
    await expect(hexmap.page.getByRole("alert")).toHaveCount(0);
    const status = await hexmap.status();
    expect(status.size).toBe(0);
    await expect(hexmap.page.getByTestId("status-cursor-hex")).toHaveText("—");
    // Keys and Go to do no harm on an empty file.
    await hexmap.page.keyboard.press("Control+End");
    await hexmap.page.keyboard.press("PageDown");
    expect(await hexmap.gotoError("1")).toMatch(/past the end/);
  });

  test("a small text file shows its text; tabs switch between documents and close", async ({ hexmap }) => {
    const { page } = hexmap;
    await hexmap.open(hexmap.files.small);
    const rows = await hexmap.expectRowsMatchFile(hexmap.files.small);
    expect(rows[0]!.ascii).toBe("Hexmap e2e: hell");
    await expect(page).toHaveTitle("small.txt — Hexmap");
    const last = rows[rows.length - 1]!;
    const size = Buffer.byteLength(SMALL_TEXT, "latin1");
    expect(last.offset).toBe(size - (size % 16 || 16));
    expect((await hexmap.status()).size).toBe(size);

    await page.locator(`[data-testid=tab][title="${hexmap.files.big}"]`).click();
    await expect.poll(() => hexmap.status().then((s) => s.size)).toBe(2 ** 36);
    await page.locator(`[data-testid=tab][title="${hexmap.files.small}"] [data-testid=tab-close]`).click();
    await expect(page.getByTestId("tab")).toHaveCount(1);
    await hexmap.expectRowsMatchFile(hexmap.files.big);
  });
});

test.describe("changes on disk", () => {
  test("a file that grows and shrinks on disk is shown at its new size with its new bytes", async ({ hexmap }, testInfo) => {
    const file = path.join(hexmap.files.dir, `growing-${testInfo.project.name}-${testInfo.workerIndex}.bin`);
    const first = Buffer.alloc(100, 0x41);
    fs.writeFileSync(file, first);
    await hexmap.open(file);
    await expect.poll(() => hexmap.status().then((s) => s.size)).toBe(100);
    fs.appendFileSync(file, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 13 + 7) & 0xff)));
    await expect.poll(() => hexmap.status().then((s) => s.size), { timeout: 10_000 }).toBe(400);
    await hexmap.page.keyboard.press("Control+End");
    await hexmap.expectCursor(399);
    let rows = await hexmap.expectRowsMatchFile(file);
    expect(rows[rows.length - 1]!.offset).toBe(384);

    fs.truncateSync(file, 50);
    await expect.poll(() => hexmap.status().then((s) => s.size), { timeout: 10_000 }).toBe(50);
    await hexmap.expectCursor(49);
    rows = await hexmap.expectRowsMatchFile(file);
    expect(rows.map((r) => r.offset)).toEqual([0, 16, 32, 48]);
    await expect(hexmap.page.getByRole("alert")).toHaveCount(0);
  });
});

test.describe("browser host", () => {
  test.skip(({ hexmapHost }) => hexmapHost !== "browser", "the token guards the browser host only");

  test("without the token the page and the socket are refused, and no bytes are shown", async ({ hexmap }) => {
    const server = hexmap.server!;
    const context = await hexmap.page.context().browser()!.newContext();
    try {
      const page = await context.newPage();
      const bare = await page.goto(server.origin + "/");
      expect(bare!.status()).toBe(401);
      expect(await page.content()).not.toContain('data-testid="row"');
      const wrong = await page.goto(server.origin + "/?token=not-the-token");
      expect(wrong!.status()).toBe(401);
      const asset = await page.request.get(server.origin + "/app.js");
      expect(asset.status()).toBe(401);
    } finally {
      await context.close();
    }
    // The WebSocket, from Node: no token → 401 before any message is read.
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => {
        ws.close();
        resolve(101);
      });
      ws.on("error", () => resolve(-1));
    });
    expect(status).toBe(401);
  });

  test("a page whose socket is refused says so instead of showing nothing", async ({ hexmap }) => {
    // What a page sees when the host refuses the upgrade (token gone stale after a restart).
    const page = hexmap.page;
    await page.routeWebSocket(/\/ws/, (ws) => ws.close({ code: 1008, reason: "" }));
    await page.reload();
    await expect(page.getByTestId("connection-error")).toBeVisible();
    await expect(page.getByTestId("connection-error")).toContainText(/token/);
    await expect(page.getByTestId("row")).toHaveCount(0);
    await expect(page.getByTestId("open-button")).toBeDisabled();
  });

  test("`hexmap serve FILE` prints one URL line; opening it shows the file's bytes", async ({ hexmap }) => {
    const child = spawn(process.execPath, [path.join(root, "bin", "hexmap.js"), "serve", hexmap.files.small, "--port", "0", "--no-open"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const nl = out.indexOf("\n");
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", (code) => reject(new Error(`hexmap serve exited with ${code}: ${err}`)));
        setTimeout(() => reject(new Error(`no URL line within 10 s: ${out} ${err}`)), 10_000);
      });
      expect(line).toMatch(/^Hexmap: http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
      const url = line.slice("Hexmap: ".length);
      const page = hexmap.page;
      await page.goto(url);
      await expect(page.locator(`[data-testid=tab][title="${hexmap.files.small}"]`)).toBeVisible();
      const rows = await hexmap.rows();
      const disk = readBytes(hexmap.files.small, 0, 16);
      expect(rows[0]).toMatchObject({ offset: 0, ...expectedRow(disk) });
    } finally {
      child.kill("SIGTERM");
    }
  });
});

test.describe("look", () => {
  test("a session leaves no CSP violation and no console error; screenshots in both themes", async ({ hexmap }, testInfo) => {
    const { page } = hexmap;
    await hexmap.goto("0xFFFFFF80");
    await hexmap.clickByte(0xfffffffd);
    await hexmap.clickByte(0x100000012, { shift: true });
    await hexmap.expectRowsMatchFile(hexmap.files.big);
    const light = await hexmap.screenshot(`hexmap-64gib-${testInfo.project.name}-light.png`);
    await testInfo.attach("light", { path: light, contentType: "image/png" });

    await page.emulateMedia({ colorScheme: "dark" });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(23, 25, 29)");
    const dark = await hexmap.screenshot(`hexmap-64gib-${testInfo.project.name}-dark.png`);
    await testInfo.attach("dark", { path: dark, contentType: "image/png" });
    await page.emulateMedia({ colorScheme: "light" });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(255, 255, 255)");

    await page.keyboard.press("Control+g");
    await page.getByTestId("goto-input").fill("zz");
    await page.getByTestId("goto-input").press("Enter");
    await expect(page.getByTestId("goto-error")).toBeVisible();
    await hexmap.screenshot(`hexmap-goto-${testInfo.project.name}.png`);
    await page.keyboard.press("Escape");

    if (hexmap.host === "browser") {
      const response = await page.request.get(hexmap.server!.url);
      expect(response.headers()["content-security-policy"]).toContain("script-src 'self'");
    }
    expect(hexmap.consoleErrors).toEqual([]);
  });
});
