// Soak benchmark: the built service on a fresh PostgreSQL database under a modest, steady mix of
// requests for 5 minutes (history reads, single and batch ingest with some idempotency keys,
// replays of failed deliveries, operator annotations) while 500 event streams stay open (in a
// separate process) and a webhook receiver in another process fails 20 % of its requests.
// Judges 5xx, p99 latency per request type, peak RSS and RSS growth over the last half, and,
// after the queue has drained, that every accepted delivery is accounted for. See README.md.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL, URLSearchParams } from 'node:url';
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
import { closeClient, connect, createDatabase, dropCreatedDatabase, query } from '../support/postgres.js';

const RECEIVER_ENTRY = fileURLToPath(new URL('./receiver.js', import.meta.url));
// The SSE clients of bench/sse, reused as they are: they hold the streams, parse them and
// record which of this run's annotations each stream received.
const CLIENTS_ENTRY = fileURLToPath(new URL('../sse/clients.js', import.meta.url));
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const OPERATOR = { 'x-user-roles': 'operator' };
const INGEST = { 'x-user-roles': 'ingest' };

const TARGET_P99_MS = 200;
const TARGET_RSS_MB = 256;
/** Leak rule: median RSS of the last quarter at most this much above that of the third quarter. */
const TARGET_GROWTH_PCT = 5;
/** The receiver's failure share during the load (the drain phase sets it to 0). */
const FAIL_PERCENT = 20;
const RECEIVER_DELAY_MS = 10;

/**
 * The request mix, one pattern of 20 requests repeated (shuffled once): 60 % history reads,
 * 25 % single ingest, 5 % batch ingest, 5 % replays, 5 % annotations.
 */
const MIX = { history: 12, ingest: 5, batch: 1, replay: 1, annotation: 1 };
const TYPES = ['history', 'ingest', 'batch', 'replay', 'annotation'];
const TYPE_LABELS = {
  history: 'GET history',
  ingest: 'POST deliveries',
  batch: 'POST batch',
  replay: 'POST replay',
  annotation: 'POST annotation',
  all: 'all',
};
const TENANTS = ['soak-acme', 'soak-globex', 'soak-initech', 'soak-umbrella', 'soak-hooli'];
const ENDPOINTS_PER_TENANT = 4;
const EVENT_TYPES = ['invoice.paid', 'order.created', 'user.updated', 'bench.soak'];
const BATCH_MIN = 5;
const BATCH_MAX = 15;
/** Shares of single ingests that carry a new idempotency key, or repeat one already accepted. */
const NEW_KEY_SHARE = 0.3;
const REPEAT_KEY_SHARE = 0.1;
const BATCH_KEY_SHARE = 0.2;
const BATCH_REPEAT_SHARE = 0.1;
/** Ids recently accepted: what a replay targets when no failed delivery is known. */
const RECENT_IDS = 2_000;

const REQUEST_TIMEOUT_MS = 10_000;
/** More requests than this in flight and the next one is not sent (counted as failed). */
const MAX_IN_FLIGHT = 200;
const WINDOW_S = 10;
const RSS_SERIES_MS = 1_000;
const MONITOR_MS = 5_000;
const SSE_BATCH = 100;
/** USER_HZ: the unit of the CPU times in /proc/<pid>/stat (100 on Linux, whatever CONFIG_HZ). */
const CLOCK_TICKS = 100;
const SSE_COLLECT_MS = 10_000;
/** After the queue is empty, how long to watch for late attempts (and duplicates). */
const SETTLE_MS = 2_000;

// Service settings a caller's shell may export (e.g. from .env): removed, so the service's
// defaults apply except where this benchmark sets a value. NODE_OPTIONS could change the heap limit.
const SERVICE_SETTINGS =
  /^(PORT|HOST|LOG_LEVEL|DATA_DIR|DATABASE_URL|DB_\w+|AUTH_PROXY_SECRET|TRUST_PROXY|RATE_LIMIT_PER_MINUTE|MAX_BODY_BYTES|SHUTDOWN_TIMEOUT_MS|EVENT_RETENTION_\w+|DELIVERY_\w+|DISPATCH\w*|AUTOHEAL_\w+|RETRY_SCHEDULE|ANOMALY_\w+|TENANT_\w+|APDEX_\w+|METRICS_\w+|SSE_\w+|NODE_OPTIONS)$/;

