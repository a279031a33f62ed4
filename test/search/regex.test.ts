// Regular-expression search (app/engine/regex.ts) against its oracles: `grep -obaP` (offsets of
// non-overlapping, leftmost-first matches, LC_ALL=C: bytes) and `rg --count-matches -a` (the
// count), on a generated log, on real binaries, across every piece and window boundary, past
// 4 GiB in a sparse file, over an edited document's pieces; catastrophic patterns finish.

import { test, after } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Editor } from "../../app/engine/editor";
import { compileRegex, fileRegexSource, regexMatches, regexSearch, snapshotRegexSource, MAX_MATCH, type RegexScanOptions, type RegexSource } from "../../app/engine/regex";
import { translateRegex, RegexSyntaxError } from "../../app/engine/regex-syntax";
import { cleanupFixtures, makeFile, makeTempDir, GiB, MiB, Rng } from "../fixtures";

after(cleanupFixtures);

const HEXMAP = path.resolve(__dirname, "..", "..", "..", "bin", "hexmap.js");
const hasRg = spawnSync("rg", ["--version"]).status === 0;

function grep(file: string, pattern: string, extra: string[] = [], locale = "C"): number[] {
  const r = spawnSync("grep", ["-obaP", ...extra, pattern, file], { env: { ...process.env, LC_ALL: locale }, maxBuffer: 1 << 30 });
  if (r.status === 1) return [];
  assert.equal(r.status, 0, `grep failed: ${r.stderr}`);
  const out: number[] = [];
  for (const line of r.stdout.toString("latin1").split("\n")) if (line) out.push(Number(line.slice(0, line.indexOf(":"))));
  return out;
}

async function collect(src: RegexSource, pattern: string, opts: { ignoreCase?: boolean; utf8?: boolean } = {}, scan: RegexScanOptions = {}): Promise<{ starts: number[]; ends: number[] }> {
  const re = compileRegex(pattern, opts);
  const starts: number[] = [], ends: number[] = [];
  for await (const b of regexMatches(src, re, scan)) {
    for (let i = 0; i < b.starts.length; i++) {
      starts.push(b.starts[i]!);
      ends.push(b.ends[i]!);
    }
  }
  return { starts, ends };
}

async function ours(file: string, pattern: string, opts: { ignoreCase?: boolean; utf8?: boolean } = {}, scan: RegexScanOptions = {}): Promise<number[]> {
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    return (await collect(src, pattern, opts, scan)).starts;
  } finally {
    src.close();
  }
}

/** A seeded log, lines of varied length, some long, with 5xx statuses, ids, users, tabs and high bytes. */
function makeLog(lines: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = rng.uint32();
    const status = r % 50 === 0 ? 500 + (r % 4) : r % 7 === 0 ? 404 : 200;
    const user = r % 9 === 0 ? ` user=${String.fromCharCode(65 + (r % 26), 65 + ((r >>> 5) % 26), 65 + ((r >>> 10) % 26))}${String(r % 10000).padStart(4, "0")}` : "";
    const pad = r % 97 === 0 ? " " + "x".repeat(rng.below(20000)) : "";
    const hi = r % 13 === 0 ? "\xe9\xff\t" : "";
    parts.push(`2026-11-24T0${r % 10}:1${r % 10} GET id=${rng.uint32().toString(16).padStart(8, "0")} path=/api/v1/items/${r % 1000} status=${status}${hi} took ${r % 997}ms${user}${pad}\n`);
    if (r % 31 === 0) parts.push("\n"); // empty lines
  }
  return Buffer.from(parts.join(""), "latin1");
}

const PATTERNS = [
  "status=5\\d\\d",
  "id=[0-9a-f]{8} path=/api",
  "[A-Z]{3}\\d{4}",
  "took \\d+ms$",
  "^2026-11-24T0[0-3]",
  "\\bitems/\\d{2}\\b",
  "v1/.*status=404",
  "x{3,7}",
  "[^ ]+ms",
  "(?:GET|PUT) id=a",
  "\\t took",
  "[\\x80-\\xff]+",
  "\\xe9\\xff",
  "\\d+ms(?i) USER",
  "x+$",
  "a|b",
  "^$",
  "=(\\d)\\d+ ",
  "[[:upper:]]{2,}\\d",
  "\\Qpath=/\\E\\w+",
];

