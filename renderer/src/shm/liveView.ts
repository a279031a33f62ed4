// The renderer's side of a live (shared-memory) document. The host does the looking: it re-reads
// what we say is on screen (`watch`) every intervalMs and sends `bytes-changed` when bytes moved.
// This object tells it what is visible, pauses it while the page is hidden
// (document.visibilityState), and remembers which bytes changed lately so the grid can flash them
// — a span per changed run, fading out over FLASH_MS (CSS animation), then gone.

import type { HexmapApi } from "../api";

export const FLASH_MS = 1500;
export const DEFAULT_INTERVAL_MS = 100;
export const INTERVAL_CHOICES = [50, 100, 250, 500, 1000] as const;
/** The host's per-client cap (MAX_WATCH_BYTES): a screenful is far less. */
const MAX_WATCH = 1024 * 1024;
/** Visible-range updates while scrolling are sent at most this often. */
const WATCH_DEBOUNCE_MS = 40;

export interface Flash {
  offset: number;
  length: number;
  /** performance.now() when it was reported. */
  at: number;
  /** A stable key for React. */
  key: number;
}

export class LiveView {
  intervalMs = DEFAULT_INTERVAL_MS;
  /** The page is hidden: the host stops looking until it is shown again. */
  hidden = typeof document !== "undefined" && document.visibilityState === "hidden";
  /** Bumps when flashes or the state change (useSyncExternalStore). */
  version = 0;
  /** Changes reported so far (shown in the live bar). */
  changes = 0;
  lastError: string | null = null;
  private flashes: Flash[] = [];
  private visible: { offset: number; length: number } | null = null;
  private sent = "";
  private watchTimer: ReturnType<typeof setTimeout> | null = null;
  private pruneTimer: ReturnType<typeof setTimeout> | null = null;
  private nextKey = 1;
  private disposed = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: Pick<HexmapApi, "request">,
    readonly docId: string,
  ) {
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.onVisibility);
    if (this.hidden) this.api.request("watch-pause", { docId, paused: true }).catch((err: unknown) => this.failed(err));
  }

  subscribe = (cb: () => void): (() => void) => {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  };

  getVersion = (): number => this.version;

  /** The bytes on screen now; the host is told (debounced) when they change. */
  setVisible(offset: number, length: number): void {
    const next = length > 0 ? { offset, length: Math.min(length, MAX_WATCH) } : null;
    if (next?.offset === this.visible?.offset && next?.length === this.visible?.length) return;
    this.visible = next;
    this.scheduleWatch();
  }

  setIntervalMs(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    this.scheduleWatch(0);
    this.emit();
  }

  /** A `bytes-changed` event for this document. */
  noteChanged(ranges: ReadonlyArray<{ offset: number; length: number }>): void {
    const at = now();
    for (const r of ranges) this.flashes.push({ offset: r.offset, length: r.length, at, key: this.nextKey++ });
    this.changes++;
    this.prune();
    this.emit();
  }

  /** Flashes overlapping [offset, offset + length), oldest first. */
  flashesIn(offset: number, length: number): Flash[] {
    if (this.flashes.length === 0) return [];
    const end = offset + length;
    return this.flashes.filter((f) => f.offset < end && f.offset + f.length > offset);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.onVisibility);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    this.listeners.clear();
  }

  private onVisibility = (): void => {
    const hidden = document.visibilityState === "hidden";
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    this.api.request("watch-pause", { docId: this.docId, paused: hidden }).catch((err: unknown) => this.failed(err));
    this.emit();
  };

  private scheduleWatch(delay = WATCH_DEBOUNCE_MS): void {
    if (this.disposed) return;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      this.watchTimer = null;
      this.sendWatch();
    }, delay);
  }

  private sendWatch(): void {
    if (this.disposed) return;
    const ranges = this.visible ? [this.visible] : [];
    const key = JSON.stringify([ranges, this.intervalMs]);
    if (key === this.sent) return;
    this.sent = key;
    this.api
      .request("watch", { docId: this.docId, ranges, intervalMs: this.intervalMs })
      .then(() => {
        if (this.lastError) {
          this.lastError = null;
          this.emit();
        }
      })
      .catch((err: unknown) => {
        this.sent = "";
        this.failed(err);
      });
  }

  private failed(err: unknown): void {
    const code = (err as { code?: string }).code;
    if (this.disposed || code === "EBADDOC" || code === "EDISCONNECTED") return;
    this.lastError = err instanceof Error ? err.message : String(err);
    this.emit();
  }

  private prune(): void {
    const t = now();
    this.flashes = this.flashes.filter((f) => t - f.at < FLASH_MS);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    this.pruneTimer = null;
    const oldest = this.flashes[0];
    if (oldest && !this.disposed) {
      this.pruneTimer = setTimeout(() => {
        this.prune();
        this.emit();
      }, FLASH_MS - (t - oldest.at) + 20);
    }
  }

  private emit(): void {
    this.version++;
    for (const cb of [...this.listeners]) cb();
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
