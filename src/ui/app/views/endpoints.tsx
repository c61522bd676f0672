import { useState } from 'preact/hooks';
import { api, query } from '../api';
import type { ViewProps } from '../app';
import {
  Badge,
  Pager,
  TableWrap,
  useCursorPages,
  Confirm,
  DataState,
  Field,
  useResource,
  valueOf,
  when,
} from '../components';
import type { Endpoint, Page } from '../types';

type Action = { endpoint: Endpoint; kind: 'pause' | 'resume' | 'enable' };

export function EndpointsView(props: ViewProps) {
  const [tenant, setTenant] = useState(props.identity.tenant_id ?? '');
  const [applied, setApplied] = useState(tenant);
  const pages = useCursorPages();
  const [action, setAction] = useState<Action | null>(null);
  const cursor = pages.cursor;
  const page = useResource(
    () => api<Page<Endpoint>>(`/alerts/endpoints${query({ tenant_id: applied.trim(), limit: 50, cursor })}`),
    [applied, cursor],
    20000,
  );

  return (
    <>
      <form
        class="filters"
        aria-label="Filter endpoints"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(tenant);
          pages.reset();
        }}
      >
        <Field label="Tenant">
          <input
            value={tenant}
            onInput={(e) => setTenant(valueOf(e))}
            placeholder="any"
            disabled={props.identity.tenant_id !== null}
          />
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
        </div>
      </form>
      <DataState resource={page} what="endpoints" empty={(p) => p.items.length === 0} emptyText="No endpoints yet.">
        {(p) => (
          <>
            <TableWrap label="Endpoints table">
              <table aria-label="Endpoints">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">State</th>
                    <th scope="col">Failures in a row</th>
                    <th scope="col">Last 24 h</th>
                    <th scope="col">Last success</th>
                    {props.isAdmin && <th scope="col">Control</th>}
                  </tr>
                </thead>
                <tbody>
                  {p.items.map((e) => (
                    <tr data-endpoint-id={e.id}>
                      <td class="url">{e.url}</td>
                      <td>{e.tenant_id}</td>
                      <td>
                        <Badge value={e.state} />
                        {e.state === 'paused' && (
                          <small>
                            {' '}
                            {e.autoheal_paused ? 'by autoheal' : `by ${e.paused_by ?? 'an admin'}`}
                            {e.paused_until ? ` until ${when(e.paused_until)}` : ''}
                          </small>
                        )}
                        {e.disabled_reason && <small> {e.disabled_reason}</small>}
                      </td>
                      <td>{e.consecutive_failures}</td>
                      <td>
                        {e.counts_24h.success} ok · {e.counts_24h.failed} failed · {e.counts_24h.pending} pending
                      </td>
                      <td>{when(e.last_success_at)}</td>
                      {props.isAdmin && (
                        <td>
                          {e.state === 'active' && (
                            <button type="button" onClick={() => setAction({ endpoint: e, kind: 'pause' })}>
                              Pause<span class="visually-hidden"> {e.url}</span>
                            </button>
                          )}
                          {e.state === 'paused' && (
                            <button type="button" onClick={() => setAction({ endpoint: e, kind: 'resume' })}>
                              Resume<span class="visually-hidden"> {e.url}</span>
                            </button>
                          )}
                          {e.state === 'disabled' && (
                            <button type="button" onClick={() => setAction({ endpoint: e, kind: 'enable' })}>
                              Enable<span class="visually-hidden"> {e.url}</span>
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={p.next_cursor} />
          </>
        )}
      </DataState>
      {action && (
        <Confirm
          title={`${action.kind[0].toUpperCase()}${action.kind.slice(1)} this endpoint?`}
          body={
            <p>
              <code>{action.endpoint.url}</code> of {action.endpoint.tenant_id}.{' '}
              {action.kind === 'pause'
                ? 'Nothing is sent to it until it is resumed; its deliveries wait without spending attempts.'
                : 'Sending starts again at once.'}
            </p>
          }
          action={action.kind[0].toUpperCase() + action.kind.slice(1)}
          run={async () => {
            const e = await api<Endpoint>(`/alerts/endpoints/${action.endpoint.id}/${action.kind}`, {
              method: 'POST',
              body: action.kind === 'pause' ? { reason: 'from the dashboard' } : undefined,
            });
            return `The endpoint is ${e.state} now.`;
          }}
          onDone={page.reload}
          onClose={() => setAction(null)}
        />
      )}
    </>
  );
}
