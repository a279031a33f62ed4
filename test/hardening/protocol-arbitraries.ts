// fast-check generators for protocol messages, derived from the real request schemas
// (app/protocol/messages.ts `Request`, a zod discriminated union): every request type the
// protocol has today — including ones added after this file was written — gets valid-looking
// messages built field by field from its zod shape, then a share of them is damaged (a field
// replaced by a hostile value, a key dropped, an unknown key added, the type or the id broken,
// or the whole message replaced by a non-object).
//
// Field values are chosen by field name where the name says what the value addresses (ids,
// offsets, lengths, paths, section names), so the valid-looking messages reach deep paths: real
// document ids, offsets at the 4 GiB and end-of-file edges, paths of real fixtures. Every path a
// generator can produce lies inside the sandbox folder (or is a device or a refused form): the
// fuzzer writes files through save-as/export, and must never write outside it.

import fc from "fast-check";
import { MAX_EDIT_LENGTH, MAX_READ_LENGTH, Request } from "../../app/protocol/messages";

export interface FuzzWorld {
  /** Sandbox folder: every writable path is inside it. */
  dir: string;
  /** Paths worth opening/writing (fixtures, missing files, the folder, devices, refused forms). */
  paths: string[];
  /** Shared-memory names this run may create (unlinked afterwards). */
  shmNames: string[];
  /** Sizes of the fixtures, for offsets at their edges. */
  sizes: number[];
  /** Document ids most likely to exist ("d1", "d2", …). */
  likelyDocIds: string[];
}

type AnySchema = { _zod: { def: any } };

const TWO53 = 2 ** 53;
const FOUR_GIB = 2 ** 32;

/** Values no numeric field accepts, plus some that only look numeric. */
const hostileNumber = fc.constantFrom<unknown>(
  -1,
  -4096,
  0.5,
  1.000001,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  TWO53,
  TWO53 + 2,
  2 ** 64,
  1e308,
  -Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  "0",
  "4096",
  "0x10",
  null,
  true,
  [],
  [1],
  {},
  { valueOf: 1 },
);

/** Anything at all, for any field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  fc.constantFrom<unknown>(null, undefined, "", " ", "\u0000", "d1\n", "__proto__", "constructor", [], {}, [[[[]]]], false),
  fc.string({ maxLength: 40 }),
  fc.constant("x".repeat(70_000)),
  fc.object({ maxDepth: 2, maxKeys: 3 }),
  fc.array(fc.integer(), { maxLength: 5 }),
);

function offsetArb(world: FuzzWorld): fc.Arbitrary<number> {
  const edges: number[] = [0, 1, 15, 16, 4095, 4096, 65535, 65536, FOUR_GIB - 1, FOUR_GIB, FOUR_GIB + 1, Number.MAX_SAFE_INTEGER];
  for (const s of world.sizes) edges.push(Math.max(0, s - 1), s, s + 1, Math.max(0, s - 4096));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...edges) },
    { weight: 4, arbitrary: fc.nat(4096) },
    { weight: 2, arbitrary: fc.nat(Math.max(1, ...world.sizes.filter((s) => s < FOUR_GIB))) },
    { weight: 1, arbitrary: fc.nat({ max: Number.MAX_SAFE_INTEGER }) },
  );
}

function lengthArb(): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 4096 }) },
    { weight: 2, arbitrary: fc.constantFrom(0, 1, 16, 65536, 65537, 1 << 20) },
    { weight: 1, arbitrary: fc.constantFrom(MAX_READ_LENGTH, MAX_READ_LENGTH + 1, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1, 2 ** 31, FOUR_GIB, Number.MAX_SAFE_INTEGER) },
  );
}

/**
 * Stands for "the k-th document open right now": resolveDocTokens() swaps it for a live id when
 * the message is sent (ids are handed out at run time, and documents get closed along the way).
 */
export const DOC_TOKEN = "\u0001doc";

