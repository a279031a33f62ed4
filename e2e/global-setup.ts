// Once per run: check the hosts are built, bundle the current renderer, make the big-file
// fixtures (sparse; seconds, not gigabytes of disk) and say whether the electron project runs.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FullConfig } from "@playwright/test";
import { ELECTRON_SKIP_REASON, electronAvailable } from "./electron";
import { makeFixtures } from "./fixture-files";

const root = path.resolve(__dirname, "..");

export default async function globalSetup(config: FullConfig): Promise<void> {
  const server = path.join(root, "dist", "app", "serve", "server.js");
  if (!fs.existsSync(server)) {
    throw new Error(`${path.relative(root, server)} is missing: build first (npx tsc -p tsconfig.json, or npm test which builds)`);
  }
  if (process.env.HEXMAP_E2E_SKIP_RENDERER_BUILD !== "1") {
    execFileSync(process.execPath, [path.join(root, "scripts", "build-renderer.js")], { cwd: root, stdio: "inherit" });
  }
  const fixtures = makeFixtures();
  process.env.HEXMAP_E2E_FIXTURES = JSON.stringify(fixtures);
  fs.mkdirSync(path.join(root, "e2e", "output"), { recursive: true });

  const electronProject = config.projects.some((p) => p.name === "electron");
  if (electronProject && !electronAvailable) console.log(ELECTRON_SKIP_REASON);
}
