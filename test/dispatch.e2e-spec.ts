import { DataSource } from 'typeorm';
import { postgresAvailable, testDialects } from './support/dialects.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { FakeClock } from './support/fake-clock.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { verifySignature, WebhookReceiver } from './support/webhook-receiver.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
type Detail = {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_error_kind: string | null;
  attempts: {
    attempt_number: number;
    trigger: string;
    status_code: number | null;
    error_kind: string | null;
    response_excerpt: string | null;
  }[];
};

describe.each(testDialects())('dispatch (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let harness: DispatchHarness;
  const clock = new FakeClock();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      clock,
      env: {
        DELIVERY_TIMEOUT_MS: '500',
        RETRY_SCHEDULE: '0,5,300',
      },
    });
    ({ t, receiver, base } = harness);
  });
  afterAll(() => harness.close());

  const submit = async (path: string, tenant = 'acme', payload: unknown = { n: 1 }) =>
    (
      await t
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: tenant, endpoint_url: `${base}${path}`, event_type: 'test.event', payload })
        .expect(202)
    ).body as { id: string; endpoint_id: string };
  const detail = async (id: string) =>
    (await t.http().get(`/alerts/deliveries/${id}`).set(OPERATOR).expect(200)).body as Detail;
  const settled = (id: string, attempts: number) =>
    eventually(
      () => detail(id),
      (d) => d.attempt_count >= attempts,
      `attempt ${attempts} of ${id}`,
    );
  const events = async (type: string) =>
    (
      (await t.http().get(`/events/audit?type=${type}&limit=1000`).set(OPERATOR).expect(200)).body as {
        items: { subject: { id: string }; data: Record<string, unknown> }[];
      }
    ).items;

  it('delivers a signed POST, records the attempt and the stats, and publishes nothing for a plain success', async () => {
    const registered = await t
      .http()
      .post('/alerts/endpoints')
      .set(INGEST)
      .send({ tenant_id: 'signed', url: `${base}/ok` })
      .expect(201);
    const delivery = await submit('/ok', 'signed', { invoice: 'inv_9', amount: 10 });
    const done = await settled(delivery.id, 1);
    expect(done.status).toBe('success');
    expect(done.attempts).toEqual([
      expect.objectContaining({
        attempt_number: 1,
        trigger: 'initial',
        status_code: 200,
        error_kind: null,
        response_excerpt: 'thanks',
      }),
    ]);
    const hook = receiver.hooks.find((h) => h.headers['webhook-id'] === delivery.id)!;
    expect(hook.body).toBe('{"invoice":"inv_9","amount":10}');
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['user-agent']).toMatch(/^CommandCenter-Webhooks\//);
    expect(verifySignature(registered.body.secret as string, hook)).toBe(true);
    expect(verifySignature(`whsec_${Buffer.alloc(32).toString('base64')}`, hook)).toBe(false);
    type StatsRow = { attempts: number; successes: number; delivered: number };
    const stats = await t.app
      .get(DataSource)
      .query<StatsRow[]>(`SELECT attempts, successes, delivered FROM delivery_stats_5m WHERE tenant_id = 'signed'`);
    expect(stats.map((s) => [Number(s.attempts), Number(s.successes), Number(s.delivered)])).toEqual([[1, 1, 1]]);
    expect((await events('delivery.*')).filter((e) => e.subject.id === delivery.id)).toEqual([]);
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^command_center_deliveries_total\{status="pending"\} [1-9]/m);
    expect(metrics).toMatch(/^command_center_deliveries_total\{status="success"\} [1-9]/m);
    expect(metrics).toMatch(/^command_center_delivery_attempts_total\{result="success"\} [1-9]/m);
    expect(metrics).toMatch(/^command_center_delivery_attempt_duration_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^command_center_delivery_queue_depth \d+$/m);
    expect(metrics).toMatch(/^command_center_delivery_oldest_pending_seconds \d+(\.\d+)?$/m);
  });

  it('retries on the schedule (driven by the clock), keeps the webhook-id, and ends failed', async () => {
    const delivery = await submit('/fail');
    let d = await settled(delivery.id, 1);
    expect(d).toMatchObject({ status: 'pending', last_error_kind: 'http_status' });
    const wait = new Date(d.next_attempt_at!).getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThan(3500);
    expect(wait).toBeLessThan(6500);
    clock.advance(7000);
    d = await settled(delivery.id, 2);
    expect(d.attempts[1]).toMatchObject({ trigger: 'retry', status_code: 500, response_excerpt: 'receiver exploded' });
    clock.advance(400_000);
    d = await settled(delivery.id, 3);
    expect(d).toMatchObject({ status: 'failed', next_attempt_at: null });
    const hits = receiver.hooks.filter((h) => h.headers['webhook-id'] === delivery.id);
    expect(hits).toHaveLength(3);
    const mine = (await events('delivery.*')).filter((e) => e.subject.id === delivery.id);
    expect(mine.map((e) => (e as unknown as { type: string }).type).sort()).toEqual([
      'delivery.attempt_failed',
      'delivery.attempt_failed',
      'delivery.exhausted',
    ]);
  });

  it('publishes delivery.recovered when a retry succeeds', async () => {
    const delivery = await submit('/flaky-1');
    await settled(delivery.id, 1);
    clock.advance(7000);
    const d = await settled(delivery.id, 2);
    expect(d.status).toBe('success');
    expect((await events('delivery.recovered')).some((e) => e.subject.id === delivery.id)).toBe(true);
  });

  it('disables the endpoint on 410; later deliveries to it fail without a request', async () => {
    const disabledGauge = async () =>
      Number(/^command_center_endpoints_disabled (\d+)$/m.exec((await t.http().get('/metrics').expect(200)).text)?.[1]);
    const disabledBefore = await disabledGauge();
    const first = await submit('/gone', 'gone');
    const d = await settled(first.id, 1);
    expect(d.status).toBe('failed');
    const endpoint = await t.http().get(`/alerts/endpoints/${first.endpoint_id}`).set(OPERATOR).expect(200);
    expect(endpoint.body).toMatchObject({ state: 'disabled', disabled_reason: 'The endpoint answered 410 Gone' });
    expect(await disabledGauge()).toBe(disabledBefore + 1);
    const hitsBefore = receiver.hits('/gone').length;
    const second = await submit('/gone', 'gone');
    const d2 = await settled(second.id, 1);
    expect(d2).toMatchObject({ status: 'failed', last_error_kind: 'endpoint_disabled' });
    expect(receiver.hits('/gone')).toHaveLength(hitsBefore);
  });

  it('honours Retry-After on 429', async () => {
    const delivery = await submit('/limited');
    const d = await settled(delivery.id, 1);
    const wait = new Date(d.next_attempt_at!).getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThan(6000);
    expect(wait).toBeLessThan(7500);
  });

  it.each([
    ['/slow', 'timeout', null],
    ['/redirect', 'http_status', 302],
  ])('records %s as %s', async (path, kind, code) => {
    const okHits = receiver.hits('/ok').length;
    const delivery = await submit(path);
    const d = await settled(delivery.id, 1);
    expect(d.attempts[0]).toMatchObject({ error_kind: kind, status_code: code });
    if (path === '/redirect') expect(receiver.hits('/ok')).toHaveLength(okHits);
  });

  it('keeps at most 4 KiB of a huge response', async () => {
    const delivery = await submit('/big');
    const d = await settled(delivery.id, 1);
    expect(d.status).toBe('success');
    expect(d.attempts[0].response_excerpt!.length).toBeLessThanOrEqual(4096);
  });

  it('takes over a delivery whose lease expired', async () => {
    const delivery = await submit('/ok', 'lease', { lease: true });
    await settled(delivery.id, 1);
    const ds = t.app.get(DataSource);
    const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?');
    const past =
      dialect === 'postgres'
        ? new Date(Date.now() - 60_000)
        : new Date(Date.now() - 60_000).toISOString().replace('T', ' ').replace('Z', '');
    await ds.query(
      `UPDATE deliveries SET status = 'pending', attempt_count = 1, next_attempt_at = ${p(1)}, lease_owner = 'a-replica-that-died', lease_expires_at = ${p(2)} WHERE id = ${p(3)}`,
      [past, past, delivery.id],
    );
    const d = await settled(delivery.id, 2);
    expect(d.status).toBe('success');
  });
});

