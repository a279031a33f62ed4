// The file to open from a command line: the first instance's process.argv, or the argv a second
// launch hands over in 'second-instance'. Electron's argv is [exe, ...args] when packaged and
// [electron, appPath, ...args] in development; Chromium switches (-x, --x) are skipped.

import * as path from "node:path";

export function fileFromArgv(argv: readonly string[], options: { packaged: boolean; cwd: string }): string | null {
  const args = argv.slice(options.packaged ? 1 : 2);
  let afterDashDash = false;
  for (const arg of args) {
    if (!afterDashDash && arg === "--") {
      afterDashDash = true;
      continue;
    }
    if (!afterDashDash && arg.startsWith("-")) continue;
    if (arg.length === 0) continue;
    return path.resolve(options.cwd, arg);
  }
  return null;
}
