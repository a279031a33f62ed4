// The `hexmap` fixture: a page connected to a real Hexmap host, whichever the project says.
//   browser  startServer() from dist/app/serve/server.js (one per worker, the 64 GiB fixture as
//            its shared file, like `hexmap serve big.bin`), and the page at its token URL
//   electron _electron.launch of the built shell with the 64 GiB fixture on its command line
// plus helpers the specs share: open a path, go to an offset, read rows and the status bar, and
// compare what is shown with the bytes on disk. Every test also fails on a CSP violation or an
// uncaught page error.

import * as path from "node:path";
import { test as base, expect, _electron, type Browser, type ElectronApplication, type Page } from "@playwright/test";
import { ELECTRON_SKIP_REASON, electronAvailable } from "./electron";
import { expectedRow, readBytes, type Fixtures } from "./fixture-files";

export const root = path.resolve(__dirname, "..");
export type HostKind = "browser" | "electron";

export interface HexmapOptions {
  hexmapHost: HostKind;
}

export interface ShownRow {
  offset: number;
  loading: boolean;
  /** Hex pane, whitespace-normalised: "C8 EC FA …". */
  hex: string;
  ascii: string;
}

export interface Status {
  cursor: number;
  cursorHex: string;
  selStart: number | null;
  selLength: number;
  size: number;
  readOnly: boolean;
  pane: string;
}

interface RunningServer {
  url: string;
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export class Hexmap {
  readonly consoleErrors: string[] = [];
  readonly pageErrors: string[] = [];
  constructor(
    readonly host: HostKind,
    readonly page: Page,
    readonly files: Fixtures,
    readonly server: RunningServer | null,
  ) {
    page.on("console", (m) => {
      if (m.type() === "error") this.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => this.pageErrors.push(e.message));
  }

  grid() {
    return this.page.getByTestId("hex-grid");
  }

  /** Opens a path through the Open box and waits for its tab. */
  async open(file: string): Promise<void> {
    await this.page.getByTestId("open-path").fill(file);
    await this.page.getByTestId("open-path").press("Enter");
    await expect(this.page.locator(`[data-testid=tab][title="${file}"]`)).toHaveAttribute("aria-selected", "true");
    await this.grid().focus();
  }

  /** Tries to open a path that must fail; returns the alert's text. */
  async openExpectingError(file: string): Promise<string> {
    await this.page.getByTestId("open-path").fill(file);
    await this.page.getByTestId("open-path").press("Enter");
    const alert = this.page.getByRole("alert").filter({ hasText: file });
    await expect(alert).toBeVisible();
    return (await alert.textContent()) ?? "";
  }

  /** Ctrl+G, types `text`, Enter; waits for the dialog to close (use gotoError for failures). */
  async goto(text: string): Promise<void> {
    await this.grid().focus();
    await this.page.keyboard.press("Control+g");
    const input = this.page.getByTestId("goto-input");
    await input.fill(text);
    await input.press("Enter");
    await expect(this.page.getByTestId("goto-dialog")).toBeHidden();
  }

  async gotoError(text: string): Promise<string> {
    await this.grid().focus();
    await this.page.keyboard.press("Control+g");
    const input = this.page.getByTestId("goto-input");
    await input.fill(text);
    await input.press("Enter");
    const err = this.page.getByTestId("goto-error");
    await expect(err).toBeVisible();
    const message = (await err.textContent()) ?? "";
    await input.press("Escape");
    await expect(this.page.getByTestId("goto-dialog")).toBeHidden();
    return message;
  }

  /** The rows on screen, once none is still loading. */
  async rows(): Promise<ShownRow[]> {
    let rows: ShownRow[] = [];
    await expect
      .poll(
        async () => {
          rows = await this.readRows();
          return rows.length > 0 && rows.every((r) => !r.loading);
        },
        { message: "rows finished loading", timeout: 10_000, intervals: [20, 50, 100, 200] },
      )
      .toBe(true);
    return rows;
  }

  async readRows(): Promise<ShownRow[]> {
    return this.page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>("[data-testid=row]"))
        .map((r) => ({
          offset: Number(r.dataset.offset),
          loading: r.dataset.loading === "true",
          hex: (r.querySelector("[data-testid=row-hex]")?.textContent ?? "").trim().split(/\s+/).join(" "),
          ascii: r.querySelector("[data-testid=row-ascii]")?.textContent ?? "",
        }))
        .sort((a, b) => a.offset - b.offset),
    );
  }

