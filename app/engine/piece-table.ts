// The document model for edits of any length (insert, delete, overwrite, replace) on files of any
// size: the document is a sequence of pieces kept in a persistent (path-copying) weight-balanced
// tree. A version is one root pointer, so a snapshot is O(1) and old versions stay valid while new
// ones are made; an edit is O(log pieces); reading a range is O(log pieces + pieces in it).
//
// The tree is balanced on piece counts with Adams' weight-balance parameters <delta 3, ratio 2>
// (the ones Haskell's Data.Map uses and Hirai & Yamamoto proved): every subtree's child has at most
// 3/4 of its pieces, so the depth stays below about 2.4·log2(pieces) — ~50 for 2 million pieces,
// shallow enough for recursion. An edit is split / link / merge on that tree, except the common
// edit inside one piece (typing, a scattered insert), which is one descent and one path copy.
//
// Nodes are small on purpose (a scattered one-byte insert adds two of them): the piece's fields
// sit inline in the node and a bytes piece keeps its ArrayBuffer and byte offset instead of a
// Uint8Array view, so a node is one 7-field object and nothing else. Piece objects are made only
// when a reader asks for them.

import { HexmapError, checkOffset } from "./errors";

/** One piece of the document. Never mutated. */
export type Piece =
  /** Bytes [start, start+length) of the original file. */
  | { readonly kind: "file"; readonly start: number; readonly length: number }
  /** Added bytes (length = bytes.length > 0). */
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  /** `length` bytes repeating `pattern`, starting at pattern[phase]: 10 GiB of a fill byte without 10 GiB of memory. */
  | { readonly kind: "fill"; readonly pattern: Uint8Array; readonly phase: number; readonly length: number };

/** A piece clipped to a range, with its position in the document. */
export interface Slice {
  readonly offset: number;
  /** Already clipped: its length is the slice's length. */
  readonly piece: Piece;
}

export function pieceLength(p: Piece): number {
  return p.kind === "bytes" ? p.bytes.length : p.length;
}

/** Sub-piece [from, to) (relative to the piece). bytes → subarray (no copy); fill → adjusted phase. */
export function clipPiece(p: Piece, from: number, to: number): Piece {
  checkOffset(from, "from");
  checkOffset(to, "to");
  const n = pieceLength(p);
  if (from > to || to > n) {
    throw new HexmapError("ERANGE", `Cannot take bytes [${from}, ${to}) of a piece of ${n} bytes`);
  }
  if (from === 0 && to === n) return p;
  switch (p.kind) {
    case "file":
      return { kind: "file", start: p.start + from, length: to - from };
    case "bytes":
      return { kind: "bytes", bytes: p.bytes.subarray(from, to) };
    case "fill":
      return { kind: "fill", pattern: p.pattern, phase: (p.phase + from) % p.pattern.length, length: to - from };
  }
}

// ---- nodes -------------------------------------------------------------------------------------

/** A fill piece's pattern. One per fill piece given to the table; clips and merges share it. */
class Fill {
  constructor(readonly pattern: Uint8Array) {}
}

/** What a node's piece is: null = file, a Fill = fill, else the ArrayBuffer of a bytes piece. */
type Data = null | Fill | ArrayBufferLike;

class Node {
  declare readonly left: Node | null;
  declare readonly right: Node | null;
  declare readonly data: Data;
  /** file: file offset; bytes: byte offset in `data`; fill: phase. */
  declare readonly start: number;
  /** This piece's length. */
  declare readonly length: number;
  /** Bytes in this subtree. */
  declare readonly len: number;
  /** Pieces in this subtree. */
  declare readonly count: number;

  constructor(left: Node | null, right: Node | null, data: Data, start: number, length: number, len: number, count: number) {
    const self = this as { -readonly [K in keyof Node]: Node[K] };
    self.left = left;
    self.right = right;
    self.data = data;
    self.start = start;
    self.length = length;
    self.len = len;
    self.count = count;
  }
}

