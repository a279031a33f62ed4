import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { CodecError, MAX_BINARY_HEADER, decodeMessage, encodeMessage, toFrame } from "../../app/protocol/codec";
import { Rng } from "../fixtures";

function frame(headerLength: number, header: string | Uint8Array, payload: Uint8Array = new Uint8Array()): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(4 + h.length + payload.length);
  new DataView(out.buffer).setUint32(0, headerLength >>> 0, false);
  out.set(h, 4);
  out.set(payload, 4 + h.length);
  return out;
}

describe("codec: round trips", () => {
  it("requests, events and plain replies travel as JSON text", () => {
    for (const msg of [
      { id: 1, type: "read", docId: "d1", offset: 2 ** 40, length: 65536 },
      { event: "size-changed", docId: "d3", size: 2 ** 36 + 1, generation: 4 },
      { id: 7, ok: false, error: { code: "ENOENT", message: "No such file: ü/€.bin" } },
      { id: 8, ok: true, result: { documents: [] } },
    ]) {
      const encoded = encodeMessage(msg);
      assert.equal(typeof encoded, "string");
      assert.deepEqual(decodeMessage(encoded), msg);
    }
  });

  it("a read reply travels as one binary frame with its bytes unencoded", () => {
    const bytes = new Uint8Array(65536).map((_, i) => (i * 7) & 0xff);
    const reply = { id: 9, ok: true, result: { docId: "d1", offset: 2 ** 33, bytes, generation: 2, size: 2 ** 34 } };
    const encoded = encodeMessage(reply);
    assert.ok(encoded instanceof Uint8Array);
    // header + raw bytes: far smaller than base64 would be.
    assert.ok(encoded.length < bytes.length + 200);
    const decoded = decodeMessage(encoded) as any;
    assert.deepEqual(Object.keys(decoded).sort(), ["id", "ok", "result"]);
    assert.deepEqual(Object.keys(decoded.result).sort(), ["bytes", "docId", "generation", "offset", "size"]);
    assert.ok(decoded.result.bytes instanceof Uint8Array);
    assert.deepEqual(Buffer.from(decoded.result.bytes), Buffer.from(bytes));
    assert.equal(decoded.result.offset, 2 ** 33);
    assert.equal(decoded.$bytes, undefined);
  });

  it("empty bytes, a Buffer, and a request carrying bytes", () => {
    const empty = decodeMessage(encodeMessage({ id: 1, ok: true, result: { bytes: new Uint8Array(0) } })) as any;
    assert.equal(empty.result.bytes.length, 0);
    const buf = decodeMessage(encodeMessage({ id: 2, ok: true, result: { bytes: Buffer.from("abc") } })) as any;
    assert.equal(Buffer.from(buf.result.bytes).toString(), "abc");
    const req = decodeMessage(encodeMessage({ id: 3, type: "edit", docId: "d1", offset: 5, bytes: new Uint8Array([1, 2, 3]) })) as any;
    assert.deepEqual([...req.bytes], [1, 2, 3]);
    assert.equal(req.offset, 5);
  });

  it("decodes a frame that is a view into a bigger buffer (ws hands over slices), and ArrayBuffer / Buffer[]", () => {
    const encoded = encodeMessage({ id: 1, ok: true, result: { bytes: new Uint8Array([9, 8, 7]) } }) as Uint8Array;
    const big = new Uint8Array(encoded.length + 20);
    big.set(encoded, 10);
    const view = big.subarray(10, 10 + encoded.length);
    const d1 = decodeMessage(view) as any;
    assert.deepEqual([...d1.result.bytes], [9, 8, 7]);
    assert.equal(d1.result.bytes.byteOffset, 0);
    const d2 = decodeMessage(view.slice().buffer) as any;
    assert.deepEqual([...d2.result.bytes], [9, 8, 7]);
    const d3 = decodeMessage([Buffer.from(view.subarray(0, 5)), Buffer.from(view.subarray(5))]) as any;
    assert.deepEqual([...d3.result.bytes], [9, 8, 7]);
  });

  it("refuses to encode what is not a plain object", () => {
    assert.throws(() => encodeMessage([] as unknown as object), CodecError);
    assert.throws(() => encodeMessage(new Date()), CodecError);
  });
});

describe("codec: malformed frames are CodecErrors", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const bad: Array<[string, unknown]> = [
    ["empty binary", new Uint8Array(0)],
    ["3 bytes", new Uint8Array([0, 0, 1])],
    ["header length 0", frame(0, "")],
    ["header length beyond the frame", frame(100, '{"$bytes":"bytes"}')],
    ["header length 2^32-1", frame(0xffffffff, '{"$bytes":"bytes"}')],
    ["header length over the maximum", frame(MAX_BINARY_HEADER + 1, "x".repeat(MAX_BINARY_HEADER + 1))],
    ["header not UTF-8", frame(3, new Uint8Array([0xff, 0xfe, 0xfd]))],
    ["header not JSON", frame(5, "{nope")],
    ["header a JSON array", frame(2, "[]")],
    ["header JSON null", frame(4, "null")],
    ["header JSON number", frame(1, "7")],
    ["no $bytes", frame(8, '{"id":1}')],
    ["$bytes elsewhere", frame(enc('{"$bytes":"result.__proto__"}').length, '{"$bytes":"result.__proto__"}')],
    ["$bytes not a string", frame(enc('{"$bytes":1}').length, '{"$bytes":1}')],
    ["result.bytes without result", frame(enc('{"id":1,"$bytes":"result.bytes"}').length, '{"id":1,"$bytes":"result.bytes"}')],
    ["result not an object", frame(enc('{"result":[1],"$bytes":"result.bytes"}').length, '{"result":[1],"$bytes":"result.bytes"}')],
    ["bytes already there", frame(enc('{"bytes":"x","$bytes":"bytes"}').length, '{"bytes":"x","$bytes":"bytes"}')],
    ["text not JSON", "{"],
    ["text JSON array", "[1,2]"],
    ["text JSON null", "null"],
    ["text JSON string", '"open"'],
    ["text empty", ""],
    ["a number", 5],
    ["null", null],
    ["an object", { id: 1 }],
  ];
  for (const [name, data] of bad) {
    it(name, () => {
      assert.throws(() => decodeMessage(data), CodecError);
    });
  }

  it("frames over the size limit", () => {
    assert.throws(() => decodeMessage("x".repeat(101), { maxFrameBytes: 100 }), /too large/);
    assert.throws(() => decodeMessage(new Uint8Array(101), { maxFrameBytes: 100 }), /too large/);
  });

  it("random bytes and truncated frames never throw anything but CodecError", () => {
    const rng = new Rng(99);
    const good = encodeMessage({ id: 1, ok: true, result: { docId: "d1", bytes: new Uint8Array(50).fill(3) } }) as Uint8Array;
    for (let i = 0; i < 2000; i++) {
      let data: Uint8Array;
      if (i % 3 === 0) data = good.subarray(0, rng.below(good.length));
      else if (i % 3 === 1) {
        data = good.slice();
        for (let k = 0; k < 3; k++) data[rng.below(data.length)] = rng.below(256);
      } else data = new Uint8Array(rng.below(64)).map(() => rng.below(256));
      try {
        const m = decodeMessage(data);
        assert.equal(typeof m, "object");
      } catch (e) {
        assert.ok(e instanceof CodecError, `threw ${e}`);
      }
    }
  });

  it("toFrame rejects unsupported inputs", () => {
    assert.throws(() => toFrame(123), CodecError);
    assert.throws(() => toFrame([1, 2]), CodecError);
  });
});
