// Every job-type request settles (issue 13, part 3): answered, or failed with a typed error —
// also when its document (or the other document of a compare) is closed while it runs, and when
// the client's socket drops (its jobs are cancelled and stop reading).
//
// The WebSocket fuzz found, with HEXMAP_FUZZ_SEED=1755770045, a compare and a hash over a 16 GiB
// shared-memory section that were never answered within the fuzz's 60 s: the fuzz cancels every
// job it has seen in one burst, and the host's per-connection in-flight limit (MAX_IN_FLIGHT)
// counted those cancels like any request. The first 61 (cheap, but not settled until the burst
// was read) filled the 64 slots, the rest — among them the cancels of the two running jobs — were
// answered EBUSY, and the jobs went on reading 16 GiB. `cancel` and `close` are now exempt from
// the limit. The first test replays that sequence over a real WebSocket.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import type * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { loadNative } from "../../native/index";
import { DocumentPool, Service, type DocumentHolder } from "../../app/engine/service";
import { isEditable } from "../../app/engine/edit-service";
import { decodeMessage } from "../../app/protocol/codec";
import type { Event, Reply } from "../../app/protocol/messages";
import { MAX_IN_FLIGHT, startServer, type RunningServer } from "../../app/serve/server";
import { GiB, cleanupFixtures, makeSparseFile, makeTempDir, type SparseFixture } from "../fixtures";
import { sleep, waitFor } from "./helpers";

const native = loadNative();
after(cleanupFixtures);

/** The largest section create-shm allows: the size the fuzz created. */
const SHM_SIZE = 16 * GiB;
const TYPED = new Set(["EBADDOC", "ECANCELED"]);

type Message = Record<string, unknown>;

/** A raw protocol client over a real WebSocket (JSON text frames out, the host's codec in). */
class WireClient {
  readonly replies = new Map<number, Reply>();
  readonly events: Message[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const m = decodeMessage(isBinary ? data : data.toString("utf8"));
      if (typeof m.event === "string") {
        this.events.push(m);
        return;
      }
      const reply = m as unknown as Reply;
      if (typeof reply.id !== "number") return;
      this.replies.set(reply.id, reply);
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  static async connect(server: RunningServer): Promise<WireClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, { origin: server.origin });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new WireClient(ws);
  }

  request(message: Message): Promise<Reply> {
    return this.burst([message])[0]!;
  }

  /**
   * Sends the messages in one socket write (corked), so the host reads them as one chunk and
   * handles them back to back, before any of their replies settles: the fuzz's cancel burst.
   */
  burst(messages: Message[]): Promise<Reply>[] {
    const socket = (this.ws as unknown as { _socket: net.Socket })._socket;
    socket.cork();
    const out = messages.map((m) => {
      const id = this.nextId++;
      const p = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
      this.ws.send(JSON.stringify({ id, ...m }));
      return p;
    });
    socket.uncork();
    return out;
  }

  /** The jobId of the first job-progress event of `op` on `docId` with done > 0 (the job is under way). */
  async runningJob(op: string, docId: string, ms = 10_000): Promise<string> {
    let found: string | undefined;
    await waitFor(() => {
      found = this.events.find((e) => e.event === "job-progress" && e.op === op && e.docId === docId && Number(e.done) > 0)?.jobId as string | undefined;
      return found !== undefined;
    }, ms, `${op} on ${docId} under way`);
    return found!;
  }

  close(): void {
    this.ws.terminate();
  }
}

function ok<T = Message>(r: Reply): T {
  assert.equal(r.ok, true, r.ok ? "" : `${r.error.code}: ${r.error.message}`);
  return (r as { result: unknown }).result as T;
}

function codeOf(r: Reply): string {
  return r.ok ? "ok" : r.error.code;
}

/** Resolves with `p`, or rejects when it has not settled within `ms` (the failure names `what`). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function unlinkShm(name: string): void {
  try {
    native.unlinkShm(name);
  } catch {
    /* never created */
  }
}

function rendererDir(): string {
  const dir = path.join(makeTempDir("hexmap-settle-renderer-"), "renderer");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html>");
  return dir;
}

