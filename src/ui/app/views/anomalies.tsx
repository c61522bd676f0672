import { useState } from 'preact/hooks';
import { api, ApiError, query } from '../api';
import type { ViewProps } from '../app';
import { Badge, TableWrap, DataState, Dialog, Field, useResource, valueOf, when } from '../components';
import type { Anomaly } from '../types';

const round = (v: number) => (Math.abs(v) < 1 ? Math.round(v * 10000) / 10000 : Math.round(v * 10) / 10);

export function AnomaliesView(_: ViewProps) {
  const [status, setStatus] = useState('open,triaged');
  const [triaging, setTriaging] = useState<Anomaly | null>(null);
  const list = useResource(
    () => api<{ items: Anomaly[] }>(`/anomalies/current${query({ status, limit: 100 })}`),
    [status],
    15000,
  );

  return (
    <>
      <form class="filters" aria-label="Filter anomalies" onSubmit={(e) => e.preventDefault()}>
        <Field label="Status">
          <select value={status} onChange={(e) => setStatus(valueOf(e))}>
            <option value="open,triaged">open or triaged</option>
            <option value="open">open</option>
            <option value="triaged">triaged</option>
            <option value="resolved">resolved</option>
          </select>
        </Field>
      </form>
      <DataState
        resource={list}
        what="anomalies"
        empty={(d) => d.items.length === 0}
        emptyText="No anomalies in this state."
      >
        {(d) => (
          <TableWrap label="Anomalies table">
            <table aria-label="Anomalies">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Now / normal</th>
                  <th scope="col">Since</th>
                  <th scope="col">Status</th>
                  <th scope="col">Triage</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((a) => (
                  <tr data-anomaly-id={a.id}>
                    <td>{a.tenant_id}</td>
                    <td>
                      {a.kind.replaceAll('_', ' ')}
                      {a.reopen_count > 0 && <small class="block">reopened {a.reopen_count}×</small>}
                    </td>
                    <td>
                      <Badge value={a.severity} />
                    </td>
                    <td>
                      {round(a.current_value)} vs {round(a.baseline.median)}
                      <small class="block">
                        band {round(a.band.low)} to {round(a.band.high)} ({a.baseline.mode})
                      </small>
                    </td>
                    <td>{when(a.first_seen_at)}</td>
                    <td>
                      <Badge value={a.status} />
                      {a.triage_note && <small class="block">“{a.triage_note}”</small>}
                    </td>
                    <td>
                      {a.status !== 'resolved' && (
                        <button type="button" onClick={() => setTriaging(a)}>
                          Triage
                          <span class="visually-hidden">
                            {' '}
                            {a.kind} of {a.tenant_id}
                          </span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </DataState>
      {triaging && (
        <TriageDialog
          anomaly={triaging}
          onClose={() => setTriaging(null)}
          onDone={() => {
            setTriaging(null);
            list.reload();
          }}
        />
      )}
    </>
  );
}

function TriageDialog(props: { anomaly: Anomaly; onClose: () => void; onDone: () => void }) {
  const [note, setNote] = useState(props.anomaly.triage_note ?? '');
  const [assignee, setAssignee] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      title={`Triage ${props.anomaly.kind.replaceAll('_', ' ')} of ${props.anomaly.tenant_id}`}
      onClose={props.onClose}
    >
      <form
        class="dialog-body"
        onSubmit={(e) => {
          e.preventDefault();
          if (!note.trim()) {
            setError('A note is required: say what you found or what you are doing about it.');
            return;
          }
          setBusy(true);
          setError(null);
          api(`/anomalies/${props.anomaly.id}/triage`, {
            method: 'POST',
            body: { note: note.trim(), ...(assignee.trim() ? { assignee: assignee.trim() } : {}) },
          })
            .then(props.onDone)
            .catch((err: unknown) => setError(err instanceof ApiError ? err.detail : String(err)))
            .finally(() => setBusy(false));
        }}
      >
        <Field label="Note (required)">
          <textarea rows={3} value={note} onInput={(e) => setNote(valueOf(e))} aria-required="true" />
        </Field>
        <Field label="Assignee (optional)">
          <input value={assignee} onInput={(e) => setAssignee(valueOf(e))} />
        </Field>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <footer class="dialog-actions">
          <button type="button" class="ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save triage'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
