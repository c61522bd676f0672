// Delivery history benchmark: GET /alerts/deliveries/history on PostgreSQL with 1,000,000
// deliveries: a filtered first page, an offset page (skip=10000) and a cursor page 10,000 rows
// deep. A throw-away database is created, seeded with SQL and dropped again. See README.md.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  acquireLock,
  BenchError,
  describeExit,
  envValue,
  freePorts,
  HOST,
  httpGet,
  interrupt,
  isRunning,
  log,
  makeTempDir,
  positiveInt,
  releaseLock,
  ROOT,
  runBench,
  settlesWithin,
  startChild,
  waitForOk,
} from '../support/processes.js';

const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const HEADERS = { 'x-user-roles': 'operator' };
const HISTORY = '/alerts/deliveries/history';
const ADMIN_URL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/postgres';
const TENANTS = 100;
const ENDPOINTS_PER_TENANT = 5;
const DAYS = 30;
const SEED_CHUNKS = 10;
const DEPTH = 10_000;
const PAGE = 50;
const WARMUP_S = 3;
const SEED_STATEMENT_TIMEOUT_MS = 15 * 60_000;
// Targets.
const FIRST_P99_MAX_MS = 50;
const CURSOR_P99_MAX_MS = 50;
const CURSOR_TO_FIRST_MAX = 1.5;

const EVENT_TYPES = [
  // [event type, cumulative share]
  ['invoice.paid', 0.3],
  ['invoice.created', 0.5],
  ['customer.updated', 0.65],
  ['subscription.renewed', 0.78],
  ['payment.failed', 0.88],
  ['order.shipped', 0.96],
  ['account.deleted', 1],
];

let activeRun;
let dropOnExit; // { adminUrl, dbName } while the database exists

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new BenchError(`BENCH_PG_URL must point to loopback (got host ${host})`);
  }
}

function withDatabase(url, dbName) {
  const u = new URL(url);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** A query that gives up (rejects) on Ctrl-C; the database is then dropped WITH (FORCE). */
function abortable(promise) {
  promise.catch(() => undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(interrupt.signal.reason);
    if (interrupt.signal.aborted) return onAbort();
    interrupt.signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => interrupt.signal.removeEventListener('abort', onAbort));
  });
}

async function connect(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined); // a backend terminated by DROP DATABASE ... WITH (FORCE)
  try {
    await abortable(client.connect());
  } catch (err) {
    if (interrupt.signal.aborted) throw err;
    throw new BenchError(`cannot connect to PostgreSQL at ${url}: ${err.message}`);
  }
  return client;
}

async function closeClient(client) {
  if (client)
    await settlesWithin(
      client.end().catch(() => undefined),
      2_000,
    );
}

async function dropDatabase(adminUrl, dbName) {
  let admin;
  try {
    admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    dropOnExit = undefined;
    log(`dropped database ${dbName}`);
  } catch (err) {
    log(`could not drop database ${dbName}: ${err.message} (drop it by hand)`);
  } finally {
    await closeClient(admin);
  }
}

