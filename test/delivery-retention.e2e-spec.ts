import { DataSource } from 'typeorm';
import { DeliveryRetentionService } from '../src/deliveries/delivery-retention.service.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import type { TestApp } from './support/test-app.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };

describe.each(testDialects())('delivery retention (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  let harness: DispatchHarness;
  const clock = new FakeClock();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      clock,
      env: { DELIVERY_RETENTION_DAYS: '1' },
    });
    ({ t, base } = harness);
  });
  afterAll(() => harness.close());

  const count = async (table: string) =>
    Number((await t.app.get(DataSource).query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  it('deletes finished deliveries and their attempts past retention, never pending ones; stats stay 35 days', async () => {
    const held = await t
      .http()
      .post('/alerts/endpoints')
      .set(INGEST)
      .send({ tenant_id: 'ret', url: `${base}/ok?held` })
      .expect(201);
    await t.http().post(`/alerts/endpoints/${held.body.id}/pause`).set(ADMIN).send({}).expect(200);
    const items = [0, 1, 2].map((i) => ({
      tenant_id: 'ret',
      endpoint_url: `${base}/ok`,
      event_type: 'test.ret',
      payload: { i },
    }));
    items.push({ tenant_id: 'ret', endpoint_url: `${base}/ok?held`, event_type: 'test.ret', payload: { i: 3 } });
    await t.http().post('/alerts/deliveries/batch').set(INGEST).send({ items }).expect(202);
    const deadline = Date.now() + 8000;
    while ((await t.http().get('/alerts/deliveries/history?status=success').set(OPERATOR)).body.items.length < 3) {
      if (Date.now() > deadline) throw new Error('deliveries did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await count('delivery_attempts')).toBe(3);
    const retention = t.app.get(DeliveryRetentionService);
    expect(await retention.purgeNow()).toBe(0);
    clock.advance(2 * 86_400_000);
    expect(await retention.purgeNow()).toBe(3);
    const left = await t.http().get('/alerts/deliveries/history').set(OPERATOR).expect(200);
    expect((left.body as { items: { status: string }[] }).items.map((d) => d.status)).toEqual(['pending']);
    expect(await count('delivery_attempts')).toBe(0);
    expect(await count('delivery_stats_5m')).toBeGreaterThan(0);
    clock.advance(40 * 86_400_000);
    await retention.purgeNow();
    expect(await count('delivery_stats_5m')).toBe(0);
  });
});
