// The Electron shell's logic, tested in plain Node with fake Electron objects (no Electron
// binary can be had here): window options, security handlers, IPC transport, app:// resolver,
// menus, recent files, command-line parsing, and the bundled preload's exposed API.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import { resolveAppRequest } from "../../app/main/app-protocol";
import { fileFromArgv } from "../../app/main/args";
import { registerIpc, sendMenuCommand, type IpcMainLike, type SendingWindow } from "../../app/main/ipc";
import { menuTemplate, type MenuActions } from "../../app/main/menu";
import { MAX_RECENT, RecentFiles } from "../../app/main/recent-files";
import {
  APP_CSP,
  addCspHeader,
  denyPermissionCheck,
  denyPermissionRequest,
  denyWindowOpen,
  filterRequest,
  isTrustedSender,
  lockDown,
  preventNavigation,
  type FrameLike,
  type IpcEventLike,
} from "../../app/main/security";
import { webPreferences, windowOptions } from "../../app/main/window-options";
import { APP_INDEX_URL, IPC_EVENT, IPC_MENU_COMMAND, IPC_REQUEST } from "../../app/protocol/channels";
import type { Reply } from "../../app/protocol/messages";
import { cleanupFixtures, makeFile, makeTempDir } from "../fixtures";

after(cleanupFixtures);

describe("window options", () => {
  it("lock the renderer down", () => {
    const o = windowOptions({ preloadPath: "/x/dist/app/preload/preload.js" });
    const w = o.webPreferences!;
    assert.equal(w.contextIsolation, true);
    assert.equal(w.sandbox, true);
    assert.equal(w.nodeIntegration, false);
    assert.equal(w.nodeIntegrationInWorker, false);
    assert.equal(w.nodeIntegrationInSubFrames, false);
    assert.equal(w.webSecurity, true);
    assert.equal(w.allowRunningInsecureContent, false);
    assert.equal(w.webviewTag, false);
    assert.equal(w.navigateOnDragDrop, false);
    assert.equal(w.preload, "/x/dist/app/preload/preload.js");
    assert.equal(o.show, false);
    assert.deepEqual(webPreferences("/p"), { ...w, preload: "/p" });
    assert.notEqual(windowOptions({ preloadPath: "/p", dark: true }).backgroundColor, windowOptions({ preloadPath: "/p" }).backgroundColor);
  });
});

// ---- fakes -------------------------------------------------------------------------------------

function frame(overrides: Partial<FrameLike> = {}): FrameLike {
  return { url: APP_INDEX_URL, processId: 4, routingId: 1, parent: null, ...overrides };
}

function fakeWindow(opts: { id?: number; destroyed?: boolean } = {}) {
  const sent: Array<[string, unknown]> = [];
  const main = frame();
  const win: SendingWindow & { sent: typeof sent; destroyed: boolean } = {
    sent,
    destroyed: opts.destroyed ?? false,
    isDestroyed: () => win.destroyed,
    webContents: {
      id: opts.id ?? 7,
      mainFrame: main,
      isDestroyed: () => win.destroyed,
      send: (channel: string, payload: unknown) => void sent.push([channel, payload]),
    },
  };
  return win;
}

function event(win: { webContents: { id: number; mainFrame: FrameLike } }, f: Partial<FrameLike> | null = {}, senderId?: number): IpcEventLike {
  return {
    sender: { id: senderId ?? win.webContents.id },
    senderFrame: f === null ? null : { ...win.webContents.mainFrame, ...f },
  };
}

describe("security: IPC sender check", () => {
  const win = fakeWindow();
  it("trusts the main frame of our window at app://hexmap", () => {
    assert.equal(isTrustedSender(event(win), win), true);
    assert.equal(isTrustedSender(event(win, { url: "app://hexmap/index.html#doc=1" }), win), true);
  });
  it("refuses everything else", () => {
    const cases: Array<[string, IpcEventLike, ReturnType<typeof fakeWindow> | null]> = [
      ["no sender frame", event(win, null), win],
      ["another webContents", event(win, {}, 99), win],
      ["a subframe", event(win, { parent: frame(), routingId: 2 }), win],
      ["another frame id", event(win, { routingId: 3 }), win],
      ["another process", event(win, { processId: 5 }), win],
      ["a detached frame", event(win, { detached: true }), win],
      ["file://", event(win, { url: "file:///work/main/dist/renderer/index.html" }), win],
      ["http", event(win, { url: "http://127.0.0.1:8080/" }), win],
      ["another app host", event(win, { url: "app://evil/index.html" }), win],
      ["another scheme", event(win, { url: "apps://hexmap/index.html" }), win],
      ["about:blank", event(win, { url: "about:blank" }), win],
      ["garbage url", event(win, { url: "::" }), win],
      ["no window", event(win), null],
      ["destroyed window", event(win), fakeWindow({ destroyed: true })],
    ];
    for (const [name, ev, w] of cases) assert.equal(isTrustedSender(ev, w), false, name);
  });
});