// V8 tracks a representation per field. If the first nodes held only numbers in start/length/len,
// those fields would become "double" fields and every node would carry a boxed number for each of
// them (16 bytes apiece, 96 bytes per scattered insert) even where the value is a small integer.
// A node made with non-numbers first makes them tagged fields: small integers inline, a box only
// for values of 2^31 and up (14 bytes per scattered insert). It must stay alive: V8 forgets a
// shape, and what it learned about its fields, once no object has it.
const shapeSeed = new Node(null, null, null, undefined as unknown as number, undefined as unknown as number, undefined as unknown as number, 0);
Object.defineProperty(Node, "shapeSeed", { value: shapeSeed });

const DELTA = 3;
const RATIO = 2;

function size(t: Node | null): number {
  return t === null ? 0 : t.count;
}

function mk(left: Node | null, data: Data, start: number, length: number, right: Node | null): Node {
  return new Node(
    left,
    right,
    data,
    start,
    length,
    (left === null ? 0 : left.len) + length + (right === null ? 0 : right.len),
    (left === null ? 0 : left.count) + 1 + (right === null ? 0 : right.count),
  );
}

/** p's piece with the children l and r (p itself when they are its own). */
function re(p: Node, l: Node | null, r: Node | null): Node {
  if (p.left === l && p.right === r) return p;
  return mk(l, p.data, p.start, p.length, r);
}

function leaf(data: Data, start: number, length: number): Node {
  return mk(null, data, start, length, null);
}

/** p's piece with children l and r, restored to balance by one single or double rotation. */
function balance(p: Node, l: Node | null, r: Node | null): Node {
  const sl = size(l);
  const sr = size(r);
  if (sl + sr <= 1) return re(p, l, r);
  if (sr > DELTA * sl) {
    const rn = r!;
    const rl = rn.left;
    if (size(rl) < RATIO * size(rn.right)) return re(rn, re(p, l, rl), rn.right);
    const m = rl!;
    return re(m, re(p, l, m.left), re(rn, m.right, rn.right));
  }
  if (sl > DELTA * sr) {
    const ln = l!;
    const lr = ln.right;
    if (size(lr) < RATIO * size(ln.left)) return re(ln, ln.left, re(p, lr, r));
    const m = lr!;
    return re(m, re(ln, ln.left, m.left), re(p, m.right, r));
  }
  return re(p, l, r);
}

/** t with p's piece added first. */
function insertMin(t: Node | null, p: Node): Node {
  if (t === null) return re(p, null, null);
  return balance(t, insertMin(t.left, p), t.right);
}

/** t with p's piece added last. */
function insertMax(t: Node | null, p: Node): Node {
  if (t === null) return re(p, null, null);
  return balance(t, t.left, insertMax(t.right, p));
}

/** l, then p's piece, then r. */
function link(l: Node | null, p: Node, r: Node | null): Node {
  if (l === null) return insertMin(r, p);
  if (r === null) return insertMax(l, p);
  if (DELTA * l.count < r.count) return balance(r, link(l, p, r.left), r.right);
  if (DELTA * r.count < l.count) return balance(l, l.left, link(l.right, p, r));
  return re(p, l, r);
}

/** l, then r. */
function merge(l: Node | null, r: Node | null): Node | null {
  if (l === null) return r;
  if (r === null) return l;
  if (DELTA * l.count < r.count) return balance(r, merge(l, r.left), r.right);
  if (DELTA * r.count < l.count) return balance(l, l.left, merge(l.right, r));
  if (l.count > r.count) {
    const l2 = removeMax(l);
    return balance(removed!, l2, r);
  }
  const r2 = removeMin(r);
  return balance(removed!, l, r2);
}

/** The node removeMin / removeMax took out (its children are stale). */
let removed: Node | null = null;

function removeMin(t: Node): Node | null {
  if (t.left === null) {
    removed = t;
    return t.right;
  }
  return balance(t, removeMin(t.left), t.right);
}

function removeMax(t: Node): Node | null {
  if (t.right === null) {
    removed = t;
    return t.left;
  }
  return balance(t, t.left, removeMax(t.right));
}

function first(t: Node): Node {
  while (t.left !== null) t = t.left;
  return t;
}

function last(t: Node): Node {
  while (t.right !== null) t = t.right;
  return t;
}

/** A leaf with bytes [from, to) of p's piece. */
function clipNode(p: Node, from: number, to: number): Node {
  const d = p.data;
  const start = d instanceof Fill ? (p.start + from) % d.pattern.length : p.start + from;
  return leaf(d, start, to - from);
}

