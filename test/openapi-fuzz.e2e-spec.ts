import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AnomalyEntity } from '../src/anomalies/anomaly.entity.js';
import { DeliveryEntity } from '../src/deliveries/delivery.entity.js';
import { testDialects } from './support/dialects.js';
import {
  Known,
  loadOpenApi,
  NO_SUCH_ID,
  percentEncode,
  regressionRequests,
  requestFor,
  TENANTS,
  URLS,
  type FuzzRequest,
  type Operation,
  type PoolKind,
  type UrlPart,
} from './support/openapi-fuzz.js';
import { SseClient } from './support/sse-client.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/**
 * Property-based tests generated from the committed OpenAPI document: every operation gets requests
 * with random and hostile path parameters, query values, bodies and identity headers, and every
 * answer must keep the service's promises: no 5xx, every 4xx is JSON with a `detail`, a refused
 * write changes nothing (beyond its one audit record), an accepted write is audited, a read changes
 * nothing at all, and each request leaves exactly one single-line request log record.
 *
 * Requests that once found a bug run first, whatever the seed (regressionRequests). FUZZ_SEED and
 * FUZZ_RUNS (per operation) override the fixed seed and the run count; fast-check prints the seed
 * and path of a failure so it can be replayed. FUZZ_VERBOSE=1 prints the statuses per operation.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const PROXY_SECRET = 'fuzz-proxy-secret-0123456789abcdef';
const MAX_BODY_BYTES = 64 * 1024;
const WRITES = new Set(['post', 'put', 'patch', 'delete']);
const ADMIN = { 'X-User-Roles': 'admin', 'X-Auth-Proxy-Secret': PROXY_SECRET };
const INGEST = { 'X-User-Roles': 'ingest', 'X-Auth-Proxy-Secret': PROXY_SECRET };
/** Submitting deliveries is audited only when refused: an accepted one leaves no audit record (as built). */
const UNAUDITED_WRITES = new Set(['/alerts/deliveries', '/alerts/deliveries/batch']);
const POOL_SIZE = 100;

const { operations, resolve } = loadOpenApi();

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

type Counts = Record<string, number>;