describe("security: navigation, windows, permissions, network, CSP", () => {
  it("every navigation is prevented, window.open denied, permissions denied", () => {
    let prevented = 0;
    preventNavigation({ preventDefault: () => prevented++ }, "https://evil.example");
    preventNavigation({ preventDefault: () => prevented++ }, APP_INDEX_URL);
    assert.equal(prevented, 2);
    assert.deepEqual(denyWindowOpen(), { action: "deny" });
    for (const p of ["media", "notifications", "clipboard-read", "openExternal", "fullscreen"]) {
      let granted: boolean | undefined;
      denyPermissionRequest({}, p, (g) => (granted = g));
      assert.equal(granted, false, p);
    }
    assert.equal(denyPermissionCheck(), false);
  });

  it("requests leaving the app are cancelled", () => {
    const verdict = (url: string) => {
      let cancel: boolean | undefined;
      filterRequest({ url }, (r) => (cancel = r.cancel));
      return cancel;
    };
    for (const url of ["app://hexmap/index.html", "app://hexmap/assets/app.js", "data:image/png;base64,AA==", "devtools://devtools/bundled/inspector.html"]) {
      assert.equal(verdict(url), false, url);
    }
    for (const url of ["https://example.com/", "http://127.0.0.1:1/", "ws://127.0.0.1:1/ws", "file:///etc/passwd", "app://evil/x", "blob:app://hexmap/1", "not a url"]) {
      assert.equal(verdict(url), true, url);
    }
  });

  it("the CSP header replaces any other, whatever its case", () => {
    let headers: Record<string, string[]> = {};
    addCspHeader({ responseHeaders: { "content-security-policy": ["default-src *"], "Content-Type": ["text/html"] } }, (r) => (headers = r.responseHeaders));
    assert.deepEqual(headers, { "Content-Type": ["text/html"], "Content-Security-Policy": [APP_CSP] });
    assert.match(APP_CSP, /default-src 'none'/);
    assert.match(APP_CSP, /script-src 'self'/);
    assert.match(APP_CSP, /connect-src 'none'/);
    assert.doesNotMatch(APP_CSP, /unsafe/);
  });

  it("lockDown installs every handler", () => {
    const calls: string[] = [];
    const session = {
      setPermissionRequestHandler: (h: unknown) => void calls.push(`permReq:${h === denyPermissionRequest}`),
      setPermissionCheckHandler: (h: unknown) => void calls.push(`permCheck:${h === denyPermissionCheck}`),
      webRequest: {
        onBeforeRequest: (h: unknown) => void calls.push(`before:${h === filterRequest}`),
        onHeadersReceived: (h: unknown) => void calls.push(`headers:${h === addCspHeader}`),
      },
    };
    const contents = {
      on: (name: string, h: unknown) => void calls.push(`${name}:${typeof h}`),
      setWindowOpenHandler: (h: unknown) => void calls.push(`open:${h === denyWindowOpen}`),
    };
    lockDown(session, contents);
    assert.deepEqual(calls.sort(), [
      "before:true",
      "headers:true",
      "open:true",
      "permCheck:true",
      "permReq:true",
      "will-attach-webview:function",
      "will-frame-navigate:function",
      "will-navigate:function",
      "will-redirect:function",
    ]);
  });
});

