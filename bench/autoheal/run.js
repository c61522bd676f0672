// Autoheal evaluation benchmark: 10,000 endpoints with 1,000,000 attempts in the 5-minute window
// (plus 6 hours of older rollups) in a fresh PostgreSQL database, 6 rules; the service runs the
// engine every second and the duration of each evaluation is read from its histogram on /metrics.
// Reports the first (acting) evaluation and the steady state (median, p95, max). See README.md.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
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
  LOCK_GIVE_UP_MS,
  log,
  makeTempDir,
  positiveInt,
  releaseLock,
  ROOT,
  runBench,
  startChild,
  startRssSampler,
  startScriptNodeFlags,
  STARTUP_TIMEOUT_MS,
  stopService,
  waitForOk,
} from '../support/processes.js';
import { closeClient, connect, createDatabase, dropCreatedDatabase, query } from '../support/postgres.js';

const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const OPERATOR = { 'x-user-roles': 'operator' };
const ADMIN = { 'x-user-roles': 'admin' };
const TENANTS = 100;
const ENDPOINTS = 10_000;
const WINDOW_ATTEMPTS = 50; // per endpoint and bucket, in the 2 buckets of the window
const HISTORY_BUCKETS = 72; // 6 hours of 5-minute buckets before the window
const BUCKET_S = 300;
const METRIC = 'command_center_autoheal_evaluation_seconds';
const POLL_MS = 100;
const SEED_STATEMENT_TIMEOUT_MS = 10 * 60_000;
const TARGET_S = 1; // every evaluation
/** Rules added through the API (the migration seeds the two built-in ones). */
const EXTRA_RULES = [
  {
    name: 'bench-failure-rate',
    trigger: { metric: 'failure_rate', threshold: 0.5, window_s: 300, min_requests: 10 },
    action: { type: 'notify', params: { message: 'bench: failure rate' } },
  },
  {
    name: 'bench-timeout-rate',
    dry_run: true,
    trigger: { metric: 'timeout_rate', threshold: 0.3, window_s: 300, min_requests: 10 },
    action: { type: 'pause_endpoint', params: { pause_s: 300 } },
  },
  {
    name: 'bench-latency-p95',
    trigger: { metric: 'latency_p95_ms', threshold: 2000, window_s: 900, min_requests: 10 },
    action: { type: 'notify', params: { message: 'bench: slow endpoint' } },
  },
  {
    name: 'bench-streak-disable',
    dry_run: true,
    trigger: { metric: 'consecutive_failures', threshold: 5, window_s: 300, min_requests: 5 },
    action: { type: 'disable_endpoint', params: {} },
  },
];
// What the first evaluation must decide with the seed below (k = endpoint number mod 1000).
const EXPECTED_FIRST = {
  'pause-after-10-consecutive-failures': { fired: 50 }, // k < 5: streak 10-14
  'replay-failed-on-recovery': { fired: 50 }, // k 45-49: recovered 2 min ago
  'bench-failure-rate': { fired: 300 }, // k < 30: 70-100 % failures
  'bench-latency-p95': { fired: 200 }, // k 20-39: timeouts or slow
  'bench-timeout-rate': { would_fire: 100 }, // k 20-29: 40 % timeouts
  'bench-streak-disable': { would_fire: 150 }, // k < 15: streak 5-14
};

// ---------------------------------------------------------------------------------------------
// Seed. Endpoint i (0 … 9,999) belongs to tenant i mod 100; k = i mod 1000 picks its health:
//   k < 5   failing, streak 10-14 on its row     k 5-14  failing, streak 5-9
//   k 15-19 failing (70 %), streak 1-4           k 20-29 failing (70 %), 40 % of attempts time out
//   k 30-39 slow (p95 in the 5 s bucket)         k 40-44 healthy, streak 1-3
//   k 45-49 recovered from 8 failures 2 min ago  other   healthy: 0-2 failures in 50, p95 ≤ 1 s

