// The code that runs INSIDE the parser sandbox (a vm context with its own realm, no `require`, no
// `process`, no code generation from strings) together with the Kaitai runtime and the generated
// parser. It is never imported: parse-worker.ts reads this file's compiled text and evaluates it in
// the context, wrapped so that `exports` is a local object. So: no imports here (types only), and
// nothing from outside the context is ever handed in — only primitives (strings, numbers) cross,
// and bytes cross through a SharedArrayBuffer created here, inside the context.
//
// DocStream replaces the runtime's KaitaiStream: instead of an ArrayBuffer it reads the document
// on demand. A read it cannot serve from its page cache writes a request into the shared buffer
// and blocks (Atomics.wait) until the host's main thread has copied the bytes in from the
// document's snapshot. Memory is the page cache (PAGE_COUNT × PAGE_SIZE) plus what the parser
// itself keeps; a byte array larger than MAX_MATERIALIZE stays a window on the document (LazyBytes).

/* eslint-disable @typescript-eslint/no-explicit-any */

// Shared buffer layout (Int32 index / Float64 index).
const ST = 0; // i32: 0 idle, 1 request, 2 reply ready, 3 reply is an error message
const F_OFF = 1; // f64: request offset
const F_LEN = 2; // f64: request length
const F_GOT = 3; // f64: reply length
const F_NODES = 4; // f64: nodes so far (progress)
const F_POS = 5; // f64: furthest absolute offset read (progress)
const HEADER = 64;

const PAGE_SIZE = 64 * 1024;
const PAGE_COUNT = 64;
const MAX_MATERIALIZE = 16 * 1024 * 1024;

interface Params {
  /** Namespace/class of the root type (e.g. "Elf"). */
  root: string;
  types: TypeDesc[];
  docSize: number;
  /** Where the root stream starts in the document. */
  offset: number;
  maxNodes: number;
  maxHexBytes: number;
  waitMs: number;
}

/** What parse-worker tells the sandbox about each ksy type (from the YAML: the compiler keeps no types at run time). */
export interface TypeDesc {
  /** Class path: [Namespace, Nested, …]; the first is both the namespace object and its class. */
  path: string[];
  /** The ksy type name shown in the tree. */
  name: string;
  /** Default endianness: le, be, "switch" (calculated: the object's _is_le), or null. */
  endian: "le" | "be" | "switch" | null;
  /** JS property name → declared type and ksy id. */
  fields: Record<string, FieldDesc>;
  /** Instance ids, in the order of the ksy. */
  instances: string[];
}

export interface FieldDesc {
  /** The ksy id (the generated code names it in lowerCamelCase). */
  id?: string;
  /** Primitive ("u4", "s2be", "f8", "b3", "str", "strz", "bytes", "contents") or user type name, or "switch". */
  type: string;
  /** Case types of a switch. */
  cases?: string[];
  /** A string of fixed size (size: N with no terminator): editable in place. */
  fixedSize?: boolean;
  encoding?: string;
  value?: boolean;
}

export interface OutNode {
  name: string;
  type: string;
  offset: number;
  size: number;
  value?: number | string | boolean | null;
  enum?: string | null;
  enumType?: string;
  fields?: OutNode[];
  items?: OutNode[];
  error?: string;
  partial?: boolean;
  truncated?: boolean;
  /** Editable leaf: how its bytes encode the value. */
  edit?: { kind: "int" | "float" | "str"; size: number; signed?: boolean; le?: boolean; encoding?: string };
  /** Inside bytes a `process` transformed: offset/size are those of the raw bytes. */
  processed?: boolean;
  instance?: boolean;
}

let i32: Int32Array;
let f64: Float64Array;
let data: Uint8Array;
let params: Params;
let nodes = 0;
let furthest = 0;

class NodeCapError extends Error {
  constructor() {
    super("node cap reached");
    this.name = "NodeCapError";
  }
}

function bump(): void {
  nodes++;
  if ((nodes & 255) === 0) f64[F_NODES] = nodes;
  if (nodes > params.maxNodes) throw new NodeCapError();
}

