// Whether an Electron binary can be launched here. `require("electron")` returns the binary's
// path once the package's postinstall downloaded it; where that download is impossible (this CI,
// offline machines) it throws or names a file that does not exist, and the electron project skips.

import * as fs from "node:fs";
import { createRequire } from "node:module";

const requireHere = createRequire(__filename);

export const ELECTRON_SKIP_REASON =
  "Electron binary not installed (cannot be downloaded here): electron project skipped";

export function electronBinary(): string | null {
  try {
    const p: unknown = requireHere("electron");
    return typeof p === "string" && fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

export const electronAvailable = electronBinary() !== null;
