// Electron security (issue 9, item 4), asserted on the modules the shell is made of — no Electron
// binary can run here. test/main/shell.test.ts already checks the main window's options, the IPC
// sender check case by case, navigation/window.open/permission handlers and the preload's four
// functions; this file adds what it does not:
//   - webPreferences as a whole: no key may weaken it (a deny-list of dangerous settings);
//   - every CSP the app ships (Electron header, renderer meta, browser-host header) parsed and
//     held to the same rules; the built page has no inline script or handler;
//   - the main process wires the locks for every window and webContents (source checks);
//   - the IPC handler under generated messages: trusted ones always answered typed, untrusted
//     ones refused without reaching the Service;
//   - the preload bundle loaded through Module._load with a fake `electron`: what
//     contextBridge receives, that it only ever uses its two channels, never send/sendSync,
//     and hands listeners the payload only (never the IpcRendererEvent with its sender).

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { loadNative } from "../../native/index";
import { Service } from "../../app/engine/service";
import { registerIpc, type IpcMainLike, type SendingWindow } from "../../app/main/ipc";
import { APP_CSP, type FrameLike, type IpcEventLike } from "../../app/main/security";
import { webPreferences, windowOptions } from "../../app/main/window-options";
import { APP_INDEX_URL, IPC_EVENT, IPC_MENU_COMMAND, IPC_REQUEST } from "../../app/protocol/channels";
import { ErrorCode, type Reply } from "../../app/protocol/messages";
import { contentSecurityPolicy } from "../../app/serve/guard";
import { cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { messageArb, resolveDocTokens, type FuzzWorld } from "./protocol-arbitraries";

after(cleanupFixtures);

const root = path.resolve(__dirname, "..", "..", "..");

describe("Electron: webPreferences", () => {
  it("no setting weakens the sandbox, whatever else is added later", () => {
    const prefs = webPreferences("/x/preload.js") as Record<string, unknown>;
    const required: Record<string, unknown> = {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    };
    for (const [k, v] of Object.entries(required)) assert.equal(prefs[k], v, k);
    // Settings that open the renderer up: absent, or at their safe value.
    const forbidden: Record<string, (v: unknown) => boolean> = {
      enableBlinkFeatures: (v) => v !== undefined,
      additionalArguments: (v) => v !== undefined,
      plugins: (v) => v === true,
      enableWebSQL: (v) => v === true,
      allowRunningInsecureContent: (v) => v !== false,
      experimentalFeatures: (v) => v !== false,
      partition: (v) => typeof v === "string" && !v.startsWith("persist:") && v !== "",
      session: (v) => v !== undefined,
      preload: (v) => typeof v !== "string" || !path.isAbsolute(v),
      backgroundThrottling: () => false,
    };
    for (const [k, bad] of Object.entries(forbidden)) assert.equal(bad(prefs[k]), false, `webPreferences.${k} = ${String(prefs[k])}`);
    // Every key is one we know: a new one must be reviewed here first.
    const known = new Set([...Object.keys(required), ...Object.keys(forbidden), "navigateOnDragDrop", "spellcheck", "safeDialogs", "disableDialogs", "devTools"]);
    assert.deepEqual(Object.keys(prefs).filter((k) => !known.has(k)), []);
    assert.deepEqual(windowOptions({ preloadPath: "/x/preload.js" }).webPreferences, prefs);
  });
});

/** Directives of a CSP string: name → sources. */
function parseCsp(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.equal(out.has(name.toLowerCase()), false, `directive ${name} given twice`);
    out.set(name.toLowerCase(), sources);
  }
  return out;
}

