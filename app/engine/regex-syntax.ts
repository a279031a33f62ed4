// The regular-expression dialect of `hexmap search --regex` and the search bar's Regex mode: the
// PCRE syntax that `grep -P` takes, minus what cannot run in linear time, translated into a
// JavaScript RegExp source that runs over a Latin-1 string of the bytes (one char per byte, so a
// string index is a byte offset). Pure TypeScript, no Node: the renderer checks patterns with
// this same parser while the user types.
//
// Semantics are grep's: a match never spans a newline (0x0A). The translation guarantees it:
// every character set loses \n, `^`/`$` run in JavaScript's multiline mode (line start / end), and
// nothing else can consume a newline. Case folding (`--ignore-case`, `(?i)`) folds ASCII letters
// only, as PCRE does in the C locale; it is done here (sets hold both cases) rather than with
// JavaScript's `i` flag, which would also fold Latin-1 letters like À/à.
//
// Byte mode (default): the subject is bytes; `.` and negated sets match any one byte except \n;
// \xHH is the byte HH. UTF-8 mode: the subject is UTF-8; a literal or a set member is matched as
// its UTF-8 bytes, `.` and negated sets match one whole UTF-8 character (2–4 bytes); \x{HHHH} is
// a code point. \d \w \s and POSIX classes are ASCII in both modes (PCRE without UCP).
//
// Refused, with the position: backreferences, lookahead/lookbehind, atomic groups, possessive
// quantifiers, recursion, conditionals, callouts, \G, \R, \X, Unicode properties — anything the
// linear-time engine cannot run.

export interface RegexOptions {
  ignoreCase?: boolean;
  /** Match UTF-8 characters instead of bytes. */
  utf8?: boolean;
}

/** The pattern is wrong at `position` (0-based index into the pattern text). */
export class RegexSyntaxError extends Error {
  readonly position: number;
  constructor(what: string, position: number) {
    super(`${what} at position ${position + 1}`);
    this.name = "RegexSyntaxError";
    this.position = position;
  }
}

/** A literal run every match contains, for a byte-search prefilter. */
export interface RequiredLiteral {
  bytes: number[];
  /** Some letter of the run matches either case: search it case-insensitively. */
  fold: boolean;
  /** Bytes of a match before the run: at least / at most (Infinity: unbounded). */
  prefixMin: number;
  prefixMax: number;
}

export interface TranslatedRegex {
  /** JavaScript RegExp source; compile with flags "gm" (the engine adds "l" to check it). */
  source: string;
  /** Capturing groups (for a later replace with $1…). */
  groups: number;
  /** Shortest and longest match in bytes (maxWidth Infinity: unbounded). */
  minWidth: number;
  maxWidth: number;
  literal: RequiredLiteral | null;
}

/** Code point ranges, sorted, disjoint, inclusive. */
type Ranges = [number, number][];

type Node =
  | { t: "set"; r: Ranges }
  | { t: "cat"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "rep"; item: Node; min: number; max: number; lazy: boolean }
  | { t: "group"; item: Node; capture: boolean; name?: string }
  | { t: "assert"; kind: "^" | "$" | "\\b" | "\\B" };

/** PCRE's limit on a counted repetition. */
const MAX_REPEAT = 65535;
const NL = 0x0a;

// ---- code point sets ----

function normalize(r: Ranges): Ranges {
  const s = r.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: Ranges = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function subtract(r: Ranges, cut: Ranges): Ranges {
  let out: Ranges = r.map(([a, b]) => [a, b]);
  for (const [c, d] of cut) {
    const next: Ranges = [];
    for (const [a, b] of out) {
      if (d < a || c > b) next.push([a, b]);
      else {
        if (a < c) next.push([a, c - 1]);
        if (d < b) next.push([d + 1, b]);
      }
    }
    out = next;
  }
  return out;
}

function addFold(r: Ranges): Ranges {
  const extra: Ranges = [];
  for (const [a, b] of r) {
    // A-Z ↔ a-z
    const lo1 = Math.max(a, 0x41), hi1 = Math.min(b, 0x5a);
    if (lo1 <= hi1) extra.push([lo1 + 32, hi1 + 32]);
    const lo2 = Math.max(a, 0x61), hi2 = Math.min(b, 0x7a);
    if (lo2 <= hi2) extra.push([lo2 - 32, hi2 - 32]);
  }
  return normalize([...r, ...extra]);
}

const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Ranges = [[0x09, 0x0d], [0x20, 0x20]];
const HSPACE_BYTES: Ranges = [[0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]];
const HSPACE_UTF8: Ranges = [[0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x180e, 0x180e], [0x2000, 0x200a], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]];
const VSPACE_BYTES: Ranges = [[0x0a, 0x0d], [0x85, 0x85]];
const VSPACE_UTF8: Ranges = [[0x0a, 0x0d], [0x85, 0x85], [0x2028, 0x2029]];

