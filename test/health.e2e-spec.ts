import { DataSource } from 'typeorm';
import { LifecycleService } from '../src/common/lifecycle/lifecycle.service.js';
import { adminQuery } from './support/test-database.js';
import { postgresAvailable, testDialects } from './support/dialects.js';
import { ProbeModule } from './support/probe.controller.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe.each(testDialects())('health and discovery (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  it('GET /healthz is the runbook body', async () => {
    const res = await t.http().get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'healthy' });
  });

  it('GET /readyz is 200 when the database answers', async () => {
    const res = await t.http().get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', database: dialect });
  });

  it('GET /meta lists version, api version and enabled features', async () => {
    const res = await t.http().get('/meta').expect(200);
    expect(res.body).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      api_version: '1.0',
      features: expect.arrayContaining(['rbac', 'rate_limiting', 'metrics']),
    });
    expect(res.body.features).not.toContain('auth_proxy');
  });

  it('runs migrations at start-up', async () => {
    const ds = t.app.get(DataSource);
    const rows: unknown[] =
      dialect === 'sqlite'
        ? await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'migrations'`)
        : await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_name = 'migrations'`);
    expect(rows).toHaveLength(1);
    expect(ds.options.synchronize).toBe(false);
  });
});

describe('embedded SQLite store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('uses WAL and enforces foreign keys', async () => {
    const ds = t.app.get(DataSource);
    expect(await ds.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await ds.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(String(ds.options.database)).toBe(`${t.config.DATA_DIR}/command-center.sqlite`);
  });

  it('readiness and the health gauge turn when the database is gone', async () => {
    await t.app.get(DataSource).destroy();
    const res = await t.http().get('/readyz').expect(503);
    expect(res.body).toMatchObject({ status: 'unavailable', database: 'sqlite' });
    expect(res.body.detail).toMatch(/database unavailable/);
    await t.http().get('/healthz').expect(200, { status: 'healthy' });
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^command_center_health 0$/m);
  });
});

(postgresAvailable() ? describe : describe.skip)('PostgreSQL store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('postgres', { env: { DB_POOL_MAX: '4', DB_CONNECT_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => t.close());

  it('bounds the pool', () => {
    const driver = t.app.get(DataSource).driver as unknown as { master: { options: { max: number } } };
    expect(driver.master.options.max).toBe(4);
  });

  it('readiness is 503 while the database refuses connections, and recovers without a restart', async () => {
    const base = process.env.TEST_DATABASE_URL!;
    const name = t.database.databaseName!;
    await adminQuery(base, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await adminQuery(base, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    try {
      const res = await t.http().get('/readyz').expect(503);
      expect(res.body).toMatchObject({ status: 'unavailable', database: 'postgres' });
      const metrics = await t.http().get('/metrics').expect(200);
      expect(metrics.text).toMatch(/^command_center_health 0$/m);
      await t.http().get('/healthz').expect(200);
    } finally {
      await adminQuery(base, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    await t.http().get('/readyz').expect(200);
  });
});

describe('shutdown', () => {
  it('turns readiness 503 as soon as shutdown begins', async () => {
    const t = await createTestApp('sqlite');
    try {
      await t.http().get('/readyz').expect(200);
      t.app.get(LifecycleService).beginShutdown();
      const res = await t.http().get('/readyz').expect(503);
      expect(res.body).toMatchObject({ status: 'unavailable', detail: 'shutting down' });
    } finally {
      await t.close();
    }
  });

  it('lets in-flight requests finish when the app closes', async () => {
    const t = await createTestApp('sqlite', { imports: [ProbeModule] });
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as { port: number };
    const inFlight = fetch(`http://127.0.0.1:${port}/probe/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await t.close();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