function assertStrictCsp(csp: string, what: string, opts: { header: boolean }): void {
  const d = parseCsp(csp);
  assert.doesNotMatch(csp, /unsafe-|'strict-dynamic'|\bblob:/i, `${what}: no unsafe-*, strict-dynamic or blob:`);
  const def = d.get("default-src");
  assert.ok(def && def.every((s) => s === "'self'" || s === "'none'"), `${what}: default-src 'self' or 'none', got ${def}`);
  const script = d.get("script-src") ?? def!;
  assert.deepEqual(script, ["'self'"], `${what}: scripts only from the app itself`);
  for (const [name, sources] of d) {
    assert.ok(!sources.includes("*") && !sources.some((s) => /^(https?:|\*\.)/.test(s)), `${what}: ${name} allows no wildcard or remote origin`);
    if (name !== "img-src") assert.ok(!sources.includes("data:"), `${what}: data: only for images (${name})`);
  }
  assert.deepEqual(d.get("object-src") ?? def, ["'none'"], `${what}: object-src 'none' (or default-src 'none')`);
  assert.ok(["'none'", "'self'"].includes(d.get("base-uri")?.[0] ?? ""), `${what}: base-uri pinned`);
  assert.deepEqual(d.get("form-action"), ["'none'"], `${what}: form-action 'none'`);
  if (opts.header) assert.deepEqual(d.get("frame-ancestors"), ["'none'"], `${what}: frame-ancestors 'none' (header only)`);
}