const CURRENT_BUCKET = `to_timestamp(floor(extract(epoch FROM now()) / ${BUCKET_S}) * ${BUCKET_S})`;
const endpointIdSql = (i) => `md5('bench-ep-' || ${i})::uuid::text`;

async function seedEndpoints(db) {
  await query(
    db,
    `INSERT INTO endpoints (id, tenant_id, url, state, secret, consecutive_failures, last_success_at,
                            last_failure_at, created_at, updated_at)
     SELECT ${endpointIdSql('i')}, 'tenant-' || (i % ${TENANTS}),
            'https://hooks.tenant-' || (i % ${TENANTS}) || '.example.com/webhooks/' || (i / ${TENANTS}),
            'active', md5('secret-' || i), cf,
            now() - interval '1 minute' * (1 + cf), CASE WHEN cf > 0 THEN now() - interval '10 seconds' END,
            now() - interval '30 days', now()
     FROM (SELECT i, CASE WHEN i % 1000 < 5 THEN 10 + i % 1000
                          WHEN i % 1000 < 15 THEN 5 + i % 5
                          WHEN i % 1000 < 20 THEN 1 + i % 4
                          WHEN i % 1000 BETWEEN 40 AND 44 THEN 1 + i % 3
                          ELSE 0 END AS cf
           FROM generate_series(0, ${ENDPOINTS - 1}) AS i) AS g`,
  );
}

/** The 50 "recovered" endpoints: recovered 2 minutes before now (set again right before measuring). */
async function markRecovered(db) {
  await query(
    db,
    `UPDATE endpoints SET recovered_at = now() - interval '2 minutes', recovered_after_failures = 8,
            last_success_at = now() - interval '2 minutes'
     WHERE id IN (SELECT ${endpointIdSql('i')} FROM generate_series(0, ${ENDPOINTS - 1}) AS i
                  WHERE i % 1000 BETWEEN 45 AND 49)`,
  );
}

/**
 * One rollup row per endpoint and 5-minute bucket from `fromSql` to `toSql` (SQL expressions),
 * `attempts` each (null: 20-80, varying). Failures, timeouts and latency buckets follow k.
 */
async function seedBuckets(db, fromSql, toSql, attempts) {
  const a = attempts === null ? `20 + abs(hashtext(id || b::text)) % 61` : String(attempts);
  const { rowCount } = await query(
    db,
    `INSERT INTO delivery_stats_5m (bucket_start, tenant_id, endpoint_id, attempts, successes, failures, timeouts,
       delivered, exhausted, latency_sum_ms, lat_le_100, lat_le_250, lat_le_500, lat_le_1000, lat_le_2500,
       lat_le_5000, lat_le_10000, lat_gt_10000)
     SELECT b, tenant, id, a, a - f, f, t, a - f, CASE WHEN k < 30 THEN f / 10 ELSE 0 END,
            l100 * 60 + l250 * 170 + l500 * 370 + l1000 * 720 + l2500 * 1600 + l5000 * 3500 + t * 15000,
            l100, l250, l500, l1000, l2500, l5000, 0, t
     FROM (
       SELECT *, CASE WHEN slow THEN 0 ELSE (a - t) * 6 / 10 END AS l100,
                 CASE WHEN slow THEN 0 ELSE (a - t) / 4 END AS l250,
                 CASE WHEN slow THEN 0 ELSE (a - t) / 10 END AS l500,
                 CASE WHEN slow THEN (a - t) / 10
                      ELSE (a - t) - (a - t) * 6 / 10 - (a - t) / 4 - (a - t) / 10 END AS l1000,
                 CASE WHEN slow THEN (a - t) / 5 ELSE 0 END AS l2500,
                 CASE WHEN slow THEN (a - t) - (a - t) / 10 - (a - t) / 5 ELSE 0 END AS l5000
       FROM (
         SELECT *, CASE WHEN k < 5 THEN a WHEN k < 30 THEN a * 7 / 10
                        ELSE (abs(hashtext(id || b::text)) % 3) * a / 50 END AS f,
                   CASE WHEN k BETWEEN 20 AND 29 THEN a * 4 / 10 ELSE 0 END AS t,
                   k BETWEEN 30 AND 39 AS slow
         FROM (
           SELECT b, i % 1000 AS k, 'tenant-' || (i % ${TENANTS}) AS tenant, id, ${a} AS a
           FROM (SELECT i, ${endpointIdSql('i')} AS id FROM generate_series(0, ${ENDPOINTS - 1}) AS i) AS e
           CROSS JOIN (SELECT generate_series(${fromSql}, ${toSql}, interval '${BUCKET_S} seconds') AS b) AS buckets
         ) AS r
       ) AS c
     ) AS l
     ON CONFLICT DO NOTHING`,
  );
  return rowCount;
}

