// The Structure panel (issue 15): the active document parsed by a Kaitai Struct format on the
// host (a sandboxed worker), shown as a tree that renders only what is expanded. A click selects
// the node's bytes in the grid; leaf fields are tinted in the grid; the field under the cursor is
// named at the top. The format is chosen by magic when a document opens, or picked: a shipped one,
// a .ksy (and its imports) read from files the user picks — sent as text, never as a path — or Off.
// After an edit the tree re-parses (debounced) and marks the values that changed. A leaf with an
// edit recipe (numbers, enums by number, fixed-size strings) is edited by double-clicking its value.

import { useEffect, useMemo, useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { StructFormatSpec, StructParseResult, StructTreeNode } from "../../../app/protocol/structure";
import { startJob, percent, type JobHandle } from "../panels/jobs";
import { encodeLeaf } from "./encode";
import { setFieldTint } from "./store";
import "./structure.css";

type Choice = { kind: "auto" } | { kind: "off" } | { kind: "shipped"; name: string } | { kind: "ksy"; files: { name: string; text: string }[] };

const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
const REPARSE_MS = 400;

interface Row {
  node: StructTreeNode;
  path: string;
  depth: number;
  open: boolean;
  leaf: boolean;
}

function children(n: StructTreeNode): StructTreeNode[] {
  return n.fields ?? n.items ?? [];
}

function flatten(root: StructTreeNode, open: Set<string>): Row[] {
  const out: Row[] = [];
  const visit = (n: StructTreeNode, path: string, depth: number) => {
    const kids = children(n);
    const isOpen = open.has(path);
    out.push({ node: n, path, depth, open: isOpen, leaf: kids.length === 0 });
    if (isOpen) kids.forEach((c, i) => visit(c, `${path}/${i}`, depth + 1));
  };
  visit(root, "r", 0);
  return out;
}

/** Dotted name of the node at a row path ("header.section_headers[3].name"). */
function dotted(root: StructTreeNode, path: string): string {
  const names: string[] = [];
  let n: StructTreeNode | undefined = root;
  for (const seg of path.split("/").slice(1)) {
    n = n ? children(n)[Number(seg)] : undefined;
    if (!n) break;
    if (n.name.includes("[")) names[names.length - 1] = n.name;
    else names.push(n.name);
  }
  return names.join(".") || root.name;
}

/** Row paths → leaf value text, to mark what changed between two parses. */
function values(root: StructTreeNode | null): Map<string, string> {
  const m = new Map<string, string>();
  const visit = (n: StructTreeNode, path: string) => {
    if (n.value !== undefined) m.set(path, `${n.offset}:${JSON.stringify(n.value)}`);
    children(n).forEach((c, i) => visit(c, `${path}/${i}`));
  };
  if (root) visit(root, "r");
  return m;
}

/** The deepest leaf containing `offset`, as a row path. */
function leafAt(root: StructTreeNode, offset: number): string | null {
  let best: string | null = null;
  const visit = (n: StructTreeNode, path: string) => {
    if (n.size > 0 && (offset < n.offset || offset >= n.offset + n.size) && !n.instance && path !== "r") return;
    const kids = children(n);
    if (kids.length === 0) {
      if (n.size > 0 && offset >= n.offset && offset < n.offset + n.size) best = path;
      return;
    }
    kids.forEach((c, i) => visit(c, `${path}/${i}`));
  };
  visit(root, "r");
  return best;
}

function showValue(n: StructTreeNode): string {
  if (n.value === undefined) return "";
  if (n.enum !== undefined) return `${n.enum ?? "?"} (${n.value})`;
  if (n.type === "bytes" || n.type === "contents") {
    const s = String(n.value);
    const spaced = s.replace(/(..)(?!$)/g, "$1 ");
    return spaced.length > 48 ? `${spaced.slice(0, 47)}…` : n.truncated ? `${spaced}…` : spaced;
  }
  if (typeof n.value === "string" && n.type === "str") return JSON.stringify(n.value);
  if (typeof n.value === "number" && Number.isInteger(n.value) && n.value > 9) return `${n.value} (${hex(n.value)})`;
  return String(n.value);
}

function pathToOffset(root: StructTreeNode, path: string): StructTreeNode | null {
  let n: StructTreeNode | undefined = root;
  for (const seg of path.split("/").slice(1)) n = n ? children(n)[Number(seg)] : undefined;
  return n ?? null;
}

export interface StructurePanelProps {
  api: HexmapApi;
  doc: DocumentInfo;
  cursor: number;
  onJump(offset: number, length: number): void;
  onNotice(text: string, kind?: "error" | "info"): void;
}

export function StructurePanel({ api, doc, cursor, onJump, onNotice }: StructurePanelProps) {
  const [formats, setFormats] = useState<{ name: string; title: string }[]>([]);
  const [choice, setChoice] = useState<Choice>({ kind: "auto" });
  const [result, setResult] = useState<StructParseResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [open, setOpen] = useState<Set<string>>(() => new Set(["r"]));
  const [selected, setSelected] = useState<string | null>(null);
  const [changed, setChanged] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<{ path: string; text: string; error?: string } | null>(null);
  const job = useRef<JobHandle<StructParseResult> | null>(null);
  const prevValues = useRef<Map<string, string> | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void api.request("struct-formats", {}).then((r) => setFormats(r.formats), () => {});
  }, [api]);

  // A new document: detect its format again.
  useEffect(() => {
    setChoice({ kind: "auto" });
    setResult(null);
    setOpen(new Set(["r"]));
    setSelected(null);
    prevValues.current = null;
  }, [doc.docId]);

  // Parse now and after every change (debounced): the edited document, frozen when it starts.
  useEffect(() => {
    if (choice.kind === "off") {
      job.current?.cancel();
      setResult(null);
      setError(null);
      setBusy(null);
      return;
    }
    const timer = setTimeout(() => {
      job.current?.cancel();
      const format: StructFormatSpec = choice.kind === "auto" ? { kind: "auto" } : choice.kind === "shipped" ? { kind: "shipped", name: choice.name } : { kind: "ksy", files: choice.files };
      setBusy("parsing…");
      const h = startJob(api, "struct-parse", { docId: doc.docId, format }, { onProgress: (d, t) => setBusy(`parsing… ${percent(d, t)}`) });
      job.current = h;
      h.promise.then(
        (r) => {
          if (job.current !== h) return;
          setBusy(null);
          setError(null);
          const now = values(r.tree);
          const before = prevValues.current;
          const diff = new Set<string>();
          if (before) for (const [p, v] of now) if (before.has(p) && before.get(p) !== v) diff.add(p);
          prevValues.current = now;
          setChanged(diff);
          setResult(r);
        },
        (err: { code?: string; message?: string }) => {
          if (job.current !== h || err.code === "ECANCELED") return;
          setBusy(null);
          setResult(null);
          prevValues.current = null;
          setError(err.message ?? String(err));
        },
      );
    }, result ? REPARSE_MS : 0);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, doc.docId, doc.generation, choice]);

  useEffect(() => () => job.current?.cancel(), []);

  const tree = result?.tree ?? null;
  const rows = useMemo(() => (tree ? flatten(tree, open) : []), [tree, open]);

  // Tint the leaf fields in the grid; the selected node stronger.
  useEffect(() => {
    if (!tree) {
      setFieldTint(null);
      return;
    }
    const leaves: { s: number; e: number }[] = [];
    const visit = (n: StructTreeNode) => {
      const kids = children(n);
      if (kids.length === 0 && n.size > 0 && !n.processed) leaves.push({ s: n.offset, e: n.offset + n.size });
      kids.forEach(visit);
    };
    visit(tree);
    leaves.sort((a, b) => a.s - b.s);
    const sel = selected ? pathToOffset(tree, selected) : null;
    setFieldTint({
      docId: doc.docId,
      starts: leaves.map((l) => l.s),
      ends: leaves.map((l) => l.e),
      selected: sel && sel.size > 0 ? { start: sel.offset, end: sel.offset + sel.size } : null,
    });
  }, [tree, selected, doc.docId]);
  useEffect(() => () => setFieldTint(null), []);

  const atCursor = useMemo(() => (tree ? leafAt(tree, cursor) : null), [tree, cursor]);

  function toggle(path: string) {
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(path)) n.delete(path);
      else n.add(path);
      return n;
    });
  }

  function select(r: Row) {
    setSelected(r.path);
    if (r.node.size > 0) onJump(r.node.offset, r.node.size);
  }

  async function commit(path: string, text: string) {
    const node = tree ? pathToOffset(tree, path) : null;
    if (!node) return;
    const enc = encodeLeaf(node, text);
    if (!enc.ok) return setEditing({ path, text, error: enc.error });
    try {
      await api.request("edit", { docId: doc.docId, offset: node.offset, bytes: enc.bytes });
      setEditing(null);
      onNotice(`Wrote ${enc.bytes.length} ${enc.bytes.length === 1 ? "byte" : "bytes"} at ${hex(node.offset)} (Ctrl+Z undoes).`, "info");
    } catch (err) {
      setEditing({ path, text, error: err instanceof Error ? err.message : String(err) });
    }
  }

  async function pickKsy(files: FileList | null) {
    if (!files || files.length === 0) return;
    const list = await Promise.all([...files].map(async (f) => ({ name: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, text: await f.text() })));
    setResult(null);
    prevValues.current = null;
    setChoice({ kind: "ksy", files: list });
  }

  const selectValue = choice.kind === "shipped" ? `shipped:${choice.name}` : choice.kind === "ksy" ? "ksy" : choice.kind;
  const canEdit = !doc.readOnly;

  return (
    <section className="panel structure" data-testid="structure-panel" aria-label="Structure">
      <div className="panel-bar wrap">
        <select
          aria-label="Format"
          data-testid="struct-format"
          value={selectValue}
          onChange={(e) => {
            const v = e.target.value;
            prevValues.current = null;
            setResult(null);
            if (v === "auto" || v === "off") setChoice({ kind: v });
            else if (v === "ksy") fileInput.current?.click();
            else setChoice({ kind: "shipped", name: v.slice("shipped:".length) });
          }}
        >
          <option value="auto">Auto (by magic)</option>
          {formats.map((f) => (
            <option key={f.name} value={`shipped:${f.name}`} title={f.title}>
              {f.name.toUpperCase()}
            </option>
          ))}
          <option value="ksy">{choice.kind === "ksy" ? `${choice.files[0]!.name}` : "Open .ksy…"}</option>
          <option value="off">Off</option>
        </select>
        <button type="button" title="Pick a .ksy file and the .ksy files it imports (select them together)" onClick={() => fileInput.current?.click()}>
          .ksy…
        </button>
        <input ref={fileInput} type="file" accept=".ksy,.yaml,.yml" multiple hidden data-testid="struct-ksy-input" onChange={(e) => void pickKsy(e.target.files).finally(() => (e.target.value = ""))} />
        {busy && (
          <>
            <span className="muted small">{busy}</span>
            <button type="button" onClick={() => { job.current?.cancel(); setBusy(null); }}>
              Cancel
            </button>
          </>
        )}
      </div>
      {error && (
        <p className="struct-error" role="alert" data-testid="struct-error">
          {error}
        </p>
      )}
      {choice.kind !== "off" && result && result.format === null && !busy && <p className="hint" data-testid="struct-none">No shipped format matches this file. Pick one above, or open a .ksy.</p>}
      {result?.tree && (
        <>
          <p className="muted small struct-summary" data-testid="struct-summary">
            {result.format}
            {result.detected ? " (detected)" : ""} · {result.nodes} nodes{result.partial ? " · partial (node cap reached)" : ""}
            {result.error ? " · does not match" : ""}
          </p>
          {tree && atCursor && (
            <p className="mono small struct-path" data-testid="struct-cursor-path" title="The field under the cursor">
              {dotted(tree, atCursor)}
            </p>
          )}
          {result.error && (
            <p className="struct-error" data-testid="struct-parse-error">
              {result.error}
            </p>
          )}
          <div className="struct-tree" role="tree" data-testid="struct-tree">
            {rows.map((r) => {
              const n = r.node;
              const isEditing = editing?.path === r.path;
              const cls = `struct-row${selected === r.path ? " sel" : ""}${n.error ? " failed" : ""}${changed.has(r.path) ? " changed" : ""}${atCursor === r.path ? " atcursor" : ""}`;
              return (
                <div
                  key={r.path}
                  role="treeitem"
                  aria-expanded={r.leaf ? undefined : r.open}
                  aria-selected={selected === r.path}
                  className={cls}
                  style={{ paddingLeft: 4 + r.depth * 12 }}
                  data-testid="struct-node"
                  data-path={tree ? dotted(tree, r.path) : ""}
                  data-offset={n.offset}
                  data-size={n.size}
                  title={`${tree ? dotted(tree, r.path) : n.name} — ${hex(n.offset)}, ${n.size} bytes${n.error ? `\n${n.error}` : ""}`}
                  onClick={() => select(r)}
                >
                  <span className="twisty" onClick={(e) => { e.stopPropagation(); if (!r.leaf) toggle(r.path); }}>
                    {r.leaf ? "" : r.open ? "▾" : "▸"}
                  </span>
                  <span className="sname">{n.name}</span>
                  <span className="stype muted">{n.type}</span>
                  <span className="soff mono muted">{hex(n.offset)}</span>
                  <span className="ssize mono muted">{n.size}</span>
                  {isEditing ? (
                    <span className="sval">
                      <input
                        autoFocus
                        className="mono"
                        aria-label={`New value of ${n.name}`}
                        data-testid="struct-edit-input"
                        value={editing!.text}
                        onClick={(e) => e.stopPropagation()}
                        onChange={(e) => setEditing({ path: r.path, text: e.target.value })}
                        onKeyDown={(e) => {
                          if (e.key === "Enter") void commit(r.path, editing!.text);
                          else if (e.key === "Escape") setEditing(null);
                          e.stopPropagation();
                        }}
                        onBlur={() => setEditing(null)}
                      />
                      {editing!.error && <span className="struct-error small" data-testid="struct-edit-error">{editing!.error}</span>}
                    </span>
                  ) : (
                    <span
                      className={`sval mono${canEdit && n.edit ? " editable" : ""}`}
                      data-testid="struct-value"
                      onDoubleClick={(e) => {
                        e.stopPropagation();
                        if (canEdit && n.edit) setEditing({ path: r.path, text: n.value === null || n.value === undefined ? "" : String(n.value) });
                      }}
                    >
                      {showValue(n)}
                      {n.partial ? " …(cut)" : ""}
                    </span>
                  )}
                  {n.error && <span className="serr">{n.error}</span>}
                </div>
              );
            })}
          </div>
        </>
      )}
    </section>
  );
}