describe.each(testDialects())('OpenAPI fuzzing (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  let ds: DataSource;
  let countSql: string;
  let lastCounts: Counts | undefined;
  /** Raw chunks the app wrote to its log destination, to catch a record that spans lines. */
  const chunks: string[] = [];
  /** Log lines already attributed to a request (or checked as not being request records). */
  let checkedLines = 0;
  let checkedChunks = 0;
  const pools: Record<Exclude<PoolKind, 'cursor'>, string[]> = {
    delivery: [],
    endpoint: [],
    rule: [],
    anomaly: [],
    job: [],
    tenant: [...TENANTS],
  };
  /** next_cursor values by the list that issued them: a cursor is only valid for its own list. */
  const cursors = new Map<string, string[]>();
  let currentPath = '';
  const failedDeliveries: string[] = [];
  const statuses = new Map<string, number>();
  const perOperation = new Map<string, number>();
  let requests = 0;
  let started = 0;

  beforeAll(async () => {
    started = Date.now();
    t = await createTestApp(dialect, {
      env: {
        // /healthz, /readyz and /metrics log their request line at debug.
        LOG_LEVEL: 'debug',
        RATE_LIMIT_PER_MINUTE: '0',
        AUTH_PROXY_SECRET: PROXY_SECRET,
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        DELIVERY_MAX_PAYLOAD_BYTES: '16384',
      },
    });
    base = await t.listen();
    ds = t.app.get(DataSource);
    const write = t.logs._write.bind(t.logs);
    t.logs._write = (chunk: Buffer, encoding: BufferEncoding, done: () => void) => {
      chunks.push(chunk.toString('utf8'));
      write(chunk, encoding, done);
    };
    const tables = [...new Set(ds.entityMetadatas.map((m) => m.tableName))].sort();
    countSql =
      'SELECT ' +
      [
        ...tables.map((name) => `(SELECT COUNT(*) FROM "${name}") AS "${name}"`),
        `(SELECT COUNT(*) FROM "events" WHERE "type" LIKE 'audit.%') AS "audit_events"`,
      ].join(', ');
    await seed();
  }, 60_000);

  afterAll(async () => {
    if (requests) {
      const summary = [...statuses.entries()]
        .sort()
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ');
      process.stdout.write(
        `OpenAPI fuzzing (${dialect}): ${operations.length} operations, ${requests} requests in ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s (${summary})\n`,
      );
    }
    if (perOperation.size) {
      process.stdout.write([...perOperation.entries()].map(([k, n]) => `  ${k}: ${n}`).join('\n') + '\n');
    }
    await t?.close();
  });

  it('covers every operation of the committed document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(36);
    expect(operations.map((op) => op.path)).not.toContain('/docs');
  });

  it.each(operations.map((op): [string, Operation] => [`${op.method.toUpperCase()} ${op.path}`, op]))(
    '%s keeps its promises whatever it is sent',
    async (_name, op) => {
      await refreshFixtures();
      const requestArb = requestFor(op, resolve, { proxySecret: PROXY_SECRET, maxBodyBytes: MAX_BODY_BYTES });
      const examples = regressionRequests(op, resolve, PROXY_SECRET).map((req): [FuzzRequest] => [req]);
      await fc.assert(
        fc.asyncProperty(requestArb, (req) => check(op, req)),
        // The examples run first, and count towards numRuns.
        { numRuns: RUNS + examples.length, seed: SEED, examples },
      );
    },
    180_000,
  );

  it('the audit chain still verifies after all of it', async () => {
    const res = await send('get', '/events/audit/verify', ADMIN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true });
  });

  // -------------------------------------------------------------------------------------------
  // One generated request and its invariants

  async function check(op: Operation, req: FuzzRequest): Promise<void> {
    currentPath = op.path;
    if (op.path.startsWith('/autoheal/rules/') && pools.rule.length < 3) await createRule();
    const url = buildUrl(op, req);
    const write = WRITES.has(op.method);
    await assertNoStrayLogRecords();
    // The previous request's after is this one's before: nothing else writes to these tables.
    const before = lastCounts ?? (await counts());
    lastCounts = undefined;
    const lineStart = t.logs.lines.length;
    const chunkStart = chunks.length;

    let answer: Answer;
    try {
      answer = op.path === '/events/stream' ? await openStream(url, req) : await sendFuzzed(op, url, req);
    } finally {
      // Whatever happens, this request's log record is this request's: wait for it before judging.
      await requestRecords(lineStart);
    }
    requests++;
    statuses.set(String(answer.status), (statuses.get(String(answer.status)) ?? 0) + 1);
    if (process.env.FUZZ_VERBOSE) {
      const key = `${op.method.toUpperCase()} ${op.path} ${answer.status}`;
      perOperation.set(key, (perOperation.get(key) ?? 0) + 1);
    }
    const describe = () =>
      `${op.method.toUpperCase()} ${url.slice(0, 300)} answered ${answer.status}: ${answer.text.slice(0, 500)}`;

    // 1. Never a 5xx.
    if (answer.status >= 500) throw new Error(`${describe()}\nlogged: ${errorLogs(lineStart)}`);

    // 2. Every 4xx is JSON with a string detail.
    if (answer.status >= 400) {
      const contentType = String(answer.headers['content-type'] ?? '');
      const detail = (answer.body as { detail?: unknown } | null)?.detail;
      if (!/^application\/json/.test(contentType) || typeof detail !== 'string' || detail === '') {
        throw new Error(`${describe()}\nnot JSON with a string detail (content-type ${contentType})`);
      }
    }

    // 4. Exactly one request record, on one line, for this request.
    const records = parsedLines(lineStart).filter(isRequestRecord);
    if (records.length !== 1) throw new Error(`${describe()}\n${records.length} request log records`);
    const [record] = records;
    expect(record).toMatchObject({ status: answer.status, method: op.method.toUpperCase() });
    expect(record.request_id).toBe(answer.headers['x-request-id']);
    // X-Request-Id is honoured when it is 1-128 safe characters, replaced otherwise.
    const sent = req.headers['X-Request-Id']?.replace(/^[ \t]+|[ \t]+$/g, '');
    const honoured = sent !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(sent);
    expect(answer.headers['x-request-id']).toEqual(honoured ? sent : expect.stringMatching(UUID));
    assertSingleLineLogs(lineStart, chunkStart, describe);

    // 3. A refused write changes nothing but its audit record; a read changes nothing. Row counts of
    //    every entity's table, and of events apart from audit.* ones.
    const after = await counts();
    lastCounts = after;
    if (write && answer.status >= 400) {
      const { events: eventsBefore, audit_events: auditBefore, ...tablesBefore } = before;
      const { events: eventsAfter, audit_events: auditAfter, ...tablesAfter } = after;
      expect({ request: describe(), tables: tablesAfter }).toEqual({ request: describe(), tables: tablesBefore });
      expect({ request: describe(), nonAudit: eventsAfter - auditAfter }).toEqual({
        request: describe(),
        nonAudit: eventsBefore - auditBefore,
      });
      const added = auditAfter - auditBefore;
      if (added < 0 || added > 1) throw new Error(`${describe()}\n${added} audit events added`);
    } else if (write && !UNAUDITED_WRITES.has(op.path)) {
      // A successful write is audited too (README, "The audit trail").
      if (after.audit_events - before.audit_events < 1) throw new Error(`${describe()}\nnot audited`);
    } else if (!write) {
      expect({ request: describe(), counts: after }).toEqual({ request: describe(), counts: before });
    }

    if (answer.status < 300) await harvest(op, req, answer);
  }

  /** Sends a generated request with supertest. */
  async function sendFuzzed(op: Operation, url: string, req: FuzzRequest): Promise<Answer> {
    const agent = t.http();
    let r = agent[op.method as 'get' | 'post' | 'put' | 'patch' | 'delete'](url).timeout(15_000);
    for (const [name, value] of Object.entries(req.headers)) r = r.set(name, value);
    if (req.body) {
      if (req.body.contentType) r = r.set('Content-Type', req.body.contentType);
      if (req.body.kind === 'json') {
        if (req.body.contentEncoding) r = r.set('Content-Encoding', req.body.contentEncoding);
        const version = await currentRuleVersion(op, req);
        r = r.send(
          JSON.stringify(req.body.value, (_key, value: unknown) =>
            value instanceof Known ? pick(value, version) : value,
          ) ?? 'null',
        );
      } else {
        r = r.send(req.body.payload);
      }
    }
    const res = await r;
    return { status: res.status, headers: res.headers, body: res.body, text: res.text ?? '' };
  }

  /** GET /events/stream runs until the client leaves: read the status and headers, then hang up. */
  async function openStream(url: string, req: FuzzRequest): Promise<Answer> {
    const client = await SseClient.open(`${base}${url}`, req.headers);
    try {
      if (client.status === 200) {
        expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
        return { status: 200, headers: client.headers, body: null, text: '' };
      }
      let body: unknown = null;
      try {
        body = JSON.parse(client.body);
      } catch {
        // reported by the caller: a 4xx must be JSON
      }
      return { status: client.status, headers: client.headers, body, text: client.body };
    } finally {
      await client.close();
    }
  }

  // -------------------------------------------------------------------------------------------
  // URLs and known ids

  /** The pool of a kind; cursors are kept per list (a cursor is only valid for the list that issued it). */
  function poolOf(kind: PoolKind, path = currentPath): string[] {
    if (kind !== 'cursor') return pools[kind];
    if (!cursors.has(path)) cursors.set(path, []);
    return cursors.get(path)!;
  }

  /** The object a generated `Known` stands for (`ruleVersion`: the version the rule has now). */
  function pick(known: Known, ruleVersion = 1): string | number {
    if (known.kind === 'rule_version') return ruleVersion;
    const pool = poolOf(known.kind);
    return pool.length ? pool[known.index % pool.length] : NO_SUCH_ID;
  }

  function encodePart(part: UrlPart): string {
    if ('raw' in part) return part.raw;
    return percentEncode(String(part.text instanceof Known ? pick(part.text) : part.text));
  }

  function buildUrl(op: Operation, req: FuzzRequest): string {
    const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodePart(req.path[name]));
    const query = req.query
      // No cursor issued by this list yet: leave it out rather than send one it never issued.
      .filter(
        ([, v]) => !('text' in v && v.text instanceof Known && v.text.kind === 'cursor' && !poolOf('cursor').length),
      )
      .map(([key, value]) => `${percentEncode(key)}=${encodePart(value)}`)
      .join('&');
    return query ? `${path}?${query}` : path;
  }

  /** For PATCH /autoheal/rules/{id}: the version the rule has now, so some updates are not stale. */
  async function currentRuleVersion(op: Operation, req: FuzzRequest): Promise<number> {
    const part = req.path.id;
    if (op.path !== '/autoheal/rules/{id}' || !part || !('text' in part) || !(part.text instanceof Known)) return 1;
    const row = await ds
      .createQueryBuilder()
      .select('r.version', 'version')
      .from('autoheal_rules', 'r')
      .where('r.id = :id', { id: pick(part.text) })
      .getRawOne<{ version: number | string }>();
    return row ? Number(row.version) : 1;
  }

  function remember(kind: PoolKind, id: unknown, path = currentPath): void {
    if (typeof id !== 'string' || !id) return;
    const pool = poolOf(kind, path);
    if (pool.includes(id)) return;
    pool.push(id);
    if (pool.length > POOL_SIZE) pool.shift();
  }

  /** Ids and cursors from successful answers feed later requests. */
  async function harvest(op: Operation, req: FuzzRequest, answer: Answer): Promise<void> {
    const visit = (value: unknown, depth: number): void => {
      if (depth > 3 || typeof value !== 'object' || value === null) return;
      if (Array.isArray(value)) return value.forEach((v) => visit(v, depth + 1));
      const o = value as Record<string, unknown>;
      if ('event_type' in o && 'endpoint_id' in o) remember('delivery', o.id);
      else if ('url' in o && 'state' in o) remember('endpoint', o.id);
      else if ('trigger' in o && 'action' in o) remember('rule', o.id);
      else if ('signal' in o && 'baseline' in o) remember('anomaly', o.id);
      remember('job', o.job_id);
      remember('cursor', o.next_cursor);
      if (Array.isArray(o.items)) visit(o.items, depth + 1);
    };
    visit(answer.body, 0);
    const deleted = req.path.id;
    if (op.method === 'delete' && deleted && 'text' in deleted) {
      const id = deleted.text instanceof Known ? pick(deleted.text) : deleted.text;
      pools.rule = pools.rule.filter((r) => r !== id);
    }
    // A recover job works in the background: let it finish before the next request is judged.
    const job = answer.body as { job_id?: string; status?: string } | null;
    if (op.path === '/alerts/deliveries/replay' && job?.status === 'running' && job.job_id) {
      for (let i = 0; i < 100; i++) {
        const res = await send('get', `/alerts/deliveries/replay/${job.job_id}`, ADMIN);
        if ((res.body as { status?: string }).status !== 'running') break;
        await sleep(20);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Database and logs

  async function counts(): Promise<Counts> {
    const rows: Record<string, string | number>[] = await ds.query(countSql);
    return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
  }

  function parsedLines(from: number): Record<string, unknown>[] {
    return t.logs.lines.slice(from).map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line is not JSON (a record split across lines?): ${line.slice(0, 300)}`);
      }
    });
  }

  const isRequestRecord = (r: Record<string, unknown>) =>
    r.message === 'request completed' || r.message === 'request aborted';

  /** The request records written since `from`, waiting briefly for the one the request owes. */
  async function requestRecords(from: number): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const records = parsedLines(from).filter(isRequestRecord);
      if (records.length || Date.now() > deadline) {
        checkedLines = t.logs.lines.length;
        return records;
      }
      await sleep(1);
    }
  }

  /** Nothing may log a request record between requests (a second record for an earlier one). */
  async function assertNoStrayLogRecords(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const stray = parsedLines(checkedLines).filter(isRequestRecord);
    if (stray.length) throw new Error(`request log records outside any request: ${JSON.stringify(stray)}`);
    checkedLines = t.logs.lines.length;
    assertSingleLineLogs(checkedLines, checkedChunks, () => 'between requests');
  }

  /** Every chunk written since the request began is one record ending in its only newline. */
  function assertSingleLineLogs(lineStart: number, chunkStart: number, describe: () => string): void {
    parsedLines(lineStart);
    for (const chunk of chunks.slice(chunkStart)) {
      if (chunk.indexOf('\n') !== chunk.length - 1 || chunk.includes('\r')) {
        throw new Error(`${describe()}\na log write is not exactly one line: ${JSON.stringify(chunk.slice(0, 300))}`);
      }
    }
    checkedChunks = chunks.length;
  }

  function errorLogs(from: number): string {
    return parsedLines(from)
      .filter((r) => r.level === 'ERROR')
      .map((r) => JSON.stringify(r).slice(0, 2000))
      .join('\n');
  }

  // -------------------------------------------------------------------------------------------
  // Seed data, so that path parameters can name objects that exist

  async function send(
    method: 'get' | 'post',
    url: string,
    headers: Record<string, string>,
    body?: object,
  ): Promise<Answer> {
    if (method !== 'get') lastCounts = undefined;
    const lineStart = t.logs.lines.length;
    let r = t.http()[method](url).set(headers);
    if (body) r = r.send(body);
    const res = await r;
    await requestRecords(lineStart);
    checkedChunks = chunks.length;
    return { status: res.status, headers: res.headers, body: res.body, text: res.text ?? '' };
  }

  /** DELETE /autoheal/rules/{id} empties the pool: keep a few rules to read, patch and delete. */
  async function createRule(): Promise<void> {
    const rule = await send('post', '/autoheal/rules', ADMIN, {
      name: `fuzz-rule-${randomUUID().slice(0, 8)}`,
      trigger: { metric: 'consecutive_failures', threshold: 5 },
      action: { type: 'pause_endpoint' },
    });
    expect(rule.status).toBe(201);
    remember('rule', (rule.body as { id: string }).id);
  }

  /** Before each operation: the seeded failed deliveries are failed again (replays and recover jobs requeue them). */
  async function refreshFixtures(): Promise<void> {
    await ds
      .getRepository(DeliveryEntity)
      .update(failedDeliveries, { status: 'failed', next_attempt_at: null, completed_at: new Date() });
  }

  async function seed(): Promise<void> {
    for (const [i, tenant] of TENANTS.entries()) {
      const res = await send('post', '/alerts/endpoints', ADMIN, { tenant_id: tenant, url: URLS[i] });
      expect(res.status).toBe(201);
      remember('endpoint', (res.body as { id: string }).id);
    }
    const deliveries: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await send('post', '/alerts/deliveries', INGEST, {
        tenant_id: TENANTS[i % 3],
        endpoint_url: URLS[i % 3],
        event_type: 'invoice.paid',
        payload: { n: i },
      });
      expect(res.status).toBe(202);
      deliveries.push((res.body as { id: string }).id);
      remember('delivery', deliveries[i]);
    }
    // No dispatcher runs here: mark half of them failed, so replays and recover jobs have work.
    failedDeliveries.push(...deliveries.slice(0, 3));
    await refreshFixtures();
    await createRule();
    const rules = await send('get', '/autoheal/rules', ADMIN);
    for (const r of (rules.body as { items: { id: string }[] }).items) remember('rule', r.id);
    const now = new Date();
    for (const [i, tenant] of TENANTS.slice(0, 2).entries()) {
      const id = randomUUID();
      await ds.getRepository(AnomalyEntity).insert({
        id,
        tenant_id: tenant,
        kind: 'failure_spike',
        signal: 'failure_ratio',
        status: i === 0 ? 'open' : 'triaged',
        severity: 'error',
        baseline_mode: 'daily',
        current_value: 0.4,
        baseline_median: 0.01,
        baseline_mad: 0.005,
        band_low: 0,
        band_high: 0.06,
        score: 8,
        peak_score: 9,
        sample_size: 500,
        first_seen_at: now,
        last_seen_at: now,
        inside_since: null,
        resolved_at: null,
        reopen_count: 0,
        triage_note: i === 0 ? null : 'seen',
        triaged_by: i === 0 ? null : 'operator',
        triaged_at: i === 0 ? null : now,
        assignee: null,
        created_at: now,
        updated_at: now,
      });
      remember('anomaly', id);
    }
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const job = await send('post', '/alerts/deliveries/replay', ADMIN, {
      since,
      until: new Date(Date.now() + 60_000).toISOString(),
      dry_run: true,
    });
    expect(job.status).toBe(202);
    remember('job', (job.body as { job_id: string }).job_id);
    const history = await send('get', '/alerts/deliveries/history?limit=2', ADMIN);
    remember('cursor', (history.body as { next_cursor: string }).next_cursor, '/alerts/deliveries/history');
  }
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
