import { testDialects } from './support/dialects.js';
import { ProbeModule } from './support/probe.controller.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe.each(testDialects())('metrics (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  async function scrape(): Promise<string> {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.text;
  }

  it('exposes the runbook metrics and Node process metrics', async () => {
    const text = await scrape();
    expect(text).toMatch(/^command_center_health 1$/m);
    expect(text).toMatch(/^command_center_uptime_seconds \d+(\.\d+)?$/m);
    expect(text).toContain('# TYPE command_center_events_total counter');
    expect(text).toContain('# TYPE command_center_api_requests_total counter');
    expect(text).toContain('# TYPE command_center_api_request_duration_seconds histogram');
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it('labels requests by route template, never the raw URL', async () => {
    await t.http().get('/probe/items/abc123').set('X-User-Roles', 'operator').expect(200);
    await t.http().get('/probe/items/def456').set('X-User-Roles', 'operator').expect(200);
    await t.http().get('/probe/items/x').expect(403);
    await t.http().get('/no/such/path/9f8e7d').expect(404);
    const text = await scrape();
    expect(text).toContain(
      'command_center_api_requests_total{method="GET",endpoint="/probe/items/{id}",status="200"} 2',
    );
    expect(text).toContain(
      'command_center_api_requests_total{method="GET",endpoint="/probe/items/{id}",status="403"} 1',
    );
    expect(text).toContain('command_center_api_requests_total{method="GET",endpoint="unmatched",status="404"} 1');
    expect(text).not.toContain('abc123');
    expect(text).not.toContain('9f8e7d');
    expect(text).toMatch(
      /command_center_api_request_duration_seconds_count\{method="GET",endpoint="\/probe\/items\/\{id\}",status="200"\} 2/,
    );
  });
});

describe.each(testDialects())('request logs (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { imports: [ProbeModule] });
  });
  afterAll(() => t.close());

  it('writes one JSON line per request with the runbook fields', async () => {
    await t
      .http()
      .get('/probe/items/42?verbose=1')
      .set('X-User-Roles', 'Operator, viewer')
      .set('X-User-Tenant', 'acme-corp')
      .set('X-Request-Id', 'req-abc-123')
      .expect(200)
      .expect('X-Request-Id', 'req-abc-123');
    const lines = t.logs.requests().filter((r) => r.request_id === 'req-abc-123');
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'command-center',
      endpoint: '/probe/items/{id}',
      method: 'GET',
      status: 200,
      user_roles: ['operator'],
      tenant_id: 'acme-corp',
      request_id: 'req-abc-123',
    });
    expect(new Date(line.timestamp as string).toISOString()).toBe(line.timestamp);
    expect(typeof line.duration_ms).toBe('number');
    expect(line).not.toHaveProperty('req');
    expect(line).not.toHaveProperty('res');
  });

  it('generates a request id when none (or a hostile one) is given', async () => {
    const res = await t.http().get('/meta').set('X-Request-Id', '<script>'.repeat(40)).expect(200);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.logs.requests().some((r) => r.request_id === id)).toBe(true);
  });

  it('logs 4xx as WARNING', async () => {
    const res = await t.http().get('/auth/whoami').expect(403);
    const line = t.logs.requests().find((r) => r.request_id === res.headers['x-request-id']);
    expect(line).toMatchObject({ level: 'WARNING', status: 403, user_roles: [] });
  });

  it('keeps probes and scrapes out of the info log', async () => {
    await t.http().get('/healthz').expect(200);
    await t.http().get('/readyz').expect(200);
    await t.http().get('/metrics').expect(200);
    const quiet = t.logs.requests().filter((r) => ['/healthz', '/readyz', '/metrics'].includes(r.endpoint as string));
    expect(quiet).toEqual([]);
  });

  it('every line is valid single-line JSON', () => {
    expect(t.logs.lines.length).toBeGreaterThan(0);
    for (const line of t.logs.lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe.each(testDialects())('LOG_LEVEL (%s)', (dialect) => {
  it('debug shows probes; error hides request lines', async () => {
    const debug = await createTestApp(dialect, { env: { LOG_LEVEL: 'debug' } });
    try {
      await debug.http().get('/healthz').expect(200);
      expect(debug.logs.requests().find((r) => r.endpoint === '/healthz')).toMatchObject({ level: 'DEBUG' });
    } finally {
      await debug.close();
    }
    const quiet = await createTestApp(dialect, { env: { LOG_LEVEL: 'error' } });
    try {
      await quiet.http().get('/meta').expect(200);
      await quiet.http().get('/auth/whoami').expect(403);
      expect(quiet.logs.requests()).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