const POSIX: Record<string, Ranges> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: SPACE,
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

// ---- parser ----

interface Flags {
  i: boolean;
  x: boolean;
}

class Parser {
  private pos = 0;
  groups = 0;
  private names = new Set<string>();
  private readonly universe: Ranges;

  constructor(
    private readonly src: string,
    private readonly utf8: boolean,
  ) {
    this.universe = utf8 ? [[0, 0xd7ff], [0xe000, 0x10ffff]] : [[0, 0xff]];
  }

  fail(what: string, at = this.pos): never {
    throw new RegexSyntaxError(what, at);
  }

  parse(flags: Flags): Node {
    const node = this.alternation(flags);
    if (this.pos < this.src.length) this.fail("unmatched closing parenthesis");
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private skipExtended(flags: Flags): void {
    if (!flags.x) return;
    for (;;) {
      const c = this.src[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") this.pos++;
      else if (c === "#") {
        while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
      } else return;
    }
  }

  private alternation(flags: Flags): Node {
    const items: Node[] = [this.concatenation(flags)];
    while (this.peek() === "|") {
      this.pos++;
      items.push(this.concatenation(flags));
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  private concatenation(flags: Flags): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipExtended(flags);
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      // A flag-only group like (?i) changes the flags for the rest of this alternative.
      if (this.src.startsWith("(?", this.pos) && this.flagGroup(flags)) continue;
      const atom = this.atom(flags);
      if (atom === null) continue;
      items.push(this.quantified(atom, flags));
    }
    return items.length === 1 ? items[0]! : { t: "cat", items };
  }

  /** (?i) (?-i) (?x) …: applies them and returns true; (?i:…) and others: false (left to atom). */
  private flagGroup(flags: Flags): boolean {
    const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!m) return false;
    this.applyFlags(flags, m[1] ?? "", m[2] ?? "", this.pos + 2);
    this.pos += m[0].length;
    return true;
  }

  private applyFlags(flags: Flags, on: string, off: string, at: number): void {
    for (const [letters, value] of [[on, true], [off, false]] as const) {
      for (let k = 0; k < letters.length; k++) {
        const f = letters[k]!;
        if (f === "i") flags.i = value;
        else if (f === "x") flags.x = value;
        else if (f === "m" || f === "s" || f === "n" || f === "U" || f === "J") {
          // m, s: no effect (a match never spans lines); n, U, J: not supported.
          if (f === "U" || f === "J" || f === "n") this.fail(`the inline option (?${f}) is not supported`, at + k);
        } else this.fail(`unknown inline option "${f}"`, at + k);
      }
    }
  }

  private quantified(atom: Node, flags: Flags): Node {
    let node = atom;
    for (;;) {
      this.skipExtended(flags);
      const c = this.peek();
      let min: number, max: number;
      const at = this.pos;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 24));
        if (!m) return node; // not a quantifier: a literal "{" follows
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`number too big in {} quantifier (at most ${MAX_REPEAT})`, at + 1);
        if (max < min) this.fail("numbers out of order in {} quantifier", at + 1);
        this.pos += m[0].length - 1;
      } else return node;
      this.pos++;
      if (node.t === "assert") this.fail("nothing to repeat", at);
      let lazy = false;
      if (this.peek() === "?") {
        lazy = true;
        this.pos++;
      } else if (this.peek() === "+") this.fail("possessive quantifiers are not supported (they are not linear-time)", this.pos);
      node = { t: "rep", item: node, min, max, lazy };
    }
  }

  private set(r: Ranges, flags: Flags): Node {
    return { t: "set", r: flags.i ? addFold(normalize(r)) : normalize(r) };
  }

  private atom(flags: Flags): Node | null {
    const c = this.peek()!;
    const at = this.pos;
    if (c === "(") return this.group(flags);
    if (c === "[") return this.charClass(flags);
    this.pos++;
    if (c === ".") return { t: "set", r: subtract(this.universe, [[NL, NL]]) };
    if (c === "^") return { t: "assert", kind: "^" };
    if (c === "$") return { t: "assert", kind: "$" };
    if (c === "*" || c === "+" || c === "?") this.fail("quantifier does not follow a repeatable item", at);
    if (c === "\\") return this.escape(flags, at);
    const cp = this.literalCodePoint(at);
    return this.set([[cp, cp]], flags);
  }

  /** The code point of the literal character at `at` (pos is already past its first unit). */
  private literalCodePoint(at: number): number {
    const cp = this.src.codePointAt(at)!;
    if (cp > 0xffff) this.pos++;
    if (!this.utf8 && cp > 0xff) this.fail(`"${String.fromCodePoint(cp)}" is not a byte: use UTF-8 mode, or \\xHH for a byte`, at);
    return cp;
  }

  private group(flags: Flags): Node {
    const open = this.pos;
    this.pos++; // (
    let capture = true;
    let name: string | undefined;
    const inner: Flags = { ...flags };
    if (this.peek() === "?") {
      this.pos++;
      const c = this.peek();
      const rest = this.src.slice(this.pos, this.pos + 3);
      if (c === ":") {
        capture = false;
        this.pos++;
      } else if (c === "#") {
        const end = this.src.indexOf(")", this.pos);
        if (end < 0) this.fail("missing ) after (?# comment", open);
        this.pos = end + 1;
        return { t: "cat", items: [] };
      } else if (rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!")) {
        this.fail("lookahead and lookbehind are not supported (they are not linear-time)", open);
      } else if (c === ">") {
        this.fail("atomic groups are not supported (they are not linear-time)", open);
      } else if (c === "<" || c === "'" || (c === "P" && this.src[this.pos + 1] === "<")) {
        if (c === "P") this.pos++;
        const close = this.peek() === "'" ? "'" : ">";
        this.pos++;
        const m = /^[A-Za-z_][A-Za-z0-9_]{0,31}/.exec(this.src.slice(this.pos, this.pos + 40));
        if (!m) this.fail("group name must start with a letter or underscore", this.pos);
        name = m[0];
        this.pos += name.length;
        if (this.peek() !== close) this.fail(`syntax error in group name: expected ${close}`, this.pos);
        this.pos++;
        if (this.names.has(name)) this.fail(`two named groups have the same name "${name}"`, open);
        this.names.add(name);
      } else if (c === "P" && (this.src[this.pos + 1] === "=" || this.src[this.pos + 1] === ">")) {
        this.fail("backreferences and recursion are not supported (they are not linear-time)", open);
      } else {
        const m = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?:/.exec(this.src.slice(this.pos, this.pos + 40));
        if (!m) {
          if (c === "(" || c === "R" || c === "&" || (c !== undefined && /[0-9+\-|]/.test(c))) {
            this.fail("conditionals, recursion and branch reset groups are not supported", open);
          }
          if (c === "C") this.fail("callouts are not supported", open);
          this.fail("unrecognized character after (? or (?-", this.pos);
        }
        this.applyFlags(inner, m[1] ?? "", m[2] ?? "", this.pos);
        this.pos += m[0].length;
        capture = false;
      }
    }
    if (capture) this.groups++;
    const item = this.alternation(inner);
    if (this.peek() !== ")") this.fail("missing closing parenthesis", open);
    this.pos++;
    return { t: "group", item, capture, ...(name !== undefined ? { name } : {}) };
  }

  private hexDigits(at: number, braced: boolean): number {
    if (braced) {
      const end = this.src.indexOf("}", this.pos);
      const digits = end < 0 ? "" : this.src.slice(this.pos, end);
      if (end < 0 || !/^[0-9a-fA-F]{1,8}$/.test(digits)) this.fail("\\x{ must be followed by hex digits and }", at);
      this.pos = end + 1;
      return parseInt(digits, 16);
    }
    const m = /^[0-9a-fA-F]{0,2}/.exec(this.src.slice(this.pos, this.pos + 2))!;
    this.pos += m[0].length;
    return m[0].length === 0 ? 0 : parseInt(m[0], 16);
  }

  /** An escape that stands for characters: its set, or null when it is not one (\b, \A…). */
  private classEscape(flags: Flags, at: number, inClass: boolean): Ranges | null {
    const c = this.src[this.pos];
    if (c === undefined) this.fail("\\ at end of pattern", at);
    this.pos++;
    const notNl = (r: Ranges): Ranges => subtract(this.universe, r);
    switch (c) {
      case "d": return DIGIT;
      case "D": return notNl(DIGIT);
      case "w": return WORD;
      case "W": return notNl(WORD);
      case "s": return SPACE;
      case "S": return notNl(SPACE);
      case "h": return this.utf8 ? HSPACE_UTF8 : HSPACE_BYTES;
      case "H": return notNl(this.utf8 ? HSPACE_UTF8 : HSPACE_BYTES);
      case "v": return this.utf8 ? VSPACE_UTF8 : VSPACE_BYTES;
      case "V": return notNl(this.utf8 ? VSPACE_UTF8 : VSPACE_BYTES);
      case "N":
        if (inClass) this.fail("\\N is not supported in a class", at);
        return notNl([[NL, NL]]);
      case "t": return [[0x09, 0x09]];
      case "n": return [[0x0a, 0x0a]];
      case "r": return [[0x0d, 0x0d]];
      case "f": return [[0x0c, 0x0c]];
      case "e": return [[0x1b, 0x1b]];
      case "a": return [[0x07, 0x07]];
      case "x": {
        const braced = this.src[this.pos] === "{";
        if (braced) this.pos++;
        const cp = this.hexDigits(at, braced);
        return [[this.codeUnit(cp, at), this.codeUnit(cp, at)]];
      }
      case "o": {
        const m = /^\{([0-7]{1,11})\}/.exec(this.src.slice(this.pos, this.pos + 14));
        if (!m) this.fail("\\o must be followed by octal digits in {}", at);
        this.pos += m[0].length;
        const cp = this.codeUnit(parseInt(m[1]!, 8), at);
        return [[cp, cp]];
      }
      case "c": {
        const x = this.src[this.pos];
        if (x === undefined || x.charCodeAt(0) > 0x7e || x.charCodeAt(0) < 0x20) this.fail("\\c must be followed by a printable ASCII character", at);
        this.pos++;
        const v = x.toUpperCase().charCodeAt(0) ^ 0x40;
        return [[v, v]];
      }
      case "0": {
        const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos, this.pos + 2))!;
        this.pos += m[0].length;
        const v = parseInt("0" + m[0], 8);
        return [[v, v]];
      }
      case "b":
        if (inClass) return [[0x08, 0x08]];
        this.pos--;
        return null;
      case "p":
      case "P":
      case "X":
        this.fail("Unicode properties (\\p, \\P, \\X) are not supported", at);
      case "R":
        this.fail("\\R is not supported: a match never spans lines", at);
      case "G":
        this.fail("\\G is not supported", at);
      case "k":
      case "g":
        this.fail("backreferences are not supported (they are not linear-time)", at);
      case "C":
        this.fail("\\C is not supported", at);
      case "K":
        this.fail("\\K is not supported", at);
      default:
        if (c >= "1" && c <= "9") {
          if (inClass) {
            // PCRE: an octal escape inside a class.
            const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos, this.pos + 2))!;
            if (c > "7") this.fail(`\\${c} is not an octal escape`, at);
            this.pos += m[0].length;
            const v = parseInt(c + m[0], 8);
            return [[v, v]];
          }
          this.fail("backreferences are not supported (they are not linear-time)", at);
        }
        if (/[A-Za-z]/.test(c)) {
          if (!inClass && /[ABzZ]/.test(c)) {
            this.pos--;
            return null;
          }
          this.fail(`unrecognized escape \\${c}`, at);
        }
        {
          // An escaped punctuation character (or space) is itself.
          this.pos--;
          const cp = this.src.codePointAt(this.pos)!;
          this.pos += cp > 0xffff ? 2 : 1;
          return [[this.codeUnit(cp, at), this.codeUnit(cp, at)]];
        }
    }
  }

  /** A code point as a subject unit: a byte (byte mode, ≤ 0xFF) or a code point (UTF-8 mode). */
  private codeUnit(cp: number, at: number): number {
    if (!this.utf8 && cp > 0xff) this.fail(`character code point value ${cp.toString(16).toUpperCase()} is too large for byte mode (at most FF)`, at);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`character code point ${cp.toString(16).toUpperCase()} is not a valid Unicode scalar`, at);
    return cp;
  }

  private escape(flags: Flags, at: number): Node | null {
    if (this.src[this.pos] === "Q") {
      // \Q…\E: literal text.
      this.pos++;
      const end = this.src.indexOf("\\E", this.pos);
      const text = this.src.slice(this.pos, end < 0 ? this.src.length : end);
      this.pos = end < 0 ? this.src.length : end + 2;
      const items: Node[] = [];
      for (let k = 0; k < text.length; ) {
        const cp = text.codePointAt(k)!;
        if (!this.utf8 && cp > 0xff) this.fail(`"${String.fromCodePoint(cp)}" is not a byte: use UTF-8 mode, or \\xHH for a byte`, at + 2 + k);
        items.push(this.set([[cp, cp]], flags));
        k += cp > 0xffff ? 2 : 1;
      }
      return items.length === 1 ? items[0]! : { t: "cat", items };
    }
    if (this.src[this.pos] === "E") {
      this.pos++;
      return null; // a lone \E is ignored, as in PCRE
    }
    const r = this.classEscape(flags, at, false);
    if (r !== null) return this.set(r, flags);
    const c = this.src[this.pos]!;
    this.pos++;
    if (c === "b") return { t: "assert", kind: "\\b" };
    if (c === "B") return { t: "assert", kind: "\\B" };
    // \A, \z, \Z: the start / end of the subject, which is one line.
    return { t: "assert", kind: c === "A" ? "^" : "$" };
  }

  private charClass(flags: Flags): Node {
    const open = this.pos;
    this.pos++; // [
    let negate = false;
    if (this.peek() === "^") {
      negate = true;
      this.pos++;
    }
    const members: Ranges = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("missing terminating ] for character class", open);
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      const itemAt = this.pos;
      // POSIX class [:name:] / [:^name:]
      if (c === "[" && (this.src[this.pos + 1] === ":" || this.src[this.pos + 1] === "." || this.src[this.pos + 1] === "=")) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 16));
        if (m) {
          const r = POSIX[m[2]!];
          if (!r) this.fail(`unknown POSIX class name "${m[2]}"`, itemAt);
          members.push(...(m[1] ? subtract(this.universe, r) : r));
          this.pos += m[0].length;
          continue;
        }
        if (this.src[this.pos + 1] !== ":") this.fail("POSIX collating elements are not supported", itemAt);
      }
      const lo = this.classAtom(flags);
      if (lo.length === 1 && lo[0]![0] === lo[0]![1] && this.peek() === "-" && this.src[this.pos + 1] !== "]" && this.src[this.pos + 1] !== undefined) {
        const dash = this.pos;
        this.pos++;
        const hiAt = this.pos;
        if (this.peek() === "[" && this.src[this.pos + 1] === ":") {
          // [a-[:digit:]]: the dash is literal
          members.push(lo[0]!, [0x2d, 0x2d]);
          continue;
        }
        const hi = this.classAtom(flags);
        if (hi.length !== 1 || hi[0]![0] !== hi[0]![1]) this.fail("invalid range in character class", dash);
        if (hi[0]![0] < lo[0]![0]) this.fail("range out of order in character class", hiAt);
        members.push([lo[0]![0], hi[0]![0]]);
        continue;
      }
      members.push(...lo);
    }
    let r = normalize(members);
    if (flags.i) r = addFold(r);
    if (negate) r = subtract(this.universe, r);
    return { t: "set", r: normalize(r) };
  }

  /** One class member: a character or an escape's set. */
  private classAtom(flags: Flags): Ranges {
    const at = this.pos;
    const c = this.peek()!;
    this.pos++;
    if (c === "\\") {
      if (this.peek() === "Q") {
        // \Q…\E inside a class: its characters.
        this.pos++;
        const end = this.src.indexOf("\\E", this.pos);
        const text = this.src.slice(this.pos, end < 0 ? this.src.length : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const out: Ranges = [];
        for (const ch of text) {
          const cp = this.codeUnit(ch.codePointAt(0)!, at);
          out.push([cp, cp]);
        }
        return out;
      }
      if (this.peek() === "E") {
        this.pos++;
        return [];
      }
      return this.classEscape(flags, at, true)!;
    }
    const cp = this.literalCodePoint(at);
    return [[cp, cp]];
  }
}