async function seedHistory(db) {
  const perChunk = 12; // one hour per statement
  let rows = 0;
  for (let first = 0; first < HISTORY_BUCKETS; first += perChunk) {
    const started = Date.now();
    const last = Math.min(HISTORY_BUCKETS, first + perChunk) - 1;
    // Bucket n (0 = newest) of the history starts 2 + n buckets before the current one.
    rows += await seedBuckets(
      db,
      `${CURRENT_BUCKET} - interval '${(2 + last) * BUCKET_S} seconds'`,
      `${CURRENT_BUCKET} - interval '${(2 + first) * BUCKET_S} seconds'`,
      null,
    );
    log(`  history: ${rows.toLocaleString('en-US')} rollup rows (${Date.now() - started} ms)`);
  }
  return rows;
}

/**
 * Right before measuring (lock held): fills any gap the lock wait left between the history and
 * the window, then the window itself (the current bucket and the one before), and re-analyzes.
 */
async function seedWindow(db) {
  const gap = await seedBuckets(
    db,
    `(SELECT max(bucket_start) + interval '${BUCKET_S} seconds' FROM delivery_stats_5m)`,
    `${CURRENT_BUCKET} - interval '${2 * BUCKET_S} seconds'`,
    null,
  );
  const rows = await seedBuckets(
    db,
    `${CURRENT_BUCKET} - interval '${BUCKET_S} seconds'`,
    CURRENT_BUCKET,
    WINDOW_ATTEMPTS,
  );
  await markRecovered(db);
  await query(db, 'VACUUM (ANALYZE) delivery_stats_5m, endpoints');
  const { rows: w } = await query(
    db,
    `SELECT COALESCE(SUM(attempts), 0)::int AS attempts, COUNT(*)::int AS n, ${CURRENT_BUCKET} AS bucket
     FROM delivery_stats_5m WHERE bucket_start > now() - interval '${2 * BUCKET_S} seconds'`,
  );
  return { gap, rows, attempts: w[0].attempts, windowRows: w[0].n, bucket: w[0].bucket };
}

async function secondsLeftInBucket(db) {
  const { rows } = await query(db, `SELECT ${BUCKET_S} - extract(epoch FROM now())::numeric % ${BUCKET_S} AS s`);
  return Number(rows[0].s);
}

// ---------------------------------------------------------------------------------------------
// HTTP and the service

