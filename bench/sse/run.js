// SSE fan-out benchmark: the built service streams GET /events/stream to 1,000 and then 5,000
// concurrent clients (in a separate process) while this runner publishes one annotation every
// 100 ms; reports publish→receipt latency, delivery and the service's peak RSS. See README.md.
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
import { fileURLToPath, URL } from 'node:url';
import {
  BenchError,
  describeExit,
  envValue,
  freePorts,
  HOST,
  interrupt,
  isRunning,
  log,
  makeTempDir,
  positiveInt,
  ROOT,
  rpc,
  runBench,
  settlesWithin,
  startChild,
  startRssSampler,
  startScriptNodeFlags,
  STARTUP_TIMEOUT_MS,
  waitForOk,
  waitForReady,
} from '../support/processes.js';

const CLIENTS_ENTRY = fileURLToPath(new URL('./clients.js', import.meta.url));
const HEADERS = { 'x-user-roles': 'operator' };
const PUBLISH_INTERVAL_MS = 100;
const WARMUP_S = 2;
const TARGET_P99_MS = 250;
const TARGET_P99_CLIENTS = 1_000;
const TARGET_RSS_MB = 300;
const TARGET_RSS_CLIENTS = 5_000;
/** After the last publish, how long clients may still take to receive the measured events. */
const DRAIN_TIMEOUT_MS = 10_000;
const PUBLISH_TIMEOUT_MS = 10_000;
/** Lets the service notice the closed streams before the next phase (and its RSS baseline). */
const SETTLE_MS = 1_000;

/** Wall-clock milliseconds with sub-millisecond resolution; clients.js reads the clock the same way. */
const wallClock = () => performance.timeOrigin + performance.now();

function phaseSizes() {
  const raw = envValue('BENCH_SSE_PHASES') ?? '1000,5000';
  const sizes = raw.split(',').map((s) => s.trim());
  if (sizes.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) {
    throw new BenchError(`BENCH_SSE_PHASES must be comma-separated positive integers (got ${JSON.stringify(raw)})`);
  }
  return sizes.map(Number);
}

/**
 * One POST on a connection of its own (a pooled keep-alive socket can be closed by the server's
 * keep-alive timeout just as it is reused); never rejects. The message carries the phase tag,
 * the sequence number and the send time.
 */
