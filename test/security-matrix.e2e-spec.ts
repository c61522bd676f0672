/**
 * Security matrix, generated from the committed OpenAPI document: every documented operation is
 * checked against the proxy secret, tenant isolation (every operation that names an object),
 * rate limiting and the request bounds; deliveries are checked against the SSRF guard end to end.
 * A new route is covered by adding it to the API; an id route whose object this file cannot
 * create fails the suite instead of being skipped.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { DataSource } from 'typeorm';
import { PROXY_SECRET_DETAIL } from '../src/common/auth/identity-resolver.js';
import { ROLES, type Role } from '../src/common/auth/identity.js';
import { DeliveryEntity } from '../src/deliveries/delivery.entity.js';
import { OPENAPI_SPEC_PATH } from '../src/openapi/openapi-document.js';
import { seedOpenAnomaly } from './support/anomaly-seed.js';
import { testDialects, type Dialect } from './support/dialects.js';
import { eventually, startDispatching, type DispatchHarness } from './support/dispatch-harness.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

// ---------------------------------------------------------------------------------------------
// The operations, as the committed document describes them
// ---------------------------------------------------------------------------------------------

interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: { type?: string; enum?: string[]; maximum?: number; minimum?: number; items?: { type?: string } };
}
interface SpecOperation {
  parameters?: SpecParameter[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security?: Record<string, string[]>[];
  'x-required-roles'?: string[];
}
interface Operation {
  /** `GET /alerts/deliveries/{id}` */
  key: string;
  method: string;
  path: string;
  /** null: public (no declared roles and no security requirement). */
  roles: Role[] | null;
  params: SpecParameter[];
  pathParams: SpecParameter[];
  hasBody: boolean;
  /** Answers with a Server-Sent Events stream that never ends on its own. */
  streams: boolean;
  spec: SpecOperation;
}

const spec = JSON.parse(readFileSync(OPENAPI_SPEC_PATH, 'utf8')) as {
  paths: Record<string, Record<string, SpecOperation>>;
};

const OPERATIONS: Operation[] = Object.entries(spec.paths)
  .flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): Operation => {
      const params = op.parameters ?? [];
      return {
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        roles: (op['x-required-roles'] as Role[] | undefined) ?? null,
        params,
        pathParams: params.filter((p) => p.in === 'path'),
        hasBody: op.requestBody !== undefined,
        streams: JSON.stringify(op).includes('text/event-stream'),
        spec: op,
      };
    }),
  )
  .sort((a, b) => a.key.localeCompare(b.key));

const PROTECTED = OPERATIONS.filter((op) => op.roles !== null);
const PUBLIC = OPERATIONS.filter((op) => op.roles === null);
/** The only documented operations allowed to be public: adding one must be a deliberate act. */
const EXPECTED_PUBLIC = ['GET /healthz', 'GET /meta', 'GET /readyz'];
/** Public routes kept out of the document: the root redirect, metrics and Swagger UI itself. */
const UNDOCUMENTED_PUBLIC: Array<[string, number]> = [
  ['/', 302],
  ['/metrics', 200],
  ['/docs', 200],
  ['/docs-json', 200],
  ['/docs-yaml', 200],
];

/** `admin` includes `operator`, as the guard has it. */
const satisfies = (role: Role, required: Role[]) =>
  required.includes(role) || (role === 'admin' && required.includes('operator'));

const TENANT_A = 'tenant-a';
const TENANT_B = 'tenant-b';
const SECRET = 'matrix-proxy-secret-0123456789';

/** A value of the right type for a parameter nobody cares about (path ids, required query values). */
function dummyValue(p: SpecParameter): string {
  if (p.schema?.enum?.length) return p.schema.enum[0];
  if (p.schema?.type === 'number' || p.schema?.type === 'integer') return '1';
  if (/tenant/i.test(p.name)) return 'no-such-tenant';
  return randomUUID();
}

function buildUrl(op: Operation, pathValues: Record<string, string> = {}, query: Record<string, string> = {}) {
  let path = op.path;
  for (const p of op.pathParams) {
    path = path.replace(`{${p.name}}`, encodeURIComponent(pathValues[p.name] ?? dummyValue(p)));
  }
  const q = new URLSearchParams();
  for (const p of op.params.filter((x) => x.in === 'query' && x.required)) q.set(p.name, dummyValue(p));
  for (const [k, v] of Object.entries(query)) q.set(k, v);
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

const recent = () => ({
  since: new Date(Date.now() - 3_600_000).toISOString(),
  until: new Date(Date.now() + 60_000).toISOString(),
});
const ruleBody = (tenant: string | null) => ({
  name: `matrix-${randomUUID().slice(0, 8)}`,
  tenant_id: tenant,
  trigger: { metric: 'consecutive_failures', threshold: 5 },
  action: { type: 'notify', params: { severity: 'warning', message: 'matrix' } },
});

/** Valid bodies, so that a refused request is refused for its identity and not for its body. */
const VALID_BODIES: Record<string, (tenant: string) => unknown> = {
  'POST /alerts/deliveries': (tenant) => ({
    tenant_id: tenant,
    endpoint_url: `https://hooks.${tenant}.example/in`,
    event_type: 'matrix.test',
    payload: { n: 1 },
  }),
  'POST /alerts/deliveries/batch': (tenant) => ({
    items: [
      { tenant_id: tenant, endpoint_url: `https://hooks.${tenant}.example/in`, event_type: 'matrix.test', payload: {} },
    ],
  }),
  'POST /alerts/deliveries/replay': (tenant) => ({ tenant_id: tenant, ...recent(), dry_run: true }),
  'POST /alerts/endpoints': (tenant) => ({ tenant_id: tenant, url: `https://hooks.${tenant}.example/registered` }),
  'POST /alerts/endpoints/{id}/pause': () => ({ reason: 'matrix' }),
  'POST /anomalies/{id}/triage': () => ({ note: 'matrix' }),
  'POST /autoheal/clear_endpoint_cooldown': (tenant) => ({ endpoint_url: `https://hooks.${tenant}.example/in` }),
  'POST /autoheal/rules': (tenant) => ruleBody(tenant),
  'PATCH /autoheal/rules/{id}': () => ({ version: 1, description: 'matrix' }),
  'POST /events/annotations': (tenant) => ({ message: 'matrix', tenant_id: tenant }),
};

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * One request over a real socket. An event stream is cancelled once its status is known, since
 * it never ends by itself.
 */
async function send(
  base: string,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, body: null };
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics, Swagger UI, redirects)
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

