// Browser host security (issue 9, item 5), beyond test/serve/server.test.ts (which covers the
// token on the page and the socket, foreign Host/Origin basics, a long list of traversal tries,
// GET/HEAD only, the --host warning): the constant-time compare, the loopback-only bind checked
// from another interface, Host and Origin forms that parsers get wrong, token smuggling,
// more traversal (absolute-form request lines, fullwidth dots, symlinked folders, path
// parameters), and a short load run (20 clients, 5 s, zero errors; bench/load-bench.ts is the
// 30 s version with latency figures).

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { runLoad } from "../../bench/load-bench";
import { tokenMatches } from "../../app/serve/guard";
import { startServer, type RunningServer } from "../../app/serve/server";
import { cleanupFixtures, makeTempDir } from "../fixtures";

after(cleanupFixtures);

const root = path.resolve(__dirname, "..", "..", "..");

/** A raw HTTP/1.1 exchange: the request text is sent as is (any Host, any request line). */
function raw(port: number, request: string, host = "127.0.0.1"): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let text = "";
    sock.on("data", (d) => (text += d.toString("latin1")));
    sock.on("end", () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text }));
    sock.on("error", reject);
    sock.write(request);
  });
}

function get(s: RunningServer, target: string, headers: Record<string, string | null> = {}): Promise<{ status: number; text: string }> {
  const h: Record<string, string | null> = { Host: `127.0.0.1:${s.port}`, Connection: "close", ...headers };
  const lines = Object.entries(h)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return raw(s.port, `GET ${target} HTTP/1.1\r\n${lines}\r\n`);
}