test("log: every pattern gives grep -obaP's offsets, with and without the prefilter, in small pieces", async () => {
  const file = makeFile(makeLog(20000, 7), "log.txt");
  for (const p of PATTERNS) {
    const expected = grep(file, p);
    assert.deepEqual(await ours(file, p), expected, `prefilter ${p}`);
    assert.deepEqual(await ours(file, p, {}, { noPrefilter: true }), expected, `full scan ${p}`);
    // Pieces of 4093 bytes: starts and matches cross hundreds of piece boundaries.
    assert.deepEqual(await ours(file, p, {}, { noPrefilter: true, pieceSize: 4093 }), expected, `pieces ${p}`);
  }
});

test("ignore case: grep -obaPi's offsets (ASCII only: \\xe9 does not match \\xc9)", async () => {
  const file = makeFile(Buffer.concat([makeLog(3000, 11), Buffer.from("STATUS=501 Status=502 \xc9\xff \xe9\xff\n", "latin1")]), "case.txt");
  for (const p of ["status=5\\d\\d", "get id=[A-F0-9]{8}", "[a-c]+", "\\xe9\\xff", "user=[a-z]{3}"]) {
    assert.deepEqual(await ours(file, p, { ignoreCase: true }), grep(file, p, ["-i"]), p);
  }
});

test("real binaries: the same offsets as grep -obaP", async () => {
  const bins = ["/bin/ls", "/usr/bin/env", "/usr/bin/grep"].filter((f) => fs.existsSync(f));
  assert.ok(bins.length > 0, "no system binaries to test with");
  for (const file of bins) {
    for (const p of ["GLIBC_[0-9.]+", "[\\x20-\\x7e]{8,}", "\\x7fELF", "\\x00\\x00[\\x01-\\x08]\\x00", "[a-z_]+\\.so(?:\\.\\d+)*", "(?i)usage"]) {
      assert.deepEqual(await ours(file, p), grep(file, p), `${file} ${p}`);
    }
  }
});

test("UTF-8 mode: characters are whole sequences, offsets are bytes (grep -obaP in C.UTF-8)", async (t) => {
  if (!execFileSync("locale", ["-a"]).toString().split("\n").some((l) => /^C\.utf-?8$/i.test(l))) return t.skip("no C.UTF-8 locale");
  const file = makeFile(Buffer.from("caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac5 \xf0\x9f\x98\x80! x\xc3\xa9y\n\xc3\xa9\xc3\xa9\xc3\xa9 end\n", "latin1"), "u.txt");
  for (const p of ["[^a-z ]+", "caf.", "\u00e9+", ".\\d", "x.y", "[\u00e0-\u00ff]", "\\x{1F600}"]) {
    assert.deepEqual(await ours(file, p, { utf8: true }), grep(file, p, [], "C.UTF-8"), p);
  }
});

test("CLI: --regex prints grep's offsets; --count equals rg --count-matches", { skip: !hasRg && "ripgrep is not installed" }, async () => {
  const file = makeFile(makeLog(8000, 3), "cli.txt");
  for (const p of ["status=5\\d\\d", "id=[0-9a-f]{8} path=/api", "[A-Z]{3}\\d{4}", "[^ ]+ms"]) {
    const listed = execFileSync(process.execPath, [HEXMAP, "search", file, "--regex", p]).toString().trim().split("\n").filter(Boolean).map(Number);
    assert.deepEqual(listed, grep(file, p), p);
    const count = execFileSync(process.execPath, [HEXMAP, "search", file, "--regex", p, "--count"]).toString().trim();
    const rg = execFileSync("rg", ["--count-matches", "-a", p, file]).toString().trim();
    assert.equal(count, rg, p);
  }
});