/** Replaces DOC_TOKEN placeholders in a message's top-level fields with ids from `open` (or "d1"). */
export function resolveDocTokens(message: unknown, open: readonly string[]): unknown {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return message;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message)) {
    if (typeof v === "string" && v.startsWith(DOC_TOKEN)) {
      const i = Number(v.slice(DOC_TOKEN.length));
      out[k] = open.length ? open[i % open.length] : "d1";
    } else {
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function docIdArb(world: FuzzWorld): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.nat(15).map((k) => `${DOC_TOKEN}${k}`) },
    { weight: 2, arbitrary: fc.constantFrom(...world.likelyDocIds) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 400 }).map((n) => `d${n}`) },
    { weight: 1, arbitrary: fc.constantFrom("d0", "d999999999", "d1000000000", "D1", "d-1", "d1 ", "d01", "d1.5", "", "doc1", "../d1") },
  );
}

const oversizeBytes = new Uint8Array(MAX_EDIT_LENGTH + 1);
const megaBytes = new Uint8Array((1 << 20) + 3).fill(0x5a);

function bytesArb(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(new Uint8Array(0), megaBytes, oversizeBytes) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>([1, 2, 3], "AQID", new Uint16Array([1, 2]), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4), { 0: 1, length: 1 }),
    },
  );
}

function pathArb(world: FuzzWorld): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...world.paths) },
    // Names relative to the sandbox (the fuzzer runs with the sandbox as its working folder).
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9._-]{1,20}$/) },
  );
}

function shmNameArb(world: FuzzWorld): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...world.shmNames) },
    { weight: 1, arbitrary: fc.constantFrom("", "/", "a/b", "Local\\x", "Global\\x", "..", "x".repeat(256), "hexmap-fuzz-missing-section") },
  );
}

const stringFieldArb = fc.oneof(fc.string({ maxLength: 16 }).filter((s) => !/[\\/]/.test(s)), fc.constantFrom("", "red", "#ff0000", "utf-8"));

/** A generator for one zod schema, by field name first, then by schema kind. */
function arbFor(schema: AnySchema, key: string, world: FuzzWorld, depth: number): fc.Arbitrary<unknown> {
  const def = schema._zod.def;
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
      return fc.option(arbFor(def.innerType, key, world, depth), { nil: undefined, freq: 6 });
    case "pipe":
      return arbFor(def.in, key, world, depth);
    case "literal":
      return fc.constantFrom(...(def.values as unknown[]));
    case "enum":
      return fc.constantFrom(...(Object.values(def.entries) as unknown[]));
  }
  if (key === "id") return fc.oneof({ weight: 9, arbitrary: fc.nat({ max: 1_000_000 }) }, { weight: 1, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER) });
  if (/docId$/i.test(key)) return docIdArb(world);
  if (key === "jobId") return fc.oneof(fc.integer({ min: 1, max: 50 }).map((n) => `j${n}`), fc.constantFrom("j0", "j", "x1"));
  if (/path$/i.test(key) || key === "file" || key === "target") return pathArb(world);
  if (key === "name" && depth === 1) return shmNameArb(world);
  switch (def.type) {
    case "number": {
      if (key === "byte") return fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(256, -1));
      if (key === "size") return fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), fc.constantFrom(0, 4096, 16 * 1024 ** 3, 16 * 1024 ** 3 + 1));
      if (key === "intervalMs") return fc.oneof(fc.integer({ min: 10, max: 1000 }), fc.constantFrom(0, 9, 60_000, 60_001));
      if (key === "slices") return fc.oneof(fc.integer({ min: 1, max: 512 }), fc.constantFrom(0, 4096, 1 << 20));
      if (/length|count/i.test(key)) return lengthArb();
      return offsetArb(world); // offset, from, to, and anything else numeric
    }
    case "string":
      return stringFieldArb;
    case "boolean":
      return fc.boolean();
    case "custom":
      return bytesArb();
    case "array":
      return fc.array(arbFor(def.element, key, world, depth + 1), { maxLength: depth > 1 ? 2 : 6 });
    case "union":
      return fc.oneof(...(def.options as AnySchema[]).map((o) => arbFor(o, key, world, depth)));
    case "object": {
      const entries = Object.entries(def.shape as Record<string, AnySchema>);
      return fc.tuple(...entries.map(([k, s]) => arbFor(s, k, world, depth + 1))).map((values) => {
        const out: Record<string, unknown> = {};
        entries.forEach(([k], i) => {
          if (values[i] !== undefined) out[k] = values[i];
        });
        return out;
      });
    }
    default:
      return hostileValue;
  }
}

