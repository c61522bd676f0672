import { api } from '../api';
import type { ViewProps } from '../app';
import { Badge, BarChart, DataState, percent, useResource } from '../components';
import type { Anomaly, Overview, TenantSummary } from '../types';

const REFRESH_MS = 15000;

export function OverviewView(_: ViewProps) {
  const health = useResource(
    () =>
      Promise.all([
        fetch('/readyz').then((r) => r.json() as Promise<{ status: string; database?: string; detail?: string }>),
        api<{ version: string }>('/meta'),
      ]),
    [],
    REFRESH_MS,
  );
  const overview = useResource(() => api<Overview>('/tenant_analytics/overview'), [], REFRESH_MS);
  const anomalies = useResource(() => api<{ items: Anomaly[] }>('/anomalies/current?limit=10'), [], REFRESH_MS);
  const tenants = useResource(() => api<{ items: TenantSummary[] }>('/tenant_analytics/summary?window=24h'), [], 60000);

  return (
    <div class="grid">
      <article class="card" aria-labelledby="health-title">
        <h3 id="health-title">Service</h3>
        <DataState resource={health} what="service health">
          {([ready, meta]) => (
            <dl class="facts">
              <dt>Status</dt>
              <dd data-testid="service-status">
                <Badge value={ready.status} />
              </dd>
              <dt>Store</dt>
              <dd>{ready.database ?? ready.detail ?? '—'}</dd>
              <dt>Version</dt>
              <dd>{meta.version}</dd>
            </dl>
          )}
        </DataState>
      </article>

      <article class="card" aria-labelledby="queue-title">
        <h3 id="queue-title">Queue</h3>
        <DataState resource={overview} what="the queue">
          {(o) => (
            <dl class="facts">
              <dt>Pending deliveries</dt>
              <dd data-testid="queue-depth">{o.pending}</dd>
              <dt>Paused endpoints</dt>
              <dd>{o.paused_endpoints}</dd>
              <dt>Tenants</dt>
              <dd>{o.tenants}</dd>
            </dl>
          )}
        </DataState>
      </article>

      <article class="card wide" aria-labelledby="traffic-title">
        <h3 id="traffic-title">Last hour</h3>
        <DataState resource={overview} what="delivery statistics">
          {(o) => {
            const label = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'short' });
            const perMinute = o.points.map((p) => ({
              label: label(p.bucket_start),
              value: (p.delivered + p.failed) / (o.bucket_s / 60),
            }));
            const failureRate = o.points.map((p) => ({
              label: label(p.bucket_start),
              value: p.attempts ? p.failures / p.attempts : 0,
            }));
            const finished = o.points.reduce((a, p) => a + p.delivered + p.failed, 0);
            const attempts = o.points.reduce((a, p) => a + p.attempts, 0);
            const failures = o.points.reduce((a, p) => a + p.failures, 0);
            return (
              <div class="charts">
                <BarChart
                  title="Deliveries per minute"
                  points={perMinute}
                  headline={`${finished} finished in the hour`}
                />
                <BarChart
                  title="Attempt failure rate"
                  points={failureRate}
                  format={(v) => percent(v)}
                  tone="bad"
                  headline={`${percent(attempts ? failures / attempts : 0)} over the hour`}
                />
              </div>
            );
          }}
        </DataState>
      </article>

      <article class="card" aria-labelledby="anomalies-title">
        <h3 id="anomalies-title">Open anomalies</h3>
        <DataState
          resource={anomalies}
          what="anomalies"
          empty={(d) => d.items.length === 0}
          emptyText="No open anomalies."
        >
          {(d) => (
            <ul class="plain">
              {d.items.map((a) => (
                <li>
                  <Badge value={a.severity} /> <strong>{a.tenant_id}</strong> {a.kind.replaceAll('_', ' ')}{' '}
                  <a href="#/anomalies">triage</a>
                </li>
              ))}
            </ul>
          )}
        </DataState>
      </article>

      <article class="card" aria-labelledby="tenants-title">
        <h3 id="tenants-title">Worst tenants (24 h)</h3>
        <DataState
          resource={tenants}
          what="tenant scores"
          empty={(d) => d.items.every((t) => t.health_score === null)}
          emptyText="No tenant has enough deliveries for a score yet."
        >
          {(d) => (
            <table>
              <caption class="visually-hidden">Tenants with the lowest health scores</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Score</th>
                  <th scope="col">Success</th>
                  <th scope="col">Failed</th>
                </tr>
              </thead>
              <tbody>
                {d.items
                  .filter((t) => t.health_score !== null)
                  .slice(0, 5)
                  .map((t) => (
                    <tr>
                      <td>{t.tenant_id}</td>
                      <td>
                        {t.health_score} <Badge value={t.status} />
                      </td>
                      <td>{percent(t.success_rate, 2)}</td>
                      <td>{t.failed}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </DataState>
      </article>
    </div>
  );
}