/** The one channel to the host: created here so no object from outside the context is ever held. */
export function createChannel(dataBytes: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(HEADER + dataBytes);
  i32 = new Int32Array(sab, 0, 2);
  f64 = new Float64Array(sab, 0, 8);
  data = new Uint8Array(sab, HEADER);
  // Before the generated code is evaluated: its factory captures KaitaiStream once.
  installStream();
  return sab;
}

function hostRead(offset: number, length: number, into: Uint8Array, at: number): void {
  let done = 0;
  while (done < length) {
    const n = Math.min(length - done, data.length);
    f64[F_OFF] = offset + done;
    f64[F_LEN] = n;
    Atomics.store(i32, ST, 1);
    Atomics.notify(i32, ST);
    let waited = 0;
    while (Atomics.load(i32, ST) === 1) {
      if (Atomics.wait(i32, ST, 1, 1000) === "timed-out" && (waited += 1000) > params.waitMs) throw new Error("The host did not answer a read in time");
    }
    const st = Atomics.load(i32, ST);
    const got = f64[F_GOT]!;
    if (st === 3) {
      let msg = "";
      for (let k = 0; k < got; k++) msg += String.fromCharCode(data[k]!);
      Atomics.store(i32, ST, 0);
      throw new Error(msg);
    }
    into.set(data.subarray(0, got), at + done);
    Atomics.store(i32, ST, 0);
    if (got < n) throw new Error(`Short read at offset ${offset + done}`);
    done += n;
  }
  if (offset + length > furthest) {
    furthest = offset + length;
    f64[F_POS] = furthest;
  }
}

// ---- page cache -------------------------------------------------------------------------------

const pages = new Map<number, Uint8Array>();

function page(index: number): Uint8Array {
  let p = pages.get(index);
  if (p) {
    pages.delete(index);
    pages.set(index, p); // most recent last
    return p;
  }
  const start = index * PAGE_SIZE;
  const n = Math.min(PAGE_SIZE, params.docSize - start);
  p = new Uint8Array(n);
  hostRead(start, n, p, 0);
  pages.set(index, p);
  if (pages.size > PAGE_COUNT) pages.delete(pages.keys().next().value!);
  return p;
}

/** Bytes [abs, abs+n) of the document, copied. */
function docBytes(abs: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n > 2 * PAGE_SIZE) {
    hostRead(abs, n, out, 0);
    return out;
  }
  let done = 0;
  while (done < n) {
    const at = abs + done;
    const idx = Math.floor(at / PAGE_SIZE);
    const p = page(idx);
    const from = at - idx * PAGE_SIZE;
    const k = Math.min(n - done, p.length - from);
    if (k <= 0) throw new Error(`Read past the end of the document at ${at}`);
    out.set(p.subarray(from, from + k), done);
    done += k;
  }
  return out;
}

function docByte(abs: number): number {
  const idx = Math.floor(abs / PAGE_SIZE);
  return page(idx)[abs - idx * PAGE_SIZE]!;
}

// ---- streams ------------------------------------------------------------------------------------

/** Where a byte array came from in the document (so a substream over it knows its absolute offset). */
const origins = new WeakMap<object, number>();

/** A byte array too large to copy: a window on the document. */
class LazyBytes {
  constructor(
    readonly start: number,
    readonly length: number,
  ) {}
  get byteLength(): number {
    return this.length;
  }
}

let KS: any; // the runtime's KaitaiStream (for its statics and error classes)

/**
 * A KaitaiStream over the document window [base, base+size), or over bytes in memory (`mem`, for
 * processed data; base is then the raw bytes' offset and `processed` is set).
 */
function DocStream(this: any, arg: any, byteOffset?: number) {
  this.pos = 0;
  this.bits = 0;
  this.bitsLeft = 0;
  this.mem = null;
  this.processed = false;
  if (arg instanceof LazyBytes) {
    this.base = arg.start;
    this.len = arg.length;
  } else if (arg instanceof Uint8Array) {
    this.mem = arg;
    this.len = arg.length;
    const o = origins.get(arg);
    if (o === undefined) this.processed = true;
    this.base = o ?? -1;
  } else if (arg && typeof arg === "object" && arg.__hexmapDoc === true) {
    this.base = arg.base;
    this.len = arg.size;
  } else {
    // new KaitaiStream(ArrayBuffer) from user expressions: memory, not part of the document.
    this.mem = new Uint8Array(arg instanceof ArrayBuffer ? arg : new ArrayBuffer(0), byteOffset ?? 0);
    this.len = this.mem.length;
    this.base = -1;
    this.processed = true;
  }
}

