// `hexmap lines` as users run it (process.execPath bin/hexmap.js): the count against wc -l, lines
// against sed -n byte for byte, exit codes.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Rng, cleanupFixtures, makeFile, makeTempDir } from "../fixtures";
import { Reference, makeText, onPath, sedLines, utf16, wcLines, writeBigText } from "./helpers";

const root = path.resolve(__dirname, "..", "..", "..");
const bin = path.join(root, "bin", "hexmap.js");
after(() => cleanupFixtures());
const noPeers = onPath("wc") && onPath("sed") ? false : "wc or sed is not available";

function hexmap(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [bin, "lines", ...args], { maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: String(r.stderr) };
}

describe("hexmap lines", { skip: noPeers }, () => {
  const files: Array<[string, Buffer | string]> = [
    ["empty", ""],
    ["no final newline", "a\nb\nc"],
    ["only newlines", "\n\n\n\n"],
    ["CRLF + empty lines", "x\r\n\r\n\r\ny\r\n"],
    ["generated", makeText(5, 200_000)],
    ["generated, no final newline", makeText(6, 100_000, { finalNewline: false })],
  ];
  for (const [name, contents] of files) {
    test(`count and lines equal wc -l and sed -n: ${name}`, () => {
      const file = makeFile(contents, "c.txt");
      const r = hexmap([file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), `${wcLines(file)}\n`);
      const ref = new Reference(Buffer.from(contents));
      const rng = new Rng(name.length);
      const picks: Array<[number, number]> = [
        [1, 1],
        [1, 3],
        [ref.lineCount, 1],
        [Math.max(1, ref.lineCount - 2), 10],
      ];
      for (let i = 0; i < 10; i++) picks.push([rng.between(1, Math.max(1, ref.lineCount)), rng.between(1, 50)]);
      for (const [n, m] of picks) {
        if (n < 1 || n > ref.lineCount) continue;
        const got = hexmap([file, "--line", String(n), "--count", String(m)]);
        assert.equal(got.status, 0, got.stderr);
        assert.ok(got.stdout.equals(sedLines(file, n, n + m - 1)), `--line ${n} --count ${m}`);
      }
    });
  }

  test("a 20 MB log: far lines and a wide range equal sed", () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "log.txt");
    writeBigText(file, 17, 20 * 1024 * 1024);
    const wc = wcLines(file);
    assert.equal(hexmap([file]).stdout.toString(), `${wc}\n`);
    for (const [n, m] of [
      [wc, 1],
      [Math.floor(wc / 2), 3],
      [1000, 20000],
    ] as const) {
      const got = hexmap([file, "-n", String(n), "-c", String(m)]);
      assert.equal(got.status, 0, got.stderr);
      assert.ok(got.stdout.equals(sedLines(file, n, n + m - 1)), `--line ${n} --count ${m}`);
    }
  });

  test("UTF-16 with BOM counts 2-byte units (auto), bytes with --encoding utf-8", () => {
    const file = makeFile(utf16("a\nb\n\u010ac\n", false), "u16.txt");
    assert.equal(hexmap([file]).stdout.toString(), "3\n");
    assert.equal(wcLines(file), 4); // wc counts the 0x0A byte inside U+010A
    assert.equal(hexmap([file, "--encoding", "utf-8"]).stdout.toString(), "4\n");
    const line2 = hexmap([file, "--line", "2"]);
    assert.ok(line2.stdout.equals(Buffer.from("b\n", "utf16le")));
  });

  test("exit codes and messages", () => {
    const file = makeFile("one\ntwo\n", "e.txt");
    const help = hexmap(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout.toString(), /wc -l/);
    for (const bad of [[], [file, "--line", "0"], [file, "--line", "x"], [file, "--count", "2"], [file, "--line", "1", "--count", "0"], [file, "--bogus"], [file, file], [file, "--encoding", "ebcdic"]]) {
      const r = hexmap(bad);
      assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^hexmap lines: /);
    }
    const past = hexmap([file, "--line", "3"]);
    assert.equal(past.status, 1);
    assert.match(past.stderr, /line 3 is past the end .* \(it has 2 lines\)/);
    assert.equal(past.stdout.length, 0);
    const missing = hexmap([path.join(path.dirname(file), "nope.txt")]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such file/);
    const dir = hexmap([path.dirname(file)]);
    assert.equal(dir.status, 1);
  });

  test("closing the pipe early is not an error", () => {
    const dir = makeTempDir("hexmap-lines-");
    const file = path.join(dir, "pipe.txt");
    writeBigText(file, 3, 8 * 1024 * 1024);
    const r = spawnSync("sh", ["-c", `"$0" "$1" lines "$2" --line 1 --count 1000000 | head -c 100 > /dev/null; echo "\${PIPESTATUS:-ok}"`, process.execPath, bin, file], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|EPIPE/);
  });
});
