// The undo/redo history of an Editor: a stack of replace steps kept in columns, not objects.
//
// A step is replace(offset, removedLength → insertedLength): the pieces it removed and the pieces
// it inserted. One object per step (plus its arrays and a Uint8Array view per inserted run) costs
// about 300 bytes of heap in V8; a million scattered one-byte inserts would spend more on their
// history than on the document. So the common step — one run of added bytes, cut from a shared
// slab — is stored as its slab's ArrayBuffer and a byte offset, and the numbers sit in packed
// double arrays: about 60 bytes a step. Steps are materialized as objects only when read.

import type { Piece } from "./piece-table";

export interface Step {
  offset: number;
  removed: readonly Piece[];
  removedLength: number;
  inserted: readonly Piece[];
  insertedLength: number;
  group: string | number | undefined;
}

export const NO_PIECES: readonly Piece[] = Object.freeze([]);

export class StepLog {
  private offsets: number[] = [];
  private removedLengths: number[] = [];
  private insertedLengths: number[] = [];
  private removed: (readonly Piece[])[] = [];
  /** A single removed file piece: its file offset (removedLength is its length); NaN otherwise. */
  private remFileStarts: number[] = [];
  /** A single inserted bytes piece: its buffer and byte offset (insertedLength is its length)… */
  private insBuffers: (ArrayBufferLike | null)[] = [];
  private insOffsets: number[] = [];
  /** …or, when insBuffers holds null, the inserted pieces themselves. */
  private insPieces: (readonly Piece[])[] = [];
  private groups: (string | number | undefined)[] = [];

  get length(): number {
    return this.offsets.length;
  }

  push(step: Step): void {
    this.offsets.push(step.offset);
    this.removedLengths.push(step.removedLength);
    this.insertedLengths.push(step.insertedLength);
    const gone = step.removed.length === 1 ? step.removed[0]! : null;
    if (gone && gone.kind === "file") {
      this.remFileStarts.push(gone.start);
      this.removed.push(NO_PIECES);
    } else {
      this.remFileStarts.push(NaN);
      this.removed.push(step.removed.length === 0 ? NO_PIECES : step.removed);
    }
    const only = step.inserted.length === 1 ? step.inserted[0]! : null;
    if (only && only.kind === "bytes") {
      this.insBuffers.push(only.bytes.buffer);
      this.insOffsets.push(only.bytes.byteOffset);
      this.insPieces.push(NO_PIECES);
    } else {
      this.insBuffers.push(null);
      this.insOffsets.push(0);
      this.insPieces.push(step.inserted.length === 0 ? NO_PIECES : step.inserted);
    }
    this.groups.push(step.group);
  }

  /** The step at index i (0 = oldest). */
  at(i: number): Step {
    const buf = this.insBuffers[i]!;
    const insertedLength = this.insertedLengths[i]!;
    const inserted: readonly Piece[] = buf ? [{ kind: "bytes", bytes: new Uint8Array(buf, this.insOffsets[i]!, insertedLength) }] : this.insPieces[i]!;
    const fileStart = this.remFileStarts[i]!;
    const removedLength = this.removedLengths[i]!;
    const removed: readonly Piece[] = Number.isNaN(fileStart) ? this.removed[i]! : [{ kind: "file", start: fileStart, length: removedLength }];
    return {
      offset: this.offsets[i]!,
      removed,
      removedLength,
      inserted,
      insertedLength,
      group: this.groups[i],
    };
  }

  top(): Step | undefined {
    return this.length === 0 ? undefined : this.at(this.length - 1);
  }

  pop(): Step | undefined {
    const step = this.top();
    if (!step) return undefined;
    this.offsets.pop();
    this.removedLengths.pop();
    this.insertedLengths.pop();
    this.removed.pop();
    this.remFileStarts.pop();
    this.insBuffers.pop();
    this.insOffsets.pop();
    this.insPieces.pop();
    this.groups.pop();
    return step;
  }

  /** Replaces the newest step (typing coalesced into it). */
  setTop(step: Step): void {
    this.pop();
    this.push(step);
  }

  clear(): void {
    this.offsets = [];
    this.removedLengths = [];
    this.insertedLengths = [];
    this.removed = [];
    this.remFileStarts = [];
    this.insBuffers = [];
    this.insOffsets = [];
    this.insPieces = [];
    this.groups = [];
  }

  /** A new log with every step passed through fn (oldest first); null as soon as fn gives null. */
  map(fn: (step: Step) => Step | null): StepLog | null {
    const out = new StepLog();
    for (let i = 0; i < this.length; i++) {
      const s = fn(this.at(i));
      if (!s) return null;
      out.push(s);
    }
    return out;
  }
}
