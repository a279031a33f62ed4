// Output helpers shared by the `hexmap` subcommands that stream to stdout: backpressure, a quiet
// stop when the reader goes away (EPIPE, e.g. `| head`), and the common command-line prologue.

import type { Writable } from "node:stream";
import { HexmapError } from "../engine/errors";
import { UsageError } from "./args";

/** Thrown when the reader of our output went away (EPIPE): stop quietly. */
export class OutputClosed extends Error {}

export interface CliStreams {
  stdout?: Writable;
  stderr?: Writable;
}

/** Error codes that mean the reader went away, as most commands treat them. */
export const CLOSED_CODES: readonly string[] = ["EPIPE", "ERR_STREAM_DESTROYED", "ECONNRESET"];

/** Resolves on the stream's next "drain", "error" or "close", whichever comes first. */
export function waitForDrain(out: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("error", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("error", done);
    out.on("close", done);
  });
}

/**
 * Remembers the first error of a stream; `check()` rethrows it as OutputClosed (the reader went
 * away) or as an EIO HexmapError. Subclasses add their own write and flush.
 */
export class GuardedOutput {
  protected failure: Error | undefined;
  private readonly onError = (err: Error) => {
    this.failure ??= err;
  };

  constructor(
    protected readonly out: Writable,
    private readonly closedCodes: readonly string[] = CLOSED_CODES,
  ) {
    out.on("error", this.onError);
  }

  detach(): void {
    // Keep a no-op listener: a late EPIPE must not become an uncaught exception.
    this.out.off("error", this.onError);
    this.out.on("error", () => {});
  }

  protected check(): void {
    if (!this.failure) return;
    const code = (this.failure as { code?: string }).code;
    if (code !== undefined && this.closedCodes.includes(code)) throw new OutputClosed();
    throw new HexmapError("EIO", `Cannot write the output: ${this.failure.message}`, { cause: this.failure });
  }
}

/** Writes to a stream with backpressure; EPIPE becomes OutputClosed, other failures EIO. */
export class Output extends GuardedOutput {
  async write(chunk: Buffer | string): Promise<void> {
    this.check();
    if (!this.out.write(chunk)) await waitForDrain(this.out);
    this.check();
  }

  /** Waits until everything written so far has been handed to the OS. */
  async flush(): Promise<void> {
    this.check();
    if (this.out.writableEnded || this.out.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off("error", done);
        this.out.off("close", done);
        resolve();
      };
      this.out.once("error", done);
      this.out.once("close", done);
      this.out.write(Buffer.alloc(0), () => done());
    });
    this.check();
  }
}

/** An error's message for `hexmap CMD: …` lines (String(err) when it has none). */
export function errorText(err: unknown): string {
  const message = (err as { message?: unknown }).message;
  return typeof message === "string" ? message : String(err);
}

/**
 * The start every streaming command shares: parse the command line; a UsageError is printed as
 * `hexmap CMD: message` (exit 2), and "help" prints the usage (exit 0). Returns the parsed
 * arguments, or `{ exit }` with the status to return.
 */
export function parseCommandLine<T>(command: string, parse: () => T | "help", usage: string, stdout: Writable, stderr: Writable): { args: T } | { exit: number } {
  let args: T | "help";
  try {
    args = parse();
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`hexmap ${command}: ${err.message}\n`);
      return { exit: 2 };
    }
    throw err;
  }
  if (args === "help") {
    stdout.write(usage);
    return { exit: 0 };
  }
  return { args };
}