// ---- widths and the required literal ----

function widths(n: Node, utf8: boolean): [number, number] {
  switch (n.t) {
    case "set": {
      if (n.r.length === 0) return [0, 0];
      if (!utf8) return [1, 1];
      const lo = n.r[0]![0], hi = n.r[n.r.length - 1]![1];
      return [utf8Length(lo), utf8Length(hi)];
    }
    case "assert":
      return [0, 0];
    case "group":
      return widths(n.item, utf8);
    case "cat":
      return n.items.reduce<[number, number]>((acc, it) => {
        const [a, b] = widths(it, utf8);
        return [acc[0] + a, acc[1] + b];
      }, [0, 0]);
    case "alt": {
      let min = Infinity, max = 0;
      for (const it of n.items) {
        const [a, b] = widths(it, utf8);
        min = Math.min(min, a);
        max = Math.max(max, b);
      }
      return [min === Infinity ? 0 : min, max];
    }
    case "rep": {
      const [a, b] = widths(n.item, utf8);
      return [a * n.min, b === 0 ? 0 : n.max === Infinity ? Infinity : b * n.max];
    }
  }
}

function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function utf8Bytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** The bytes a set stands for when it is one literal (one character, or one ASCII letter in both cases). */
function literalOf(n: Node, utf8: boolean): { bytes: number[]; fold: boolean } | null {
  if (n.t !== "set") return null;
  const r = n.r;
  if (r.length === 1 && r[0]![0] === r[0]![1]) {
    const cp = r[0]![0];
    return { bytes: utf8 ? utf8Bytes(cp) : [cp], fold: false };
  }
  if (r.length === 2 && r[0]![0] === r[0]![1] && r[1]![0] === r[1]![1] && r[1]![0] - r[0]![0] === 32 && r[0]![0] >= 0x41 && r[0]![0] <= 0x5a) {
    return { bytes: [r[1]![0]], fold: true };
  }
  return null;
}

