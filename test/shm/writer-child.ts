// A second process for the cross-process shared-memory tests (Linux, and Windows Node under
// Wine: spawn it with process.execPath, no shell).
//
//   node writer-child.js NAME SIZE TEXT
//
// Creates (or opens) the section NAME with SIZE bytes through the engine, writes TEXT at 0 and
// prints one JSON line {"ready":true,size,created}. Then it answers JSON commands, one per stdin
// line, with one JSON line each on stdout:
//   {"op":"read","offset":N,"length":N}              -> {"ok":true,"hex":"..."}
//   {"op":"write","writes":[{"offset":N,"hex":"..."}]} -> {"ok":true}
//   {"op":"exit"}                                    -> {"ok":true,"bye":true}, then exits
// End of stdin also closes the section and exits: a dead test never leaves a section behind
// (on Windows the section then dies with its last handle; on POSIX the test unlinks the name).

import { openSharedMemoryDocument, sharedMemorySourceOf, writeShmSync } from "../../app/engine/shm";

function send(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function main(): void {
  const [name, sizeText, text] = process.argv.slice(2);
  if (name === undefined || sizeText === undefined) {
    // Not a test file: when a test runner picks this file up by its folder, do nothing.
    process.stdout.write("usage: writer-child NAME SIZE [TEXT]\n");
    return;
  }
  let doc: ReturnType<typeof openSharedMemoryDocument>;
  try {
    doc = openSharedMemoryDocument(name, { create: Number(sizeText) });
    if (text) writeShmSync(doc, 0, Buffer.from(text, "utf8"));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    send({ ready: false, code: e.code, message: e.message });
    process.exitCode = 1;
    return;
  }
  send({ ready: true, size: doc.size, created: sharedMemorySourceOf(doc)?.created });

  let pending = "";
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    doc.close();
    process.stdin.pause();
  };
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line || closed) continue;
      try {
        const cmd = JSON.parse(line) as { op: string; offset?: number; length?: number; writes?: Array<{ offset: number; hex: string }> };
        if (cmd.op === "read") {
          send({ ok: true, hex: doc.readSync(cmd.offset!, cmd.length!).toString("hex") });
        } else if (cmd.op === "write") {
          for (const w of cmd.writes ?? []) writeShmSync(doc, w.offset, Buffer.from(w.hex, "hex"));
          send({ ok: true });
        } else if (cmd.op === "exit") {
          finish();
          send({ ok: true, bye: true });
        } else {
          send({ ok: false, message: `unknown op ${cmd.op}` });
        }
      } catch (err) {
        const e = err as { code?: string; message?: string };
        send({ ok: false, code: e.code, message: e.message });
      }
    }
  });
  process.stdin.on("end", finish);
}

main();
