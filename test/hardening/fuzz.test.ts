// Protocol fuzzing (issue 9, item 1). Generated messages — derived from the real request schemas,
// valid-looking ones included so deep paths run, a third of them damaged — go to
//   1. Service.handle (the validation every transport runs: parseRequest, then the handlers),
//      10 000 per run, on one Service whose documents stay open across messages;
//   2. a real browser host (startServer on 127.0.0.1:0) through a real `ws` client and the wire
//      codec, 2 000 per run, mixed with raw garbage frames, binary frames whose lengths lie,
//      frames over 1 MiB, and one over the inbound limit.
// Every message must be answered exactly once, with a correct result or a typed error (a code
// from the protocol's list, never EINTERNAL); the process stays up; Object.prototype stays clean;
// the fixtures' bytes stay the same unless a valid save (or save-as/export onto them) succeeded;
// no journal or temp file is left behind; the addon's sources and views go back to baseline.
//
// The seed is random per run and printed; HEXMAP_FUZZ_SEED=<n> replays one, HEXMAP_FUZZ_RUNS=<n>
// changes the count. A seed that found a bug becomes a focused deterministic test (1755770045:
// cancels refused by the host's in-flight limit, test/hardening/job-settle.test.ts).

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import WebSocket from "ws";
import { loadNative } from "../../native/index";
import { Service } from "../../app/engine/service";
import { decodeMessage, encodeMessage } from "../../app/protocol/codec";
import { ErrorCode, parseRequest, type Reply } from "../../app/protocol/messages";
import { MAX_INBOUND_MESSAGE, startServer } from "../../app/serve/server";
import { FOUR_GIB, cleanupFixtures, makeSparseFile, makeTempDir, blockBytes } from "../fixtures";
import { garbageFrameArb, messageArb, requestSchemas, resolveDocTokens, type FuzzWorld } from "./protocol-arbitraries";
import { sha256File, sleep, waitFor } from "./helpers";

