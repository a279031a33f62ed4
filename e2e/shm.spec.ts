// Shared memory end to end, as a user does the classic pair: ANOTHER PROCESS creates the section
// ShareMemory-<random> and writes "This is common data!" (test/shm/writer-child.js, which then
// takes write/read commands on stdin); the UI opens it by name with "Open shared memory…", shows
// the text, flashes the child's later change within a second, edits a byte that the child reads,
// and undoes it. Also: create from the UI (EEXIST and ENOENT shown in the dialog), pause while
// the page is hidden. Section names are unlinked even when a test fails.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import { expect, root, test, type Hexmap } from "./fixtures";

const TEXT = "This is common data!";
const CHILD = path.join(root, "dist", "test", "shm", "writer-child.js");
const isWin = process.platform === "win32";

/** The writer child: JSON lines both ways (see test/shm/writer-child.ts). */
class Writer {
  private lines: string[] = [];
  private waiting: Array<(line: string) => void> = [];
  stderr = "";

  private constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buf = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (c: string) => (this.stderr += c));
  }

  static async start(name: string, size = 4096, text = TEXT): Promise<Writer> {
    const proc = spawn(process.execPath, [CHILD, name, String(size), text], { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    const w = new Writer(proc);
    const ready = await w.next();
    if (ready.ready !== true) throw new Error(`writer child failed: ${JSON.stringify(ready)} ${w.stderr}`);
    return w;
  }

  next(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`writer child said nothing for ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.push((l) => {
        clearTimeout(t);
        resolve(JSON.parse(l));
      });
    });
  }

  async ask(cmd: object): Promise<Record<string, unknown>> {
    this.proc.stdin.write(JSON.stringify(cmd) + "\n");
    const reply = await this.next();
    if (reply.ok !== true) throw new Error(`writer child: ${JSON.stringify(reply)}`);
    return reply;
  }

  async read(offset: number, length: number): Promise<string> {
    return Buffer.from((await this.ask({ op: "read", offset, length })).hex as string, "hex").toString("latin1");
  }

  async write(offset: number, text: string): Promise<void> {
    await this.ask({ op: "write", writes: [{ offset, hex: Buffer.from(text, "latin1").toString("hex") }] });
  }

  stop(): void {
    if (this.proc.exitCode === null) {
      this.proc.stdin.end();
      this.proc.kill();
    }
  }
}

/** Section names made by a test, removed afterwards whatever happened (POSIX; Windows sections die with their handles). */
const made: string[] = [];
const writers: Writer[] = [];

function sectionName(): string {
  const n = `ShareMemory-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  made.push(n);
  return isWin ? `Local\\${n}` : n;
}

test.afterEach(() => {
  for (const w of writers.splice(0)) w.stop();
  if (isWin) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const native = require(path.join(root, "dist", "native", "index.js")) as { loadNative(): { unlinkShm(n: string): void } };
  for (const n of made.splice(0)) {
    try {
      native.loadNative().unlinkShm(n);
    } catch {
      /* already gone */
    }
  }
});

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "shared memory e2e runs against the browser host (the Electron menu sends the same dialog command)");
});

async function openShm(hexmap: Hexmap, name: string, readOnly = false): Promise<void> {
  const { page } = hexmap;
  await page.getByTestId("open-shm-button").click();
  const dialog = page.getByTestId("shm-dialog");
  await expect(dialog).toHaveAttribute("data-mode", "open");
  await page.getByTestId("shm-name").fill(name);
  if (readOnly) await page.getByTestId("shm-readonly").check();
  await page.getByTestId("shm-submit").click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(`[data-testid=tab][title="${name}"]`)).toHaveAttribute("aria-selected", "true");
}

/** The ASCII pane of the row at `offset`, once loaded. */
async function asciiAt(hexmap: Hexmap, offset = 0): Promise<string> {
  const rows = await hexmap.rows();
  return rows.find((r) => r.offset === offset)?.ascii ?? "";
}