function upgrade(s: RunningServer, query: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws${query}`, { headers });
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("error", () => resolve(-1));
  });
}

describe("browser host: gatekeeping", () => {
  let dir: string;
  let server: RunningServer;
  before(async () => {
    dir = makeTempDir("hexmap-host-");
    const renderer = path.join(dir, "renderer");
    fs.mkdirSync(path.join(renderer, "assets"), { recursive: true });
    fs.writeFileSync(path.join(renderer, "index.html"), "<!doctype html><p>hexmap</p>");
    fs.writeFileSync(path.join(renderer, "assets", "app.js"), "1");
    fs.mkdirSync(path.join(dir, "outside"));
    fs.writeFileSync(path.join(dir, "outside", "secret.txt"), "SECRET");
    fs.writeFileSync(path.join(dir, "secret.txt"), "SECRET");
    fs.symlinkSync(path.join(dir, "outside"), path.join(renderer, "linked-dir"));
    server = await startServer({ rendererDir: renderer });
  });
  after(async () => {
    await server?.close();
  });

  it("compares tokens in constant time (crypto.timingSafeEqual over digests) and refuses odd ones", () => {
    const src = fs.readFileSync(path.join(root, "app", "serve", "guard.ts"), "utf8");
    const fn = /export function tokenMatches[\s\S]*?\n}/.exec(src)?.[0] ?? "";
    assert.match(fn, /crypto\.timingSafeEqual\(/, "tokenMatches uses crypto.timingSafeEqual");
    assert.doesNotMatch(fn, /candidate\s*[!=]==?\s*token|token\s*[!=]==?\s*candidate/, "no plain comparison of the token");
    const t = server.token;
    for (const c of ["", t.slice(0, -1), t + "x", t.toUpperCase() === t ? t.toLowerCase() : t.toUpperCase(), t + "\0", "x".repeat(5000), ` ${t}`]) {
      assert.equal(tokenMatches(c, t), false, JSON.stringify(c.slice(0, 20)));
    }
    assert.equal(tokenMatches(null, t), false);
    assert.equal(tokenMatches(undefined, t), false);
    assert.equal(tokenMatches(t, t), true);
  });

  it("binds loopback only by default: unreachable from the machine's other addresses", async (t) => {
    assert.equal(server.host, "127.0.0.1");
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\//);
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === "IPv4")
      .map((a) => a!.address);
    if (others.length === 0) return void t.skip("no non-loopback IPv4 address on this machine");
    for (const addr of others) {
      const reached = await new Promise<boolean>((resolve) => {
        const sock = net.connect(server.port, addr);
        sock.once("connect", () => {
          sock.destroy();
          resolve(true);
        });
        sock.once("error", () => resolve(false));
      });
      assert.equal(reached, false, `reachable on ${addr}`);
    }
  });

  it("Host header forms that parsers get wrong are refused (DNS rebinding)", async () => {
    const q = `/?token=${server.token}`;
    const p = server.port;
    for (const host of [
      null, // no Host at all
      "",
      `127.0.0.1:${p}.`,
      `127.0.0.1.:${p}`,
      `localhost.:${p}`,
      `user@127.0.0.1:${p}`,
      `127.0.0.1:${p}@evil.example`,
      `evil.example#@127.0.0.1:${p}`,
      `127.0.0.1:0${p}`,
      `0x7f.0.0.1:${p}`,
      `2130706433:${p}`,
      `127.1:${p}`,
      `[::ffff:127.0.0.1]:${p}`,
      `127.0.0.1:${p},evil.example`,
    ]) {
      assert.equal((await get(server, q, { Host: host })).status >= 400, true, `Host ${JSON.stringify(host)}`);
    }
    assert.equal((await get(server, q)).status, 200, "the real Host still works");
  });

  it("Origin forms of a foreign site are refused, for the page and the socket (cross-site WebSocket hijacking)", async () => {
    const p = server.port;
    const origins = [
      "null",
      `http://127.0.0.1:${p}.evil.example`,
      `http://127.0.0.1:${p}@evil.example`,
      `http://evil.example/?http://127.0.0.1:${p}`,
      `http://127.0.0.1:${p}/`,
      `ws://127.0.0.1:${p}`,
      `file://`,
      `chrome-extension://abcdef`,
      `http://127.0.0.1:${p + 1}`,
      `http://localhost.:${p}`,
    ];
    for (const origin of origins) {
      assert.equal((await get(server, `/?token=${server.token}`, { Origin: origin })).status, 403, `page, Origin ${origin}`);
      assert.equal(await upgrade(server, `?token=${server.token}`, { Origin: origin }), 403, `socket, Origin ${origin}`);
    }
    assert.equal(await upgrade(server, `?token=${server.token}`, { Origin: server.origin }), 101);
  });

  it("tokens cannot be smuggled: another port's cookie, a repeated parameter, a wrong cookie with no parameter", async () => {
    const other = `hexmap_token_${server.port + 1}=${server.token}`;
    assert.equal((await get(server, "/", { Cookie: other })).status, 401, "a cookie for another port");
    assert.equal(await upgrade(server, "", { Cookie: other, Origin: server.origin }), 401);
    assert.equal((await get(server, `/?token=wrong&token=${server.token}`)).status, 401, "the first token parameter counts");
    assert.equal((await get(server, "/", { Cookie: `hexmap_token_${server.port}=wrong` })).status, 401);
    assert.equal((await get(server, `/?TOKEN=${server.token}`)).status, 401, "the parameter name is exact");
    assert.equal((await get(server, `/?token=${encodeURIComponent(server.token + "\0")}`)).status, 401);
    assert.equal((await get(server, "/", { Cookie: `x=1; hexmap_token_${server.port}=${server.token}` })).status, 200, "the right cookie");
  });

  it("path traversal beyond the usual list: absolute-form request lines, fullwidth dots, a symlinked folder, path parameters", async () => {
    const q = `?token=${server.token}`;
    const tries = [
      `http://127.0.0.1:${server.port}/../secret.txt${q}`,
      `http://evil.example/../secret.txt${q}`,
      `/linked-dir/secret.txt${q}`,
      `/%ef%bc%8e%ef%bc%8e/secret.txt${q}`,
      `/..;/secret.txt${q}`,
      `/assets/..;/..;/secret.txt${q}`,
      `/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt${q}`,
      `/assets/%2e%2e/%2e%2e/secret.txt${q}`,
      `/.%252e/secret.txt${q}`,
      `/%25%32%65%25%32%65/secret.txt${q}`,
      `/..%u2216secret.txt${q}`,
      `/...//secret.txt${q}`,
      `/index.html/..%2f..%2fsecret.txt${q}`,
      `${path.join(dir, "secret.txt")}${q}`,
      `/${path.join(dir, "secret.txt")}${q}`,
      `/\\..\\secret.txt${q}`,
      `*`,
    ];
    for (const target of tries) {
      const r = await get(server, target);
      assert.ok(r.status >= 400 || r.status === 0, `${target} → ${r.status}`);
      assert.doesNotMatch(r.text, /SECRET/, target);
    }
    assert.equal((await get(server, `/assets/app.js${q}`)).status, 200, "the renderer's own files still load");
  });
});

describe("browser host: load", () => {
  it("20 WebSocket clients reading random 64 KiB pages of a 64 GiB file for 5 s: zero errors, every byte right", async (t) => {
    const r = await runLoad({ clients: 20, seconds: 5, page: 65536 });
    assert.deepEqual(r.errorSamples, []);
    assert.equal(r.errors, 0);
    assert.equal(r.wrongBytes, 0);
    assert.ok(r.requests >= 20, `requests: ${r.requests}`);
    assert.ok(r.perClientMin > 0, "every client was served");
    t.diagnostic(`${r.requests} reads (${r.requestsPerSecond}/s), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, per client ${r.perClientMin}..${r.perClientMax}`);
  });
});