test("CLI: an invalid pattern exits 2 with the reason and position; no match exits 1", () => {
  const file = makeFile("hello\n", "h.txt");
  const bad = spawnSync(process.execPath, [HEXMAP, "search", file, "--regex", "ab(cd"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.toString(), /missing closing parenthesis at position 3/);
  const back = spawnSync(process.execPath, [HEXMAP, "search", file, "--regex", "(a)\\1"]);
  assert.equal(back.status, 2);
  assert.match(back.stderr.toString(), /backreferences are not supported .* at position 4/);
  const none = spawnSync(process.execPath, [HEXMAP, "search", file, "--regex", "zz", "--count"]);
  assert.equal(none.status, 1);
  assert.equal(none.stdout.toString(), "0\n");
});

test("syntax: errors name what and where; unsupported constructs are refused", () => {
  const cases: [string, RegExp, number][] = [
    ["a(b", /missing closing parenthesis/, 1],
    ["ab)", /unmatched closing parenthesis/, 2],
    ["[abc", /missing terminating \]/, 0],
    ["a{3,2}", /out of order/, 2],
    ["*a", /quantifier does not follow/, 0],
    ["x(?=y)", /lookahead and lookbehind/, 1],
    ["x(?<!y)", /lookahead and lookbehind/, 1],
    ["(?>x)", /atomic groups/, 0],
    ["a++", /possessive/, 2],
    ["(a)\\1", /backreferences/, 3],
    ["\\p{L}", /Unicode properties/, 0],
    ["[z-a]", /range out of order/, 3],
    ["\\x{100}", /too large for byte mode/, 0],
    ["a\\", /at end of pattern/, 1],
    ["\\q", /unrecognized escape/, 0],
  ];
  for (const [p, what, pos] of cases) {
    assert.throws(() => translateRegex(p), (e: unknown) => e instanceof RegexSyntaxError && what.test(e.message) && e.position === pos, p);
  }
  assert.throws(() => compileRegex("a(b"), (e: { code?: string; message?: string }) => e.code === "EINVAL" && /position 2/.test(e.message ?? ""));
  // The required literal the prefilter uses, and where it sits.
  assert.deepEqual(translateRegex("id=[0-9a-f]{8} path=/api").literal, { bytes: [...Buffer.from(" path=/api")], fold: false, prefixMin: 11, prefixMax: 11 });
  assert.equal(translateRegex("a|bcd").literal, null);
  assert.equal(translateRegex("\\w+@example").literal?.prefixMax, Infinity);
});

test("catastrophic patterns finish (linear-time fallback) with the right answer", async () => {
  const dir = makeTempDir();
  const aaa = path.join(dir, "a.txt");
  fs.writeFileSync(aaa, "a".repeat(100_000) + "b\n" + "a".repeat(100_000) + "\n");
  const started = Date.now();
  const r1 = await ours(aaa, "(a+)+$");
  const r2 = await ours(aaa, "(a|aa)+c");
  const r3 = await ours(aaa, "(x+x+)+y|a{2}");
  assert.ok(Date.now() - started < 60_000, "took more than a minute");
  assert.deepEqual(r1, [100_002]); // the second line only: the first ends with b
  assert.deepEqual(r2, []);
  assert.equal(r3.length, 100_000);
});

test("long lines: a match up to MAX_MATCH across many pieces is one match; lines start and end right", async () => {
  const dir = makeTempDir();
  const file = path.join(dir, "long.txt");
  const n = 900 * 1024;
  fs.writeFileSync(file, "y" + "x".repeat(n) + "z\nxx\n" + "q".repeat(3 * MiB) + "END\n");
  assert.ok(n < MAX_MATCH);
  for (const pieceSize of [4096, 65536, undefined]) {
    const src = fileRegexSource({ path: file }, { sync: true });
    try {
      const r = await collect(src, "x+", {}, { noPrefilter: true, ...(pieceSize ? { pieceSize } : {}) });
      assert.deepEqual(r.starts, [1, n + 3]);
      assert.deepEqual(r.ends, [1 + n, n + 5]);
      const e = await collect(src, "q*END$", {}, { ...(pieceSize ? { pieceSize } : {}) });
      assert.deepEqual(e.starts, [n + 6 + 3 * MiB - MAX_MATCH], "a match reaches back at most MAX_MATCH in a longer line");
      const anchored = await collect(src, "^x", {}, { noPrefilter: true, ...(pieceSize ? { pieceSize } : {}) });
      assert.deepEqual(anchored.starts, [n + 3]);
    } finally {
      src.close();
    }
  }
});

