import { DataSource } from 'typeorm';
import { testDialects } from './support/dialects.js';
import { ProbeModule } from './support/probe.controller.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const MISSING = { detail: 'Missing or invalid X-User-Roles header' };

describe.each(testDialects())('identity and RBAC (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  describe('X-User-Roles parsing', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['blank', '   '],
      ['only commas', ' , ,'],
      ['unknown role', 'viewer'],
      ['several unknown roles', 'root, superuser'],
    ])('%s header is 403 with the runbook text', async (_name, header) => {
      const req = t.http().get('/auth/whoami');
      if (header !== undefined) req.set('X-User-Roles', header);
      const res = await req.expect(403);
      expect(res.body).toMatchObject(MISSING);
      expect(typeof res.body.request_id).toBe('string');
    });

    it.each([
      ['operator', ['operator']],
      ['OpErAtOr', ['operator']],
      ['  admin ,  operator  ', ['admin', 'operator']],
      ['viewer, Admin', ['admin']],
      ['ingest', ['ingest']],
      ['operator,operator,OPERATOR', ['operator']],
    ])('%j is read as %j', async (header, roles) => {
      const res = await t.http().get('/auth/whoami').set('X-User-Roles', header).expect(200);
      expect(res.body).toEqual({ roles, tenant_id: null });
    });

    it('whoami reports the tenant from X-User-Tenant', async () => {
      const res = await t
        .http()
        .get('/auth/whoami')
        .set('X-User-Roles', 'operator')
        .set('X-User-Tenant', ' acme-corp ');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ roles: ['operator'], tenant_id: 'acme-corp' });
    });

    it('a malformed X-User-Tenant is a 400 with detail', async () => {
      const res = await t
        .http()
        .get('/auth/whoami')
        .set('X-User-Roles', 'operator')
        .set('X-User-Tenant', 'acme corp;drop');
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/X-User-Tenant/);
    });
  });

  describe('role requirements', () => {
    it('admin includes operator', async () => {
      await t.http().get('/probe/operator').set('X-User-Roles', 'admin').expect(200);
    });

    it('operator is refused an admin route, naming the role needed', async () => {
      const res = await t.http().post('/probe/admin').set('X-User-Roles', 'operator').expect(403);
      expect(res.body).toMatchObject({ detail: 'Requires role: admin' });
    });

    it('ingest cannot read operator routes', async () => {
      const res = await t.http().get('/probe/operator').set('X-User-Roles', 'ingest').expect(403);
      expect(res.body.detail).toBe('Requires role: operator');
    });

    it('ingest may submit; operator may not', async () => {
      await t.http().post('/probe/ingest').set('X-User-Roles', 'ingest').expect(201);
      const res = await t.http().post('/probe/ingest').set('X-User-Roles', 'operator').expect(403);
      expect(res.body.detail).toBe('Requires role: ingest or admin');
    });

    it('unknown roles beside a known one are ignored', async () => {
      await t.http().post('/probe/admin').set('X-User-Roles', 'operator, admin-ish').expect(403);
      await t.http().post('/probe/admin').set('X-User-Roles', 'operator, ADMIN').expect(201);
    });

    it('a route that declares no roles fails closed', async () => {
      const res = await t.http().get('/probe/unguarded').set('X-User-Roles', 'admin').expect(500);
      expect(res.body).toEqual({
        detail: 'Internal server error',
        error_id: expect.any(String),
        request_id: expect.any(String),
      });
    });

    it('public routes need no identity', async () => {
      await t.http().get('/healthz').expect(200);
      await t.http().get('/meta').expect(200);
      await t.http().get('/metrics').expect(200);
    });
  });

  describe('tenant scope', () => {
    it('a scoped operator gets 404, not 403, for another tenant', async () => {
      const res = await t
        .http()
        .get('/probe/tenants/globex')
        .set('X-User-Roles', 'operator')
        .set('X-User-Tenant', 'acme')
        .expect(404);
      expect(res.body.detail).toBe('Tenant not found');
    });

    it('a scoped operator sees its own tenant', async () => {
      await t
        .http()
        .get('/probe/tenants/acme')
        .set('X-User-Roles', 'operator')
        .set('X-User-Tenant', 'acme')
        .expect(200);
    });

    it('an admin is not confined by X-User-Tenant', async () => {
      await t.http().get('/probe/tenants/globex').set('X-User-Roles', 'admin').set('X-User-Tenant', 'acme').expect(200);
    });

    it('an unscoped operator sees every tenant', async () => {
      await t.http().get('/probe/tenants/globex').set('X-User-Roles', 'operator').expect(200);
    });
  });
});

describe.each(testDialects())('auth proxy secret (%s)', (dialect) => {
  const secret = 'proxy-secret-0123456789abcdef';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { AUTH_PROXY_SECRET: secret } });
  });
  afterAll(() => t.close());

  it('refuses identity headers without the secret', async () => {
    const res = await t.http().get('/auth/whoami').set('X-User-Roles', 'admin').expect(401);
    expect(res.body).toMatchObject({ detail: 'Missing or invalid X-Auth-Proxy-Secret header' });
  });

  it.each([
    ['wrong', 'proxy-secret-0123456789abcdeX'],
    ['a prefix', 'proxy-secret'],
    ['longer', `${secret}0`],
    ['empty', ''],
  ])('refuses a %s secret', async (_name, given) => {
    await t.http().get('/auth/whoami').set('X-User-Roles', 'admin').set('X-Auth-Proxy-Secret', given).expect(401);
  });

  it('accepts identity with the matching secret', async () => {
    const res = await t
      .http()
      .get('/auth/whoami')
      .set('X-User-Roles', 'operator')
      .set('X-User-Tenant', 'acme')
      .set('X-Auth-Proxy-Secret', secret)
      .expect(200);
    expect(res.body).toEqual({ roles: ['operator'], tenant_id: 'acme' });
  });

  it('still applies RBAC behind the proxy', async () => {
    const res = await t.http().get('/auth/whoami').set('X-Auth-Proxy-Secret', secret).expect(403);
    expect(res.body.detail).toBe(MISSING.detail);
  });

  it('keeps health, readiness, meta and metrics open', async () => {
    await t.http().get('/healthz').expect(200);
    await t.http().get('/readyz').expect(200);
    const meta = await t.http().get('/meta').expect(200);
    expect(meta.body.features).toContain('auth_proxy');
    await t.http().get('/metrics').expect(200);
  });

  it('audits a refused write without the secret, and never stores the secret', async () => {
    await t.http().post('/events/annotations').set('X-User-Roles', 'admin').send({ message: 'spoofed' }).expect(401);
    await t
      .http()
      .post('/events/annotations')
      .set('X-User-Roles', 'operator')
      .set('X-Auth-Proxy-Secret', secret)
      .send({ message: 'genuine' })
      .expect(201);
    const history = await t
      .http()
      .get('/events/audit?type=audit.*')
      .set('X-User-Roles', 'admin')
      .set('X-Auth-Proxy-Secret', secret)
      .expect(200);
    const items = (history.body as { items: { data: { result: string; reason?: string } }[] }).items;
    expect(items.map((i) => i.data.result)).toEqual(['success', 'denied']);
    expect(items[1].data.reason).toBe('Missing or invalid X-Auth-Proxy-Secret header');
    const rows = await t.app.get(DataSource).query('SELECT * FROM events');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('never writes the secret to the logs', async () => {
    await t.http().get('/auth/whoami').set('X-User-Roles', 'operator').set('X-Auth-Proxy-Secret', secret).expect(200);
    expect(t.logs.lines.join('\n')).not.toContain(secret);
  });
});
