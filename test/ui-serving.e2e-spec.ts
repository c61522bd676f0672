import { existsSync } from 'node:fs';
import { UI_ASSETS_DIR } from '../src/ui/ui.module.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { BUCKET_MS, seedRollup } from './support/rollup-seed.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };

describe.each(testDialects())('the dashboard’s files and its overview API (%s)', (dialect) => {
  let t: TestApp;
  const clock = new FakeClock();

  beforeAll(async () => {
    t = await createTestApp(dialect, { clock });
  });
  afterAll(() => t.close());

  it('redirects the root to /ui/ and serves the built page with a strict content security policy', async () => {
    expect(existsSync(UI_ASSETS_DIR)).toBe(true); // npm run build writes it (npm test builds first)
    await t.http().get('/').expect(302).expect('Location', '/ui/');
    const page = await t
      .http()
      .get('/ui/')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(page.text).toContain('<div id="app"></div>');
    expect(page.text).toContain('src="app.js"');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    const script = await t
      .http()
      .get('/ui/app.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    // Bundled: no import of a package or a remote URL is left for the browser to fetch.
    expect(script.text).not.toMatch(/from\s*["'](?!\.)/);
    expect(script.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    await t
      .http()
      .get('/ui/styles.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
  });

  it('lists the dashboard in /meta and counts its files under one metrics label', async () => {
    const meta = await t.http().get('/meta').expect(200);
    expect(meta.body.features).toContain('operator_dashboard');
    await t.http().get('/ui/app.js').expect(200);
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/command_center_api_requests_total\{method="GET",endpoint="\/ui",status="200"\} \d+/);
  });

  it('sums the last hour’s buckets over the tenants in scope, with the queue', async () => {
    const now = clock.now().getTime();
    const current = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    // Two tenants, from 2 h ago to now: only the last 12 buckets count.
    await seedRollup(t, 'acme', 'ep-acme', current - 24 * BUCKET_MS, current + BUCKET_MS, () => ({
      received: 10,
      attempts: 12,
      failures: 2,
      delivered: 9,
      exhausted: 1,
    }));
    await seedRollup(t, 'globex', 'ep-globex', current - 3 * BUCKET_MS, current + BUCKET_MS, () => ({
      received: 4,
      attempts: 4,
      delivered: 4,
    }));
    const all = await t.http().get('/tenant_analytics/overview').set(OPERATOR).expect(200);
    expect(all.body).toMatchObject({ window: '1h', bucket_s: 300 });
    expect(all.body.points).toHaveLength(12);
    expect(all.body.points[11]).toEqual({
      bucket_start: new Date(current).toISOString(),
      received: 14,
      delivered: 13,
      failed: 1,
      attempts: 16,
      failures: 2,
    });
    expect(all.body.points[0]).toMatchObject({
      bucket_start: new Date(current - 11 * BUCKET_MS).toISOString(),
      received: 10,
    });
    const scoped = await t
      .http()
      .get('/tenant_analytics/overview')
      .set({ ...OPERATOR, 'X-User-Tenant': 'globex' })
      .expect(200);
    expect(scoped.body.points[11]).toMatchObject({ received: 4, failed: 0 });
    expect(scoped.body.points[0]).toMatchObject({ received: 0 });
    await t.http().get('/tenant_analytics/overview').expect(403);
  });
});