describe("Electron and browser host: Content-Security-Policy", () => {
  it("the Electron header, the page's meta tag and the browser host's header are all strict", () => {
    assertStrictCsp(APP_CSP, "Electron app:// header", { header: true });
    assert.deepEqual(parseCsp(APP_CSP).get("connect-src"), ["'none'"], "Electron: the page talks only through the preload");
    const host = contentSecurityPolicy("127.0.0.1:8080");
    assertStrictCsp(host, "browser host header", { header: true });
    assert.deepEqual(parseCsp(host).get("connect-src"), ["'self'", "ws://127.0.0.1:8080"], "browser host: its own WebSocket only");
    for (const page of ["renderer/index.html", "dist/renderer/index.html"]) {
      const file = path.join(root, page);
      if (!fs.existsSync(file)) continue;
      const html = fs.readFileSync(file, "utf8");
      const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
      assert.ok(meta, `${page} carries a CSP meta tag`);
      assertStrictCsp(meta[1]!, page, { header: false });
      // What that CSP would block must not be needed: no inline script, no inline handler, no javascript: URL.
      for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) assert.match(tag, /\bsrc="/, `${page}: inline <script>`);
      assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${page}: inline event handler`);
      assert.doesNotMatch(html, /javascript:/i, `${page}: javascript: URL`);
    }
  });
});

describe("Electron: the main process wires the locks", () => {
  const src = (f: string) => fs.readFileSync(path.join(root, "app", "main", f), "utf8");
  it("every window is built from windowOptions and locked down; sandbox for all renderers; no other IPC", () => {
    const main = src("main.ts");
    const windows = main.match(/new BrowserWindow\(([^;]*)\)/g) ?? [];
    assert.ok(windows.length >= 1, "main.ts creates the window");
    for (const w of windows) assert.match(w, /windowOptions\(/, `a BrowserWindow without windowOptions: ${w}`);
    assert.match(main, /app\.enableSandbox\(\)/, "app.enableSandbox(): every renderer sandboxed");
    assert.match(main, /web-contents-created[\s\S]{0,400}setWindowOpenHandler\(denyWindowOpen\)/, "window.open denied for every webContents");
    assert.match(main, /lockDown\(/, "the window's session and contents are locked down");
    // IPC only through ipc.ts (registerIpc: sender-checked, validated by the Service).
    for (const f of fs.readdirSync(path.join(root, "app", "main")).filter((f) => f.endsWith(".ts") && f !== "ipc.ts")) {
      assert.doesNotMatch(src(f), /ipcMain\.(on|handle|once|handleOnce)\(/, `${f} registers IPC outside ipc.ts`);
    }
    // No source anywhere under app/ turns the locks off.
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(".ts") ? [path.join(d, e.name)] : []));
    for (const f of walk(path.join(root, "app"))) {
      const text = fs.readFileSync(f, "utf8");
      assert.doesNotMatch(text, /nodeIntegration:\s*true|contextIsolation:\s*false|sandbox:\s*false|webSecurity:\s*false|enableRemoteModule/, path.relative(root, f));
    }
  });
});

describe("Electron: IPC handler under generated messages", () => {
  function setup() {
    const file = makeFile(Buffer.alloc(4096, 7), "ipc.bin");
    const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>();
    const ipcMain: IpcMainLike = { handle: (c, l) => void handlers.set(c, l), removeHandler: (c) => void handlers.delete(c) };
    const main: FrameLike = { url: APP_INDEX_URL, processId: 4, routingId: 1, parent: null };
    const sent: Array<[string, unknown]> = [];
    const win: SendingWindow = {
      isDestroyed: () => false,
      webContents: { id: 7, mainFrame: main, isDestroyed: () => false, send: (c: string, p: unknown) => void sent.push([c, p]) },
    };
    let handled = 0;
    class CountingService extends Service {
      override handle(message: unknown): Promise<Reply> {
        handled++;
        return super.handle(message);
      }
    }
    const service = new CountingService({ pollIntervalMs: 0 });
    const unregister = registerIpc({ ipcMain, getWindow: () => win, service });
    return { file, handlers, main, sent, service, unregister, handled: () => handled };
  }

  it("trusted: 1 000 messages each answered typed; untrusted frames: 1 000 refused before the Service", async () => {
    const ctx = setup();
    const dir = makeTempDir("hexmap-ipc-fuzz-");
    const cwd = process.cwd();
    process.chdir(dir); // relative paths from the generator land here
    const world: FuzzWorld = { dir, paths: [ctx.file, path.join(dir, "missing.bin"), dir, path.join(dir, "out.bin")], shmNames: [`hexmap-ipc-fuzz-${process.pid}`], sizes: [4096], likelyDocIds: ["d1", "d2"] };
    const codes = new Set<string>(ErrorCode);
    const invoke = ctx.handlers.get(IPC_REQUEST)!;
    const trusted: IpcEventLike = { sender: { id: 7 }, senderFrame: { ...ctx.main } };
    const untrusted: IpcEventLike[] = [
      { sender: { id: 7 }, senderFrame: { ...ctx.main, url: "https://evil.example/" } },
      { sender: { id: 7 }, senderFrame: { ...ctx.main, routingId: 2, parent: ctx.main } },
      { sender: { id: 8 }, senderFrame: { ...ctx.main } },
      { sender: { id: 7 }, senderFrame: null },
      { sender: { id: 7 }, senderFrame: { ...ctx.main, url: "file:///etc/passwd" } },
    ];
    const sections = new Set<string>();
    try {
      for (const [i, generated] of fc.sample(messageArb(world), { numRuns: 1000, seed: 7 }).entries()) {
        const message = resolveDocTokens(generated, ctx.service.documents());
        const reply = (await invoke(trusted, structuredClone(message as never))) as Reply;
        assert.ok(reply && typeof reply.ok === "boolean", `reply ${i}`);
        if (!reply.ok) {
          assert.ok(codes.has(reply.error.code) && reply.error.code !== "EINTERNAL", `${reply.error.code}: ${reply.error.message}`);
        } else if ((message as { type?: string }).type === "create-shm") {
          sections.add(String((message as { name: string }).name));
        }
      }
      const before = ctx.handled();
      for (const [i, generated] of fc.sample(messageArb(world), { numRuns: 1000, seed: 8 }).entries()) {
        const reply = (await invoke(untrusted[i % untrusted.length]!, generated)) as Reply;
        assert.equal(reply.ok, false);
        assert.equal((reply as { error: { code: string } }).error.code, "EACCES");
      }
      assert.equal(ctx.handled(), before, "no untrusted message reached the Service");
      // Events go to our window only, on the event channel.
      assert.ok(ctx.sent.every(([c]) => c === IPC_EVENT));
    } finally {
      process.chdir(cwd);
      ctx.unregister();
      ctx.service.dispose();
      for (const n of sections) {
        try {
          loadNative().unlinkShm(n);
        } catch {
          /* gone */
        }
      }
    }
  });
});

describe("Electron: preload bundle through Module._load", () => {
  it("exposes only window.hexmap's protocol functions, uses only its channels, never hands out the IPC event", async () => {
    const bundle = path.join(root, "dist", "app", "preload", "preload.js");
    if (!fs.existsSync(bundle)) {
      const r = spawnSync(process.execPath, [path.join(root, "scripts", "build-preload.js")], { cwd: root, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
    const calls: string[] = [];
    const exposed = new Map<string, unknown>();
    const listeners = new Map<string, Array<(e: unknown, v: unknown) => void>>();
    const fakeElectron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api),
        exposeInIsolatedWorld: () => calls.push("exposeInIsolatedWorld"),
      },
      ipcRenderer: {
        invoke: async (channel: string, message: unknown) => {
          calls.push(`invoke:${channel}`);
          return { id: (message as { id?: number })?.id ?? null, ok: true, result: {} };
        },
        on: (channel: string, l: (e: unknown, v: unknown) => void) => {
          calls.push(`on:${channel}`);
          listeners.set(channel, [...(listeners.get(channel) ?? []), l]);
        },
        removeListener: (channel: string, l: unknown) => {
          calls.push(`removeListener:${channel}`);
          listeners.set(channel, (listeners.get(channel) ?? []).filter((x) => x !== l));
        },
        send: () => calls.push("send"),
        sendSync: () => calls.push("sendSync"),
        postMessage: () => calls.push("postMessage"),
      },
      webUtils: { getPathForFile: (f: { path?: string }) => f?.path ?? "" },
    };
    const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
    const original = M._load;
    const required: string[] = [];
    M._load = function (request: string, parent: unknown, isMain: boolean) {
      if (parent && (parent as { filename?: string }).filename === bundle) required.push(request);
      if (request === "electron") return fakeElectron;
      return original.call(this, request, parent, isMain);
    };
    try {
      delete require.cache[bundle];
      require(bundle);
    } finally {
      M._load = original;
      delete require.cache[bundle];
    }
    assert.deepEqual([...new Set(required)], ["electron"], "the sandboxed preload requires electron only");
    assert.deepEqual([...exposed.keys()], ["hexmap"]);
    const api = exposed.get("hexmap") as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(api), Object.prototype);
    assert.deepEqual(Object.keys(api).sort(), ["onEvent", "onMenuCommand", "pathForFile", "request"]);
    for (const [k, v] of Object.entries(api)) assert.equal(typeof v, "function", k);
    const fns = api as Record<string, (...a: any[]) => any>;

    // Whatever the page passes, requests go out on IPC_REQUEST only.
    for (const m of [{ id: 1, type: "list" }, { id: 2, channel: "hexmap:evil", type: "list" }, "junk", null]) await fns.request!(m);
    const off = fns.onEvent!((e: unknown) => got.push(e));
    const got: unknown[] = [];
    fns.onMenuCommand!((c: unknown) => got.push(c));
    for (const l of listeners.get(IPC_EVENT) ?? []) l({ sender: { send: () => "the IPC event must not leak" }, senderFrame: {} }, { event: "document-closed", docId: "d1", reason: "x" });
    for (const l of listeners.get(IPC_MENU_COMMAND) ?? []) l({ sender: {} }, "goto");
    off();
    assert.deepEqual(got, [{ event: "document-closed", docId: "d1", reason: "x" }, "goto"], "listeners get the payload only");
    const channels = new Set(calls.map((c) => c.split(":").slice(1).join(":")).filter(Boolean));
    assert.deepEqual([...channels].sort(), [IPC_EVENT, IPC_MENU_COMMAND, IPC_REQUEST].sort(), `channels used: ${[...channels]}`);
    assert.ok(!calls.some((c) => ["send", "sendSync", "postMessage", "exposeInIsolatedWorld"].includes(c)), calls.join(","));
  });
});