describe("IPC transport", () => {
  function fakeIpcMain() {
    const handlers = new Map<string, (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>>();
    const ipc: IpcMainLike & { handlers: typeof handlers } = {
      handlers,
      handle: (channel, listener) => {
        assert.ok(!handlers.has(channel), "a second handler for one channel throws in Electron");
        handlers.set(channel, listener);
      },
      removeHandler: (channel) => void handlers.delete(channel),
    };
    return ipc;
  }

  it("answers trusted requests from the Service, refuses others with a Reply, forwards events", async () => {
    const file = makeFile("ipc bytes");
    const ipcMain = fakeIpcMain();
    const win = fakeWindow();
    const service = new Service({ pollIntervalMs: 0 });
    const unregister = registerIpc({ ipcMain, getWindow: () => win, service });
    try {
      const invoke = ipcMain.handlers.get(IPC_REQUEST)!;
      assert.ok(invoke);
      const opened = (await invoke(event(win), { id: 1, type: "open", path: file })) as Reply;
      assert.equal(opened.ok, true);
      const read = (await invoke(event(win), { id: 2, type: "read", docId: "d1", offset: 0, length: 3 })) as Reply<"read">;
      assert.ok(read.ok);
      // What Electron's structured clone does to the reply: the bytes survive as a Uint8Array.
      const cloned = structuredClone(read) as Reply<"read">;
      assert.ok(cloned.ok && Buffer.from(cloned.result.bytes).toString() === "ipc");

      const refused = (await invoke(event(win, { url: "https://evil.example/" }), { id: 3, type: "read", docId: "d1", offset: 0, length: 3 })) as Reply;
      assert.deepEqual([refused.id, refused.ok, refused.ok ? "" : refused.error.code], [3, false, "EACCES"]);
      const junk = (await invoke(event(win), "junk")) as Reply;
      assert.equal(junk.ok ? "" : junk.error.code, "EINVAL");

      service.deliver({ event: "size-changed", docId: "d1", size: 10, generation: 1 });
      assert.deepEqual(win.sent, [[IPC_EVENT, { event: "size-changed", docId: "d1", size: 10, generation: 1 }]]);
      sendMenuCommand(win, "goto");
      assert.deepEqual(win.sent[1], [IPC_MENU_COMMAND, "goto"]);
      win.destroyed = true;
      service.deliver({ event: "size-changed", docId: "d1", size: 11, generation: 2 });
      sendMenuCommand(win, "close");
      sendMenuCommand(null, "close");
      assert.equal(win.sent.length, 2);
    } finally {
      unregister();
      service.dispose();
    }
    assert.equal(ipcMain.handlers.size, 0);
  });
});

describe("app:// resolver", () => {
  it("serves files inside the renderer folder with the CSP, refuses the rest", () => {
    const root = makeTempDir();
    const dir = path.join(root, "renderer");
    fs.mkdirSync(path.join(dir, "assets"), { recursive: true });
    fs.writeFileSync(path.join(dir, "index.html"), "<p>");
    fs.writeFileSync(path.join(dir, "assets", "app.js"), "1");
    fs.writeFileSync(path.join(root, "secret.txt"), "s");
    const ok = resolveAppRequest("app://hexmap/index.html", dir);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["Content-Type"], "text/html; charset=utf-8");
    assert.equal(ok.headers["Content-Security-Policy"], APP_CSP);
    assert.equal(resolveAppRequest("app://hexmap/", dir).status, 200);
    assert.equal(resolveAppRequest("app://hexmap/assets/app.js?v=1", dir).status, 200);
    for (const url of ["app://hexmap/../secret.txt", "app://hexmap/%2e%2e/secret.txt", "app://hexmap/..%2fsecret.txt", "app://hexmap/assets/..%2F..%2Fsecret.txt", "app://evil/index.html", "https://hexmap/index.html", "app://hexmap/missing.js", "nonsense"]) {
      const r = resolveAppRequest(url, dir);
      assert.notEqual(r.status, 200, url);
    }
  });
});