test.describe("shared memory", () => {
  test("the classic pair: another process writes, the UI shows it live, edits it, undoes", async ({ hexmap }) => {
    const { page } = hexmap;
    const name = sectionName();
    const writer = await Writer.start(name);
    writers.push(writer);

    await openShm(hexmap, name);
    const tab = page.locator(`[data-testid=tab][title="${name}"]`);
    await expect(tab.getByTestId("tab-shm")).toBeVisible();
    await expect(tab).toContainText(name);
    await expect(page.getByTestId("shm-note")).toHaveText("Shared memory: changes apply immediately — no save");
    await expect(page.getByTestId("live-state")).toContainText("every 100 ms");

    // Row 0 shows the text in the ASCII pane, byte for byte in the hex pane.
    await expect.poll(() => asciiAt(hexmap, 0)).toBe(TEXT.slice(0, 16));
    expect((await hexmap.rows())[0]!.hex).toBe(Buffer.from(TEXT.slice(0, 16)).toString("hex").toUpperCase().match(/../g)!.join(" "));
    await expect.poll(() => asciiAt(hexmap, 16)).toMatch(/^ata!/);
    await expect(page.locator("[data-testid=live-changed]")).toHaveCount(0);

    // The child changes bytes 8..13: shown and flashed within a second, only there.
    const t0 = Date.now();
    await writer.write(8, "COMMON");
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText("This is COMMON d", { timeout: 1000 });
    const flash = page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii] [data-testid=live-changed]");
    await expect(flash).toHaveCount(1, { timeout: 1000 });
    const seenMs = Date.now() - t0;
    await expect(flash).toHaveAttribute("data-offset", "8");
    await expect(flash).toHaveAttribute("data-length", "6");
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-hex] [data-testid=live-changed]")).toHaveCount(1);
    // The row stays a few elements: one flash span per pane, not one per byte.
    expect(await page.locator("[data-testid=row][data-offset='0'] span").count()).toBeLessThanOrEqual(10);
    await hexmap.screenshot("hexmap-shm-live-flash.png");
    // …and it fades away.
    await expect(page.locator("[data-testid=live-changed]")).toHaveCount(0, { timeout: 4000 });
    test.info().annotations.push({ type: "latency", description: `outside change shown after ${seenMs} ms` });

    // An edit from the UI: the byte lands in the section at once (the child reads it).
    await hexmap.clickByte(0, { pane: "ascii" });
    await page.keyboard.type("t");
    await expect.poll(() => writer.read(0, 4), { timeout: 3000 }).toBe("this");
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText("this is COMMON d");

    // Undo writes the old byte back; redo again.
    await expect(page.getByTestId("shm-undo")).toBeEnabled();
    await page.getByTestId("shm-undo").click();
    await expect.poll(() => writer.read(0, 4), { timeout: 3000 }).toBe("This");
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText("This is COMMON d");
    await page.getByTestId("shm-redo").click();
    await expect.poll(() => writer.read(0, 4), { timeout: 3000 }).toBe("this");
    await hexmap.grid().focus();
    await page.keyboard.press("Control+z");
    await expect.poll(() => writer.read(0, 4), { timeout: 3000 }).toBe("This");
  });

  test("paused while the page is hidden; a change made meanwhile shows when it is visible again", async ({ hexmap }) => {
    const { page } = hexmap;
    const name = sectionName();
    const writer = await Writer.start(name);
    writers.push(writer);
    await openShm(hexmap, name, true);
    await expect(page.getByTestId("shm-note")).toContainText("read-only");
    await expect.poll(() => asciiAt(hexmap, 0)).toBe(TEXT.slice(0, 16));

    // The interval control reaches the host.
    await page.getByTestId("live-interval").selectOption("50");
    await expect(page.getByTestId("live-state")).toContainText("every 50 ms");

    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, "visibilityState", { value: h ? "hidden" : "visible", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    await expect(page.getByTestId("live-state")).toHaveAttribute("data-paused", "true");
    await page.waitForTimeout(150); // the pause reaches the host
    await writer.write(0, "THIS");
    await page.waitForTimeout(500);
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText(TEXT.slice(0, 16));
    await setHidden(false);
    await expect(page.getByTestId("live-state")).toHaveAttribute("data-paused", "false");
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText("THIS is common d", { timeout: 1500 });
    await expect(page.locator("[data-testid=live-changed]").first()).toBeVisible();
  });

  test("create from the UI; EEXIST and ENOENT are said in the dialog", async ({ hexmap }) => {
    const { page } = hexmap;
    const name = sectionName();
    await page.getByTestId("create-shm-button").click();
    await page.getByTestId("shm-name").fill(name);
    await page.getByTestId("shm-size").fill("huge");
    await page.getByTestId("shm-submit").click();
    await expect(page.getByTestId("shm-error")).toContainText("not a size");
    await page.getByTestId("shm-size").fill("0x1000");
    await page.getByTestId("shm-submit").click();
    await expect(page.getByTestId("shm-dialog")).toBeHidden();
    await expect(page.locator(`[data-testid=tab][title="${name}"]`)).toHaveAttribute("aria-selected", "true");
    expect((await hexmap.status()).size).toBe(4096);

    // The section is really there: another process opens it at that size.
    const writer = await Writer.start(name, 4096, "from the child");
    writers.push(writer);
    await expect(page.locator("[data-testid=row][data-offset='0'] [data-testid=row-ascii]")).toHaveText("from the child..", { timeout: 1500 });

    await page.getByTestId("create-shm-button").click();
    await page.getByTestId("shm-name").fill(name);
    await page.getByTestId("shm-size").fill("8 KiB");
    await page.getByTestId("shm-submit").click();
    await expect(page.getByTestId("shm-error")).toContainText("exists");
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("shm-dialog")).toBeHidden();

    const missing = `${sectionName()}-missing`;
    await page.getByTestId("open-shm-button").click();
    await page.getByTestId("shm-name").fill(missing);
    await page.getByTestId("shm-submit").click();
    await expect(page.getByTestId("shm-error")).toContainText("No shared memory section named");
  });
});
