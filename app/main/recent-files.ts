// Recently opened files, kept as JSON in the app's userData folder (most recent first). Plain
// Node, unit-tested; main.ts also tells the OS (app.addRecentDocument) and rebuilds the menu.

import * as fs from "node:fs";
import * as path from "node:path";

export const MAX_RECENT = 10;

export class RecentFiles {
  private items: string[] = [];

  constructor(private readonly file: string) {
    this.items = RecentFiles.read(file);
  }

  private static read(file: string): string[] {
    try {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
      const list = (data as { files?: unknown })?.files;
      if (!Array.isArray(list)) return [];
      return [...new Set(list.filter((p): p is string => typeof p === "string" && p.length > 0 && path.isAbsolute(p)))].slice(0, MAX_RECENT);
    } catch {
      return []; // missing or damaged: start afresh
    }
  }

  list(): string[] {
    return [...this.items];
  }

  /** Moves `file` (made absolute) to the front. Returns the new list. */
  add(file: string): string[] {
    const abs = path.resolve(file);
    this.items = [abs, ...this.items.filter((p) => p !== abs)].slice(0, MAX_RECENT);
    this.save();
    return this.list();
  }

  remove(file: string): void {
    this.items = this.items.filter((p) => p !== file);
    this.save();
  }

  clear(): void {
    this.items = [];
    this.save();
  }

  private save(): void {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ files: this.items }, null, 2));
      fs.renameSync(tmp, this.file);
    } catch {
      /* recent files are a convenience: never fail an open over them */
    }
  }
}
