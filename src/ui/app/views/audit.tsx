import { useState } from 'preact/hooks';
import { api, query, type StreamEvent } from '../api';
import type { ViewProps } from '../app';
import { Badge, Pager, TableWrap, useCursorPages, DataState, Field, useResource, valueOf, when } from '../components';
import type { Page } from '../types';

export function AuditView(props: ViewProps) {
  const [draft, setDraft] = useState({ type: 'audit.*', tenant_id: props.identity.tenant_id ?? '', actor_role: '' });
  const [filters, setFilters] = useState(draft);
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useResource(
    () =>
      api<Page<StreamEvent>>(
        `/events/audit${query({ type: filters.type.replace(/\s+/g, ''), tenant_id: filters.tenant_id.trim(), actor_role: filters.actor_role, limit: 50, cursor })}`,
      ),
    [filters, cursor],
  );
  const set = (k: keyof typeof draft) => (e: Event) => setDraft({ ...draft, [k]: valueOf(e) });

  return (
    <>
      <form
        class="filters"
        aria-label="Filter the audit trail"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          pages.reset();
        }}
      >
        <Field label="Type" hint="audit.* for every change; any event type works.">
          <input value={draft.type} onInput={set('type')} />
        </Field>
        <Field label="Tenant">
          <input
            value={draft.tenant_id}
            onInput={set('tenant_id')}
            placeholder="any"
            disabled={props.identity.tenant_id !== null}
          />
        </Field>
        <Field label="Actor role">
          <select value={draft.actor_role} onChange={set('actor_role')}>
            <option value="">any</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
            <option value="ingest">ingest</option>
          </select>
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
        </div>
      </form>
      <DataState resource={page} what="audit records" empty={(p) => p.items.length === 0} emptyText="No records match.">
        {(p) => (
          <>
            <TableWrap label="Audit trail table">
              <table aria-label="Audit trail">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Result</th>
                    <th scope="col">Who</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">Target</th>
                  </tr>
                </thead>
                <tbody>
                  {p.items.map((e) => {
                    const data = e.data ?? {};
                    return (
                      <tr>
                        <td>{when(e.created_at)}</td>
                        <td>{e.type}</td>
                        <td>
                          <Badge value={typeof data.result === 'string' ? data.result : e.severity} />
                          {typeof data.reason === 'string' && <small class="block">{data.reason}</small>}
                        </td>
                        <td>{e.actor?.roles?.join(', ') ?? e.actor?.kind ?? '—'}</td>
                        <td>{e.tenant_id ?? '—'}</td>
                        <td>{e.subject ? `${e.subject.type} ${e.subject.id}` : '—'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={p.next_cursor} />
          </>
        )}
      </DataState>
    </>
  );
}
