// Playwright: the same specs against both Hexmap hosts.
//   browser-host  the real `hexmap serve` server (started in-process per worker) in system Chromium
//                 (no browser download: CHROMIUM_PATH or /usr/bin/chromium; Edge on Windows)
//   electron      the Electron shell through Playwright's _electron, where an Electron binary exists;
//                 elsewhere its tests skip with the reason, printed once by global-setup.
// Build first (npm test does): npx tsc -p tsconfig.json; the renderer is bundled by global-setup.

import * as fs from "node:fs";
import { defineConfig } from "@playwright/test";
import type { HexmapOptions } from "./e2e/fixtures";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const useEdge = process.platform === "win32" && !fs.existsSync(chromiumPath);

export default defineConfig<HexmapOptions>({
  testDir: "./e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results",
  globalSetup: "./e2e/global-setup.ts",
  globalTeardown: "./e2e/global-teardown.ts",
  timeout: 30_000,
  expect: { timeout: 7_000 },
  fullyParallel: false,
  workers: process.env.CI ? 2 : 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 7_000,
    trace: "off",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "browser-host",
      use: {
        hexmapHost: "browser",
        browserName: "chromium",
        ...(useEdge
          ? { channel: "msedge" }
          : {
              launchOptions: {
                executablePath: chromiumPath,
                args: [
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--no-first-run",
                ],
              },
            }),
      },
    },
    {
      name: "electron",
      use: { hexmapHost: "electron" },
    },
  ],
});