/** The right part of the last split(). */
let splitRight: Node | null = null;

/** The bytes of t before `off` (returned) and from `off` on (in splitRight). */
function split(t: Node | null, off: number): Node | null {
  if (t === null) {
    splitRight = null;
    return null;
  }
  const ll = t.left === null ? 0 : t.left.len;
  if (off < ll) {
    const a = split(t.left, off);
    splitRight = link(splitRight, t, t.right);
    return a;
  }
  if (off === ll) {
    splitRight = insertMin(t.right, t);
    return t.left;
  }
  const end = ll + t.length;
  if (off < end) {
    const cut = off - ll;
    splitRight = insertMin(t.right, clipNode(t, cut, t.length));
    return insertMax(t.left, clipNode(t, 0, cut));
  }
  if (off === end) {
    splitRight = t.right;
    return insertMax(t.left, t);
  }
  const b = split(t.right, off - end);
  return link(t.left, t, b);
}

/** True when b's piece continues a's: same file run, same buffer run, or the same pattern's phase. */
function mergeable(a: Node, b: Node): boolean {
  const da = a.data;
  const db = b.data;
  if (da instanceof Fill) {
    return db instanceof Fill && da.pattern === db.pattern && (a.start + a.length) % da.pattern.length === b.start;
  }
  return da === db && a.start + a.length === b.start;
}

function joined(a: Node, b: Node): Node {
  return leaf(a.data, a.start, a.length + b.length);
}

// ---- the fast path: an edit inside one piece ---------------------------------------------------
//
// Typing, overwriting and deleting a few bytes touch one piece X: X becomes 0 to 3 pieces (left
// part, new piece, right part). Then one descent finds X and its neighbours, and one path copy
// rebuilds the ancestors, sizing the untouched sibling from the parent's counts instead of reading
// it (in a tree far larger than the CPU caches every node read is a cache miss). Anything else, or
// a result that would have to merge with a piece outside X, goes the general split / link way.

/** The pieces that replace X (at most 3). */
const seq: Node[] = [];

function pushMerged(n: Node): void {
  const k = seq.length - 1;
  if (k >= 0 && mergeable(seq[k]!, n)) seq[k] = joined(seq[k]!, n);
  else seq.push(n);
}

/** The new root for replace(off, del, [n]) (n may be null: a delete), or undefined for the general path. */
function editInPiece(root: Node, off: number, del: number, n: Node | null): Node | null | undefined {
  // The piece q holding byte `off` (null at the end), with the ancestors that bound it.
  let t: Node | null = root;
  let base = 0;
  let q: Node | null = null;
  let qAt = 0;
  let predAnc: Node | null = null;
  let succAnc: Node | null = null;
  while (t !== null) {
    const at = base + (t.left === null ? 0 : t.left.len);
    if (off < at) {
      succAnc = t;
      t = t.left;
    } else if (off >= at + t.length) {
      predAnc = t;
      base = at + t.length;
      t = t.right;
    } else {
      q = t;
      qAt = at;
      break;
    }
  }
  // X is q, or the piece before q for an insert where q starts (typing extends what it typed).
  let x: Node;
  let xAt: number;
  let viaPred: boolean;
  const p = del === 0 && (q === null || off === qAt) ? (q === null || q.left === null ? predAnc : last(q.left)) : null;
  if (p !== null) {
    x = p;
    xAt = off - p.length;
    viaPred = true;
  } else if (q !== null) {
    x = q;
    xAt = qAt;
    viaPred = false;
  } else {
    return undefined;
  }
  const cutA = off - xAt;
  const cutB = off + del - xAt;
  if (cutB > x.length) return undefined;

  seq.length = 0;
  if (cutA > 0) seq.push(cutA === x.length ? x : clipNode(x, 0, cutA));
  if (n !== null) pushMerged(n);
  if (cutB < x.length) pushMerged(clipNode(x, cutB, x.length));
  const k = seq.length;
  // Where X's ends moved, the new end pieces must not continue X's neighbours (else: merge, the general way).
  if (cutA === 0 || cutB === x.length) {
    // X's neighbours: for q, from the descent; for the piece before q, q is the one after.
    const before = cutA > 0 || viaPred ? null : q!.left !== null ? last(q!.left) : predAnc;
    const after = cutB < x.length ? null : viaPred ? q : q!.right !== null ? first(q!.right) : succAnc;
    if (k === 0) {
      if (before !== null && after !== null && mergeable(before, after)) return undefined;
    } else {
      if (before !== null && mergeable(before, seq[0]!)) return undefined;
      if (after !== null && mergeable(seq[k - 1]!, after)) return undefined;
    }
  }
  let added = 0;
  for (let i = 0; i < k; i++) added += seq[i]!.length;
  const out = rebuild(root, xAt, added - x.length, k - 1);
  seq.length = 0;
  return out;
}

