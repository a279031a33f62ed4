// Command-line argument helpers shared by every `hexmap` subcommand.

/** A bad command line: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface ParsedNumber {
  value: number;
  /** Written with a leading '-' (e.g. `-s -16`: 16 bytes before the end). */
  negative: boolean;
}

const NUMBER = /^([+-]?)(0[xX][0-9a-fA-F]+|[0-9]+)$/;

/**
 * Parses a byte count or offset: decimal, or hex with 0x. An optional sign is reported, not
 * applied, so each command decides what `-N` means. The magnitude must be a safe integer.
 */
export function parseNumber(text: string, name: string): ParsedNumber {
  const m = NUMBER.exec(text.trim());
  if (!m) throw new UsageError(`${name} must be a number (decimal or 0x hex), got ${JSON.stringify(text)}`);
  const digits = m[2]!;
  const value = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : parseInt(digits, 10);
  if (!Number.isSafeInteger(value)) throw new UsageError(`${name} is too large: ${text} (the limit is 2^53 - 1)`);
  return { value, negative: m[1] === "-" };
}

/** A non-negative number; a leading '-' is a usage error. */
export function parseCount(text: string, name: string): number {
  const n = parseNumber(text, name);
  if (n.negative && n.value !== 0) throw new UsageError(`${name} must not be negative, got ${text}`);
  return n.value;
}

export interface OptionSpec {
  /** Long name without dashes, e.g. "offset". */
  long: string;
  /** One-letter short name, e.g. "s". */
  short?: string;
  /** Takes a value (else a boolean flag). */
  value: boolean;
}

export interface ParsedArgs {
  options: Map<string, string | true>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value`, `-x value`, `-xVALUE`, boolean flags and `--`. A value
 * is taken as-is even if it starts with '-' (so `-s -16` works). Unknown options are usage errors.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}`);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (arg.startsWith("-") && arg.length > 1) {
      spec = byShort.get(arg[1]!);
      if (!spec) throw new UsageError(`unknown option ${arg.slice(0, 2)}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`option --${spec.long} takes no value`);
      options.set(spec.long, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${spec.long} needs a value`);
      value = argv[++i]!;
    }
    options.set(spec.long, value);
  }
  return { options, positionals };
}
