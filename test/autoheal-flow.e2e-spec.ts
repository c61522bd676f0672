import { DataSource } from 'typeorm';
import { AutohealEngine } from '../src/autoheal/autoheal-engine.js';
import { postgresAvailable, testDialects } from './support/dialects.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import { FakeClock } from './support/fake-clock.js';
import { SseClient } from './support/sse-client.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };
const INGEST = { 'X-User-Roles': 'ingest' };

type Rule = { id: string; name: string; version: number };
type Detail = { id: string; status: string; attempts: { trigger: string; status_code: number | null }[] };

async function tuneBuiltinPause(t: TestApp, changes: Record<string, unknown>): Promise<Rule> {
  const rules = (await t.http().get('/autoheal/rules').set(OPERATOR).expect(200)).body.items as Rule[];
  const pause = rules.find((r) => r.name === 'pause-after-10-consecutive-failures')!;
  return (
    await t
      .http()
      .patch(`/autoheal/rules/${pause.id}`)
      .set(ADMIN)
      .send({ version: pause.version, ...changes })
      .expect(200)
  ).body as Rule;
}

describe.each(testDialects())('autoheal end to end with a real receiver (%s)', (dialect) => {
  let harness: DispatchHarness;
  let t: TestApp;
  let stream: SseClient;
  const clock = new FakeClock();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      clock,
      env: { RETRY_SCHEDULE: '0', AUTOHEAL_ENABLED: 'true', AUTOHEAL_INTERVAL_S: '3600' },
    });
    t = harness.t;
    await tuneBuiltinPause(t, {
      trigger: { metric: 'consecutive_failures', threshold: 3, min_requests: 3 },
      action: { type: 'pause_endpoint', params: { pause_s: 10 } },
    });
    const base = await t.listen();
    stream = await SseClient.open(`${base}/events/stream?types=autoheal.*,endpoint.*`, OPERATOR);
  });
  afterAll(async () => {
    await stream?.close();
    await harness.close();
  });

  const submit = async (n: number) =>
    (
      await t
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: 'heal', endpoint_url: `${harness.base}/flaky-3?heal`, event_type: 'e.t', payload: { n } })
        .expect(202)
    ).body as { id: string; endpoint_id: string };
  const detail = async (id: string) =>
    (await t.http().get(`/alerts/deliveries/${id}`).set(OPERATOR).expect(200)).body as Detail;
  const endpoint = async (id: string) =>
    (await t.http().get(`/alerts/endpoints/${id}`).set(OPERATOR).expect(200)).body as {
      state: string;
      paused_by: string;
    };

  it('pauses a failing endpoint, holds its deliveries, probes, resumes and replays what failed', async () => {
    const failed = [];
    for (let n = 0; n < 3; n++) {
      const d = await submit(n);
      failed.push(d);
      await eventually(
        () => detail(d.id),
        (x) => x.status === 'failed',
        `delivery ${n} to fail`,
      );
    }
    const endpointId = failed[0].endpoint_id;
    await eventually(
      () => endpoint(endpointId),
      (e) => e.state === 'paused',
      'the autoheal pause',
    );
    expect((await endpoint(endpointId)).paused_by).toBe('autoheal:pause-after-10-consecutive-failures');

    const held = [await submit(3), await submit(4)];
    await new Promise((r) => setTimeout(r, 1200));
    for (const d of held) expect(await detail(d.id)).toMatchObject({ status: 'pending', attempts: [] });
    expect(harness.receiver.hits('/flaky-3')).toHaveLength(3);

    clock.advance(11_000); // the pause (10 s, set on the database clock) has run out
    const all = [...failed, ...held];
    await eventually(
      async () => Promise.all(all.map((d) => detail(d.id))),
      (ds) => ds.every((d) => d.status === 'success'),
      'every delivery to succeed',
      15_000,
    );
    expect((await endpoint(endpointId)).state).toBe('active');

    const triggers = (await Promise.all(all.map((d) => detail(d.id)))).flatMap((d) => d.attempts.map((a) => a.trigger));
    expect(triggers.filter((x) => x === 'probe')).toHaveLength(1);
    expect(triggers.filter((x) => x === 'autoheal')).toHaveLength(3);
    // Each delivery succeeded exactly once at the receiver: 3 failures, then one success per delivery.
    const hooks = harness.receiver.hits('/flaky-3');
    expect(hooks).toHaveLength(3 + all.length);
    const successes = hooks.slice(3).map((h) => h.headers['webhook-id']);
    expect(new Set(successes)).toEqual(new Set(all.map((d) => d.id)));

    const fired = await t.http().get('/events/audit?type=autoheal.fired').set(OPERATOR).expect(200);
    expect((fired.body.items as { data: { action: string } }[]).map((e) => e.data.action)).toEqual([
      'replay_failed',
      'pause_endpoint',
    ]);
    const lifecycle = await t.http().get('/events/audit?type=endpoint.*').set(OPERATOR).expect(200);
    expect((lifecycle.body.items as { type: string }[]).map((e) => e.type)).toEqual(
      expect.arrayContaining(['endpoint.paused', 'endpoint.resumed', 'endpoint.recovered']),
    );
    await stream.waitFor((f) => f.filter((x) => x.event === 'autoheal.fired').length >= 2, 5000, 'autoheal events');
    expect(stream.events().map((f) => f.event)).toEqual(
      expect.arrayContaining(['autoheal.fired', 'endpoint.paused', 'endpoint.resumed', 'endpoint.recovered']),
    );
  });
});

