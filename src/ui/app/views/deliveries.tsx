import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api';
import type { ViewProps } from '../app';
import {
  Badge,
  Pager,
  TableWrap,
  useCursorPages,
  Confirm,
  DataState,
  Dialog,
  Field,
  useResource,
  valueOf,
  when,
} from '../components';
import type { DeliveryDetail, HistoryPage } from '../types';

interface Filters {
  tenant_id: string;
  status: string;
  start: string;
  end: string;
}

const EMPTY: Filters = { tenant_id: '', status: '', start: '', end: '' };

/** A datetime-local value (the browser's time zone) as ISO 8601 with a zone, as the API wants. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function DeliveriesView(props: ViewProps) {
  const [draft, setDraft] = useState<Filters>({ ...EMPTY, tenant_id: props.identity.tenant_id ?? '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const pages = useCursorPages();
  const [open, setOpen] = useState<string | null>(null);
  const cursor = pages.cursor;
  const page = useResource(
    () =>
      api<HistoryPage>(
        `/alerts/deliveries/history${query({
          tenant_id: filters.tenant_id.trim(),
          status: filters.status,
          start_time: isoOf(filters.start),
          end_time: isoOf(filters.end),
          limit: 25,
          cursor,
        })}`,
      ),
    [filters, cursor],
  );
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: valueOf(e) });

  return (
    <>
      <form
        class="filters"
        aria-label="Filter deliveries"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          pages.reset();
        }}
      >
        <Field label="Tenant">
          <input
            name="tenant_id"
            value={draft.tenant_id}
            onInput={set('tenant_id')}
            placeholder="any"
            disabled={props.identity.tenant_id !== null}
          />
        </Field>
        <Field label="Status">
          <select name="status" value={draft.status} onChange={set('status')}>
            <option value="">any</option>
            <option value="failed">failed</option>
            <option value="pending">pending</option>
            <option value="success">success</option>
          </select>
        </Field>
        <Field label="From">
          <input name="start" type="datetime-local" step={1} value={draft.start} onInput={set('start')} />
        </Field>
        <Field label="To">
          <input name="end" type="datetime-local" step={1} value={draft.end} onInput={set('end')} />
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
          <button
            type="button"
            class="ghost"
            onClick={() => {
              const reset = { ...EMPTY, tenant_id: props.identity.tenant_id ?? '' };
              setDraft(reset);
              setFilters(reset);
              pages.reset();
            }}
          >
            Reset
          </button>
        </div>
      </form>

      <DataState
        resource={page}
        what="deliveries"
        empty={(p) => p.items.length === 0}
        emptyText="No deliveries match these filters."
      >
        {(p) => (
          <>
            <TableWrap label="Delivery history table">
              <table aria-label="Delivery history">
                <thead>
                  <tr>
                    <th scope="col">Created</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">Event</th>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last result</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.items.map((d) => (
                    <tr data-delivery-id={d.id}>
                      <td>{when(d.created_at)}</td>
                      <td>{d.tenant_id}</td>
                      <td>{d.event_type}</td>
                      <td class="url">{d.endpoint_url}</td>
                      <td>
                        <Badge value={d.status} />
                      </td>
                      <td>{d.attempt_count}</td>
                      <td>{d.last_status_code ?? d.last_error_kind?.replaceAll('_', ' ') ?? '—'}</td>
                      <td>
                        <button type="button" class="ghost" onClick={() => setOpen(d.id)}>
                          Details<span class="visually-hidden"> of delivery {d.id}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={p.has_more ? p.next_cursor : null} />
          </>
        )}
      </DataState>
      {open && <DeliveryDrawer id={open} onClose={() => setOpen(null)} onChanged={page.reload} />}
    </>
  );
}

function DeliveryDrawer(props: { id: string; onClose: () => void; onChanged: () => void }) {
  const [watching, setWatching] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const detail = useResource(() => api<DeliveryDetail>(`/alerts/deliveries/${props.id}`), [props.id]);
  // After a replay, follow the delivery until its new attempt has an outcome.
  useEffect(() => {
    if (!watching) return;
    if (detail.data && detail.data.status !== 'pending') {
      setWatching(false);
      props.onChanged();
      return;
    }
    const timer = setTimeout(detail.reload, 1000);
    return () => clearTimeout(timer);
  }, [watching, detail.data]);

  return (
    <Dialog title={`Delivery ${props.id}`} onClose={props.onClose} wide>
      <DataState resource={detail} what="the delivery">
        {(d) => (
          <div class="dialog-body">
            <dl class="facts">
              <dt>Status</dt>
              <dd data-testid="delivery-status">
                <Badge value={d.status} />
                {watching && <span aria-live="polite"> waiting for the replay's attempt…</span>}
              </dd>
              <dt>Tenant</dt>
              <dd>{d.tenant_id}</dd>
              <dt>Event type</dt>
              <dd>{d.event_type}</dd>
              <dt>Endpoint</dt>
              <dd class="url">{d.endpoint_url}</dd>
              <dt>Created</dt>
              <dd>{when(d.created_at)}</dd>
              <dt>Next attempt</dt>
              <dd>{when(d.next_attempt_at)}</dd>
            </dl>
            <div class="actions">
              <button type="button" class="primary" onClick={() => setConfirming(true)} disabled={watching}>
                Replay
              </button>
            </div>
            <h3>Attempts</h3>
            {d.attempts.length === 0 ? (
              <p class="state empty">No attempt yet.</p>
            ) : (
              <TableWrap label="Attempts table">
                <table aria-label="Attempts">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Trigger</th>
                      <th scope="col">Started</th>
                      <th scope="col">Duration</th>
                      <th scope="col">Result</th>
                      <th scope="col">Response</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.attempts.map((a) => (
                      <tr>
                        <td>{a.attempt_number}</td>
                        <td>{a.trigger.replaceAll('_', ' ')}</td>
                        <td>{when(a.started_at)}</td>
                        <td>{a.duration_ms} ms</td>
                        <td>{a.status_code ?? a.error_kind?.replaceAll('_', ' ') ?? '—'}</td>
                        <td>
                          <code class="excerpt">{a.response_excerpt ?? ''}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
            <h3>Payload</h3>
            <pre class="payload">{JSON.stringify(d.payload, null, 2)}</pre>
            {confirming && (
              <Confirm
                title="Replay this delivery?"
                body={
                  <p>
                    It goes back in the queue, due now, and is sent to <code>{d.endpoint_url}</code> with the same{' '}
                    <code>webhook-id</code>.
                    {d.status === 'success' && ' It already succeeded: the receiver gets it again.'}
                  </p>
                }
                action="Replay"
                run={async () => {
                  const force = d.status === 'success' ? '?force=true' : '';
                  const r = await api<{ status: string }>(`/alerts/deliveries/${d.id}/replay${force}`, {
                    method: 'POST',
                  });
                  return `Replay queued: the delivery is ${r.status} again.`;
                }}
                onDone={() => {
                  setWatching(true);
                  detail.reload();
                }}
                onClose={() => setConfirming(false)}
              />
            )}
          </div>
        )}
      </DataState>
    </Dialog>
  );
}