/** Last resort on paths that skip `finally` (second Ctrl-C): psql, synchronously. */
function dropDatabaseSync() {
  if (!dropOnExit) return;
  const { adminUrl, dbName } = dropOnExit;
  spawnSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`], {
    stdio: 'ignore',
    timeout: 10_000,
  });
}

function eventTypeSql(r) {
  const cases = EVENT_TYPES.slice(0, -1).map(([type, upTo]) => `WHEN ${r} < ${upTo} THEN '${type}'`);
  return `CASE ${cases.join(' ')} ELSE '${EVENT_TYPES.at(-1)[0]}' END`;
}

/**
 * Seeds endpoints and deliveries with INSERT ... SELECT. Deliveries are inserted in SEED_CHUNKS
 * statements, oldest first and ordered by created_at within each, as the service writes them
 * (so the heap is correlated with time, as in production). Times are whole milliseconds, as
 * the service stores JavaScript dates (cursors carry milliseconds).
 */
async function seed(db, rows) {
  await db.query(`SET statement_timeout = ${SEED_STATEMENT_TIMEOUT_MS}`);
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '256MB'`);
  await abortable(
    db.query(`
      INSERT INTO endpoints (id, tenant_id, url, state, secret, consecutive_failures, created_at, updated_at,
                             last_success_at, last_failure_at)
      SELECT md5('ep-' || t || '-' || e)::uuid::text,
             'tenant-' || t,
             'https://hooks.tenant-' || t || '.example.com/webhooks/' || e,
             'active',
             md5('secret-' || t || '-' || e),
             0,
             now() - interval '${DAYS + 5} days',
             now() - interval '1 day',
             now() - interval '1 minute',
             now() - interval '1 hour'
      FROM generate_series(1, ${TENANTS}) AS t, generate_series(1, ${ENDPOINTS_PER_TENANT}) AS e`),
  );

  const perChunk = Math.ceil(rows / SEED_CHUNKS);
  const chunkMs = (DAYS * 86_400_000) / SEED_CHUNKS;
  for (let k = 0; k < SEED_CHUNKS; k++) {
    interrupt.signal.throwIfAborted();
    const from = k * perChunk + 1;
    const to = Math.min(rows, (k + 1) * perChunk);
    if (from > to) break;
    const started = Date.now();
    // Chunk k covers [now - DAYS + k·chunk, now - DAYS + (k+1)·chunk), oldest chunk first.
    const offsetMs = DAYS * 86_400_000 - k * chunkMs;
    await abortable(
      db.query(`
        INSERT INTO deliveries (id, tenant_id, endpoint_id, endpoint_url, event_type, payload, payload_bytes,
                                idempotency_key, status, attempt_count, next_attempt_at, last_status_code,
                                last_error_kind, created_at, updated_at, completed_at, pending_trigger)
        SELECT gen_random_uuid()::text,
               'tenant-' || s.t,
               md5('ep-' || s.t || '-' || s.e)::uuid::text,
               'https://hooks.tenant-' || s.t || '.example.com/webhooks/' || s.e,
               s.event_type,
               '{"type":"' || s.event_type || '","n":' || s.g || '}',
               length('{"type":"' || s.event_type || '","n":' || s.g || '}'),
               NULL,
               s.status,
               CASE s.status WHEN 'success' THEN 1 + (s.g % 7 = 0)::int WHEN 'failed' THEN 8 ELSE (s.g % 3) END,
               CASE s.status WHEN 'pending' THEN s.created_at + interval '5 minutes' END,
               CASE s.status WHEN 'success' THEN 200 WHEN 'failed' THEN
                 CASE WHEN s.g % 4 = 0 THEN NULL ELSE 500 + (s.g % 4) END END,
               CASE WHEN s.status = 'failed' AND s.g % 4 = 0 THEN 'timeout' END,
               s.created_at,
               s.created_at + make_interval(secs => (s.g % 5000) / 1000.0),
               CASE WHEN s.status <> 'pending' THEN s.created_at + make_interval(secs => (s.g % 5000) / 1000.0) END,
               NULL
        FROM (
          SELECT g,
                 1 + (g % ${TENANTS}) AS t,
                 1 + ((g / ${TENANTS}) % ${ENDPOINTS_PER_TENANT}) AS e,
                 ${eventTypeSql('r1')} AS event_type,
                 CASE WHEN r2 < 0.85 THEN 'success' WHEN r2 < 0.95 THEN 'failed' ELSE 'pending' END AS status,
                 date_trunc('milliseconds',
                   now() - make_interval(secs => (${offsetMs} - r3 * ${chunkMs}) / 1000.0)) AS created_at
          FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3
                FROM generate_series(${from}, ${to}) AS g) AS raw
        ) AS s
        ORDER BY s.created_at`),
    );
    log(
      `  seeded ${to.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} deliveries (${Date.now() - started} ms)`,
    );
  }
  const started = Date.now();
  await abortable(db.query('VACUUM (ANALYZE) endpoints'));
  await abortable(db.query('VACUUM (ANALYZE) deliveries'));
  log(`  VACUUM ANALYZE (${Date.now() - started} ms)`);
}

// ---------------------------------------------------------------------------------------------
// HTTP

async function getJson(port, pathAndQuery) {
  const url = `http://${HOST}:${port}${pathAndQuery}`;
  const res = await httpGet(url, HEADERS);
  interrupt.signal.throwIfAborted();
  if (res.status !== 200) throw new BenchError(`GET ${pathAndQuery} answered ${res.status}: ${res.body.slice(0, 500)}`);
  return JSON.parse(res.body);
}