describe.each(testDialects())('autoheal timing (%s)', (dialect) => {
  let t: TestApp;
  const skewed = new FakeClock();
  beforeAll(async () => {
    skewed.advance(2 * 3_600_000); // the application host is two hours ahead
    t = await createTestApp(dialect, { clock: skewed });
    await tuneBuiltinPause(t, { trigger: { metric: 'consecutive_failures', threshold: 3, min_requests: 3 } });
  });
  afterAll(() => t.close());

  it('sets cooldowns from the database clock, whatever the application clock says', async () => {
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: 'skew', endpoint_url: 'https://hooks.skew.example/in', event_type: 'e.t', payload: {} })
      .expect(202);
    const p = dialect === 'postgres' ? ['$1'] : ['?'];
    await t.app
      .get(DataSource)
      .query(`UPDATE endpoints SET consecutive_failures = 5 WHERE id = ${p[0]}`, [res.body.endpoint_id]);
    const before = Date.now();
    await t.app.get(AutohealEngine).evaluate();
    const items = (await t.http().get('/autoheal/cooldowns?tenant_id=skew').set(OPERATOR).expect(200)).body.items as {
      kind: string;
      until: string;
    }[];
    const cooldown = new Date(items.find((i) => i.kind === 'cooldown')!.until).getTime();
    const pause = new Date(items.find((i) => i.kind === 'paused')!.until).getTime();
    expect(cooldown - before).toBeGreaterThanOrEqual(900_000 - 1000);
    expect(cooldown - before).toBeLessThan(900_000 + 10_000);
    expect(pause - before).toBeLessThan(300_000 + 10_000);
  });
});

(postgresAvailable() ? describe : describe.skip)('two autoheal engines on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = await createTestApp('postgres', { database: db });
    b = await createTestApp('postgres', { database: db });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('takes exactly one action, whichever evaluates', async () => {
    await tuneBuiltinPause(a, { trigger: { metric: 'consecutive_failures', threshold: 3, min_requests: 3 } });
    const res = await a
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: 'pair', endpoint_url: 'https://hooks.pair.example/in', event_type: 'e.t', payload: {} })
      .expect(202);
    await a.app
      .get(DataSource)
      .query('UPDATE endpoints SET consecutive_failures = 5 WHERE id = $1', [res.body.endpoint_id]);
    const results = await Promise.all([
      a.app.get(AutohealEngine).evaluate(),
      b.app.get(AutohealEngine).evaluate(),
      a.app.get(AutohealEngine).evaluate(),
      b.app.get(AutohealEngine).evaluate(),
    ]);
    expect(results.filter((r) => r?.led).length).toBeGreaterThan(0);
    // Only one replica ever leads while it lives.
    const leaders = new Set(results.map((r, i) => (r?.led ? i % 2 : -1)).filter((i) => i >= 0));
    expect(leaders.size).toBe(1);
    for (const app of [a, b]) await app.app.get(AutohealEngine).evaluate();
    const fired = await a.http().get('/autoheal/executions?outcome=fired').set(OPERATOR).expect(200);
    expect(fired.body.items).toHaveLength(1);
    const events = await b.http().get('/events/audit?type=endpoint.paused').set(OPERATOR).expect(200);
    expect(events.body.items).toHaveLength(1);
  });
});
