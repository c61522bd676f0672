// Ingest throughput benchmark: the built service on a fresh PostgreSQL database takes batches of
// deliveries through POST /alerts/deliveries/batch from autocannon; reports deliveries accepted
// per second and request latency, and checks the accepted count against the rows stored. See README.md.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  acquireLock,
  BenchError,
  describeExit,
  freePorts,
  HOST,
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
  startScriptNodeFlags,
  waitForOk,
} from '../support/processes.js';

const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const INGEST_PATH = '/alerts/deliveries/batch';
const HEADERS = { 'x-user-roles': 'ingest', 'content-type': 'application/json' };
const ADMIN_DB_URL = `postgres://postgres@${HOST}:5432/postgres`;
const TENANTS = 100;
const ENDPOINTS_PER_TENANT = 3;
const ENDPOINT_NAMES = ['orders', 'billing', 'audit'];
const EVENT_TYPES = ['invoice.paid', 'invoice.created', 'customer.updated', 'subscription.renewed'];
const MAX_BATCH = 500; // the API's limit
/** Warm-up: this many batches per connection (all answered, so none is cut off). */
const WARMUP_ROUNDS = 2;
/** A batch not answered within this many seconds counts as a timeout (and invalidates the run). */
const REQUEST_TIMEOUT_S = 30;
const TARGET_DELIVERIES_PER_S = 5_000;
/** How long batches cut off by the end of a load phase may take to commit in the service. */
const SETTLE_TIMEOUT_MS = 10_000;
const SERVICE_STOP_TIMEOUT_MS = 5_000;

let activeRun;

function pgClient(url) {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
}

/**
 * Builds the items of one batch. Keys are `<run>.<batch id>.<index>`: unique across the whole
 * run, and the batch id lets the database be asked which batches were stored.
 */
function makeBatchBody(runId, batchId, size, firstItem) {
  const items = [];
  for (let i = 0; i < size; i++) {
    const n = firstItem + i;
    const tenant = n % TENANTS;
    const endpoint = Math.floor(n / TENANTS) % ENDPOINTS_PER_TENANT;
    items.push(
      `{"tenant_id":"t${tenant + 1}",` +
        `"endpoint_url":"https://hooks.example/t${tenant + 1}/${ENDPOINT_NAMES[endpoint]}",` +
        `"event_type":"${EVENT_TYPES[Math.floor(n / (TENANTS * ENDPOINTS_PER_TENANT)) % EVENT_TYPES.length]}",` +
        `"payload":{"invoice_id":"inv_${n}","amount_cents":${1_000 + (n % 9_000)},"currency":"EUR"},` +
        `"idempotency_key":"${runId}.${batchId}.${i}"}`,
    );
  }
  return `{"items":[${items.join(',')}]}`;
}

/** One POST on a connection of its own (used for the seed batch). */
function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) },
        agent: false,
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A load phase: `connections` keep-alive connections POST freshly built batches for `durationS`
 * seconds. Each response is parsed; its `accepted` is summed. Batches sent but not answered when
 * autocannon stops (it closes the sockets) are returned as `cutOff`: the service may still store them.
 */
