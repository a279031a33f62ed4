// Bookmarks kept per file across restarts, in the app's user data — never next to the file (the
// user may not own its folder, and a viewer must not litter). One small JSON file per bookmarked
// file, named by a hash of its identity (real path, or "shm:" + section name), holding the path
// and size it was saved for: a file that changed size since is still matched by path, and its
// bookmarks past the new end are dropped when read.
//
// Where: Electron passes app.getPath("userData"); the browser host uses HEXMAP_CONFIG_DIR, else
// $XDG_CONFIG_HOME/hexmap, else ~/.config/hexmap (%APPDATA%\hexmap on Windows).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HexmapError } from "./errors";
import { BookmarkList, type Bookmark } from "../protocol/panels";

/** The per-user configuration folder of the browser host (and CLI). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HEXMAP_CONFIG_DIR) return path.resolve(env.HEXMAP_CONFIG_DIR);
  if (process.platform === "win32" && env.APPDATA) return path.join(env.APPDATA, "hexmap");
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "hexmap");
  return path.join(os.homedir(), ".config", "hexmap");
}

/** What identifies a document's file for its bookmarks. */
export interface BookmarkTarget {
  kind: "file" | "shm";
  /** Path as the user gave it, or the section name. */
  name: string;
  size: number;
}

interface StoredFile {
  format: "hexmap-bookmarks";
  version: 1;
  key: string;
  size: number;
  bookmarks: Bookmark[];
}

export class BookmarkStore {
  /** `dir` is resolved on first use (so tests may set HEXMAP_CONFIG_DIR after construction). */
  constructor(private readonly dirOption?: string) {}

  get dir(): string {
    return path.join(this.dirOption ?? defaultConfigDir(), "bookmarks");
  }

  /** The identity of a target: its real path (symlinks and "." resolved), or "shm:" + name. */
  static keyOf(target: BookmarkTarget): string {
    if (target.kind === "shm") return `shm:${target.name}`;
    try {
      return fs.realpathSync.native(target.name);
    } catch {
      return path.resolve(target.name);
    }
  }

  private fileFor(key: string): string {
    return path.join(this.dir, `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.json`);
  }

  /** The bookmarks of `target` ([] when none). Bookmarks no longer inside the file are dropped. */
  get(target: BookmarkTarget): Bookmark[] {
    const key = BookmarkStore.keyOf(target);
    let raw: string;
    try {
      raw = fs.readFileSync(this.fileFor(key), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new HexmapError("EIO", `Cannot read the bookmarks store: ${(err as Error).message}`);
    }
    let stored: Partial<StoredFile>;
    try {
      stored = JSON.parse(raw) as Partial<StoredFile>;
    } catch {
      return []; // a damaged store file is ignored (and replaced on the next save)
    }
    if (stored.key !== key) return []; // a hash collision, or a file copied by hand
    const parsed = BookmarkList.safeParse(stored.bookmarks);
    if (!parsed.success) return [];
    return parsed.data.filter((b) => b.offset + b.length <= target.size);
  }

  /** Replaces the bookmarks of `target` (written to a temporary file, then renamed). */
  set(target: BookmarkTarget, bookmarks: Bookmark[]): Bookmark[] {
    for (const b of bookmarks) {
      if (b.offset + b.length > target.size) {
        throw new HexmapError("ERANGE", `Bookmark "${b.name}" (${b.offset}+${b.length}) is past the end of the document (size ${target.size})`);
      }
    }
    const key = BookmarkStore.keyOf(target);
    const file = this.fileFor(key);
    const sorted = [...bookmarks].sort((a, b) => a.offset - b.offset || a.length - b.length);
    try {
      if (sorted.length === 0) {
        fs.rmSync(file, { force: true });
        return sorted;
      }
      fs.mkdirSync(this.dir, { recursive: true });
      const body: StoredFile = { format: "hexmap-bookmarks", version: 1, key, size: target.size, bookmarks: sorted };
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(body, null, 1));
      fs.renameSync(tmp, file);
    } catch (err) {
      throw new HexmapError("EIO", `Cannot save bookmarks in ${this.dir}: ${(err as Error).message}`);
    }
    return sorted;
  }
}