describe.each(testDialects())('SSRF guard (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = new WebhookReceiver();
    await receiver.start();
    t = await createTestApp(dialect, { env: { DISPATCHER_ENABLED: 'true', DELIVERY_TIMEOUT_MS: '500' } });
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  it.each([
    ['loopback', (port: number) => `http://127.0.0.1:${port}/ok`],
    ['a name that resolves to loopback', (port: number) => `http://localhost:${port}/ok`],
    ['IPv6 loopback', (port: number) => `http://[::1]:${port}/ok`],
    ['IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/ok`],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data'],
    ['a private range', () => 'http://10.0.0.1/hook'],
  ])('refuses %s without sending', async (_name, url) => {
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: 'ssrf', endpoint_url: url(receiver.port), event_type: 'test.event', payload: {} })
      .expect(202);
    const d = await eventually(
      async () => (await t.http().get(`/alerts/deliveries/${res.body.id}`).set(OPERATOR).expect(200)).body as Detail,
      (x) => x.attempt_count >= 1,
      'the attempt',
    );
    expect(d.attempts[0]).toMatchObject({ error_kind: 'ssrf_blocked', status_code: null });
    expect(receiver.hooks).toEqual([]);
  });
});

describe.each(testDialects())('redirects (%s)', (dialect) => {
  let harness: DispatchHarness;
  let inside: WebhookReceiver;
  let insideBase: string;
  beforeAll(async () => {
    // Only 127.0.0.1 is allowed; 127.0.0.2 stands for a private address the endpoint points at.
    harness = await startDispatching(dialect, { env: { DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.1/32' } });
    inside = new WebhookReceiver();
    insideBase = await inside.start('127.0.0.2');
  });
  afterAll(async () => {
    await harness.close();
    await inside.stop();
  });

  it('records a redirect to a private address as a failure and never connects to it', async () => {
    const { t, base, receiver } = harness;
    const target = encodeURIComponent(`${insideBase}/ok`);
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({
        tenant_id: 'redir',
        endpoint_url: `${base}/redirect?to=${target}`,
        event_type: 'test.event',
        payload: {},
      })
      .expect(202);
    const d = await eventually(
      async () => (await t.http().get(`/alerts/deliveries/${res.body.id}`).set(OPERATOR).expect(200)).body as Detail,
      (x) => x.attempt_count >= 1,
      'the attempt',
    );
    expect(d.attempts[0]).toMatchObject({ error_kind: 'http_status', status_code: 302 });
    expect(receiver.hits('/redirect')).toHaveLength(1);
    expect(inside.hooks).toEqual([]);
  });

  it('still refuses the private address when it is the endpoint itself', async () => {
    const { t } = harness;
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: 'redir', endpoint_url: `${insideBase}/ok`, event_type: 'test.event', payload: {} })
      .expect(202);
    const d = await eventually(
      async () => (await t.http().get(`/alerts/deliveries/${res.body.id}`).set(OPERATOR).expect(200)).body as Detail,
      (x) => x.attempt_count >= 1,
      'the attempt',
    );
    expect(d.attempts[0]).toMatchObject({ error_kind: 'ssrf_blocked', status_code: null });
    expect(inside.hooks).toEqual([]);
  });
});

(postgresAvailable() ? describe : describe.skip)('two dispatchers on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;
  let base: string;

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    base = await receiver.start();
    db = await createTestDatabase('postgres');
    const env = {
      DISPATCHER_ENABLED: 'true',
      DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
      DISPATCH_CONCURRENCY: '8',
    };
    a = await createTestApp('postgres', { database: db, env });
    b = await createTestApp('postgres', { database: db, env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await receiver.stop();
  });

  it('never sends one attempt twice', async () => {
    const items = Array.from({ length: 120 }, (_, i) => ({
      tenant_id: `t${i % 3}`,
      endpoint_url: `${base}/ok?e=${i % 6}`,
      event_type: 'test.shared',
      payload: { i },
    }));
    // Submitted through both replicas, so both dispatchers are woken and compete for the rows.
    await a
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({ items: items.slice(0, 60) })
      .expect(202);
    await b
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({ items: items.slice(60) })
      .expect(202);
    await eventually(
      async () =>
        (
          (await a.http().get('/alerts/deliveries/history?status=success&limit=500').set(OPERATOR).expect(200))
            .body as { items: unknown[] }
        ).items.length,
      (n) => n === 120,
      'all 120 deliveries to succeed',
      20000,
    );
    const ids = receiver.hooks.map((h) => String(h.headers['webhook-id']));
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
  });
});