function installStream(): any {
  KS = (globalThis as any).KaitaiStream;
  const P = Object.create(KS.prototype);
  DocStream.prototype = P;
  Object.setPrototypeOf(DocStream, KS); // statics: error classes, bytesToStr, byteArrayCompare…
  P.constructor = DocStream;
  Object.defineProperty(P, "size", { get(this: any) { return this.len; } });
  Object.defineProperty(P, "byteOffset", { get(this: any) { return this.base; } });
  Object.defineProperty(P, "buffer", { get() { throw new Error("The document is not in memory: no ArrayBuffer to give"); } });
  P.isEof = function (this: any) {
    return this.pos >= this.len && this.bitsLeft === 0;
  };
  P.seek = function (this: any, pos: number) {
    const n = Math.max(0, Math.min(this.len, pos));
    this.pos = Number.isFinite(n) ? n : 0;
  };
  P.ensureBytesLeft = function (this: any, n: number) {
    if (this.pos + n > this.len) throw new KS.EOFError(n, this.len - this.pos);
  };
  /** n bytes at pos as a Uint8Array (copied), pos advanced. */
  P._take = function (this: any, n: number): Uint8Array {
    bump();
    this.ensureBytesLeft(n);
    const at = this.pos;
    this.pos += n;
    if (this.mem) {
      const out = this.mem.slice(at, at + n);
      if (!this.processed) origins.set(out, this.base + at);
      return out;
    }
    const out = docBytes(this.base + at, n);
    origins.set(out, this.base + at);
    return out;
  };
  P._view = function (this: any, n: number): DataView {
    const b = this._take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  };
  const ints: [string, number, (v: DataView) => number][] = [
    ["readS1", 1, (v) => v.getInt8(0)],
    ["readU1", 1, (v) => v.getUint8(0)],
    ["readS2be", 2, (v) => v.getInt16(0)],
    ["readS2le", 2, (v) => v.getInt16(0, true)],
    ["readU2be", 2, (v) => v.getUint16(0)],
    ["readU2le", 2, (v) => v.getUint16(0, true)],
    ["readS4be", 4, (v) => v.getInt32(0)],
    ["readS4le", 4, (v) => v.getInt32(0, true)],
    ["readU4be", 4, (v) => v.getUint32(0)],
    ["readU4le", 4, (v) => v.getUint32(0, true)],
    // 64-bit values as Numbers, as the runtime does; the tree re-reads unsafe ones exactly.
    ["readS8be", 8, (v) => Number(v.getBigInt64(0))],
    ["readS8le", 8, (v) => Number(v.getBigInt64(0, true))],
    ["readU8be", 8, (v) => Number(v.getBigUint64(0))],
    ["readU8le", 8, (v) => Number(v.getBigUint64(0, true))],
    ["readF4be", 4, (v) => v.getFloat32(0)],
    ["readF4le", 4, (v) => v.getFloat32(0, true)],
    ["readF8be", 8, (v) => v.getFloat64(0)],
    ["readF8le", 8, (v) => v.getFloat64(0, true)],
  ];
  for (const [name, n, get] of ints) {
    P[name] = function (this: any) {
      return get(this._view(n));
    };
  }
  P.readBytes = function (this: any, len: number) {
    if (len > MAX_MATERIALIZE && !this.mem) {
      bump();
      this.ensureBytesLeft(len);
      const lazy = new LazyBytes(this.base + this.pos, len);
      this.pos += len;
      return lazy;
    }
    return this._take(len);
  };
  P.readBytesFull = function (this: any) {
    return this.readBytes(this.len - this.pos);
  };
  P.mapUint8Array = function (this: any, len: number) {
    return this._take(len);
  };
  const byteAt = (s: any, i: number): number => (s.mem ? s.mem[i] : docByte(s.base + i));
  P.readBytesTerm = function (this: any, term: number, include: boolean, consume: boolean, eosError: boolean) {
    let i = this.pos;
    const limit = Math.min(this.len, this.pos + MAX_MATERIALIZE);
    while (i < limit && byteAt(this, i) !== term) i++;
    if (i === limit && limit < this.len) throw new Error(`No terminator ${term} within ${MAX_MATERIALIZE} bytes`);
    if (i === this.len) {
      if (eosError) throw new Error(`End of stream reached, but no terminator ${term} found`);
      return this._take(i - this.pos);
    }
    const arr = this._take(i - this.pos + (include ? 1 : 0));
    if (consume && !include) this.pos += 1;
    if (!consume && include) this.pos -= 1;
    return arr;
  };
  P.readBytesTermMulti = function (this: any, term: Uint8Array, include: boolean, consume: boolean, eosError: boolean) {
    const unit = term.length;
    let i = this.pos;
    const limit = Math.min(this.len, this.pos + MAX_MATERIALIZE);
    for (; i + unit <= limit; i += unit) {
      let eq = true;
      for (let k = 0; k < unit; k++) if (byteAt(this, i + k) !== term[k]) eq = false;
      if (eq) {
        const arr = this._take(i - this.pos + (include ? unit : 0));
        if (consume && !include) this.pos += unit;
        if (!consume && include) this.pos -= unit;
        return arr;
      }
    }
    if (eosError) throw new Error(`End of stream reached, but no terminator [${Array.from(term).join(",")}] found`);
    return this._take(this.len - this.pos);
  };
  P.ensureFixedContents = function (this: any, expected: ArrayLike<number>) {
    const actual = this._take(expected.length);
    for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) throw new KS.UnexpectedDataError(expected, actual);
    return actual;
  };
  const S: any = DocStream;
  S.bytesToStr = function (arr: any, encoding: string) {
    if (arr instanceof LazyBytes) throw new Error(`A string of ${arr.length} bytes is too long to show`);
    return decode(arr, encoding);
  };
  const tooBig = (data: any) => {
    if (data instanceof LazyBytes) throw new Error(`${data.length} bytes are too many to process in memory`);
  };
  for (const name of ["processXorOne", "processXorMany", "processRotateLeft"]) {
    const orig = KS[name];
    S[name] = function (data: any, ...rest: any[]) {
      tooBig(data);
      return orig.call(KS, data, ...rest);
    };
  }
  S.processZlib = function () {
    throw new Error("process: zlib is not supported in the sandbox (the parser has no zlib)");
  };
  (globalThis as any).KaitaiStream = DocStream;
  return DocStream;
}

