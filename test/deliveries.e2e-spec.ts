import { testDialects } from './support/dialects.js';
import { FakeClock } from './support/fake-clock.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const INGEST = { 'X-User-Roles': 'ingest' };
const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };
type Delivery = {
  id: string;
  tenant_id: string;
  status: string;
  event_type: string;
  endpoint_url: string;
  created_at: string;
};
type Page = { items: Delivery[]; limit: number; skip: number; next_cursor: string | null; has_more: boolean };

describe.each(testDialects())('deliveries: ingest, endpoints and history (%s)', (dialect) => {
  let t: TestApp;
  const clock = new FakeClock();
  beforeAll(async () => {
    t = await createTestApp(dialect, { clock, env: { DELIVERY_MAX_PAYLOAD_BYTES: '2048' } });
  });
  afterAll(() => t.close());

  const submit = (body: Record<string, unknown>, headers: Record<string, string> = INGEST) =>
    t.http().post('/alerts/deliveries').set(headers).send(body);
  const delivery = (tenant: string, extra: Record<string, unknown> = {}) => ({
    tenant_id: tenant,
    endpoint_url: `https://hooks.${tenant}.example/webhooks`,
    event_type: 'invoice.paid',
    payload: { invoice: 'inv_1', amount: 42 },
    ...extra,
  });
  const history = async (query: string, headers: Record<string, string> = OPERATOR) =>
    (await t.http().get(`/alerts/deliveries/history${query}`).set(headers).expect(200)).body as Page;

  it('accepts a delivery (202), pending and due, and creates its endpoint with a secret', async () => {
    const res = await submit(delivery('acme')).expect(202);
    expect(res.body).toMatchObject({
      tenant_id: 'acme',
      endpoint_url: 'https://hooks.acme.example/webhooks',
      event_type: 'invoice.paid',
      status: 'pending',
      attempt_count: 0,
      payload_bytes: JSON.stringify({ invoice: 'inv_1', amount: 42 }).length,
    });
    const detail = await t.http().get(`/alerts/deliveries/${res.body.id}`).set(OPERATOR).expect(200);
    expect(detail.body.payload).toEqual({ invoice: 'inv_1', amount: 42 });
    const endpoint = await t.http().get(`/alerts/endpoints/${res.body.endpoint_id}`).set(OPERATOR).expect(200);
    expect(endpoint.body).toMatchObject({
      tenant_id: 'acme',
      state: 'active',
      counts_24h: { pending: 1, success: 0, failed: 0 },
    });
    expect(endpoint.body).not.toHaveProperty('secret');
  });

  it('returns the original for a repeated idempotency key within 24 h, a new delivery after', async () => {
    const first = await submit(delivery('idem', { idempotency_key: 'order-1' })).expect(202);
    const again = await submit(delivery('idem', { idempotency_key: 'order-1', payload: { other: true } })).expect(200);
    expect(again.body.id).toBe(first.body.id);
    await submit(delivery('idem-other', { idempotency_key: 'order-1' })).expect(202);
    clock.advance(24 * 3_600_000 + 1000);
    const later = await submit(delivery('idem', { idempotency_key: 'order-1' })).expect(202);
    expect(later.body.id).not.toBe(first.body.id);
    expect((await history('?tenant_id=idem')).items).toHaveLength(2);
  });

  it('takes a batch as a whole, with per-item errors', async () => {
    const ok = await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({
        items: [
          delivery('batch'),
          delivery('batch', { idempotency_key: 'b1' }),
          delivery('batch', { idempotency_key: 'b1' }),
        ],
      })
      .expect(202);
    expect(ok.body).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(ok.body.items[2]).toMatchObject({ index: 2, duplicate: true, id: ok.body.items[1].id });
    const bad = await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({
        items: [
          delivery('batch2'),
          delivery('batch2', { endpoint_url: 'ftp://x' }),
          delivery('batch2', { event_type: '' }),
        ],
      })
      .expect(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'items.1.endpoint_url', message: 'must be an absolute http or https URL' },
        expect.objectContaining({ field: 'items.2.event_type' }),
      ]),
    );
    expect((await history('?tenant_id=batch2')).items).toEqual([]);
    const tooMany = await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({ items: Array.from({ length: 501 }, () => ({ ...delivery('many'), payload: 1 })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.detail).toMatch(/items/);
  });

  it('refuses oversize payloads with 413, whole batches included', async () => {
    const big = { blob: 'x'.repeat(3000) };
    const res = await submit(delivery('big', { payload: big })).expect(413);
    expect(res.body.detail).toMatch(/DELIVERY_MAX_PAYLOAD_BYTES \(2048 bytes\)/);
    const batch = await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(INGEST)
      .send({ items: [delivery('big'), delivery('big', { payload: big })] })
      .expect(413);
    expect(batch.body.detail).toMatch(/items 1/);
    expect((await history('?tenant_id=big')).items).toEqual([]);
  });

  it.each([
    ['a relative URL', { endpoint_url: '/hooks' }],
    ['a non-http scheme', { endpoint_url: 'ftp://example.com/x' }],
    ['an overlong URL', { endpoint_url: `https://example.com/${'a'.repeat(2050)}` }],
    ['no payload', { payload: undefined }],
    ['a bad tenant', { tenant_id: 'a b' }],
    ['an unknown field', { priority: 'high' }],
    ['a bad idempotency key', { idempotency_key: 'has space' }],
  ])('rejects %s with 400', async (_name, extra) => {
    const res = await submit(delivery('bad', extra));
    expect(res.status).toBe(400);
    expect(res.body.detail).toEqual(expect.any(String));
  });

  it('lets ingest and admin submit, nobody else; keeps a scoped producer to its tenant', async () => {
    await submit(delivery('roles'), OPERATOR).expect(403);
    await submit(delivery('roles'), ADMIN).expect(202);
    await submit(delivery('other'), { ...INGEST, 'X-User-Tenant': 'roles' }).expect(403);
    await submit(delivery('roles'), { ...INGEST, 'X-User-Tenant': 'roles' }).expect(202);
    await t.http().get('/alerts/deliveries/history').set(INGEST).expect(403);
  });

  it('registers endpoints: 201 with the secret, then 200 without; a different secret is a 409', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const url = 'https://hooks.reg.example/in';
    const first = await t
      .http()
      .post('/alerts/endpoints')
      .set(INGEST)
      .send({ tenant_id: 'reg', url, secret })
      .expect(201);
    expect(first.body).toMatchObject({ tenant_id: 'reg', url, state: 'active', secret });
    const again = await t.http().post('/alerts/endpoints').set(ADMIN).send({ tenant_id: 'reg', url }).expect(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body).not.toHaveProperty('secret');
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    await t.http().post('/alerts/endpoints').set(ADMIN).send({ tenant_id: 'reg', url, secret: other }).expect(409);
    await t
      .http()
      .post('/alerts/endpoints')
      .set(ADMIN)
      .send({ tenant_id: 'reg', url: 'https://x.example', secret: 'short' })
      .expect(400);
    const generated = await t
      .http()
      .post('/alerts/endpoints')
      .set(ADMIN)
      .send({ tenant_id: 'reg', url: 'https://y.example/' })
      .expect(201);
    expect(generated.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const audit = await t.http().get('/events/audit?type=audit.endpoint.register').set(OPERATOR).expect(200);
    expect(JSON.stringify(audit.body)).not.toContain(secret);
    const results = (audit.body as { items: { data: { result: string } }[] }).items.map((i) => i.data.result);
    expect(results).toEqual(expect.arrayContaining(['success', 'noop']));
  });

  it('lists endpoints newest first, scoped, paged by cursor', async () => {
    const all = await t.http().get('/alerts/endpoints?limit=2').set(OPERATOR).expect(200);
    expect(all.body.items).toHaveLength(2);
    expect(all.body.next_cursor).toEqual(expect.any(String));
    const next = await t
      .http()
      .get(`/alerts/endpoints?limit=2&cursor=${all.body.next_cursor}`)
      .set(OPERATOR)
      .expect(200);
    const ids = [...all.body.items, ...next.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);
    const scoped = await t
      .http()
      .get('/alerts/endpoints?tenant_id=acme')
      .set({ ...OPERATOR, 'X-User-Tenant': 'reg' })
      .expect(200);
    for (const e of scoped.body.items) expect(e.tenant_id).toBe('reg');
    await t
      .http()
      .get(`/alerts/endpoints/${all.body.items[0].id}`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'nobody' })
      .expect(404);
    await t.http().get('/alerts/endpoints/00000000-0000-0000-0000-000000000000').set(OPERATOR).expect(404);
  });

  describe('history', () => {
    const ids: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 12; i++) {
        const res = await submit(
          delivery('hist', { event_type: i % 2 ? 'order.created' : 'invoice.paid', payload: { i } }),
        ).expect(202);
        ids.push(res.body.id);
        clock.advance(1000);
      }
    });

    it('is newest first with the runbook page shape', async () => {
      const page = await history('?tenant_id=hist&limit=5');
      expect(page).toMatchObject({ limit: 5, skip: 0, has_more: true, next_cursor: expect.any(String) });
      expect(page.items.map((d) => d.id)).toEqual([...ids].reverse().slice(0, 5));
    });

    it('pages by skip and by cursor to the same, complete result', async () => {
      const bySkip: string[] = [];
      for (let skip = 0; skip < 12; skip += 5)
        bySkip.push(...(await history(`?tenant_id=hist&limit=5&skip=${skip}`)).items.map((d) => d.id));
      const byCursor: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await history(`?tenant_id=hist&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        byCursor.push(...page.items.map((d) => d.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(bySkip).toEqual([...ids].reverse());
      expect(byCursor).toEqual(bySkip);
    });

    it('filters by status, event type, endpoint and time', async () => {
      expect((await history('?tenant_id=hist&status=pending&limit=500')).items).toHaveLength(12);
      expect((await history('?tenant_id=hist&status=failed,success')).items).toEqual([]);
      expect((await history('?tenant_id=hist&event_type=order.created')).items).toHaveLength(6);
      expect((await history('?endpoint_url=https://hooks.hist.example/webhooks&limit=500')).items).toHaveLength(12);
      const middle = (await history('?tenant_id=hist&limit=500')).items[5].created_at;
      expect((await history(`?tenant_id=hist&start_time=${middle}`)).items).toHaveLength(6);
      expect((await history(`?tenant_id=hist&end_time=${middle}`)).items).toHaveLength(7);
    });

    it('confines a scoped operator to its tenant', async () => {
      const page = await history('?tenant_id=hist', { ...OPERATOR, 'X-User-Tenant': 'acme' });
      expect(page.items.length).toBeGreaterThan(0);
      for (const d of page.items) expect(d.tenant_id).toBe('acme');
      await t
        .http()
        .get(`/alerts/deliveries/${ids[0]}`)
        .set({ ...OPERATOR, 'X-User-Tenant': 'acme' })
        .expect(404);
      await t.http().get('/alerts/deliveries/no-such-id').set(OPERATOR).expect(404);
    });

    it.each([
      ['start_time=yesterday', /start_time/],
      ['start_time=2026-11-26T10:00:00Z&end_time=2026-11-25T10:00:00Z', /start_time must not be after end_time/],
      ['limit=0', /limit/],
      ['limit=10000', /limit/],
      ['skip=10001', /cursor/],
      ['skip=-1', /skip/],
      ['status=lost', /status/],
      ['cursor=garbage', /cursor/],
      ['skip=5&cursor=eyJ0IjoiMjAyNi0xMS0yNlQwMDowMDowMC4wMDBaIiwiaWQiOiJ4In0', /either skip or cursor/],
      ['endpoint_url=not-a-url', /endpoint_url/],
    ])('rejects %s with 400', async (query, detail) => {
      const res = await t.http().get(`/alerts/deliveries/history?${query}`).set(OPERATOR);
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(detail);
    });
  });

  it('reports the queue depth and how overdue the oldest pending delivery is', async () => {
    const pending = (await history('?status=pending&limit=500')).items.length;
    const before = (await t.http().get('/metrics').expect(200)).text;
    expect(before).toMatch(new RegExp(`^command_center_delivery_queue_depth ${pending}$`, 'm'));
    clock.advance(120_000);
    const after = (await t.http().get('/metrics').expect(200)).text;
    const overdue = Number(/^command_center_delivery_oldest_pending_seconds (\S+)$/m.exec(after)?.[1]);
    expect(overdue).toBeGreaterThanOrEqual(120);
  });

  it('lists delivery_history in /meta', async () => {
    const meta = await t.http().get('/meta').expect(200);
    expect(meta.body.features).toContain('delivery_history');
  });
});
