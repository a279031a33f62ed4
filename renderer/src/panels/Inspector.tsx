// Data inspector: the bytes at the cursor as every type of app/protocol/inspector.ts, with a
// little/big endian toggle. On a writable document a value can be typed (Enter): its bytes go
// through the edit overlay (`edit`, undoable like any edit); read-only documents show values only.

import { useEffect, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { PageCache } from "../pageCache";
import { decodeAll, encodeField, FIELDS, INSPECTOR_BYTES, type Decoded, type FieldId } from "../../../app/protocol/inspector";
import { hex } from "../format";

export interface InspectorProps {
  api: HexmapApi;
  doc: DocumentInfo;
  cache: PageCache;
  cursor: number;
  onNotice(text: string, kind?: "error" | "info"): void;
}

export function Inspector({ api, doc, cache, cursor, onNotice }: InspectorProps) {
  const [little, setLittle] = useState(true);
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [editing, setEditing] = useState<{ id: FieldId; text: string; error?: string } | null>(null);
  const [refresh, setRefresh] = useState(0);
  const canEdit = !doc.readOnly && doc.size > 0;

  useEffect(() => {
    let live = true;
    if (doc.size === 0) {
      setBytes(new Uint8Array(0));
      return;
    }
    cache
      .read({ docId: doc.docId, generation: doc.generation, size: doc.size }, cursor, INSPECTOR_BYTES)
      .then((b) => live && setBytes(b))
      .catch(() => live && setBytes(null));
    return () => {
      live = false;
    };
  }, [cache, doc.docId, doc.generation, doc.size, cursor, refresh]);

  useEffect(() => setEditing(null), [cursor, doc.docId]);

  const decoded: Decoded[] = bytes ? decodeAll(bytes, little) : [];

  async function commit(id: FieldId, text: string) {
    const r = encodeField(id, text, little);
    if (!r.ok) {
      setEditing({ id, text, error: r.error });
      return;
    }
    if (cursor + r.bytes.length > doc.size) {
      setEditing({ id, text, error: `${r.bytes.length} bytes do not fit before the end of the file` });
      return;
    }
    try {
      await api.request("edit", { docId: doc.docId, offset: cursor, bytes: r.bytes });
      setEditing(null);
      setRefresh((n) => n + 1);
      onNotice(`Wrote ${r.bytes.length} ${r.bytes.length === 1 ? "byte" : "bytes"} at ${hex(cursor)} (Ctrl+Z undoes).`, "info");
    } catch (err) {
      setEditing({ id, text, error: err instanceof Error ? err.message : String(err) });
    }
  }

  return (
    <section className="panel inspector" data-testid="inspector" aria-label="Data inspector">
      <div className="panel-bar">
        <span className="muted">
          at <span className="mono" data-testid="inspector-offset">{hex(cursor)}</span>
        </span>
        <span className="spacer" />
        <div className="seg" role="radiogroup" aria-label="Byte order">
          <button type="button" role="radio" aria-checked={little} className={little ? "on" : ""} data-testid="endian-little" onClick={() => setLittle(true)}>
            Little endian
          </button>
          <button type="button" role="radio" aria-checked={!little} className={!little ? "on" : ""} data-testid="endian-big" onClick={() => setLittle(false)}>
            Big endian
          </button>
        </div>
      </div>
      {!canEdit && doc.size > 0 && <p className="hint">Read-only document: values cannot be typed here.</p>}
      <table className="kv">
        <tbody>
          {FIELDS.map((f, i) => {
            const d = decoded[i];
            const isEditing = editing?.id === f.id;
            return (
              <tr key={f.id} data-field={f.id}>
                <th scope="row">{f.label}</th>
                <td>
                  {isEditing ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault();
                        void commit(f.id, editing!.text);
                      }}
                    >
                      <input
                        autoFocus
                        className="mono"
                        data-testid="inspector-input"
                        aria-label={`New ${f.label} value`}
                        value={editing!.text}
                        spellCheck={false}
                        onChange={(e) => setEditing({ id: f.id, text: e.target.value })}
                        onKeyDown={(e) => {
                          if (e.key === "Escape") {
                            e.stopPropagation();
                            setEditing(null);
                          }
                        }}
                        onBlur={() => setEditing((x) => (x && x.id === f.id && !x.error ? null : x))}
                      />
                      {editing!.error && (
                        <div className="field-error" role="alert">
                          {editing!.error}
                        </div>
                      )}
                    </form>
                  ) : (
                    <span
                      className={`mono value${d?.text == null ? " none" : ""}${canEdit && f.editable ? " editable" : ""}`}
                      data-testid={`inspect-${f.id}`}
                      title={d?.detail ?? (canEdit && f.editable ? "Double-click to type a new value" : undefined)}
                      onDoubleClick={() => canEdit && f.editable && setEditing({ id: f.id, text: d?.text ?? "" })}
                    >
                      {bytes === null ? "…" : (d?.text ?? "—")}
                      {d?.detail && d.text != null && <span className="detail"> {d.detail}</span>}
                    </span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
