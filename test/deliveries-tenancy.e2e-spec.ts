import { readFileSync } from 'node:fs';
import { OPENAPI_SPEC_PATH } from '../src/openapi/openapi-document.js';
import { testDialects } from './support/dialects.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const ADMIN = { 'X-User-Roles': 'admin' };
const INGEST = { 'X-User-Roles': 'ingest' };
const scopedOperator = (tenant: string) => ({ 'X-User-Roles': 'operator', 'X-User-Tenant': tenant });
const scopedIngest = (tenant: string) => ({ 'X-User-Roles': 'ingest', 'X-User-Tenant': tenant });

const spec = JSON.parse(readFileSync(OPENAPI_SPEC_PATH, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};
/** Every deliveries operation whose path names an object, as `METHOD /path/{param}`. */
const routesWithIds = Object.entries(spec.paths)
  .filter(([path]) => path.startsWith('/alerts/') && path.includes('{'))
  .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
  .sort();

/** Operator routes: another tenant's object is a 404, exactly like an unknown one. */
const OPERATOR_ROUTES = [
  'GET /alerts/deliveries/replay/{jobId}',
  'GET /alerts/deliveries/{id}',
  'GET /alerts/endpoints/{id}',
  'POST /alerts/deliveries/{id}/replay',
];
/** Admin routes: admins are never tenant-scoped, so a scoped caller is refused by role first. */
const ADMIN_ROUTES = [
  'POST /alerts/endpoints/{id}/enable',
  'POST /alerts/endpoints/{id}/pause',
  'POST /alerts/endpoints/{id}/resume',
  'POST /alerts/endpoints/{id}/rotate_secret',
];

describe.each(testDialects())('tenant scoping of the deliveries API (%s)', (dialect) => {
  let t: TestApp;
  const ids = { delivery: '', endpoint: '', job: '' };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const delivery = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: 'owner', endpoint_url: 'https://hooks.owner.example/in', event_type: 'e.t', payload: {} })
      .expect(202);
    ids.delivery = delivery.body.id;
    ids.endpoint = delivery.body.endpoint_id;
    const now = Date.now();
    const job = await t
      .http()
      .post('/alerts/deliveries/replay')
      .set(ADMIN)
      .send({
        tenant_id: 'owner',
        since: new Date(now - 3_600_000).toISOString(),
        until: new Date(now + 60_000).toISOString(),
        dry_run: true,
      })
      .expect(202);
    ids.job = job.body.job_id;
  });
  afterAll(() => t.close());

  const call = (route: string, headers: Record<string, string>) => {
    const [method, template] = route.split(' ');
    const path = template
      .replace('{jobId}', ids.job)
      .replace('{id}', template.startsWith('/alerts/endpoints') ? ids.endpoint : ids.delivery);
    const req = method === 'GET' ? t.http().get(path) : t.http().post(path).send({});
    return req.set(headers);
  };

  it('covers every deliveries route that takes an id', () => {
    expect(routesWithIds).toEqual([...ADMIN_ROUTES, ...OPERATOR_ROUTES].sort());
  });

  it.each(OPERATOR_ROUTES)('%s: another tenant gets 404, the owner does not', async (route) => {
    const denied = await call(route, scopedOperator('intruder')).expect(404);
    expect(denied.body.detail).toEqual(expect.any(String));
    const owner = await call(route, scopedOperator('owner'));
    expect(owner.status).not.toBe(404);
    expect(owner.status).toBeLessThan(500);
  });

  it.each(ADMIN_ROUTES)('%s: a scoped caller is refused by role, whoever owns the id', async (route) => {
    const other = await call(route, scopedOperator('intruder')).expect(403);
    const own = await call(route, scopedOperator('owner')).expect(403);
    expect(other.body.detail).toBe(own.body.detail);
  });

  it('narrows lists to the caller tenant, whatever tenant_id asks for', async () => {
    for (const path of ['/alerts/deliveries/history?tenant_id=owner', '/alerts/endpoints?tenant_id=owner']) {
      const res = await t.http().get(path).set(scopedOperator('intruder')).expect(200);
      expect(res.body.items).toEqual([]);
      const own = await t.http().get(path).set(scopedOperator('owner')).expect(200);
      expect(own.body.items.length).toBeGreaterThan(0);
    }
  });

  it('refuses writes for another tenant with 403 and writes nothing', async () => {
    const item = { tenant_id: 'owner', endpoint_url: 'https://hooks.owner.example/x', event_type: 'e.t', payload: {} };
    const before = await t.http().get('/alerts/deliveries/history?tenant_id=owner').set(ADMIN).expect(200);
    await t.http().post('/alerts/deliveries').set(scopedIngest('intruder')).send(item).expect(403);
    await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(scopedIngest('intruder'))
      .send({ items: [item] })
      .expect(403);
    await t
      .http()
      .post('/alerts/endpoints')
      .set(scopedIngest('intruder'))
      .send({ tenant_id: 'owner', url: 'https://hooks.owner.example/new' })
      .expect(403);
    await t
      .http()
      .post('/alerts/deliveries/replay')
      .set(scopedOperator('intruder'))
      .send({ tenant_id: 'owner', since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() })
      .expect(403);
    const after = await t.http().get('/alerts/deliveries/history?tenant_id=owner').set(ADMIN).expect(200);
    expect(after.body.items).toEqual(before.body.items);
    const endpoints = await t.http().get('/alerts/endpoints?tenant_id=owner').set(ADMIN).expect(200);
    expect((endpoints.body.items as { url: string }[]).map((e) => e.url)).toEqual(['https://hooks.owner.example/in']);
  });
});
