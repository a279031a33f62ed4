import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { ProtocolClient, connectWebSocket } from "../../app/protocol/client";
import { decodeMessage, encodeMessage } from "../../app/protocol/codec";
import { SERVE_URL_LINE_PREFIX } from "../../app/protocol/channels";
import type { Event } from "../../app/protocol/messages";
import { contentSecurityPolicy, tokenMatches } from "../../app/serve/guard";
import { MAX_INBOUND_MESSAGE, startServer, type RunningServer } from "../../app/serve/server";
import { runServe as runServeInProcess } from "../../app/cli/serve";
import { FOUR_GIB, GiB, cleanupFixtures, makeFile, makeSparseFile, makeTempDir, type SparseFixture } from "../fixtures";

after(cleanupFixtures);

interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP GET: the path is sent as is, and Host/Origin can be anything. */
function get(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: rawPath, method: "GET", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Tries a WebSocket upgrade; resolves with the HTTP status it was refused with, or 101. */
function tryUpgrade(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options);
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

function wsUrl(s: RunningServer, token: string | null = s.token): string {
  return `ws://127.0.0.1:${s.port}/ws${token === null ? "" : `?token=${encodeURIComponent(token)}`}`;
}

async function connect(s: RunningServer): Promise<ProtocolClient> {
  return connectWebSocket(new WebSocket(wsUrl(s), { origin: s.origin }) as never);
}

describe("browser host", () => {
  let root: string;
  let rendererDir: string;
  let fx: SparseFixture;
  let server: RunningServer;
  const INDEX = "<!doctype html><html><head><script src=\"assets/app.js\"></script></head><body>Hexmap</body></html>";

  before(async () => {
    root = makeTempDir("hexmap-serve-");
    rendererDir = path.join(root, "dist", "renderer");
    fs.mkdirSync(path.join(rendererDir, "assets"), { recursive: true });
    fs.writeFileSync(path.join(rendererDir, "index.html"), INDEX);
    fs.writeFileSync(path.join(rendererDir, "assets", "app.js"), "console.log('hexmap');");
    fs.writeFileSync(path.join(rendererDir, "assets", "app.css"), "body{}");
    fs.writeFileSync(path.join(root, "package.json"), '{"secret":"outside the renderer"}');
    fs.writeFileSync(path.join(root, "dist", "secret.txt"), "SECRET");
    fs.symlinkSync(path.join(root, "package.json"), path.join(rendererDir, "link.json"));
    fx = makeSparseFile({
      size: 5 * GiB,
      blocks: [
        { offset: 0, length: 70000, seed: 11 },
        { offset: FOUR_GIB - 5000, length: 10000, seed: 12 },
        { offset: 5 * GiB - 4096, length: 4096, seed: 13 },
      ],
    });
    server = await startServer({ file: fx.path, rendererDir, host: "127.0.0.1", port: 0, pool: { pollIntervalMs: 25 } });
  });

  after(async () => {
    await server?.close();
  });

  it("prints a URL with a random per-run token", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    assert.equal(server.url, `${server.origin}/?token=${server.token}`);
    const other = await startServer({ rendererDir });
    try {
      assert.notEqual(other.token, server.token);
      assert.notEqual(other.port, server.port);
      assert.equal(other.shared, null);
    } finally {
      await other.close();
    }
  });

  it("serves the page with the token, with a strict CSP and a same-site cookie for its assets", async () => {
    const host = `127.0.0.1:${server.port}`;
    const r = await get(server.port, `/?token=${server.token}`, { Host: host });
    assert.equal(r.status, 200);
    assert.equal(r.body, INDEX);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(
      r.headers["content-security-policy"],
      `default-src 'self'; connect-src 'self' ws://${host}; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'none'`,
    );
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["referrer-policy"], "no-referrer");
    const cookie = String(r.headers["set-cookie"]);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(";")[0]!;

    const js = await get(server.port, "/assets/app.js", { Host: host, Cookie: pair });
    assert.equal(js.status, 200);
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    const css = await get(server.port, `/assets/app.css?token=${server.token}`, { Host: host });
    assert.equal(css.headers["content-type"], "text/css; charset=utf-8");
    assert.equal((await get(server.port, "/assets/nope.js", { Host: host, Cookie: pair })).status, 404);
    assert.equal((await get(server.port, "/assets", { Host: host, Cookie: pair })).status, 404);
  });

  it("refuses the page without the token, or with a wrong one", async () => {
    const host = { Host: `127.0.0.1:${server.port}` };
    for (const p of ["/", "/index.html", "/assets/app.js", "/?token=", `/?token=${server.token.slice(1)}`, `/?token=${server.token}x`, "/?token=%00"]) {
      const r = await get(server.port, p, host);
      assert.equal(r.status, 401, p);
      assert.doesNotMatch(r.body, /Hexmap<\/body>/);
    }
    const r = await get(server.port, "/", { ...host, Cookie: `hexmap_token_${server.port}=wrong` });
    assert.equal(r.status, 401);
  });

  it("refuses a foreign Host (DNS rebinding) and a foreign Origin", async () => {
    const t = `/?token=${server.token}`;
    for (const h of ["evil.example", `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, "127.0.0.1", `127.0.0.1.nip.io:${server.port}`]) {
      assert.equal((await get(server.port, t, { Host: h })).status, 403, h);
    }
    assert.equal((await get(server.port, t, { Host: `localhost:${server.port}` })).status, 200);
    assert.equal((await get(server.port, t, { Host: `LOCALHOST:${server.port}` })).status, 200);
    const host = `127.0.0.1:${server.port}`;
    for (const o of ["http://evil.example", `http://evil.example:${server.port}`, `https://${host}`, "null", `http://${host}.evil`]) {
      assert.equal((await get(server.port, t, { Host: host, Origin: o })).status, 403, o);
    }
    assert.equal((await get(server.port, t, { Host: host, Origin: `http://${host}` })).status, 200);
  });

  it("refuses path traversal, encoded or not, and symlinks out of the renderer folder", async () => {
    const headers = { Host: `127.0.0.1:${server.port}` };
    const q = `?token=${server.token}`;
    const attempts = [
      "/../package.json",
      "/../../package.json",
      "/assets/../../package.json",
      "/%2e%2e/package.json",
      "/%2E%2E/%2E%2E/package.json",
      "/..%2fpackage.json",
      "/..%2Fsecret.txt",
      "/%2e%2e%2fpackage.json",
      "/%2e%2e%2f%2e%2e%2fpackage.json",
      "/assets/..%2f..%2fsecret.txt",
      "/..%5cpackage.json",
      "/..\\package.json",
      "/%252e%252e/package.json",
      "/.%2e/package.json",
      "//etc/passwd",
      "/%2fetc%2fpasswd",
      "/index.html%00.js",
      "/link.json",
      "/%",
      "/%c0%ae%c0%ae/package.json",
    ];
    for (const p of attempts) {
      const r = await get(server.port, p + q, headers);
      assert.ok([400, 403, 404].includes(r.status), `${p} → ${r.status}`);
      assert.doesNotMatch(r.body, /outside the renderer|SECRET|root:/, p);
    }
  });

  it("answers only GET and HEAD", async () => {
    const r = await new Promise<number>((resolve) => {
      const req = http.request({ host: "127.0.0.1", port: server.port, path: `/?token=${server.token}`, method: "POST", headers: { Host: `127.0.0.1:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end("x");
    });
    assert.equal(r, 405);
  });

  it("WebSocket: refused without the token, with a wrong one, from a foreign Origin or Host, on another path", async () => {
    const origin = server.origin;
    assert.equal(await tryUpgrade(wsUrl(server, null), { origin }), 401);
    assert.equal(await tryUpgrade(wsUrl(server, "wrong"), { origin }), 401);
    assert.equal(await tryUpgrade(wsUrl(server, server.token.slice(0, -1)), { origin }), 401);
    assert.equal(await tryUpgrade(wsUrl(server), { origin: "http://evil.example" }), 403);
    assert.equal(await tryUpgrade(wsUrl(server), { origin: `http://localhost:${server.port + 1}` }), 403);
    assert.equal(await tryUpgrade(wsUrl(server), { origin, headers: { Host: `evil.example:${server.port}` } }), 403);
    assert.equal(await tryUpgrade(`ws://127.0.0.1:${server.port}/other?token=${server.token}`, { origin }), 404);
    assert.equal(await tryUpgrade(wsUrl(server), { origin }), 101);
    assert.equal(await tryUpgrade(wsUrl(server), { origin: `http://localhost:${server.port}`, headers: { Host: `localhost:${server.port}` } }), 101);
    assert.equal(await tryUpgrade(wsUrl(server, null), { origin, headers: { Cookie: `hexmap_token_${server.port}=${server.token}` } }), 101);
  });

  it("a real ws client reads the shared file's bytes, the same as fs reads them, past 4 GiB", async () => {
    const client = await connect(server);
    try {
      const list = await client.request("list");
      assert.equal(list.documents.length, 1);
      const doc = list.documents[0]!;
      assert.equal(doc.size, fx.size);
      assert.equal(doc.docId, server.shared?.docId);
      const fd = fs.openSync(fx.path, "r");
      try {
        for (const [offset, length] of [
          [0, 65536],
          [65536, 65536],
          [FOUR_GIB - 65536, 65536],
          [FOUR_GIB - 3, 7],
          [FOUR_GIB, 65536],
          [fx.size - 65536, 65536],
          [fx.size - 10, 65536],
        ] as const) {
          const read = await client.request("read", { docId: doc.docId, offset, length });
          const want = Buffer.alloc(Math.min(length, fx.size - offset));
          fs.readSync(fd, want, 0, want.length, offset);
          assert.ok(Buffer.from(read.bytes).equals(want), `bytes at ${offset}`);
          assert.ok(want.equals(fx.expected(offset, length)));
        }
      } finally {
        fs.closeSync(fd);
      }
      await assert.rejects(client.request("read", { docId: doc.docId, offset: fx.size + 1, length: 1 }), { code: "ERANGE" });
    } finally {
      client.close();
    }
  });

  it("opens other paths per client, typed errors for bad ones, and keeps clients apart", async () => {
    const a = await connect(server);
    const b = await connect(server);
    try {
      const file = makeFile("only for A");
      const info = await a.request("open", { path: file });
      assert.notEqual(info.docId, server.shared?.docId);
      await assert.rejects(b.request("read", { docId: info.docId, offset: 0, length: 4 }), { code: "EBADDOC" });
      assert.deepEqual((await b.request("list")).documents.map((d) => d.docId), [server.shared?.docId]);
      await assert.rejects(a.request("open", { path: path.join(root, "no-such-file.bin") }), { code: "ENOENT" });
      await assert.rejects(a.request("open", { path: root }), { code: "EISDIR" });
      assert.equal(Buffer.from((await a.request("read", { docId: info.docId, offset: 0, length: 4 })).bytes).toString(), "only");
      a.close();
      await waitFor(() => !server.pool.has(info.docId));
      assert.equal(server.pool.has(server.shared!.docId), true);
    } finally {
      a.close();
      b.close();
    }
  });

  it("sends size-changed events over the socket when the file grows and shrinks", async () => {
    const file = makeFile(Buffer.alloc(100, 1));
    const client = await connect(server);
    try {
      const events: Event[] = [];
      client.onEvent((e) => events.push(e));
      const info = await client.request("open", { path: file });
      fs.appendFileSync(file, Buffer.alloc(28, 2));
      await waitFor(() => events.some((e) => e.event === "size-changed" && e.size === 128));
      fs.truncateSync(file, 3);
      await waitFor(() => events.some((e) => e.event === "size-changed" && e.size === 3));
      assert.ok(events.every((e) => e.docId === info.docId));
    } finally {
      client.close();
    }
  });

  it("answers malformed frames with EINVAL and keeps the connection; closes on an oversized message", async () => {
    const ws = new WebSocket(wsUrl(server), { origin: server.origin });
    await new Promise((r) => ws.once("open", r));
    const replies: any[] = [];
    ws.on("message", (data, isBinary) => replies.push(decodeMessage(isBinary ? data : data.toString())));
    ws.send("not json");
    ws.send(new Uint8Array([0, 0, 0, 9, 1]));
    ws.send(JSON.stringify({ id: 5, type: "read", docId: "d1", offset: -1, length: 1 }));
    ws.send(JSON.stringify({ id: 6, type: "read", docId: "d1", offset: 0, length: 2 ** 30 }));
    ws.send(JSON.stringify({ id: 7, type: "nope" }));
    ws.send(encodeMessage({ id: 8, type: "list" }));
    await waitFor(() => replies.length === 6);
    assert.deepEqual(replies.map((r) => [r.id, r.ok ? "ok" : r.error.code]), [
      [null, "EINVAL"],
      [null, "EINVAL"],
      [5, "EINVAL"],
      [6, "EINVAL"],
      [7, "EINVAL"],
      [8, "ok"],
    ]);
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send("x".repeat(MAX_INBOUND_MESSAGE + 1));
    assert.equal(await closed, 1009);
  });

  it("many large reads at once: each settles, with its bytes or EBUSY (bounded memory)", async () => {
    const client = await connect(server);
    try {
      const docId = server.shared!.docId;
      const length = 16 * 1024 * 1024;
      const offsets = Array.from({ length: 12 }, (_, i) => FOUR_GIB - 8 * 1024 * 1024 + i * 4096);
      const replies = await Promise.all(offsets.map((offset) => client.call("read", { docId, offset, length })));
      for (const [i, r] of replies.entries()) {
        if (r.ok) assert.ok(Buffer.from(r.result.bytes).equals(fx.expected(offsets[i]!, length)), `read ${i}`);
        else assert.equal(r.error.code, "EBUSY");
      }
      assert.ok(replies.some((r) => r.ok));
      assert.equal((await client.request("list")).documents.length, 1);
    } finally {
      client.close();
    }
  });

  it("close() ends the connections: pending and later requests settle", async () => {
    const other = await startServer({ file: fx.path, rendererDir });
    const client = await connectWebSocket(new WebSocket(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, { origin: other.origin }) as never);
    assert.equal((await client.request("list")).documents.length, 1);
    await other.close();
    await other.close();
    await waitFor(() => client.isClosed);
    await assert.rejects(client.request("list"), { code: "EDISCONNECTED" });
    assert.equal(other.pool.openCount, 0);
  });

  it("shares the command-line file read-only by default and read-write with writable (serve --write)", async () => {
    for (const writable of [false, true]) {
      const other = await startServer({ file: fx.path, rendererDir, writable });
      const client = await connectWebSocket(new WebSocket(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, { origin: other.origin }) as never);
      try {
        const [doc] = (await client.request("list")).documents;
        assert.equal(doc?.readOnly, !writable);
      } finally {
        client.close();
        await other.close();
      }
    }
  });

  it("starts with no file: nothing listed, files can still be opened", async () => {
    const other = await startServer({ rendererDir });
    const client = await connectWebSocket(new WebSocket(`ws://127.0.0.1:${other.port}/ws?token=${other.token}`, { origin: other.origin }) as never);
    try {
      assert.equal((await client.request("list")).documents.length, 0);
      const info = await client.request("open", { path: fx.path });
      assert.equal(info.size, fx.size);
    } finally {
      client.close();
      await other.close();
    }
  });

  it("startServer rejects a file it cannot open, typed", async () => {
    await assert.rejects(startServer({ file: path.join(root, "missing.bin"), rendererDir }), { code: "ENOENT" });
  });
});

describe("guard helpers", () => {
  it("tokenMatches compares exactly", () => {
    assert.equal(tokenMatches("abc", "abc"), true);
    for (const c of ["ab", "abcd", "", "ABC", null, undefined, "a".repeat(5000)]) assert.equal(tokenMatches(c as string, "abc"), false);
  });
  it("the CSP allows only the page's own origin", () => {
    const csp = contentSecurityPolicy("127.0.0.1:9");
    assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:9;/);
    assert.doesNotMatch(csp, /unsafe/);
  });
});

describe("hexmap serve (command line)", () => {
  const script = path.join(__dirname, "..", "..", "app", "cli", "serve.js");
  function runServe(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ["-e", `require(${JSON.stringify(script)}).runServe(process.argv.slice(1)).then((c) => process.exit(c))`, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((r) => child.on("exit", (code, signal) => r(code ?? (signal ? 128 : -1))));
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it("prints exactly one URL line, serves, and exits 0 on SIGTERM", async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, "index.html"), "<p>hi</p>");
    const file = makeFile("serve me");
    const run = runServe([file, "--port", "0", "--no-open"], { HEXMAP_RENDERER_DIR: dir });
    await waitFor(() => run.out().includes("\n"), 10_000);
    const lines = run.out().trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const m = lines[0]!.match(new RegExp(`^${SERVE_URL_LINE_PREFIX}(http://127\\.0\\.0\\.1:(\\d+)/\\?token=([A-Za-z0-9_-]{43}))$`));
    assert.ok(m, lines[0]);
    const page = await get(Number(m[2]), `/?token=${m[3]}`, { Host: `127.0.0.1:${m[2]}` });
    assert.equal(page.body, "<p>hi</p>");
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0);
    assert.equal(run.err(), "");
  });

  it("a missing file is one line on stderr and exit 1; usage errors exit 2", async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, "index.html"), "x");
    const missing = runServe([path.join(dir, "nope.bin"), "--no-open"], { HEXMAP_RENDERER_DIR: dir });
    assert.equal(await missing.exited, 1);
    assert.equal(missing.out(), "");
    assert.match(missing.err(), /^hexmap serve: No such file: .*nope\.bin\n$/);
    for (const args of [["a", "b"], ["a", "--port", "x"], ["a", "--port", "70000"], ["a", "--bogus"]]) {
      const r = runServe(args, { HEXMAP_RENDERER_DIR: dir });
      assert.equal(await r.exited, 2, args.join(" "));
    }
  });

  it("--write needs a FILE (exit 2 before binding anything)", async () => {
    const write = process.stderr.write;
    let err = "";
    process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
    try {
      assert.equal(await runServeInProcess(["--write"]), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(err, /--write needs a FILE/);
  });

  it("warns when bound beyond loopback", async () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, "index.html"), "x");
    const run = runServe([makeFile("x"), "--host", "0.0.0.0", "--no-open"], { HEXMAP_RENDERER_DIR: dir });
    await waitFor(() => run.out().includes("\n"), 10_000);
    assert.match(run.err(), /warning: listening on 0\.0\.0\.0/);
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 0);
  });
});

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
