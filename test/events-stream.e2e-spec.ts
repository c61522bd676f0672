import { connect } from 'node:net';
import { TransactionRunner } from '../src/database/transaction-runner.js';
import { EventRetentionService } from '../src/events/event-retention.service.js';
import { EventsService } from '../src/events/events.service.js';
import { SYSTEM_ACTOR } from '../src/events/event.types.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { SseClient } from './support/sse-client.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };

describe.each(testDialects())('event stream (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  const clients: SseClient[] = [];
  const clock = new FakeClock();

  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { SSE_HEARTBEAT_S: '1', SSE_MAX_CLIENTS: '8' }, clock });
    base = await t.listen();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => t.close());

  async function stream(query = '', headers: Record<string, string> = OPERATOR): Promise<SseClient> {
    const client = await SseClient.open(`${base}/events/stream${query}`, headers);
    clients.push(client);
    return client;
  }

  async function annotate(
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = OPERATOR,
  ) {
    const res = await t
      .http()
      .post('/events/annotations')
      .set(headers)
      .send({ message, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: number };
  }

  it('delivers an event published by an API action, live, as an SSE frame', async () => {
    const client = await stream();
    expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
    const created = await annotate('failing over the EU receiver');
    await client.waitFor((f) => f.some((x) => x.event === 'audit.annotation.create'), 5000, 'the audit event');
    const [frame] = client.events('operator.annotation');
    expect(frame.id).toBe(String(created.id));
    expect(JSON.parse(frame.data!)).toMatchObject({
      id: created.id,
      type: 'operator.annotation',
      severity: 'info',
      tenant_id: null,
      actor: { type: 'user', roles: ['operator'] },
      data: { message: 'failing over the EU receiver' },
    });
    const [audit] = client.payloads('audit.annotation.create');
    expect(audit).toMatchObject({
      data: { action: 'annotation.create', result: 'success' },
      subject: { type: 'event', id: String(created.id) },
    });
  });

  it('filters by type, tenant and minimum severity', async () => {
    const byType = await stream('?types=operator.annotation');
    const bySeverity = await stream('?min_severity=warning&types=operator.*');
    const byTenant = await stream('?tenant_id=acme&types=operator.annotation');
    await annotate('routine', { tenant_id: 'globex' });
    await annotate('serious', { tenant_id: 'acme', severity: 'error' });
    await byType.waitFor((f) => f.filter((x) => x.event).length >= 2);
    await byTenant.waitFor((f) => f.some((x) => x.event));
    await bySeverity.waitFor((f) => f.some((x) => x.event));
    await annotate('marker', { severity: 'critical', tenant_id: 'acme' });
    await byTenant.waitFor((f) => f.filter((x) => x.event).length >= 2);
    expect(byType.events().map((f) => f.event)).toEqual([
      'operator.annotation',
      'operator.annotation',
      'operator.annotation',
    ]);
    expect(byTenant.payloads().map((p) => (p.data as { message: string }).message)).toEqual(['serious', 'marker']);
    await bySeverity.waitFor((f) => f.filter((x) => x.event).length >= 2);
    expect(bySeverity.payloads().map((p) => p.severity)).toEqual(['error', 'critical']);
  });

  it('confines a tenant-scoped operator to its tenant, whatever it asks for', async () => {
    const scoped = await stream('?tenant_id=globex', { ...OPERATOR, 'X-User-Tenant': 'acme' });
    await annotate('for globex', { tenant_id: 'globex' });
    await annotate('global');
    await annotate('for acme', { tenant_id: 'acme' });
    await scoped.waitFor((f) => f.some((x) => x.data?.includes('for acme')));
    for (const p of scoped.payloads()) expect(p.tenant_id).toBe('acme');
  });

  it('rejects bad filters with 400', async () => {
    for (const query of ['?min_severity=loud', '?types=a%20b', '?tenant_id=-x', '?last_event_id=abc']) {
      const client = await stream(query);
      expect(client.status).toBe(400);
      expect(JSON.parse(client.body).detail).toEqual(expect.any(String));
    }
    const header = await stream('', { ...OPERATOR, 'Last-Event-ID': 'nope' });
    expect(header.status).toBe(400);
  });

  it('resumes after Last-Event-ID with no gap and no duplicate, then goes live', async () => {
    const first = await annotate('r1');
    const missed = [await annotate('r2'), await annotate('r3'), await annotate('r4')];
    const resumed = await stream('?types=operator.annotation', { ...OPERATOR, 'Last-Event-ID': String(first.id) });
    const live = await annotate('r5');
    await resumed.waitFor((f) => f.some((x) => x.id === String(live.id)));
    const ids = resumed.events().map((f) => Number(f.id));
    expect(ids).toEqual([...missed.map((m) => m.id), live.id]);
    const viaQuery = await stream(`?types=operator.annotation&last_event_id=${missed[1].id}`);
    await viaQuery.waitFor((f) => f.some((x) => x.id === String(live.id)));
    expect(viaQuery.events().map((f) => Number(f.id))).toEqual([missed[2].id, live.id]);
  });

  it('keeps order and completeness while events are published during the replay', async () => {
    const start = await annotate('s0');
    for (let i = 0; i < 30; i++) await annotate(`backlog ${i}`);
    const publishing = (async () => {
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) ids.push((await annotate(`during ${i}`)).id);
      return ids;
    })();
    const client = await stream('?types=operator.annotation', { ...OPERATOR, 'Last-Event-ID': String(start.id) });
    const during = await publishing;
    await client.waitFor((f) => f.some((x) => x.id === String(during[during.length - 1])), 10000);
    const ids = client.events().map((f) => Number(f.id));
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('says reset when the id is unknown, then streams live', async () => {
    const client = await stream('', { ...OPERATOR, 'Last-Event-ID': '999999999' });
    await client.waitFor((f) => f.some((x) => x.event === 'reset'));
    expect(JSON.parse(client.events('reset')[0].data!)).toMatchObject({
      reason: 'unknown_event_id',
      last_event_id: 999999999,
    });
    const next = await annotate('after reset');
    await client.waitFor((f) => f.some((x) => x.id === String(next.id)));
  });

  it('says reset when events after the id were purged, then replays what is retained', async () => {
    const old = await annotate('old');
    await annotate('old too');
    clock.advance(8 * 86_400_000);
    await t.app.get(EventRetentionService).purgeNow();
    const recent = await annotate('recent');
    const client = await stream('?types=operator.annotation', { ...OPERATOR, 'Last-Event-ID': String(old.id) });
    await client.waitFor((f) => f.some((x) => x.id === String(recent.id)));
    expect(client.frames.filter((f) => f.event)[0].event).toBe('reset');
    expect(JSON.parse(client.events('reset')[0].data!)).toMatchObject({ reason: 'events_purged' });
    expect(client.events('operator.annotation').map((f) => Number(f.id))).toEqual([recent.id]);
  });

  it('sends a heartbeat comment', async () => {
    const client = await stream();
    await client.waitFor((f) => f.some((x) => x.comment === 'heartbeat'), 3000, 'a heartbeat');
  });

  it('counts open streams and refuses more than SSE_MAX_CLIENTS with 503', async () => {
    const open = [];
    for (let i = 0; i < 8; i++) open.push(await stream());
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^command_center_sse_clients 8$/m);
    const refused = await stream();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ detail: 'Too many event stream clients (limit 8); retry later' });
    await open[0].close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await stream();
    expect(again.status).toBe(200);
  });

  it('drops a client that stops reading once its queue passes the bound', async () => {
    const port = Number(new URL(base).port);
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'GET /events/stream HTTP/1.1\r\nHost: x\r\nX-User-Roles: operator\r\nAccept: text/event-stream\r\n\r\n',
    );
    socket.once('data', () => socket.pause()); // headers arrived; never read again
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const gauge = async () =>
      Number(/^command_center_sse_clients (\d+)$/m.exec((await t.http().get('/metrics')).text)?.[1]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await gauge()).toBe(1);
    const runner = t.app.get(TransactionRunner);
    const events = t.app.get(EventsService);
    const message = 'x'.repeat(4000);
    // Far more than the socket buffers and the 1 MiB queue bound can hold.
    for (let batch = 0; batch < 20 && (await gauge()) > 0; batch++) {
      await runner.run(async (tx) => {
        for (let i = 0; i < 200; i++)
          await events.publish(tx, { type: 'test.bulk', actor: SYSTEM_ACTOR, data: { message } });
      });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await gauge()).toBe(0);
    expect(t.logs.lines.some((l) => l.includes('dropping an event stream: the client is not reading'))).toBe(true);
    expect((await t.http().get('/metrics')).text).toMatch(/^command_center_sse_dropped_total 1$/m);
    // Once the client reads again it finds the connection gone.
    socket.resume();
    await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), 5000)),
    ]);
  });
});

describe.each(testDialects())('event stream shutdown (%s)', (dialect) => {
  it('completes every open stream at once when the app closes', async () => {
    const t = await createTestApp(dialect);
    const base = await t.listen();
    const streams = await Promise.all([1, 2, 3].map(() => SseClient.open(`${base}/events/stream`, OPERATOR)));
    const started = Date.now();
    await t.close();
    await Promise.all(streams.map((s) => s.closed));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(streams.every((s) => s.isClosed)).toBe(true);
  });
});