/** t with the piece starting at `rel` (X) replaced by seq; dLen and dCount are the changes. */
function rebuild(t: Node, rel: number, dLen: number, dCount: number): Node | null {
  const ll = t.left === null ? 0 : t.left.len;
  if (rel < ll) return up(t, rebuild(t.left!, rel, dLen, dCount), t.right, true, dLen, dCount);
  if (rel > ll) return up(t, t.left, rebuild(t.right!, rel - ll - t.length, dLen, dCount), false, dLen, dCount);
  switch (seq.length) {
    case 0:
      return merge(t.left, t.right);
    case 1: {
      const s = seq[0]!;
      return new Node(t.left, t.right, s.data, s.start, s.length, t.len + dLen, t.count);
    }
    case 2:
      return balance(seq[0]!, t.left, insertMin(t.right, seq[1]!));
    default:
      return link(insertMax(t.left, seq[0]!), seq[1]!, insertMin(t.right, seq[2]!));
  }
}

/** Ancestor t over its rebuilt child: the other child's size comes from t's counts, not from reading it. */
function up(t: Node, l: Node | null, r: Node | null, leftChanged: boolean, dLen: number, dCount: number): Node {
  if (dCount !== 0) {
    const changed = size(leftChanged ? l : r);
    const other = t.count - 1 - (changed - dCount);
    const sl = leftChanged ? changed : other;
    const sr = leftChanged ? other : changed;
    if (sl + sr > 1 && (sl > DELTA * sr || sr > DELTA * sl)) return balance(t, l, r);
  }
  return new Node(l, r, t.data, t.start, t.length, t.len + dLen, t.count + dCount);
}

function build(leaves: readonly Node[], lo: number, hi: number): Node | null {
  if (lo >= hi) return null;
  const mid = (lo + hi) >>> 1;
  const p = leaves[mid]!;
  return mk(build(leaves, lo, mid), p.data, p.start, p.length, build(leaves, mid + 1, hi));
}

function pieceOf(t: Node, from: number, to: number): Piece {
  const d = t.data;
  if (d === null) return { kind: "file", start: t.start + from, length: to - from };
  if (d instanceof Fill) {
    return { kind: "fill", pattern: d.pattern, phase: (t.start + from) % d.pattern.length, length: to - from };
  }
  return { kind: "bytes", bytes: new Uint8Array(d, t.start + from, to - from) };
}

/** Validated leaves for `pieces`, zero-length ones dropped and contiguous ones merged. */
function toLeaves(pieces: readonly Piece[]): Node[] {
  if (!Array.isArray(pieces)) throw new HexmapError("EINVAL", "pieces must be an array of pieces");
  const out: Node[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i] as Piece | undefined;
    let n: Node;
    switch (typeof p === "object" && p !== null ? p.kind : undefined) {
      case "file": {
        const f = p as Extract<Piece, { kind: "file" }>;
        checkOffset(f.start, `pieces[${i}].start`);
        checkOffset(f.length, `pieces[${i}].length`);
        if (!Number.isSafeInteger(f.start + f.length)) {
          throw new HexmapError("EINVAL", `pieces[${i}] ends past 2^53`);
        }
        if (f.length === 0) continue;
        n = leaf(null, f.start, f.length);
        break;
      }
      case "bytes": {
        const b = (p as Extract<Piece, { kind: "bytes" }>).bytes;
        if (!(b instanceof Uint8Array)) throw new HexmapError("EINVAL", `pieces[${i}].bytes must be a Uint8Array`);
        if (b.length === 0) continue;
        n = leaf(b.buffer, b.byteOffset, b.length);
        break;
      }
      case "fill": {
        const f = p as Extract<Piece, { kind: "fill" }>;
        if (!(f.pattern instanceof Uint8Array) || f.pattern.length === 0) {
          throw new HexmapError("EINVAL", `pieces[${i}].pattern must be a non-empty Uint8Array`);
        }
        checkOffset(f.phase, `pieces[${i}].phase`);
        if (f.phase >= f.pattern.length) {
          throw new HexmapError("EINVAL", `pieces[${i}].phase must be below the pattern's length ${f.pattern.length}, got ${f.phase}`);
        }
        checkOffset(f.length, `pieces[${i}].length`);
        if (f.length === 0) continue;
        n = leaf(new Fill(f.pattern), f.phase, f.length);
        break;
      }
      default:
        throw new HexmapError("EINVAL", `pieces[${i}] is not a file, bytes or fill piece`);
    }
    const prev = out[out.length - 1];
    if (prev !== undefined && mergeable(prev, n)) out[out.length - 1] = joined(prev, n);
    else out.push(n);
  }
  return out;
}