// ---- text ---------------------------------------------------------------------------------------

function decode(arr: Uint8Array, encoding: string | null | undefined): string {
  const enc = (encoding ?? "ascii").toLowerCase().replace(/[^a-z0-9]/g, "");
  let s = "";
  if (enc === "utf8") {
    for (let i = 0; i < arr.length; ) {
      const b = arr[i]!;
      let cp = 0xfffd;
      let n = 1;
      if (b < 0x80) cp = b;
      else if (b >= 0xc2 && b < 0xe0 && (arr[i + 1]! & 0xc0) === 0x80) {
        cp = ((b & 0x1f) << 6) | (arr[i + 1]! & 0x3f);
        n = 2;
      } else if (b >= 0xe0 && b < 0xf0 && (arr[i + 1]! & 0xc0) === 0x80 && (arr[i + 2]! & 0xc0) === 0x80) {
        cp = ((b & 0x0f) << 12) | ((arr[i + 1]! & 0x3f) << 6) | (arr[i + 2]! & 0x3f);
        n = 3;
      } else if (b >= 0xf0 && b < 0xf5 && (arr[i + 1]! & 0xc0) === 0x80 && (arr[i + 2]! & 0xc0) === 0x80 && (arr[i + 3]! & 0xc0) === 0x80) {
        cp = ((b & 0x07) << 18) | ((arr[i + 1]! & 0x3f) << 12) | ((arr[i + 2]! & 0x3f) << 6) | (arr[i + 3]! & 0x3f);
        n = 4;
      }
      s += String.fromCodePoint(cp);
      i += n;
    }
    return s;
  }
  if (enc === "utf16le" || enc === "utf16be" || enc === "ucs2") {
    const le = enc !== "utf16be";
    for (let i = 0; i + 1 < arr.length; i += 2) s += String.fromCharCode(le ? arr[i]! | (arr[i + 1]! << 8) : (arr[i]! << 8) | arr[i + 1]!);
    return s;
  }
  // ASCII, Latin-1, cp437 and anything else: one byte, one character (Latin-1).
  for (let i = 0; i < arr.length; i++) s += String.fromCharCode(arr[i]!);
  return s;
}

