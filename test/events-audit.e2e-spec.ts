import { DataSource } from 'typeorm';
import { TransactionRunner } from '../src/database/transaction-runner.js';
import { EventRetentionService } from '../src/events/event-retention.service.js';
import { EventsService } from '../src/events/events.service.js';
import { SYSTEM_ACTOR } from '../src/events/event.types.js';
import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };
type Page = {
  items: { id: number; type: string; tenant_id: string | null; data: Record<string, unknown> }[];
  next_cursor: string | null;
};

describe.each(testDialects())('event history, audit trail and retention (%s)', (dialect) => {
  let t: TestApp;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await createTestApp(dialect, { clock });
  });
  afterAll(() => t.close());

  const annotate = async (
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = OPERATOR,
  ) =>
    (
      await t
        .http()
        .post('/events/annotations')
        .set(headers)
        .send({ message, ...extra })
        .expect(201)
    ).body as { id: number };
  const history = async (query: string, headers: Record<string, string> = OPERATOR) =>
    (await t.http().get(`/events/audit${query}`).set(headers).expect(200)).body as Page;
  const verify = async () =>
    (await t.http().get('/events/audit/verify').set(ADMIN).expect(200)).body as Record<string, unknown>;
  const sql = (query: string, params: unknown[] = []) => t.app.get(DataSource).query(query, params);

  it('lists features in /meta', async () => {
    const meta = await t.http().get('/meta').expect(200);
    expect(meta.body.features).toEqual(expect.arrayContaining(['event_stream', 'audit_trail']));
  });

  it('writes an audit event with the caller, in the same transaction as the change', async () => {
    const created = await t
      .http()
      .post('/events/annotations')
      .set({ ...OPERATOR, 'X-User-Tenant': 'acme', 'User-Agent': 'oncall-cli/1.0', 'X-Request-Id': 'req-audit-1' })
      .send({ message: 'restarted the EU receiver' })
      .expect(201);
    expect(created.body).toMatchObject({ type: 'operator.annotation', tenant_id: 'acme' });
    const page = await history('?type=audit.annotation.create&limit=1');
    expect(page.items[0]).toMatchObject({
      type: 'audit.annotation.create',
      tenant_id: 'acme',
      subject: { type: 'event', id: String(created.body.id) },
      actor: {
        type: 'user',
        roles: ['operator'],
        tenant_id: 'acme',
        user_agent: 'oncall-cli/1.0',
        request_id: 'req-audit-1',
      },
      data: { action: 'annotation.create', result: 'success' },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('audits denied attempts at state-changing routes, never reads', async () => {
    const before = (await history('?type=audit.*&limit=1000')).items.length;
    await t
      .http()
      .post('/events/annotations')
      .set({ 'X-User-Roles': 'ingest', 'X-Request-Id': 'req-denied-1' })
      .send({ message: 'x' })
      .expect(403);
    await t.http().post('/events/annotations').send({ message: 'x' }).expect(403);
    await t.http().get('/events/audit/verify').set(OPERATOR).expect(403);
    const audit = (await history('?type=audit.*&limit=1000')).items;
    expect(audit.length).toBe(before + 2);
    expect(audit[1]).toMatchObject({
      severity: 'warning',
      actor: { roles: ['ingest'], request_id: 'req-denied-1' },
      data: { action: 'annotation.create', result: 'denied', reason: 'Requires role: operator' },
    });
    expect(audit[0]).toMatchObject({
      actor: { roles: [] },
      data: { result: 'denied', reason: 'Missing or invalid X-User-Roles header' },
    });
  });

  it('refuses a scoped operator annotating another tenant, and audits the refusal', async () => {
    await t
      .http()
      .post('/events/annotations')
      .set({ ...OPERATOR, 'X-User-Tenant': 'acme' })
      .send({ message: 'x', tenant_id: 'globex' })
      .expect(403);
  });

  it('rejects bad annotations with 400 and writes nothing', async () => {
    const before = (await history('?limit=1000')).items.length;
    for (const body of [
      {},
      { message: '   ' },
      { message: 'x'.repeat(1001) },
      { message: 'x', severity: 'loud' },
      { message: 'x', extra: 1 },
    ]) {
      const res = await t.http().post('/events/annotations').set(OPERATOR).send(body);
      expect(res.status).toBe(400);
      expect(res.body.detail).toEqual(expect.any(String));
    }
    expect((await history('?limit=1000')).items.length).toBe(before);
  });

  it('pages newest first by cursor, without overlap', async () => {
    for (let i = 0; i < 7; i++) await annotate(`page ${i}`, { tenant_id: 'paging' });
    const seen: number[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await history(
        `?tenant_id=paging&type=operator.annotation&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    }
    expect(seen).toHaveLength(7);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
  });

  it('filters by type family, tenant, actor role and time', async () => {
    await annotate('admin note', { tenant_id: 'filters' }, ADMIN);
    await annotate('operator note', { tenant_id: 'filters' });
    const byAdmin = await history('?tenant_id=filters&actor_role=admin');
    expect(byAdmin.items.map((i) => i.type).sort()).toEqual(['audit.annotation.create', 'operator.annotation']);
    const audits = await history('?tenant_id=filters&type=audit.*');
    expect(audits.items).toHaveLength(2);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await history(`?tenant_id=filters&since=${future}`)).items).toEqual([]);
    expect((await history(`?tenant_id=filters&until=${future}`)).items).toHaveLength(4);
  });

  it('applies tenant scope to the history', async () => {
    await annotate('secret plans', { tenant_id: 'globex' });
    const scoped = await history('?tenant_id=globex&limit=1000', { ...OPERATOR, 'X-User-Tenant': 'acme' });
    expect(scoped.items.length).toBeGreaterThan(0);
    for (const item of scoped.items) expect(item.tenant_id).toBe('acme');
  });

  it.each([
    ['limit=0'],
    ['limit=1001'],
    ['limit=ten'],
    ['cursor=garbage'],
    ['since=yesterday'],
    ['since=2026-11-26'],
    ['since=2026-11-26T10:00:00'],
    ['since=2026-11-26T10:00:00Z&until=2026-11-25T10:00:00Z'],
    ['type=audit%20*'],
    ['actor_role=root'],
    ['tenant_id=a%20b'],
    ['unknown=1'],
  ])('rejects %s with 400 and a detail', async (query) => {
    const res = await t.http().get(`/events/audit?${query}`).set(OPERATOR);
    expect(res.status).toBe(400);
    expect(res.body.detail).toEqual(expect.any(String));
  });

  it('publishes nothing from a rolled-back transaction', async () => {
    const runner = t.app.get(TransactionRunner);
    const events = t.app.get(EventsService);
    await expect(
      runner.run(async (tx) => {
        await events.publish(tx, { type: 'test.rolled_back', actor: SYSTEM_ACTOR });
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    expect((await history('?type=test.rolled_back')).items).toEqual([]);
    const metrics = await t.http().get('/metrics');
    expect(metrics.text).not.toContain('event_type="test.rolled_back"');
    expect(metrics.text).toMatch(/command_center_events_total\{event_type="operator.annotation",severity="info"\} \d+/);
  });

  it('verifies the chain, and finds an edited row', async () => {
    const ok = await verify();
    expect(ok).toMatchObject({ ok: true, checked: expect.any(Number) });
    expect(ok.checked).toBeGreaterThan(5);
    const target = (await history('?type=audit.*&limit=5')).items[2];
    const [row] = (await sql(
      'SELECT data FROM events WHERE id = $1'.replace('$1', dialect === 'postgres' ? '$1' : '?'),
      [target.id],
    )) as { data: string }[];
    await sql(`UPDATE events SET data = ${dialect === 'postgres' ? '$1' : '?'} WHERE id = ${target.id}`, [
      row.data.replace('success', 'noop').replace('denied', 'noop'),
    ]);
    expect(await verify()).toMatchObject({ ok: false, broken_at: target.id, reason: expect.stringMatching(/altered/) });
    await sql(`UPDATE events SET data = ${dialect === 'postgres' ? '$1' : '?'} WHERE id = ${target.id}`, [row.data]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('finds a deleted row in the middle, and a deleted tail', async () => {
    const audit = (await history('?type=audit.*&limit=3')).items;
    await sql(`DELETE FROM events WHERE id = ${audit[1].id}`);
    expect(await verify()).toMatchObject({ ok: false, broken_at: audit[0].id });
    await sql(`DELETE FROM events WHERE id = ${audit[0].id}`);
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/recorded head/) });
  });

  it('does not let a purge hide the earlier removal of the tail', async () => {
    clock.advance(8 * 86_400_000);
    expect(await t.app.get(EventRetentionService).purgeNow()).toBeGreaterThan(0);
    expect((await history('?limit=1000')).items).toEqual([]);
    await annotate('after purge');
    // The new link still follows the head that was recorded before the tail was deleted.
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/does not follow/) });
  });
});

describe.each(testDialects())('retention batches (%s)', (dialect) => {
  it('deletes only what is past retention, more than one batch of it', async () => {
    const clock = new FakeClock();
    const t = await createTestApp(dialect, { clock, env: { EVENT_RETENTION_DAYS: '2' } });
    try {
      const runner = t.app.get(TransactionRunner);
      const events = t.app.get(EventsService);
      await runner.run(async (tx) => {
        for (let i = 0; i < 2100; i++)
          await events.publish(tx, { type: i % 3 ? 'test.old' : 'audit.test.old', actor: SYSTEM_ACTOR });
      });
      clock.advance(86_400_000);
      await t.http().post('/events/annotations').set(OPERATOR).send({ message: 'one day later' }).expect(201);
      clock.advance(86_400_000 + 1000);
      expect(await t.app.get(EventRetentionService).purgeNow()).toBe(2100);
      const left = (await t.http().get('/events/audit?limit=1000').set(OPERATOR).expect(200)).body as Page;
      expect(left.items.map((i) => i.type).sort()).toEqual(['audit.annotation.create', 'operator.annotation']);
      const check = await t.http().get('/events/audit/verify').set(ADMIN).expect(200);
      expect(check.body).toMatchObject({ ok: true, checked: 1 });
    } finally {
      await t.close();
    }
  });
});
