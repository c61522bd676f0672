import { testDialects } from './support/dialects.js';
import { startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import type { TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
type Detail = {
  id: string;
  status: string;
  attempt_count: number;
  attempts: { trigger: string; status_code: number | null }[];
};

describe.each(testDialects())('replay (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let harness: DispatchHarness;

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      env: {
        DELIVERY_TIMEOUT_MS: '1500',
        RETRY_SCHEDULE: '0',
      },
    });
    ({ t, receiver, base } = harness);
  });
  afterAll(() => harness.close());

  const detail = async (id: string) =>
    (await t.http().get(`/alerts/deliveries/${id}`).set(OPERATOR).expect(200)).body as Detail;
  const settle = async (id: string, attempts: number) => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const d = await detail(id);
      if (d.attempt_count >= attempts && d.status !== 'pending') return d;
      if (Date.now() > deadline) throw new Error(`delivery ${id} did not settle: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const submit = async (path: string, tenant = 'acme') =>
    (
      await t
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: tenant, endpoint_url: `${base}${path}`, event_type: 'test.replay', payload: { path } })
        .expect(202)
    ).body as { id: string };
  const replay = (id: string, query = '', headers: Record<string, string> = OPERATOR) =>
    t.http().post(`/alerts/deliveries/${id}/replay${query}`).set(headers);

  it('requeues a failed delivery now as a manual replay, with the same webhook-id', async () => {
    const { id } = await submit('/fail');
    await settle(id, 1);
    const res = await replay(id).expect(202);
    expect(res.body).toMatchObject({ id, status: 'pending' });
    const d = await settle(id, 2);
    expect(d.attempts.map((a) => a.trigger)).toEqual(['initial', 'manual_replay']);
    expect(receiver.hooks.filter((h) => h.headers['webhook-id'] === id)).toHaveLength(2);
  });

  it('refuses a delivery that is pending or in flight', async () => {
    const { id } = await submit('/slow');
    const res = await replay(id).expect(409);
    expect(res.body.detail).toBe('Delivery is already pending or in flight');
  });

  it('refuses a success unless forced', async () => {
    const { id } = await submit('/ok');
    await settle(id, 1);
    expect((await replay(id).expect(409)).body.detail).toMatch(/already succeeded; pass force=true/);
    await replay(id, '?force=true').expect(202);
    const d = await settle(id, 2);
    expect(d.status).toBe('success');
    expect(receiver.hooks.filter((h) => h.headers['webhook-id'] === id)).toHaveLength(2);
    await replay(id, '?force=maybe').expect(400);
  });

  it('refuses a disabled endpoint unless forced', async () => {
    const { id } = await submit('/gone', 'gone');
    await settle(id, 1);
    expect((await replay(id).expect(409)).body.detail).toBe('Endpoint is disabled; pass force=true to replay anyway');
    await replay(id, '?force=true').expect(202);
  });

  it('lets exactly one of two concurrent replays through', async () => {
    const { id } = await submit('/fail', 'race');
    await settle(id, 1);
    const answers = await Promise.all([replay(id), replay(id)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
  });

  it('hides unknown and other tenants’ deliveries as 404, and needs the operator role', async () => {
    const { id } = await submit('/fail', 'hidden');
    await settle(id, 1);
    await replay('no-such-delivery').expect(404);
    await replay(id, '', { ...OPERATOR, 'X-User-Tenant': 'someone-else' }).expect(404);
    await replay(id, '', INGEST).expect(403);
  });

  it('audits replays, refusals and denials', async () => {
    const audit = await t.http().get('/events/audit?type=audit.delivery.replay&limit=1000').set(OPERATOR).expect(200);
    const results = (audit.body as { items: { data: { result: string } }[] }).items.map((i) => i.data.result);
    expect(results).toEqual(expect.arrayContaining(['success', 'noop', 'denied']));
  });
});