/** The top level as a flat sequence (groups holding one concatenation are opened). */
function flatten(n: Node): Node[] {
  if (n.t === "cat") return n.items.flatMap(flatten);
  if (n.t === "group") return flatten(n.item);
  return [n];
}

function requiredLiteral(root: Node, utf8: boolean): RequiredLiteral | null {
  const items = flatten(root);
  let best: RequiredLiteral | null = null;
  let prefixMin = 0, prefixMax = 0;
  let run: { bytes: number[]; fold: boolean; prefixMin: number; prefixMax: number } | null = null;
  const close = () => {
    if (run && (!best || run.bytes.length > best.bytes.length)) best = run;
    run = null;
  };
  for (const it of items) {
    const lit = literalOf(it, utf8);
    if (lit) {
      if (!run) run = { bytes: [], fold: false, prefixMin, prefixMax };
      run.bytes.push(...lit.bytes);
      run.fold ||= lit.fold;
    } else if (it.t === "assert") {
      // zero width: does not break a run
    } else {
      close();
    }
    const [a, b] = widths(it, utf8);
    prefixMin += a;
    prefixMax += b;
  }
  close();
  return best;
}

// ---- emission ----

function hex2(b: number): string {
  return "\\x" + b.toString(16).padStart(2, "0");
}