  /** Position attributes the grid publishes for tests: top row, rows fully visible, last top row, bytes per row. */
  async gridState(): Promise<{ topRow: number; fullRows: number; maxTop: number; bpr: number }> {
    const g = this.grid();
    const [topRow, fullRows, maxTop, bpr] = await Promise.all(
      ["data-top-row", "data-full-rows", "data-max-top", "data-bpr"].map(async (a) => Number(await g.getAttribute(a))),
    );
    return { topRow: topRow!, fullRows: fullRows!, maxTop: maxTop!, bpr: bpr! };
  }

  async topOffset(): Promise<number> {
    const rows = await this.readRows();
    return rows[0]?.offset ?? -1;
  }

  /** Every row on screen shows exactly the file's bytes there (hex and ASCII). */
  async expectRowsMatchFile(file: string, bpr = 16): Promise<ShownRow[]> {
    const rows = await this.rows();
    const first = rows[0]!.offset;
    const last = rows[rows.length - 1]!.offset;
    const disk = readBytes(file, first, last - first + bpr);
    for (const row of rows) {
      const want = expectedRow(disk.subarray(row.offset - first, row.offset - first + bpr));
      expect.soft(row.hex, `hex of row 0x${row.offset.toString(16)}`).toBe(want.hex);
      expect.soft(row.ascii, `ASCII of row 0x${row.offset.toString(16)}`).toBe(want.ascii);
    }
    expect(test.info().errors, "rows match the file").toHaveLength(0);
    return rows;
  }

  async status(): Promise<Status> {
    return this.page.evaluate(() => {
      const q = (id: string) => document.querySelector<HTMLElement>(`[data-testid=${id}]`);
      const sel = q("status-selection");
      const dec = (q("status-cursor-dec")?.textContent ?? "").replace(/[^0-9]/g, "");
      return {
        cursor: dec ? Number(dec) : -1,
        cursorHex: q("status-cursor-hex")?.textContent ?? "",
        selStart: sel?.dataset.start !== undefined ? Number(sel.dataset.start) : null,
        selLength: Number(sel?.dataset.length ?? 0),
        size: Number(q("status-size")?.dataset.size ?? -1),
        readOnly: (q("status-mode")?.textContent ?? "") === "Read-only",
        pane: q("hex-grid")?.dataset.activePane ?? "",
      };
    });
  }

  async expectCursor(offset: number): Promise<void> {
    await expect.poll(async () => (await this.status()).cursor, { message: `cursor at ${offset}` }).toBe(offset);
  }

  /** Centre of the byte `offset` in a pane, which must be on screen. */
  async byteBox(offset: number, pane: "hex" | "ascii" = "hex"): Promise<{ x: number; y: number }> {
    return this.page.evaluate(
      ({ offset, pane }) => {
        const rows = Array.from(document.querySelectorAll<HTMLElement>("[data-testid=row]"));
        const header = document.querySelector<HTMLElement>(`.row.header .${pane}`)!;
        const bpr = Number(document.querySelector<HTMLElement>("[data-testid=hex-grid]")!.dataset.bpr);
        const row = rows.find((r) => offset >= Number(r.dataset.offset) && offset < Number(r.dataset.offset) + bpr);
        if (!row) throw new Error(`byte ${offset} is not on screen`);
        const i = offset - Number(row.dataset.offset);
        const hb = header.getBoundingClientRect();
        const chars = pane === "hex" ? (bpr - 1) * 3 + Math.floor((bpr - 1) / 8) + 2 : bpr;
        const cw = hb.width / chars;
        const col = pane === "hex" ? i * 3 + Math.floor(i / 8) + 1 : i + 0.5;
        const rb = row.getBoundingClientRect();
        return { x: hb.left + col * cw, y: rb.top + rb.height / 2 };
      },
      { offset, pane },
    );
  }

