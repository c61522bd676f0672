import { DataSource } from 'typeorm';
import { TransactionRunner, type Tx } from '../src/database/transaction-runner.js';
import { EndpointHealing } from '../src/deliveries/endpoint-healing.service.js';
import { postgresAvailable, testDialects } from './support/dialects.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import { FakeClock } from './support/fake-clock.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };

type Detail = {
  id: string;
  status: string;
  attempt_count: number;
  last_error_kind: string | null;
  attempts: { trigger: string; started_at: string; status_code: number | null }[];
};
type EndpointView = {
  id: string;
  state: string;
  paused_until: string | null;
  paused_by: string | null;
  disabled_reason: string | null;
  consecutive_failures: number;
  autoheal_paused: boolean;
  pause_streak: number;
};
type Event = { type: string; severity: string; subject: { id: string } | null; data: Record<string, unknown> };

/** Long enough for the dispatcher to have polled a few times (it polls every 500 ms). */
const QUIET_MS = 1200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls on EndpointHealing the way the autoheal engine does: inside its own transaction. */
function healingOf(t: TestApp) {
  const healing = t.app.get(EndpointHealing);
  const runner = t.app.get(TransactionRunner);
  return {
    healing,
    inTx: <T>(work: (tx: Tx, h: EndpointHealing) => Promise<T>) => runner.run((tx) => work(tx, healing)),
  };
}