/** Wall-clock milliseconds with sub-millisecond resolution; clients.js reads the clock the same way. */
const wallClock = () => performance.timeOrigin + performance.now();
const round = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? null : Number(v.toFixed(digits)));
const toMb = (kb) => kb / 1024;

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least-squares slope of y over x. */
function slope(points) {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** A small seeded PRNG (mulberry32), so a seed gives the same mix and choices. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Children.

// ---------------------------------------------------------------------------------------------
// Requests.

/**
 * One request on a connection of its own (a pooled keep-alive socket can be closed by the
 * server's keep-alive timeout just as it is reused); never rejects. `ms` is from just before the
 * request is created until the end of the answer.
 */
function request(port, method, urlPath, headers, payload) {
  return new Promise((resolve) => {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const started = performance.now();
    const done = (status, text) => resolve({ status, body: text, ms: performance.now() - started });
    const req = http.request(
      {
        host: HOST,
        port,
        path: urlPath,
        method,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done(res.statusCode, text));
        res.on('error', (err) => done(0, err.message));
        res.on('close', () => res.complete || done(0, 'connection closed before the answer ended'));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => done(0, err.message));
    req.end(body);
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** ok | conflict (an expected 409) | server_error (5xx) | failure (no answer, any other status). */
function classify(res, okStatuses, conflictOk = false) {
  if (okStatuses.includes(res.status)) return 'ok';
  if (res.status >= 500) return 'server_error';
  if (conflictOk && res.status === 409) return 'conflict';
  return 'failure';
}

// ---------------------------------------------------------------------------------------------
// The load: what each request type sends and what it learns from the answer.

function newState(runId, seed, endpointUrls) {
  return {
    runId,
    rng: prng(seed),
    endpointUrls, // by tenant
    seq: 0,
    accepted: new Map(), // delivery id → tenant, from every ingest 2xx
    acceptedBy: { ingest: 0, batch: 0 },
    recent: [],
    keys: [], // { tenant, key, id } of accepted deliveries that carried a key
    keySeq: 0,
    idempotency: { repeats: 0, matched: 0, mismatches: 0, examples: [] },
    failedPool: [], // failed deliveries seen in history, not replayed by this runner yet
    failedKnown: new Set(),
    replayed: new Set(),
    cursors: new Map(), // tenant → next_cursor of its last page
    annotations: { tag: `${runId}-soak`, next: 0, capacity: 0, published: [] },
    conflicts: {}, // replay 409 detail → count
    replays: { failed: { sent: 0, accepted: 0 }, recent: { sent: 0, accepted: 0 } },
  };
}

const pick = (st, list) => list[Math.floor(st.rng() * list.length)];

function deliveryItem(st, tenant, key) {
  const seq = ++st.seq;
  const item = {
    tenant_id: tenant,
    endpoint_url: pick(st, st.endpointUrls.get(tenant)),
    event_type: pick(st, EVENT_TYPES),
    payload: { run: st.runId, seq, amount: Math.round(st.rng() * 100_000) / 100, note: 'soak benchmark' },
  };
  if (key) item.idempotency_key = key;
  return item;
}

function accept(st, id, tenant, by) {
  if (st.accepted.has(id)) return false;
  st.accepted.set(id, tenant);
  st.acceptedBy[by]++;
  st.recent.push(id);
  if (st.recent.length > RECENT_IDS) st.recent.shift();
  return true;
}

function idempotencyResult(st, ok, what) {
  st.idempotency.repeats++;
  if (ok) st.idempotency.matched++;
  else {
    st.idempotency.mismatches++;
    if (st.idempotency.examples.length < 5) st.idempotency.examples.push(what);
  }
}

async function opIngest(st, port) {
  let tenant = pick(st, TENANTS);
  let key;
  let repeat;
  const r = st.rng();
  if (r < REPEAT_KEY_SHARE && st.keys.length > 0) {
    repeat = pick(st, st.keys);
    tenant = repeat.tenant;
    key = repeat.key;
  } else if (r < REPEAT_KEY_SHARE + NEW_KEY_SHARE) key = `soak-${st.runId}-${++st.keySeq}`;
  const res = await request(port, 'POST', '/alerts/deliveries', INGEST, deliveryItem(st, tenant, key));
  const outcome = classify(res, [200, 202]);
  const variant = repeat ? 'repeated key' : key ? 'new key' : 'no key';
  if (outcome !== 'ok') return { variant, res, outcome };
  const view = parseJson(res.body);
  if (typeof view?.id !== 'string') return { variant, res, outcome: 'failure', note: 'answer without an id' };
  if (repeat) {
    idempotencyResult(st, res.status === 200 && view.id === repeat.id, `key ${key}: ${res.status} ${view.id}`);
  } else if (res.status === 200 || !accept(st, view.id, tenant, 'ingest')) {
    idempotencyResult(st, false, `new delivery answered ${res.status} with id ${view.id}`);
  } else if (key) st.keys.push({ tenant, key, id: view.id });
  return { variant, res, outcome };
}

async function opBatch(st, port) {
  const size = BATCH_MIN + Math.floor(st.rng() * (BATCH_MAX - BATCH_MIN + 1));
  const items = [];
  const keyed = new Map(); // index → key (new keys)
  let repeat;
  for (let i = 0; i < size; i++) {
    const tenant = pick(st, TENANTS);
    const key = st.rng() < BATCH_KEY_SHARE ? `soak-${st.runId}-${++st.keySeq}` : undefined;
    if (key) keyed.set(i, key);
    items.push(deliveryItem(st, tenant, key));
  }
  if (st.rng() < BATCH_REPEAT_SHARE && st.keys.length > 0) {
    repeat = pick(st, st.keys);
    items[0].tenant_id = repeat.tenant;
    items[0].endpoint_url = pick(st, st.endpointUrls.get(repeat.tenant));
    items[0].idempotency_key = repeat.key;
    keyed.delete(0);
  }
  const res = await request(port, 'POST', '/alerts/deliveries/batch', INGEST, { items });
  const variant = `${repeat ? 'with' : 'without'} a repeated key`;
  const outcome = classify(res, [202]);
  if (outcome !== 'ok') return { variant, res, outcome };
  const reply = parseJson(res.body);
  if (!Array.isArray(reply?.items) || reply.items.length !== size) {
    return { variant, res, outcome: 'failure', note: `answer without ${size} items` };
  }
  for (const item of reply.items) {
    const tenant = items[item.index]?.tenant_id;
    if (repeat && item.index === 0) {
      idempotencyResult(st, item.duplicate === true && item.id === repeat.id, `batch key ${repeat.key}: ${item.id}`);
    } else if (item.duplicate || !accept(st, item.id, tenant, 'batch')) {
      idempotencyResult(st, false, `batch item ${item.index} answered duplicate=${item.duplicate} id ${item.id}`);
    } else if (keyed.has(item.index)) st.keys.push({ tenant, key: keyed.get(item.index), id: item.id });
  }
  return { variant, res, outcome };
}

const HISTORY_VARIANTS = [
  ['tenant', 25],
  ['tenant, next page (cursor)', 15],
  ['status=failed', 15],
  ['tenant, status=success,failed', 10],
  ['endpoint_url', 10],
  ['event_type, start_time (last minute)', 10],
  ['status=success, skip=200', 10],
  ['status=pending', 5],
];
const HISTORY_WEIGHT = HISTORY_VARIANTS.reduce((s, [, w]) => s + w, 0);

async function opHistory(st, port) {
  let r = st.rng() * HISTORY_WEIGHT;
  let variant = HISTORY_VARIANTS.find(([, w]) => (r -= w) < 0)[0];
  const tenant = pick(st, TENANTS);
  const params = new URLSearchParams();
  if (variant === 'tenant, next page (cursor)' && !st.cursors.has(tenant)) variant = 'tenant';
  switch (variant) {
    case 'tenant':
      params.set('tenant_id', tenant);
      params.set('limit', '50');
      break;
    case 'tenant, next page (cursor)':
      params.set('tenant_id', tenant);
      params.set('limit', '50');
      params.set('cursor', st.cursors.get(tenant));
      break;
    case 'status=failed':
      params.set('status', 'failed');
      params.set('limit', '100');
      break;
    case 'tenant, status=success,failed':
      params.set('tenant_id', tenant);
      params.set('status', 'success,failed');
      params.set('limit', '20');
      break;
    case 'endpoint_url':
      params.set('endpoint_url', pick(st, st.endpointUrls.get(tenant)));
      params.set('limit', '50');
      break;
    case 'event_type, start_time (last minute)':
      params.set('event_type', pick(st, EVENT_TYPES));
      params.set('start_time', new Date(Date.now() - 60_000).toISOString());
      params.set('limit', '50');
      break;
    case 'status=success, skip=200':
      params.set('status', 'success');
      params.set('skip', '200');
      params.set('limit', '50');
      break;
    default:
      params.set('status', 'pending');
      params.set('limit', '20');
  }
  const res = await request(port, 'GET', `/alerts/deliveries/history?${params}`, OPERATOR);
  const outcome = classify(res, [200]);
  if (outcome !== 'ok') return { variant, res, outcome };
  const page = parseJson(res.body);
  if (!Array.isArray(page?.items)) return { variant, res, outcome: 'failure', note: 'answer without items' };
  if (variant === 'tenant, next page (cursor)') {
    if (page.next_cursor) st.cursors.set(tenant, page.next_cursor);
    else st.cursors.delete(tenant);
  } else if (variant === 'tenant' && page.next_cursor) st.cursors.set(tenant, page.next_cursor);
  if (variant === 'status=failed') {
    for (const item of page.items) {
      if (item.status !== 'failed' || st.failedKnown.has(item.id) || st.replayed.has(item.id)) continue;
      st.failedKnown.add(item.id);
      st.failedPool.push(item.id);
    }
  }
  return { variant, res, outcome };
}

async function opReplay(st, port) {
  // A failed delivery seen in the history first; otherwise a recent one (pending or already
  // delivered), which is refused with a 409.
  const fromPool = st.failedPool.length > 0;
  const id = fromPool ? st.failedPool.shift() : pick(st, st.recent);
  const variant = fromPool ? 'failed delivery (from the history)' : 'recent delivery';
  st.replayed.add(id);
  const res = await request(port, 'POST', `/alerts/deliveries/${encodeURIComponent(id)}/replay`, OPERATOR);
  const outcome = classify(res, [202], true);
  const tally = st.replays[fromPool ? 'failed' : 'recent'];
  tally.sent++;
  if (res.status === 202) tally.accepted++;
  if (outcome === 'conflict') {
    const detail = parseJson(res.body)?.detail ?? res.body.slice(0, 100);
    st.conflicts[detail] = (st.conflicts[detail] ?? 0) + 1;
  }
  return { variant, res, outcome };
}

async function opAnnotation(st, port) {
  const a = st.annotations;
  const seq = a.next++;
  const message = `bench:${a.tag}:${seq}:${wallClock().toFixed(3)}`;
  const res = await request(port, 'POST', '/events/annotations', OPERATOR, { message });
  const outcome = classify(res, [201]);
  if (outcome === 'ok') a.published.push(seq);
  return { variant: 'annotation', res, outcome };
}

const OPS = { history: opHistory, ingest: opIngest, batch: opBatch, replay: opReplay, annotation: opAnnotation };

// ---------------------------------------------------------------------------------------------
// Figures.

function newCounter() {
  return { requests: 0, ok: 0, conflicts: 0, server_errors: 0, failures: 0, latencies: [], statuses: {} };
}

function newFigures() {
  const byType = Object.fromEntries([...TYPES, 'all'].map((t) => [t, newCounter()]));
  return {
    byType,
    byVariant: new Map(), // `${type}: ${variant}` → counter (latencies of the measured period)
    windows: [], // per WINDOW_S of the load (warm-up included): counters
    quarters: [newCounter(), newCounter(), newCounter(), newCounter()],
    failureKinds: {}, // kind → { count, example }
    serverErrorKinds: {},
    notSent: 0,
    maxLateMs: 0,
    lateOver100: 0,
  };
}

function count(counter, outcome, res, measured) {
  counter.requests++;
  counter[{ ok: 'ok', conflict: 'conflicts', server_error: 'server_errors', failure: 'failures' }[outcome]]++;
  counter.statuses[res.status || 'none'] = (counter.statuses[res.status || 'none'] ?? 0) + 1;
  if (measured && res.status !== 0) counter.latencies.push(res.ms);
}

function record(fig, ctx, type, due, result) {
  const { res, outcome, variant, note } = result;
  const measured = due >= ctx.measuredStart;
  count(fig.byType[type], outcome, res, measured);
  count(fig.byType.all, outcome, res, measured);
  const key = `${type}: ${variant}`;
  if (!fig.byVariant.has(key)) fig.byVariant.set(key, newCounter());
  count(fig.byVariant.get(key), outcome, res, measured);
  const w = Math.floor((due - ctx.loadStart) / (WINDOW_S * 1000));
  fig.windows[w] ??= newCounter();
  count(fig.windows[w], outcome, res, true);
  if (measured) {
    const q = Math.min(3, Math.floor((4 * (due - ctx.measuredStart)) / (ctx.measuredEnd - ctx.measuredStart)));
    count(fig.quarters[q], outcome, res, true);
  }
  if (outcome !== 'server_error' && outcome !== 'failure') return;
  // Grouped by kind (status and detail, or what went wrong), with the first example of each.
  let kind;
  if (outcome === 'server_error') kind = `${res.status} ${parseJson(res.body)?.detail ?? res.body.slice(0, 80)}`;
  else if (res.status !== 0) kind = `${res.status}${note ? `: ${note}` : ` ${res.body.slice(0, 80)}`}`;
  else if (variant === 'not sent') kind = `not sent (${MAX_IN_FLIGHT} requests in flight)`;
  else kind = note ?? res.body.slice(0, 80);
  const kinds = outcome === 'server_error' ? fig.serverErrorKinds : fig.failureKinds;
  kinds[kind] ??= { count: 0, example: `${TYPE_LABELS[type]} (${variant}): ${res.body.slice(0, 200)}` };
  kinds[kind].count++;
}

function latencySummary(counter) {
  const sorted = [...counter.latencies].sort((a, b) => a - b);
  return {
    requests: counter.requests,
    ok: counter.ok,
    conflicts: counter.conflicts,
    server_errors: counter.server_errors,
    failures: counter.failures,
    measured: sorted.length,
    p50_ms: round(percentile(sorted, 0.5), 2),
    p90_ms: round(percentile(sorted, 0.9), 2),
    p99_ms: round(percentile(sorted, 0.99), 2),
    max_ms: round(sorted.at(-1), 2),
    statuses: counter.statuses,
  };
}

// ---------------------------------------------------------------------------------------------
// Watching the service: RSS every second, the store, the receiver and /metrics every 5 s.

function readRssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system, all threads) of `pid` so far; Linux counts in 1/100 s. */
function readCpuS(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Sum of a metric's samples whose labels match `labelFilter` (a function of the label text). */
function metricSum(text, name, labelFilter = () => true) {
  let sum = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labels = '';
    // The last brace: route templates in the labels contain braces of their own ({id}).
    if (rest.startsWith('{')) labels = rest.slice(1, rest.lastIndexOf('}'));
    else if (!rest.startsWith(' ')) continue;
    if (!labelFilter(labels)) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function statusCounts(db) {
  const { rows } = await query(db, `SELECT status, COUNT(*)::int AS n FROM deliveries GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

function startMonitor(ctx) {
  const { service, db, receiver, port } = ctx;
  const mon = { rss: [], cpu: [], heap: [], store: [], receiver: null, sseOpen: null, errors: 0, stopped: false };
  const sample = () => {
    const t = performance.now();
    const kb = readRssKb(service.proc.pid);
    if (kb !== undefined) mon.rss.push({ t, kb });
    mon.cpu.push({
      t,
      service: readCpuS(service.proc.pid),
      clients: readCpuS(ctx.clients.proc.pid),
      receiver: readCpuS(receiver.proc.pid),
      runner: ((usage) => (usage.user + usage.system) / 1e6)(process.cpuUsage()),
    });
  };
  sample();
  const rssTimer = setInterval(sample, RSS_SERIES_MS);
  let lastLoggedWindow = -1;
  const loop = (async () => {
    while (!mon.stopped) {
      try {
        await sleep(MONITOR_MS, undefined, { signal: interrupt.signal });
      } catch {
        return;
      }
      if (mon.stopped) return;
      const t = performance.now();
      try {
        const counts = await statusCounts(db);
        mon.store.push({ t, ...counts });
        mon.pending = counts.pending ?? 0;
        mon.receiver = await rpc(receiver, 'stats');
        const res = await httpGet(`http://${HOST}:${port}/metrics`, OPERATOR);
        if (res.status === 200) {
          const heap = metricSum(res.body, 'nodejs_heap_size_used_bytes');
          if (heap !== null) mon.heap.push({ t, bytes: heap });
          mon.sseOpen = metricSum(res.body, 'command_center_sse_clients');
        }
      } catch (err) {
        if (interrupt.signal.aborted) return;
        mon.errors++;
        if (mon.errors <= 3) log(`  monitor: ${err.message}`);
      }
      // One progress line per finished window of the load.
      const w = Math.floor((t - ctx.loadStart) / (WINDOW_S * 1000)) - 1;
      if (ctx.loadStart !== undefined && w > lastLoggedWindow && ctx.figures.windows[w]) {
        lastLoggedWindow = w;
        const s = latencySummary(ctx.figures.windows[w]);
        const loadS = ctx.settings.warmupS + ctx.settings.durationS;
        const spanS = Math.max(1, Math.min(WINDOW_S, loadS - w * WINDOW_S));
        const rssKb = mon.rss.at(-1)?.kb;
        const cpu = cpuBetween(mon, t - WINDOW_S * 1000, t).service_pct;
        const phase = (w + 1) * WINDOW_S <= ctx.settings.warmupS ? 'warm-up' : w * WINDOW_S >= loadS ? 'drain' : 'load';
        log(
          `  ${String((w + 1) * WINDOW_S).padStart(4)} s (${phase}): ${(s.requests / spanS).toFixed(1)} req/s, ` +
            `p99 ${s.p99_ms ?? '-'} ms, 5xx ${s.server_errors}, failed ${s.failures}, 409 ${s.conflicts}; ` +
            `service CPU ${cpu ?? '-'} %, RSS ${rssKb ? toMb(rssKb).toFixed(0) : '-'} MB, heap ${mon.heap.length ? (mon.heap.at(-1).bytes / 2 ** 20).toFixed(0) : '-'} MB; ` +
            `pending ${mon.pending ?? '-'}; receiver ${mon.receiver?.requests ?? '-'} requests; SSE open ${mon.sseOpen ?? '-'}`,
        );
      }
    }
  })();
  mon.stop = async () => {
    mon.stopped = true;
    clearInterval(rssTimer);
    await loop;
  };
  return mon;
}

// ---------------------------------------------------------------------------------------------
// The phases.

/** Builds the pattern of 20 request types (shuffled once with the seed). */
function mixPattern(rng) {
  const pattern = Object.entries(MIX).flatMap(([type, n]) => Array(n).fill(type));
  for (let i = pattern.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pattern[i], pattern[j]] = [pattern[j], pattern[i]];
  }
  return pattern;
}

function checkAlive(ctx) {
  for (const child of [ctx.service, ctx.receiver, ctx.clients]) {
    if (!isRunning(child)) throw new BenchError(describeExit(child));
  }
}

/** The open-loop schedule: request n is due at start + n / rate, whatever the earlier answers. */
async function runLoad(ctx) {
  const { st, figures: fig, settings } = ctx;
  const intervalMs = 1000 / settings.rate;
  const total = Math.round(settings.rate * (settings.warmupS + settings.durationS));
  const pattern = mixPattern(st.rng);
  const inFlight = new Set();
  const start = performance.now();
  let measuring = false;
  ctx.loadStart = start;
  ctx.measuredStart = start + settings.warmupS * 1000;
  ctx.measuredEnd = ctx.measuredStart + settings.durationS * 1000;
  log(
    `load: ${settings.rate} requests/s, ${settings.warmupS} s warm-up then ${settings.durationS} s measured (${total} requests)`,
  );
  for (let n = 0; n < total; n++) {
    const due = start + n * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: interrupt.signal });
    interrupt.signal.throwIfAborted();
    if (n % settings.rate === 0) checkAlive(ctx);
    if (!measuring && due >= ctx.measuredStart) {
      measuring = true;
      log('  warm-up over: measuring');
    }
    const late = performance.now() - due;
    fig.maxLateMs = Math.max(fig.maxLateMs, late);
    if (late > 100) fig.lateOver100++;
    let type = pattern[n % pattern.length];
    if (type === 'replay' && st.recent.length === 0 && st.failedPool.length === 0) type = 'history';
    if (type === 'annotation' && st.annotations.next >= st.annotations.capacity) type = 'history';
    if (inFlight.size >= MAX_IN_FLIGHT) {
      fig.notSent++;
      record(fig, ctx, type, due, {
        variant: 'not sent',
        res: { status: 0, body: `not sent: ${inFlight.size} requests in flight`, ms: 0 },
        outcome: 'failure',
      });
      continue;
    }
    const p = OPS[type](st, ctx.port).then(
      (result) => record(fig, ctx, type, due, result),
      (err) =>
        record(fig, ctx, type, due, {
          variant: 'runner error',
          res: { status: 0, body: String(err?.stack ?? err), ms: 0 },
          outcome: 'failure',
        }),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  log(`  load done; waiting for ${inFlight.size} requests in flight`);
  await Promise.all(inFlight);
  ctx.loadEnd = performance.now();
}

/** Receiver answers 200 from now on; waits until nothing is pending, and stays so for SETTLE_MS. */
async function drain(ctx) {
  const { db, receiver, settings } = ctx;
  await rpc(receiver, 'set', { failPercent: 0 });
  const started = performance.now();
  const deadline = started + settings.drainTimeoutS * 1000;
  log(`drain: receiver answers 200 to everything; waiting up to ${settings.drainTimeoutS} s for an empty queue`);
  let counts = await statusCounts(db);
  let lastLog = started;
  while (performance.now() < deadline) {
    checkAlive(ctx);
    if ((counts.pending ?? 0) === 0) {
      await sleep(SETTLE_MS, undefined, { signal: interrupt.signal });
      counts = await statusCounts(db);
      if ((counts.pending ?? 0) === 0) break;
    }
    if (performance.now() - lastLog >= 5_000) {
      log(`  ${counts.pending} pending`);
      lastLog = performance.now();
    }
    await sleep(250, undefined, { signal: interrupt.signal });
    counts = await statusCounts(db);
  }
  const empty = (counts.pending ?? 0) === 0;
  const seconds = (performance.now() - started) / 1000;
  log(empty ? `  queue empty after ${seconds.toFixed(1)} s` : `  gave up after ${seconds.toFixed(0)} s`);
  return { empty, seconds, counts };
}

/** Every accepted delivery against the store and the receiver. */
async function account(ctx) {
  const { db, receiver, st } = ctx;
  const report = await rpc(receiver, 'report');
  const { rows } = await query(db, 'SELECT id, status FROM deliveries');
  const store = new Map(rows.map((r) => [r.id, r.status]));
  const received = new Set(report.ok_ids);
  const acc = {
    accepted: st.accepted.size,
    accepted_single: st.acceptedBy.ingest,
    accepted_in_batches: st.acceptedBy.batch,
    missing_in_store: 0,
    missing_examples: [],
    by_status: { success: 0, failed: 0, pending: 0, other: 0 },
    in_store: store.size,
    in_store_not_accepted: 0,
    store_success: 0,
    success_not_received: 0,
    success_not_received_examples: [],
    failed_but_received_200: 0,
    received_not_in_store: 0,
  };
  for (const id of st.accepted.keys()) {
    const status = store.get(id);
    if (status === undefined) {
      acc.missing_in_store++;
      if (acc.missing_examples.length < 5) acc.missing_examples.push(id);
    } else acc.by_status[status in acc.by_status ? status : 'other']++;
  }
  for (const [id, status] of store) {
    if (!st.accepted.has(id)) acc.in_store_not_accepted++;
    if (status === 'success') {
      acc.store_success++;
      if (!received.has(id)) {
        acc.success_not_received++;
        if (acc.success_not_received_examples.length < 5) acc.success_not_received_examples.push(id);
      }
    } else if (status === 'failed' && received.has(id)) acc.failed_but_received_200++;
  }
  for (const id of received) if (!store.has(id)) acc.received_not_in_store++;
  const { ok_ids: _ids, duplicates, ...receiverStats } = report;
  return { acc, receiver: { ...receiverStats, duplicate_examples: duplicates } };
}

/** CPU use (% of one core) of each process between two times, from the 1 s samples. */
function cpuBetween(mon, from, to) {
  const first = mon.cpu.find((c) => c.t >= from);
  const last = mon.cpu.findLast((c) => c.t <= to);
  const out = {};
  for (const who of ['service', 'clients', 'receiver', 'runner']) {
    const ok = first && last && last.t > first.t && first[who] !== undefined && last[who] !== undefined;
    out[`${who}_pct`] = ok ? round(((last[who] - first[who]) / ((last.t - first.t) / 1000)) * 100) : null;
  }
  return out;
}

function cpuFigures(ctx, mon) {
  const { measuredStart, measuredEnd } = ctx;
  const span = measuredEnd - measuredStart;
  return {
    measured: cpuBetween(mon, measuredStart, measuredEnd),
    quarters: [0, 1, 2, 3].map(
      (q) => cpuBetween(mon, measuredStart + (q * span) / 4, measuredStart + ((q + 1) * span) / 4).service_pct,
    ),
  };
}

function rssFigures(ctx, mon, peakStats) {
  const { measuredStart, measuredEnd } = ctx;
  const span = measuredEnd - measuredStart;
  const inQuarter = (series, q) =>
    series.filter((s) => s.t >= measuredStart + (q * span) / 4 && s.t < measuredStart + ((q + 1) * span) / 4);
  const quarters = [0, 1, 2, 3].map((q) => {
    const samples = inQuarter(mon.rss, q);
    const heap = inQuarter(mon.heap, q);
    return {
      samples: samples.length,
      median_mb: round(toMb(median(samples.map((s) => s.kb)) ?? NaN)),
      max_mb: round(samples.length ? toMb(Math.max(...samples.map((s) => s.kb))) : NaN),
      heap_used_median_mb: round((median(heap.map((h) => h.bytes)) ?? NaN) / 2 ** 20),
    };
  });
  const lastHalf = mon.rss.filter((s) => s.t >= measuredStart + span / 2 && s.t < measuredEnd);
  const perMs = slope(lastHalf.map((s) => ({ x: s.t, y: toMb(s.kb) })));
  const q3 = quarters[2].median_mb;
  const q4 = quarters[3].median_mb;
  return {
    start_mb: round(toMb(peakStats.startKb ?? NaN)),
    peak_mb: round(toMb(peakStats.peakKb)),
    end_mb: round(toMb(peakStats.lastKb)),
    peak_samples: peakStats.samples,
    quarters,
    growth_mb: q3 === null || q4 === null ? null : round(q4 - q3, 2),
    growth_pct: q3 === null || q4 === null ? null : round(((q4 - q3) / q3) * 100, 2),
    last_half_slope_mb_per_min: perMs === null ? null : round(perMs * 60_000, 2),
    last_half_samples: lastHalf.length,
  };
}

// ---------------------------------------------------------------------------------------------

function judge(r) {
  const checks = [];
  const ratio = (v, target) => (v / target).toFixed(3);
  const serverCount = r.metrics_5xx;
  checks.push({
    check: '5xx responses',
    value: `${r.types.all.server_errors} seen by the load, ${serverCount === null ? 'GET /metrics not read at the end' : `${serverCount} counted by the service (/metrics)`}`,
    target: '0',
    pass: r.types.all.server_errors === 0 && (serverCount ?? 0) === 0,
  });
  checks.push({
    check: 'other failed requests',
    value: `${r.types.all.failures} (unexpected status, no answer within ${REQUEST_TIMEOUT_MS / 1000} s, or not sent)`,
    target: '0',
    pass: r.types.all.failures === 0,
  });
  for (const type of [...TYPES, 'all']) {
    const t = r.types[type];
    checks.push({
      check: `p99 latency, ${TYPE_LABELS[type]}`,
      value:
        t.p99_ms === null
          ? 'no requests measured'
          : `${t.p99_ms.toFixed(1)} ms (p99 / ${TARGET_P99_MS} ms = ${ratio(t.p99_ms, TARGET_P99_MS)}; ${t.measured} requests)`,
      target: `<= ${TARGET_P99_MS} ms`,
      pass: t.p99_ms !== null && t.p99_ms <= TARGET_P99_MS,
    });
  }
  checks.push({
    check: 'peak RSS',
    value: `${r.rss.peak_mb.toFixed(1)} MB (peak / ${TARGET_RSS_MB} MB = ${ratio(r.rss.peak_mb, TARGET_RSS_MB)})`,
    target: `<= ${TARGET_RSS_MB} MB`,
    pass: r.rss.peak_samples > 0 && r.rss.peak_mb <= TARGET_RSS_MB,
  });
  const [, , q3, q4] = r.rss.quarters;
  const enough = q3.samples >= 5 && q4.samples >= 5 && r.rss.growth_pct !== null;
  checks.push({
    check: 'RSS growth, last quarter vs third quarter (medians)',
    value: enough
      ? `${q4.median_mb.toFixed(1)} - ${q3.median_mb.toFixed(1)} MB = ${r.rss.growth_mb >= 0 ? '+' : ''}${r.rss.growth_mb.toFixed(1)} MB = ${r.rss.growth_pct >= 0 ? '+' : ''}${r.rss.growth_pct.toFixed(2)} % (slope over the last half ${r.rss.last_half_slope_mb_per_min} MB/min)`
      : `too few samples (${q3.samples}, ${q4.samples})`,
    target: `< ${TARGET_GROWTH_PCT} %`,
    pass: enough && r.rss.growth_pct < TARGET_GROWTH_PCT,
  });
  const a = r.deliveries;
  checks.push({
    check: 'accepted deliveries accounted for',
    value:
      `${a.accepted} accepted: ${a.accepted - a.missing_in_store} in the store (${a.by_status.success} success, ` +
      `${a.by_status.failed} failed, ${a.by_status.pending} pending${a.by_status.other ? `, ${a.by_status.other} other` : ''}), ` +
      `${a.missing_in_store} missing; ${a.store_success - a.success_not_received}/${a.store_success} successes received, ` +
      `${r.receiver.duplicate_ids} delivered twice (reported)`,
    target: 'all in the store, none pending, every success received',
    pass:
      a.accepted > 0 &&
      a.missing_in_store === 0 &&
      a.by_status.pending === 0 &&
      a.by_status.other === 0 &&
      a.success_not_received === 0 &&
      r.drain.empty,
  });
  const i = r.idempotency;
  checks.push({
    check: 'repeated idempotency keys',
    value: `${i.matched}/${i.repeats} answered with the original delivery, ${i.mismatches} mismatches`,
    target: 'all, and no new delivery reported as a duplicate',
    pass: i.mismatches === 0 && i.repeats > 0,
  });
  const s = r.sse;
  checks.push({
    check: 'event streams',
    value: s.error
      ? s.error
      : `${s.clients - s.disconnects}/${s.clients} open to the end, ${s.disconnects} dropped; ` +
        `${s.received}/${s.expected} annotation deliveries, ${s.missing} missing, ${s.duplicates} duplicates`,
    target: 'none dropped, every annotation on every stream',
    pass: !s.error && s.disconnects === 0 && s.missing === 0 && s.duplicates === 0 && s.expected > 0,
  });
  return checks;
}

function printResults(r, checks, pass, settings) {
  const fixed = (v, digits = 1) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const lines = [
    `load: ${settings.rate} requests/s (${Object.entries(MIX)
      .map(([t, n]) => `${TYPE_LABELS[t]} ${(n * 5).toFixed(0)} %`)
      .join(', ')}) for ${settings.duration_s} s after ${settings.warmup_s} s warm-up; ` +
      `${settings.sse_clients} event streams; receiver fails ${FAIL_PERCENT} %; RETRY_SCHEDULE=${settings.retry_schedule}`,
    '',
    `${'request type'.padEnd(18)}${['requests', '2xx', '409', '5xx', 'failed', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']
      .map((h) => h.padStart(10))
      .join('')}`,
  ];
  for (const type of [...TYPES, 'all']) {
    const t = r.types[type];
    lines.push(
      `${TYPE_LABELS[type].padEnd(18)}${[
        t.requests,
        t.ok,
        t.conflicts,
        t.server_errors,
        t.failures,
        fixed(t.p50_ms, 2),
        fixed(t.p90_ms, 2),
        fixed(t.p99_ms, 2),
        fixed(t.max_ms, 2),
      ]
        .map((c) => String(c).padStart(10))
        .join('')}`,
    );
  }
  lines.push('', 'by variant (measured period):');
  for (const v of r.variants.filter((x) => x.measured > 0)) {
    lines.push(
      `  ${v.variant.padEnd(54)}${String(v.measured).padStart(7)} req  p50 ${fixed(v.p50_ms, 2).padStart(7)}  p99 ${fixed(v.p99_ms, 2).padStart(7)} ms`,
    );
  }
  const rp = r.replays;
  lines.push(
    `replays: ${rp.failed.sent} of failed deliveries found in the history (${rp.failed.accepted} × 202), ` +
      `${rp.recent.sent} of recent deliveries when none was known (${rp.recent.accepted} × 202)`,
    `replay 409s (expected, not errors): ${Object.entries(r.replay_conflicts)
      .map(([detail, n]) => `${n} × "${detail}"`)
      .join(', ')}`,
    `schedule: max ${r.schedule.max_late_ms} ms late, ${r.schedule.late_over_100ms} requests > 100 ms late, ${r.schedule.not_sent} not sent`,
    '',
    `${'quarter'.padEnd(10)}${['requests', 'p50 ms', 'p99 ms', 'RSS med MB', 'RSS max MB', 'heap med MB'].map((h) => h.padStart(12)).join('')}`,
  );
  r.quarters.forEach((q, i) => {
    const m = r.rss.quarters[i];
    lines.push(
      `${`Q${i + 1}`.padEnd(10)}${[
        q.requests,
        fixed(q.p50_ms, 2),
        fixed(q.p99_ms, 2),
        fixed(m.median_mb),
        fixed(m.max_mb),
        fixed(m.heap_used_median_mb),
      ]
        .map((c) => String(c).padStart(12))
        .join('')}`,
    );
  });
  const a = r.deliveries;
  const rc = r.receiver;
  lines.push(
    '',
    `RSS                          start ${fixed(r.rss.start_mb)} MB, peak ${fixed(r.rss.peak_mb)} MB, end ${fixed(r.rss.end_mb)} MB (${r.rss.peak_samples} samples); last-half slope ${r.rss.last_half_slope_mb_per_min ?? '-'} MB/min`,
    `CPU (% of one core)          service ${fixed(r.cpu.measured.service_pct)} (quarters ${r.cpu.quarters.map((v) => fixed(v)).join(', ')}), SSE clients ${fixed(r.cpu.measured.clients_pct)}, receiver ${fixed(r.cpu.measured.receiver_pct)}, runner ${fixed(r.cpu.measured.runner_pct)}; load average ${r.load_average.start[0]} at the start, ${r.load_average.end[0]} at the end (${os.availableParallelism()} CPUs)`,
    `deliveries accepted          ${a.accepted} (${a.accepted_single} single, ${a.accepted_in_batches} in batches)`,
    `store at the end             ${a.in_store} (${JSON.stringify(r.drain.counts)}); accepted: ${a.by_status.success} success, ${a.by_status.failed} failed, ${a.by_status.pending} pending, ${a.missing_in_store} missing; ${a.in_store_not_accepted} not seen accepted`,
    `receiver                     ${rc.requests} requests: ${rc.answered_200} × 200, ${rc.answered_500} × 500, ${rc.aborted} aborted; ${rc.distinct} distinct webhook-ids, ${rc.without_id} without one`,
    `successes received           ${a.store_success - a.success_not_received}/${a.store_success}; failed but answered 200 once: ${a.failed_but_received_200}; received, not in the store: ${a.received_not_in_store}`,
    `duplicates (200 twice)       ${rc.duplicate_ids} webhook-ids, ${rc.duplicate_200s} extra 200s${rc.duplicate_examples.length ? ` (e.g. ${rc.duplicate_examples.map((d) => `${d.id} ×${d.answered_200}`).join(', ')})` : ''}`,
    `drain                        ${r.drain.empty ? `queue empty after ${r.drain.seconds.toFixed(1)} s` : `NOT empty after ${r.drain.seconds.toFixed(0)} s`}`,
    `event streams                ${r.sse.error ? r.sse.error : `${r.sse.clients} clients, annotation latency p50 ${fixed(r.sse.p50_ms, 2)} / p99 ${fixed(r.sse.p99_ms, 2)} / max ${fixed(r.sse.max_ms, 2)} ms; ${r.sse.other_events} other events, ${r.sse.comments} comments`}`,
    `/metrics at the end          ${JSON.stringify(r.metrics_end)}`,
  );
  const kinds = (list) =>
    Object.entries(list)
      .sort(([, a], [, b]) => b.count - a.count)
      .map(([kind, k]) => `${k.count} × ${kind}`)
      .join('; ');
  if (Object.keys(r.server_errors_by_kind).length) lines.push(`5xx by kind: ${kinds(r.server_errors_by_kind)}`);
  if (Object.keys(r.failures_by_kind).length) lines.push(`failed requests by kind: ${kinds(r.failures_by_kind)}`);
  lines.push('');
  for (const c of checks) lines.push(`${c.check} = ${c.value} (target ${c.target}): ${c.pass ? 'PASS' : 'FAIL'}`);
  lines.push(`result: ${pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    JSON.stringify({
      benchmark: 'soak',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: r,
      targets: {
        server_errors: 0,
        failed_requests: 0,
        p99_ms: TARGET_P99_MS,
        peak_rss_mb: TARGET_RSS_MB,
        rss_growth_pct: TARGET_GROWTH_PCT,
        deliveries: 'all accounted for',
      },
      checks,
      pass,
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const serviceEntry = envValue('BENCH_SOAK_SERVICE')
    ? path.resolve(envValue('BENCH_SOAK_SERVICE'))
    : path.join(ROOT, 'dist', 'main.js');
  if (!existsSync(serviceEntry)) throw new BenchError(`${serviceEntry} not found: run \`npm run build\` first.`);
  if (!existsSync('/proc/self/status')) throw new BenchError('needs Linux /proc to sample the service RSS');
  const settings = {
    durationS: positiveInt('BENCH_SOAK_DURATION_S', 300),
    warmupS: positiveInt('BENCH_SOAK_WARMUP_S', 10),
    rate: positiveInt('BENCH_SOAK_RATE', 40),
    clients: positiveInt('BENCH_SOAK_CLIENTS', 500),
    drainTimeoutS: positiveInt('BENCH_SOAK_DRAIN_TIMEOUT_S', 120),
    seed: positiveInt('BENCH_SOAK_SEED', 1),
    retrySchedule: envValue('BENCH_SOAK_RETRY_SCHEDULE') ?? '0,1,2',
  };
  if (settings.rate > 1000) throw new BenchError('BENCH_SOAK_RATE is at most 1000 (this is a soak, not a load test)');
  if (!/^\d{1,6}(,\d{1,6}){0,29}$/.test(settings.retrySchedule)) {
    throw new BenchError(`BENCH_SOAK_RETRY_SCHEDULE must be comma-separated seconds (got ${settings.retrySchedule})`);
  }
  const adminUrl = envValue('BENCH_PG_ADMIN_URL') ?? DEFAULT_ADMIN_URL;
  const pgHost = new URL(adminUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(pgHost))
    throw new BenchError(`BENCH_PG_ADMIN_URL must point to loopback (got host ${pgHost})`);
  const runId = randomBytes(4).toString('hex');
  const dbName = `cc_bench_soak_${runId}`;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;

  // Bounds the whole run: start-ups, the lock wait, the load, the drain, collecting and stopping.
  const budgetS = Math.ceil(
    3 * (STARTUP_TIMEOUT_MS / 1000) +
      LOCK_GIVE_UP_MS / 1000 +
      60 +
      settings.warmupS +
      settings.durationS +
      REQUEST_TIMEOUT_MS / 1000 +
      settings.drainTimeoutS +
      SSE_COLLECT_MS / 1000 +
      60,
  );
  const watchdog = setTimeout(() => {
    log(`\ntime budget of ${budgetS} s exceeded: stopping`);
    interrupt.abort(new BenchError(`the run exceeded its time budget of ${budgetS} s; no figures`));
  }, budgetS * 1000);
  watchdog.unref();

  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SERVICE_SETTINGS.test(key)));
  const nodeFlags = startScriptNodeFlags();
  let service;
  let db;
  try {
    await createDatabase(adminUrl, dbName);
    const lockWaitMs = await acquireLock();
    const [port, receiverPort] = await freePorts(2);
    const dataDir = makeTempDir('command-center-bench-soak-');
    const endpointUrls = new Map(
      TENANTS.map((t) => [
        t,
        Array.from({ length: ENDPOINTS_PER_TENANT }, (_, i) => `http://${HOST}:${receiverPort}/hooks/${t}/${i}`),
      ]),
    );

    log(`starting the receiver on ${HOST}:${receiverPort} (fails ${FAIL_PERCENT} % at random)`);
    const receiver = startChild(
      'receiver',
      RECEIVER_ENTRY,
      {
        ...inherited,
        PORT: String(receiverPort),
        HOST,
        BENCH_SOAK_FAIL_PERCENT: String(FAIL_PERCENT),
        BENCH_SOAK_RECEIVER_DELAY_MS: String(RECEIVER_DELAY_MS),
      },
      { ipc: true },
    );
    await waitForReady(receiver);

    log(
      `starting command-center on ${HOST}:${port}, database ${dbName}${nodeFlags.length ? `, with ${nodeFlags.join(' ')}` : ''}`,
    );
    service = startChild(
      'command-center',
      serviceEntry,
      {
        ...inherited,
        PORT: String(port),
        HOST,
        DATA_DIR: dataDir,
        DATABASE_URL: dbUrl.href,
        LOG_LEVEL: 'warning',
        RATE_LIMIT_PER_MINUTE: '0',
        DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
        SSE_MAX_CLIENTS: String(settings.clients + 1_000),
        RETRY_SCHEDULE: settings.retrySchedule,
        SHUTDOWN_TIMEOUT_MS: '5000',
      },
      { fds: settings.clients + 1_024, nodeFlags },
    );
    const peak = startRssSampler(service.proc.pid);
    await waitForOk(service, `http://${HOST}:${port}/healthz`, OPERATOR);
    await waitForOk(service, `http://${HOST}:${port}/readyz`, OPERATOR);
    db = await connect(dbUrl.href);

    log(`starting the clients process; opening ${settings.clients} event streams`);
    const clients = startChild(
      'sse clients',
      CLIENTS_ENTRY,
      {
        ...inherited,
        BENCH_SSE_HOST: HOST,
        BENCH_SSE_PORT: String(port),
        // Lets clients.js stop the service if this runner is killed without a chance to do it.
        BENCH_SSE_SERVICE_PID: String(service.proc.pid),
        BENCH_SSE_DATA_DIR: dataDir,
      },
      { fds: settings.clients + 1_024, ipc: true },
    );
    await waitForReady(clients);
    const st = newState(runId, settings.seed, endpointUrls);
    const totalRequests = Math.round(settings.rate * (settings.warmupS + settings.durationS));
    st.annotations.capacity = Math.ceil((totalRequests * MIX.annotation) / 20) + 20;
    const connected = await rpc(clients, 'connect', {
      count: settings.clients,
      batch: SSE_BATCH,
      tag: st.annotations.tag,
      capacity: st.annotations.capacity,
    });
    if (!connected.ok) throw new BenchError(`event streams: ${connected.error}`);
    log(`  ${settings.clients} streams open in ${(connected.connect_ms / 1000).toFixed(1)} s`);

    const loadAvgStart = os.loadavg().map((v) => round(v, 2));
    const ctx = { service, receiver, clients, db, port, st, settings, figures: newFigures() };
    const mon = startMonitor(ctx);
    let drained;
    let acc;
    let sse;
    let metricsEnd = {};
    let metrics5xx = null;
    try {
      await runLoad(ctx);
      drained = await drain(ctx);
      acc = await account(ctx);
      log('collecting the event streams');
      const delivery = await rpc(clients, 'collect', { seqs: st.annotations.published, drainMs: SSE_COLLECT_MS });
      sse = delivery.ok
        ? {
            clients: settings.clients,
            annotations: st.annotations.published.length,
            expected: delivery.expected,
            received: delivery.received,
            missing: delivery.missing,
            clients_missing: delivery.clients_missing,
            missing_examples: delivery.missing_examples,
            duplicates: delivery.duplicates,
            disconnects: delivery.disconnects,
            first_disconnect: delivery.first_disconnect,
            p50_ms: delivery.p50_ms,
            p99_ms: delivery.p99_ms,
            max_ms: delivery.max_ms,
            other_events: delivery.other_events,
            comments: delivery.comments,
          }
        : { clients: settings.clients, error: `clients: ${delivery.error}` };
      // The service's own count of 5xx answers; a few tries, since a busy service can be slow here.
      for (let attempt = 1; attempt <= 3 && metrics5xx === null; attempt++) {
        let res;
        try {
          res = await httpGet(`http://${HOST}:${port}/metrics`, OPERATOR);
        } catch (err) {
          log(`  GET /metrics failed: ${err.message}`);
          continue;
        }
        if (res.status === 200) {
          metrics5xx = metricSum(res.body, 'command_center_api_requests_total', (l) => /status="5\d\d"/.test(l)) ?? 0;
          metricsEnd = {
            api_requests: metricSum(res.body, 'command_center_api_requests_total'),
            api_5xx: metrics5xx,
            deliveries_accepted: metricSum(res.body, 'command_center_deliveries_total', (l) =>
              l.includes('status="pending"'),
            ),
            attempts_success: metricSum(res.body, 'command_center_delivery_attempts_total', (l) =>
              l.includes('result="success"'),
            ),
            attempts_failed: metricSum(
              res.body,
              'command_center_delivery_attempts_total',
              (l) => !l.includes('result="success"'),
            ),
            queue_depth: metricSum(res.body, 'command_center_delivery_queue_depth'),
            sse_clients: metricSum(res.body, 'command_center_sse_clients'),
          };
        } else log(`  GET /metrics answered ${res.status}`);
      }
      checkAlive(ctx);
    } finally {
      await mon.stop();
      releaseLock();
    }
    const closed = await rpc(clients, 'close');
    if (!closed.ok) log(`  clients: ${closed.error}`);
    await stopService(service);
    const peakStats = peak.stop();
    clearTimeout(watchdog);

    const fig = ctx.figures;
    const types = Object.fromEntries([...TYPES, 'all'].map((t) => [t, latencySummary(fig.byType[t])]));
    const results = {
      types,
      variants: [...fig.byVariant]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([variant, c]) => ({ variant, ...latencySummary(c) })),
      quarters: fig.quarters.map(latencySummary),
      timeline: fig.windows.map((w, i) => ({
        end_s: (i + 1) * WINDOW_S,
        ...latencySummary(w ?? newCounter()),
        service_cpu_pct: cpuBetween(mon, ctx.loadStart + i * WINDOW_S * 1000, ctx.loadStart + (i + 1) * WINDOW_S * 1000)
          .service_pct,
        pending: mon.store.findLast((x) => x.t < ctx.loadStart + (i + 1) * WINDOW_S * 1000)?.pending ?? null,
        rss_mb: round(
          toMb(
            median(
              mon.rss
                .filter(
                  (s) => s.t >= ctx.loadStart + i * WINDOW_S * 1000 && s.t < ctx.loadStart + (i + 1) * WINDOW_S * 1000,
                )
                .map((s) => s.kb),
            ) ?? NaN,
          ),
        ),
      })),
      rss: rssFigures(ctx, mon, peakStats),
      cpu: cpuFigures(ctx, mon),
      load_average: { start: loadAvgStart, end: os.loadavg().map((v) => round(v, 2)) },
      schedule: {
        max_late_ms: round(fig.maxLateMs),
        late_over_100ms: fig.lateOver100,
        not_sent: fig.notSent,
        load_s: round((ctx.loadEnd - ctx.loadStart) / 1000, 2),
      },
      replay_conflicts: st.conflicts,
      replays: st.replays,
      idempotency: st.idempotency,
      deliveries: acc.acc,
      receiver: acc.receiver,
      drain: { empty: drained.empty, seconds: round(drained.seconds, 2), counts: drained.counts },
      sse,
      metrics_5xx: metrics5xx,
      metrics_end: metricsEnd,
      monitor_errors: mon.errors,
      failures_by_kind: fig.failureKinds,
      server_errors_by_kind: fig.serverErrorKinds,
      lock_wait_s: round(lockWaitMs / 1000),
    };
    const checks = judge(results);
    const pass = checks.every((c) => c.pass);
    printResults(results, checks, pass, {
      run_id: runId,
      database: dbName,
      duration_s: settings.durationS,
      warmup_s: settings.warmupS,
      rate: settings.rate,
      mix: MIX,
      sse_clients: settings.clients,
      fail_percent: FAIL_PERCENT,
      receiver_delay_ms: RECEIVER_DELAY_MS,
      retry_schedule: settings.retrySchedule,
      drain_timeout_s: settings.drainTimeoutS,
      seed: settings.seed,
      tenants: TENANTS.length,
      endpoints: TENANTS.length * ENDPOINTS_PER_TENANT,
      node_flags: nodeFlags,
      service_entry: path.relative(ROOT, serviceEntry),
    });
    return pass ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    releaseLock();
    // The database cannot be dropped while the service holds connections to it.
    await stopService(service);
    await closeClient(db);
    await dropCreatedDatabase();
  }
}

await runBench(main);
