// Closing the Electron window with unsaved edits (app/main/unsaved.ts): which documents are
// dirty, the prompt, and Save / Don't Save / Cancel / a failing save — against a real Service.

import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { after, describe, it } from "node:test";
import { Service } from "../../app/engine/service";
import { CANCEL, DISCARD, SAVE, closePrompt, confirmClose, saveThroughService, unsavedDocuments, type ClosePrompt } from "../../app/main/unsaved";
import { blockBytes, cleanupFixtures, makeFile } from "../fixtures";

after(cleanupFixtures);

async function dirtyService(): Promise<{ s: Service; a: string; b: string; dataA: Buffer }> {
  const dataA = blockBytes(1, 1000);
  const a = makeFile(dataA, "a.bin");
  const b = makeFile(blockBytes(2, 1000), "b.bin");
  const s = new Service({ pollIntervalMs: 0, watch: false });
  s.open(a, { readOnly: false });
  s.open(b, { readOnly: false });
  const r = await s.handle({ id: 1, type: "edit", docId: "d1", offset: 3, bytes: new Uint8Array([0xee]) });
  assert.equal(r.ok, true);
  return { s, a, b, dataA };
}

describe("closing with unsaved edits (Electron)", () => {
  it("lists only dirty documents, and the prompt names them", async () => {
    const { s, a } = await dirtyService();
    try {
      const docs = unsavedDocuments(s);
      assert.deepEqual(docs, [{ docId: "d1", name: a, editCount: 1 }]);
      const p = closePrompt(docs, false);
      assert.deepEqual(p.buttons, ["Save", "Don't Save", "Cancel"]);
      assert.equal(p.cancelId, CANCEL);
      assert.equal(p.defaultId, SAVE);
      assert.match(p.message, /Save your edits to a\.bin before closing\?/);
      assert.match(closePrompt([...docs, { docId: "d2", name: "/x/b.bin", editCount: 3 }], true).message, /2 documents .* before quitting/);
    } finally {
      s.dispose();
    }
  });

  it("nothing unsaved: closes without asking", async () => {
    const s = new Service({ pollIntervalMs: 0, watch: false });
    let asked = 0;
    const ok = await confirmClose({ unsaved: () => unsavedDocuments(s), ask: async () => (asked++, CANCEL), save: async () => {}, reportError: () => {} });
    assert.equal(ok, true);
    assert.equal(asked, 0);
    s.dispose();
  });

  it("Cancel keeps the window; Don't Save closes without writing; Save writes and closes", async () => {
    const { s, a, dataA } = await dirtyService();
    try {
      const base = { unsaved: () => unsavedDocuments(s), save: (id: string) => saveThroughService(s, id), reportError: () => assert.fail("no error expected") };
      let prompt: ClosePrompt | null = null;
      assert.equal(await confirmClose({ ...base, ask: async (p) => ((prompt = p), CANCEL) }), false);
      assert.ok(prompt);
      assert.equal(await confirmClose({ ...base, ask: async () => -1 }), false, "a dismissed box keeps the window");
      assert.equal(await confirmClose({ ...base, ask: async () => DISCARD }), true);
      assert.deepEqual(fs.readFileSync(a), dataA, "Don't Save writes nothing");
      assert.equal(await confirmClose({ ...base, ask: async () => SAVE }), true);
      assert.equal(fs.readFileSync(a)[3], 0xee);
      assert.deepEqual(unsavedDocuments(s), []);
    } finally {
      s.dispose();
    }
  });

  it("a save that fails (changed on disk) is reported and keeps the window open", async () => {
    const { s, a } = await dirtyService();
    try {
      fs.writeFileSync(a, blockBytes(9, 1000));
      const t = new Date(Date.now() + 10_000);
      fs.utimesSync(a, t, t);
      const errors: string[] = [];
      const ok = await confirmClose({
        unsaved: () => unsavedDocuments(s),
        ask: async () => SAVE,
        save: (id) => saveThroughService(s, id),
        reportError: (title, message) => errors.push(`${title}: ${message}`),
      });
      assert.equal(ok, false);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /Could not save a\.bin: .*changed|modified/);
      assert.equal(unsavedDocuments(s).length, 1);
    } finally {
      s.dispose();
    }
  });
});
