import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { ViewProps } from '../app';
import { Badge, TableWrap, Confirm, DataState, Dialog, Field, useResource, valueOf, when } from '../components';

interface Rule {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  dry_run: boolean;
  tenant_id: string | null;
  endpoint_url_prefix: string | null;
  trigger: { metric: string; threshold: number; window_s: number; min_requests: number; for_s: number };
  action: { type: string; params: Record<string, unknown> };
  cooldown_s: number;
  max_actions_per_hour: number;
  builtin: boolean;
  version: number;
}
interface Cooldown {
  endpoint_id: string;
  tenant_id: string;
  endpoint_url: string;
  kind: string;
  until: string | null;
  rule_name: string | null;
  paused_by: string | null;
}
interface Execution {
  id: string;
  rule_name: string;
  tenant_id: string;
  endpoint_url: string;
  metric: string;
  value: number;
  threshold: number;
  outcome: string;
  action_type: string;
  created_at: string;
}

const METRICS = ['consecutive_failures', 'failure_rate', 'timeout_rate', 'latency_p95_ms', 'endpoint_recovered'];
const ACTIONS = ['pause_endpoint', 'replay_failed', 'disable_endpoint', 'notify'];

export function AutohealView(props: ViewProps) {
  const rules = useResource(() => api<{ items: Rule[] }>('/autoheal/rules'), []);
  const cooldowns = useResource(() => api<{ items: Cooldown[] }>('/autoheal/cooldowns'), [], 15000);
  const executions = useResource(() => api<{ items: Execution[] }>('/autoheal/executions?limit=25'), [], 15000);
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [clearing, setClearing] = useState<Cooldown | null>(null);

  return (
    <>
      <section aria-labelledby="rules-title">
        <div class="section-head">
          <h3 id="rules-title">Rules</h3>
          {props.isAdmin && (
            <button type="button" class="primary" onClick={() => setEditing('new')}>
              New rule
            </button>
          )}
        </div>
        <DataState resource={rules} what="rules" empty={(d) => d.items.length === 0} emptyText="No rules.">
          {(d) => (
            <TableWrap label="Autoheal rules table">
              <table aria-label="Autoheal rules">
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">When</th>
                    <th scope="col">Then</th>
                    <th scope="col">Scope</th>
                    <th scope="col">Limits</th>
                    <th scope="col">Mode</th>
                    {props.isAdmin && <th scope="col">Edit</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((r) => (
                    <tr>
                      <td>
                        <strong>{r.name}</strong>
                        {r.description && <small class="block">{r.description}</small>}
                      </td>
                      <td>
                        {r.trigger.metric.replaceAll('_', ' ')} ≥ {r.trigger.threshold}
                        <small class="block">
                          over {r.trigger.window_s} s, for {r.trigger.for_s} s
                        </small>
                      </td>
                      <td>{r.action.type.replaceAll('_', ' ')}</td>
                      <td>{r.tenant_id ?? 'all tenants'}</td>
                      <td>
                        cooldown {r.cooldown_s} s · {r.max_actions_per_hour}/h
                      </td>
                      <td>
                        <Badge value={!r.enabled ? 'disabled' : r.dry_run ? 'dry_run' : 'active'} />
                      </td>
                      {props.isAdmin && (
                        <td>
                          <button type="button" onClick={() => setEditing(r)}>
                            Edit<span class="visually-hidden"> {r.name}</span>
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </DataState>
      </section>

      <section aria-labelledby="cooldowns-title">
        <h3 id="cooldowns-title">Cooldowns and pauses</h3>
        <DataState
          resource={cooldowns}
          what="cooldowns"
          empty={(d) => d.items.length === 0}
          emptyText="No endpoint is paused or cooling down."
        >
          {(d) => (
            <TableWrap label="Cooldowns table">
              <table aria-label="Cooldowns">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">Kind</th>
                    <th scope="col">By</th>
                    <th scope="col">Until</th>
                    {props.isAdmin && <th scope="col">Clear</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((c) => (
                    <tr>
                      <td class="url">{c.endpoint_url}</td>
                      <td>{c.tenant_id}</td>
                      <td>
                        <Badge value={c.kind} />
                      </td>
                      <td>{c.rule_name ?? c.paused_by ?? '—'}</td>
                      <td>{when(c.until)}</td>
                      {props.isAdmin && (
                        <td>
                          <button type="button" onClick={() => setClearing(c)}>
                            Clear cooldown<span class="visually-hidden"> of {c.endpoint_url}</span>
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </DataState>
      </section>

      <section aria-labelledby="executions-title">
        <h3 id="executions-title">Recent decisions</h3>
        <DataState
          resource={executions}
          what="decisions"
          empty={(d) => d.items.length === 0}
          emptyText="Autoheal has not acted yet."
        >
          {(d) => (
            <TableWrap label="Autoheal decisions table">
              <table aria-label="Autoheal decisions">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Rule</th>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Value</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((x) => (
                    <tr>
                      <td>{when(x.created_at)}</td>
                      <td>{x.rule_name}</td>
                      <td class="url">{x.endpoint_url}</td>
                      <td>
                        {x.metric.replaceAll('_', ' ')} {Math.round(x.value * 1000) / 1000} (≥ {x.threshold})
                      </td>
                      <td>
                        <Badge value={x.outcome} /> {x.action_type.replaceAll('_', ' ')}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </DataState>
      </section>

      {editing && (
        <RuleEditor
          rule={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            rules.reload();
          }}
        />
      )}
      {clearing && (
        <Confirm
          title="Clear this endpoint's cooldown?"
          body={
            <p>
              Ends the cooldowns of <code>{clearing.endpoint_url}</code> ({clearing.tenant_id}) now, lifts an autoheal
              pause and resets its failure baseline, so old failures cannot fire a rule again at once.
            </p>
          }
          action="Clear cooldown"
          run={async () => {
            const r = await api<{ cleared: boolean; endpoints: { cooldowns_cleared: number; resumed: boolean }[] }>(
              '/autoheal/clear_endpoint_cooldown',
              {
                method: 'POST',
                body: {
                  endpoint_url: clearing.endpoint_url,
                  tenant_id: clearing.tenant_id,
                  reason: 'cleared from the dashboard',
                },
              },
            );
            if (!r.cleared) return 'Nothing was left to clear.';
            const resumed = r.endpoints.some((e) => e.resumed);
            return `Cleared${resumed ? ' and resumed the endpoint' : ''}.`;
          }}
          onDone={() => {
            cooldowns.reload();
            executions.reload();
          }}
          onClose={() => setClearing(null)}
        />
      )}
    </>
  );
}

function RuleEditor(props: { rule: Rule | null; onClose: () => void; onSaved: () => void }) {
  const r = props.rule;
  const [form, setForm] = useState({
    name: r?.name ?? '',
    description: r?.description ?? '',
    tenant_id: r?.tenant_id ?? '',
    metric: r?.trigger.metric ?? 'consecutive_failures',
    threshold: String(r?.trigger.threshold ?? 10),
    window_s: String(r?.trigger.window_s ?? 300),
    min_requests: String(r?.trigger.min_requests ?? 10),
    for_s: String(r?.trigger.for_s ?? 0),
    action: r?.action.type ?? 'pause_endpoint',
    params: JSON.stringify(r?.action.params ?? { pause_s: 300 }),
    cooldown_s: String(r?.cooldown_s ?? 900),
    max_actions_per_hour: String(r?.max_actions_per_hour ?? 4),
    enabled: r?.enabled ?? true,
    dry_run: r?.dry_run ?? false,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: valueOf(e) });
  const check = (k: 'enabled' | 'dry_run') => (e: Event) =>
    setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).checked });

  const save = async () => {
    let params: unknown;
    try {
      params = JSON.parse(form.params || '{}');
    } catch {
      throw new ApiError(400, 'Action parameters must be JSON, e.g. {"pause_s": 300}');
    }
    const body = {
      name: form.name.trim(),
      description: form.description,
      tenant_id: form.tenant_id.trim() || null,
      trigger: {
        metric: form.metric,
        threshold: Number(form.threshold),
        window_s: Number(form.window_s),
        min_requests: Number(form.min_requests),
        for_s: Number(form.for_s),
      },
      action: { type: form.action, params },
      cooldown_s: Number(form.cooldown_s),
      max_actions_per_hour: Number(form.max_actions_per_hour),
      enabled: form.enabled,
      dry_run: form.dry_run,
    };
    if (r) await api(`/autoheal/rules/${r.id}`, { method: 'PATCH', body: { ...body, version: r.version } });
    else await api('/autoheal/rules', { method: 'POST', body });
  };

  return (
    <Dialog title={r ? `Edit rule ${r.name}` : 'New rule'} onClose={props.onClose} wide>
      <form
        class="dialog-body rule-form"
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          save()
            .then(props.onSaved)
            .catch((err: unknown) => setError(err instanceof ApiError ? err.detail : String(err)))
            .finally(() => setBusy(false));
        }}
      >
        <Field label="Name">
          <input required value={form.name} onInput={set('name')} />
        </Field>
        <Field label="Description">
          <input value={form.description} onInput={set('description')} />
        </Field>
        <Field label="Tenant" hint="Empty: every tenant.">
          <input value={form.tenant_id} onInput={set('tenant_id')} />
        </Field>
        <Field label="Trigger metric">
          <select value={form.metric} onChange={set('metric')}>
            {METRICS.map((m) => (
              <option value={m}>{m.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </Field>
        <Field label="Threshold">
          <input type="number" step="any" required value={form.threshold} onInput={set('threshold')} />
        </Field>
        <Field label="Window (s)">
          <input type="number" value={form.window_s} onInput={set('window_s')} />
        </Field>
        <Field label="Minimum requests">
          <input type="number" value={form.min_requests} onInput={set('min_requests')} />
        </Field>
        <Field label="Holds for (s)">
          <input type="number" value={form.for_s} onInput={set('for_s')} />
        </Field>
        <Field label="Action">
          <select value={form.action} onChange={set('action')}>
            {ACTIONS.map((a) => (
              <option value={a}>{a.replaceAll('_', ' ')}</option>
            ))}
          </select>
        </Field>
        <Field label="Action parameters (JSON)">
          <input value={form.params} onInput={set('params')} />
        </Field>
        <Field label="Cooldown (s)">
          <input type="number" value={form.cooldown_s} onInput={set('cooldown_s')} />
        </Field>
        <Field label="Actions per hour at most">
          <input type="number" value={form.max_actions_per_hour} onInput={set('max_actions_per_hour')} />
        </Field>
        <label class="check">
          <input type="checkbox" checked={form.enabled} onChange={check('enabled')} /> Enabled
        </label>
        <label class="check">
          <input type="checkbox" checked={form.dry_run} onChange={check('dry_run')} /> Dry run (record only)
        </label>
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
            {busy ? 'Saving…' : 'Save rule'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