describe.each(testDialects())('endpoint healing: pause, probe, resume (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let harness: DispatchHarness;
  let heal: ReturnType<typeof healingOf>;
  const clock = new FakeClock();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      clock,
      // One attempt per delivery; the third autoheal pause in a row disables.
      env: { RETRY_SCHEDULE: '0', AUTOHEAL_DISABLE_AFTER_PAUSES: '3' },
    });
    ({ t, receiver, base } = harness);
    heal = healingOf(t);
  });
  afterAll(() => harness.close());

  const register = async (path: string, tenant = 'heal') =>
    (
      (
        await t
          .http()
          .post('/alerts/endpoints')
          .set(INGEST)
          .send({ tenant_id: tenant, url: `${base}${path}` })
          .expect(201)
      ).body as { id: string }
    ).id;
  const submit = async (path: string, tenant = 'heal') =>
    (
      await t
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: tenant, endpoint_url: `${base}${path}`, event_type: 'test.heal', payload: { path } })
        .expect(202)
    ).body as { id: string; endpoint_id: string };
  const detail = async (id: string) =>
    (await t.http().get(`/alerts/deliveries/${id}`).set(OPERATOR).expect(200)).body as Detail;
  const settled = (id: string) =>
    eventually(
      () => detail(id),
      (d) => d.status !== 'pending',
      `delivery ${id} to finish`,
    );
  const endpoint = async (id: string) =>
    (await t.http().get(`/alerts/endpoints/${id}`).set(OPERATOR).expect(200)).body as EndpointView;
  const eventsOf = async (endpointId: string) =>
    (
      (await t.http().get('/events/audit?type=endpoint.*&limit=1000').set(OPERATOR).expect(200)).body as {
        items: Event[];
      }
    ).items
      .filter((e) => e.subject?.id === endpointId)
      .reverse();
  const hitsOf = (id: string) => receiver.hooks.filter((h) => h.headers['webhook-id'] === id).length;
  const pause = (endpointId: string, durationS: number) =>
    heal.inTx((tx, h) => h.pause(tx, endpointId, { durationS, by: 'autoheal:test-rule', now: clock.now() }));
  const pausedGauge = async () =>
    Number(/^command_center_endpoints_paused (\d+)$/m.exec((await t.http().get('/metrics').expect(200)).text)?.[1]);

  it('holds the deliveries past the pause, then one probe resumes the endpoint and the rest flow', async () => {
    // A failure streak first, as autoheal would see before pausing.
    const failed = await submit('/flaky-1?held');
    expect(await settled(failed.id)).toMatchObject({ status: 'failed' });
    const id = failed.endpoint_id;
    const pausedBefore = await pausedGauge();

    const result = await pause(id, 60);
    expect(result).toEqual({ paused: true, until: expect.any(Date), disabled: false });
    expect(result.until!.getTime() - clock.now().getTime()).toBeGreaterThan(59_000);
    expect(await endpoint(id)).toMatchObject({
      state: 'paused',
      paused_by: 'autoheal:test-rule',
      autoheal_paused: true,
      pause_streak: 1,
      consecutive_failures: 1,
    });
    expect(await pausedGauge()).toBe(pausedBefore + 1);

    const held = [await submit('/flaky-1?held'), await submit('/flaky-1?held'), await submit('/flaky-1?held')];
    await sleep(QUIET_MS);
    for (const d of held) expect(await detail(d.id)).toMatchObject({ status: 'pending', attempt_count: 0 });

    clock.advance(61_000);
    for (const d of held) expect(await settled(d.id)).toMatchObject({ status: 'success', attempt_count: 1 });
    const attempts = await Promise.all(held.map(async (d) => (await detail(d.id)).attempts[0]));
    // The oldest went first, alone, as the probe; the others only after it succeeded.
    expect(attempts.map((a) => a.trigger)).toEqual(['probe', 'initial', 'initial']);
    const probeAt = new Date(attempts[0].started_at).getTime();
    for (const a of attempts.slice(1)) expect(new Date(a.started_at).getTime()).toBeGreaterThan(probeAt);
    for (const d of held) expect(hitsOf(d.id)).toBe(1);

    expect(await endpoint(id)).toMatchObject({
      state: 'active',
      paused_until: null,
      paused_by: null,
      autoheal_paused: false,
      pause_streak: 0,
      consecutive_failures: 0,
    });
    expect(await pausedGauge()).toBe(pausedBefore);
    const events = await eventsOf(id);
    expect(events.map((e) => [e.type, e.severity])).toEqual([
      ['endpoint.paused', 'warning'],
      ['endpoint.resumed', 'info'],
      ['endpoint.recovered', 'info'],
    ]);
    expect(events[0].data).toMatchObject({ by: 'autoheal:test-rule', pause_s: 60, pause_streak: 1, tenant: 'heal' });
    expect(events[1].data).toMatchObject({ by: 'probe' });
    expect(events[2].data).toMatchObject({ endpoint_id: id, endpoint_url: `${base}/flaky-1?held`, after_failures: 1 });
  });

  it('pauses twice as long after a failed probe, and disables the endpoint at the pause limit', async () => {
    const id = await register('/fail?probe');
    await pause(id, 60);
    const held = [await submit('/fail?probe'), await submit('/fail?probe'), await submit('/fail?probe')];
    await sleep(QUIET_MS);
    expect(held.map((d) => hitsOf(d.id))).toEqual([0, 0, 0]);

    clock.advance(61_000);
    const first = await settled(held[0].id);
    expect(first.attempts).toEqual([expect.objectContaining({ trigger: 'probe', status_code: 500 })]);
    await sleep(QUIET_MS);
    expect(held.map((d) => hitsOf(d.id))).toEqual([1, 0, 0]);
    const repaused = await endpoint(id);
    expect(repaused).toMatchObject({ state: 'paused', autoheal_paused: true, pause_streak: 2 });
    const pausedFor = new Date(repaused.paused_until!).getTime() - new Date(first.attempts[0].started_at).getTime();
    expect(pausedFor).toBeGreaterThanOrEqual(120_000);
    expect(pausedFor).toBeLessThan(125_000);

    clock.advance(121_000);
    expect((await settled(held[1].id)).attempts).toEqual([expect.objectContaining({ trigger: 'probe' })]);
    const disabled = await eventually(
      () => endpoint(id),
      (e) => e.state === 'disabled',
      'the endpoint to be disabled',
    );
    expect(disabled).toMatchObject({ autoheal_paused: false, pause_streak: 0, paused_until: null });
    expect(disabled.disabled_reason).toMatch(/paused it 3 times in a row/);
    // Like any disabled endpoint's, the rest fail without a request.
    expect(await settled(held[2].id)).toMatchObject({ status: 'failed', last_error_kind: 'endpoint_disabled' });
    expect(held.map((d) => hitsOf(d.id))).toEqual([1, 1, 0]);

    const events = await eventsOf(id);
    expect(events.map((e) => [e.type, e.severity])).toEqual([
      ['endpoint.paused', 'warning'],
      ['endpoint.probe_failed', 'warning'],
      ['endpoint.disabled', 'critical'],
    ]);
    expect(events[1].data).toMatchObject({ pause_s: 120, pause_streak: 2 });
    expect(events[2].data).toMatchObject({ pause_streak: 3 });
  });

  it('probes again when the replica holding a probe died', async () => {
    const id = await register('/ok?orphan');
    await pause(id, 600);
    const held = await submit('/ok?orphan');
    // A replica took the probe and died: both its leases have run out.
    const ds = t.app.get(DataSource);
    const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?');
    const past = new Date(clock.now().getTime() - 60_000);
    const at = dialect === 'postgres' ? past : past.toISOString().replace('T', ' ').replace('Z', '');
    await ds.query(`UPDATE endpoints SET probe_lease_until = ${p(1)} WHERE id = ${p(2)}`, [at, id]);
    await ds.query(
      `UPDATE deliveries SET lease_owner = 'a-replica-that-died', lease_expires_at = ${p(1)} WHERE id = ${p(2)}`,
      [at, held.id],
    );
    clock.advance(601_000);
    expect((await settled(held.id)).attempts).toEqual([
      expect.objectContaining({ trigger: 'probe', status_code: 200 }),
    ]);
    expect(await endpoint(id)).toMatchObject({ state: 'active', pause_streak: 0 });
  });

  it('leaves a disabled or already paused endpoint alone', async () => {
    const id = await register('/ok?alone');
    expect((await pause(id, 600)).paused).toBe(true);
    expect(await pause(id, 600)).toEqual({ paused: false, until: null, disabled: false });
    expect((await endpoint(id)).pause_streak).toBe(1);
    const manual = await register('/ok?manual');
    await t.http().post(`/alerts/endpoints/${manual}/pause`).set(ADMIN).send({}).expect(200);
    expect((await pause(manual, 600)).paused).toBe(false);
    expect(await endpoint(manual)).toMatchObject({ paused_by: 'user:admin', autoheal_paused: false });
    expect(await heal.inTx((tx, h) => h.disable(tx, manual, { reason: 'test', now: clock.now() }))).toBe(true);
    expect(await heal.inTx((tx, h) => h.disable(tx, manual, { reason: 'again', now: clock.now() }))).toBe(false);
    expect((await pause(manual, 600)).paused).toBe(false);
    expect(await endpoint(manual)).toMatchObject({ state: 'disabled', disabled_reason: 'test' });
    expect((await eventsOf(manual)).filter((e) => e.type === 'endpoint.disabled')).toEqual([
      expect.objectContaining({ severity: 'critical', data: expect.objectContaining({ reason: 'test' }) }),
    ]);
  });

  it('ends an autoheal pause on a manual resume, which also forgets the pause streak', async () => {
    const id = await register('/ok?resume');
    await pause(id, 3600);
    const held = await submit('/ok?resume');
    await t.http().post(`/alerts/endpoints/${id}/resume`).set(ADMIN).expect(200);
    expect((await settled(held.id)).attempts).toEqual([expect.objectContaining({ trigger: 'initial' })]);
    expect(await endpoint(id)).toMatchObject({ state: 'active', autoheal_paused: false, pause_streak: 0 });
  });

  it('clears an autoheal pause and the failure baseline; a pause by hand stays', async () => {
    const held = await submit('/fail?clear');
    await settled(held.id);
    const id = held.endpoint_id;
    await pause(id, 3600);
    const waiting = await submit('/fail?clear');
    await sleep(QUIET_MS);
    expect(hitsOf(waiting.id)).toBe(0);
    const now = clock.now();
    expect(await heal.inTx((tx, h) => h.clear(tx, id, { now }))).toEqual({ resumed: true });
    expect((await settled(waiting.id)).attempts).toEqual([expect.objectContaining({ trigger: 'initial' })]);
    const cleared = await heal.healing.findById(id);
    expect(new Date(cleared!.baseline_reset_at!).getTime()).toBe(now.getTime());
    expect(cleared).toMatchObject({ state: 'active', autoheal_paused: false, pause_streak: 0 });
    expect((await eventsOf(id)).map((e) => [e.type, e.data.by])).toEqual([
      ['endpoint.paused', 'autoheal:test-rule'],
      ['endpoint.resumed', 'cooldown_clear'],
    ]);

    const manual = await register('/ok?clear-manual');
    await t.http().post(`/alerts/endpoints/${manual}/pause`).set(ADMIN).send({}).expect(200);
    expect(await heal.inTx((tx, h) => h.clear(tx, manual, { now: clock.now() }))).toEqual({ resumed: false });
    const stillPaused = await heal.healing.findById(manual);
    expect(stillPaused).toMatchObject({ state: 'paused', pause_streak: 0 });
    expect(stillPaused!.baseline_reset_at).not.toBeNull();
  });

  it("requeues only the endpoint's failed deliveries of the window, newest first, as autoheal attempts", async () => {
    const before = await submit('/flaky-4?rq');
    await settled(before.id);
    clock.advance(600_000);
    const since = clock.now();
    const inWindow = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      inWindow.push(await submit('/flaky-4?rq'));
      await settled(inWindow[i].id);
    }
    const delivered = await submit('/flaky-4?rq');
    expect(await settled(delivered.id)).toMatchObject({ status: 'success' });
    const elsewhere = await submit('/fail?rq');
    await settled(elsewhere.id);
    const id = before.endpoint_id;

    const n = await heal.inTx((tx, h) => h.requeueFailed(tx, id, { since, limit: 2, now: clock.now() }));
    expect(n).toBe(2);
    for (const d of inWindow.slice(1)) {
      const done = await eventually(
        () => detail(d.id),
        (x) => x.status === 'success',
        `requeued ${d.id} to be delivered`,
      );
      expect(done.attempts.map((a) => a.trigger)).toEqual(['initial', 'autoheal']);
    }
    await sleep(QUIET_MS);
    expect(await detail(inWindow[0].id)).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(await detail(before.id)).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(await detail(delivered.id)).toMatchObject({ status: 'success', attempt_count: 1 });
    expect(await detail(elsewhere.id)).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(await heal.inTx((tx, h) => h.requeueFailed(tx, id, { since, limit: 10, now: clock.now() }))).toBe(1);
  });

  it('marks the recovery when a success ends a failure streak, once', async () => {
    for (let i = 0; i < 3; i++) await settled((await submit('/flaky-3?rec')).id);
    const ok = await submit('/flaky-3?rec');
    expect(await settled(ok.id)).toMatchObject({ status: 'success' });
    const recovered = await heal.healing.findById(ok.endpoint_id);
    expect(recovered).toMatchObject({ consecutive_failures: 0, recovered_after_failures: 3 });
    expect(recovered!.recovered_at).not.toBeNull();
    clock.advance(2000); // past the second in which a healthy endpoint's success is not written
    await settled((await submit('/flaky-3?rec')).id);
    expect((await eventsOf(ok.endpoint_id)).map((e) => [e.type, e.data.after_failures])).toEqual([
      ['endpoint.recovered', 3],
    ]);
    const matches = await heal.healing.findByUrl(`${base}/flaky-3?rec`, undefined);
    expect(matches.map((e) => e.id)).toEqual([ok.endpoint_id]);
    expect(await heal.healing.findByUrl(`${base}/flaky-3?rec`, 'another-tenant')).toEqual([]);
  });
});

