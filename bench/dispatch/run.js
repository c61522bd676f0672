// Dispatch throughput benchmark: 50,000 deliveries are made due at once in a fresh PostgreSQL
// database (ingested with the dispatcher off), then the service is restarted with the dispatcher
// on and timed until a receiver in another process has seen every one of them and the queue is
// empty. Reports completed attempts per second, duplicates and the service's peak RSS. See README.md.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
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
  LOCK_GIVE_UP_MS,
  log,
  makeTempDir,
  positiveInt,
  releaseLock,
  ROOT,
  rpc,
  runBench,
  startChild,
  startRssSampler,
  startScriptNodeFlags,
  STARTUP_TIMEOUT_MS,
  stopService,
  waitForOk,
  waitForReady,
} from '../support/processes.js';

const RECEIVER_ENTRY = fileURLToPath(new URL('./receiver.js', import.meta.url));
const OPERATOR = { 'x-user-roles': 'operator' };
const BATCH_SIZE = 500; // the API's maximum
const INGEST_PARALLEL = 4;
const INGEST_REQUEST_TIMEOUT_MS = 60_000;
const TARGET_RATE = 1_000; // completed attempts per second
const TARGET_RSS_MB = 256;
const PROGRESS_MS = 5_000;
/** After completion, how long to keep listening for late duplicates. */
const SETTLE_MS = 2_000;
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
// The service's defaults, stated in the output (the variables are removed from its environment).
const DISPATCH_CONCURRENCY = 32;
const DISPATCH_PER_ENDPOINT = 4;

// ---------------------------------------------------------------------------------------------
// Children.

// ---------------------------------------------------------------------------------------------
// Ingest.