function encodeKeyset(createdAt, id) {
  return Buffer.from(JSON.stringify({ t: createdAt.toISOString(), id }), 'utf8').toString('base64url');
}

async function load(port, requests, durationS, connections) {
  activeRun = autocannon({
    url: `http://${HOST}:${port}`,
    headers: HEADERS,
    connections,
    duration: durationS,
    requests,
  });
  try {
    return await activeRun;
  } finally {
    activeRun = undefined;
    interrupt.signal.throwIfAborted();
  }
}

/** Figures of failing requests are not figures of the endpoint: refuse to report them. */
function assertAll200(label, result) {
  const problems = [];
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  const other = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => code !== '200');
  if (other.length > 0) {
    problems.push(`non-200 responses (${other.map(([code, { count }]) => `${count} × ${code}`).join(', ')})`);
  }
  if (!result['2xx']) problems.push('no 200 response at all');
  if (problems.length > 0) throw new BenchError(`${label}: ${problems.join('; ')}. The figures would be meaningless.`);
}

// ---------------------------------------------------------------------------------------------
// Diagnostics: the repository's queries as SQL, for EXPLAIN ANALYZE when a target is missed.

function explainSql(kind, cursor) {
  const base = `SELECT * FROM deliveries d`;
  const order = `ORDER BY d.created_at DESC, d.id DESC`;
  if (kind === 'first') {
    return [`${base} WHERE d.tenant_id = $1 AND d.status IN ($2) ${order} LIMIT ${PAGE + 1}`, ['tenant-42', 'failed']];
  }
  if (kind === 'skip') {
    return [`${base} WHERE d.status IN ($1) ${order} LIMIT ${PAGE + 1} OFFSET ${DEPTH}`, ['success']];
  }
  return [
    `${base} WHERE d.status IN ($1) AND (d.created_at < $2 OR (d.created_at = $2 AND d.id < $3)) ${order} LIMIT ${PAGE + 1}`,
    ['success', cursor.createdAt, cursor.id],
  ];
}

async function printPlans(db, kinds, cursor) {
  for (const kind of kinds) {
    const [sql, params] = explainSql(kind, cursor);
    const { rows } = await abortable(db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params));
    log(`\nEXPLAIN ANALYZE (${kind}): ${sql}\n  params ${JSON.stringify(params)}`);
    for (const row of rows) log(`  ${row['QUERY PLAN']}`);
  }
}

// ---------------------------------------------------------------------------------------------

