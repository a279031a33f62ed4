// `hexmap recover FILE [--forward|--back]`: deals with a save that was interrupted (crash, power
// loss, kill) and left `FILE.hexmap-journal` behind.
//
//   no flag     reports the journal's state and what each choice would do; changes nothing
//   --forward   finishes the save: writes the new bytes of every journaled range
//   --back      undoes it: writes the original bytes of every journaled range
// Either way the file is flushed and synced, then the journal is deleted. A damaged or incomplete
// journal was never applied (the file was not touched): either flag deletes it.
//
// Exit codes: 0 nothing to recover, or recovery done; 3 (no flag) a journal is waiting for a
// decision; 2 bad arguments; 1 I/O errors or a file changed since the journal was written.

import type { Writable } from "node:stream";
import { Editor } from "../engine/editor";
import type { RecoveryState } from "../engine/save";
import { UsageError, parseArgs } from "./args";

const USAGE = `Usage: hexmap recover FILE [--forward | --back]

Finishes or undoes a save of FILE that was interrupted (its journal FILE.hexmap-journal is there).
Without a flag, reports what it found and what each choice would do (exit 3 if a decision is
needed, 0 if there is nothing to recover).

  -f, --forward   finish the save: write the new bytes of every range in the journal
                  (a save that changed the size: resume its moves and writes where it stopped)
  -b, --back      undo the save: write the original bytes of every range in the journal
                  (a save that changed the size: only while it had not written anything yet)
  -h, --help      this text
`;

export interface CliIo {
  out: Writable;
  err: Writable;
}

function describeState(file: string, st: RecoveryState): string {
  const lines: string[] = [];
  if (st.journal === "none") {
    lines.push(`${file}: no interrupted save; nothing to recover.`);
    if (st.staleTemp) lines.push(`(a leftover temporary journal ${st.journalPath}.tmp is there: a save crashed before it touched the file; --forward or --back deletes it)`);
    return lines.join("\n") + "\n";
  }
  if (st.journal === "invalid") {
    return (
      `${file}: its save journal ${st.journalPath} is damaged or incomplete (${st.reason}).\n` +
      `A journal is only used once it is complete, so that save never touched the file: the file is as it was before it.\n` +
      `  --forward or --back: delete the journal (the file is not changed)\n`
    );
  }
  if (st.version === 2) return describeState2(file, st);
  const n = st.records ?? 0;
  const what: Record<string, string> = {
    old: "all the original bytes (the save had not started writing)",
    new: "all the new bytes (the save finished writing; only deleting the journal was missed)",
    mixed: `a mix: ${st.appliedRecords} of ${n} ranges hold the new bytes (the save was interrupted while writing)`,
    foreign: "bytes that are neither the original nor the new ones in some ranges: it was changed by another program since",
  };
  lines.push(`${file}: a save was interrupted. Its journal ${st.journalPath} (${st.journalBytes} bytes) is complete and verified.`);
  lines.push(`  ${n} range${n === 1 ? "" : "s"}, ${st.bytes} byte${st.bytes === 1 ? "" : "s"} to write; the file is ${st.fileSize} bytes${st.fileSize !== st.journalFileSize ? ` (the journal expected ${st.journalFileSize}: recovery will refuse)` : ""}.`);
  lines.push(`  The file now holds ${what[st.fileState ?? "mixed"]}.`);
  lines.push(`  --forward: finish the save (write the new bytes of all ${n} ranges), then delete the journal`);
  lines.push(`  --back:    undo the save (write the original bytes of all ${n} ranges), then delete the journal`);
  return lines.join("\n") + "\n";
}

/** A version-2 journal: an in-place save that changes the size (moves bytes), resumable forward only once started. */
function describeState2(file: string, st: RecoveryState): string {
  const steps = st.steps ?? 0;
  const done = st.stepsDone ?? 0;
  const what: Record<string, string> = {
    old: "its original bytes: the save had not started writing",
    new: "the new content: the save finished; only deleting the journal was missed",
    mixed: `a partly saved state: ${done} of ${steps} steps are done (bytes were moved within the file)`,
    foreign: `a size (${st.fileSize} bytes) that is neither the old nor the new one: it was changed by another program since; recovery will refuse`,
  };
  const lines = [
    `${file}: a save that changes its size (${st.journalFileSize} → ${st.newFileSize} bytes, in place) was interrupted. Its journal ${st.journalPath} (${st.journalBytes} bytes) is complete and verified.`,
    `  The file (now ${st.fileSize} bytes) holds ${what[st.fileState ?? "mixed"]}.`,
    `  --forward: finish the save from step ${done + 1 > steps ? steps : done + 1} of ${steps}, then delete the journal`,
    st.canGoBack
      ? `  --back:    abandon the save (the file was not touched), then delete the journal`
      : `  --back:    not possible: bytes were already moved within the file, so only --forward can give a whole file`,
  ];
  return lines.join("\n") + "\n";
}

/** `hexmap recover`: resolves to the exit code; prints errors itself. */
export async function runRecover(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  let file: string;
  let direction: "forward" | "back" | undefined;
  try {
    const { options, positionals } = parseArgs(argv, [
      { long: "forward", short: "f", value: false },
      { long: "back", short: "b", value: false },
      { long: "help", short: "h", value: false },
    ]);
    if (options.has("help")) {
      io.out.write(USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "missing FILE (usage: hexmap recover FILE [--forward|--back])" : `expected one FILE, got ${positionals.length}`);
    if (options.has("forward") && options.has("back")) throw new UsageError("give --forward or --back, not both");
    file = positionals[0]!;
    direction = options.has("forward") ? "forward" : options.has("back") ? "back" : undefined;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`hexmap recover: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    const st = Editor.recoverState(file);
    if (direction === undefined) {
      io.out.write(describeState(file, st));
      return st.journal === "none" ? 0 : 3;
    }
    const res = await Editor.recover(file, direction);
    switch (res.action) {
      case "none":
        io.out.write(`${file}: no interrupted save; nothing to recover.${st.staleTemp ? " (removed a leftover temporary journal)" : ""}\n`);
        break;
      case "discarded-invalid":
        io.out.write(`${file}: deleted a damaged or incomplete journal (${res.reason}); the file was not changed.\n`);
        break;
      case "rolled-forward":
        if (res.version === 2) {
          io.out.write(`${file}: save finished: ran the remaining steps of ${res.records} (moves and writes, ${res.bytes} bytes in all), synced, journal deleted.\n`);
          break;
        }
        io.out.write(`${file}: save finished: wrote the new bytes of ${res.records} range${res.records === 1 ? "" : "s"} (${res.bytes} bytes), synced, journal deleted.\n`);
        break;
      case "rolled-back":
        if (res.version === 2) {
          io.out.write(`${file}: save abandoned before it wrote anything; the file is unchanged, journal deleted.\n`);
          break;
        }
        io.out.write(`${file}: save undone: wrote the original bytes of ${res.records} range${res.records === 1 ? "" : "s"} (${res.bytes} bytes), synced, journal deleted.\n`);
        break;
    }
    return 0;
  } catch (err) {
    io.err.write(`hexmap recover: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runRecover(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
