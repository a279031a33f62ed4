// Parsing what the user types as a size: a section's in "Create shared memory…", a count in
// "Insert bytes…", a length in "Delete range…": decimal, 0x hex, and binary units (KiB/MiB/GiB/TiB;
// K/M/G/T and KB/MB/GB/TB are taken as the same powers of 1024, as the Windows and Linux tools show
// sizes). Pure: unit-tested in e2e/shm-units.spec.ts and e2e/insert-units.spec.ts.

export type SizeResult = { ok: true; size: number } | { ok: false; error: string };

/** Largest size the host accepts for create-shm (MAX_SHM_CREATE_SIZE in the protocol). */
export const MAX_CREATE_SIZE = 16 * 1024 ** 3;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** 1024 → "1 KiB", 3 GiB → "3 GiB", else the bytes with digit groups. */
function sizeText(n: number): string {
  for (const [unit, v] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (n >= v && n % v === 0) return `${n / v} ${unit}`;
  }
  return `${n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")} bytes`;
}

/**
 * `what` names the thing in the errors ("A section needs at least 1 byte"). `max` is inclusive;
 * its error says `maxWhy` when given ("only 100 bytes follow the start").
 */
export function parseByteSize(input: string, max = MAX_CREATE_SIZE, what = "A section", maxWhy?: string): SizeResult {
  const text = input.trim().replace(/[_,]/g, "");
  if (!text) return { ok: false, error: "Enter a size: 4096, 0x1000, 64 KiB, 1 MiB" };
  const m = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  if (!m) return { ok: false, error: `"${input.trim()}" is not a size: use bytes (4096), hex (0x1000) or a unit (64 KiB, 1 MiB)` };
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return { ok: false, error: `Unknown unit "${m[2]}": use B, KiB, MiB, GiB or TiB` };
  const value = m[1]!.toLowerCase().startsWith("0x") ? parseInt(m[1]!, 16) : Number(m[1]);
  const size = value * unit;
  if (!Number.isSafeInteger(size)) return { ok: false, error: `${input.trim()} is not a whole number of bytes` };
  if (size < 1) return { ok: false, error: `${what} needs at least 1 byte` };
  if (size > max) return { ok: false, error: `${input.trim()} is too large: ${maxWhy ?? `at most ${sizeText(max)}`}` };
  return { ok: true, size };
}