describe("every job-type request settles", { timeout: 180_000 }, () => {
  let big: SparseFixture;
  before(() => {
    big = makeSparseFile({ size: 5 * GiB, blocks: [{ offset: 0, length: 65536, seed: 61 }, { offset: 5 * GiB - 4096, length: 4096, seed: 62 }] });
  });

  it("regression, fuzz seed 1755770045: a burst of cancels past the in-flight limit still cancels the running compare and hash", async () => {
    const name = `hexmap-settle-${process.pid}-a`;
    unlinkShm(name);
    const server = await startServer({ rendererDir: rendererDir(), pool: { pollIntervalMs: 200 } });
    const c = await WireClient.connect(server);
    try {
      // The fuzz's documents: one section, three documents (d3, d7, d10 there).
      const a = ok<{ docId: string }>(await c.request({ type: "create-shm", name, size: SHM_SIZE })).docId;
      const b = ok<{ docId: string }>(await c.request({ type: "open-shm", name, readOnly: true })).docId;
      const again = ok<{ docId: string; created: boolean }>(await c.request({ type: "create-shm", name, size: SHM_SIZE }));
      assert.equal(again.created, false);
      // The two requests that were never answered.
      const compare = c.request({ type: "compare", docId: b, otherDocId: a, op: "count", from: 4 });
      const hash = c.request({ type: "hash", docId: again.docId, offset: 4095, algorithms: ["crc32"] });
      const compareJob = await c.runningJob("compare", b);
      const hashJob = await c.runningJob("hash", again.docId);
      // The fuzz's drain: one cancel per job id it had seen, in one write; most of those jobs had
      // ended, and the cancels of the two running ones came after the limit's 64th message.
      const idle = Array.from({ length: 100 }, (_v, i) => `j${i + 3}`);
      const cancels = c.burst([...idle, compareJob, hashJob].map((jobId) => ({ type: "cancel", jobId })));
      assert.ok(cancels.length > MAX_IN_FLIGHT);
      const answers = await within(Promise.all(cancels), 10_000, "the cancels");
      assert.deepEqual(answers.filter((r) => !r.ok).map(codeOf), [], "no cancel is refused (EBUSY) by the in-flight limit");
      assert.deepEqual(
        answers.slice(-2).map((r) => ok<{ canceled: boolean }>(r).canceled),
        [true, true],
        "the running compare and hash were cancelled",
      );
      const [cmp, h] = await within(Promise.all([compare, hash]), 10_000, "the compare and the hash");
      assert.equal(codeOf(cmp), "ECANCELED");
      assert.equal(codeOf(h), "ECANCELED");
      await waitFor(() => server.jobs === 0, 5000, "no job left running");
    } finally {
      c.close();
      await server.close();
      unlinkShm(name);
    }
  });

  it("the in-flight limit still refuses other requests past MAX_IN_FLIGHT, never cancel or close", async () => {
    const server = await startServer({ file: big.path, rendererDir: rendererDir(), pool: { pollIntervalMs: 0, watch: false } });
    const c = await WireClient.connect(server);
    try {
      const docId = server.shared!.docId;
      // Read back to back in one chunk, none of these has settled when the next is looked at.
      const infos = await within(Promise.all(c.burst(Array.from({ length: MAX_IN_FLIGHT + 20 }, () => ({ type: "info", docId })))), 10_000, "info burst");
      assert.ok(infos.some((r) => codeOf(r) === "EBUSY"), "the burst reached the limit (else this test proves nothing)");
      assert.ok(infos.every((r) => r.ok || r.error.code === "EBUSY"));
      const cancels = await within(Promise.all(c.burst(Array.from({ length: 3 * MAX_IN_FLIGHT }, (_v, i) => ({ type: "cancel", jobId: `j${i}` })))), 10_000, "cancel burst");
      assert.deepEqual(cancels.filter((r) => !r.ok).map(codeOf), []);
      const closes = await within(Promise.all(c.burst(Array.from({ length: 2 * MAX_IN_FLIGHT }, () => ({ type: "close", docId: "d999" })))), 10_000, "close burst");
      assert.deepEqual([...new Set(closes.map(codeOf))], ["EBADDOC"], "close is answered by the Service (EBADDOC for an unknown id), never EBUSY");
    } finally {
      c.close();
      await server.close();
    }
  });

  it("a dropped socket cancels its jobs: they stop reading the shared document and release its windows", async () => {
    const server = await startServer({ file: big.path, rendererDir: rendererDir(), pool: { pollIntervalMs: 0, watch: false } });
    const c = await WireClient.connect(server);
    try {
      const docId = server.shared!.docId;
      const doc = server.pool.get(docId);
      assert.ok(isEditable(doc));
      const stats = () => doc.editor.document.stats();
      c.burst([
        { type: "hash", docId, algorithms: ["sha256"] },
        { type: "compare", docId, otherDocId: docId, op: "count", from: 0 },
        { type: "histogram", docId, offset: 0, length: 5 * GiB },
        { type: "search", docId, pattern: { kind: "hex", hex: "de ad be ef 01" }, direction: "forward" },
      ]);
      await c.runningJob("hash", docId);
      await c.runningJob("compare", docId);
      await c.runningJob("histogram", docId);
      assert.ok(server.jobs >= 3, `jobs running: ${server.jobs}`);
      c.close();
      await waitFor(() => server.connections === 0, 5000, "the host saw the socket close");
      await waitFor(() => server.jobs === 0, 5000, "the dropped client's jobs ended");
      // The document stays open for the host, and nothing reads it any more.
      assert.ok(server.pool.has(docId));
      await waitFor(() => stats().pinned === 0, 5000, "no window pinned");
      const before = stats();
      await sleep(300);
      const now = stats();
      assert.equal(now.hits + now.misses, before.hits + before.misses, "no read after the jobs ended");
    } finally {
      c.close();
      await server.close();
    }
  });

  describe("closing the document while a job runs: the request settles with EBADDOC, the job is gone", () => {
    const dir = () => makeTempDir("hexmap-settle-out-");
    /** Job requests: [name, request for (docId, otherDocId, outDir), who closes: the document itself or the compare's other one]. */
    const jobs: Array<[string, (docId: string, other: string, out: string) => Message, "doc" | "other"]> = [
      ["hash", (docId) => ({ type: "hash", docId, algorithms: ["sha256", "crc32"] }), "doc"],
      ["compare (its document closed)", (docId, other) => ({ type: "compare", docId, otherDocId: other, op: "count", from: 0 }), "doc"],
      ["compare (the other document closed)", (docId, other) => ({ type: "compare", docId, otherDocId: other, op: "count", from: 0 }), "other"],
      ["compare next", (docId, other) => ({ type: "compare", docId, otherDocId: other, op: "next", from: 70_000 }), "other"],
      ["compare previous", (docId, other) => ({ type: "compare", docId, otherDocId: other, op: "previous", from: 5 * GiB - 8192 }), "doc"],
      ["bytemap", (docId) => ({ type: "bytemap", docId, slices: 4096 }), "doc"],
      ["histogram", (docId) => ({ type: "histogram", docId, offset: 0, length: 5 * GiB }), "doc"],
      ["export", (docId, _o, out) => ({ type: "export", docId, offset: 0, length: 5 * GiB, path: path.join(out, "export.bin") }), "doc"],
      ["save-as", (docId, _o, out) => ({ type: "save-as", docId, path: path.join(out, "copy.bin") }), "doc"],
    ];

    for (const holders of ["sole", "shared"] as const) {
      for (const [label, make, closes] of jobs) {
        it(`${label}, ${holders === "sole" ? "the client's own document" : "a document the host keeps open"}`, async () => {
          const pool = new DocumentPool({ pollIntervalMs: 0, watch: false });
          const host: DocumentHolder = { deliver() {} };
          const s = new Service({ pool });
          const out = dir();
          try {
            let docId: string;
            let other: string;
            if (holders === "shared") {
              docId = pool.open(big.path, { readOnly: true }, host);
              other = pool.open(big.path, { readOnly: true }, host);
              s.grant(docId);
              s.grant(other);
            } else {
              docId = s.open(big.path).docId;
              other = s.open(big.path).docId;
            }
            const events: Event[] = [];
            s.onEvent((e) => events.push(e));
            const running = s.handle({ id: 1, ...make(docId, other, out) });
            // Under way: the job has read something (or, for the short byte map, at least started).
            await waitFor(() => events.some((e) => e.event === "job-progress" && (e.done > 0 || label === "bytemap")), 10_000, `${label} under way`);
            assert.equal(s.jobCount, 1);
            const closed = await s.handle({ id: 2, type: "close", docId: closes === "doc" ? docId : other });
            assert.equal(codeOf(closed), "ok");
            const reply = await within(running, 10_000, label);
            assert.equal(reply.id, 1);
            assert.equal(codeOf(reply), "EBADDOC", reply.ok ? "answered" : reply.error.message);
            assert.match((reply as { error: { message: string } }).error.message, /closed/);
            assert.equal(s.jobCount, 0, "the job left the registry");
            if (holders === "shared") {
              // Still open for the host; the job stopped reading it.
              const closedId = closes === "doc" ? docId : other;
              assert.ok(pool.has(closedId));
              const d = pool.get(closedId);
              assert.ok(isEditable(d));
              await waitFor(() => d.editor.document.stats().pinned === 0, 5000, "no window pinned");
            }
            assert.deepEqual(fs.readdirSync(out), [], "no temp or partial file left");
          } finally {
            s.dispose();
            pool.dispose();
          }
        });
      }
    }

    it("save: settles (EBADDOC, nothing written; or saved), no journal left", async () => {
      const fx = makeSparseFile({ size: 64 * 1024 * 1024, blocks: [{ offset: 0, length: 65536, seed: 63 }] });
      const s = new Service({ pollIntervalMs: 0, watch: false });
      try {
        const docId = s.open(fx.path, { readOnly: false }).docId;
        for (let i = 0; i < 200; i++) {
          assert.equal(codeOf(await s.handle({ id: 1, type: "edit", docId, offset: i * 300_000, bytes: new Uint8Array(512).fill(i + 1) })), "ok");
        }
        const saving = s.handle({ id: 2, type: "save", docId });
        assert.equal(s.jobCount, 1);
        assert.equal(codeOf(await s.handle({ id: 3, type: "close", docId })), "ok");
        const reply = await within(saving, 10_000, "save");
        assert.ok(reply.ok || reply.error.code === "EBADDOC", reply.ok ? "" : `${reply.error.code}: ${reply.error.message}`);
        const fd = fs.openSync(fx.path, "r");
        const b = Buffer.alloc(1);
        fs.readSync(fd, b, 0, 1, 100 * 300_000);
        fs.closeSync(fd);
        assert.equal(b[0], reply.ok ? 101 : 0, "the file has all the edits (saved) or none (cancelled)");
        assert.equal(s.jobCount, 0);
        assert.deepEqual(fs.readdirSync(path.dirname(fx.path)).filter((f) => /hexmap-journal|\.tmp$/.test(f)), []);
      } finally {
        s.dispose();
      }
    });

    it("detached jobs (search, lines-index, filter): the reply comes at once, job-done follows the close", async () => {
      // [op, request, closed once under way (a progress event with done > 0), once running (its
      // first progress event), or at once after the reply]
      const kinds: Array<[string, (docId: string) => Message, "under way" | "running" | "at once"]> = [
        // Every byte of the 5 GiB file is a hit: a scan of seconds.
        ["search", (docId) => ({ type: "search", docId, pattern: { kind: "hex", hex: "00" }, direction: "all" }), "under way"],
        // One 5 GiB line of zeros: the worker scans it for its end, reporting no lines (done stays 0).
        ["filter", (docId) => ({ type: "filter", docId, regex: "never(here)?x" }), "running"],
        // The index skips the sparse file's holes (done in ~50 ms): closed before it starts.
        ["lines-index", (docId) => ({ type: "lines-index", docId }), "at once"],
      ];
      for (const [op, make, when] of kinds) {
        const s = new Service({ pollIntervalMs: 0, watch: false });
        try {
          const docId = s.open(big.path).docId;
          const events: Event[] = [];
          s.onEvent((e) => events.push(e));
          const reply = await within(s.handle({ id: 1, ...make(docId) }), 10_000, op);
          const jobId = ok<{ jobId: string }>(reply).jobId;
          if (when !== "at once") {
            const min = when === "under way" ? 1 : 0;
            await waitFor(() => events.some((e) => e.event === "job-progress" && e.jobId === jobId && e.done >= min), 10_000, `${op} ${when}`);
          }
          assert.equal(s.jobCount, 1);
          assert.equal(codeOf(await s.handle({ id: 2, type: "close", docId })), "ok");
          await waitFor(() => events.some((e) => e.event === "job-done" && e.jobId === jobId), 10_000, `${op}: job-done`);
          const done = events.find((e) => e.event === "job-done" && e.jobId === jobId) as Extract<Event, { event: "job-done" }>;
          if (done.error) assert.ok(TYPED.has(done.error.code), `${op}: ${done.error.code} ${done.error.message}`);
          else assert.equal((done.result as { canceled?: boolean }).canceled, true, `${op}: ${JSON.stringify(done.result).slice(0, 200)}`);
          assert.equal(s.jobCount, 0);
        } finally {
          s.dispose();
        }
      }
    });

    it("dispose() (the client went away) cancels a running job: ECANCELED", async () => {
      const s = new Service({ pollIntervalMs: 0, watch: false });
      const docId = s.open(big.path).docId;
      const running = s.handle({ id: 1, type: "hash", docId, algorithms: ["md5"] });
      await sleep(30);
      s.dispose();
      assert.equal(codeOf(await within(running, 10_000, "hash")), "ECANCELED");
      assert.equal(s.jobCount, 0);
    });
  });
});
