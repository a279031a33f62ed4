// Helpers for the hardening suites: hashes, process resource counts (/proc), and polling.

import { createHash } from "node:crypto";
import * as fs from "node:fs";

export function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** Open file descriptors of this process (Linux). */
export function fdCount(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

/** Lines of /proc/self/maps that map `file` (its mapped windows). */
export function mapsOf(file: string): number {
  const real = fs.realpathSync(file);
  return fs
    .readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => l.endsWith(` ${real}`) || l.endsWith(` ${real} (deleted)`)).length;
}

/** Resident set size from /proc/self/status (VmRSS), in bytes. */
export function rssBytes(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

export async function waitFor(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const isLinux = process.platform === "linux";
export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
