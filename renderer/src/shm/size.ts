// Parsing what the user types as a section size in "Create shared memory…": decimal, 0x hex, and
// binary units (KiB/MiB/GiB; K/M/G and KB/MB/GB are taken as the same powers of 1024, as the
// Windows and Linux tools show sizes). Pure: unit-tested in e2e/shm-units.spec.ts.

export type SizeResult = { ok: true; size: number } | { ok: false; error: string };

/** Largest size the host accepts for create-shm (MAX_SHM_CREATE_SIZE in the protocol). */
export const MAX_CREATE_SIZE = 16 * 1024 ** 3;

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

export function parseByteSize(input: string, max = MAX_CREATE_SIZE): SizeResult {
  const text = input.trim().replace(/[_,]/g, "");
  if (!text) return { ok: false, error: "Enter a size: 4096, 0x1000, 64 KiB, 1 MiB" };
  const m = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  if (!m) return { ok: false, error: `"${input.trim()}" is not a size: use bytes (4096), hex (0x1000) or a unit (64 KiB, 1 MiB)` };
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return { ok: false, error: `Unknown unit "${m[2]}": use B, KiB, MiB or GiB` };
  const value = m[1]!.toLowerCase().startsWith("0x") ? parseInt(m[1]!, 16) : Number(m[1]);
  const size = value * unit;
  if (!Number.isSafeInteger(size)) return { ok: false, error: `${input.trim()} is not a whole number of bytes` };
  if (size < 1) return { ok: false, error: "A section needs at least 1 byte" };
  if (size > max) return { ok: false, error: `${input.trim()} is too large: at most ${max / 1024 ** 3} GiB` };
  return { ok: true, size };
}
