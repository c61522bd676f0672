import { DataSource } from 'typeorm';
import { AutohealEngine } from '../src/autoheal/autoheal-engine.js';
import { testDialects } from './support/dialects.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };
const ADMIN = { 'X-User-Roles': 'admin' };
const INGEST = { 'X-User-Roles': 'ingest' };

type Rule = { id: string; name: string; version: number; builtin: boolean; tenant_id: string | null; dry_run: boolean };
type Execution = { id: string; outcome: string; rule_name: string; endpoint_id: string; tenant_id: string };

const newRule = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  description: 'test rule',
  trigger: { metric: 'consecutive_failures', threshold: 3, min_requests: 3 },
  action: { type: 'pause_endpoint', params: { pause_s: 600 } },
  ...over,
});

describe.each(testDialects())('autoheal API (%s)', (dialect) => {
  let t: TestApp;
  let engine: AutohealEngine;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    engine = t.app.get(AutohealEngine);
  });
  afterAll(() => t.close());

  const rules = async (headers: Record<string, string> = OPERATOR) =>
    (await t.http().get('/autoheal/rules').set(headers).expect(200)).body.items as Rule[];
  const executions = async (query = '') =>
    (await t.http().get(`/autoheal/executions${query}`).set(OPERATOR).expect(200)).body as {
      items: Execution[];
      next_cursor: string | null;
      has_more: boolean;
    };
  /** An endpoint with a failure streak of `n`, as the dispatcher would leave it. */
  const failingEndpoint = async (tenant: string, url: string, n: number) => {
    const res = await t
      .http()
      .post('/alerts/deliveries')
      .set(INGEST)
      .send({ tenant_id: tenant, endpoint_url: url, event_type: 'e.t', payload: {} })
      .expect(202);
    const id = res.body.endpoint_id as string;
    const p = dialect === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    await t.app
      .get(DataSource)
      .query(`UPDATE endpoints SET consecutive_failures = ${p[0]} WHERE id = ${p[1]}`, [n, id]);
    return id;
  };
  const disableBuiltins = async () => {
    for (const rule of (await rules()).filter((r) => r.builtin)) {
      await t
        .http()
        .patch(`/autoheal/rules/${rule.id}`)
        .set(ADMIN)
        .send({ version: rule.version, enabled: false })
        .expect(200);
    }
  };

  it('starts with the two built-in rules, editable', async () => {
    const builtins = (await rules()).filter((r) => r.builtin);
    expect(builtins.map((r) => r.name).sort()).toEqual([
      'pause-after-10-consecutive-failures',
      'replay-failed-on-recovery',
    ]);
    const pause = builtins.find((r) => r.name.startsWith('pause'))!;
    const res = await t.http().get(`/autoheal/rules/${pause.id}`).set(OPERATOR).expect(200);
    expect(res.body).toMatchObject({
      trigger: { metric: 'consecutive_failures', threshold: 10 },
      action: { type: 'pause_endpoint' },
      cooldown_s: 900,
      max_actions_per_hour: 4,
      enabled: true,
      dry_run: false,
    });
  });

  it('creates, versions, updates and deletes a rule; every change audited', async () => {
    const created = await t.http().post('/autoheal/rules').set(ADMIN).send(newRule('crud-rule')).expect(201);
    expect(created.body).toMatchObject({ name: 'crud-rule', version: 1, builtin: false, created_by: 'user:admin' });
    await t.http().post('/autoheal/rules').set(ADMIN).send(newRule('crud-rule')).expect(409);
    const updated = await t
      .http()
      .patch(`/autoheal/rules/${created.body.id}`)
      .set(ADMIN)
      .send({ version: 1, dry_run: true, cooldown_s: 60 })
      .expect(200);
    expect(updated.body).toMatchObject({ version: 2, dry_run: true, cooldown_s: 60, trigger: { threshold: 3 } });
    const stale = await t
      .http()
      .patch(`/autoheal/rules/${created.body.id}`)
      .set(ADMIN)
      .send({ version: 1, enabled: false })
      .expect(409);
    expect(stale.body.detail).toMatch(/version 2/);
    await t.http().delete(`/autoheal/rules/${created.body.id}`).set(ADMIN).expect(204);
    await t.http().get(`/autoheal/rules/${created.body.id}`).set(OPERATOR).expect(404);
    await t.http().delete(`/autoheal/rules/${created.body.id}`).set(ADMIN).expect(404);
    const audit = await t.http().get('/events/audit?type=audit.autoheal.rule.*').set(OPERATOR).expect(200);
    expect((audit.body.items as { type: string }[]).map((i) => i.type)).toEqual([
      'audit.autoheal.rule.delete',
      'audit.autoheal.rule.update',
      'audit.autoheal.rule.create',
    ]);
  });

  it.each([
    [{ trigger: { metric: 'error_rate', threshold: 1 } }, 'trigger.metric'],
    [{ trigger: { metric: 'failure_rate', threshold: 70 } }, 'trigger.threshold'],
    [{ trigger: { metric: 'failure_rate', threshold: 0.5, window_s: 5 } }, 'trigger.window_s'],
    [{ action: { type: 'reboot' } }, 'action.type'],
    [{ action: { type: 'pause_endpoint', params: { pause_s: 1 } } }, 'action.params.pause_s'],
    [{ action: { type: 'pause_endpoint', params: { until: 'never' } } }, 'action.params.until'],
    [{ cooldown_s: -1 }, 'cooldown_s'],
    [{ name: 'Has Spaces' }, 'name'],
    [{ trigger: 'sometimes' }, 'trigger'],
  ])('refuses %j with 400 naming %s', async (over, field) => {
    const res = await t.http().post('/autoheal/rules').set(ADMIN).send(newRule('bad-rule', over)).expect(400);
    expect(res.body.detail).toEqual(expect.any(String));
    expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    expect((await rules()).some((r) => r.name === 'bad-rule')).toBe(false);
  });

  it('lets only admins change rules, and shows a tenant the global rules and its own', async () => {
    await t.http().post('/autoheal/rules').set(OPERATOR).send(newRule('op-rule')).expect(403);
    const mine = await t
      .http()
      .post('/autoheal/rules')
      .set(ADMIN)
      .send(newRule('tenant-a-rule', { tenant_id: 'tenant-a' }))
      .expect(201);
    const theirs = await t
      .http()
      .post('/autoheal/rules')
      .set(ADMIN)
      .send(newRule('tenant-b-rule', { tenant_id: 'tenant-b' }))
      .expect(201);
    const seen = await rules({ ...OPERATOR, 'X-User-Tenant': 'tenant-a' });
    expect(seen.map((r) => r.name)).toContain('tenant-a-rule');
    expect(seen.map((r) => r.name)).not.toContain('tenant-b-rule');
    expect(seen.every((r) => r.tenant_id === null || r.tenant_id === 'tenant-a')).toBe(true);
    await t
      .http()
      .get(`/autoheal/rules/${theirs.body.id}`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'tenant-a' })
      .expect(404);
    await t
      .http()
      .get(`/autoheal/rules/${mine.body.id}`)
      .set({ ...OPERATOR, 'X-User-Tenant': 'tenant-a' })
      .expect(200);
    for (const r of [mine.body, theirs.body]) await t.http().delete(`/autoheal/rules/${r.id}`).set(ADMIN).expect(204);
  });

  describe('engine, cooldowns and executions', () => {
    beforeAll(disableBuiltins);

    it('pauses once, then records the cooldown; a clear lifts the pause and old failures do not refire', async () => {
      const rule = (await t.http().post('/autoheal/rules').set(ADMIN).send(newRule('pause-3')).expect(201))
        .body as Rule;
      const url = 'https://hooks.clear.example/in';
      const endpointId = await failingEndpoint('clear', url, 5);
      await engine.evaluate();
      const endpoint = await t.http().get(`/alerts/endpoints/${endpointId}`).set(OPERATOR).expect(200);
      expect(endpoint.body).toMatchObject({ state: 'paused', paused_by: 'autoheal:pause-3' });
      const fired = (await executions(`?rule_id=${rule.id}`)).items;
      expect(fired.map((x) => x.outcome)).toEqual(['fired']);

      const cooldowns = (await t.http().get('/autoheal/cooldowns?tenant_id=clear').set(OPERATOR).expect(200)).body
        .items;
      expect(cooldowns).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ endpoint_id: endpointId, kind: 'paused', rule_name: 'pause-3' }),
          expect.objectContaining({
            endpoint_id: endpointId,
            kind: 'cooldown',
            rule_id: rule.id,
            rule_name: 'pause-3',
          }),
        ]),
      );

      await t.http().post('/autoheal/clear_endpoint_cooldown').set(OPERATOR).send({ endpoint_url: url }).expect(403);
      const cleared = await t
        .http()
        .post('/autoheal/clear_endpoint_cooldown')
        .set(ADMIN)
        .send({ endpoint_url: url, reason: 'receiver fixed' })
        .expect(200);
      expect(cleared.body).toMatchObject({
        cleared: true,
        endpoints: [{ endpoint_id: endpointId, cooldowns_cleared: 1, resumed: true }],
      });
      expect((await t.http().get(`/alerts/endpoints/${endpointId}`).set(OPERATOR).expect(200)).body).toMatchObject({
        state: 'active',
        consecutive_failures: 0,
      });
      await engine.evaluate();
      expect((await executions(`?rule_id=${rule.id}`)).items).toHaveLength(1);

      const again = await t
        .http()
        .post('/autoheal/clear_endpoint_cooldown')
        .set(ADMIN)
        .send({ endpoint_url: url })
        .expect(200);
      expect(again.body.cleared).toBe(false);
      const unknown = await t
        .http()
        .post('/autoheal/clear_endpoint_cooldown')
        .set(ADMIN)
        .send({ endpoint_url: 'https://nowhere.example/x' })
        .expect(404);
      expect(unknown.body.detail).toMatch(/No endpoint/);
      const audit = await t
        .http()
        .get('/events/audit?type=audit.autoheal.clear_endpoint_cooldown')
        .set(OPERATOR)
        .expect(200);
      expect((audit.body.items as { data: { result: string } }[]).map((i) => i.data.result)).toEqual([
        'noop',
        'noop',
        'success',
        'denied',
      ]);
      await t.http().delete(`/autoheal/rules/${rule.id}`).set(ADMIN).expect(204);
    });

    it('dry-run records would_fire and touches nothing', async () => {
      const rule = (
        await t
          .http()
          .post('/autoheal/rules')
          .set(ADMIN)
          .send(newRule('dry-3', { dry_run: true }))
          .expect(201)
      ).body as Rule;
      const endpointId = await failingEndpoint('dry', 'https://hooks.dry.example/in', 4);
      await engine.evaluate();
      await engine.evaluate();
      expect((await executions(`?rule_id=${rule.id}`)).items.map((x) => x.outcome)).toEqual(['would_fire']);
      expect((await t.http().get(`/alerts/endpoints/${endpointId}`).set(OPERATOR).expect(200)).body.state).toBe(
        'active',
      );
      const events = await t.http().get('/events/audit?type=autoheal.would_fire').set(OPERATOR).expect(200);
      expect(events.body.items).toHaveLength(1);
      await t.http().delete(`/autoheal/rules/${rule.id}`).set(ADMIN).expect(204);
    });

    it('pages executions by cursor, newest first, filtered and tenant-scoped', async () => {
      const rule = (
        await t
          .http()
          .post('/autoheal/rules')
          .set(ADMIN)
          .send(newRule('notify-3', { tenant_id: 'pages', action: { type: 'notify', params: { message: 'look' } } }))
          .expect(201)
      ).body as Rule;
      for (let i = 0; i < 3; i++) await failingEndpoint('pages', `https://hooks.pages.example/${i}`, 3);
      await engine.evaluate();
      const first = await executions(`?rule_id=${rule.id}&limit=2`);
      expect(first.items).toHaveLength(2);
      expect(first.has_more).toBe(true);
      const second = await executions(`?rule_id=${rule.id}&limit=2&cursor=${first.next_cursor}`);
      expect(second.items).toHaveLength(1);
      expect(new Set([...first.items, ...second.items].map((x) => x.endpoint_id)).size).toBe(3);
      const scoped = await t
        .http()
        .get(`/autoheal/executions?rule_id=${rule.id}`)
        .set({ ...OPERATOR, 'X-User-Tenant': 'other' })
        .expect(200);
      expect(scoped.body.items).toEqual([]);
      await t.http().get('/autoheal/executions?outcome=exploded').set(OPERATOR).expect(400);
      await t.http().get('/autoheal/executions?since=yesterday').set(OPERATOR).expect(400);
      expect((await executions('?outcome=fired&tenant_id=pages')).items.every((x) => x.outcome === 'fired')).toBe(true);
      await t.http().delete(`/autoheal/rules/${rule.id}`).set(ADMIN).expect(204);
    });

    it('announces autoheal in /meta and counts actions in /metrics', async () => {
      expect((await t.http().get('/meta').expect(200)).body.features).toContain('autoheal');
      const metrics = await t.http().get('/metrics').expect(200);
      expect(metrics.text).toMatch(
        /command_center_autoheal_actions_total\{rule="pause-3",action="pause_endpoint",outcome="fired"\} 1/,
      );
      expect(metrics.text).toMatch(/command_center_endpoints_paused \d+/);
    });
  });
});
