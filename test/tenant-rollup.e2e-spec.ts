import { DataSource } from 'typeorm';
import { TenantHourlyRollup } from '../src/deliveries/tenant-hourly-rollup.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { BUCKET_MS, seedRollup } from './support/rollup-seed.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const HOUR_MS = 3_600_000;
const WINDOWS = { '1h': HOUR_MS, '24h': 24 * HOUR_MS, '7d': 7 * 24 * HOUR_MS } as const;

describe.each(testDialects())('tenant summaries over the hourly rollup (%s)', (dialect) => {
  let t: TestApp;
  let rollup: TenantHourlyRollup;
  const clock = new FakeClock();
  let seededUntil = 0;

  /** What the summary must say for a window: every seeded bucket since the window's first one. */
  function expected(window: keyof typeof WINDOWS) {
    const now = clock.now().getTime();
    const since = Math.floor((now - WINDOWS[window]) / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
    const buckets = Math.max(0, (seededUntil - since) / BUCKET_MS);
    return { deliveries: buckets * 10, failed: buckets, attempts: buckets * 11, received: buckets * 10 };
  }
  async function row(window: keyof typeof WINDOWS) {
    const res = await t
      .http()
      .get(`/tenant_analytics/summary?window=${window}&tenant_id=north`)
      .set(OPERATOR)
      .expect(200);
    const [r] = res.body.items as { deliveries: number; failed: number; attempts: number; received: number }[];
    return { deliveries: r.deliveries, failed: r.failed, attempts: r.attempts, received: r.received };
  }
  const hourlyRows = async () =>
    Number((await t.app.get(DataSource).query<{ n: unknown }[]>('SELECT COUNT(*) AS n FROM tenant_stats_1h'))[0].n);

  beforeAll(async () => {
    t = await createTestApp(dialect, { clock });
    rollup = t.app.get(TenantHourlyRollup);
    // 20 minutes into an hour, so the window edges fall inside hours.
    const now = clock.now().getTime();
    clock.advance(HOUR_MS - (now % HOUR_MS) + 20 * 60_000);
    await t
      .http()
      .post('/alerts/deliveries')
      .set({ 'X-User-Roles': 'ingest' })
      .send({ tenant_id: 'north', endpoint_url: 'https://hooks.example/north', event_type: 'e', payload: {} })
      .expect(202);
    const endpoint = (
      (await t.http().get('/alerts/endpoints?tenant_id=north').set(OPERATOR).expect(200)).body as {
        items: { id: string }[];
      }
    ).items[0].id;
    const current = clock.now().getTime() - (clock.now().getTime() % BUCKET_MS);
    seededUntil = current;
    // Every bucket of the last 8 days: 10 deliveries (9 delivered, 1 failed), 11 attempts.
    await seedRollup(t, 'north', endpoint, current - 8 * 24 * HOUR_MS, current, () => ({
      received: 10,
      attempts: 11,
      failures: 2,
      delivered: 9,
      exhausted: 1,
    }));
  });
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  it('folds only hours that are over, and sums the same whether or not an hour is folded', async () => {
    // The ingest above counted one received delivery in the current bucket: not part of the seed.
    const extra = { received: 1 };
    expect(await hourlyRows()).toBe(8 * 24); // 8 days from 20 past an hour: 193 hours, the current one not over
    for (const w of ['1h', '24h', '7d'] as const) {
      const e = expected(w);
      expect(await row(w)).toEqual({ ...e, received: e.received + extra.received });
    }
  });

  it('keeps the sums right as the clock moves past hour boundaries and the fold catches up', async () => {
    for (const step of [45 * 60_000, 2 * HOUR_MS]) {
      clock.advance(step);
      for (const w of ['1h', '24h', '7d'] as const) {
        const e = expected(w);
        const got = await row(w);
        expect({ deliveries: got.deliveries, failed: got.failed, attempts: got.attempts }).toEqual({
          deliveries: e.deliveries,
          failed: e.failed,
          attempts: e.attempts,
        });
      }
      await rollup.foldNow();
      for (const w of ['1h', '24h', '7d'] as const) {
        expect((await row(w)).deliveries).toBe(expected(w).deliveries);
      }
    }
    expect(await hourlyRows()).toBe(8 * 24 + 1); // the seeded hour that was open is folded now
  });
});