async function loadPhase({ url, runId, phase, durationS, amount, connections, batchSize }) {
  const stats = { sent: 0, answered: 0, accepted: 0, duplicates: 0, bad: 0, badExamples: [], outstanding: new Set() };
  let nextBatch = 0;
  let nextItem = 0;
  const badResponse = (what) => {
    stats.bad++;
    if (stats.badExamples.length < 3) stats.badExamples.push(what);
  };
  activeRun = autocannon({
    url,
    connections,
    pipelining: 1,
    ...(amount ? { amount } : { duration: durationS }),
    timeout: REQUEST_TIMEOUT_S,
    requests: [
      {
        method: 'POST',
        path: INGEST_PATH,
        headers: HEADERS,
        setupRequest: (req, context) => {
          const batchId = `${phase}${nextBatch++}`;
          const body = makeBatchBody(runId, batchId, batchSize, nextItem);
          nextItem += batchSize;
          context.batchId = batchId;
          stats.sent++;
          stats.outstanding.add(batchId);
          return { ...req, body };
        },
        onResponse: (status, body, context) => {
          stats.answered++;
          stats.outstanding.delete(context.batchId);
          if (status !== 202) return badResponse(`${status}: ${String(body).slice(0, 300)}`);
          let parsed;
          try {
            parsed = JSON.parse(body);
          } catch {
            return badResponse(`202 with a body that is not JSON: ${String(body).slice(0, 300)}`);
          }
          if (!Number.isInteger(parsed.accepted) || !Array.isArray(parsed.items) || parsed.items.length !== batchSize) {
            return badResponse(`202 with an unexpected body: ${String(body).slice(0, 300)}`);
          }
          stats.accepted += parsed.accepted;
          stats.duplicates += parsed.duplicates ?? 0;
        },
      },
    ],
  });
  try {
    const result = await activeRun;
    return { result, stats };
  } finally {
    activeRun = undefined;
    interrupt.signal.throwIfAborted();
  }
}

/** Throughput of failing requests is not a measurement of the endpoint: refuse to report it. */
function assertAllAccepted(label, { result, stats }) {
  const problems = [];
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  const codes = Object.entries(result.statusCodeStats ?? {}).filter(([code]) => code !== '202');
  if (codes.length > 0) {
    problems.push(`non-202 responses (${codes.map(([code, { count }]) => `${count} × ${code}`).join(', ')})`);
  }
  if (stats.bad > 0) problems.push(`${stats.bad} bad responses, e.g. ${stats.badExamples[0]}`);
  if (stats.duplicates > 0) problems.push(`${stats.duplicates} items reported as duplicates (keys must be unique)`);
  if (stats.answered === 0) problems.push('no response at all');
  if (problems.length > 0) {
    throw new BenchError(`${label}: ${problems.join('; ')}. The figures would be meaningless.`);
  }
}