function printResults(figures, checks, pass, settings) {
  const row = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(14) : cell.padStart(12))).join('');
  const lines = [
    row(['request', 'req/s (avg)', 'p50 (ms)', 'p99 (ms)']),
    ...figures.map((f) => row([f.kind, f.req_per_s.toFixed(1), f.p50_ms.toFixed(2), f.p99_ms.toFixed(2)])),
    '',
    ...figures.map((f) => `  ${f.kind.padEnd(12)} GET ${f.path}`),
    '',
    ...checks.map((c) => `${c.label} = ${c.value.toFixed(c.digits)} (target <= ${c.max}): ${c.pass ? 'PASS' : 'FAIL'}`),
    `overall: ${pass ? 'PASS' : 'FAIL'}`,
    JSON.stringify({
      benchmark: 'history',
      endpoint: `GET ${HISTORY}`,
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: figures,
      first_p99_ms: figures[0].p99_ms,
      target_first_p99_ms: FIRST_P99_MAX_MS,
      cursor_p99_ms: figures[2].p99_ms,
      target_cursor_p99_ms: CURSOR_P99_MAX_MS,
      cursor_to_first_p99: Number(checks[2].value.toFixed(4)),
      target_cursor_to_first_p99: CURSOR_TO_FIRST_MAX,
      pass,
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  if (!existsSync(SERVICE_ENTRY)) throw new BenchError('dist/main.js not found: run `npm run build` first.');
  const durationS = positiveInt('BENCH_DURATION_S', 10);
  const connections = positiveInt('BENCH_CONNECTIONS', 10);
  const rows = positiveInt('BENCH_ROWS', 1_000_000);
  const adminUrl = envValue('BENCH_PG_URL') ?? ADMIN_URL_DEFAULT;
  assertLoopback(adminUrl);
  if (rows < 20 * DEPTH) throw new BenchError(`BENCH_ROWS must be at least ${20 * DEPTH} (skip/cursor ${DEPTH} deep)`);

  const inherited = { ...process.env };
  for (const key of ['DATABASE_URL', 'AUTH_PROXY_SECRET', 'TRUST_PROXY', 'DELIVERY_RETENTION_DAYS']) {
    delete inherited[key];
  }

  const dbName = `cc_bench_history_${randomBytes(4).toString('hex')}`;
  const dbUrl = withDatabase(adminUrl, dbName);
  let admin;
  let db;
  let service;
  try {
    admin = await connect(adminUrl);
    await abortable(admin.query(`CREATE DATABASE ${dbName}`));
    dropOnExit = { adminUrl, dbName };
    await closeClient(admin);
    admin = undefined;
    log(`created database ${dbName}`);

    const [port] = await freePorts(1);
    const dataDir = makeTempDir('command-center-bench-history-');
    log(`starting command-center on ${HOST}:${port} (migrations create the schema)`);
    service = startChild(
      'command-center',
      SERVICE_ENTRY,
      {
        ...inherited,
        PORT: String(port),
        HOST,
        DATA_DIR: dataDir,
        DATABASE_URL: dbUrl,
        LOG_LEVEL: 'warning',
        RATE_LIMIT_PER_MINUTE: '0',
        DISPATCHER_ENABLED: 'false',
        // Retention would delete seeded rows that age past 30 days during a long run.
        DELIVERY_RETENTION_DAYS: '3650',
        SHUTDOWN_TIMEOUT_MS: '1000',
      },
      { nodeFlags: ['--max-old-space-size=256'] },
    );
    await waitForOk(service, `http://${HOST}:${port}/healthz`, HEADERS);

    db = await connect(dbUrl);
    log(
      `seeding ${rows.toLocaleString('en-US')} deliveries over ${TENANTS} tenants (${TENANTS * ENDPOINTS_PER_TENANT} endpoints)`,
    );
    const seedStarted = Date.now();
    await seed(db, rows);
    const seedS = (Date.now() - seedStarted) / 1000;
    const stats = await abortable(
      db.query(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status`),
    );
    const size = await abortable(db.query(`SELECT pg_size_pretty(pg_total_relation_size('deliveries')) AS s`));
    log(
      `  seeded in ${seedS.toFixed(1)} s: ${stats.rows.map((r) => `${r.status} ${r.n}`).join(', ')}; ` +
        `deliveries with indexes ${size.rows[0].s}`,
    );

    // The three requests, checked once before they are measured.
    const firstPath = (tenant) => `${HISTORY}?tenant_id=tenant-${tenant}&status=failed&limit=${PAGE}`;
    const first = await getJson(port, firstPath(42));
    if (first.items.length !== PAGE || first.items.some((d) => d.tenant_id !== 'tenant-42' || d.status !== 'failed')) {
      throw new BenchError(`first page: expected ${PAGE} failed deliveries of tenant-42, got ${first.items.length}`);
    }

    const success = stats.rows.find((r) => r.status === 'success')?.n ?? 0;
    if (success < DEPTH + PAGE) throw new BenchError(`only ${success} success deliveries; need ${DEPTH + PAGE}`);
    const skipPath = `${HISTORY}?status=success&limit=${PAGE}&skip=${DEPTH}`;
    const skipPage = await getJson(port, skipPath);

    // Cursor after the DEPTH-th newest success delivery: from SQL, and by walking next_cursor.
    const at = await abortable(
      db.query(
        `SELECT created_at, id FROM deliveries WHERE status = 'success'
         ORDER BY created_at DESC, id DESC OFFSET ${DEPTH - 1} LIMIT 1`,
      ),
    );
    const cursorRow = { createdAt: at.rows[0].created_at, id: at.rows[0].id };
    const cursor = encodeKeyset(cursorRow.createdAt, cursorRow.id);
    let walked;
    const walkLimit = 500;
    for (let seen = 0; seen < DEPTH; seen += walkLimit) {
      const page = await getJson(
        port,
        `${HISTORY}?status=success&limit=${walkLimit}${walked ? `&cursor=${walked}` : ''}`,
      );
      if (!page.next_cursor) throw new BenchError(`walking next_cursor: no next_cursor after ${seen} rows`);
      walked = page.next_cursor;
    }
    if (walked !== cursor) {
      throw new BenchError(`the cursor from walking next_cursor (${walked}) differs from the SQL one (${cursor})`);
    }
    const cursorPath = `${HISTORY}?status=success&limit=${PAGE}&cursor=${cursor}`;
    const cursorPage = await getJson(port, cursorPath);
    const ids = (page) => page.items.map((d) => d.id).join(',');
    if (cursorPage.items.length !== PAGE || ids(cursorPage) !== ids(skipPage)) {
      throw new BenchError('the cursor page and the skip page should both hold rows 10,001-10,050; they differ');
    }
    log(`checked: first page, skip=${DEPTH} page, cursor page (= skip page, cursor agrees with next_cursor walk)`);

    const kinds = [
      {
        kind: 'first',
        path: `${HISTORY}?tenant_id=tenant-<1..${TENANTS}, random>&status=failed&limit=${PAGE}`,
        requests: [
          {
            method: 'GET',
            path: firstPath(42),
            setupRequest: (req) => ({ ...req, path: firstPath(1 + Math.floor(Math.random() * TENANTS)) }),
          },
        ],
      },
      { kind: 'skip', path: skipPath, requests: [{ method: 'GET', path: skipPath }] },
      {
        kind: 'cursor',
        path: `${HISTORY}?status=success&limit=${PAGE}&cursor=<${DEPTH} deep>`,
        requests: [{ method: 'GET', path: cursorPath }],
      },
    ];

    const figures = [];
    await acquireLock();
    try {
      log('holding the measuring lock');
      for (const { kind, path: shownPath, requests } of kinds) {
        log(`${kind}: warm-up ${WARMUP_S} s, then ${durationS} s, ${connections} connections`);
        assertAll200(`${kind} warm-up`, await load(port, requests, WARMUP_S, connections));
        const result = await load(port, requests, durationS, connections);
        assertAll200(kind, result);
        if (!isRunning(service)) throw new BenchError(describeExit(service));
        figures.push({
          kind,
          path: shownPath,
          req_per_s: result.requests.average,
          p50_ms: result.latency.p50,
          p99_ms: result.latency.p99,
          requests: result['2xx'],
        });
      }
    } finally {
      releaseLock();
    }

    const [firstFig, , cursorFig] = figures;
    const ratio = cursorFig.p99_ms / firstFig.p99_ms;
    const checks = [
      { label: 'first page p99 (ms)', value: firstFig.p99_ms, max: FIRST_P99_MAX_MS, digits: 2 },
      { label: 'cursor page p99 (ms)', value: cursorFig.p99_ms, max: CURSOR_P99_MAX_MS, digits: 2 },
      { label: 'cursor p99 ÷ first page p99', value: ratio, max: CURSOR_TO_FIRST_MAX, digits: 3 },
    ].map((c) => ({ ...c, pass: c.value <= c.max }));
    const pass = checks.every((c) => c.pass);
    printResults(figures, checks, pass, {
      rows,
      tenants: TENANTS,
      endpoints: TENANTS * ENDPOINTS_PER_TENANT,
      seed_s: Number(seedS.toFixed(1)),
      duration_s: durationS,
      warmup_s: WARMUP_S,
      connections,
    });
    if (!pass) {
      const slow = [];
      if (!checks[0].pass) slow.push('first');
      if (!checks[1].pass || !checks[2].pass) slow.push('cursor');
      await printPlans(db, slow, cursorRow);
    }
    return pass ? 0 : 1;
  } finally {
    activeRun?.stop();
    releaseLock();
    await closeClient(db);
    await closeClient(admin);
    if (service && isRunning(service)) {
      // Stop it before the database goes, so it does not log lost connections.
      service.proc.kill('SIGTERM');
      if (!(await settlesWithin(service.exited, 5_000))) service.proc.kill('SIGKILL');
    }
    if (dropOnExit) await dropDatabase(adminUrl, dbName);
  }
}

process.on('exit', () => {
  releaseLock();
  dropDatabaseSync();
});

await runBench(main, { onStop: () => activeRun?.stop() });
