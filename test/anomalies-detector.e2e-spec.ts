import { AnomalyDetector } from '../src/anomalies/anomaly-detector.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { BUCKET_MS, seedRollup, type SeedBucket } from './support/rollup-seed.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const INGEST = { 'X-User-Roles': 'ingest' };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface Anomaly {
  tenant_id: string;
  kind: string;
  status: string;
  severity: string;
  baseline: { mode: string; median: number };
  current_value: number;
}

/** Deterministic wobble of ±10 % per bucket, so MADs are not zero. */
const wobble = (s: number) => 1 + 0.1 * Math.sin(s / 3_100_000);
/** A weekday-shaped tenant: 600 deliveries a bucket by day (08-20 UTC), 150 at night, 1 % failing, ~200 ms. */
function normal(s: number): SeedBucket {
  const h = new Date(s).getUTCHours();
  const n = Math.round((h >= 8 && h < 20 ? 600 : 150) * wobble(s));
  return { attempts: n, received: n, failures: Math.round(n * 0.01), latency: [0, n, 0, 0, 0, 0, 0, 0] };
}

describe.each(testDialects())('anomaly detector over weeks of rollups (%s)', (dialect) => {
  let t: TestApp;
  let detector: AnomalyDetector;
  const clock = new FakeClock();

  async function tenantWithHistory(
    tenant: string,
    days: number,
    make: (s: number, inLevel: boolean) => SeedBucket | null,
  ) {
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: tenant, endpoint_url: `https://hooks.example/${tenant}`, event_type: 'e', payload: {} })
      .expect(202);
    const now = clock.now().getTime();
    const levelStart = now - (now % BUCKET_MS) - 3 * BUCKET_MS;
    await seedRollup(
      t,
      tenant,
      (res.body as { endpoint_id: string }).endpoint_id,
      now - days * DAY_MS,
      levelStart + 3 * BUCKET_MS,
      (s) => make(s, s >= levelStart),
    );
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, { clock });
    detector = t.app.get(AnomalyDetector);
    // Evaluate at 10:02 UTC on some day: the level window is 09:45-10:00, the weekly hour 09:00.
    const now = clock.now().getTime();
    clock.advance(DAY_MS - (now % DAY_MS) + 10 * HOUR_MS + 2 * 60_000);
    await tenantWithHistory('steady', 22, (s) => normal(s));
    await tenantWithHistory('drop', 22, (s, level) =>
      level ? { ...normal(s), received: 20, attempts: 20, failures: 0 } : normal(s),
    );
    await tenantWithHistory('slow', 22, (s, level) =>
      level ? { ...normal(s), latency: [0, 0, 0, 0, normal(s).attempts, 0, 0, 0] } : normal(s),
    );
    await tenantWithHistory('failing', 4, (s, level) =>
      level ? { ...normal(s), failures: Math.round(normal(s).attempts * 0.3) } : normal(s),
    );
    await tenantWithHistory('young', 0.5, (s, level) =>
      level ? { ...normal(s), failures: normal(s).attempts } : normal(s),
    );
    await tenantWithHistory('quiet', 22, (s, level) =>
      level ? null : { attempts: 3, received: 3, failures: s % 7 === 0 ? 1 : 0 },
    );
  });
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  it('finds each kind against the tenant’s own baseline, and nothing on steady, young and quiet tenants', async () => {
    const first = await detector.evaluate();
    expect(first).toMatchObject({ led: true, tenants: 6, opened: 0 });
    expect((await detector.evaluate())?.opened).toBe(0); // the same level window again
    clock.advance(5 * 60_000);
    const second = await detector.evaluate();
    expect(second?.opened).toBe(3);

    const items = (await t.http().get('/anomalies/current').set(OPERATOR).expect(200)).body.items as Anomaly[];
    const found = Object.fromEntries(items.map((a) => [a.tenant_id, a]));
    expect(Object.keys(found).sort()).toEqual(['drop', 'failing', 'slow']);
    expect(found.drop).toMatchObject({
      kind: 'volume_drop',
      status: 'open',
      severity: 'critical',
      baseline: { mode: 'weekly' },
    });
    expect(found.drop.baseline.median).toBeGreaterThan(500); // 09:00-10:00 is daytime: ~600 a bucket
    expect(found.drop.current_value).toBe(20);
    expect(found.slow).toMatchObject({ kind: 'latency_spike', baseline: { mode: 'weekly' }, severity: 'critical' });
    expect(found.slow.current_value).toBeGreaterThan(1000);
    expect(found.failing).toMatchObject({ kind: 'failure_spike', baseline: { mode: 'daily' }, severity: 'critical' });

    const drops = (await t.http().get('/anomalies/current?kind=volume_drop').set(OPERATOR).expect(200)).body
      .items as Anomaly[];
    expect(drops.map((a) => a.tenant_id)).toEqual(['drop']);
    const summary = (await t.http().get('/tenant_analytics/summary?window=1h').set(OPERATOR).expect(200)).body
      .items as { tenant_id: string; open_anomalies: number; status: string }[];
    expect(summary.find((r) => r.tenant_id === 'drop')?.open_anomalies).toBe(1);
    expect(summary.find((r) => r.tenant_id === 'quiet')?.status).toBe('insufficient_data');
  });

  it('keeps one anomaly per tenant and signal over further evaluations', async () => {
    const third = await detector.evaluate();
    expect(third).toMatchObject({ opened: 0, reopened: 0, resolved: 0 });
    const items = (await t.http().get('/anomalies/current').set(OPERATOR).expect(200)).body.items as Anomaly[];
    expect(items).toHaveLength(3);
  });
});