describe("menu", () => {
  function items(template: ReturnType<typeof menuTemplate>) {
    const flat: Array<Record<string, unknown>> = [];
    const walk = (list: unknown) => {
      if (!Array.isArray(list)) return;
      for (const i of list) {
        flat.push(i);
        walk(i.submenu);
      }
    };
    walk(template);
    return flat;
  }

  it("has Open Ctrl+O, Close Ctrl+W, Go to Offset Ctrl+G, Quit, and recent files", () => {
    const called: string[] = [];
    const actions: MenuActions = {
      open: () => called.push("open"),
      openRecent: (f) => called.push(`recent:${f}`),
      clearRecent: () => called.push("clear"),
      close: () => called.push("close"),
      goto: () => called.push("goto"),
      openShm: () => called.push("open-shm"),
      createShm: () => called.push("create-shm"),
      quit: () => called.push("quit"),
    };
    const all = items(menuTemplate(actions, { recent: ["/data/big.bin"], platform: "win32", dev: false }));
    for (const [label, action] of [["Open &Shared Memory…", "open-shm"], ["Create Shared &Memory…", "create-shm"]]) {
      (all.find((i) => i.label === label) as { click: () => void }).click();
      assert.equal(called.at(-1), action);
    }
    const byAccel = (a: string) => all.find((i) => i.accelerator === a) as { click: () => void } | undefined;
    for (const [accel, action] of [["CmdOrCtrl+O", "open"], ["CmdOrCtrl+W", "close"], ["CmdOrCtrl+G", "goto"], ["CmdOrCtrl+Q", "quit"]]) {
      const item = byAccel(accel!);
      assert.ok(item, accel);
      item.click();
      assert.equal(called.at(-1), action);
    }
    // Editing commands appear once their actions are given (main.ts sends them to the renderer).
    const editing = items(
      menuTemplate(
        { ...actions, toggleInsertMode: () => called.push("toggle-insert-mode"), insertBytes: () => called.push("insert-bytes"), deleteRange: () => called.push("delete-range") },
        { recent: [], platform: "win32", dev: false },
      ),
    );
    for (const [label, action] of [["&Insert Mode (OVR/INS)", "toggle-insert-mode"], ["Insert &Bytes…", "insert-bytes"], ["&Delete Range…", "delete-range"]]) {
      (editing.find((i) => i.label === label) as { click: () => void }).click();
      assert.equal(called.at(-1), action);
    }
    assert.ok(editing.some((i) => i.role === "cut"), "Cut in the Edit menu");
    const recent = all.find((i) => String(i.label).startsWith("big.bin")) as { click: () => void };
    recent.click();
    assert.equal(called.at(-1), "recent:/data/big.bin");
    assert.ok(!all.some((i) => i.role === "toggleDevTools"), "no DevTools when packaged");
    const mac = items(menuTemplate(actions, { recent: [], platform: "darwin", dev: true }));
    assert.ok(mac.some((i) => i.role === "appMenu"));
    assert.ok(mac.some((i) => i.label === "No Recent Files" && i.enabled === false));
    assert.ok(mac.some((i) => i.role === "toggleDevTools"));
  });
});

describe("recent files", () => {
  it("keeps the most recent first, unique, at most MAX_RECENT, across restarts", () => {
    const dir = makeTempDir();
    const store = path.join(dir, "userData", "recent-files.json");
    const r = new RecentFiles(store);
    assert.deepEqual(r.list(), []);
    for (let i = 0; i < MAX_RECENT + 3; i++) r.add(`/f/${i}.bin`);
    r.add("/f/5.bin");
    const list = r.list();
    assert.equal(list.length, MAX_RECENT);
    assert.equal(list[0], "/f/5.bin");
    assert.equal(new Set(list).size, list.length);
    assert.deepEqual(new RecentFiles(store).list(), list);
    r.remove("/f/5.bin");
    assert.equal(new RecentFiles(store).list().includes("/f/5.bin"), false);
    r.clear();
    assert.deepEqual(new RecentFiles(store).list(), []);
  });
  it("survives a damaged store and drops non-path entries", () => {
    const dir = makeTempDir();
    const store = path.join(dir, "recent.json");
    fs.writeFileSync(store, "{not json");
    assert.deepEqual(new RecentFiles(store).list(), []);
    fs.writeFileSync(store, JSON.stringify({ files: ["/a", 3, "", "relative", "/a", null, "/b"] }));
    assert.deepEqual(new RecentFiles(store).list(), ["/a", "/b"]);
    const r = new RecentFiles(store);
    r.add("rel.bin");
    assert.equal(r.list()[0], path.resolve("rel.bin"));
  });
});