/** One POST on a connection of its own; resolves with status and body, never rejects. */
function postJson(port, urlPath, headers, payload) {
  return new Promise((resolve) => {
    const body = JSON.stringify(payload);
    const req = http.request(
      {
        host: HOST,
        port,
        path: urlPath,
        method: 'POST',
        agent: false,
        timeout: INGEST_REQUEST_TIMEOUT_MS,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
        res.on('error', (err) => resolve({ status: 0, body: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${INGEST_REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(body);
  });
}

/** Delivery i goes to endpoint i % endpoints, so every claim spreads over all endpoints. */
function batchItems(first, count, { endpointUrls, tenant, runId }) {
  const items = [];
  for (let i = first; i < first + count; i++) {
    items.push({
      tenant_id: tenant,
      endpoint_url: endpointUrls[i % endpointUrls.length],
      event_type: 'bench.dispatch',
      payload: { run: runId, seq: i, note: 'dispatch benchmark' },
    });
  }
  return items;
}

async function ingest(service, port, total, plan) {
  const batches = Math.ceil(total / BATCH_SIZE);
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < batches) {
      interrupt.signal.throwIfAborted();
      const b = next++;
      const first = b * BATCH_SIZE;
      const count = Math.min(BATCH_SIZE, total - first);
      const res = await postJson(
        port,
        '/alerts/deliveries/batch',
        { 'x-user-roles': 'ingest' },
        {
          items: batchItems(first, count, plan),
        },
      );
      interrupt.signal.throwIfAborted();
      if (res.status !== 202) {
        if (!isRunning(service)) throw new BenchError(describeExit(service));
        throw new BenchError(
          `POST /alerts/deliveries/batch #${b} answered ${res.status || 'nothing'}: ${res.body.slice(0, 300)}`,
        );
      }
      const reply = JSON.parse(res.body);
      if (reply.accepted !== count) {
        throw new BenchError(`batch #${b}: ${reply.accepted} of ${count} accepted (${reply.duplicates} duplicates)`);
      }
      accepted += count;
      if ((b + 1) % 20 === 0) log(`  ingested ${accepted}/${total}`);
    }
  };
  await Promise.all(Array.from({ length: INGEST_PARALLEL }, worker));
  return { accepted, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Database.

async function pendingCount(db) {
  const { rows } = await db.query(`SELECT COUNT(*)::int AS n FROM deliveries WHERE status = 'pending'`);
  return rows[0].n;
}

async function statusCounts(db) {
  const { rows } = await db.query(`SELECT status, COUNT(*)::int AS n FROM deliveries GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** What the service's connections are doing right now (wait events), for the diagnostics. */
async function sampleWaits(db, waits) {
  const { rows } = await db.query(
    `SELECT state, COALESCE(wait_event_type || ':' || wait_event, 'cpu/none') AS wait
       FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  waits.samples++;
  for (const r of rows) {
    const key = `${r.state ?? 'null'} ${r.wait}`;
    waits.counts[key] = (waits.counts[key] ?? 0) + 1;
  }
}

function parseMetric(text, name, labels = '') {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
  if (!line) return null;
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

// ---------------------------------------------------------------------------------------------
// The measured phase.

async function measure({ service, receiver, db, total, timeoutS }) {
  const t0 = performance.now();
  const rss = startRssSampler(service.proc.pid);
  const waits = { samples: 0, counts: {} };
  let healthzS = null;
  try {
    await waitForOk(service, `http://${HOST}:${service.port}/healthz`, OPERATOR);
    healthzS = (performance.now() - t0) / 1000;
    log(`  /healthz answered after ${healthzS.toFixed(2)} s`);

    const deadline = t0 + timeoutS * 1000;
    let stats = await rpc(receiver, 'stats');
    let pending = total;
    let lastDbPoll = 0;
    let lastWaitSample = 0;
    let lastProgress = performance.now();
    let doneAt = null;
    while (performance.now() < deadline) {
      interrupt.signal.throwIfAborted();
      if (!isRunning(service)) throw new BenchError(describeExit(service));
      stats = await rpc(receiver, 'stats');
      const now = performance.now();
      // The DB is polled every second until the receiver has everything, then closely.
      if (stats.distinct >= total || now - lastDbPoll >= 1_000) {
        pending = await pendingCount(db);
        lastDbPoll = now;
      }
      if (now - lastWaitSample >= 2_000) {
        await sampleWaits(db, waits);
        lastWaitSample = now;
      }
      if (stats.distinct >= total && pending === 0) {
        doneAt = performance.now();
        break;
      }
      if (now - lastProgress >= PROGRESS_MS) {
        const s = (now - t0) / 1000;
        log(
          `  ${s.toFixed(0)} s: receiver ${stats.distinct} distinct, ${pending} pending, RSS ${((readRssKb(service.proc.pid) ?? 0) / 1024).toFixed(0)} MB`,
        );
        lastProgress = now;
      }
      await sleep(stats.distinct >= total ? 50 : 250, undefined, { signal: interrupt.signal });
    }
    const rssStats = rss.stop();
    const elapsedS = ((doneAt ?? performance.now()) - t0) / 1000;
    return { completed: doneAt !== null, elapsedS, healthzS, stats, pending, rssStats, waits };
  } finally {
    rss.stop();
  }
}

function readRssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

function printResults(r, checks, pass, settings) {
  const lines = [
    `deliveries due at start     ${r.total}`,
    `time to /healthz            ${r.healthz_s === null ? '-' : `${r.healthz_s.toFixed(2)} s`}`,
    `elapsed (start → all done)  ${r.elapsed_s.toFixed(2)} s`,
    `completed attempts/s        ${r.attempts_per_s.toFixed(1)}  (after /healthz: ${r.attempts_per_s_after_healthz?.toFixed(1) ?? '-'})`,
    `receiver requests           ${r.receiver_requests}`,
    `receiver distinct ids       ${r.receiver_distinct}`,
    `duplicates                  ${r.duplicates}`,
    `missing                     ${r.missing}`,
    `pending at end (DB)         ${r.pending_at_end}`,
    `statuses at end (DB)        ${JSON.stringify(r.statuses)}`,
    `/metrics queue depth        ${r.metrics_queue_depth ?? '-'}`,
    `/metrics attempts success   ${r.metrics_attempts_success ?? '-'}`,
    `peak RSS                    ${r.peak_rss_mb.toFixed(1)} MB (${r.rss_samples} samples)`,
    '',
  ];
  for (const c of checks) lines.push(`${c.check} = ${c.value} (target ${c.target}): ${c.pass ? 'PASS' : 'FAIL'}`);
  lines.push(`result: ${pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    JSON.stringify({
      benchmark: 'dispatch',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: r,
      targets: { attempts_per_s: TARGET_RATE, peak_rss_mb: TARGET_RSS_MB, missing: 0, duplicates: 0 },
      checks,
      pass,
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const serviceEntry = envValue('BENCH_DISPATCH_SERVICE')
    ? path.resolve(envValue('BENCH_DISPATCH_SERVICE'))
    : path.join(ROOT, 'dist', 'main.js');
  if (!existsSync(serviceEntry)) throw new BenchError(`${serviceEntry} not found: run \`npm run build\` first.`);
  if (!existsSync('/proc/self/status')) throw new BenchError('needs Linux /proc to sample the service RSS');
  const total = positiveInt('BENCH_DISPATCH_DELIVERIES', 50_000);
  const endpoints = positiveInt('BENCH_DISPATCH_ENDPOINTS', 50);
  const timeoutS = positiveInt('BENCH_DISPATCH_TIMEOUT_S', 300);
  const adminUrl = envValue('BENCH_PG_ADMIN_URL') ?? DEFAULT_ADMIN_URL;
  const analyzeRaw = envValue('BENCH_DISPATCH_ANALYZE') ?? '0';
  if (!/^[01]$/.test(analyzeRaw))
    throw new BenchError(`BENCH_DISPATCH_ANALYZE must be 0 or 1 (got ${JSON.stringify(analyzeRaw)})`);
  const analyzeFirst = analyzeRaw === '1';
  const runId = randomBytes(4).toString('hex');
  const dbName = `cc_bench_dispatch_${runId}`;
  const serviceDbUrl = new URL(adminUrl);
  serviceDbUrl.pathname = `/${dbName}`;

  // Bounds the whole run: start-ups, ingest (generous), the lock wait and the measured phase.
  const budgetS = Math.ceil(4 * (STARTUP_TIMEOUT_MS / 1000) + 300 + LOCK_GIVE_UP_MS / 1000 + timeoutS + 60);
  const watchdog = setTimeout(() => {
    log(`\ntime budget of ${budgetS} s exceeded: stopping`);
    interrupt.abort(new BenchError(`the run exceeded its time budget of ${budgetS} s; no figures`));
  }, budgetS * 1000);
  watchdog.unref();

  // Settings the caller's shell may export (e.g. from .env) would change what is measured.
  const inherited = { ...process.env };
  for (const key of [
    'DATABASE_URL',
    'AUTH_PROXY_SECRET',
    'TRUST_PROXY',
    'DB_POOL_MAX',
    'DISPATCHER_ENABLED',
    'DISPATCH_CONCURRENCY',
    'DISPATCH_PER_ENDPOINT',
    'DELIVERY_TIMEOUT_MS',
    'DELIVERY_MAX_PAYLOAD_BYTES',
    'DELIVERY_ALLOWED_PRIVATE_CIDRS',
    'RETRY_SCHEDULE',
  ]) {
    delete inherited[key];
  }

  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  let db;
  let dbCreated = false;
  const services = [];
  try {
    try {
      await admin.connect();
    } catch (err) {
      throw new BenchError(`cannot connect to PostgreSQL at ${adminUrl}: ${err.message}`);
    }
    log(`creating database ${dbName}`);
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
    dbCreated = true;

    const [servicePort, receiverPort] = await freePorts(2);
    const dataDir = makeTempDir('command-center-bench-dispatch-');
    // Endpoints differ by path (one tenant); each gets DISPATCH_PER_ENDPOINT slots.
    const endpointUrls = Array.from({ length: endpoints }, (_, i) => `http://${HOST}:${receiverPort}/hook/${i}`);

    log(`starting the receiver on ${HOST}:${receiverPort}`);
    const receiver = startChild(
      'receiver',
      RECEIVER_ENTRY,
      { ...inherited, PORT: String(receiverPort), HOST },
      { ipc: true },
    );
    await waitForReady(receiver);

    const nodeFlags = startScriptNodeFlags();
    const serviceEnv = (dispatcher) => ({
      ...inherited,
      PORT: String(servicePort),
      HOST,
      DATA_DIR: dataDir,
      DATABASE_URL: serviceDbUrl.href,
      LOG_LEVEL: 'warning',
      RATE_LIMIT_PER_MINUTE: '0',
      DISPATCHER_ENABLED: String(dispatcher),
      DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
      MAX_BODY_BYTES: '10485760',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const startService = (name, dispatcher) => {
      const child = startChild(name, serviceEntry, serviceEnv(dispatcher), { nodeFlags });
      child.port = servicePort;
      services.push(child);
      return child;
    };

    // 1. Fill the queue with the dispatcher off.
    log(
      `starting command-center (dispatcher off) on ${HOST}:${servicePort}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ''}`,
    );
    const loader = startService('command-center (ingest)', false);
    await waitForOk(loader, `http://${HOST}:${servicePort}/healthz`, OPERATOR);
    log(
      `ingesting ${total} deliveries, ${BATCH_SIZE} per request, ${INGEST_PARALLEL} requests at a time, over ${endpoints} endpoint URLs`,
    );
    const ingested = await ingest(loader, servicePort, total, { endpointUrls, tenant: 'bench-dispatch', runId });
    log(`  ingested in ${ingested.seconds.toFixed(1)} s (${(total / ingested.seconds).toFixed(0)}/s)`);
    const history = await httpGet(
      `http://${HOST}:${servicePort}/alerts/deliveries/history?status=pending&limit=1`,
      OPERATOR,
    );
    if (history.status !== 200)
      throw new BenchError(`GET /alerts/deliveries/history answered ${history.status}: ${history.body.slice(0, 300)}`);
    await stopService(loader);
    if (loader.proc.exitCode !== 0 && loader.proc.signalCode !== 'SIGTERM')
      log(`  note: the ingest instance exited with ${loader.proc.exitCode ?? loader.proc.signalCode}`);

    db = new pg.Client({ connectionString: serviceDbUrl.href, connectionTimeoutMillis: 5_000 });
    await db.connect();
    const due = await pendingCount(db);
    const before = await rpc(receiver, 'stats');
    if (due !== total) throw new BenchError(`expected ${total} pending deliveries before the run, found ${due}`);
    if (before.requests !== 0)
      throw new BenchError(`the receiver got ${before.requests} requests with the dispatcher off`);
    log(`${due} deliveries pending and due; receiver idle`);
    // Context for the figures: with autovacuum off nothing ever analyzes the fresh tables, and
    // the planner works from default estimates. Opt-in ANALYZE (outside the timing) for comparison.
    const autovacuum = (await db.query('SHOW autovacuum')).rows[0].autovacuum;
    if (analyzeFirst) {
      log('ANALYZE of the benchmark database (BENCH_DISPATCH_ANALYZE=1), before the measured phase');
      await db.query('ANALYZE');
    } else if (autovacuum !== 'on') {
      log(`note: the server has autovacuum=${autovacuum}; the fresh tables are not analyzed (see README)`);
    }

    // 2. The measured phase, alone on the machine.
    const lockWaitMs = await acquireLock();
    let m;
    let after;
    let statuses;
    let metricsText = null;
    try {
      log(
        `lock held${lockWaitMs > 1_000 ? ` (waited ${(lockWaitMs / 1000).toFixed(0)} s)` : ''}; starting command-center (dispatcher on), timing from spawn, giving up after ${timeoutS} s`,
      );
      const dispatcher = startService('command-center (dispatch)', true);
      m = await measure({ service: dispatcher, receiver, db, total, timeoutS });
      log(m.completed ? `  done after ${m.elapsedS.toFixed(2)} s` : `  gave up after ${timeoutS} s`);
      // Late duplicates would show up now.
      await sleep(SETTLE_MS, undefined, { signal: interrupt.signal });
      after = await rpc(receiver, 'stats');
      statuses = await statusCounts(db);
      try {
        const res = await httpGet(`http://${HOST}:${servicePort}/metrics`, OPERATOR);
        if (res.status === 200) metricsText = res.body;
        else log(`  GET /metrics answered ${res.status}`);
      } catch (err) {
        log(`  GET /metrics failed: ${err.message}`);
      }
      if (!isRunning(dispatcher)) throw new BenchError(describeExit(dispatcher));
      await stopService(dispatcher);
    } finally {
      releaseLock();
    }
    clearTimeout(watchdog);

    const toMb = (kb) => Number((kb / 1024).toFixed(1));
    const elapsedAfterHealthz = m.healthzS === null ? null : m.elapsedS - m.healthzS;
    const results = {
      total,
      completed: m.completed,
      elapsed_s: Number(m.elapsedS.toFixed(3)),
      healthz_s: m.healthzS === null ? null : Number(m.healthzS.toFixed(3)),
      attempts_per_s: m.completed ? total / m.elapsedS : after.distinct / m.elapsedS,
      attempts_per_s_after_healthz:
        m.completed && elapsedAfterHealthz > 0 ? Number((total / elapsedAfterHealthz).toFixed(1)) : null,
      receiver_requests: after.requests,
      receiver_distinct: after.distinct,
      duplicates: after.duplicates,
      duplicate_examples: after.duplicate_examples,
      requests_without_id: after.without_id,
      missing: Math.max(0, total - after.distinct),
      pending_at_end: statuses.pending ?? 0,
      statuses,
      metrics_queue_depth: metricsText ? parseMetric(metricsText, 'command_center_delivery_queue_depth') : null,
      metrics_attempts_success: metricsText
        ? parseMetric(metricsText, 'command_center_delivery_attempts_total', '{result="success"}')
        : null,
      peak_rss_mb: toMb(m.rssStats.peakKb),
      end_rss_mb: toMb(m.rssStats.lastKb),
      rss_samples: m.rssStats.samples,
      ingest_s: Number(ingested.seconds.toFixed(1)),
      lock_wait_s: Number((lockWaitMs / 1000).toFixed(1)),
      pg_wait_samples: m.waits.samples,
      pg_waits: m.waits.counts,
    };
    results.attempts_per_s = Number(results.attempts_per_s.toFixed(1));

    const checks = [
      {
        check: 'completed attempts per second',
        value: m.completed
          ? `${results.attempts_per_s}`
          : `not completed within ${timeoutS} s (${after.distinct} delivered)`,
        target: `>= ${TARGET_RATE}`,
        pass: m.completed && results.attempts_per_s >= TARGET_RATE,
      },
      {
        check: 'peak RSS',
        value: `${results.peak_rss_mb} MB`,
        target: `<= ${TARGET_RSS_MB} MB`,
        pass: results.peak_rss_mb <= TARGET_RSS_MB && results.rss_samples > 0,
      },
      {
        check: 'deliveries',
        value: `${after.distinct}/${total} received, ${results.missing} missing, ${after.duplicates} duplicates, ${results.pending_at_end} pending`,
        target: 'none missing, no duplicates, 0 pending',
        pass: results.missing === 0 && after.duplicates === 0 && results.pending_at_end === 0 && after.without_id === 0,
      },
    ];
    const pass = checks.every((c) => c.pass);
    printResults(results, checks, pass, {
      run_id: runId,
      database: dbName,
      deliveries: total,
      endpoints,
      tenants: 1,
      endpoint_urls: `http://${HOST}:<receiver>/hook/0..${endpoints - 1}`,
      dispatch_concurrency: DISPATCH_CONCURRENCY,
      dispatch_per_endpoint: DISPATCH_PER_ENDPOINT,
      timeout_s: timeoutS,
      pg_autovacuum: autovacuum,
      analyze_before_measuring: analyzeFirst,
      node_flags: nodeFlags,
      service_entry: path.relative(ROOT, serviceEntry),
    });
    return pass ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    releaseLock();
    // The database cannot be dropped while the service holds connections to it.
    for (const s of services) await stopService(s);
    if (db) await db.end().catch(() => undefined);
    if (dbCreated) {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
        log(`dropped database ${dbName}`);
      } catch (err) {
        log(`could not drop database ${dbName}: ${err.message}`);
      }
    }
    await admin.end().catch(() => undefined);
  }
}

await runBench(main);
