// A NativeAddon double over node:fs, with the real addon's contract (aligned maps, ERANGE past
// the size, ECLOSED after unmap, unmap deferred until in-flight reads finish). Used to test the
// engine's own logic (pinning, eviction under concurrency) with controllable read delays, and
// before the real addon existed. The real addon is tested by the other engine tests.

import * as fs from "node:fs";
import type { NativeAddon, NativeSource, NativeView } from "../../native/index";

function coded(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

export interface FakeNative extends NativeAddon {
  /** Delay (ms) added to every async view read. */
  readDelayMs: number;
  /** Views that were read while unmapped (must stay 0). */
  readsOfUnmapped: number;
  liveViews(): number;
}

export function makeFakeNative(granularity = 4096): FakeNative {
  let liveViews = 0;
  let liveBytes = 0;
  let sources = 0;
  const fake: FakeNative = {
    granularity,
    pageSize: 4096,
    backend: "posix",
    readDelayMs: 0,
    readsOfUnmapped: 0,
    liveViews: () => liveViews,
    openFile(path: string, options?: { writable?: boolean }): NativeSource {
      let fd: number;
      try {
        fd = fs.openSync(path, options?.writable ? "r+" : "r");
        if (fs.fstatSync(fd).isDirectory()) {
          fs.closeSync(fd);
          throw coded("EISDIR", "is a directory");
        }
      } catch (err) {
        throw coded((err as { code?: string }).code ?? "EIO", (err as Error).message);
      }
      sources++;
      const views = new Set<NativeView>();
      let closed = false;
      const source: NativeSource = {
        kind: "file",
        writable: !!options?.writable,
        size: () => {
          if (closed) throw coded("ECLOSED", "closed");
          return fs.fstatSync(fd).size;
        },
        map(offset: number, length: number): NativeView {
          if (closed) throw coded("ECLOSED", "closed");
          if (offset % granularity !== 0) throw coded("EINVAL", "unaligned");
          if (length <= 0 || offset + length > fs.fstatSync(fd).size) throw coded("ERANGE", "outside the file");
          let inflight = 0;
          let unmapRequested = false;
          let viewClosed = false;
          const finishUnmap = () => {
            if (viewClosed) return;
            viewClosed = true;
            views.delete(view);
            liveViews--;
            liveBytes -= length;
          };
          const readAt = (at: number, n: number): Buffer => {
            if (at < 0 || n < 0 || at + n > length) throw coded("ERANGE", "outside the view");
            if (fs.fstatSync(fd).size < offset + at + n) throw coded("EIO", "bus error");
            const buf = Buffer.alloc(n);
            let done = 0;
            while (done < n) {
              const r = fs.readSync(fd, buf, done, n - done, offset + at + done);
              if (r === 0) break;
              done += r;
            }
            return buf;
          };
          const view: NativeView = {
            offset,
            length,
            writable: false,
            get closed() {
              return viewClosed || unmapRequested;
            },
            read(at: number, n: number): Promise<Buffer> {
              if (viewClosed || unmapRequested) {
                fake.readsOfUnmapped++;
                return Promise.reject(coded("ECLOSED", "view unmapped"));
              }
              inflight++;
              return new Promise<Buffer>((resolve, reject) => {
                setTimeout(() => {
                  try {
                    resolve(readAt(at, n));
                  } catch (err) {
                    reject(err);
                  } finally {
                    inflight--;
                    if (unmapRequested && inflight === 0) finishUnmap();
                  }
                }, fake.readDelayMs);
              });
            },
            readSync(at: number, n: number): Buffer {
              if (viewClosed || unmapRequested) {
                fake.readsOfUnmapped++;
                throw coded("ECLOSED", "view unmapped");
              }
              return readAt(at, n);
            },
            write: () => Promise.reject(coded("EACCES", "read-only")),
            writeSync: () => {
              throw coded("EACCES", "read-only");
            },
            flush: () => Promise.resolve(),
            unmap() {
              if (unmapRequested) return;
              unmapRequested = true;
              if (inflight === 0) finishUnmap();
            },
          };
          views.add(view);
          liveViews++;
          liveBytes += length;
          return view;
        },
        sync: () => Promise.resolve(),
        close() {
          if (closed) return;
          for (const v of [...views]) v.unmap();
          closed = true;
          sources--;
          fs.closeSync(fd);
        },
        get closed() {
          return closed;
        },
      };
      return source;
    },
    createShm() {
      throw coded("ENOTSUP", "fake");
    },
    openShm() {
      throw coded("ENOTSUP", "fake");
    },
    unlinkShm() {},
    stats: () => ({ sources, views: liveViews, mappedBytes: liveBytes }),
  };
  return fake;
}
