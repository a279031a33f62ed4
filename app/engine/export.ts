// Export a range of a document (as the user sees it: edits applied) to a new file. Streamed in
// chunks with the next read in flight while the current chunk is written, into a temporary file
// beside the target that is fsync'd and then renamed over it, so the target is either the whole
// export or untouched. All-zero 64 KiB blocks are left as holes (a sparse range stays sparse).
// Cancel (AbortSignal) or any error removes the temporary file.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HexmapError, toHexmapError } from "./errors";
import { DEFAULT_CHUNK, clampRange, readExactly, throwIfAborted, type ByteSource } from "./hash";

const HOLE_BLOCK = 64 * 1024;

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Replace an existing target. Default false (EEXIST). */
  overwrite?: boolean;
  /** A path the export must not write to (the document's own file). */
  sourcePath?: string;
  chunkSize?: number;
}

export interface ExportResult {
  path: string;
  bytesWritten: number;
  durationMs: number;
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

export async function exportRange(src: ByteSource, offset: number, length: number, target: string, options: ExportOptions = {}): Promise<ExportResult> {
  const t0 = performance.now();
  if (typeof target !== "string" || target.length === 0 || target.includes("\0")) throw new HexmapError("EINVAL", "Export needs a file path");
  if (!path.isAbsolute(target)) throw new HexmapError("EINVAL", `Export needs an absolute path, got ${target}`);
  const n = clampRange(src.size, offset, length);
  if (options.sourcePath !== undefined && realOrResolved(target) === realOrResolved(options.sourcePath)) {
    throw new HexmapError("EINVAL", `${target} is the open document's own file: export to another file`);
  }
  const dir = path.dirname(target);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(target);
  } catch {
    /* does not exist: fine */
  }
  if (st?.isDirectory()) throw new HexmapError("EISDIR", `${target} is a folder: give a file name`);
  // The temp file is renamed over the target: never over a device, FIFO or socket (as root, over /dev/null).
  if (st && !st.isFile()) throw new HexmapError("EINVAL", `${target} is not a regular file (a device, FIFO or socket): export to a file`);
  if (st && !options.overwrite) throw new HexmapError("EEXIST", `${target} exists: choose another name or allow overwriting`);
  throwIfAborted(options.signal);

  const tmp = path.join(dir, `.${path.basename(target)}.hexmap-export-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  let fh: fs.promises.FileHandle | undefined;
  try {
    try {
      fh = await fs.promises.open(tmp, "wx");
    } catch (err) {
      throw toHexmapError(err, { path: dir, op: "create a file in" });
    }
    const chunk = options.chunkSize ?? DEFAULT_CHUNK;
    const zero = Buffer.alloc(HOLE_BLOCK);
    const end = offset + n;
    const read = (at: number) => readExactly(src, at, Math.min(chunk, end - at));
    let at = offset;
    let pending: Promise<Buffer> | undefined = n > 0 ? read(at) : undefined;
    try {
      while (pending) {
        const buf: Buffer = await pending;
        pending = undefined;
        const next = at + buf.length;
        if (next < end) pending = read(next);
        throwIfAborted(options.signal);
        for (let b = 0; b < buf.length; b += HOLE_BLOCK) {
          const piece = buf.subarray(b, Math.min(buf.length, b + HOLE_BLOCK));
          if (piece.equals(zero.subarray(0, piece.length))) continue;
          for (let off = 0; off < piece.length; ) {
            const { bytesWritten } = await fh.write(piece, off, piece.length - off, at - offset + b + off);
            off += bytesWritten;
          }
        }
        at = next;
        options.onProgress?.(at - offset, n);
      }
    } finally {
      if (pending) pending.catch(() => undefined);
    }
    await fh.truncate(n); // trailing holes
    await fh.sync();
    await fh.close();
    fh = undefined;
    throwIfAborted(options.signal);
    fs.renameSync(tmp, target);
    return { path: target, bytesWritten: n, durationMs: performance.now() - t0 };
  } catch (err) {
    if (fh) await fh.close().catch(() => {});
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* not created, or already renamed */
    }
    throw toHexmapError(err, { path: target, op: "export to" });
  }
}