test("sparse file past 4 GiB: matches at window boundaries, 4 GiB and the end are found once", async () => {
  const dir = makeTempDir();
  const file = path.join(dir, "sparse.bin");
  const size = 5 * GiB + 12345;
  const W = 64 * MiB;
  const spots = [0, W - 7, 2 * W - 1, 4 * GiB - 9, 4 * GiB + W - 3, size - 40];
  const fd = fs.openSync(file, "w");
  const expected: number[] = [];
  try {
    fs.ftruncateSync(fd, size);
    const rng = new Rng(99);
    for (const at of spots) {
      const id = rng.uint32().toString(16).padStart(8, "0");
      const text = Buffer.from(`\nid=${id} path=/api/x status=503\n`);
      fs.writeSync(fd, text, 0, text.length, at);
      expected.push(at + 1);
    }
  } finally {
    fs.closeSync(fd);
  }
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    const re = compileRegex("id=[0-9a-f]{8} path=/api");
    const all = await regexSearch(src, re, { direction: "all", maxHits: 100 });
    assert.deepEqual(all.hits, expected);
    assert.deepEqual(all.lengths, expected.map(() => 21));
    const next = await regexSearch(src, re, { direction: "forward", from: 4 * GiB - 20 });
    assert.deepEqual(next.hits, [4 * GiB - 8]);
    const prev = await regexSearch(src, re, { direction: "backward", from: 4 * GiB + W - 2 });
    assert.deepEqual(prev.hits, [4 * GiB - 8]);
    // The full scan over 5 GiB of mostly zeros, bounded pattern: the same.
    const full = await collect(src, "status=50\\d", {}, { noPrefilter: true });
    assert.deepEqual(full.starts, expected.map((e) => e + 24));
  } finally {
    src.close();
  }
});

test("edited document: matches in inserted bytes and across piece boundaries, exactly once, = grep over the edited bytes", async () => {
  const base = makeLog(30000, 5); // ~2.5 MiB: its long pieces are scanned natively for the literal
  const file = makeFile(base, "edit.txt");
  const ed = Editor.open(file, { readOnly: false });
  try {
    const rng = new Rng(42);
    for (let i = 0; i < 40; i++) {
      const at = rng.below(ed.size);
      const k = rng.below(3);
      // Pieces of match text cut in two by edits: "status=5" in one piece, "03" in the next.
      if (k === 0) ed.insert(at, Buffer.from(rng.below(2) ? "status=5" : "03 id=0123abcd path=/api"));
      else if (k === 1) ed.remove(at, Math.min(ed.size - at, 1 + rng.below(300)));
      else ed.insert(at, Buffer.from("\nstatus=599 x\n"));
    }
    const bytes = await ed.read(0, ed.size);
    const copy = makeFile(Buffer.from(bytes), "edited-copy.txt");
    const snap = ed.snapshot();
    const src = snapshotRegexSource(snap, ed.document);
    for (const p of ["status=5\\d\\d", "id=[0-9a-f]{8} path=/api", "\\d+ms$", "[A-Z]{3}\\d{4}"]) {
      const expected = grep(copy, p);
      assert.deepEqual((await collect(src, p)).starts, expected, `prefilter ${p}`);
      assert.deepEqual((await collect(src, p, {}, { noPrefilter: true, pieceSize: 8191 })).starts, expected, `full ${p}`);
    }
  } finally {
    ed.close();
  }
});

test("find next / previous / all and from/to bounds", async () => {
  const file = makeFile("ab ab\nab\nxab\n", "small.txt");
  const src = fileRegexSource({ path: file }, { sync: true });
  try {
    const re = compileRegex("ab");
    assert.deepEqual((await regexSearch(src, re, { direction: "forward", from: 1 })).hits, [3]);
    assert.deepEqual((await regexSearch(src, re, { direction: "backward", from: 10 })).hits, [6]);
    assert.deepEqual((await regexSearch(src, re, { direction: "backward", from: 0 })).hits, []);
    const all = await regexSearch(src, re, { direction: "all", maxHits: 2 });
    assert.deepEqual([all.hits, all.total], [[0, 3], 4]);
    const bounded = await regexSearch(src, compileRegex("ab$"), { direction: "all", to: 5 });
    assert.deepEqual(bounded.hits, [3], "`to` ends the text");
    const ac = new AbortController();
    ac.abort();
    const canceled = await regexSearch(src, re, { direction: "all" }, { signal: ac.signal });
    assert.equal(canceled.canceled, true);
  } finally {
    src.close();
  }
});