const callOp = (base: string, op: Operation, headers: Record<string, string>) =>
  send(base, op.method, buildUrl(op), headers, op.hasBody ? (VALID_BODIES[op.key]?.('acme') ?? {}) : undefined);

/**
 * The `tenant_id` of every object anywhere in a JSON answer, except an event's `actor`: that is who
 * called, with the X-User-Tenant they sent (an admin acting on tenant A's object may have sent B).
 */
function tenantIdsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) tenantIdsIn(v, found);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.tenant_id === 'string') found.push(o.tenant_id);
    for (const [k, v] of Object.entries(o)) if (k !== 'actor') tenantIdsIn(v, found);
  }
  return found;
}

describe('the OpenAPI document the matrix is generated from', () => {
  it('marks every operation as either public (an expected one) or protected with roles and all identity headers', () => {
    expect(OPERATIONS.length).toBeGreaterThan(30);
    expect(PUBLIC.map((op) => op.key)).toEqual(EXPECTED_PUBLIC);
    for (const op of PUBLIC) expect([op.key, op.spec.security]).toEqual([op.key, undefined]);
    for (const op of PROTECTED) {
      expect([op.key, op.roles?.every((r) => (ROLES as readonly string[]).includes(r))]).toEqual([op.key, true]);
      expect([op.key, op.spec.security]).toEqual([op.key, [{ proxy_secret: [], roles: [], tenant: [] }]]);
      expect([op.key, Object.keys(op.spec.responses)]).toEqual([op.key, expect.arrayContaining(['401', '403', '429'])]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 1. Spoofed identity: AUTH_PROXY_SECRET
// ---------------------------------------------------------------------------------------------

describe.each(testDialects())('proxy secret over every operation (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, { env: { AUTH_PROXY_SECRET: SECRET } });
    base = await t.listen();
  });
  afterAll(() => t.close());

  const admin = { 'X-User-Roles': 'admin', 'X-User-Tenant': TENANT_A };

  it.each(PROTECTED.map((op) => [op.key, op] as const))(
    '%s: admin headers without the secret or with a wrong one are 401; with it, they count',
    async (_key, op) => {
      expect(satisfies('admin', op.roles ?? [])).toBe(true);
      for (const secret of [undefined, `${SECRET.slice(0, -1)}X`, '', SECRET.toUpperCase()]) {
        const headers = secret === undefined ? admin : { ...admin, 'X-Auth-Proxy-Secret': secret };
        const res = await callOp(base, op, headers);
        expect([op.key, secret, res.status, res.body]).toEqual([
          op.key,
          secret,
          401,
          { detail: PROXY_SECRET_DETAIL, request_id: expect.any(String) },
        ]);
      }
      const genuine = await callOp(base, op, { ...admin, 'X-Auth-Proxy-Secret': SECRET });
      expect([op.key, genuine.status]).not.toEqual([op.key, 401]);
      expect([op.key, genuine.status]).not.toEqual([op.key, 403]);
      expect(genuine.status).toBeLessThan(500);
      // The valid bodies are valid: without dummy ids in the path, the genuine request succeeds.
      if (VALID_BODIES[op.key] && op.pathParams.length === 0) {
        expect([op.key, genuine.status >= 200 && genuine.status < 300]).toEqual([op.key, true]);
      }
    },
  );

  it('a refused write stores nothing, even with a valid body, and is audited as denied', async () => {
    const genuine = { 'X-User-Roles': 'admin', 'X-Auth-Proxy-Secret': SECRET };
    const items = async (url: string) =>
      ((await send(base, 'GET', url, genuine)).body as { items: Record<string, unknown>[] }).items;
    const state = async () => ({
      deliveries: await items('/alerts/deliveries/history?tenant_id=spoofed'),
      endpoints: await items('/alerts/endpoints?tenant_id=spoofed'),
      rules: (await items('/autoheal/rules')).map((r) => r.id),
      annotations: (await items('/events/audit?type=operator.annotation&limit=1000')).map((e) => e.id),
      denied: (await items('/events/audit?type=audit.*&limit=1000')).filter(
        (e) => (e.data as { result: string }).result === 'denied',
      ),
    });
    const before = await state();
    const writes = PROTECTED.filter((op) => op.method !== 'GET');
    for (const op of writes) {
      for (const secret of [undefined, 'wrong-secret-0123456789']) {
        const headers = secret === undefined ? admin : { ...admin, 'X-Auth-Proxy-Secret': secret };
        const body = op.hasBody ? (VALID_BODIES[op.key]?.('spoofed') ?? {}) : undefined;
        expect([op.key, (await send(base, op.method, buildUrl(op), headers, body)).status]).toEqual([op.key, 401]);
      }
    }
    const after = await state();
    expect({ ...after, denied: [] }).toEqual({ ...before, denied: [] });
    const denied = after.denied.slice(0, after.denied.length - before.denied.length);
    expect(denied).toHaveLength(writes.length * 2);
    expect(new Set(denied.map((e) => (e.data as { reason: string }).reason))).toEqual(new Set([PROXY_SECRET_DETAIL]));
  });

  it.each(PUBLIC.map((op) => [op.key, op] as const))(
    '%s stays open without the secret, and ignores spoofed headers',
    async (_key, op) => {
      const anonymous = await callOp(base, op, {});
      expect([op.key, anonymous.status]).toEqual([op.key, 200]);
      const spoofed = await callOp(base, op, { ...admin, 'X-Auth-Proxy-Secret': 'wrong' });
      expect([op.key, spoofed.status]).toEqual([op.key, 200]);
    },
  );

  it.each(UNDOCUMENTED_PUBLIC)('undocumented public route %s stays open (%i)', async (path, status) => {
    expect((await send(base, 'GET', path, {})).status).toBe(status);
    expect((await send(base, 'GET', path, { ...admin, 'X-Auth-Proxy-Secret': 'wrong' })).status).toBe(status);
  });

  it('serves no route that is neither documented nor a known public one', () => {
    const express = t.app.getHttpAdapter().getInstance() as {
      router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    };
    const live = express.router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods)
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
      );
    expect(live.length).toBeGreaterThan(OPERATIONS.length);
    const known = new Set([...OPERATIONS.map((op) => op.key), ...UNDOCUMENTED_PUBLIC.map(([p]) => `GET ${p}`)]);
    // Swagger UI's own assets are served under /docs.
    const unknown = live.filter((r) => !known.has(r) && !r.startsWith('GET /docs/'));
    expect(unknown).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Tenant isolation of every operation that names an object
// ---------------------------------------------------------------------------------------------

type Kind = 'delivery' | 'endpoint' | 'replayJob' | 'anomaly' | 'rule' | 'tenant';

/** Which object a path parameter names. A new path under a known object is covered by itself. */
const OBJECT_OF: Array<{ path: RegExp; param: string; kind: Kind }> = [
  { path: /^\/alerts\/deliveries\/replay\/\{jobId\}/, param: 'jobId', kind: 'replayJob' },
  { path: /^\/alerts\/deliveries\/\{id\}/, param: 'id', kind: 'delivery' },
  { path: /^\/alerts\/endpoints\/\{id\}/, param: 'id', kind: 'endpoint' },
  { path: /^\/anomalies\/\{id\}/, param: 'id', kind: 'anomaly' },
  { path: /^\/autoheal\/rules\/\{id\}/, param: 'id', kind: 'rule' },
  { path: /^\/tenant_analytics\/\{tenant_id\}/, param: 'tenant_id', kind: 'tenant' },
];

const ID_OPERATIONS = OPERATIONS.filter((op) => op.pathParams.length > 0);
const kindOf = (op: Operation): Kind | undefined =>
  op.pathParams.length === 1
    ? OBJECT_OF.find((o) => o.path.test(op.path) && o.param === op.pathParams[0].name)?.kind
    : undefined;

/** What the owner's request sends and gets, where the defaults (no body, 200) do not fit. */
const OWNER_REQUEST: Record<string, { body?: () => unknown; status: number; prepare?: 'fail delivery' }> = {
  'POST /alerts/deliveries/{id}/replay': { status: 202, prepare: 'fail delivery' },
  'POST /alerts/endpoints/{id}/enable': { status: 200 },
  'POST /alerts/endpoints/{id}/pause': { body: () => ({ reason: 'matrix' }), status: 200 },
  'POST /alerts/endpoints/{id}/resume': { status: 200 },
  'POST /alerts/endpoints/{id}/rotate_secret': { status: 200 },
  'POST /anomalies/{id}/triage': { body: () => ({ note: 'looked into it' }), status: 200 },
  'PATCH /autoheal/rules/{id}': { body: () => ({ version: 1, description: 'changed' }), status: 200 },
  'DELETE /autoheal/rules/{id}': { status: 204 },
};

interface Fixture {
  /** The path parameter value naming the object. */
  id: string;
  /** The object as an unscoped admin reads it (undefined: no such read). */
  read?: () => Promise<unknown>;
}

describe.each(testDialects())('tenant isolation of every id route (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  const ADMIN = { 'X-User-Roles': 'admin' };
  const INGEST = { 'X-User-Roles': 'ingest' };
  const scoped = (role: Role, tenant: string) => ({ 'X-User-Roles': role, 'X-User-Tenant': tenant });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.listen();
  });
  afterAll(() => t.close());

  const ok = async (res: Promise<Answer>, status: number) => {
    const answer = await res;
    if (answer.status !== status)
      throw new Error(`expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body as Record<string, unknown>;
  };
  const readAs = (path: string) => () => ok(send(base, 'GET', path, ADMIN), 200);

  const uniqueUrl = (tenant: string) => `https://hooks.${tenant}.example/${randomUUID()}`;

  /** Creates an object owned by `tenant`, through the API where there is one. */
  const CREATE: Record<Kind, (tenant: string) => Promise<Fixture>> = {
    delivery: async (tenant) => {
      const body = { tenant_id: tenant, endpoint_url: uniqueUrl(tenant), event_type: 'matrix.test', payload: { n: 1 } };
      const d = await ok(send(base, 'POST', '/alerts/deliveries', INGEST, body), 202);
      return { id: d.id as string, read: readAs(`/alerts/deliveries/${d.id as string}`) };
    },
    endpoint: async (tenant) => {
      const e = await ok(
        send(base, 'POST', '/alerts/endpoints', INGEST, { tenant_id: tenant, url: uniqueUrl(tenant) }),
        201,
      );
      return { id: e.id as string, read: readAs(`/alerts/endpoints/${e.id as string}`) };
    },
    replayJob: async (tenant) => {
      const body = { tenant_id: tenant, endpoint_url: uniqueUrl(tenant), ...recent(), dry_run: true };
      const job = await ok(send(base, 'POST', '/alerts/deliveries/replay', ADMIN, body), 202);
      return { id: job.job_id as string, read: readAs(`/alerts/deliveries/replay/${job.job_id as string}`) };
    },
    anomaly: async (tenant) => {
      const id = await seedOpenAnomaly(t.app, tenant);
      return { id, read: readAs(`/anomalies/${id}`) };
    },
    rule: async (tenant) => {
      const rule = await ok(send(base, 'POST', '/autoheal/rules', ADMIN, ruleBody(tenant)), 201);
      return { id: rule.id as string, read: readAs(`/autoheal/rules/${rule.id as string}`) };
    },
    tenant: async (tenant) => {
      // A tenant exists for analytics once it has an endpoint.
      await ok(send(base, 'POST', '/alerts/endpoints', INGEST, { tenant_id: tenant, url: uniqueUrl(tenant) }), 201);
      return { id: tenant };
    },
  };

  const missingId = (kind: Kind) => (kind === 'tenant' ? 'no-such-tenant' : randomUUID());

  const call = (op: Operation, id: string, headers: Record<string, string>) => {
    const recipe = OWNER_REQUEST[op.key];
    const url = buildUrl(op, { [op.pathParams[0].name]: id });
    return send(base, op.method, url, headers, recipe?.body?.() ?? (op.hasBody ? {} : undefined));
  };

  it('maps every operation with a path parameter to a way of creating its object', () => {
    expect(ID_OPERATIONS.length).toBeGreaterThanOrEqual(14);
    expect(ID_OPERATIONS.filter((op) => !kindOf(op)).map((op) => op.key)).toEqual([]);
    // Every recipe still names a documented operation.
    expect(Object.keys(OWNER_REQUEST).filter((k) => !ID_OPERATIONS.some((op) => op.key === k))).toEqual([]);
  });

  const operatorRoutes = ID_OPERATIONS.filter((op) => op.roles?.some((r) => r !== 'admin'));
  const adminRoutes = ID_OPERATIONS.filter((op) => op.roles?.every((r) => r === 'admin'));

  it.each(operatorRoutes.map((op) => [op.key, op] as const))(
    '%s: tenant B gets the 404 of an unknown id and changes nothing; tenant A gets the object',
    async (_key, op) => {
      const kind = kindOf(op)!;
      const role = op.roles!.find((r) => r !== 'admin')!;
      const fixture = await CREATE[kind](TENANT_A);
      const recipe = OWNER_REQUEST[op.key];
      if (recipe?.prepare === 'fail delivery') {
        await t.app
          .get(DataSource)
          .getRepository(DeliveryEntity)
          .update(fixture.id, { status: 'failed', next_attempt_at: null, completed_at: new Date() });
      }
      const before = await fixture.read?.();

      const intruder = await call(op, fixture.id, scoped(role, TENANT_B));
      expect([op.key, intruder.status]).toEqual([op.key, 404]);
      expect(intruder.body).toEqual({ detail: expect.any(String), request_id: expect.any(String) });
      const unknown = await call(op, missingId(kind), scoped(role, TENANT_B));
      expect(unknown.status).toBe(404);
      expect((intruder.body as { detail: string }).detail).toBe((unknown.body as { detail: string }).detail);
      expect(await fixture.read?.()).toEqual(before);

      const owner = await call(op, fixture.id, scoped(role, TENANT_A));
      expect([op.key, owner.status]).toEqual([op.key, recipe?.status ?? 200]);
      if (op.method === 'GET') {
        const body = owner.body as Record<string, unknown>;
        expect(body.tenant_id).toBe(TENANT_A);
        expect([body.id, body.job_id, body.tenant_id]).toContain(fixture.id);
      }
    },
  );

  // Admins are never confined by X-User-Tenant, so an admin-only route has no scoped caller that may
  // use it: a scoped non-admin is refused by role (403) before the id is looked at, identically for
  // its own tenant's object and another's, and an admin acts whatever X-User-Tenant says.
  it.each(adminRoutes.map((op) => [op.key, op] as const))(
    '%s (admin only): scoped operators get the same 403 for either tenant; an admin is not confined',
    async (_key, op) => {
      const kind = kindOf(op)!;
      const fixture = await CREATE[kind](TENANT_A);
      const before = await fixture.read?.();
      const other = await call(op, fixture.id, scoped('operator', TENANT_B));
      const own = await call(op, fixture.id, scoped('operator', TENANT_A));
      expect([op.key, other.status, own.status]).toEqual([op.key, 403, 403]);
      expect(other.body).toEqual({ detail: 'Requires role: admin', request_id: expect.any(String) });
      expect((own.body as { detail: string }).detail).toBe('Requires role: admin');
      expect(await fixture.read?.()).toEqual(before);
      const adminElsewhere = await call(op, fixture.id, scoped('admin', TENANT_B));
      expect([op.key, adminElsewhere.status]).toEqual([op.key, OWNER_REQUEST[op.key]?.status ?? 200]);
    },
  );

  it('narrows every list (the audit trail included) to the scoped tenant, whatever tenant_id asks for', async () => {
    for (const kind of Object.keys(CREATE) as Kind[]) await CREATE[kind](TENANT_A);
    // Admin work on tenant A's objects by an admin whose proxy also sent X-User-Tenant: B. Admins are
    // not confined, so none of it may land in tenant B's audit trail.
    const adminAtB = scoped('admin', TENANT_B);
    const rule = await CREATE.rule(TENANT_A);
    await ok(send(base, 'PATCH', `/autoheal/rules/${rule.id}`, adminAtB, { version: 1, description: 'x' }), 200);
    await ok(send(base, 'DELETE', `/autoheal/rules/${rule.id}`, adminAtB), 204);
    const shared = uniqueUrl('shared');
    for (const tenant of [TENANT_A, 'tenant-c']) {
      await ok(send(base, 'POST', '/alerts/endpoints', INGEST, { tenant_id: tenant, url: shared }), 201);
    }
    await ok(send(base, 'POST', '/autoheal/clear_endpoint_cooldown', adminAtB, { endpoint_url: shared }), 200);
    const lists = PROTECTED.filter(
      (op) => op.method === 'GET' && op.pathParams.length === 0 && !op.streams && op.roles?.includes('operator'),
    );
    expect(lists.length).toBeGreaterThanOrEqual(8);
    let nonEmpty = 0;
    for (const op of lists) {
      const takesTenant = op.params.some((p) => p.in === 'query' && p.name === 'tenant_id');
      const url = buildUrl(op, {}, takesTenant ? { tenant_id: TENANT_A } : {});
      const all = await send(base, 'GET', url, ADMIN);
      const intruder = await send(base, 'GET', url, scoped('operator', TENANT_B));
      const owner = await send(base, 'GET', url, scoped('operator', TENANT_A));
      expect([op.key, all.status, intruder.status, owner.status]).toEqual([op.key, 200, 200, 200]);
      expect([op.key, 'B sees', tenantIdsIn(intruder.body).filter((id) => id !== TENANT_B)]).toEqual([
        op.key,
        'B sees',
        [],
      ]);
      expect([op.key, 'A sees', tenantIdsIn(owner.body).filter((id) => id !== TENANT_A)]).toEqual([
        op.key,
        'A sees',
        [],
      ]);
      if (tenantIdsIn(all.body).includes(TENANT_A)) {
        nonEmpty += 1;
        expect([op.key, tenantIdsIn(owner.body).includes(TENANT_A)]).toEqual([op.key, true]);
      }
    }
    // Deliveries, endpoints, anomalies, rules, the audit trail and tenant summaries at least.
    expect(nonEmpty).toBeGreaterThanOrEqual(6);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. SSRF: every way of spelling an internal address, with the dispatcher really sending
// ---------------------------------------------------------------------------------------------

describe.each(testDialects())('SSRF guard on real deliveries (%s)', (dialect: Dialect) => {
  let harness: DispatchHarness;
  let receiver6: WebhookReceiver;
  let control: TestApp;
  const INGEST = { 'X-User-Roles': 'ingest' };
  const OPERATOR = { 'X-User-Roles': 'operator' };

  beforeAll(async () => {
    // The harness's receiver listens on 127.0.0.1; without the allow-list nothing may reach it.
    harness = await startDispatching(dialect, {
      env: { DELIVERY_ALLOWED_PRIVATE_CIDRS: '', DELIVERY_TIMEOUT_MS: '1000', RETRY_SCHEDULE: '0,3600' },
    });
    receiver6 = new WebhookReceiver();
    await receiver6.start('::1');
  });
  afterAll(async () => {
    await control?.close();
    await harness?.close();
    await receiver6?.stop();
  });

  /** [what, URL, points at one of our receivers]; ports are filled in once they are known. */
  const targets = (p4: number, p6: number): Array<[string, string, boolean]> => [
    ['IPv4 loopback', `http://127.0.0.1:${p4}/ok`, true],
    ['https to loopback', `https://127.0.0.1:${p4}/ok`, false],
    ['a DNS name resolving to loopback', `http://localhost:${p4}/ok`, true],
    ['the same name in capitals', `http://LOCALHOST:${p4}/ok`, true],
    ['userinfo before a loopback host', `http://user:pw@127.0.0.1:${p4}/ok`, true],
    ['10/8', 'http://10.0.0.1/hook', false],
    ['172.16/12', 'http://172.16.0.1/hook', false],
    ['192.168/16', 'http://192.168.1.1/hook', false],
    ['cloud metadata (169.254.169.254)', 'http://169.254.169.254/latest/meta-data/', false],
    ['CGNAT (100.64/10)', 'http://100.64.0.1/hook', false],
    ['0.0.0.0 (this host)', `http://0.0.0.0:${p4}/ok`, true],
    ['IPv6 loopback [::1]', `http://[::1]:${p6}/ok`, true],
    ['IPv6 unspecified [::]', `http://[::]:${p6}/ok`, true],
    ['IPv6 unique local [fd00::1]', 'http://[fd00::1]/hook', false],
    ['IPv6 link-local [fe80::1]', 'http://[fe80::1]/hook', false],
    ['IPv4-mapped loopback [::ffff:127.0.0.1]', `http://[::ffff:127.0.0.1]:${p4}/ok`, true],
    ['IPv4-mapped loopback in hex [::ffff:7f00:1]', `http://[::ffff:7f00:1]:${p4}/ok`, true],
    ['IPv4-mapped metadata [::ffff:169.254.169.254]', 'http://[::ffff:169.254.169.254]/latest/meta-data/', false],
    ['decimal IPv4 (2130706433)', `http://2130706433:${p4}/ok`, true],
    ['hex IPv4 (0x7f000001)', `http://0x7f000001:${p4}/ok`, true],
    ['octal IPv4 (0177.0.0.1)', `http://0177.0.0.1:${p4}/ok`, true],
    ['short IPv4 (127.1)', `http://127.1:${p4}/ok`, true],
    ['IPv4 with a trailing dot', `http://127.0.0.1.:${p4}/ok`, true],
  ];

  type Detail = { attempt_count: number; attempts: { error_kind: string | null; status_code: number | null }[] };

  it('refuses each at ingest (400 naming endpoint_url) or ends its attempt ssrf_blocked; nothing reaches a receiver', async () => {
    const { t, receiver } = harness;
    const cases = targets(receiver.port, receiver6.port);
    const submitted = await Promise.all(
      cases.map(async ([what, url]) => {
        const res = await t
          .http()
          .post('/alerts/deliveries')
          .set(INGEST)
          .send({ tenant_id: 'ssrf', endpoint_url: url, event_type: 'matrix.ssrf', payload: { what } });
        return { what, url, res };
      }),
    );
    const outcomes = await Promise.all(
      submitted.map(async ({ what, url, res }) => {
        if (res.status === 400) {
          const fields = (res.body as { errors?: { field: string }[] }).errors?.map((e) => e.field);
          return [what, url, fields?.includes('endpoint_url') ? 'refused at ingest' : JSON.stringify(res.body)];
        }
        if (res.status !== 202) return [what, url, `HTTP ${res.status}`];
        const d = await eventually(
          async () =>
            (
              await t
                .http()
                .get(`/alerts/deliveries/${res.body.id as string}`)
                .set(OPERATOR)
                .expect(200)
            ).body as Detail,
          (x) => x.attempt_count >= 1,
          `the attempt to ${url}`,
          15_000,
        );
        const first = d.attempts[0];
        return [
          what,
          url,
          first.error_kind === 'ssrf_blocked' && first.status_code === null ? 'ssrf_blocked' : JSON.stringify(first),
        ];
      }),
    );
    expect(outcomes.filter(([, , outcome]) => outcome !== 'ssrf_blocked' && outcome !== 'refused at ingest')).toEqual(
      [],
    );
    // Most forms get as far as the dispatcher: the guard, not the validator, is what stops them.
    expect(outcomes.filter(([, , outcome]) => outcome === 'ssrf_blocked').length).toBeGreaterThanOrEqual(15);
    expect(receiver.hooks).toEqual([]);
    expect(receiver6.hooks).toEqual([]);
  });

  it('control: with those ranges opened, the same loopback URLs do reach the receivers', async () => {
    const { receiver } = harness;
    control = await createTestApp(dialect, {
      env: {
        DISPATCHER_ENABLED: 'true',
        DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8,0.0.0.0/8,::1/128,::/128',
        DELIVERY_TIMEOUT_MS: '2000',
        RETRY_SCHEDULE: '0,3600',
      },
    });
    const reachable = targets(receiver.port, receiver6.port).filter(([, , local]) => local);
    const accepted: string[] = [];
    for (const [what, url] of reachable) {
      const res = await control
        .http()
        .post('/alerts/deliveries')
        .set(INGEST)
        .send({ tenant_id: 'ssrf', endpoint_url: url, event_type: 'matrix.ssrf', payload: { what } });
      if (res.status === 202) accepted.push(what);
    }
    const seen = () =>
      [...receiver.hooks, ...receiver6.hooks].map((h) => (JSON.parse(h.body) as { what: string }).what).sort();
    await eventually(
      () => Promise.resolve(seen()),
      (s) => s.length >= accepted.length,
      'the control deliveries',
      15_000,
    );
    expect(seen()).toEqual([...accepted].sort());
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Rate limiting
// ---------------------------------------------------------------------------------------------

describe('rate limiting (sqlite)', () => {
  let t: TestApp;
  const LIMIT = 5;
  const reads = PROTECTED.filter(
    (op) => op.method === 'GET' && op.pathParams.length === 0 && !op.streams && op.roles?.includes('operator'),
  );
  const get = (url: string, headers: Record<string, string>) => t.http().get(url).set(headers);

  beforeAll(async () => {
    t = await createTestApp('sqlite', { env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(() => t.close());

  const caller = { 'X-User-Roles': 'operator', 'X-User-Tenant': 'rl-a' };

  it(`the ${LIMIT + 1}th request of a caller, on any route, is a 429 with Retry-After and a detail`, async () => {
    expect(reads.length).toBeGreaterThanOrEqual(LIMIT + 1);
    // One budget across routes: five different operations spend it.
    for (const op of reads.slice(0, LIMIT)) {
      const res = await get(buildUrl(op), caller);
      expect([op.key, res.status]).toEqual([op.key, 200]);
    }
    const over = await get(buildUrl(reads[LIMIT]), caller);
    expect(over.status).toBe(429);
    expect(over.headers['content-type']).toMatch(/application\/json/);
    expect(over.body).toEqual({
      detail: expect.stringMatching(/^Rate limit exceeded/),
      request_id: expect.any(String),
    });
    const retryAfter = Number(over.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    // Refused before roles are checked, writes included.
    const write = await t.http().post('/events/annotations').set(caller).send({ message: 'x' });
    expect(write.status).toBe(429);
    const adminOnly = await get('/events/audit/verify', caller);
    expect(adminOnly.status).toBe(429);
  });

  it('the same caller spelled differently shares the budget', async () => {
    for (const roles of ['OPERATOR', ' operator ', 'operator, viewer', 'operator,operator']) {
      const res = await get('/auth/whoami', { 'X-User-Roles': roles, 'X-User-Tenant': ' rl-a ' });
      expect([roles, res.status]).toEqual([roles, 429]);
    }
  });

  it('never limits /healthz, /readyz or /metrics, and they spend no budget', async () => {
    for (let i = 0; i < 3 * LIMIT; i++) {
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        expect([path, (await get(path, caller)).status]).toEqual([path, 200]);
        expect([path, (await get(path, {})).status]).toEqual([path, 200]);
      }
    }
    // The anonymous (address) budget is untouched by all of that.
    expect((await get('/meta', {})).status).toBe(200);
  });

  it('gives every other caller (tenant or roles) a budget of its own', async () => {
    for (const other of [
      { 'X-User-Roles': 'operator', 'X-User-Tenant': 'rl-b' },
      { 'X-User-Roles': 'admin', 'X-User-Tenant': 'rl-a' },
      { 'X-User-Roles': 'operator' },
      { 'X-User-Roles': 'operator,ingest', 'X-User-Tenant': 'rl-a' },
    ] as Record<string, string>[]) {
      for (let i = 0; i < LIMIT; i++) {
        expect([other, (await get('/auth/whoami', other)).status]).toEqual([other, 200]);
      }
    }
    expect((await get('/auth/whoami', caller)).status).toBe(429);
  });

  it('keys anonymous callers by address and ignores X-Forwarded-For without TRUST_PROXY', async () => {
    const statuses: number[] = [];
    // /meta spent one of the address budget above.
    for (let i = 0; i < LIMIT; i++) {
      statuses.push((await get('/meta', { 'X-Forwarded-For': `198.51.100.${i + 1}` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});

describe('rate limiting behind the proxy (sqlite)', () => {
  let t: TestApp;
  const LIMIT = 5;
  beforeAll(async () => {
    t = await createTestApp('sqlite', {
      env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), AUTH_PROXY_SECRET: SECRET, TRUST_PROXY: 'loopback' },
    });
  });
  afterAll(() => t.close());

  it('spoofed identities do not buy fresh budgets: without the secret they share the address budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      const res = await t
        .http()
        .get('/auth/whoami')
        .set({ 'X-User-Roles': 'admin', 'X-User-Tenant': `spoof-${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // A genuine caller from the same address has its own budget.
    const genuine = await t
      .http()
      .get('/auth/whoami')
      .set({ 'X-User-Roles': 'operator', 'X-Auth-Proxy-Secret': SECRET });
    expect(genuine.status).toBe(200);
  });

  it('with TRUST_PROXY, each client address behind the proxy has its own budget', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await t.http().get('/meta').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
    }
    expect((await t.http().get('/meta').set('X-Forwarded-For', '203.0.113.7')).status).toBe(429);
    expect((await t.http().get('/meta').set('X-Forwarded-For', '203.0.113.8')).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Bounds: body size, payload size, page sizes and offsets
// ---------------------------------------------------------------------------------------------

describe('request bounds (sqlite)', () => {
  let t: TestApp;
  let base: string;
  const MAX_BODY = 2048;
  const MAX_PAYLOAD = 512;
  const ADMIN = { 'X-User-Roles': 'admin' };

  beforeAll(async () => {
    t = await createTestApp('sqlite', {
      env: { MAX_BODY_BYTES: String(MAX_BODY), DELIVERY_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) },
    });
    base = await t.listen();
  });
  afterAll(() => t.close());

  const writes = OPERATIONS.filter((op) => op.method !== 'GET');
  const bodyOf = (bytes: number) => {
    const shell = JSON.stringify({ message: '' });
    return JSON.stringify({ message: 'x'.repeat(bytes - shell.length) });
  };

  it.each(writes.map((op) => [op.key, op] as const))(
    '%s: a body over MAX_BODY_BYTES is a 413 with detail',
    async (_key, op) => {
      const res = await t
        .http()
        [op.method.toLowerCase() as 'post'](buildUrl(op))
        .set({ ...ADMIN, 'Content-Type': 'application/json' })
        .send(bodyOf(MAX_BODY + 1));
      expect([op.key, res.status]).toEqual([op.key, 413]);
      expect(res.body).toEqual({
        detail: `Request body exceeds the limit of ${MAX_BODY} bytes`,
        request_id: expect.any(String),
      });
    },
  );

  it('a body of exactly MAX_BODY_BYTES gets past the parser (to validation)', async () => {
    const body = bodyOf(MAX_BODY);
    expect(Buffer.byteLength(body)).toBe(MAX_BODY);
    const res = await t
      .http()
      .post('/events/annotations')
      .set({ ...ADMIN, 'Content-Type': 'application/json' })
      .send(body)
      .expect(400);
    expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual(['message']);
  });

  it('a chunked body (no Content-Length) over MAX_BODY_BYTES is a 413 too', async () => {
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/events/annotations`,
        { method: 'POST', headers: { ...ADMIN, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      const body = bodyOf(MAX_BODY * 4);
      for (let i = 0; i < body.length; i += 512) req.write(body.slice(i, i + 512));
      req.end();
    });
    expect(status).toBe(413);
    expect(JSON.parse(text)).toMatchObject({ detail: `Request body exceeds the limit of ${MAX_BODY} bytes` });
  });

  it('a payload over DELIVERY_MAX_PAYLOAD_BYTES is a 413 (single and batch) and stores nothing', async () => {
    const item = (bytes: number) => {
      const shell = JSON.stringify({ p: '' });
      return {
        tenant_id: 'bounds',
        endpoint_url: 'https://hooks.bounds.example/in',
        event_type: 'matrix.bounds',
        payload: { p: 'x'.repeat(bytes - shell.length) },
      };
    };
    const single = await t
      .http()
      .post('/alerts/deliveries')
      .set(ADMIN)
      .send(item(MAX_PAYLOAD + 1));
    expect(single.status).toBe(413);
    expect(single.body.detail).toBe(`Payload exceeds DELIVERY_MAX_PAYLOAD_BYTES (${MAX_PAYLOAD} bytes)`);
    const batch = await t
      .http()
      .post('/alerts/deliveries/batch')
      .set(ADMIN)
      .send({ items: [item(10), item(MAX_PAYLOAD + 1)] });
    expect(batch.status).toBe(413);
    expect(batch.body.detail).toBe(`Payload exceeds DELIVERY_MAX_PAYLOAD_BYTES (${MAX_PAYLOAD} bytes) (items 1)`);
    const stored = await t.http().get('/alerts/deliveries/history?tenant_id=bounds').set(ADMIN).expect(200);
    expect(stored.body.items).toEqual([]);
    await t.http().post('/alerts/deliveries').set(ADMIN).send(item(MAX_PAYLOAD)).expect(202);
  });

  const paged = OPERATIONS.filter((op) => op.method === 'GET' && !op.streams).flatMap((op) =>
    op.params
      .filter((p) => p.in === 'query' && (p.name === 'limit' || p.name === 'skip') && p.schema?.maximum !== undefined)
      .map((p) => [`${op.key} ${p.name}`, op, p] as const),
  );

  it('finds the paging bounds in the document', () => {
    expect(paged.map(([name]) => name)).toEqual(
      expect.arrayContaining(['GET /alerts/deliveries/history limit', 'GET /alerts/deliveries/history skip']),
    );
    expect(paged.filter(([, , p]) => p.name === 'limit').length).toBeGreaterThanOrEqual(5);
    expect(paged.find(([name]) => name.endsWith('history skip'))?.[2].schema?.maximum).toBe(10_000);
  });

  it.each(paged)(
    '%s: above its maximum (or below its minimum, or not a number) is a 400 naming it',
    async (_n, op, p) => {
      const max = p.schema!.maximum!;
      const min = p.schema!.minimum ?? 0;
      for (const bad of [String(max + 1), String(min - 1), 'abc', '1.5']) {
        const res = await t
          .http()
          .get(buildUrl(op, {}, { [p.name]: bad }))
          .set(ADMIN);
        expect([op.key, p.name, bad, res.status]).toEqual([op.key, p.name, bad, 400]);
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(p.name);
      }
      for (const good of [String(max), String(min)]) {
        const res = await t
          .http()
          .get(buildUrl(op, {}, { [p.name]: good }))
          .set(ADMIN);
        expect([op.key, p.name, good, res.status]).toEqual([op.key, p.name, good, 200]);
      }
    },
  );
});
