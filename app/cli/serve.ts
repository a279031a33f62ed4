// `hexmap serve [FILE] [--write] [--port N] [--host 127.0.0.1] [--no-open]`: the browser host.
// Prints exactly one line on stdout, "Hexmap: http://HOST:PORT/?token=…"; warnings go to stderr.
// Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when the file or the port cannot be
// had, 2 for a usage error.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { SERVE_URL_LINE_PREFIX } from "../protocol/channels";
import { isLoopbackHost } from "../serve/guard";
import { startServer } from "../serve/server";

const USAGE = `Usage: hexmap serve [FILE] [--write] [--port N] [--host ADDRESS] [--no-open]

Serves the Hexmap viewer for FILE to a browser, at a URL with a per-run token. Without FILE the
page starts empty: open files or shared-memory sections from it.
  -w, --write     open FILE for editing (default: read-only)
  --port N        port to listen on (default 0: any free port)
  --host ADDRESS  address to bind (default 127.0.0.1; anything else exposes the file to the network)
  --no-open       do not open a browser`;

/** Finds dist/renderer from dist/app/cli (built) or app/cli (sources). HEXMAP_RENDERER_DIR overrides. */
export function findRendererDir(): string {
  const fromEnv = process.env.HEXMAP_RENDERER_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, "package.json"))) return path.join(dir, "dist", "renderer");
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, "..", "..", "renderer");
}

export async function runServe(argv: string[]): Promise<number> {
  let values: { port?: string; host?: string; "no-open"?: boolean; help?: boolean; write?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "no-open": { type: "boolean" },
        write: { type: "boolean", short: "w" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`hexmap serve: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`hexmap serve: expected at most one FILE\n${USAGE}\n`);
    return 2;
  }
  const file = positionals[0];
  if (values.write && file === undefined) {
    process.stderr.write(`hexmap serve: --write needs a FILE\n${USAGE}\n`);
    return 2;
  }
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
      process.stderr.write(`hexmap serve: --port must be a number from 0 to 65535, got "${values.port}"\n`);
      return 2;
    }
    port = Number(values.port);
  }
  const host = values.host ?? "127.0.0.1";
  if (host.length === 0 || /[\s/]/.test(host)) {
    process.stderr.write(`hexmap serve: --host must be an address, got "${host}"\n`);
    return 2;
  }

  const rendererDir = findRendererDir();
  if (!fs.existsSync(path.join(rendererDir, "index.html"))) {
    process.stderr.write(`hexmap serve: the viewer is not built (${rendererDir} has no index.html); run npm run build\n`);
    return 1;
  }

  let server;
  try {
    server = await startServer({ ...(file !== undefined ? { file } : {}), writable: values.write === true, host, port, rendererDir });
  } catch (err) {
    const e = err as { message?: string; code?: string };
    const message = e.code === "EADDRINUSE" ? `port ${port} is already in use` : (e.message ?? String(err));
    process.stderr.write(`hexmap serve: ${message}\n`);
    return 1;
  }
  if (!isLoopbackHost(host)) {
    process.stderr.write(
      `hexmap serve: warning: listening on ${host}, not only this machine: anyone who can reach it and has the URL can read ${file ?? "the files you open"} and any file you can read\n`,
    );
  }
  process.stdout.write(`${SERVE_URL_LINE_PREFIX}${server.url}\n`);
  if (!values["no-open"] && process.stdout.isTTY && !process.env.CI) openBrowser(server.url);

  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(() => resolve(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Best effort: a headless machine has no browser, and that is fine. */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "win32"
      ? ["cmd", ["/c", "start", '""', url]]
      : process.platform === "darwin"
        ? ["open", [url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: "ignore", windowsHide: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    /* no browser */
  }
}
