// Closing the Electron window (or quitting) with unsaved edits: which documents are dirty, the
// question (Save / Don't Save / Cancel) and what each answer does. Plain logic over injected
// functions, unit-tested in Node (test/protocol/edit-close.test.ts); main.ts wires it to the
// window's `close` event and dialog.showMessageBox.

import type { Service } from "../engine/service";

export interface UnsavedDoc {
  docId: string;
  name: string;
  editCount: number;
}

/** The documents of this window with unsaved edits. */
export function unsavedDocuments(service: Pick<Service, "documents" | "pool">): UnsavedDoc[] {
  const out: UnsavedDoc[] = [];
  for (const docId of service.documents()) {
    try {
      const info = service.pool.info(docId);
      if (info.dirty) out.push({ docId, name: info.name, editCount: info.editCount ?? 0 });
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** The message box (Electron MessageBoxOptions shape): buttons Save, Don't Save, Cancel. */
export interface ClosePrompt {
  type: "warning";
  buttons: string[];
  defaultId: number;
  cancelId: number;
  noLink: true;
  title: string;
  message: string;
  detail: string;
}

export const SAVE = 0;
export const DISCARD = 1;
export const CANCEL = 2;

function baseName(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

export function closePrompt(docs: readonly UnsavedDoc[], quitting: boolean): ClosePrompt {
  const one = docs.length === 1 ? docs[0]! : null;
  return {
    type: "warning",
    buttons: ["Save", "Don't Save", "Cancel"],
    defaultId: SAVE,
    cancelId: CANCEL,
    noLink: true,
    title: "Unsaved edits",
    message: one
      ? `Save your edits to ${baseName(one.name)} before ${quitting ? "quitting" : "closing"}?`
      : `${docs.length} documents have unsaved edits. Save them before ${quitting ? "quitting" : "closing"}?`,
    detail:
      docs.map((d) => `${d.name} — ${d.editCount} unsaved ${d.editCount === 1 ? "edit" : "edits"}`).join("\n") +
      "\n\nIf you don't save, the edits are lost. The files on disk stay as they were.",
  };
}

export interface ConfirmCloseDeps {
  unsaved(): UnsavedDoc[];
  /** Shows the prompt; resolves with the index of the button chosen. */
  ask(prompt: ClosePrompt): Promise<number>;
  /** Saves one document; rejects with an Error whose message a user can act on. */
  save(docId: string): Promise<void>;
  /** Tells the user a save failed (the window stays open). */
  reportError(title: string, message: string): void;
}

/**
 * Resolves true when the window may close: nothing unsaved, "Don't Save", or "Save" and every
 * save succeeded. Cancel, a dismissed box or a failed save keep it open.
 */
export async function confirmClose(deps: ConfirmCloseDeps, quitting = false): Promise<boolean> {
  const docs = deps.unsaved();
  if (docs.length === 0) return true;
  const answer = await deps.ask(closePrompt(docs, quitting));
  if (answer === DISCARD) return true;
  if (answer !== SAVE) return false;
  for (const d of docs) {
    try {
      await deps.save(d.docId);
    } catch (err) {
      deps.reportError(`Could not save ${baseName(d.name)}`, `${(err as Error).message}\n\nNothing was closed; save again, or use Save As in the window.`);
      return false;
    }
  }
  return true;
}

/** Saves a document through the Service (the same path as the renderer's Ctrl+S). */
export async function saveThroughService(service: Pick<Service, "handle">, docId: string): Promise<void> {
  const reply = await service.handle({ id: 0, type: "save", docId });
  if (!reply.ok) {
    const e = new Error(reply.error.message) as Error & { code?: string };
    e.code = reply.error.code;
    throw e;
  }
}