function postJson(port, urlPath, headers, payload) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(payload);
    const req = http.request(
      {
        host: HOST,
        port,
        path: urlPath,
        method: 'POST',
        agent: false,
        timeout: 10_000,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(port, urlPath, headers = OPERATOR) {
  const res = await httpGet(`http://${HOST}:${port}${urlPath}`, headers);
  interrupt.signal.throwIfAborted();
  if (res.status !== 200) throw new BenchError(`GET ${urlPath} answered ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body);
}

/** `_sum` and `_count` of the evaluation histogram (no labels). */
function parseHistogram(text) {
  const value = (suffix) => {
    const m = new RegExp(`^${METRIC}_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { sum: value('sum'), count: value('count') };
}

/**
 * Polls /metrics every 100 ms from the spawn on. Whenever `_count` went up by exactly one since
 * the previous poll, the `_sum` delta is that evaluation's duration. Stops after the first
 * evaluation and `want` more, or after `timeoutS`.
 */
async function measure(service, port, want, timeoutS) {
  const t0 = performance.now();
  const rssSampler = startRssSampler(service.proc.pid);
  try {
    await waitForOk(service, `http://${HOST}:${port}/healthz`, OPERATOR);
    const healthzS = (performance.now() - t0) / 1000;
    log(`  /healthz answered after ${healthzS.toFixed(2)} s`);
    const evaluations = []; // { n, s, at_s }
    let prev = { sum: 0, count: 0 }; // a fresh process has observed nothing
    let merged = 0;
    let pollErrors = 0;
    const deadline = t0 + timeoutS * 1000;
    while (performance.now() < deadline && evaluations.filter((e) => e.n > 1).length < want) {
      interrupt.signal.throwIfAborted();
      if (!isRunning(service)) throw new BenchError(describeExit(service));
      let cur;
      try {
        const res = await httpGet(`http://${HOST}:${port}/metrics`);
        cur = res.status === 200 ? parseHistogram(res.body) : null;
      } catch {
        cur = null;
      }
      if (!cur || cur.count === null || cur.sum === null) {
        pollErrors++;
      } else if (cur.count > prev.count) {
        const atS = (performance.now() - t0) / 1000;
        if (cur.count - prev.count === 1) {
          evaluations.push({ n: cur.count, s: cur.sum - prev.sum, at_s: Number(atS.toFixed(2)) });
          log(`  evaluation ${cur.count}: ${((cur.sum - prev.sum) * 1000).toFixed(1)} ms (at ${atS.toFixed(1)} s)`);
        } else {
          merged += cur.count - prev.count;
          log(`  evaluations ${prev.count + 1}-${cur.count} ended between two polls (not counted one by one)`);
        }
        prev = cur;
      }
      await sleep(POLL_MS, undefined, { signal: interrupt.signal });
    }
    return { healthzS, evaluations, merged, pollErrors, total: prev.count, rss: rssSampler.stop() };
  } finally {
    rssSampler.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics: the engine's reads as SQL, for EXPLAIN ANALYZE when a target is missed.

const LATENCY_COLUMNS = [
  'lat_le_100',
  'lat_le_250',
  'lat_le_500',
  'lat_le_1000',
  'lat_le_2500',
  'lat_le_5000',
  'lat_le_10000',
  'lat_gt_10000',
];

/** The statement of DeliveryStatsRepository.endpointWindows (PostgreSQL). */
function endpointWindowsSql() {
  const sums = ['attempts', 'failures', 'timeouts', ...LATENCY_COLUMNS];
  return `
      WITH w AS (
        SELECT s.endpoint_id, ${sums.map((c) => `SUM(s.${c}) AS ${c}`).join(', ')}
        FROM delivery_stats_5m s JOIN endpoints b ON b.id = s.endpoint_id
        WHERE s.bucket_start > $1 AND (b.baseline_reset_at IS NULL OR s.bucket_start >= b.baseline_reset_at)
        GROUP BY s.endpoint_id
      )
      SELECT e.id AS endpoint_id, e.tenant_id, e.url, e.state, e.consecutive_failures, e.recovered_at,
        e.recovered_after_failures, ${sums.map((c) => `COALESCE(w.${c}, 0) AS ${c}`).join(', ')}
      FROM endpoints e LEFT JOIN w ON w.endpoint_id = e.id
      WHERE w.endpoint_id IS NOT NULL OR e.consecutive_failures > 0 OR e.recovered_at > $2`;
}

async function printPlans(db, windows) {
  const { rows: r } = await query(db, `SELECT now() AS now, array_agg(id) AS ids FROM autoheal_rules WHERE enabled`);
  const now = r[0].now;
  const plans = [];
  for (const w of windows) {
    const since = new Date(now.getTime() - (w + BUCKET_S) * 1000);
    plans.push([`endpointWindows (window_s ${w})`, endpointWindowsSql(), [since, since]]);
  }
  plans.push(['AutohealStateRepository.forRules', 'SELECT * FROM autoheal_states WHERE rule_id = ANY($1)', [r[0].ids]]);
  plans.push([
    'AutohealExecutionRepository.firedSince',
    `SELECT x.rule_id, x.endpoint_id, COUNT(*) AS n FROM autoheal_executions x
     WHERE x.outcome = 'fired' AND x.created_at > $1 GROUP BY x.rule_id, x.endpoint_id`,
    [new Date(now.getTime() - 3_600_000)],
  ]);
  plans.push([
    'AutohealRuleRepository.listEnabled',
    'SELECT * FROM autoheal_rules WHERE enabled = true ORDER BY name ASC',
    [],
  ]);
  for (const [label, sql, params] of plans) {
    const { rows } = await query(db, `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    log(`\nEXPLAIN ANALYZE ${label}:`);
    for (const row of rows) log(`  ${row['QUERY PLAN']}`);
  }
}

// ---------------------------------------------------------------------------------------------

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function printResults(r, checks, pass, settings) {
  const ms = (s) => (s === null ? '-' : `${(s * 1000).toFixed(1)} ms`);
  const lines = [
    `endpoints / tenants / rules     ${r.endpoints} / ${TENANTS} / ${r.rules}`,
    `attempts in the 5-min window    ${r.window_attempts.toLocaleString('en-US')} (${r.window_rows} rollup rows; ${r.stats_rows.toLocaleString('en-US')} in the table)`,
    `time to /healthz                ${r.healthz_s.toFixed(2)} s`,
    `first evaluation (acting)       ${ms(r.first_s)}`,
    `steady state (${r.steady_n} evaluations)  median ${ms(r.steady_median_s)}, p95 ${ms(r.steady_p95_s)}, max ${ms(r.steady_max_s)}`,
    `all evaluations (ms)            ${r.evaluations_ms.join(', ')}`,
    `merged (not timed singly)       ${r.merged}`,
    `executions (GET, limit=500)     first page ${r.executions_first_page}, has_more ${r.executions_has_more}; ${r.executions_total} in ${r.executions_pages} pages`,
    `executions by outcome           ${JSON.stringify(r.executions_by_outcome)}`,
    `endpoints by state after        ${JSON.stringify(r.endpoint_states)}`,
    `events published                ${Object.values(r.events_by_type).reduce((a, b) => a + b, 0)} ${JSON.stringify(r.events_by_type)}`,
    `peak RSS                        ${r.peak_rss_mb.toFixed(1)} MB (${r.rss_samples} samples)`,
    '',
  ];
  for (const c of checks) lines.push(`${c.check} = ${c.value} (target ${c.target}): ${c.pass ? 'PASS' : 'FAIL'}`);
  lines.push(`result: ${pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    JSON.stringify({
      benchmark: 'autoheal',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: r,
      targets: { evaluation_s: TARGET_S },
      checks,
      pass,
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  if (!existsSync(SERVICE_ENTRY)) throw new BenchError('dist/main.js not found: run `npm run build` first.');
  if (!existsSync('/proc/self/status')) throw new BenchError('needs Linux /proc to sample the service RSS');
  const want = positiveInt('BENCH_AUTOHEAL_EVALUATIONS', 15);
  const timeoutS = positiveInt('BENCH_AUTOHEAL_TIMEOUT_S', 120);
  const explainRaw = envValue('BENCH_AUTOHEAL_EXPLAIN') ?? '0';
  if (!/^[01]$/.test(explainRaw)) throw new BenchError(`BENCH_AUTOHEAL_EXPLAIN must be 0 or 1 (got ${explainRaw})`);
  const adminUrl = envValue('BENCH_PG_ADMIN_URL') ?? DEFAULT_ADMIN_URL;
  const host = new URL(adminUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host))
    throw new BenchError(`BENCH_PG_ADMIN_URL must point to loopback (got host ${host})`);
  // The measured phase must stay inside one 5-minute bucket (see seedWindow).
  const needS = Math.min(BUCKET_S - 30, 20 + 2 * want);

  const budgetS = Math.ceil(3 * (STARTUP_TIMEOUT_MS / 1000) + 600 + LOCK_GIVE_UP_MS / 1000 + needS + timeoutS + 120);
  const watchdog = setTimeout(() => {
    log(`\ntime budget of ${budgetS} s exceeded: stopping`);
    interrupt.abort(new BenchError(`the run exceeded its time budget of ${budgetS} s; no figures`));
  }, budgetS * 1000);
  watchdog.unref();

  // Settings the caller's shell may export (e.g. from .env) would change what is measured.
  const inherited = { ...process.env };
  for (const key of Object.keys(inherited)) {
    if (/^(AUTOHEAL_|DISPATCH|DELIVERY_|EVENT_RETENTION_|DB_)/.test(key)) delete inherited[key];
  }
  for (const key of ['DATABASE_URL', 'AUTH_PROXY_SECRET', 'TRUST_PROXY', 'RETRY_SCHEDULE']) delete inherited[key];

  const runId = randomBytes(4).toString('hex');
  const dbName = `cc_bench_autoheal_${runId}`;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  let db;
  const services = [];
  try {
    await createDatabase(adminUrl, dbName);

    const [port] = await freePorts(1);
    const dataDir = makeTempDir('command-center-bench-autoheal-');
    const nodeFlags = startScriptNodeFlags();
    const startService = (name, autoheal) => {
      const child = startChild(
        name,
        SERVICE_ENTRY,
        {
          ...inherited,
          PORT: String(port),
          HOST,
          DATA_DIR: dataDir,
          DATABASE_URL: dbUrl.href,
          LOG_LEVEL: 'warning',
          RATE_LIMIT_PER_MINUTE: '0',
          DISPATCHER_ENABLED: 'false',
          AUTOHEAL_ENABLED: String(autoheal),
          AUTOHEAL_INTERVAL_S: '1',
          SHUTDOWN_TIMEOUT_MS: '5000',
        },
        { nodeFlags },
      );
      services.push(child);
      return child;
    };

    // 1. Schema (migrations) and rules, with the engine off; then the seed.
    log(`starting command-center (autoheal off) on ${HOST}:${port}: migrations, rules`);
    const setup = startService('command-center (setup)', false);
    await waitForOk(setup, `http://${HOST}:${port}/healthz`, OPERATOR);
    for (const rule of EXTRA_RULES) {
      const res = await postJson(port, '/autoheal/rules', ADMIN, rule);
      if (res.status !== 201)
        throw new BenchError(`POST /autoheal/rules (${rule.name}) answered ${res.status}: ${res.body}`);
    }
    const rules = (await getJson(port, '/autoheal/rules')).items.filter((x) => x.enabled);
    const windows = [...new Set(rules.map((x) => x.trigger.window_s))].sort((a, b) => a - b);
    log(`  ${rules.length} enabled rules, windows ${windows.join(', ')} s`);
    await stopService(setup);

    db = await connect(dbUrl.href);
    await query(db, `SET statement_timeout = ${SEED_STATEMENT_TIMEOUT_MS}`);
    const autovacuum = (await query(db, 'SHOW autovacuum')).rows[0].autovacuum;
    const seedStarted = Date.now();
    log(
      `seeding ${ENDPOINTS.toLocaleString('en-US')} endpoints over ${TENANTS} tenants, ${HISTORY_BUCKETS} buckets of history`,
    );
    await seedEndpoints(db);
    const historyRows = await seedHistory(db);
    await query(db, 'VACUUM (ANALYZE) delivery_stats_5m, endpoints');
    const seedS = (Date.now() - seedStarted) / 1000;
    log(`  seeded in ${seedS.toFixed(1)} s (VACUUM ANALYZE included)`);

    // 2. The measured phase, alone on the machine.
    const lockWaitMs = await acquireLock();
    let m;
    let window;
    let after;
    let bucketCrossed = false;
    try {
      log(`lock held${lockWaitMs > 1_000 ? ` (waited ${(lockWaitMs / 1000).toFixed(0)} s)` : ''}`);
      const left = await secondsLeftInBucket(db);
      if (left < needS) {
        log(`  ${left.toFixed(0)} s left in the current 5-minute bucket (< ${needS} s): waiting for the next one`);
        await sleep((left + 1) * 1000, undefined, { signal: interrupt.signal });
      }
      window = await seedWindow(db);
      log(
        `  window: ${window.rows} rows, ${window.attempts.toLocaleString('en-US')} attempts` +
          `${window.gap ? ` (+${window.gap} history rows for the lock wait)` : ''}; VACUUM ANALYZE done`,
      );
      log(`starting command-center (autoheal every 1 s), timing each evaluation from /metrics`);
      const service = startService('command-center (autoheal)', true);
      m = await measure(service, port, want, timeoutS);
      const bucketNow = (await query(db, `SELECT ${CURRENT_BUCKET} AS b`)).rows[0].b;
      bucketCrossed = bucketNow.getTime() !== window.bucket.getTime();
      if (bucketCrossed) log('  note: a 5-minute bucket boundary passed during the measured phase');

      // Executions through the API (newest first), then the breakdown from the database.
      after = { pages: 0, total: 0 };
      let cursor = null;
      do {
        const page = await getJson(
          port,
          `/autoheal/executions?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        if (after.pages === 0) Object.assign(after, { firstPage: page.items.length, hasMore: page.has_more });
        after.pages++;
        after.total += page.items.length;
        cursor = page.next_cursor;
      } while (cursor && after.pages < 100);
      if (!isRunning(service)) throw new BenchError(describeExit(service));
      await stopService(service);
      const byRule = await query(
        db,
        `SELECT rule_name, outcome, COUNT(*)::int AS n FROM autoheal_executions GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      after.byRule = {};
      after.byOutcome = {};
      for (const { rule_name: rule, outcome, n } of byRule.rows) {
        (after.byRule[rule] ??= {})[outcome] = n;
        after.byOutcome[outcome] = (after.byOutcome[outcome] ?? 0) + n;
      }
      const states = await query(db, `SELECT state, COUNT(*)::int AS n FROM endpoints GROUP BY 1 ORDER BY 1`);
      after.states = Object.fromEntries(states.rows.map((x) => [x.state, x.n]));
      after.statsRows = (await query(db, 'SELECT COUNT(*)::int AS n FROM delivery_stats_5m')).rows[0].n;
      const events = await query(db, `SELECT type, COUNT(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`);
      after.events = Object.fromEntries(events.rows.map((x) => [x.type, x.n]));

      const first = m.evaluations.find((e) => e.n === 1)?.s ?? null;
      const steady = m.evaluations.filter((e) => e.n > 1).map((e) => e.s);
      const slow = first === null || first > TARGET_S || steady.some((s) => s > TARGET_S);
      if (slow || explainRaw === '1') await printPlans(db, windows);
      m.first = first;
      m.steady = steady;
    } finally {
      releaseLock();
    }
    clearTimeout(watchdog);

    const sorted = [...m.steady].sort((a, b) => a - b);
    const round = (s) => (s === null ? null : Number(s.toFixed(4)));
    const results = {
      endpoints: ENDPOINTS,
      rules: rules.length,
      windows_s: windows,
      window_attempts: window.attempts,
      window_rows: window.windowRows,
      stats_rows: after.statsRows,
      history_rows: historyRows + window.gap,
      healthz_s: round(m.healthzS),
      first_s: round(m.first),
      steady_n: m.steady.length,
      steady_median_s: round(quantile(sorted, 0.5)),
      steady_p95_s: round(quantile(sorted, 0.95)),
      steady_max_s: round(sorted.at(-1) ?? null),
      evaluations_ms: m.evaluations.map((e) => Number((e.s * 1000).toFixed(1))),
      evaluations: m.evaluations,
      evaluations_total: m.total,
      merged: m.merged,
      metrics_poll_errors: m.pollErrors,
      bucket_boundary_crossed: bucketCrossed,
      executions_first_page: after.firstPage,
      executions_has_more: after.hasMore,
      executions_total: after.total,
      executions_pages: after.pages,
      executions_by_outcome: after.byOutcome,
      executions_by_rule: after.byRule,
      endpoint_states: after.states,
      events_by_type: after.events,
      peak_rss_mb: Number((m.rss.peakKb / 1024).toFixed(1)),
      rss_samples: m.rss.samples,
      seed_s: Number(seedS.toFixed(1)),
      lock_wait_s: Number((lockWaitMs / 1000).toFixed(1)),
    };
    const unexpected = Object.entries(EXPECTED_FIRST).flatMap(([rule, outcomes]) =>
      Object.entries(outcomes)
        .filter(([outcome, n]) => after.byRule[rule]?.[outcome] !== n)
        .map(([outcome, n]) => `${rule} ${outcome} ${after.byRule[rule]?.[outcome] ?? 0} (expected ${n})`),
    );
    const ratio = (s) => (s === null ? '-' : (s / TARGET_S).toFixed(3));
    const checks = [
      {
        check: 'first evaluation (acting)',
        value: m.first === null ? 'not timed' : `${(m.first * 1000).toFixed(1)} ms (max / 1 s = ${ratio(m.first)})`,
        target: `<= ${TARGET_S} s`,
        pass: m.first !== null && m.first <= TARGET_S,
      },
      {
        check: `steady-state max of ${m.steady.length} evaluations`,
        value:
          m.steady.length < want
            ? `only ${m.steady.length} of ${want} timed within ${timeoutS} s`
            : `${(results.steady_max_s * 1000).toFixed(1)} ms (max / 1 s = ${ratio(results.steady_max_s)})`,
        target: `<= ${TARGET_S} s`,
        pass: m.steady.length >= want && results.steady_max_s <= TARGET_S,
      },
      {
        check: 'decisions of the first evaluation',
        value: unexpected.length ? unexpected.join('; ') : 'as seeded',
        target: Object.entries(EXPECTED_FIRST)
          .map(([rule, o]) => `${rule} ${Object.entries(o).map(([k, n]) => `${k} ${n}`)}`)
          .join(', '),
        pass: unexpected.length === 0,
      },
    ];
    const pass = checks.every((c) => c.pass);
    printResults(results, checks, pass, {
      run_id: runId,
      database: dbName,
      tenants: TENANTS,
      window_attempts_per_bucket: WINDOW_ATTEMPTS,
      history_buckets: HISTORY_BUCKETS,
      evaluations_wanted: want,
      interval_s: 1,
      timeout_s: timeoutS,
      pg_autovacuum: autovacuum,
      node_flags: nodeFlags,
    });
    return pass ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    releaseLock();
    // The database cannot be dropped while the service holds connections to it.
    for (const s of services) await stopService(s);
    await closeClient(db);
    await dropCreatedDatabase();
  }
}

await runBench(main);
