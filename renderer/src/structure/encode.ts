// A leaf's new value typed in the tree → its bytes, by the recipe the host sent (`edit`): integers
// (enums by their number) range-checked, floats, fixed-size strings padded with zero bytes.

import { parseInteger, writeFloat, writeInteger, type IntSize } from "../../../app/protocol/inspector";
import type { StructTreeNode } from "../../../app/protocol/structure";

export type Encoded = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export function encodeLeaf(node: StructTreeNode, text: string): Encoded {
  const e = node.edit;
  if (!e) return { ok: false, error: "This field cannot be edited here" };
  try {
    if (e.kind === "int") {
      const v = parseInteger(text);
      if (v === null) return { ok: false, error: "Type an integer (decimal or 0x hex)" };
      return { ok: true, bytes: writeInteger(v, e.size as IntSize, !!e.signed, !!e.le) };
    }
    if (e.kind === "float") {
      const v = Number(text.trim());
      if (text.trim() === "" || Number.isNaN(v) && text.trim().toLowerCase() !== "nan") return { ok: false, error: "Type a number" };
      return { ok: true, bytes: writeFloat(v, e.size as 4 | 8, !!e.le) };
    }
    const enc = (e.encoding ?? "ASCII").toLowerCase().replace(/[^a-z0-9]/g, "");
    let bytes: Uint8Array;
    if (enc === "utf8") bytes = new TextEncoder().encode(text);
    else {
      bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > (enc === "ascii" ? 0x7f : 0xff)) return { ok: false, error: `"${text[i]}" is not ${e.encoding ?? "ASCII"}` };
        bytes[i] = c;
      }
    }
    if (bytes.length > e.size) return { ok: false, error: `At most ${e.size} bytes (this text is ${bytes.length})` };
    const out = new Uint8Array(e.size);
    out.set(bytes);
    return { ok: true, bytes: out };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
