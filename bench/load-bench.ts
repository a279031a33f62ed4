// Browser-host load (issue 9, item 5). Not a test: it asserts nothing about time.
// 20 concurrent WebSocket clients (the real `ws` client and the protocol client, as the renderer
// uses it) read 64 KiB pages at random offsets of one 64 GiB sparse document, each client one
// request at a time (what a scrolling grid does), for 30 s on loopback. Every reply is checked
// against the fixture. Peer, same run: the same reads through Service.handle in-process (no
// transport), one client — the cost of the WebSocket + codec hop.
// Prints a table and writes bench/results/load.json.
//
// Options (env): LOAD_CLIENTS (20), LOAD_SECONDS (30), LOAD_PAGE (65536).
// tests: test/hardening/load.test.ts runs runLoad() for 5 s and asserts zero errors.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import WebSocket from "ws";
import { Service } from "../app/engine/service";
import { connectWebSocket, type ProtocolClient } from "../app/protocol/client";
import { startServer } from "../app/serve/server";
import { FOUR_GIB, GiB, Rng, cleanupFixtures, makeSparseFile, makeTempDir, type SparseFixture } from "../test/fixtures";

export interface LoadOptions {
  clients: number;
  seconds: number;
  page: number;
  /** Made (and removed by cleanupFixtures) when not given. */
  fixture?: SparseFixture;
}

export interface LoadResult {
  clients: number;
  seconds: number;
  page: number;
  fileSize: number;
  requests: number;
  errors: number;
  wrongBytes: number;
  errorSamples: string[];
  requestsPerSecond: number;
  mibPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perClientMin: number;
  perClientMax: number;
}

export function makeLoadFixture(): SparseFixture {
  const size = 64 * GiB;
  return makeSparseFile({
    size,
    blocks: [
      { offset: 0, length: 1 << 20, seed: 41 },
      { offset: FOUR_GIB - 1000, length: 1 << 20, seed: 42 },
      { offset: 40 * GiB + 7, length: 1 << 20, seed: 43 },
      { offset: size - (1 << 20), length: 1 << 20, seed: 44 },
    ],
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function pickOffset(rng: Rng, fx: SparseFixture, page: number): number {
  // A third of the reads land on the data blocks (checked byte for byte), the rest anywhere.
  if (rng.below(3) === 0) {
    const b = rng.pick(fx.blocks);
    return Math.max(0, Math.min(fx.size - page, b.offset - page / 2 + rng.below(b.length)));
  }
  return rng.below(fx.size - page + 1);
}

/** N clients reading random pages for `seconds`; every reply checked. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const fx = options.fixture ?? makeLoadFixture();
  const rendererDir = makeTempDir("hexmap-load-renderer-");
  fs.writeFileSync(path.join(rendererDir, "index.html"), "<!doctype html>");
  const server = await startServer({ file: fx.path, rendererDir, pool: { pollIntervalMs: 1000 } });
  const clients: ProtocolClient[] = [];
  const latencies: number[] = [];
  const perClient: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let wrongBytes = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < options.clients; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, { origin: server.origin });
      clients.push(await connectWebSocket(ws as never));
    }
    const docId = server.shared!.docId;
    const end = performance.now() + options.seconds * 1000;
    await Promise.all(
      clients.map(async (client, i) => {
        const rng = new Rng(1000 + i);
        let n = 0;
        while (performance.now() < end) {
          const offset = pickOffset(rng, fx, options.page);
          const t0 = performance.now();
          try {
            const reply = await client.call("read", { docId, offset, length: options.page });
            latencies.push(performance.now() - t0);
            if (!reply.ok) {
              errors++;
              if (errorSamples.length < 5) errorSamples.push(`${reply.error.code}: ${reply.error.message}`);
            } else {
              bytes += reply.result.bytes.length;
              if (!Buffer.from(reply.result.bytes).equals(fx.expected(offset, options.page))) wrongBytes++;
            }
          } catch (err) {
            errors++;
            if (errorSamples.length < 5) errorSamples.push(String(err));
          }
          n++;
        }
        perClient.push(n);
      }),
    );
  } finally {
    for (const c of clients) c.close();
    await server.close();
  }
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    clients: options.clients,
    seconds: options.seconds,
    page: options.page,
    fileSize: fx.size,
    requests: latencies.length,
    errors,
    wrongBytes,
    errorSamples,
    requestsPerSecond: Math.round(latencies.length / options.seconds),
    mibPerSecond: round(bytes / 2 ** 20 / options.seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1] ?? 0),
    perClientMin: Math.min(...perClient),
    perClientMax: Math.max(...perClient),
  };
}

/** The peer: one in-process client of Service.handle, same reads, no transport. */
async function directPeer(fx: SparseFixture, seconds: number, page: number): Promise<{ requestsPerSecond: number; p50Ms: number; p99Ms: number }> {
  const s = new Service({ pollIntervalMs: 0 });
  try {
    const { docId } = s.open(fx.path);
    const rng = new Rng(7);
    const lat: number[] = [];
    const end = performance.now() + seconds * 1000;
    let id = 1;
    while (performance.now() < end) {
      const t0 = performance.now();
      const r = await s.handle({ id: id++, type: "read", docId, offset: pickOffset(rng, fx, page), length: page });
      if (!r.ok) throw new Error(r.error.message);
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    return { requestsPerSecond: Math.round(lat.length / seconds), p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) };
  } finally {
    s.dispose();
  }
}

async function main(): Promise<number> {
  const clients = Number(process.env.LOAD_CLIENTS ?? 20);
  const seconds = Number(process.env.LOAD_SECONDS ?? 30);
  const page = Number(process.env.LOAD_PAGE ?? 65536);
  const fx = makeLoadFixture();
  try {
    const r = await runLoad({ clients, seconds, page, fixture: fx });
    const peer = await directPeer(fx, Math.min(10, seconds), page);
    const rows = [
      ["clients × seconds", `${r.clients} × ${r.seconds} s`, ""],
      ["requests (64 KiB reads)", String(r.requests), ""],
      ["errors / wrong bytes", `${r.errors} / ${r.wrongBytes}`, ""],
      ["requests/s (all clients)", String(r.requestsPerSecond), `in-process Service, 1 client: ${peer.requestsPerSecond}/s`],
      ["throughput", `${r.mibPerSecond} MiB/s`, ""],
      ["latency p50", `${r.p50Ms.toFixed(2)} ms`, `in-process: ${peer.p50Ms.toFixed(3)} ms`],
      ["latency p99", `${r.p99Ms.toFixed(2)} ms`, `in-process: ${peer.p99Ms.toFixed(3)} ms`],
      ["latency max", `${r.maxMs.toFixed(2)} ms`, ""],
      ["requests per client (min..max)", `${r.perClientMin}..${r.perClientMax}`, "fairness"],
    ];
    for (const [a, b, c] of rows) console.log(`${a!.padEnd(32)} ${b!.padEnd(16)} ${c}`);
    const out = path.resolve(__dirname, "..", "..", "bench", "results", "load.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify({ bench: "load", date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, cpus: os.cpus().length, ...r, peer: { name: "Service.handle in-process, 1 client", ...peer } }, null, 2) + "\n",
    );
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
    return r.errors === 0 && r.wrongBytes === 0 ? 0 : 1;
  } finally {
    cleanupFixtures();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