describe("command line", () => {
  it("finds the file argument in packaged and development argv", () => {
    assert.equal(fileFromArgv(["/opt/Hexmap/hexmap", "/data/a.bin"], { packaged: true, cwd: "/" }), "/data/a.bin");
    assert.equal(fileFromArgv(["electron", "/work/main", "/data/a.bin"], { packaged: false, cwd: "/" }), "/data/a.bin");
    assert.equal(fileFromArgv(["electron", ".", "--inspect=9229", "rel/a.bin"], { packaged: false, cwd: "/home/u" }), path.resolve("/home/u", "rel/a.bin"));
    assert.equal(fileFromArgv(["hexmap", "--allow-file-access-from-files", "--", "-odd-name.bin"], { packaged: true, cwd: "/d" }), path.resolve("/d", "-odd-name.bin"));
    assert.equal(fileFromArgv(["hexmap"], { packaged: true, cwd: "/" }), null);
    assert.equal(fileFromArgv(["electron", "."], { packaged: false, cwd: "/" }), null);
    assert.equal(fileFromArgv(["hexmap", "--flag", ""], { packaged: true, cwd: "/" }), null);
  });
});

describe("preload bundle", () => {
  const root = path.resolve(__dirname, "..", "..", "..");
  const bundle = path.join(root, "dist", "app", "preload", "preload.js");

  it("requires nothing but electron and exposes exactly window.hexmap's four functions", async () => {
    if (!fs.existsSync(bundle)) {
      const r = spawnSync(process.execPath, [path.join(root, "scripts", "build-preload.js")], { cwd: root, stdio: "inherit" });
      assert.equal(r.status, 0, "build-preload failed");
    }
    const required: string[] = [];
    const exposed: Record<string, unknown> = {};
    const listeners = new Map<string, Set<(e: unknown, v: unknown) => void>>();
    const invoked: Array<[string, unknown]> = [];
    const electron = {
      contextBridge: {
        exposeInMainWorld: (key: string, api: unknown) => {
          exposed[key] = api;
        },
      },
      ipcRenderer: {
        invoke: async (channel: string, message: unknown) => {
          invoked.push([channel, message]);
          return { id: (message as { id: number }).id, ok: true, result: { documents: [] } };
        },
        on: (channel: string, l: (e: unknown, v: unknown) => void) => {
          if (!listeners.has(channel)) listeners.set(channel, new Set());
          listeners.get(channel)!.add(l);
        },
        removeListener: (channel: string, l: (e: unknown, v: unknown) => void) => void listeners.get(channel)?.delete(l),
      },
      webUtils: {
        getPathForFile: (f: unknown) => {
          if ((f as { path?: string })?.path === undefined) throw new TypeError("not a File");
          return (f as { path: string }).path;
        },
      },
    };
    const module = { exports: {} };
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name === "electron") return electron;
      throw new Error(`a sandboxed preload cannot require ${name}`);
    };
    vm.runInNewContext(fs.readFileSync(bundle, "utf8"), { require: sandboxRequire, module, exports: module.exports, console });
    assert.deepEqual([...new Set(required)], ["electron"]);
    assert.deepEqual(Object.keys(exposed), ["hexmap"]);
    const api = exposed.hexmap as Record<string, (...args: any[]) => any>;
    assert.deepEqual(Object.keys(api).sort(), ["onEvent", "onMenuCommand", "pathForFile", "request"]);

    const reply = await api.request!({ id: 4, type: "list" });
    assert.deepEqual(invoked, [[IPC_REQUEST, { id: 4, type: "list" }]]);
    assert.equal(reply.id, 4);

    const events: unknown[] = [];
    const off = api.onEvent!((e: unknown) => events.push(e));
    const emit = (channel: string, v: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: "ipc" }, v));
    emit(IPC_EVENT, { event: "size-changed", docId: "d1", size: 1, generation: 1 });
    emit(IPC_EVENT, "junk");
    off();
    emit(IPC_EVENT, { event: "size-changed", docId: "d1", size: 2, generation: 2 });
    assert.deepEqual(events, [{ event: "size-changed", docId: "d1", size: 1, generation: 1 }]);

    const commands: unknown[] = [];
    api.onMenuCommand!((c: unknown) => commands.push(c));
    emit(IPC_MENU_COMMAND, "goto");
    emit(IPC_MENU_COMMAND, { not: "a command" });
    assert.deepEqual(commands, ["goto"]);

    assert.equal(api.pathForFile!({ path: "/dropped/file.bin" }), "/dropped/file.bin");
    assert.equal(api.pathForFile!("not a file"), "");
  });
});
