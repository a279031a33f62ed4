// Runs `search` requests: the host answers {jobId} at once, then sends job-progress, search-hit
// and job-done events for that jobId. Events that arrive before the reply names the job are kept
// (briefly) and replayed, so nothing is lost whatever the transport's ordering.

import type { HexmapApi, HostEvent } from "../api";
import type { RequestParams } from "../../../app/protocol/messages";
import type { SearchDone } from "../../../app/protocol/search";

export interface SearchCallbacks {
  onProgress?(done: number, total: number): void;
  /** lengths: regex hits only, parallel to offsets. */
  onHits?(offsets: number[], lengths?: number[]): void;
}

export interface SearchHandle {
  /** Resolves with the job's result (canceled: true after cancel); rejects with the host's error. */
  done: Promise<SearchDone>;
  cancel(): void;
}

type JobEvent = Extract<HostEvent, { jobId: string }>;

interface Running {
  callbacks: SearchCallbacks;
  resolve(r: SearchDone): void;
  reject(err: Error): void;
}

export class SearchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SearchError";
  }
}

export class SearchJobs {
  private readonly running = new Map<string, Running>();
  /** Events for a jobId not claimed yet (its reply is on its way). */
  private readonly early = new Map<string, JobEvent[]>();
  private readonly off: () => void;

  constructor(private readonly api: HexmapApi) {
    this.off = api.onEvent((e) => {
      if (!("jobId" in e)) return;
      const ev = e as JobEvent;
      if (ev.event === "job-progress" && ev.op !== "search") return;
      const job = this.running.get(ev.jobId);
      if (job) this.dispatch(ev.jobId, job, ev);
      else if (ev.event === "search-hit" || (ev.event === "job-done" && ev.op === "search") || ev.event === "job-progress") {
        const list = this.early.get(ev.jobId) ?? [];
        if (list.length < 10_000) list.push(ev);
        this.early.set(ev.jobId, list);
        if (this.early.size > 64) this.early.delete(this.early.keys().next().value!);
      }
    });
  }

  dispose(): void {
    this.off();
    for (const [jobId] of this.running) void this.api.request("cancel", { jobId }).catch(() => {});
    this.running.clear();
  }

  start(params: RequestParams<"search">, callbacks: SearchCallbacks = {}): SearchHandle {
    let jobId: string | null = null;
    let canceled = false;
    let settle!: Running;
    const done = new Promise<SearchDone>((resolve, reject) => {
      settle = { callbacks, resolve, reject };
    });
    this.api.request("search", params).then(
      (r) => {
        jobId = r.jobId;
        this.running.set(jobId, settle);
        const early = this.early.get(jobId);
        this.early.delete(jobId);
        for (const e of early ?? []) if (this.running.has(jobId)) this.dispatch(jobId, settle, e);
        if (canceled && this.running.has(jobId)) void this.api.request("cancel", { jobId }).catch(() => {});
      },
      (err: unknown) => {
        const e = err as { code?: string; message?: string };
        settle.reject(new SearchError(e.code ?? "EINTERNAL", e.message ?? String(err)));
      },
    );
    return {
      done,
      cancel: () => {
        canceled = true;
        if (jobId && this.running.has(jobId)) void this.api.request("cancel", { jobId }).catch(() => {});
      },
    };
  }

  private dispatch(jobId: string, job: Running, e: JobEvent): void {
    switch (e.event) {
      case "job-progress":
        if (e.total > 0) job.callbacks.onProgress?.(e.done, e.total);
        break;
      case "search-hit":
        job.callbacks.onHits?.(e.offsets, e.lengths);
        break;
      case "job-done":
        this.running.delete(jobId);
        if (e.result) job.resolve(e.result as SearchDone);
        else job.reject(new SearchError(e.error?.code ?? "EINTERNAL", e.error?.message ?? "The search failed"));
        break;
    }
  }
}
