import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAvailable } from './support/dialects.js';
import { eventually } from './support/dispatch-harness.js';
import { freePort, startService, waitUntilHealthy, within, type ServiceProcess } from './support/service-process.js';
import { SseClient } from './support/sse-client.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

// The built service reaches PostgreSQL through a proxy the test cuts and restores: the API must
// answer 503 with a detail (never 500, never hang), background work must back off, and after the
// database is back everything recovers without a restart, with nothing lost or sent twice.
const OPERATOR = { 'X-User-Roles': 'operator' };
const INGEST = { 'X-User-Roles': 'ingest', 'Content-Type': 'application/json' };
const describePostgres = postgresAvailable() ? describe : describe.skip;
if (!postgresAvailable())
  process.stdout.write('Database outage suite skipped: it needs TEST_DATABASE_URL (PostgreSQL)\n');

describePostgres('a PostgreSQL outage under a running service', () => {
  const receiver = new WebhookReceiver();
  let proxy: TcpProxy;
  let db: TestDatabase;
  let service: ServiceProcess;
  let base: string;
  let stream: SseClient;
  let dir: string;

  const timed = async (path: string, init: RequestInit = {}) => {
    const started = Date.now();
    const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15000) });
    const body = (await res.json().catch(() => null)) as { detail?: unknown; status?: string } | null;
    return { status: res.status, body, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') };
  };
  const submit = (n: number, tag: string) =>
    fetch(`${base}/alerts/deliveries/batch`, {
      method: 'POST',
      headers: INGEST,
      body: JSON.stringify({
        items: Array.from({ length: n }, (_, i) => ({
          tenant_id: 'acme',
          // Each answer takes 300 ms, so attempts are in flight whenever the database is cut.
          endpoint_url: `http://127.0.0.1:${receiver.port}/delay-300?e=${i % 4}`,
          event_type: 'invoice.paid',
          payload: { tag, i },
        })),
      }),
    });
  const annotate = (message: string) =>
    fetch(`${base}/events/annotations`, {
      method: 'POST',
      headers: { ...OPERATOR, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message }),
    });
  const ids = () => receiver.hooks.filter((h) => h.path === '/delay-300').map((h) => String(h.headers['webhook-id']));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-outage-'));
    await receiver.start();
    db = await createTestDatabase('postgres');
    const target = new URL(db.env.DATABASE_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    target.hostname = '127.0.0.1';
    target.port = String(proxy.port);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = startService(
      {
        DATABASE_URL: target.toString(),
        DATA_DIR: dir,
        LOG_LEVEL: 'info',
        DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
        RATE_LIMIT_PER_MINUTE: '0',
        DB_CONNECT_TIMEOUT_MS: '1000',
        DB_QUERY_TIMEOUT_MS: '2000',
        DISPATCH_CONCURRENCY: '8',
        AUTOHEAL_INTERVAL_S: '1',
        ANOMALY_INTERVAL_S: '1',
      },
      port,
    );
    await waitUntilHealthy(service, 30000);
    stream = await SseClient.open(`${base}/events/stream?types=operator.*`, OPERATOR);
  }, 60000);

  afterAll(async () => {
    await stream?.close();
    service?.child.kill('SIGTERM');
    if (service) await within(service.exited, 15000, 'service exit').catch(() => undefined);
    await proxy?.stop();
    await receiver.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with a detail within a bound while the database is cut, and stays alive', async () => {
    expect((await submit(200, 'before')).status).toBe(202);
    expect((await annotate('before the outage')).status).toBe(201);
    await eventually(
      () => Promise.resolve(new Set(ids()).size),
      (n) => n >= 50,
      'some deliveries to arrive',
      20000,
    );
    proxy.cut();
    const logLinesAtCut = service.stdout().split('\n').length;

    const ready = await timed('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', detail: expect.stringMatching(/database unavailable/) });
    expect(ready.ms).toBeLessThan(3000);
    for (const [path, init] of [
      ['/alerts/deliveries/history?limit=5', { headers: OPERATOR }],
      ['/alerts/endpoints', { headers: OPERATOR }],
      ['/tenant_analytics/summary', { headers: OPERATOR }],
      ['/events/audit?limit=5', { headers: OPERATOR }],
    ] as const) {
      const res = await timed(path, init);
      expect({ path, status: res.status, detail: res.body?.detail }).toEqual({
        path,
        status: 503,
        detail: 'Database unavailable; retry shortly',
      });
      expect(res.retryAfter).toBe('5');
      expect(res.ms).toBeLessThan(5000);
    }
    const write = await timed('/alerts/deliveries/batch', {
      method: 'POST',
      headers: INGEST,
      body: JSON.stringify({
        items: [
          { tenant_id: 'acme', endpoint_url: `http://127.0.0.1:${receiver.port}/ok`, event_type: 'x', payload: {} },
        ],
      }),
    });
    expect(write.status).toBe(503);
    expect((await timed('/healthz')).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^command_center_health 0$/m);

    // A few seconds of outage: the dispatcher backs off instead of spinning, and nothing crashes.
    await new Promise((r) => setTimeout(r, 4000));
    expect(service.child.exitCode).toBeNull();
    const linesDuringOutage = service.stdout().split('\n').length - logLinesAtCut;
    expect(linesDuringOutage).toBeLessThan(60);
    // Every slot holds an attempt waiting to be recorded, so no claim is even tried meanwhile.
    expect(service.stdout()).toContain('database unavailable; will record the attempt when it is back');
    expect(service.stdout()).not.toMatch(/"error_id"/);
  }, 60000);

  it('recovers without a restart: readiness, the API, the event stream and every delivery, none twice', async () => {
    proxy.restore();
    await eventually(
      () => timed('/readyz'),
      (r) => r.status === 200,
      'readiness after the database is back',
      20000,
    );
    expect((await timed('/alerts/deliveries/history?limit=5', { headers: OPERATOR })).status).toBe(200);
    expect((await submit(100, 'after')).status).toBe(202);
    expect((await annotate('after the outage')).status).toBe(201);
    await eventually(
      () => timed('/alerts/deliveries/history?status=pending&limit=1', { headers: OPERATOR }),
      (r) => r.status === 200 && (r.body as unknown as { items: unknown[] }).items.length === 0,
      'the queue to drain',
      45000,
    );
    const history = await timed('/alerts/deliveries/history?status=success&limit=500', { headers: OPERATOR });
    const delivered = (history.body as unknown as { items: { id: string }[] }).items.map((d) => d.id);
    expect(delivered).toHaveLength(300);
    const seen = ids();
    const distinct = new Set(seen);
    for (const id of delivered) expect(distinct.has(id)).toBe(true);
    // Attempts in flight at the cut were recorded once the database came back, not sent again.
    expect(seen.length - distinct.size).toBe(0);

    // The stream stayed open through the outage and got both annotations, in order, no gap.
    await stream.waitFor(
      () => stream.payloads<{ data: { message: string } }>('operator.annotation').length >= 2,
      10000,
      'both annotations',
    );
    const messages = stream.payloads<{ data: { message: string } }>('operator.annotation').map((p) => p.data.message);
    expect(messages).toEqual(['before the outage', 'after the outage']);
    const audit = await timed('/events/audit?type=operator.annotation&limit=10', { headers: OPERATOR });
    const stored = (audit.body as unknown as { items: { id: number }[] }).items.map((e) => String(e.id)).reverse();
    expect(stream.events('operator.annotation').map((f) => f.id)).toEqual(stored);
  }, 90000);

  it('backs the dispatcher off while an idle queue cannot be claimed, logging less and less', async () => {
    const before = service.stdout().split('could not claim due deliveries; backing off').length - 1;
    proxy.cut();
    await new Promise((r) => setTimeout(r, 5000));
    const during = service.stdout().split('could not claim due deliveries; backing off').length - 1 - before;
    // Polling every 500 ms would be 10 failures; logged are the 1st, 2nd and 4th, then the 8th...
    expect(during).toBeGreaterThanOrEqual(1);
    expect(during).toBeLessThanOrEqual(3);
    proxy.restore();
    await eventually(
      () => timed('/readyz'),
      (r) => r.status === 200,
      'readiness after the second outage',
      20000,
    );
    expect((await submit(10, 'last')).status).toBe(202);
    await eventually(
      () => Promise.resolve(new Set(ids()).size),
      (n) => n >= 310,
      'the last deliveries, once the backoff has passed',
      30000,
    );
  }, 60000);
});