/** Rows stored per batch id, for the given batch ids. */
async function storedPerBatch(db, runId, batchIds) {
  if (batchIds.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT split_part(idempotency_key, '.', 2) AS batch, COUNT(*)::int AS n
       FROM deliveries
      WHERE idempotency_key LIKE $1 AND split_part(idempotency_key, '.', 2) = ANY($2)
      GROUP BY 1`,
    [`${runId}.%`, batchIds],
  );
  return new Map(rows.map((r) => [r.batch, r.n]));
}

/**
 * Waits (bounded) until every cut-off batch is stored in full, so that nothing of this phase is
 * still being written. Returns how many cut-off batches were stored; a batch stored in part, or
 * not at all after the timeout, is reported (the batch endpoint is all-or-nothing).
 */
async function settleCutOff(db, runId, service, stats, batchSize) {
  const ids = [...stats.outstanding];
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let stored = new Map();
  while (ids.length > 0) {
    interrupt.signal.throwIfAborted();
    stored = await storedPerBatch(db, runId, ids);
    if (ids.every((id) => stored.get(id) === batchSize)) break;
    if (Date.now() >= deadline) break;
    if (!isRunning(service)) throw new BenchError(describeExit(service));
    await sleep(100, undefined, { signal: interrupt.signal });
  }
  const partial = ids.filter((id) => (stored.get(id) ?? 0) !== 0 && stored.get(id) !== batchSize);
  if (partial.length > 0) {
    throw new BenchError(
      `cut-off batches stored in part: ${partial.map((id) => `${id}=${stored.get(id)}`).join(', ')} (expected 0 or ${batchSize})`,
    );
  }
  const full = ids.filter((id) => stored.get(id) === batchSize);
  return { cutOff: ids.length, storedBatches: full.length, storedRows: full.length * batchSize };
}

function printResults(f, pass, settings) {
  const lines = [
    `batches of ${settings.batch_size} items, ${settings.connections} connections, ${f.duration_s.toFixed(2)} s measured`,
    `requests            ${String(f.requests).padStart(10)}   (${f.requests_per_s.toFixed(1)} req/s, all 202)`,
    `deliveries accepted ${String(f.accepted).padStart(10)}   (sum of "accepted" in the responses)`,
    `request latency     p50 ${f.p50_ms.toFixed(1)} ms   p99 ${f.p99_ms.toFixed(1)} ms`,
    `rows in deliveries  ${String(f.db_rows).padStart(10)}   = ${f.seed_rows} seed + ${f.warmup_accepted} warm-up accepted` +
      ` + ${f.accepted} measured accepted + ${f.cut_off_rows} from ${f.cut_off_stored} cut-off batches: agree`,
    '',
    `deliveries accepted per second = ${f.deliveries_per_s.toFixed(1)} (target >= ${TARGET_DELIVERIES_PER_S}): ${pass ? 'PASS' : 'FAIL'}`,
    JSON.stringify({
      benchmark: 'ingest',
      endpoint: `POST ${INGEST_PATH}`,
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: f,
      target_deliveries_per_s: TARGET_DELIVERIES_PER_S,
      pass,
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function stopService(service) {
  if (!service || !isRunning(service)) return;
  service.proc.kill('SIGTERM');
  if (await settlesWithin(service.exited, SERVICE_STOP_TIMEOUT_MS)) return;
  log(`${service.name} ignored SIGTERM for ${SERVICE_STOP_TIMEOUT_MS / 1000} s; killing it`);
  service.proc.kill('SIGKILL');
  await settlesWithin(service.exited, 1_000);
}

async function main() {
  if (!existsSync(SERVICE_ENTRY)) {
    throw new BenchError('dist/main.js not found: run `npm run build` first.');
  }
  const durationS = positiveInt('BENCH_DURATION_S', 15);
  const connections = positiveInt('BENCH_CONNECTIONS', 10);
  const batchSize = positiveInt('BENCH_BATCH_SIZE', 100);
  if (batchSize > MAX_BATCH) throw new BenchError(`BENCH_BATCH_SIZE must be at most ${MAX_BATCH} (got ${batchSize})`);
  const settings = {
    duration_s: durationS,
    warmup_batches_per_connection: WARMUP_ROUNDS,
    connections,
    batch_size: batchSize,
    tenants: TENANTS,
    endpoints_per_tenant: ENDPOINTS_PER_TENANT,
  };

  // Settings the caller's shell may export (e.g. from .env) would change what is measured.
  const inherited = { ...process.env };
  for (const key of [
    'DATABASE_URL',
    'AUTH_PROXY_SECRET',
    'TRUST_PROXY',
    'DB_POOL_MAX',
    'DB_CONNECT_TIMEOUT_MS',
    'DELIVERY_MAX_PAYLOAD_BYTES',
    'DELIVERY_ALLOWED_PRIVATE_CIDRS',
    'DISPATCH_CONCURRENCY',
    'DISPATCH_PER_ENDPOINT',
    'RETRY_SCHEDULE',
  ]) {
    delete inherited[key];
  }

  const runId = randomBytes(4).toString('hex');
  const dbName = `cc_bench_ingest_${runId}`;
  const admin = pgClient(ADMIN_DB_URL);
  let service;
  let db;
  let dbCreated = false;
  try {
    try {
      await admin.connect();
    } catch (err) {
      throw new BenchError(`cannot connect to PostgreSQL at ${ADMIN_DB_URL}: ${err.message}`);
    }
    log(`creating database ${dbName}`);
    await admin.query(`CREATE DATABASE ${dbName}`);
    dbCreated = true;
    const dbUrl = `postgres://postgres@${HOST}:5432/${dbName}`;

    const [port] = await freePorts(1);
    const dataDir = makeTempDir('command-center-bench-ingest-');
    const nodeFlags = startScriptNodeFlags();
    log(`starting command-center on ${HOST}:${port}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ''}`);
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
        MAX_BODY_BYTES: '10485760',
        SHUTDOWN_TIMEOUT_MS: '1000',
      },
      { nodeFlags },
    );
    await waitForOk(service, `http://${HOST}:${port}/healthz`, HEADERS);
    await waitForOk(service, `http://${HOST}:${port}/readyz`, HEADERS);
    const url = `http://${HOST}:${port}`;

    db = pgClient(dbUrl);
    await db.connect();

    // Seed (not measured, no lock): one delivery to each of the 300 endpoints, so that every
    // endpoint row exists before concurrent batches arrive; the phases then only add deliveries.
    const seedSize = TENANTS * ENDPOINTS_PER_TENANT;
    const seed = await postJson(`${url}${INGEST_PATH}`, makeBatchBody(runId, 's0', seedSize, 0));
    interrupt.signal.throwIfAborted();
    if (seed.status !== 202 || JSON.parse(seed.body).accepted !== seedSize) {
      throw new BenchError(`seed batch: ${seed.status} ${seed.body.slice(0, 500)}`);
    }

    let warmup;
    let measured;
    let warmupSettle;
    await acquireLock();
    try {
      log(`warm-up: ${WARMUP_ROUNDS} batches on each of ${connections} connections, batches of ${batchSize}`);
      const amount = WARMUP_ROUNDS * connections;
      warmup = await loadPhase({ url, runId, phase: 'w', amount, connections, batchSize });
      assertAllAccepted('warm-up', warmup);
      log(`warm-up: ${warmup.stats.accepted} deliveries accepted in ${warmup.result.duration} s`);
      // Let the warm-up's cut-off batches commit, so they do not load the measured phase.
      warmupSettle = await settleCutOff(db, runId, service, warmup.stats, batchSize);
      log(`measuring ${durationS} s, ${connections} connections, batches of ${batchSize}`);
      measured = await loadPhase({ url, runId, phase: 'm', durationS, connections, batchSize });
    } finally {
      releaseLock();
    }
    assertAllAccepted('measured run', measured);
    if (!isRunning(service)) throw new BenchError(describeExit(service));
    const measuredSettle = await settleCutOff(db, runId, service, measured.stats, batchSize);

    const { rows } = await db.query('SELECT COUNT(*)::int AS n FROM deliveries');
    const dbRows = rows[0].n;
    const cutOffRows = warmupSettle.storedRows + measuredSettle.storedRows;
    const expected = seedSize + warmup.stats.accepted + measured.stats.accepted + cutOffRows;
    if (dbRows !== expected) {
      throw new BenchError(
        `SELECT COUNT(*) FROM deliveries = ${dbRows}, but the responses accepted ${expected - cutOffRows} ` +
          `(seed ${seedSize} + warm-up ${warmup.stats.accepted} + measured ${measured.stats.accepted}) ` +
          `and ${cutOffRows} rows come from batches cut off at the end of a phase: they disagree.`,
      );
    }

    const { result, stats } = measured;
    const figures = {
      duration_s: result.duration,
      requests: stats.answered,
      requests_per_s: stats.answered / result.duration,
      accepted: stats.accepted,
      deliveries_per_s: stats.accepted / result.duration,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      seed_rows: seedSize,
      warmup_accepted: warmup.stats.accepted,
      cut_off_batches: warmupSettle.cutOff + measuredSettle.cutOff,
      cut_off_stored: warmupSettle.storedBatches + measuredSettle.storedBatches,
      cut_off_rows: cutOffRows,
      db_rows: dbRows,
    };
    const pass = figures.deliveries_per_s >= TARGET_DELIVERIES_PER_S;
    printResults(figures, pass, settings);
    return pass ? 0 : 1;
  } finally {
    releaseLock();
    activeRun?.stop();
    await db?.end().catch(() => undefined);
    // The database cannot be dropped while the service holds connections to it.
    await stopService(service);
    if (dbCreated) {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        log(`dropped database ${dbName}`);
      } catch (err) {
        log(`could not drop database ${dbName}: ${err.message}`);
      }
    }
    await admin.end().catch(() => undefined);
  }
}

await runBench(main, {
  onStop: () => {
    activeRun?.stop();
    releaseLock();
  },
});