function publishOne(port, tag, seq) {
  return new Promise((resolve) => {
    const sentAt = wallClock();
    const body = JSON.stringify({ message: `bench:${tag}:${seq}:${sentAt.toFixed(3)}` });
    const req = http.request(
      {
        host: HOST,
        port,
        path: '/events/annotations',
        method: 'POST',
        agent: false,
        timeout: PUBLISH_TIMEOUT_MS,
        headers: { ...HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text = (text + chunk).slice(0, 300)));
        res.on('end', () => resolve({ seq, status: res.statusCode, body: text, rtt_ms: wallClock() - sentAt }));
        res.on('error', (err) => resolve({ seq, status: 0, body: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PUBLISH_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => resolve({ seq, status: 0, body: err.message }));
    req.end(body);
  });
}

/**
 * Publishes `total` events on a fixed 100 ms schedule; the first `warmup` are not measured.
 * Stops early if a POST fails or the clients process dies (`receiver`).
 */
async function publishSeries(port, tag, total, warmup, receiver) {
  const pending = [];
  let failure;
  let maxLateMs = 0;
  const start = performance.now();
  for (let seq = 0; seq < total && failure === undefined; seq++) {
    const due = start + seq * PUBLISH_INTERVAL_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: interrupt.signal });
    if (!isRunning(receiver)) throw new BenchError(describeExit(receiver));
    maxLateMs = Math.max(maxLateMs, performance.now() - due);
    if (seq === warmup)
      log(`  measuring: ${total - warmup} events over ${((total - warmup) * PUBLISH_INTERVAL_MS) / 1000} s`);
    pending.push(
      publishOne(port, tag, seq).then((result) => {
        if (result.status !== 201) failure ??= result;
        return result;
      }),
    );
  }
  const results = await Promise.all(pending);
  interrupt.signal.throwIfAborted();
  if (failure) {
    const hint = failure.status === 429 ? ' (rate limited: is RATE_LIMIT_PER_MINUTE=0 honoured?)' : '';
    throw new BenchError(
      `POST /events/annotations #${failure.seq} answered ${failure.status || 'nothing'}${hint}: ${failure.body.trim()}`,
    );
  }
  const rtts = results.map((r) => r.rtt_ms).sort((a, b) => a - b);
  return { rttMaxMs: rtts[rtts.length - 1], maxLateMs };
}

function connectError(reply) {
  if (reply.status === 404) {
    return `GET /events/stream answered 404: does dist/ contain the events module? Run \`npm run build\` first. ${reply.error}`;
  }
  if (reply.status === 503 || reply.status === 429) {
    return `${reply.error} (is SSE_MAX_CLIENTS / RATE_LIMIT_PER_MINUTE honoured?)`;
  }
  return reply.error;
}

/** Connects the phase's clients, publishes, and collects the figures; `rss` is already sampling. */
async function measurePhase({ service, clientsChild, port, clients, tag, warmup, measured, batch, rss }) {
  const connected = await rpc(clientsChild, 'connect', { count: clients, batch, tag, capacity: warmup + measured });
  if (!connected.ok) throw new BenchError(connectError(connected));
  log(`  ${clients} streams open in ${(connected.connect_ms / 1000).toFixed(1)} s; warm-up ${WARMUP_S} s`);
  const published = await publishSeries(port, tag, warmup + measured, warmup, clientsChild);
  log(`  waiting up to ${DRAIN_TIMEOUT_MS / 1000} s for the last deliveries`);
  const seqs = Array.from({ length: measured }, (_, i) => warmup + i);
  const delivery = await rpc(clientsChild, 'collect', { seqs, drainMs: DRAIN_TIMEOUT_MS });
  if (!delivery.ok) throw new BenchError(`clients: ${delivery.error}`);
  const rssStats = rss.stop();
  if (!isRunning(service)) throw new BenchError(describeExit(service));
  const toMb = (kb) => Number((kb / 1024).toFixed(1));
  return {
    clients,
    events: measured,
    expected: delivery.expected,
    deliveries: delivery.received,
    missing: delivery.missing,
    delivery_ratio: delivery.expected ? delivery.received / delivery.expected : 0,
    clients_missing: delivery.clients_missing,
    missing_examples: delivery.missing_examples,
    duplicates: delivery.duplicates,
    disconnects: delivery.disconnects,
    first_disconnect: delivery.first_disconnect,
    p50_ms: delivery.p50_ms,
    p90_ms: delivery.p90_ms,
    p99_ms: delivery.p99_ms,
    max_ms: delivery.max_ms,
    min_ms: delivery.min_ms,
    peak_rss_mb: toMb(rssStats.peakKb),
    rss_before_mb: rssStats.startKb === undefined ? null : toMb(rssStats.startKb),
    rss_samples: rssStats.samples,
    connect_s: Number((connected.connect_ms / 1000).toFixed(2)),
    publish_rtt_max_ms: Number(published.rttMaxMs.toFixed(1)),
    publish_max_late_ms: Number(published.maxLateMs.toFixed(1)),
    other_events: delivery.other_events,
    comments: delivery.comments,
  };
}

/** One phase: its figures, or a BenchError; the clients are closed again in every case. */
async function runPhase({ service, clientsChild, port, index, clients, settings }) {
  const tag = `${settings.runId}-p${index + 1}`;
  const warmup = WARMUP_S * (1000 / PUBLISH_INTERVAL_MS);
  const measured = settings.durationS * (1000 / PUBLISH_INTERVAL_MS);
  log(`phase ${index + 1}: ${clients} clients, connecting ${settings.batch} at a time`);
  const rss = startRssSampler(service.proc.pid);
  try {
    return await measurePhase({
      service,
      clientsChild,
      port,
      clients,
      tag,
      warmup,
      measured,
      batch: settings.batch,
      rss,
    });
  } catch (err) {
    // A dead service explains any other symptom (refused POSTs, dropped streams): say that.
    if (err instanceof BenchError && !interrupt.signal.aborted && (await settlesWithin(service.exited, 500))) {
      throw new BenchError(describeExit(service));
    }
    throw err;
  } finally {
    rss.stop();
    if (isRunning(clientsChild) && !interrupt.signal.aborted) {
      log(`  closing ${clients} clients`);
      try {
        const closed = await rpc(clientsChild, 'close');
        if (!closed.ok) log(`  clients: ${closed.error}`);
        await sleep(SETTLE_MS, undefined, { signal: interrupt.signal });
      } catch (err) {
        // Do not hide the phase's own error; an interrupt is rethrown by the caller anyway.
        log(`  closing the clients failed: ${err.message}`);
      }
    }
  }
}

function judge(results) {
  const checks = [];
  for (const r of results) {
    if (r.error) {
      checks.push({ check: `phase with ${r.clients} clients`, value: r.error, pass: false });
      continue;
    }
    if (r.clients <= TARGET_P99_CLIENTS) {
      checks.push({
        check: `p99 latency at ${r.clients} clients`,
        value: `${r.p99_ms?.toFixed(2)} ms`,
        target: `<= ${TARGET_P99_MS} ms`,
        pass: r.p99_ms !== null && r.p99_ms <= TARGET_P99_MS,
      });
    }
    if (r.clients <= TARGET_RSS_CLIENTS) {
      checks.push({
        check: `peak RSS at ${r.clients} clients`,
        value: `${r.peak_rss_mb.toFixed(1)} MB`,
        target: `<= ${TARGET_RSS_MB} MB`,
        pass: r.peak_rss_mb <= TARGET_RSS_MB,
      });
    }
    const problems = [];
    if (r.missing > 0) {
      problems.push(`${r.missing} missing at ${r.clients_missing} clients (e.g. ${r.missing_examples.join(', ')})`);
    }
    if (r.disconnects > 0) problems.push(`${r.disconnects} streams dropped, first ${r.first_disconnect}`);
    if (r.duplicates > 0) problems.push(`${r.duplicates} duplicates`);
    checks.push({
      check: `delivery at ${r.clients} clients`,
      value: `${r.deliveries}/${r.expected} = ${(r.delivery_ratio * 100).toFixed(3)}%${problems.length ? `; ${problems.join('; ')}` : ''}`,
      target: '100%, no drops or duplicates',
      pass: r.missing === 0 && r.disconnects === 0 && r.duplicates === 0 && r.expected > 0,
    });
  }
  // The budgets are stated for these sizes; say so when a custom BENCH_SSE_PHASES skips them.
  for (const [what, size] of [
    ['p99 latency', TARGET_P99_CLIENTS],
    ['peak RSS', TARGET_RSS_CLIENTS],
  ]) {
    if (!results.some((r) => !r.error && r.clients === size)) {
      checks.push({ check: `${what} at ${size} clients`, value: 'not measured', pass: null });
    }
  }
  return checks;
}

function printResults(results, checks, pass, settings) {
  const headers = ['clients', 'events', 'deliveries', 'missing', 'p50 ms', 'p99 ms', 'max ms', 'peak RSS MB'];
  const row = (cells) => cells.map((cell) => String(cell).padStart(12)).join('');
  const fixed = (v, digits) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const lines = [row(headers)];
  for (const r of results) {
    if (r.error) lines.push(`${row([r.clients])}  error: ${r.error.split('\n')[0]}`);
    else {
      lines.push(
        row([
          r.clients,
          r.events,
          r.deliveries,
          r.missing,
          fixed(r.p50_ms, 2),
          fixed(r.p99_ms, 2),
          fixed(r.max_ms, 2),
          fixed(r.peak_rss_mb, 1),
        ]),
      );
    }
  }
  lines.push('');
  for (const c of checks) {
    const verdict = c.pass === null ? 'not judged' : c.pass ? 'PASS' : 'FAIL';
    lines.push(`${c.check} = ${c.value}${c.target ? ` (target ${c.target})` : ''}: ${verdict}`);
  }
  lines.push(`result: ${pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    JSON.stringify({
      benchmark: 'sse',
      endpoint: 'GET /events/stream',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results,
      targets: {
        p99_ms: TARGET_P99_MS,
        p99_at_clients: TARGET_P99_CLIENTS,
        peak_rss_mb: TARGET_RSS_MB,
        rss_at_clients: TARGET_RSS_CLIENTS,
        delivery: 1,
      },
      checks,
      pass,
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const serviceEntry = envValue('BENCH_SSE_SERVICE')
    ? path.resolve(envValue('BENCH_SSE_SERVICE'))
    : path.join(ROOT, 'dist', 'main.js');
  if (!existsSync(serviceEntry)) {
    throw new BenchError(`${serviceEntry} not found: run \`npm run build\` first.`);
  }
  if (!existsSync('/proc/self/status')) throw new BenchError('needs Linux /proc to sample the service RSS');
  const phases = phaseSizes();
  const durationS = positiveInt('BENCH_SSE_DURATION_S', 20);
  const batch = positiveInt('BENCH_SSE_BATCH', 200);
  const maxClients = Math.max(...phases);
  // The run id tags this run's messages, so clients ignore annotations from anything else.
  const settings = { runId: randomBytes(3).toString('hex'), durationS, batch };

  // Everything has a time limit of its own; this one bounds the whole run regardless.
  const perPhaseS = 60 + WARMUP_S + durationS + DRAIN_TIMEOUT_MS / 1000 + 20 + (maxClients / batch) * 2;
  const budgetS = Math.ceil(STARTUP_TIMEOUT_MS / 1000 + 30 + phases.length * perPhaseS);
  const watchdog = setTimeout(() => {
    log(`\ntime budget of ${budgetS} s exceeded: stopping`);
    interrupt.abort(new BenchError(`the run exceeded its time budget of ${budgetS} s; no figures`));
  }, budgetS * 1000);
  watchdog.unref();

  // Settings the caller's shell may export (e.g. from .env) would change what is measured.
  const inherited = { ...process.env };
  for (const key of ['DATABASE_URL', 'AUTH_PROXY_SECRET', 'TRUST_PROXY', 'SSE_HEARTBEAT_S', 'SSE_MAX_CLIENTS']) {
    delete inherited[key];
  }

  const [port] = await freePorts(1);
  const dataDir = makeTempDir('command-center-bench-sse-');

  // The service runs with the Node flags of `npm start` (its heap limit), as it is shipped.
  const nodeFlags = startScriptNodeFlags();
  log(`starting command-center on ${HOST}:${port}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ''}`);
  const service = startChild(
    'command-center',
    serviceEntry,
    {
      ...inherited,
      PORT: String(port),
      HOST,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warning',
      RATE_LIMIT_PER_MINUTE: '0',
      SSE_MAX_CLIENTS: String(maxClients + 1_000),
      SHUTDOWN_TIMEOUT_MS: '1000',
    },
    { fds: maxClients + 1_024, nodeFlags },
  );
  await waitForOk(service, `http://${HOST}:${port}/healthz`, HEADERS);

  log('starting the clients process');
  const clientsChild = startChild(
    'clients',
    CLIENTS_ENTRY,
    {
      ...inherited,
      BENCH_SSE_HOST: HOST,
      BENCH_SSE_PORT: String(port),
      // Lets clients.js stop the service if this runner is killed without a chance to do it.
      BENCH_SSE_SERVICE_PID: String(service.proc.pid),
      BENCH_SSE_DATA_DIR: dataDir,
    },
    { fds: maxClients + 1_024, ipc: true },
  );
  await waitForReady(clientsChild);

  const results = [];
  for (const [index, clients] of phases.entries()) {
    try {
      results.push(await runPhase({ service, clientsChild, port, index, clients, settings }));
    } catch (err) {
      if (interrupt.signal.aborted || !(err instanceof BenchError)) throw err;
      log(`phase ${index + 1}: ${err.message}`);
      results.push({ clients, error: err.message });
      break; // The service or the clients may be in any state now.
    }
  }
  clearTimeout(watchdog);

  const checks = judge(results);
  const pass = checks.every((c) => c.pass !== false);
  printResults(results, checks, pass, {
    phases,
    duration_s: durationS,
    warmup_s: WARMUP_S,
    publish_interval_ms: PUBLISH_INTERVAL_MS,
    batch,
  });
  return pass ? 0 : 1;
}

await runBench(main);