  async clickByte(offset: number, opts: { shift?: boolean; pane?: "hex" | "ascii" } = {}): Promise<void> {
    const { x, y } = await this.byteBox(offset, opts.pane);
    if (opts.shift) await this.page.keyboard.down("Shift");
    await this.page.mouse.click(x, y);
    if (opts.shift) await this.page.keyboard.up("Shift");
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(root, "e2e", "output", name);
    await this.page.screenshot({ path: file });
    return file;
  }
}

function fixtures(): Fixtures {
  const raw = process.env.HEXMAP_E2E_FIXTURES;
  if (!raw) throw new Error("HEXMAP_E2E_FIXTURES is not set: run through playwright.config.ts (global-setup)");
  return JSON.parse(raw) as Fixtures;
}

async function startBrowserHost(file: string): Promise<RunningServer> {
  // Built by `npx tsc -p tsconfig.json`; loaded at run time so the electron project needs none of it.
  const mod = require(path.join(root, "dist", "app", "serve", "server.js")) as {
    startServer(o: { file?: string; rendererDir: string; port?: number; host?: string }): Promise<RunningServer>;
  };
  return mod.startServer({ file, rendererDir: path.join(root, "dist", "renderer"), port: 0, host: "127.0.0.1" });
}

export const test = base.extend<HexmapOptions & { hexmap: Hexmap }, { files: Fixtures; hexServer: RunningServer | null; hexBrowser: Browser | null }>({
  hexmapHost: ["browser", { option: true }],

  files: [async ({}, use) => use(fixtures()), { scope: "worker" }],

  hexServer: [
    async ({ files }, use, workerInfo) => {
      const host = (workerInfo.project.use as Partial<HexmapOptions>).hexmapHost ?? "browser";
      if (host !== "browser") return use(null);
      const server = await startBrowserHost(files.big);
      await use(server);
      await server.close();
    },
    { scope: "worker" },
  ],

  // Our own Chromium launch rather than the built-in `browser` fixture, which would try to launch
  // one for the electron project too (and fail there before the skip could say why).
  hexBrowser: [
    async ({ playwright, launchOptions, channel, headless }, use, workerInfo) => {
      const host = (workerInfo.project.use as Partial<HexmapOptions>).hexmapHost ?? "browser";
      if (host !== "browser") return use(null);
      const browser = await playwright.chromium.launch({ ...launchOptions, headless, ...(channel ? { channel } : {}) });
      await use(browser);
      await browser.close();
    },
    { scope: "worker" },
  ],

  hexmap: async ({ hexmapHost, files, hexServer, hexBrowser, viewport, colorScheme }, use, testInfo) => {
    let app: ElectronApplication | null = null;
    let page: Page;
    if (hexmapHost === "electron") {
      testInfo.skip(!electronAvailable, ELECTRON_SKIP_REASON);
      app = await _electron.launch({ args: [root, files.big], cwd: root });
      page = await app.firstWindow();
    } else {
      const context = await hexBrowser!.newContext({ viewport, colorScheme });
      page = await context.newPage();
    }
    await page.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    const hexmap = new Hexmap(hexmapHost, page, files, hexServer);
    if (hexServer) await page.goto(hexServer.url);
    else await page.reload();
    // The big file is open at start in both hosts (served file / command-line file).
    await expect(page.locator(`[data-testid=tab][title="${files.big}"]`)).toBeVisible();

    await use(hexmap);

    const csp = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []).catch(() => [] as string[]);
    const cspConsole = hexmap.consoleErrors.filter((m) => /Content[- ]Security[- ]Policy/i.test(m));
    if (app) await app.close();
    else await page.context().close();
    expect(csp, "no CSP violations").toEqual([]);
    expect(cspConsole, "no CSP errors in the console").toEqual([]);
    expect(hexmap.pageErrors, "no uncaught errors in the page").toEqual([]);
  },
});

export { expect };