/** The request types the protocol declares now, with their zod schemas. */
export function requestSchemas(): Array<{ type: string; schema: AnySchema }> {
  const options = (Request as unknown as AnySchema)._zod.def.options as AnySchema[];
  return options.map((o) => ({ type: o._zod.def.shape.type._zod.def.values[0] as string, schema: o }));
}

type Mutation =
  | { kind: "none" }
  | { kind: "replace"; pick: number; value: unknown }
  | { kind: "drop"; pick: number }
  | { kind: "extra"; key: string; value: unknown }
  | { kind: "type"; value: unknown }
  | { kind: "not-object"; value: unknown };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Mutation>({ kind: "none" }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("replace" as const), pick: fc.nat(), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("extra" as const),
      key: fc.constantFrom("__proto__", "constructor", "prototype", "extra", "$bytes", "result", "ok", "event"),
      value: hostileValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("type" as const), value: fc.oneof(fc.constantFrom<unknown>("nope", "OPEN", "read ", "", "__proto__", "toString", "hasOwnProperty", 1, null), fc.string({ maxLength: 12 })) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("not-object" as const), value: fc.oneof(fc.constantFrom<unknown>(null, undefined, 0, "", "list", [], [{ id: 1, type: "list" }], true), fc.json()) }) },
);

function mutate(message: Record<string, unknown>, m: Mutation): unknown {
  const keys = Object.keys(message);
  switch (m.kind) {
    case "none":
      return message;
    case "replace":
      return { ...message, [keys[m.pick % keys.length]!]: m.value };
    case "drop": {
      const out = { ...message };
      delete out[keys[m.pick % keys.length]!];
      return out;
    }
    case "extra": {
      // defineProperty: an own "__proto__" key, as JSON.parse makes it (a literal would set the prototype).
      const out = { ...message };
      Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      return out;
    }
    case "type":
      return { ...message, type: m.value };
    case "not-object":
      return m.value;
  }
}

/** One message: a valid-looking request of any declared type, damaged about a third of the time. */
export function messageArb(world: FuzzWorld): fc.Arbitrary<unknown> {
  // Closing, reverting and reloading undo the work of the others: sent less often.
  const weight = (type: string) => (type === "close" ? 1 : type === "revert" || type === "reload" ? 2 : type === "read" || type === "edit" ? 15 : 5);
  const perType = requestSchemas().map(({ type, schema }) => ({ weight: weight(type), arbitrary: arbFor(schema, "", world, 0) as fc.Arbitrary<Record<string, unknown>> }));
  return fc.tuple(fc.oneof(...perType), mutationArb).map(([message, m]) => mutate(message, m));
}

/** Raw WebSocket frames that are not well-formed messages (or only barely). */
export function garbageFrameArb(): fc.Arbitrary<string | Uint8Array> {
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n >>> 0, false);
    return b;
  };
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const enc = (s: string) => new TextEncoder().encode(s);
  const lyingBinary = fc
    .tuple(
      fc.oneof(fc.constantFrom(0, 1, 3, 0xffffffff, 0x80000000, 65536, 65537), fc.nat({ max: 200 })),
      fc.oneof(
        fc.constantFrom('{"$bytes":"bytes","id":1,"type":"edit","docId":"d1","offset":0}', '{"$bytes":"result.bytes","id":2}', '{"$bytes":"nope"}', '{"$bytes":"bytes","bytes":1}', "[]", "{", "\u00ff\u00fe"),
        fc.json(),
      ),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([len, header, payload]) => cat(u32(len), enc(header), payload));
  return fc.oneof(
    fc.uint8Array({ maxLength: 128 }),
    lyingBinary,
    fc.string({ maxLength: 200 }),
    fc.json().map((j) => j),
    fc.constantFrom(
      "",
      "null",
      "[]",
      "{}",
      '{"id":1,"type":"read","docId":"d1","offset":NaN,"length":1}',
      '{"id":1e400,"type":"list"}',
      '{"id":1,"type":"read","docId":"d1","offset":1e400,"length":1}',
      '{"id":1,"type":"list","__proto__":{"polluted":true}}',
      '{"id":1,"type":"list","constructor":{"prototype":{"polluted":true}}}',
      "[".repeat(100_000) + "]".repeat(100_000),
      '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000),
      '"' + "\\u0000".repeat(1000) + '"',
    ),
  );
}
