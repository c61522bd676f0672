import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import type { TestApp } from './support/test-app.js';
import { verifySignature, WebhookReceiver } from './support/webhook-receiver.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };

describe.each(testDialects())('endpoint pause, resume, enable and secret rotation (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let harness: DispatchHarness;
  const clock = new FakeClock();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      clock,
      env: { RETRY_SCHEDULE: '0' },
    });
    ({ t, receiver, base } = harness);
  });
  afterAll(() => harness.close());

  const register = async (path: string, tenant = 'ctl') =>
    (
      await t
        .http()
        .post('/alerts/endpoints')
        .set(INGEST)
        .send({ tenant_id: tenant, url: `${base}${path}` })
        .expect(201)
    ).body as {
      id: string;
      secret: string;
    };
  const submit = async (path: string, tenant = 'ctl') =>
    (
      await t
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: tenant, endpoint_url: `${base}${path}`, event_type: 'test.ctl', payload: { path } })
        .expect(202)
    ).body as { id: string };
  const detail = async (id: string) =>
    (await t.http().get(`/alerts/deliveries/${id}`).set(OPERATOR).expect(200)).body as {
      status: string;
      attempt_count: number;
    };
  const until = async (id: string, status: string) => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const d = await detail(id);
      if (d.status === status) return d;
      if (Date.now() > deadline) throw new Error(`delivery ${id} never became ${status}: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('holds deliveries while paused, without spending attempts, and sends them on resume', async () => {
    const endpoint = await register('/ok?paused');
    const paused = await t
      .http()
      .post(`/alerts/endpoints/${endpoint.id}/pause`)
      .set(ADMIN)
      .send({ reason: 'maintenance' })
      .expect(200);
    expect(paused.body).toMatchObject({ state: 'paused', paused_by: 'user:admin' });
    const { id } = await submit('/ok?paused');
    await new Promise((r) => setTimeout(r, 1200));
    expect(await detail(id)).toMatchObject({ status: 'pending', attempt_count: 0 });
    await t.http().post(`/alerts/endpoints/${endpoint.id}/resume`).set(ADMIN).expect(200);
    expect(await until(id, 'success')).toMatchObject({ attempt_count: 1 });
    const events = await t.http().get('/events/audit?type=endpoint.*').set(OPERATOR).expect(200);
    expect((events.body as { items: { type: string }[] }).items.map((i) => i.type)).toEqual([
      'endpoint.resumed',
      'endpoint.paused',
    ]);
  });

  it('sends held deliveries by itself once a timed pause has run out', async () => {
    const endpoint = await register('/ok?timed');
    const until = new Date(clock.now().getTime() + 10 * 60_000).toISOString();
    await t.http().post(`/alerts/endpoints/${endpoint.id}/pause`).set(ADMIN).send({ until }).expect(200);
    const { id } = await submit('/ok?timed');
    await new Promise((r) => setTimeout(r, 1200));
    expect(await detail(id)).toMatchObject({ status: 'pending', attempt_count: 0 });
    clock.advance(10 * 60_000 + 1000);
    const deadline = Date.now() + 8000;
    while ((await detail(id)).status !== 'success') {
      if (Date.now() > deadline) throw new Error('the delivery stayed held after its pause ran out');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(receiver.hooks.filter((h) => h.headers['webhook-id'] === id)).toHaveLength(1);
  });

  it('treats resuming an active endpoint as a no-op, and refuses a pause until the past', async () => {
    const endpoint = await register('/ok?noop');
    const res = await t.http().post(`/alerts/endpoints/${endpoint.id}/resume`).set(ADMIN).expect(200);
    expect(res.body.state).toBe('active');
    const past = new Date(clock.now().getTime() - 1000).toISOString();
    await t.http().post(`/alerts/endpoints/${endpoint.id}/pause`).set(ADMIN).send({ until: past }).expect(400);
    await t.http().post(`/alerts/endpoints/${endpoint.id}/pause`).set(ADMIN).send({ until: 'tomorrow' }).expect(400);
  });

  it('lets only admins act, and audits every attempt', async () => {
    const endpoint = await register('/ok?admin');
    for (const action of ['pause', 'resume', 'enable', 'rotate_secret']) {
      await t.http().post(`/alerts/endpoints/${endpoint.id}/${action}`).set(OPERATOR).expect(403);
    }
    await t.http().post('/alerts/endpoints/no-such-endpoint/pause').set(ADMIN).send({}).expect(404);
    const audit = await t
      .http()
      .get('/events/audit?type=audit.endpoint.*&actor_role=operator')
      .set(OPERATOR)
      .expect(200);
    expect(
      (audit.body as { items: { data: { result: string } }[] }).items.filter((i) => i.data.result === 'denied'),
    ).toHaveLength(4);
  });

  it('re-enables an endpoint disabled by a 410', async () => {
    const { id } = await submit('/gone', 'ctl-gone');
    await until(id, 'failed');
    const list = await t.http().get('/alerts/endpoints?tenant_id=ctl-gone').set(OPERATOR).expect(200);
    const endpoint = (list.body as { items: { id: string; state: string }[] }).items[0];
    expect(endpoint.state).toBe('disabled');
    const res = await t.http().post(`/alerts/endpoints/${endpoint.id}/enable`).set(ADMIN).expect(200);
    expect(res.body).toMatchObject({ state: 'active', disabled_reason: null, consecutive_failures: 0 });
  });

  it('rotates the secret: both sign for 24 h, then only the new one', async () => {
    const endpoint = await register('/ok?rotate');
    const rotated = await t.http().post(`/alerts/endpoints/${endpoint.id}/rotate_secret`).set(ADMIN).expect(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(endpoint.secret);
    const during = await submit('/ok?rotate');
    await until(during.id, 'success');
    const hook = receiver.hooks.find((h) => h.headers['webhook-id'] === during.id)!;
    expect(String(hook.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifySignature(newSecret, hook)).toBe(true);
    expect(verifySignature(endpoint.secret, hook)).toBe(true);
    clock.advance(24 * 3_600_000 + 1000);
    const after = await submit('/ok?rotate');
    await until(after.id, 'success');
    const later = receiver.hooks.find((h) => h.headers['webhook-id'] === after.id)!;
    expect(verifySignature(newSecret, later)).toBe(true);
    expect(verifySignature(endpoint.secret, later)).toBe(false);
    const audit = await t.http().get('/events/audit?type=audit.endpoint.rotate_secret').set(OPERATOR).expect(200);
    expect(JSON.stringify(audit.body)).not.toContain(newSecret);
  });
});