function total(leaves: readonly Node[]): number {
  let sum = 0;
  for (const n of leaves) sum += n.length;
  return sum;
}

function tooBig(bytes: number): HexmapError {
  return new HexmapError("ERANGE", `The document would be ${bytes} bytes, more than 2^53 - 1`);
}

function fail(message: string): never {
  throw new HexmapError("EINTERNAL", `PieceTable invariant broken: ${message}`);
}

// ---- the table ---------------------------------------------------------------------------------

export class PieceTable {
  readonly #root: Node | null;

  private constructor(root: Node | null) {
    this.#root = root;
  }

  static #empty: PieceTable | undefined;

  /** The empty table (one shared object). */
  static get empty(): PieceTable {
    return (PieceTable.#empty ??= new PieceTable(null));
  }

  /** One file piece [0, size) (or empty if size is 0). */
  static ofFile(size: number): PieceTable {
    checkOffset(size, "size");
    return size === 0 ? PieceTable.empty : new PieceTable(leaf(null, 0, size));
  }

  /** A table of `pieces` in order, built in O(n). Zero-length pieces are dropped and contiguous ones merged. */
  static fromPieces(pieces: readonly Piece[]): PieceTable {
    const leaves = toLeaves(pieces);
    const bytes = total(leaves);
    if (!Number.isSafeInteger(bytes)) throw tooBig(bytes);
    return leaves.length === 0 ? PieceTable.empty : new PieceTable(build(leaves, 0, leaves.length));
  }

  /** Total bytes, O(1). */
  get size(): number {
    return this.#root === null ? 0 : this.#root.len;
  }

  /** O(1). */
  get pieceCount(): number {
    return size(this.#root);
  }

  /**
   * New table: delete [offset, offset+deleteLength), then insert `pieces` there. Zero-length pieces
   * are ignored; a new piece is merged with a neighbour it continues (and the two sides of a pure
   * delete with each other), so typing stays few pieces and undoing an insert by a delete gives
   * back the single file piece.
   */
  replace(offset: number, deleteLength: number, pieces: readonly Piece[]): PieceTable {
    this.#checkRange(offset, deleteLength);
    return this.#apply(offset, deleteLength, toLeaves(pieces));
  }

  /** replace() with one bytes piece (`bytes` may be empty: a pure delete). */
  replaceBytes(offset: number, deleteLength: number, bytes: Uint8Array): PieceTable {
    this.#checkRange(offset, deleteLength);
    if (!(bytes instanceof Uint8Array)) throw new HexmapError("EINVAL", "bytes must be a Uint8Array");
    return this.#apply(offset, deleteLength, bytes.length === 0 ? [] : [leaf(bytes.buffer, bytes.byteOffset, bytes.length)]);
  }

  #checkRange(offset: number, deleteLength: number): void {
    checkOffset(offset, "offset");
    checkOffset(deleteLength, "deleteLength");
    const size = this.size;
    if (offset > size || offset + deleteLength > size) {
      throw new HexmapError(
        "ERANGE",
        `Cannot replace [${offset}, ${offset + deleteLength}) in a document of ${size} bytes`,
      );
    }
  }

  #apply(offset: number, deleteLength: number, leaves: Node[]): PieceTable {
    const newSize = this.size - deleteLength + total(leaves);
    if (!Number.isSafeInteger(newSize)) throw tooBig(newSize);
    if (leaves.length === 0 && deleteLength === 0) return this;
    if (leaves.length <= 1 && this.#root !== null) {
      const root = editInPiece(this.#root, offset, deleteLength, leaves.length === 0 ? null : leaves[0]!);
      if (root !== undefined) return root === null ? PieceTable.empty : new PieceTable(root);
    }

    let left = split(this.#root, offset);
    let right = splitRight;
    if (deleteLength > 0) {
      split(right, deleteLength);
      right = splitRight;
    }

    if (leaves.length === 0) {
      if (left !== null && right !== null) {
        const a = last(left);
        const b = first(right);
        if (mergeable(a, b)) return new PieceTable(link(removeMax(left), joined(a, b), removeMin(right)));
      }
      const root = merge(left, right);
      return root === null ? PieceTable.empty : new PieceTable(root);
    }

    if (left !== null) {
      const a = last(left);
      if (mergeable(a, leaves[0]!)) {
        leaves[0] = joined(a, leaves[0]!);
        left = removeMax(left);
      }
    }
    if (right !== null) {
      const b = first(right);
      const k = leaves.length - 1;
      if (mergeable(leaves[k]!, b)) {
        leaves[k] = joined(leaves[k]!, b);
        right = removeMin(right);
      }
    }
    if (leaves.length === 1) return new PieceTable(link(left, leaves[0]!, right));
    return new PieceTable(merge(merge(left, build(leaves, 0, leaves.length)), right)!);
  }

  /** Clipped pieces covering [start, end) in order (end clamped to size). */
  slices(start: number, end: number): Slice[] {
    checkOffset(start, "start");
    checkOffset(end, "end");
    const out: Slice[] = [];
    const stop = Math.min(end, this.size);
    if (start < stop) collect(this.#root!, 0, start, stop, out);
    return out;
  }

  /** The same as slices(), lazily: for walking millions of pieces without an array. */
  iterate(start: number, end: number): IterableIterator<Slice> {
    checkOffset(start, "start");
    checkOffset(end, "end");
    return walk(this.#root, start, Math.min(end, this.size));
  }

  /** All pieces in order (unclipped). */
  *pieces(): IterableIterator<Piece> {
    for (const s of walk(this.#root, 0, this.size)) yield s.piece;
  }

  /** True iff the table is exactly one file piece [0, fileSize) (or empty and fileSize 0): "unchanged". */
  isIdentity(fileSize: number): boolean {
    const t = this.#root;
    if (t === null) return fileSize === 0;
    return t.count === 1 && t.data === null && t.start === 0 && t.length === fileSize;
  }

  /** Fills `out` with the bytes [offset, offset+out.length), reading file pieces with readFile. For tests and small reads. */
  readSync(offset: number, out: Uint8Array, readFile: (fileOffset: number, length: number) => Uint8Array): void {
    checkOffset(offset, "offset");
    const end = offset + out.length;
    if (end > this.size) {
      throw new HexmapError("ERANGE", `Cannot read [${offset}, ${end}) from a document of ${this.size} bytes`);
    }
    if (out.length === 0) return;
    const slices: Slice[] = [];
    collect(this.#root!, 0, offset, end, slices);
    for (const { offset: at, piece } of slices) {
      const pos = at - offset;
      switch (piece.kind) {
        case "file": {
          const got = readFile(piece.start, piece.length);
          if (got.length < piece.length) {
            throw new HexmapError("EIO", `Read ${got.length} bytes of the file at offset ${piece.start}, wanted ${piece.length}`);
          }
          out.set(got.length === piece.length ? got : got.subarray(0, piece.length), pos);
          break;
        }
        case "bytes":
          out.set(piece.bytes, pos);
          break;
        case "fill":
          fillPattern(out, pos, piece.length, piece.pattern, piece.phase);
          break;
      }
    }
  }

  /** Depth of the tree (0 when empty). */
  depth(): number {
    return depthOf(this.#root);
  }

  /** Invariant check for tests: cached lengths and counts, balance, no empty or mergeable neighbour pieces. */
  check(): void {
    const prev: { node: Node | null } = { node: null };
    const t = this.#root;
    if (t !== null && !Number.isSafeInteger(t.len)) fail(`size ${t.len} is not a safe integer`);
    verify(t, prev);
  }
}

function depthOf(t: Node | null): number {
  return t === null ? 0 : 1 + Math.max(depthOf(t.left), depthOf(t.right));
}

function verify(t: Node | null, prev: { node: Node | null }): void {
  if (t === null) return;
  verify(t.left, prev);
  if (!Number.isSafeInteger(t.length) || t.length <= 0) fail(`piece length ${t.length}`);
  if (!Number.isSafeInteger(t.start) || t.start < 0) fail(`piece start ${t.start}`);
  const d = t.data;
  if (d instanceof Fill) {
    if (t.start >= d.pattern.length) fail(`fill phase ${t.start} of a ${d.pattern.length}-byte pattern`);
  } else if (d !== null) {
    if (t.start + t.length > d.byteLength) fail(`bytes [${t.start}, ${t.start + t.length}) of a ${d.byteLength}-byte buffer`);
  }
  if (prev.node !== null && mergeable(prev.node, t)) fail("two neighbour pieces that should have been merged");
  prev.node = t;
  verify(t.right, prev);
  const sl = size(t.left);
  const sr = size(t.right);
  if (t.count !== sl + 1 + sr) fail(`count ${t.count}, children ${sl} + ${sr}`);
  const len = (t.left === null ? 0 : t.left.len) + t.length + (t.right === null ? 0 : t.right.len);
  if (t.len !== len) fail(`cached length ${t.len}, computed ${len}`);
  if (sl + sr > 1 && (sl > DELTA * sr || sr > DELTA * sl)) fail(`unbalanced node: ${sl} and ${sr} pieces`);
}

function fillPattern(out: Uint8Array, pos: number, length: number, pattern: Uint8Array, phase: number): void {
  const end = pos + length;
  let i = pos;
  // Up to the pattern's end, then one whole pattern, then doubling copies of what is written
  // (each a whole number of periods, so the phase stays right).
  for (let j = phase; i < end && j < pattern.length; ) out[i++] = pattern[j++]!;
  if (i >= end) return;
  const from = i;
  const n = end - from;
  let filled = Math.min(pattern.length, n);
  out.set(pattern.subarray(0, filled), from);
  while (filled < n) {
    const chunk = Math.min(filled, n - filled);
    out.copyWithin(from + filled, from, from + chunk);
    filled += chunk;
  }
}

/** Appends the clipped slices of t (whose first byte is at `base`) overlapping [start, end). */
function collect(t: Node, base: number, start: number, end: number, out: Slice[]): void {
  const ll = t.left === null ? 0 : t.left.len;
  const at = base + ll;
  if (start < at && t.left !== null) collect(t.left, base, start, end, out);
  const stop = at + t.length;
  if (start < stop && end > at) {
    const from = Math.max(start, at);
    const to = Math.min(end, stop);
    out.push({ offset: from, piece: pieceOf(t, from - at, to - at) });
  }
  if (end > stop && t.right !== null) collect(t.right, stop, start, end, out);
}

function* walk(root: Node | null, start: number, end: number): IterableIterator<Slice> {
  if (root === null || start >= end) return;
  // Nodes still to visit, in reverse order, with the offset of their own piece.
  const nodes: Node[] = [];
  const offsets: number[] = [];
  let t: Node | null = root;
  let base = 0;
  while (t !== null) {
    const at = base + (t.left === null ? 0 : t.left.len);
    if (start < at) {
      nodes.push(t);
      offsets.push(at);
      t = t.left;
    } else if (start >= at + t.length) {
      base = at + t.length;
      t = t.right;
    } else {
      nodes.push(t);
      offsets.push(at);
      break;
    }
  }
  while (nodes.length > 0) {
    const n = nodes.pop()!;
    const at = offsets.pop()!;
    if (at >= end) return;
    const stop = at + n.length;
    const from = Math.max(start, at);
    const to = Math.min(end, stop);
    yield { offset: from, piece: pieceOf(n, from - at, to - at) };
    let c = n.right;
    while (c !== null) {
      nodes.push(c);
      offsets.push(stop + (c.left === null ? 0 : c.left.len));
      c = c.left;
    }
  }
}