function byteClass(r: Ranges): string {
  if (r.length === 1 && r[0]![0] === r[0]![1]) return hex2(r[0]![0]);
  return "[" + r.map(([a, b]) => (a === b ? hex2(a) : a + 1 === b ? hex2(a) + hex2(b) : `${hex2(a)}-${hex2(b)}`)).join("") + "]";
}

/** UTF-8 byte sequences for the code points [lo, hi] (no surrogates inside): each a list of byte ranges. */
function utf8Sequences(lo: number, hi: number, out: Ranges[]): void {
  const bounds = [0x7f, 0x7ff, 0xffff];
  for (const b of bounds) {
    if (lo <= b && hi > b) {
      utf8Sequences(lo, b, out);
      utf8Sequences(b + 1, hi, out);
      return;
    }
  }
  const n = utf8Length(lo);
  for (let i = 1; i < n; i++) {
    const m = (1 << (6 * i)) - 1;
    if ((lo & ~m) !== (hi & ~m)) {
      if ((lo & m) !== 0) {
        utf8Sequences(lo, lo | m, out);
        utf8Sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) !== m) {
        utf8Sequences(lo, (hi & ~m) - 1, out);
        utf8Sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  const a = utf8Bytes(lo), b = utf8Bytes(hi);
  out.push(a.map((x, k) => [x, b[k]!] as [number, number]));
}

function setSource(r: Ranges, utf8: boolean): string {
  const noNl = subtract(r, [[NL, NL]]);
  if (noNl.length === 0) return "[]"; // matches nothing (e.g. \n: a match never spans lines)
  if (!utf8) return byteClass(noNl);
  const ascii = normalize(noNl.map(([a, b]) => [a, Math.min(b, 0x7f)] as [number, number]).filter(([a, b]) => a <= b));
  const alts: string[] = [];
  if (ascii.length) alts.push(byteClass(ascii));
  const wide = noNl.filter(([, b]) => b >= 0x80).map(([a, b]) => [Math.max(a, 0x80), b] as [number, number]);
  const seqs: Ranges[] = [];
  for (const [a, b] of wide) utf8Sequences(a, b, seqs);
  for (const s of seqs) alts.push(s.map(([a, b]) => byteClass([[a, b]])).join(""));
  return alts.length === 1 ? alts[0]! : `(?:${alts.join("|")})`;
}

/** Is this emitted source one atom a quantifier can follow as is (a byte or a class)? */
function isAtom(src: string): boolean {
  return /^(?:\\x[0-9a-f]{2}|\[[^\]]*\])$/.test(src);
}

function emit(n: Node, utf8: boolean): string {
  switch (n.t) {
    case "set":
      return setSource(n.r, utf8);
    case "assert":
      return n.kind;
    case "cat":
      return n.items.map((it) => emit(it, utf8)).join("");
    case "alt":
      return n.items.map((it) => emit(it, utf8)).join("|");
    case "group": {
      const inner = emit(n.item, utf8);
      if (n.capture) return n.name !== undefined ? `(?<${n.name}>${inner})` : `(${inner})`;
      return `(?:${inner})`;
    }
    case "rep": {
      let inner = emit(n.item, utf8);
      const grouped = n.item.t === "group" || isAtom(inner);
      if (!grouped) inner = `(?:${inner})`;
      const q = n.min === 0 && n.max === Infinity ? "*" : n.min === 1 && n.max === Infinity ? "+" : n.min === 0 && n.max === 1 ? "?" : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return inner + q + (n.lazy ? "?" : "");
    }
  }
}

/** Parses and translates a pattern; throws RegexSyntaxError. */
export function translateRegex(pattern: string, options: RegexOptions = {}): TranslatedRegex {
  if (typeof pattern !== "string") throw new RegexSyntaxError("the pattern must be a string", 0);
  const utf8 = options.utf8 === true;
  const parser = new Parser(pattern, utf8);
  const root = parser.parse({ i: options.ignoreCase === true, x: false });
  const [minWidth, maxWidth] = widths(root, utf8);
  return { source: emit(root, utf8) || "(?:)", groups: parser.groups, minWidth, maxWidth, literal: requiredLiteral(root, utf8) };
}
