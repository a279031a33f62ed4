// "Copy as" formats for a selection's bytes: hex text, C/C++ array, Python bytes, Base64 and raw
// (the bytes as Latin-1 text). Pure functions, shared with the e2e checks.

export const COPY_FORMATS = [
  { id: "hex", label: "Hex text" },
  { id: "c", label: "C/C++ array" },
  { id: "python", label: "Python bytes" },
  { id: "base64", label: "Base64" },
  { id: "raw", label: "Raw (as text)" },
] as const;
export type CopyFormat = (typeof COPY_FORMATS)[number]["id"];

/** Largest selection the copy formats accept: the text is built in memory and put on the clipboard. */
export const COPY_AS_LIMIT = 16 * 1024 * 1024;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

function lines(count: number, per: number, line: (start: number, end: number) => string): string[] {
  const out: string[] = [];
  for (let s = 0; s < count; s += per) out.push(line(s, Math.min(count, s + per)));
  return out;
}

export function formatBytes(bytes: Uint8Array, format: CopyFormat, name = "data"): string {
  switch (format) {
    case "hex":
      return lines(bytes.length, 16, (s, e) => Array.from(bytes.subarray(s, e), (b) => HEX[b]).join(" ")).join("\n");
    case "c": {
      const body = lines(bytes.length, 12, (s, e) => "    " + Array.from(bytes.subarray(s, e), (b) => `0x${HEX[b]}`).join(", ")).join(",\n");
      return `unsigned char ${name}[${bytes.length}] = {\n${body}\n};`;
    }
    case "python": {
      const body = lines(bytes.length, 16, (s, e) => `    b"${Array.from(bytes.subarray(s, e), (b) => `\\x${HEX[b]!.toLowerCase()}`).join("")}"`);
      return body.length <= 1 ? `${name} = ${body[0]?.trim() ?? 'b""'}` : `${name} = (\n${body.join("\n")}\n)`;
    }
    case "base64": {
      let s = "";
      const CH = 0x8000;
      for (let i = 0; i < bytes.length; i += CH) s += String.fromCharCode(...bytes.subarray(i, i + CH));
      return btoa(s);
    }
    case "raw": {
      let s = "";
      const CH = 0x8000;
      for (let i = 0; i < bytes.length; i += CH) s += String.fromCharCode(...bytes.subarray(i, i + CH));
      return s;
    }
  }
}