(postgresAvailable() ? describe : describe.skip)(
  'endpoint healing with two dispatchers on one PostgreSQL database',
  () => {
    let db: TestDatabase;
    let a: TestApp;
    let b: TestApp;
    let receiver: WebhookReceiver;
    let base: string;
    const clock = new FakeClock();

    beforeAll(async () => {
      receiver = new WebhookReceiver();
      base = await receiver.start();
      db = await createTestDatabase('postgres');
      // A probe that hangs until the timeout stays in flight long enough for the other replica to look.
      const env = {
        DISPATCHER_ENABLED: 'true',
        DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
        DELIVERY_TIMEOUT_MS: '1500',
        RETRY_SCHEDULE: '0',
      };
      a = await createTestApp('postgres', { database: db, env, clock });
      b = await createTestApp('postgres', { database: db, env, clock });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
      await receiver.stop();
    });

    it('never sends two probes to one endpoint', async () => {
      const heal = healingOf(a);
      const endpoints: string[] = [];
      for (let i = 0; i < 8; i++) {
        const url = `${base}/slow?p=${i}`;
        const res = await a.http().post('/alerts/endpoints').set(INGEST).send({ tenant_id: 'two', url }).expect(201);
        const id = (res.body as { id: string }).id;
        await heal.inTx((tx, h) => h.pause(tx, id, { durationS: 60, by: 'autoheal:test-rule', now: clock.now() }));
        const items = Array.from({ length: 3 }, () => ({
          tenant_id: 'two',
          endpoint_url: url,
          event_type: 'test.two',
          payload: {},
        }));
        await (i % 2 ? a : b).http().post('/alerts/deliveries/batch').set(INGEST).send({ items }).expect(202);
        endpoints.push(id);
      }
      clock.advance(61_000);
      await eventually(
        () => Promise.resolve(receiver.hooks.length),
        (n) => n >= endpoints.length,
        'a probe to every endpoint',
      );
      // Past the probes' timeout: they fail, and the endpoints pause again.
      await sleep(2500);
      const counts = await a.app
        .get(DataSource)
        .query<{ endpoint_id: string; n: string }[]>(
          `SELECT endpoint_id, count(*) AS n FROM delivery_attempts WHERE trigger = 'probe' GROUP BY endpoint_id`,
        );
      const perEndpoint = new Map(counts.map((row) => [row.endpoint_id, Number(row.n)]));
      expect(endpoints.map((id) => perEndpoint.get(id) ?? 0)).toEqual(endpoints.map(() => 1));
      expect(receiver.hooks).toHaveLength(endpoints.length);
    });
  },
);