// ---- the tree -----------------------------------------------------------------------------------

const descOf = new Map<any, TypeDesc>();
let built = 0;
let treePartial = false;
let failure: { message: string; placed: boolean } | null = null;

function resolvePath(path: string[]): any {
  const g = globalThis as any;
  let cur = g[path[0]!]?.[path[0]!];
  for (let i = 1; i < path.length && cur; i++) cur = cur[path[i]!];
  return cur;
}

function resolveEnum(enumName: string): any {
  return resolvePath(enumName.split("."));
}

const HEX = "0123456789abcdef";
function hex(b: Uint8Array, max: number): { text: string; truncated: boolean } {
  const n = Math.min(b.length, max);
  let s = "";
  for (let i = 0; i < n; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return { text: s, truncated: n < b.length };
}

function isLe(obj: any, desc: TypeDesc | undefined): boolean | null {
  if (desc?.endian === "le") return true;
  if (desc?.endian === "be") return false;
  for (let o = obj; o; o = o._parent) if (typeof o._is_le === "boolean") return o._is_le;
  return null;
}

const PRIM = /^([us])([1248])(le|be)?$|^(f)([48])(le|be)?$|^b(\d+)(le|be)?$/;

/** The displayed type and the edit recipe of a number leaf. */
function numberType(decl: FieldDesc, size: number, obj: any, desc: TypeDesc | undefined): { type: string; edit?: OutNode["edit"] } {
  let t = decl.type;
  if (t === "switch") {
    const prims = (decl.cases ?? []).map((c) => PRIM.exec(c)).filter((m) => m && (m[1] || m[4]));
    const signed = prims.length > 0 && prims.every((m) => m![1] === "s");
    const float = prims.length > 0 && prims.every((m) => m![4] === "f");
    const endians = new Set(prims.map((m) => m![3] ?? m![6] ?? ""));
    const e = endians.size === 1 ? [...endians][0] : "";
    t = `${float ? "f" : signed ? "s" : "u"}${size}${e}`;
  }
  const m = PRIM.exec(t);
  if (!m) return { type: t };
  if (m[7] !== undefined) return { type: t }; // bit fields: not editable as bytes
  const le = m[3] ?? m[6] ? (m[3] ?? m[6]) === "le" : size === 1 ? true : isLe(obj, desc);
  const full = size === 1 ? t : m[3] || m[6] ? t : le === null ? t : `${t}${le ? "le" : "be"}`;
  if (le === null) return { type: full };
  return { type: full, edit: m[4] ? { kind: "float", size, le } : { kind: "int", size, signed: m[1] === "s", le } };
}

function exactInteger(abs: number, size: number, signed: boolean, le: boolean): string | null {
  if (abs < 0 || size !== 8) return null;
  try {
    const b = docBytes(abs, 8);
    const v = new DataView(b.buffer);
    return (signed ? v.getBigInt64(0, le) : v.getBigUint64(0, le)).toString();
  } catch {
    return null;
  }
}

interface DebugEntry {
  start?: number;
  end?: number;
  ioOffset?: number;
  enumName?: string;
  validationError?: unknown;
  arr?: DebugEntry[];
}

function errText(e: unknown): string {
  if (e && typeof e === "object") {
    const m = (e as any).message;
    const n = (e as any).name ?? (e as any).constructor?.name;
    if (typeof m === "string" && m) return n && n !== "Error" ? `${n}: ${m}` : m;
    if (typeof n === "string") return n;
  }
  return String(e);
}

function place(node: OutNode, pending: boolean): void {
  if (!pending || !failure || failure.placed) return;
  failure.placed = true;
  if (failure.message === "NodeCap") node.partial = true;
  else node.error = failure.message;
}

function base(io: any): number {
  return io && typeof io.base === "number" ? io.base : -1;
}

/** A node for one value read at debug entry `d` of stream `io`. */
function valueNode(name: string, value: any, d: DebugEntry | undefined, decl: FieldDesc | undefined, obj: any, desc: TypeDesc | undefined, io: any, fallback: { offset: number; size: number }): OutNode | null {
  if (built >= params.maxNodes) {
    treePartial = true;
    return null;
  }
  built++;
  const b = d && typeof d.ioOffset === "number" ? d.ioOffset : base(io);
  const hasPos = d && typeof d.start === "number" && b >= 0;
  const offset = hasPos ? b + d!.start! : fallback.offset;
  const size = hasPos && typeof d!.end === "number" ? d!.end! - d!.start! : hasPos ? 0 : fallback.size;
  const node: OutNode = { name, type: decl?.type ?? "?", offset, size };
  // A bit field inside a byte already read: debug positions are in bytes, so show that byte.
  if (size === 0 && hasPos && d!.start! > 0 && /^b\d+/.test(decl?.type ?? "")) {
    node.offset -= 1;
    node.size = 1;
  }
  if (!hasPos && d && typeof d.start === "number") node.processed = true;
  const failedHere = !!d && typeof d.start === "number" && typeof d.end !== "number";
  if (d?.validationError !== undefined && failure && !failure.placed) {
    failure.placed = true;
    node.error = errText(d.validationError);
  }
  if (value instanceof LazyBytes) {
    node.type = decl?.type === "contents" ? "contents" : "bytes";
    node.value = hex(docBytes(value.start, Math.min(value.length, params.maxHexBytes)), params.maxHexBytes).text;
    node.truncated = true;
  } else if (value instanceof Uint8Array) {
    node.type = decl?.type === "contents" ? "contents" : "bytes";
    const h = hex(value, params.maxHexBytes);
    node.value = h.text;
    if (h.truncated) node.truncated = true;
  } else if (typeof value === "string") {
    node.type = "str";
    node.value = value;
    if (decl?.fixedSize && !node.processed) node.edit = { kind: "str", size, encoding: decl.encoding ?? "ASCII" };
  } else if (typeof value === "boolean") {
    node.type = decl?.type ?? "b1";
    node.value = value;
  } else if (typeof value === "number") {
    if (decl?.value) {
      node.type = "value";
    } else {
      const t = numberType(decl ?? { type: "?" }, size, obj, desc);
      node.type = t.type;
      if (t.edit && !node.processed) node.edit = t.edit;
    }
    if (Number.isSafeInteger(value) || !Number.isInteger(value)) {
      node.value = Number.isFinite(value) ? value : String(value);
    } else {
      node.value = (node.edit?.kind === "int" ? exactInteger(offset, 8, !!node.edit.signed, !!node.edit.le) : null) ?? BigInt(value).toString();
    }
    if (d?.enumName) {
      node.enumType = d.enumName;
      const e = resolveEnum(d.enumName);
      const nm = e && Object.prototype.hasOwnProperty.call(e, value) ? e[value] : undefined;
      node.enum = typeof nm === "string" ? nm.toLowerCase() : null;
    }
  } else if (Array.isArray(value)) {
    node.items = [];
    const arr = d?.arr ?? [];
    for (let i = 0; i < value.length; i++) {
      const item = valueNode(`${name}[${i}]`, value[i], arr[i], decl, obj, desc, io, { offset, size: 0 });
      if (!item) {
        node.partial = true;
        break;
      }
      node.items.push(item);
    }
    // The item being read when it failed (pushed by the generated code's finally, or never assigned).
    if (failedHere && failure && !failure.placed && arr.length > value.length) {
      const last = arr[arr.length - 1];
      const item = valueNode(`${name}[${value.length}]`, undefined, last, decl, obj, desc, io, { offset, size: 0 });
      if (item) node.items.push(item);
      if (item) place(item, true);
    }
  } else if (value && typeof value === "object" && value._debug) {
    structInto(node, value);
    if (decl && decl.type === "switch") node.type = descOf.get(value.constructor)?.name ?? node.type;
  } else if (value === undefined || value === null) {
    node.value = null;
  } else {
    node.value = String(value);
  }
  place(node, failedHere);
  return node;
}

function structInto(node: OutNode, obj: any): void {
  const desc = descOf.get(obj.constructor);
  node.type = desc?.name ?? node.type;
  node.fields = [];
  const dbg: Record<string, DebugEntry> = obj._debug ?? {};
  const io = obj._io;
  const here = { offset: node.offset, size: node.size };
  for (const key of Object.keys(dbg)) {
    if (key.startsWith("_m_")) continue;
    const child = valueNode(desc?.fields[key]?.id ?? key, obj[key], dbg[key], desc?.fields[key], obj, desc, io, here);
    if (!child) {
      node.partial = true;
      return;
    }
    node.fields.push(child);
  }
  for (const inst of desc?.instances ?? []) {
    let value: any;
    let err: string | null = null;
    try {
      value = obj[inst];
    } catch (e) {
      err = e instanceof NodeCapError ? "NodeCap" : errText(e);
    }
    const child = valueNode(desc?.fields[inst]?.id ?? inst, value, dbg[`_m_${inst}`], desc?.fields[inst], obj, desc, io, here);
    if (!child) {
      node.partial = true;
      return;
    }
    child.instance = true;
    if (err === "NodeCap") {
      child.partial = true;
      treePartial = true;
    } else if (err) child.error = err;
    node.fields.push(child);
  }
}

/** Parses and returns the tree as JSON text: {tree, partial, error?, nodes}. */
export function run(paramsJson: string): string {
  params = JSON.parse(paramsJson) as Params;
  nodes = 0;
  built = 0;
  treePartial = false;
  failure = null;
  const Stream = (globalThis as any).KaitaiStream;
  for (const t of params.types) {
    const cls = resolvePath(t.path);
    if (typeof cls !== "function") continue;
    descOf.set(cls, t);
    // Every struct counts as a node, so a repeat of empty structs also meets the cap.
    const read = cls.prototype._read;
    if (typeof read === "function" && !read.__hexmapCounted) {
      const counted = function (this: unknown) {
        bump();
        return read.call(this);
      };
      (counted as any).__hexmapCounted = true;
      cls.prototype._read = counted;
    }
  }
  const Root = resolvePath([params.root]);
  if (typeof Root !== "function") return JSON.stringify({ fatal: `The generated parser has no class ${params.root}` });
  const io = new (Stream as any)({ __hexmapDoc: true, base: params.offset, size: params.docSize - params.offset });
  const root = new Root(io, null, null);
  try {
    root._read();
  } catch (e) {
    failure = { message: e instanceof NodeCapError ? "NodeCap" : errText(e), placed: false };
  }
  const tree: OutNode = { name: descOf.get(Root)?.name ?? params.root, type: descOf.get(Root)?.name ?? params.root, offset: params.offset, size: io.pos };
  built = 1;
  try {
    structInto(tree, root);
  } catch (e) {
    if (!(e instanceof NodeCapError)) tree.error = `Building the tree failed: ${errText(e)}`;
    treePartial = true;
  }
  let maxEnd = params.offset + io.pos;
  for (const f of tree.fields ?? []) if (!f.instance && f.offset + f.size > maxEnd) maxEnd = f.offset + f.size;
  tree.size = maxEnd - params.offset;
  const capped = failure?.message === "NodeCap";
  if (failure && !failure.placed) {
    if (capped) tree.partial = true;
    else tree.error = failure.message;
  }
  const partial = treePartial || capped || nodes > params.maxNodes;
  if (partial) tree.partial = true;
  const out: Record<string, unknown> = { tree, partial, nodes: built };
  if (failure && !capped) out.error = failure.message;
  return JSON.stringify(out);
}
