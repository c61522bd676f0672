import { testDialects } from './support/dialects.js';
import { ProbeModule } from './support/probe.controller.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe.each(testDialects())('error shapes (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { imports: [ProbeModule], env: { MAX_BODY_BYTES: '2048' } });
  });
  afterAll(() => t.close());

  it('unknown routes are 404 {"detail": "Not Found"} with a request id', async () => {
    const res = await t.http().get('/alerts/nowhere').set('X-User-Roles', 'operator').expect(404);
    expect(res.body).toEqual({ detail: 'Not Found', request_id: expect.any(String) });
    expect(res.headers['x-request-id']).toBe(res.body.request_id);
  });

  it('validation errors list each field', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('X-User-Roles', 'operator')
      .send({ name: '', count: 11 })
      .expect(400);
    expect(res.body.detail).toBe('Request validation failed');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'name', message: expect.stringMatching(/longer than or equal to 1/) },
        { field: 'count', message: expect.stringMatching(/not be greater than 10/) },
      ]),
    );
  });

  it('unknown body fields are refused by name', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('X-User-Roles', 'operator')
      .send({ name: 'a', count: 1, admin: true })
      .expect(400);
    expect(res.body.errors).toEqual([{ field: 'admin', message: 'property admin should not exist' }]);
    expect(res.body.detail).toBe('Invalid admin: property admin should not exist');
  });

  it('valid bodies pass through transformed', async () => {
    const res = await t.http().post('/probe/echo').set('X-User-Roles', 'operator').send({ name: 'a', count: '3' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'a', count: 3 });
  });

  it('malformed JSON is a 400 with detail', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('X-User-Roles', 'operator')
      .set('Content-Type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expect(res.body).toEqual({ detail: 'Malformed JSON in request body', request_id: expect.any(String) });
  });

  it('an oversized body is a 413 with detail, and is logged', async () => {
    const res = await t
      .http()
      .post('/probe/echo')
      .set('X-User-Roles', 'operator')
      .send({ name: 'x'.repeat(4096), count: 1 })
      .expect(413);
    expect(res.body).toEqual({
      detail: 'Request body exceeds the limit of 2048 bytes',
      request_id: expect.any(String),
    });
    const line = t.logs.requests().find((r) => r.request_id === res.body.request_id);
    expect(line).toMatchObject({ status: 413, method: 'POST' });
  });

  it('an unexpected error is a bare 500 with an error id, logged with the cause', async () => {
    const res = await t.http().get('/probe/boom').expect(500);
    expect(res.body).toEqual({
      detail: 'Internal server error',
      error_id: expect.any(String),
      request_id: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('kaboom');
    const logged = t.logs.records().find((r) => r.error_id === res.body.error_id);
    expect(logged).toBeDefined();
    expect(logged?.level).toBe('ERROR');
    expect(JSON.stringify(logged)).toContain('kaboom');
  });
});

describe.each(testDialects())('rate limiting (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After and detail past the limit, per caller', async () => {
    for (let i = 0; i < 3; i++) {
      await t.http().get('/auth/whoami').set('X-User-Roles', 'operator').set('X-User-Tenant', 'acme').expect(200);
    }
    const res = await t.http().get('/auth/whoami').set('X-User-Roles', 'operator').set('X-User-Tenant', 'acme');
    expect(res.status).toBe(429);
    expect(res.body.detail).toMatch(/^Rate limit exceeded: 3 requests per minute/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Another tenant has a budget of its own.
    await t.http().get('/auth/whoami').set('X-User-Roles', 'operator').set('X-User-Tenant', 'globex').expect(200);
  });

  it('keys anonymous callers by address', async () => {
    for (let i = 0; i < 3; i++) await t.http().get('/meta').expect(200);
    await t.http().get('/auth/whoami').expect(429);
  });

  it('exempts health, readiness and metrics', async () => {
    for (let i = 0; i < 10; i++) {
      await t.http().get('/healthz').expect(200);
      await t.http().get('/readyz').expect(200);
      await t.http().get('/metrics').expect(200);
    }
  });
});
