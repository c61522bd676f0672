import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { testDialects } from './support/dialects.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import type { TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
type Job = { job_id: string; status: string; matched: number; requeued: number; skipped: number; dry_run: boolean };

/** Recover jobs run in the background: allow them a little longer. */
const poll = <T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string) => eventually(probe, ok, what, 10_000);

describe.each(testDialects())('bulk recover (%s)', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let base: string;
  let harness: DispatchHarness;
  const since = new Date(Date.now() - 3_600_000).toISOString();
  const until = new Date(Date.now() + 3_600_000).toISOString();

  beforeAll(async () => {
    harness = await startDispatching(dialect, {
      env: { RETRY_SCHEDULE: '0' },
    });
    ({ t, receiver, base } = harness);
    const items = [0, 1, 2, 3, 4].map((i) => ({
      tenant_id: 'bulk',
      endpoint_url: `${base}/flaky-1?d=${i}`,
      event_type: 'test.bulk',
      payload: { i },
    }));
    items.push({
      tenant_id: 'other',
      endpoint_url: `${base}/flaky-1?d=other`,
      event_type: 'test.bulk',
      payload: { i: 9 },
    });
    await t.http().post('/alerts/deliveries/batch').set(INGEST).send({ items }).expect(202);
    await poll(
      async () =>
        (await t.http().get('/alerts/deliveries/history?status=failed').set(OPERATOR)).body.items.length as number,
      (n) => n === 6,
      'six failed deliveries',
    );
  });
  afterAll(() => harness.close());

  const start = (body: Record<string, unknown>, headers: Record<string, string> = OPERATOR) =>
    t.http().post('/alerts/deliveries/replay').set(headers).send(body);
  const job = async (id: string, headers: Record<string, string> = OPERATOR) =>
    (await t.http().get(`/alerts/deliveries/replay/${id}`).set(headers).expect(200)).body as Job;

  it('counts without sending on dry_run', async () => {
    const hits = receiver.hooks.length;
    const res = await start({ tenant_id: 'bulk', since, until, dry_run: true }).expect(202);
    expect(res.body).toMatchObject({ status: 'completed', dry_run: true, matched: 5, requeued: 0 });
    await new Promise((r) => setTimeout(r, 600));
    expect(receiver.hooks.length).toBe(hits);
  });

  it('requeues the window’s failed deliveries in the background, as bulk_replay', async () => {
    const res = await start({ tenant_id: 'bulk', since, until }).expect(202);
    expect(res.body).toMatchObject({ matched: 5, dry_run: false });
    const done = await poll(
      () => job(res.body.job_id as string),
      (j) => j.status === 'completed',
      'the job',
    );
    expect(done).toMatchObject({ matched: 5, requeued: 5, skipped: 0 });
    const succeeded = await poll(
      async () =>
        (await t.http().get('/alerts/deliveries/history?tenant_id=bulk&status=success').set(OPERATOR)).body.items as {
          id: string;
        }[],
      (items) => items.length === 5,
      'five successes',
    );
    const detail = await t.http().get(`/alerts/deliveries/${succeeded[0].id}`).set(OPERATOR).expect(200);
    const attempts = (detail.body as { attempts: { trigger: string }[] }).attempts;
    expect(attempts.map((a) => a.trigger)).toEqual(['initial', 'bulk_replay']);
    expect(
      (await t.http().get('/alerts/deliveries/history?tenant_id=other&status=failed').set(OPERATOR)).body.items,
    ).toHaveLength(1);
  });

  it('refuses a second job for the same endpoints while one is running (409), not once it went stale', async () => {
    const ds = t.app.get(DataSource);
    const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?');
    const at = (d: Date) => (dialect === 'postgres' ? d : d.toISOString().replace('T', ' ').replace('Z', ''));
    const insert = (updatedAt: Date) =>
      ds.query(
        `INSERT INTO replay_jobs (id, tenant_id, endpoint_url, since, until, dry_run, status, matched, requeued, skipped, created_by, created_at, updated_at)
         VALUES (${p(1)}, 'other', NULL, ${p(2)}, ${p(3)}, ${p(4)}, 'running', 1, 0, 0, '{}', ${p(5)}, ${p(6)})`,
        [
          randomUUID(),
          at(new Date(since)),
          at(new Date(until)),
          dialect === 'postgres' ? false : 0,
          at(updatedAt),
          at(updatedAt),
        ],
      );
    await insert(new Date());
    const res = await start({ tenant_id: 'other', since, until }).expect(409);
    expect(res.body.detail).toMatch(/already running/);
    await ds.query(`UPDATE replay_jobs SET updated_at = ${p(1)} WHERE tenant_id = 'other'`, [
      at(new Date(Date.now() - 3_600_000)),
    ]);
    await start({ tenant_id: 'other', since, until }).expect(202);
  });

  it.each([
    [{ since: until, until: since }, /since must be before until/],
    [{ since: '2026-01-01T00:00:00Z', until: '2026-02-01T00:00:00Z' }, /14 days/],
    [{ since: 'yesterday', until }, /since/],
    [{ until }, /since/],
    [{ since, until, dry_run: 'yes' }, /dry_run/],
  ])('rejects %j with 400', async (body, detail) => {
    const res = await start(body).expect(400);
    expect(res.body.detail).toMatch(detail);
  });

  it('keeps a scoped operator to its tenant', async () => {
    await start({ tenant_id: 'bulk', since, until, dry_run: true }, { ...OPERATOR, 'X-User-Tenant': 'other' }).expect(
      403,
    );
    const mine = await start({ since, until, dry_run: true }, { ...OPERATOR, 'X-User-Tenant': 'other' }).expect(202);
    expect(mine.body.tenant_id).toBe('other');
    const bulkJob = await start({ tenant_id: 'bulk', since, until, dry_run: true }).expect(202);
    await t
      .http()
      .get(`/alerts/deliveries/replay/${bulkJob.body.job_id}`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'other' })
      .expect(404);
    await t.http().get('/alerts/deliveries/replay/no-such-job').set(OPERATOR).expect(404);
  });

  it('audits recover jobs, refused ones included', async () => {
    await start({ since, until }, INGEST).expect(403);
    const audit = await t
      .http()
      .get('/events/audit?type=audit.delivery.bulk_replay&limit=1000')
      .set(OPERATOR)
      .expect(200);
    const results = (audit.body as { items: { data: { result: string } }[] }).items.map((i) => i.data.result);
    expect(results).toEqual(expect.arrayContaining(['success', 'noop', 'denied']));
  });
});
