// Checksums of the selection or the whole file: CRC-32, MD5, SHA-1, SHA-256 in one pass on the
// host (a `hash` job: progress, cancel). Each result has a Copy button.

import { useRef, useState } from "react";
import type { DocumentInfo, HexmapApi } from "../api";
import type { HashAlgorithmName, HashData } from "../../../app/protocol/panels";
import { HASH_ALGORITHM_NAMES } from "../../../app/protocol/panel-constants";
import { startJob, type JobHandle } from "./jobs";
import { describeRange, ProgressBar, rangeOf, ScopeChoice, type Range, type Scope } from "./scope";

const LABEL: Record<HashAlgorithmName, string> = { crc32: "CRC-32", md5: "MD5", sha1: "SHA-1", sha256: "SHA-256" };

export function ChecksumPanel({ api, doc, selection, onNotice }: { api: HexmapApi; doc: DocumentInfo; selection: Range | null; onNotice(t: string, k?: "error" | "info"): void }) {
  const [scope, setScope] = useState<Scope>(selection ? "selection" : "file");
  const [algos, setAlgos] = useState<Set<HashAlgorithmName>>(new Set(HASH_ALGORITHM_NAMES));
  const [result, setResult] = useState<(HashData & { generation: number }) | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useRef<JobHandle<HashData> | null>(null);
  const effective: Scope = scope === "selection" && !selection ? "file" : scope;
  const range = rangeOf(effective, selection, doc.size);

  function run() {
    if (!range && doc.size > 0) return;
    job.current?.cancel();
    setError(null);
    setResult(null);
    setProgress({ done: 0, total: 0 });
    const generation = doc.generation;
    const j = startJob(
      api,
      "hash",
      { docId: doc.docId, offset: range?.offset ?? 0, length: range?.length ?? 0, algorithms: HASH_ALGORITHM_NAMES.filter((a) => algos.has(a)) },
      { onProgress: (done, total) => setProgress({ done, total }) },
    );
    job.current = j;
    j.promise
      .then((r) => setResult({ ...r, generation }))
      .catch((err) => setError((err as { code?: string }).code === "ECANCELED" ? "Cancelled." : err instanceof Error ? err.message : String(err)))
      .finally(() => setProgress(null));
  }

  async function copy(text: string, what: string) {
    try {
      await navigator.clipboard.writeText(text);
      onNotice(`Copied the ${what}.`, "info");
    } catch (err) {
      onNotice(`Could not copy: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const stale = result && (result.generation !== doc.generation || result.docId !== doc.docId);
  return (
    <section className="panel checksums" data-testid="checksums" aria-label="Checksums">
      <div className="panel-bar">
        <ScopeChoice scope={effective} onChange={setScope} selection={selection} name="hash" />
      </div>
      <p className="muted small">{describeRange(range)}</p>
      <div className="algos">
        {HASH_ALGORITHM_NAMES.map((a) => (
          <label key={a} className="check">
            <input
              type="checkbox"
              checked={algos.has(a)}
              onChange={(e) => {
                const next = new Set(algos);
                if (e.target.checked) next.add(a);
                else next.delete(a);
                setAlgos(next);
              }}
            />{" "}
            {LABEL[a]}
          </label>
        ))}
      </div>
      <div className="panel-bar">
        <button type="button" className="primary" data-testid="hash-run" disabled={!!progress || algos.size === 0 || doc.size === 0} onClick={run}>
          Compute
        </button>
      </div>
      {progress && <ProgressBar label="Checksum" done={progress.done} total={progress.total} onCancel={() => job.current?.cancel()} />}
      {error && <p className="field-error" role="alert">{error}</p>}
      {result && (
        <table className="kv digests" data-testid="hash-results" data-offset={result.offset} data-length={result.length}>
          <tbody>
            {HASH_ALGORITHM_NAMES.filter((a) => result.digests[a]).map((a) => (
              <tr key={a}>
                <th scope="row">{LABEL[a]}</th>
                <td>
                  <span className="mono digest" data-testid={`hash-${a}`}>
                    {result.digests[a]}
                  </span>
                </td>
                <td>
                  <button type="button" className="copy-btn" aria-label={`Copy ${LABEL[a]}`} data-testid={`hash-copy-${a}`} onClick={() => void copy(result.digests[a]!, `${LABEL[a]} digest`)}>
                    Copy
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {stale && <p className="hint">The document changed since: compute again.</p>}
    </section>
  );
}