const native = loadNative();
const RUNS = Number(process.env.HEXMAP_FUZZ_RUNS ?? 10_000);
const WS_RUNS = Math.max(200, Math.round(RUNS / 5));
const SEED = Number(process.env.HEXMAP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** A request still running after this long is left to finish in the background (checked at the end). */
const WAIT_MS = 300;
/** HEXMAP_FUZZ_KEEP_GOING=1: collect every failure and report them at the end instead of stopping at the first. */
const KEEP_GOING = process.env.HEXMAP_FUZZ_KEEP_GOING === "1";
/** More requests than this still running: cancel their jobs and wait (keeps the run's time bounded). */
const MAX_PENDING = 3;
const WRITERS = new Set(["save", "save-as", "export", "recover", "reload"]);
const SMALL = 64 * 1024;
const BIG = FOUR_GIB + 128 * 1024;
const CODES = new Set<string>(ErrorCode.filter((c) => c !== "EINTERNAL" && c !== "EDISCONNECTED"));

interface Sandbox {
  world: FuzzWorld;
  dir: string;
  /** Fixtures that must not change unless written by a successful save/save-as/export. */
  protectedFiles: string[];
  big: string;
  small: string;
  edit: string;
  fingerprint(file: string): string;
  /** Are the FIFO and the device still what they were (not replaced by a regular file)? */
  specials(): { fifo: boolean; device: boolean };
}

function makeSandbox(tag: string): Sandbox {
  const dir = makeTempDir(`hexmap-fuzz-${tag}-`);
  const small = path.join(dir, "small.bin");
  const edit = path.join(dir, "edit.bin");
  const empty = path.join(dir, "empty.bin");
  fs.writeFileSync(small, blockBytes(101, SMALL));
  fs.writeFileSync(edit, blockBytes(102, SMALL));
  fs.writeFileSync(empty, "");
  const bigFx = makeSparseFile({
    dir,
    name: "big.bin",
    size: BIG,
    blocks: [
      { offset: 0, length: 65536, seed: 103 },
      { offset: FOUR_GIB - 100, length: 200, seed: 104 },
      { offset: BIG - 4096, length: 4096, seed: 105 },
    ],
  });
  fs.mkdirSync(path.join(dir, "sub"));
  const fifo = path.join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  // A character device inside the sandbox (a twin of /dev/null), never the real ones: save-as and
  // export write through temp file + rename, and must refuse to replace a device.
  const device = path.join(dir, "null-device");
  let haveDevice = false;
  try {
    execFileSync("mknod", ["-m", "666", device, "c", "1", "3"], { stdio: "ignore" });
    haveDevice = true;
  } catch {
    /* not root, or no mknod in this container */
  }
  const paths = [
    small,
    edit,
    empty,
    path.join(dir, "missing.bin"),
    dir,
    path.join(dir, "sub"),
    fifo,
    ...(haveDevice ? [device] : []),
    path.join(dir, "sub", "..", "small.bin"),
    path.join(dir, "nodir", "x.bin"),
    path.join(dir, "out.bin"),
    path.join(dir, "sub", "out2.bin"),
    `${dir}/x\u0000y.bin`,
    "relative.bin",
    "a".repeat(300),
    "b/".repeat(2100) + "c",
    path.join(dir, "small.bin", "child"),
  ];
  const pid = process.pid;
  const world: FuzzWorld = {
    dir,
    paths,
    shmNames: [`hexmap-fuzz-${tag}-${pid}-a`, `/hexmap-fuzz-${tag}-${pid}-b`],
    sizes: [SMALL, BIG, 0],
    likelyDocIds: ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"],
  };
  // The big file is checked by its size, mtime and its data blocks (hashing 4 GiB of holes is slow).
  const fingerprint = (file: string) => {
    if (file !== bigFx.path) return sha256File(file);
    const st = fs.statSync(file);
    const fd = fs.openSync(file, "r");
    try {
      const parts = bigFx.blocks.map((b) => {
        const buf = Buffer.alloc(b.length);
        fs.readSync(fd, buf, 0, b.length, b.offset);
        return buf.equals(bigFx.expected(b.offset, b.length)) ? "ok" : "changed";
      });
      return `${st.size}:${st.mtimeMs}:${parts.join(",")}`;
    } finally {
      fs.closeSync(fd);
    }
  };
  const specials = () => ({ fifo: fs.statSync(fifo).isFIFO(), device: !haveDevice || fs.statSync(device).isCharacterDevice() });
  return { world, dir, protectedFiles: [small, edit, empty, bigFx.path], big: bigFx.path, small, edit, fingerprint, specials };
}

function unlinkShm(names: string[]): void {
  for (const n of names) {
    try {
      native.unlinkShm(n);
    } catch {
      /* not created */
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function validId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Checks one reply's form; returns a description of what is wrong, or null. */
function badReply(reply: unknown, expectedId: number | null): string | null {
  if (!isObject(reply)) return "the reply is not an object";
  if (reply.id !== expectedId) return `reply id ${String(reply.id)}, expected ${String(expectedId)}`;
  if (reply.ok === true) return isObject(reply.result) ? null : "ok reply without a result object";
  if (reply.ok !== false) return "reply.ok is not a boolean";
  const error = reply.error as { code?: unknown; message?: unknown } | undefined;
  if (!isObject(error)) return "error reply without an error";
  if (typeof error.code !== "string" || !CODES.has(error.code)) return `error code ${String(error.code)}: ${String(error.message)}`;
  if (typeof error.message !== "string" || error.message.length === 0) return "error without a message";
  return null;
}

/** Tracks which fixture files a successful request was allowed to change. */
class WriteLedger {
  readonly docPaths = new Map<string, { path: string; kind: string; ino?: number }>();
  readonly written = new Set<string>();
  /** Ids open now (WebSocket run: the host's list, as far as replies tell). */
  readonly open = new Set<string>();
  /** Shared-memory sections created (they outlive their documents: unlinked after the run). */
  readonly sections = new Set<string>();
  note(message: unknown, reply: Reply): void {
    if (!reply.ok || !isObject(message)) return;
    const result = reply.result as unknown as Record<string, unknown>;
    const type = message.type;
    if (type === "create-shm" && typeof message.name === "string") this.sections.add(message.name);
    if ((type === "open" || type === "open-dropped" || type === "open-shm" || type === "create-shm") && typeof result.docId === "string") {
      const file = path.resolve(String(result.name));
      this.docPaths.set(result.docId, { path: file, kind: String(result.kind), ino: inodeOf(file) });
      this.open.add(result.docId);
    }
    const docPath = typeof message.docId === "string" ? this.docPaths.get(message.docId)?.path : undefined;
    if (type === "close" && typeof message.docId === "string") this.open.delete(message.docId);
    if (type === "save" && docPath) this.written.add(docPath);
    if (type === "recover" && Number(result.bytesWritten) > 0) this.written.add(docPath ?? path.resolve(String(message.path)));
    if ((type === "save-as" || type === "export") && typeof message.path === "string") this.written.add(path.resolve(message.path));
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/hexmap-journal|\.tmp$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const cwd = process.cwd();
after(() => {
  process.chdir(cwd);
  cleanupFixtures();
});

describe("protocol fuzzing", { timeout: 240_000 }, () => {
  before(() => {
    // Every relative path a generator makes lands in a sandbox, never in the repository.
    process.chdir(makeTempDir("hexmap-fuzz-cwd-"));
  });

  it(`derives messages from every request type the protocol declares`, () => {
    const types = requestSchemas().map((s) => s.type);
    for (const t of ["open", "read", "edit", "fill", "save", "save-as", "close"]) assert.ok(types.includes(t), t);
    const sb = makeSandbox("types");
    const seen = new Set<string>();
    let valid = 0;
    for (const m of fc.sample(messageArb(sb.world), { numRuns: 3000, seed: 1 })) {
      if (isObject(m) && typeof m.type === "string") seen.add(m.type);
      if (parseRequest(resolveDocTokens(m, ["d1"])).ok) valid++;
    }
    assert.deepEqual([...types].filter((t) => !seen.has(t)), [], "every type is generated");
    // Enough valid messages to reach the handlers, enough invalid ones to test the validation.
    assert.ok(valid > 600 && valid < 2700, `valid messages: ${valid} of 3000`);
  });

  it(`Service.handle: ${RUNS} generated messages (seed ${SEED}), each answered once and typed, files unchanged unless saved`, async (t) => {
    const sb = makeSandbox("svc");
    const before = new Map(sb.protectedFiles.map((f) => [f, sb.fingerprint(f)]));
    const baseline = native.stats();
    const service = new Service({ pollIntervalMs: 200 });
    const ledger = new WriteLedger();
    const events: unknown[] = [];
    const jobs = new Set<string>();
    service.onEvent((e) => {
      events.push(e);
      const jobId = (e as { jobId?: unknown }).jobId;
      if (typeof jobId === "string") jobs.add(jobId);
    });
    /** Cancels every job seen so far and waits until nothing is pending (long scans of the 4 GiB file). */
    const drain = async () => {
      for (const jobId of jobs) void service.handle({ id: 0, type: "cancel", jobId });
      jobs.clear();
      counts.drains++;
      await waitFor(() => pending.size === 0, 60_000, `${pending.size} pending requests settled after cancel`);
    };
    for (const [file, readOnly] of [[sb.edit, false], [sb.big, true], [sb.small, true]] as const) {
      const info = service.open(file, { readOnly });
      ledger.docPaths.set(info.docId, { path: file, kind: "file", ino: inodeOf(file) });
    }
    const pending = new Set<Promise<void>>();
    let writers = 0;
    const failures: string[] = [];
    const counts = { ok: 0, error: 0, valid: 0, slow: 0, readsChecked: 0, drains: 0 };
    /** Documents whose bytes may sit at other offsets than on disk (an insert or delete since the last save). */
    const shifted = new Set<string>();
    const everShifted = new Set<string>();
    const codes = new Map<string, number>();

    try {
      await fc.assert(
        fc.asyncProperty(messageArb(sb.world), async (generated) => {
          const message = resolveDocTokens(generated, service.documents());
          const parsedOk = parseRequest(message).ok;
          if (parsedOk) counts.valid++;
          const expectedId = isObject(message) && validId(message.id) ? message.id : null;
          // Reads are checked against the disk only while no request that writes files runs.
          // (String() of a generated object can throw: a `toString` that is not a function.)
          const writes = isObject(message) && typeof message.type === "string" && WRITERS.has(message.type);
          if (writes) writers++;
          const quiet = writers === (writes ? 1 : 0);
          const settled = service.handle(message).then((reply) => {
            const bad = badReply(reply, expectedId);
            if (bad) failures.push(`${bad} ← ${describe1(message)}`);
            if (!parsedOk && reply.ok) failures.push(`an invalid message got an ok reply ← ${describe1(message)}`);
            if (reply.ok) counts.ok++;
            else {
              counts.error++;
              codes.set(reply.error.code, (codes.get(reply.error.code) ?? 0) + 1);
              if (!parsedOk && reply.error.code !== "EINVAL") failures.push(`invalid message answered ${reply.error.code} ← ${describe1(message)}`);
            }
            ledger.note(message, reply);
            // Inserts and deletes shift the bytes after them: until a save, revert or reload puts the
            // file and the document in step again, a byte's offset in the document is not its offset on disk.
            if (reply.ok && isObject(message) && typeof message.docId === "string") {
              const m = message as { type?: unknown; docId: string; deleteLength?: unknown; bytes?: unknown; insert?: unknown };
              const resized =
                (m.type === "edit" && m.deleteLength !== undefined && m.bytes instanceof Uint8Array && m.deleteLength !== m.bytes.length) ||
                (m.type === "fill" && m.insert === true) ||
                m.type === "replace-all";
              if (resized) everShifted.add(m.docId);
              if (resized || ((m.type === "undo" || m.type === "redo") && everShifted.has(m.docId))) shifted.add(m.docId);
              if (m.type === "save" || m.type === "revert" || m.type === "reload") shifted.delete(m.docId);
            }
            // A read of a file while nothing else runs: every byte without a pending edit is the byte on disk.
            if (writes) writers--;
            if (reply.ok && quiet && isObject(message) && message.type === "read" && !shifted.has(String(message.docId))) {
              const r = reply.result as unknown as { bytes: Uint8Array; edited?: number[]; editedMask?: string; editedTruncated?: boolean; offset: number };
              const doc = ledger.docPaths.get(String(message.docId));
              // (Skipped when a save-as/export renamed another file over the path: the document still reads the old one.)
              if (doc?.kind === "file" && doc.ino !== undefined && inodeOf(doc.path) === doc.ino && !r.editedTruncated && r.bytes.length > 0) {
                const edited = new Uint8Array(r.bytes.length);
                if (r.editedMask) {
                  const mask = Buffer.from(r.editedMask, "base64");
                  for (let i = 0; i < edited.length; i++) edited[i] = (mask[i >> 3]! >> (i & 7)) & 1;
                } else {
                  const e = r.edited ?? [];
                  for (let k = 0; k + 1 < e.length; k += 2) edited.fill(1, e[k], e[k + 1]);
                }
                const fd = fs.openSync(doc.path, "r");
                const disk = Buffer.alloc(r.bytes.length);
                fs.readSync(fd, disk, 0, disk.length, r.offset);
                fs.closeSync(fd);
                counts.readsChecked++;
                for (let i = 0; i < disk.length; i++) {
                  if (!edited[i] && disk[i] !== r.bytes[i]) {
                    failures.push(`read byte ${r.offset + i} is ${r.bytes[i]}, the file has ${disk[i]} (not edited) ← ${describe1(message)}`);
                    break;
                  }
                }
              }
            }
          });
          const tracked = settled.finally(() => pending.delete(tracked));
          pending.add(tracked);
          const done = await Promise.race([tracked.then(() => true), sleep(WAIT_MS).then(() => false)]);
          if (!done) counts.slow++;
          if (pending.size > MAX_PENDING) await drain();
          if (failures.length && !KEEP_GOING) throw new Error(failures.slice(0, 3).join("\n"));
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      // Every request settles (slow ones — jobs over the 4 GiB file — included).
      await drain();
    } finally {
      service.dispose();
      unlinkShm([...sb.world.shmNames, ...ledger.sections]);
    }
    t.diagnostic(
      `seed ${SEED}: ${RUNS} messages, ${counts.valid} valid by the schema; ${counts.ok} ok, ${counts.error} errors ` +
        `(${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ")}); ${counts.readsChecked} reads checked against the file; ` +
        `${counts.slow} ran past ${WAIT_MS} ms (${counts.drains} times their jobs were cancelled); ${events.length} events; files written by valid requests: ${[...ledger.written].map((p) => path.basename(p)).join(", ") || "none"}`,
    );
    assert.deepEqual([...new Set(failures)].slice(0, 20), []);
    assert.ok(counts.ok > RUNS / 20, `enough requests succeeded to reach deep paths (${counts.ok})`);
    assertClean(sb, before, ledger);
    await waitFor(() => native.stats().sources <= baseline.sources && native.stats().views <= baseline.views, 5000, "addon sources/views back to baseline");
  });

  it(`WebSocket transport: ${WS_RUNS} generated messages + garbage, lying and oversized frames over a real ws client`, async (t) => {
    const sb = makeSandbox("ws");
    const before = new Map(sb.protectedFiles.map((f) => [f, sb.fingerprint(f)]));
    const rendererDir = path.join(sb.dir, "renderer");
    fs.mkdirSync(rendererDir);
    fs.writeFileSync(path.join(rendererDir, "index.html"), "<!doctype html>");
    const server = await startServer({ file: sb.small, rendererDir, pool: { pollIntervalMs: 200 } });
    const ledger = new WriteLedger();
    ledger.docPaths.set(server.shared!.docId, { path: sb.small, kind: "file" });
    ledger.open.add(server.shared!.docId);
    const failures: string[] = [];
    const counts = { sent: 0, garbage: 0, replies: 0, events: 0, reconnects: 0, cancels: 0, tooBig: 0 };
    // Replies expected, by id (null: a message whose id could not be read), as a multiset.
    const expected = new Map<number | null, number>();
    const sentMessages = new Map<number, unknown>();
    let nextId = 10_000_000;
    let lastReply = 0;

    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, { origin: server.origin });
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        let m: Record<string, unknown>;
        try {
          m = decodeMessage(isBinary ? data : data.toString("utf8"));
        } catch (err) {
          failures.push(`the host sent an undecodable frame: ${(err as Error).message}`);
          return;
        }
        if (typeof m.event === "string") {
          counts.events++;
          if (typeof m.jobId === "string") wsJobs.add(m.jobId);
          if (m.event === "document-closed") ledger.open.delete(String(m.docId));
          return;
        }
        counts.replies++;
        lastReply++;
        const id = (m.id ?? null) as number | null;
        const n = expected.get(id) ?? 0;
        if (n === 0) failures.push(`unexpected reply id ${String(id)}`);
        else expected.set(id, n - 1);
        const bad = badReply(m, id);
        if (bad) failures.push(bad);
        if (id !== null && m.ok === true) ledger.note(sentMessages.get(id), m as unknown as Reply);
      });
      ws.on("close", (code: number) => {
        if (!expectClose) failures.push(`the host closed the connection (${code}) after ${describe1(lastFrame)}`);
      });
      return ws;
    };
    const wsJobs = new Set<string>();
    const outstanding = () => [...expected.values()].reduce((a, b) => a + b, 0);
    /** Cancels every job seen and waits for every reply (cancel replies included). */
    const drainWs = async (ms: number) => {
      for (const jobId of wsJobs) {
        const id = nextId++;
        expect(id);
        counts.cancels++;
        ws.send(JSON.stringify({ id, type: "cancel", jobId }));
      }
      wsJobs.clear();
      try {
        await waitFor(() => outstanding() === 0, ms, "every message answered");
      } catch (err) {
        const missing = [...expected].filter(([, n]) => n > 0).map(([id, n]) => `${String(id)}×${n}: ${describe1(id === null ? null : sentMessages.get(id))}`);
        throw new Error(`${(err as Error).message}; unanswered: ${missing.slice(0, 10).join(" | ")}; failures: ${failures.slice(0, 5).join(" | ")}`);
      }
    };
    let expectClose = false;
    let lastFrame: unknown = null;
    let ws = await open();

    const expect = (id: number | null) => expected.set(id, (expected.get(id) ?? 0) + 1);
    /** Sends a frame and waits (a little) for its reply, so most exchanges stay in step. */
    const exchange = async (frame: string | Uint8Array, id: number | null) => {
      expect(id);
      const before = lastReply;
      lastFrame = typeof frame === "string" ? frame : `<binary ${frame.length} bytes: ${Buffer.from(frame.subarray(0, 48)).toString("hex")}>`;
      if (ws.readyState !== WebSocket.OPEN) {
        // Keep-going mode after an unexpected close: carry on over a new connection.
        ws = await open();
        counts.reconnects++;
      }
      ws.send(frame);
      const start = Date.now();
      while (lastReply === before && Date.now() - start < WAIT_MS) await sleep(1);
      if (outstanding() > MAX_PENDING) await drainWs(60_000);
    };
    /** What the host will take the frame's id to be. */
    const idOf = (frame: string | Uint8Array): number | null => {
      try {
        const m = decodeMessage(frame, { maxFrameBytes: MAX_INBOUND_MESSAGE });
        return validId(m.id) ? m.id : null;
      } catch {
        return null;
      }
    };

    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: messageArb(sb.world) }, { weight: 1, arbitrary: garbageFrameArb().map((g) => ({ garbage: g })) }), async (item) => {
          if (isObject(item) && "garbage" in item && Object.keys(item).length === 1) {
            const frame = item.garbage as string | Uint8Array;
            counts.garbage++;
            await exchange(frame, idOf(frame));
            if (failures.length && !KEEP_GOING) throw new Error(failures.slice(0, 3).join("\n"));
            return;
          }
          let message = resolveDocTokens(item, [...ledger.open]);
          // Valid ids are made unique so replies can be matched; invalid ones are kept as generated.
          if (isObject(message) && validId(message.id)) {
            message = { ...message, id: nextId++ };
            sentMessages.set((message as { id: number }).id, message);
          }
          let frame: string | Uint8Array;
          try {
            frame = isObject(message) && Object.getPrototypeOf(message) === Object.prototype ? encodeMessage(message) : (JSON.stringify(message) ?? "undefined");
          } catch {
            frame = JSON.stringify(message) ?? "undefined";
          }
          // A message the codec cannot put in a binary frame (header > 64 KiB) went out as JSON text, its
          // bytes as an object: past the inbound limit that only tests the close below, once.
          if (frame.length > MAX_INBOUND_MESSAGE) {
            counts.tooBig++;
            return;
          }
          counts.sent++;
          await exchange(frame, idOf(frame));
          if (failures.length && !KEEP_GOING) throw new Error(failures.slice(0, 3).join("\n"));
        }),
        { numRuns: WS_RUNS, seed: SEED, endOnFailure: true },
      );

      // Frames over 1 MiB but under the inbound limit are answered like any other.
      const bigText = JSON.stringify({ id: nextId++, type: "list", pad: "p".repeat(2 * 1024 * 1024) });
      await exchange(bigText, idOf(bigText));
      const bigEdit = encodeMessage({ id: nextId++, type: "edit", docId: server.shared!.docId, offset: 0, bytes: new Uint8Array(3 * 1024 * 1024) });
      await exchange(bigEdit, idOf(bigEdit));
      const bigGarbage = new Uint8Array(5 * 1024 * 1024).fill(0xff);
      await exchange(bigGarbage, null);
      await drainWs(60_000);

      // Over the limit: the connection is closed (1009), the host stays up for the next one.
      expectClose = true;
      const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
      ws.send(new Uint8Array(MAX_INBOUND_MESSAGE + 1));
      assert.equal(await closed, 1009);
      ws = await open();
      counts.reconnects++;
      const listId = nextId++;
      await exchange(JSON.stringify({ id: listId, type: "list" }), listId);
      await waitFor(() => [...expected.values()].every((n) => n === 0), 10_000, "the host answers after an oversized frame");
      ws.close();
    } finally {
      ws.terminate();
      await server.close();
      unlinkShm([...sb.world.shmNames, ...ledger.sections]);
    }
    t.diagnostic(`seed ${SEED}: ${counts.sent} messages + ${counts.garbage} garbage frames + 3 frames over 1 MiB + 1 over the limit + ${counts.cancels} cancels of long jobs; ${counts.replies} replies, ${counts.events} events`);
    assert.deepEqual([...new Set(failures)].slice(0, 20), []);
    assert.equal(counts.replies, counts.sent + counts.garbage + 4 + counts.cancels);
    assertClean(sb, before, ledger);
  });
});

function assertClean(sb: Sandbox, before: Map<string, string>, ledger: WriteLedger): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
  assert.deepEqual(sb.specials(), { fifo: true, device: true }, "the FIFO and the device were not replaced");
  for (const [file, fp] of before) {
    if (ledger.written.has(path.resolve(file))) continue;
    assert.equal(sb.fingerprint(file), fp, `${path.basename(file)} changed without a save`);
  }
  assert.deepEqual(leftovers(sb.dir), [], "no journal or temp file left behind");
}

function describe1(message: unknown): string {
  try {
    const s = JSON.stringify(message, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}…(${v.length})` : v));
    return s === undefined ? String(message) : s.slice(0, 300);
  } catch {
    return String(message);
  }
}
