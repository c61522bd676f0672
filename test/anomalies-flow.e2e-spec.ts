import { AnomalyDetector } from '../src/anomalies/anomaly-detector.js';
import { TenantHealthGauge } from '../src/tenant-analytics/tenant-health-gauge.js';
import { testDialects } from './support/dialects.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import { FakeClock } from './support/fake-clock.js';
import { BUCKET_MS, seedRollup } from './support/rollup-seed.js';
import { SseClient } from './support/sse-client.js';
import type { TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const INGEST = { 'X-User-Roles': 'ingest' };
const DAY_MS = 86_400_000;
const MIN = 60_000;

interface Anomaly {
  id: string;
  tenant_id: string;
  kind: string;
  signal: string;
  status: string;
  severity: string;
  current_value: number;
  baseline: { mode: string; median: number };
  band: { low: number; high: number };
  reopen_count: number;
  triage_note: string | null;
  triaged_by: string | null;
  assignee: string | null;
}
interface SummaryRow {
  tenant_id: string;
  health_score: number | null;
  status: string;
  success_rate: number | null;
  deliveries: number;
  failed: number;
  attempts: number;
  open_anomalies: number;
  paused_endpoints: number;
  pending: number;
}

describe.each(testDialects())('anomaly detection end to end with a real receiver (%s)', (dialect) => {
  let harness: DispatchHarness;
  let t: TestApp;
  let stream: SseClient;
  let detector: AnomalyDetector;
  const clock = new FakeClock();
  const endpointIds: Record<string, string> = {};

  /** Sends `n` deliveries for a tenant in one batch and waits until none is pending. */
  async function traffic(tenant: string, path: string, n: number): Promise<void> {
    const items = Array.from({ length: n }, (_, i) => ({
      tenant_id: tenant,
      endpoint_url: `${harness.base}${path}?${tenant}`,
      event_type: 'order.paid',
      payload: { i },
    }));
    const res = await t.http().post('/alerts/deliveries/batch').set(INGEST).send({ items }).expect(202);
    const [first] = (res.body as { items: { id: string }[] }).items;
    endpointIds[tenant] ??= (
      (await t.http().get(`/alerts/deliveries/${first.id}`).set(OPERATOR).expect(200)).body as { endpoint_id: string }
    ).endpoint_id;
    await eventually(
      async () =>
        (await t.http().get(`/alerts/deliveries/history?status=pending&tenant_id=${tenant}&limit=1`).set(OPERATOR))
          .body as { items: unknown[] },
      (page) => page.items.length === 0,
      `${tenant}'s deliveries to finish`,
      20_000,
    );
  }
  const current = async (headers: Record<string, string> = OPERATOR) =>
    (await t.http().get('/anomalies/current').set(headers).expect(200)).body.items as Anomaly[];
  const summary = async () =>
    (await t.http().get('/tenant_analytics/summary?window=24h').set(OPERATOR).expect(200)).body.items as SummaryRow[];
  /** Moves the clock to the start of the next bucket, plus a few seconds. */
  const nextBucket = () => clock.advance(BUCKET_MS - (clock.now().getTime() % BUCKET_MS) + 5_000);

  beforeAll(async () => {
    harness = await startDispatching(dialect, { clock, env: { RETRY_SCHEDULE: '0,0' } });
    t = harness.t;
    detector = t.app.get(AnomalyDetector);
    const base = await t.listen();
    stream = await SseClient.open(`${base}/events/stream?types=anomaly.*`, OPERATOR);

    // Two tenants with two days of steady history, 150 attempts a bucket: acme with 1 failing, calm with none.
    nextBucket();
    await traffic('acme', '/switch', 1);
    await traffic('calm', '/ok', 1);
    await traffic('flaky', '/flaky-1', 1);
    const now = clock.now().getTime();
    const bucketStart = now - (now % BUCKET_MS);
    for (const tenant of ['acme', 'calm']) {
      await seedRollup(t, tenant, endpointIds[tenant], now - 2 * DAY_MS, bucketStart, () => ({
        attempts: 150,
        failures: tenant === 'acme' ? 1 : 0,
        received: 20,
      }));
    }
    nextBucket();
  });
  afterAll(async () => {
    await stream?.close();
    await harness?.close();
  }, 60_000);

  let calmBefore: SummaryRow;

  it('knows the tenants from their history and sees nothing abnormal yet', async () => {
    expect((await detector.evaluate())?.tenants).toBe(3);
    await detector.evaluate();
    expect(await current()).toEqual([]);
    calmBefore = (await summary()).find((r) => r.tenant_id === 'calm')!;
    expect(calmBefore).toMatchObject({ health_score: 100, status: 'healthy', failed: 0 });
    const meta = (await t.http().get('/meta').expect(200)).body as { features: string[] };
    expect(meta.features).toEqual(expect.arrayContaining(['anomaly_detection', 'tenant_analytics']));
  });

  let anomaly: Anomaly;

  it('opens a failure spike after two anomalous evaluations when one tenant’s receiver starts failing', async () => {
    harness.receiver.failing = true;
    await traffic('acme', '/switch', 120);
    await traffic('calm', '/ok', 120);
    nextBucket();
    await traffic('acme', '/switch', 120);
    await traffic('calm', '/ok', 120);
    nextBucket(); // both failing buckets are complete: two of the three in the level window

    expect((await detector.evaluate())?.opened).toBe(0);
    // The same level window judged again is no new evidence; the next window is.
    expect((await detector.evaluate())?.opened).toBe(0);
    expect(await current()).toEqual([]);
    nextBucket();
    expect((await detector.evaluate())?.opened).toBe(1);

    const open = await current();
    expect(open).toHaveLength(1);
    anomaly = open[0];
    expect(anomaly).toMatchObject({
      tenant_id: 'acme',
      kind: 'failure_spike',
      signal: 'failure_ratio',
      status: 'open',
      severity: 'critical',
      current_value: 1,
      baseline: { mode: 'daily' },
      reopen_count: 0,
    });
    expect(anomaly.baseline.median).toBeCloseTo(1 / 150, 4);
    expect(anomaly.band.high).toBeCloseTo(1 / 150 + 0.05, 4);

    await stream.waitFor((f) => f.some((x) => x.event === 'anomaly.detected'), 5000, 'anomaly.detected');
    const [detected] = stream.payloads<{ tenant_id: string; subject: { id: string } }>('anomaly.detected');
    expect(detected).toMatchObject({ tenant_id: 'acme', subject: { id: anomaly.id } });

    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toContain(`command_center_anomalies_open{kind="failure_spike",severity="${anomaly.severity}"} 1`);
    expect(metrics).toMatch(/command_center_anomalies_open\{kind="volume_drop",severity="critical"\} 0/);
    // 480 real deliveries: bounded, but slow on a busy machine.
  }, 90_000);

  it('filters the current anomalies and scopes them to the caller’s tenant', async () => {
    expect(await current({ ...OPERATOR, 'X-User-Tenant': 'calm' })).toEqual([]);
    expect(await current({ ...OPERATOR, 'X-User-Tenant': 'acme' })).toHaveLength(1);
    const byKind = await t.http().get('/anomalies/current?kind=latency_spike').set(OPERATOR).expect(200);
    expect(byKind.body.items).toEqual([]);
    const bad = await t.http().get('/anomalies/current?kind=meltdown').set(OPERATOR).expect(400);
    expect(bad.body.detail).toMatch(/kind/);
    await t.http().get(`/anomalies/${anomaly.id}`).set(OPERATOR).expect(200);
    const hidden = await t
      .http()
      .get(`/anomalies/${anomaly.id}`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'calm' });
    expect(hidden.status).toBe(404);
    expect(hidden.body.detail).toBe('Anomaly not found');
  });

  it('scores each tenant on its own deliveries: acme’s failures do not move calm’s score', async () => {
    await t.app.get(TenantHealthGauge).refreshNow();
    const rows = await summary();
    const acme = rows.find((r) => r.tenant_id === 'acme')!;
    const calm = rows.find((r) => r.tenant_id === 'calm')!;
    const flaky = rows.find((r) => r.tenant_id === 'flaky')!;
    expect(rows[0].tenant_id).toBe('acme'); // worst first
    expect(acme.failed).toBeGreaterThanOrEqual(240);
    expect(acme.open_anomalies).toBe(1);
    expect(acme.status).toBe('critical');
    expect(calm).toMatchObject({ health_score: 100, status: 'healthy', failed: 0, success_rate: 1, open_anomalies: 0 });
    // The 24 h window now holds 283 seeded buckets of 150 and calm's own 241 deliveries.
    expect(calm.deliveries).toBe(283 * 150 + 241);
    expect(acme.health_score).toBeLessThan(70);
    // A delivery that failed once and then succeeded counts once, as good.
    expect(flaky).toMatchObject({
      deliveries: 1,
      failed: 0,
      success_rate: 1,
      attempts: 2,
      status: 'insufficient_data',
    });
    expect(flaky.health_score).toBeNull();

    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(
      new RegExp(`command_center_tenant_health_score\\{tenant_id="acme"\\} ${acme.health_score}`),
    );
    expect(metrics).not.toMatch(/command_center_tenant_health_score\{tenant_id="flaky"\}/);
  });

  it('gives the buckets of a tenant’s signal for a chart', async () => {
    const res = await t.http().get('/tenant_analytics/acme/timeseries?signal=failure_ratio&window=1h').set(OPERATOR);
    expect(res.status).toBe(200);
    const points = res.body.points as { bucket_start: string; value: number | null; attempts: number }[];
    expect(res.body.bucket_s).toBe(300);
    expect(points).toHaveLength(12);
    expect(points.filter((p) => p.value === 1 && p.attempts === 240)).toHaveLength(2);
    // Volume is what producers sent: 120 deliveries in each of those buckets, counted at ingest.
    const volume = await t.http().get('/tenant_analytics/acme/timeseries?signal=volume&window=1h').set(OPERATOR);
    const received = (volume.body.points as { value: number; attempts: number }[]).filter((p) => p.attempts === 240);
    expect(received.map((p) => p.value)).toEqual([120, 120]);
    const week = await t.http().get('/tenant_analytics/acme/timeseries?signal=attempts&window=7d').set(OPERATOR);
    expect(week.body.bucket_s).toBe(3600);
    expect(week.body.points).toHaveLength(168);
    await t.http().get('/tenant_analytics/nobody/timeseries?signal=volume').set(OPERATOR).expect(404);
    await t
      .http()
      .get('/tenant_analytics/acme/timeseries?signal=volume')
      .set({ ...OPERATOR, 'X-User-Tenant': 'calm' })
      .expect(404);
    const bad = await t.http().get('/tenant_analytics/acme/timeseries?signal=mood').set(OPERATOR).expect(400);
    expect(bad.body.detail).toMatch(/signal/);
    const badWindow = await t.http().get('/tenant_analytics/summary?window=2h').set(OPERATOR).expect(400);
    expect(badWindow.body.detail).toMatch(/window/);
  });

  it('triages with a note, on the stream and in the audit trail; refuses a missing note', async () => {
    const missing = await t.http().post(`/anomalies/${anomaly.id}/triage`).set(OPERATOR).send({});
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toMatch(/note/);
    await t.http().post(`/anomalies/${anomaly.id}/triage`).set(OPERATOR).send({ note: '   ' }).expect(400);
    await t
      .http()
      .post('/anomalies/00000000-0000-0000-0000-000000000000/triage')
      .set(OPERATOR)
      .send({ note: 'x' })
      .expect(404);
    await t
      .http()
      .post(`/anomalies/${anomaly.id}/triage`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'calm' })
      .send({ note: 'not mine' })
      .expect(404);
    await t
      .http()
      .post(`/anomalies/${anomaly.id}/triage`)
      .set({ 'X-User-Roles': 'ingest' })
      .send({ note: 'x' })
      .expect(403);

    const res = await t
      .http()
      .post(`/anomalies/${anomaly.id}/triage`)
      .set(OPERATOR)
      .send({ note: 'acme’s receiver returns 500 since the deploy', assignee: 'payments on-call' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'triaged',
      triage_note: 'acme’s receiver returns 500 since the deploy',
      assignee: 'payments on-call',
    });
    expect(res.body.triaged_by).toMatch(/operator/);
    await stream.waitFor((f) => f.some((x) => x.event === 'anomaly.triaged'), 5000, 'anomaly.triaged');
    const audit = await t.http().get('/events/audit?type=audit.anomaly.triage&limit=100').set(OPERATOR).expect(200);
    const results = (audit.body as { items: { data: { result: string } }[] }).items.map((i) => i.data.result);
    expect(results).toContain('success');
    expect(results).toContain('denied');
    expect((await current())[0].status).toBe('triaged'); // still current until it resolves
  });

  it('resolves by itself 15 minutes after the tenant is back inside its band', async () => {
    harness.receiver.failing = false;
    await traffic('acme', '/switch', 120);
    nextBucket();
    await traffic('acme', '/switch', 120);
    nextBucket(); // level window: a quiet bucket and two healthy ones
    await detector.evaluate();
    const inside = (await t.http().get(`/anomalies/${anomaly.id}`).set(OPERATOR).expect(200)).body as Anomaly & {
      inside_since: string | null;
    };
    expect(inside.status).toBe('triaged');
    expect(inside.inside_since).not.toBeNull();

    clock.advance(10 * MIN);
    expect((await detector.evaluate())?.resolved).toBe(0);
    clock.advance(5 * MIN);
    expect((await detector.evaluate())?.resolved).toBe(1);
    expect(await current()).toEqual([]);
    const resolved = (await t.http().get(`/anomalies/${anomaly.id}`).set(OPERATOR).expect(200)).body as Anomaly;
    expect(resolved.status).toBe('resolved');
    await stream.waitFor((f) => f.some((x) => x.event === 'anomaly.resolved'), 5000, 'anomaly.resolved');
    const conflict = await t.http().post(`/anomalies/${anomaly.id}/triage`).set(OPERATOR).send({ note: 'late' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toMatch(/resolved/);
  });

  it('reopens the same anomaly when the failures recur within the hour', async () => {
    harness.receiver.failing = true;
    await traffic('acme', '/switch', 120);
    nextBucket();
    await traffic('acme', '/switch', 120);
    nextBucket();
    expect((await detector.evaluate())?.reopened).toBe(0);
    nextBucket();
    expect((await detector.evaluate())?.reopened).toBe(1);
    const open = await current();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ id: anomaly.id, status: 'open', reopen_count: 1 });
    await stream.waitFor(
      (f) => f.filter((x) => x.event === 'anomaly.detected').length >= 2,
      5000,
      'the reopened anomaly.detected',
    );
    const detected = stream.payloads<{ subject: { id: string }; data: { reopen_count: number } }>('anomaly.detected');
    expect(detected).toHaveLength(2);
    expect(detected[1]).toMatchObject({ subject: { id: anomaly.id }, data: { reopen_count: 1 } });
  });
});
