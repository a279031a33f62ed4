// Long host requests (byte map, histogram, hash, compare, export) run as jobs: the host names the
// job in a first `job-progress` event (done = total = 0) before any work, sends progress while it
// runs and the reply when it ends. Those start events come in the order the requests were sent,
// so each runner claims the first unclaimed start event of its op and document. A claimed jobId
// is what `cancel` needs and what filters progress and partial results.

import type { HexmapApi, HostEvent } from "../api";
import type { JobOp, RequestParams, RequestType, ResultMap } from "../../../app/protocol/messages";

export interface JobHandle<T> {
  promise: Promise<T>;
  cancel(): void;
}

export interface JobCallbacks {
  onProgress?(done: number, total: number): void;
  /** Every event of this job (e.g. bytemap-partial) once its jobId is known. */
  onEvent?(event: HostEvent): void;
}

type Waiting = { op: JobOp; docId: string; claim(jobId: string): void };
const waiting: Waiting[] = [];
const listening = new WeakSet<HexmapApi>();

function listen(api: HexmapApi): void {
  if (listening.has(api)) return;
  listening.add(api);
  api.onEvent((e) => {
    if (e.event !== "job-progress" || e.done !== 0 || e.total !== 0) return;
    const i = waiting.findIndex((w) => w.op === e.op && w.docId === e.docId);
    if (i < 0) return;
    const [w] = waiting.splice(i, 1);
    w!.claim(e.jobId);
  });
}

export function startJob<T extends RequestType & JobOp>(
  api: HexmapApi,
  type: T,
  params: RequestParams<T> & { docId: string },
  callbacks: JobCallbacks = {},
): JobHandle<ResultMap[T]> {
  listen(api);
  let jobId: string | null = null;
  let canceled = false;
  let settled = false;
  const off = api.onEvent((e) => {
    if (!jobId || (e as { jobId?: string }).jobId !== jobId) return;
    if (e.event === "job-progress" && (e.total > 0 || e.done > 0)) callbacks.onProgress?.(e.done, e.total);
    callbacks.onEvent?.(e);
  });
  const entry: Waiting = {
    op: type,
    docId: params.docId,
    claim(id) {
      jobId = id;
      if (canceled && !settled) void api.request("cancel", { jobId: id }).catch(() => {});
    },
  };
  waiting.push(entry);
  const promise = api.request(type, params as RequestParams<T>).finally(() => {
    settled = true;
    off();
    const i = waiting.indexOf(entry);
    if (i >= 0) waiting.splice(i, 1); // failed before it started (malformed, wrong docId)
  });
  return {
    promise,
    cancel() {
      if (canceled || settled) return;
      canceled = true;
      if (jobId) void api.request("cancel", { jobId }).catch(() => {});
    },
  };
}

/** "12.5 %" of a job's progress. */
export function percent(done: number, total: number): string {
  return total > 0 ? `${((100 * done) / total).toFixed(done < total ? 1 : 0)} %` : "";
}
