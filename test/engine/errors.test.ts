// Native and fs errors become HexmapErrors with stable codes and sentences a user can act on.

import * as assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../app/protocol/messages";
import { HexmapError, checkOffset, isHexmapError, toHexmapError } from "../../app/engine/index";

function nativeError(code: string, message = "boom", extra: object = {}) {
  return Object.assign(new Error(message), { code, ...extra });
}

test("native codes map to protocol codes with the path in the message", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["ENOENT", "ENOENT", /No such file: \/x\/y/],
    ["EISDIR", "EISDIR", /directory/],
    ["EACCES", "EACCES", /Permission denied/],
    ["EPERM", "EACCES", /Permission denied/],
    ["EBUSY", "EBUSY", /locked by another program/],
    ["EIO", "EIO", /truncated/],
    ["ECLOSED", "EBADDOC", /closed/],
    ["ERANGE", "ERANGE", /outside/],
    ["EINVAL", "EINVAL", /Invalid/],
    ["ENOMEM", "EIO", /Cannot/],
  ];
  for (const [nativeCode, code, message] of cases) {
    const err = toHexmapError(nativeError(nativeCode, "boom", { syscall: "open", errno: 2 }), { path: "/x/y", op: "open" });
    assert.ok(err instanceof HexmapError);
    assert.equal(err.code, code, nativeCode);
    assert.match(err.message, message);
    assert.ok((ErrorCode as readonly string[]).includes(err.code));
    assert.equal(err.syscall, "open");
    assert.equal(err.errno, 2);
    assert.ok(err.cause instanceof Error);
  }
});

test("unknown errors: EIO when an OS call failed, else EINTERNAL; HexmapErrors pass through", () => {
  assert.equal(toHexmapError(nativeError("EWEIRD", "x", { syscall: "mmap" })).code, "EIO");
  assert.equal(toHexmapError(new Error("plain")).code, "EINTERNAL");
  assert.equal(toHexmapError("a string").code, "EINTERNAL");
  const mine = new HexmapError("ERANGE", "mine");
  assert.equal(toHexmapError(mine), mine);
  assert.ok(isHexmapError(mine));
  assert.ok(!isHexmapError(new Error("no")));
});

test("checkOffset accepts non-negative safe integers only", () => {
  for (const ok of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) assert.equal(checkOffset(ok, "offset"), ok);
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, "1", null, undefined, 1n, [1]]) {
    assert.throws(() => checkOffset(bad, "offset"), (e: unknown) => e instanceof HexmapError && e.code === "EINVAL" && /offset/.test(e.message));
  }
});
