// Memory benchmark: the service's RSS against the container memory limit of the Helm chart
// (helm/command-center/values.yaml, resources.limits.memory). Idle RSS on the embedded SQLite
// store and on a fresh PostgreSQL database, then the peak and end RSS that bench/dispatch reports
// and the peak RSS of bench/sse at 1,000 clients, both run as child processes. Every figure must
// stay within half the limit. See README.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';
import YAML from 'yaml';
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
  settlesWithin,
  startChild,
  startRssSampler,
  startScriptNodeFlags,
  STARTUP_TIMEOUT_MS,
  stopService,
  waitForOk,
} from '../support/processes.js';
import { closeClient, connect, createDatabase, dropCreatedDatabase } from '../support/postgres.js';

const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const CHART_VALUES = path.join(ROOT, 'helm', 'command-center', 'values.yaml');
const DISPATCH_BENCH = path.join(ROOT, 'bench', 'dispatch', 'run.js');
const SSE_BENCH = path.join(ROOT, 'bench', 'sse', 'run.js');
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const OPERATOR = { 'x-user-roles': 'operator' };
/** Every figure may use at most this share of the container's memory limit. */
const TARGET_RATIO = 0.5;
const SSE_CLIENTS = 1_000;
/** Backstops for the child benchmarks, above the time budgets they enforce themselves. */
const DISPATCH_LIMIT_S = 40 * 60;
const SSE_LIMIT_S = 15 * 60;
/** After SIGTERM, a child benchmark gets this long to stop its service and drop its database. */
const CHILD_GRACE_MS = 60_000;
const STOP_S = 10;

// Settings of the service a caller's shell may export (e.g. from .env): removed from the idle
// instances' environment, so the service's defaults (those the chart deploys) apply.
// NODE_OPTIONS is removed everywhere: it could change the heap limit under measurement.
const SERVICE_SETTINGS =
  /^(PORT|HOST|LOG_LEVEL|DATA_DIR|DATABASE_URL|DB_\w+|AUTH_PROXY_SECRET|TRUST_PROXY|RATE_LIMIT_PER_MINUTE|MAX_BODY_BYTES|SHUTDOWN_TIMEOUT_MS|EVENT_RETENTION_\w+|DELIVERY_\w+|DISPATCH\w*|AUTOHEAL_\w+|RETRY_SCHEDULE|ANOMALY_\w+|TENANT_\w+|APDEX_\w+|METRICS_\w+|SSE_\w+|NODE_OPTIONS)$/;

const toMib = (kb) => Number((kb / 1024).toFixed(1));
const fmt = (mib) => mib.toFixed(1);

function flag(name) {
  const raw = envValue(name) ?? '0';
  if (!/^[01]$/.test(raw)) throw new BenchError(`${name} must be 0 or 1 (got ${JSON.stringify(raw)})`);
  return raw === '1';
}

// ---------------------------------------------------------------------------------------------
// The chart's memory limit.

const QUANTITY_UNITS = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A Kubernetes memory quantity (512Mi, 1Gi, 536870912, 500M) in MiB; undefined if not one. */
function quantityMib(raw) {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(raw ?? '').trim());
  return match ? (Number(match[1]) * QUANTITY_UNITS[match[2] ?? '']) / 2 ** 20 : undefined;
}

function readChart() {
  const where = path.relative(ROOT, CHART_VALUES);
  let values;
  try {
    values = YAML.parse(readFileSync(CHART_VALUES, 'utf8'));
  } catch (err) {
    throw new BenchError(`cannot read ${where}: ${err.message}`);
  }
  const raw = values?.resources?.limits?.memory;
  const limitMib = quantityMib(raw);
  if (!limitMib) throw new BenchError(`${where}: resources.limits.memory is not a memory quantity (got ${raw})`);
  const env = Object.fromEntries(Object.entries(values.env ?? {}).map(([k, v]) => [k, String(v)]));
  return { where, raw: String(raw), limitMib, logLevel: String(values.logLevel ?? 'info'), env };
}

// ---------------------------------------------------------------------------------------------
// Idle RSS: the service started as shipped, healthy and ready, then left alone.

async function measureIdle({ name, env, nodeFlags, port, settleS, windowS }) {
  log(
    `idle, ${name}: starting command-center on ${HOST}:${port}${nodeFlags.length ? ` with ${nodeFlags.join(' ')}` : ''}`,
  );
  const service = startChild(`command-center (idle, ${name})`, SERVICE_ENTRY, env, { nodeFlags });
  try {
    const startup = startRssSampler(service.proc.pid);
    let startupStats;
    try {
      await waitForOk(service, `http://${HOST}:${port}/healthz`, OPERATOR);
      await waitForOk(service, `http://${HOST}:${port}/readyz`, OPERATOR);
    } finally {
      startupStats = startup.stop();
    }
    log(`  ready at ${fmt(toMib(startupStats.lastKb))} MiB; idle for ${settleS} s, then ${windowS} s measured`);

    const settle = startRssSampler(service.proc.pid);
    let settleStats;
    try {
      await sleep(settleS * 1000, undefined, { signal: interrupt.signal });
    } finally {
      settleStats = settle.stop();
    }
    if (!isRunning(service)) throw new BenchError(describeExit(service));
    const window = startRssSampler(service.proc.pid);
    let windowStats;
    try {
      await sleep(windowS * 1000, undefined, { signal: interrupt.signal });
    } finally {
      windowStats = window.stop();
    }
    if (!isRunning(service)) throw new BenchError(describeExit(service));
    // Still healthy after the idle period (this request comes after the last sample).
    const after = await httpGet(`http://${HOST}:${port}/readyz`, OPERATOR).catch((err) => ({
      status: 0,
      body: err.message,
    }));
    if (after.status !== 200) {
      throw new BenchError(`GET /readyz answered ${after.status || 'nothing'} after the idle period: ${after.body}`);
    }
    log(`  steady ${fmt(toMib(windowStats.peakKb))} MiB (peak of the last ${windowS} s)`);
    return {
      mib: toMib(windowStats.peakKb),
      context: {
        startup_peak_mib: toMib(startupStats.peakKb),
        ready_mib: toMib(startupStats.lastKb),
        settle_peak_mib: toMib(settleStats.peakKb),
        window_start_mib: toMib(windowStats.startKb ?? 0),
        window_end_mib: toMib(windowStats.lastKb),
        window_samples: windowStats.samples,
      },
    };
  } finally {
    await stopService(service);
  }
}

// ---------------------------------------------------------------------------------------------
// Child benchmarks: run as they are, figures taken from the JSON line they print last.

const childBenches = new Set();

/** One SIGTERM (the child then stops its service and drops its database), SIGKILL much later. */
function stopChildBench(bench, why) {
  if (bench.signalled || bench.done) return;
  bench.signalled = true;
  log(`stopping ${bench.name} (${why})`);
  bench.proc.kill('SIGTERM');
  bench.killTimer = setTimeout(() => {
    log(`${bench.name} still running ${CHILD_GRACE_MS / 1000} s after SIGTERM; killing its process group`);
    try {
      process.kill(-bench.proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, CHILD_GRACE_MS);
}

// A child benchmark runs in a process group of its own, so a Ctrl-C reaches it only through
// this runner: exactly one SIGTERM. If this runner exits early (a second Ctrl-C), a child that
// has not been told yet is told now, and cleans up on its own.
process.on('exit', () => {
  for (const bench of childBenches) if (!bench.done && !bench.signalled) bench.proc.kill('SIGTERM');
});

/** Runs `node <script>`; resolves with its exit, its last JSON line (if any) and its stderr tail. */
async function runChildBench(name, script, env, limitS) {
  log(`${name}: node ${path.relative(ROOT, script)} (stopped after ${limitS / 60} min at the latest)`);
  const proc = spawn(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const bench = { name, proc, signalled: false, done: false, killTimer: undefined };
  childBenches.add(bench);
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (err) => resolve({ error: err }));
  });
  const closed = new Promise((resolve) => proc.once('close', resolve));
  const stdoutLines = [];
  const stderrTail = [];
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    stdoutLines.push(line);
    if (!line.startsWith('{')) log(`  [${name}] ${line}`);
  });
  readline.createInterface({ input: proc.stderr }).on('line', (line) => {
    log(`  [${name}] ${line}`);
    stderrTail.push(line);
    if (stderrTail.length > 10) stderrTail.shift();
  });
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    stopChildBench(bench, `still running after ${limitS / 60} min`);
  }, limitS * 1000);
  const onAbort = () => stopChildBench(bench, 'interrupted');
  interrupt.signal.addEventListener('abort', onAbort, { once: true });
  if (interrupt.signal.aborted) onAbort();
  let exit;
  try {
    exit = await exited;
    await settlesWithin(closed, 2_000); // the rest of its output
  } finally {
    clearTimeout(limit);
    clearTimeout(bench.killTimer);
    interrupt.signal.removeEventListener('abort', onAbort);
    bench.done = true;
    childBenches.delete(bench);
  }
  interrupt.signal.throwIfAborted();

  const how = exit.error ? exit.error.message : `exit ${exit.code ?? exit.signal}`;
  let json;
  for (const line of stdoutLines.toReversed()) {
    if (!line.startsWith('{')) continue;
    try {
      json = JSON.parse(line);
    } catch {
      // Not the result line.
    }
    if (json) break;
  }
  let error;
  if (timedOut) error = `stopped after ${limitS / 60} min`;
  else if (!json) error = `${how}, no JSON result${stderrTail.length ? `: ${stderrTail.slice(-3).join(' / ')}` : ''}`;
  return { exit: exit.code ?? exit.signal ?? null, how, json, error };
}

// ---------------------------------------------------------------------------------------------

const verdict = (c) => (c.pass === null ? 'not judged' : c.pass ? 'PASS' : 'FAIL');

function judge(figures, limitMib) {
  const targetMib = limitMib * TARGET_RATIO;
  return figures.map((f) => {
    const check = { check: f.label };
    if (f.skipped) return { ...check, value: `not measured (${f.skipped})`, pass: null };
    if (f.error) return { ...check, value: `error: ${f.error}`, pass: false };
    const ratio = f.mib / limitMib;
    return {
      check: `${f.label} / limit`,
      value: `${f.mib.toFixed(1)} MiB / ${limitMib} MiB = ${ratio.toFixed(3)}`,
      target: `<= ${TARGET_RATIO}, i.e. <= ${targetMib} MiB`,
      ratio: Number(ratio.toFixed(4)),
      pass: f.mib <= targetMib,
    };
  });
}

function printResults(figures, checks, pass, chart, settings) {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (s, n) => String(s).padStart(n);
  const lines = [
    `memory limit: ${chart.raw} = ${chart.limitMib} MiB (${chart.where}, resources.limits.memory); target: every figure <= ${TARGET_RATIO * 100} % = ${chart.limitMib * TARGET_RATIO} MiB`,
    '',
    `${pad('figure', 34)}${num('RSS MiB', 9)}${num('% of limit', 12)}  notes`,
  ];
  for (const f of figures) {
    if (f.skipped || f.error) {
      lines.push(`${pad(f.label, 34)}${num('-', 9)}${num('-', 12)}  ${f.skipped ? `skipped: ${f.skipped}` : 'error'}`);
    } else {
      const pct = `${((f.mib / chart.limitMib) * 100).toFixed(1)} %`;
      lines.push(`${pad(f.label, 34)}${num(f.mib.toFixed(1), 9)}${num(pct, 12)}  ${f.notes ?? ''}`);
    }
  }
  lines.push('');
  for (const c of checks)
    lines.push(`${c.check} = ${c.value}${c.target ? ` (target ${c.target})` : ''}: ${verdict(c)}`);
  lines.push(`result: ${pass ? 'PASS' : 'FAIL'}`);
  lines.push(
    JSON.stringify({
      benchmark: 'memory',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      limit: { source: `${chart.where} resources.limits.memory`, quantity: chart.raw, mib: chart.limitMib },
      targets: { ratio: TARGET_RATIO, mib: chart.limitMib * TARGET_RATIO },
      figures: figures.map(({ key, label, mib, skipped, error, context }) => ({
        key,
        label,
        mib: mib ?? null,
        ratio: mib === undefined ? null : Number((mib / chart.limitMib).toFixed(4)),
        ...(skipped ? { skipped } : {}),
        ...(error ? { error } : {}),
        ...(context ? { context } : {}),
      })),
      checks,
      pass,
    }),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  if (!existsSync(SERVICE_ENTRY)) throw new BenchError(`${SERVICE_ENTRY} not found: run \`npm run build\` first.`);
  if (!existsSync('/proc/self/status')) throw new BenchError('needs Linux /proc to sample the service RSS');
  const chart = readChart();
  const settleS = positiveInt('BENCH_MEMORY_SETTLE_S', 30);
  const windowS = positiveInt('BENCH_MEMORY_WINDOW_S', 10);
  const skip = {
    idle: flag('BENCH_MEMORY_SKIP_IDLE'),
    postgres: flag('BENCH_MEMORY_SKIP_POSTGRES'),
    dispatch: flag('BENCH_MEMORY_SKIP_DISPATCH'),
    sse: flag('BENCH_MEMORY_SKIP_SSE'),
  };
  const adminUrl = envValue('BENCH_PG_ADMIN_URL') ?? DEFAULT_ADMIN_URL;
  const pgHost = new URL(adminUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(pgHost))
    throw new BenchError(`BENCH_PG_ADMIN_URL must point to loopback (got host ${pgHost})`);

  // Bounds the whole run; the parts have limits of their own, this one holds regardless.
  const idleS = 2 * (2 * (STARTUP_TIMEOUT_MS / 1000) + settleS + windowS + STOP_S);
  const budgetS = Math.ceil(
    (skip.idle ? 0 : idleS + LOCK_GIVE_UP_MS / 1000 + 30) +
      (skip.dispatch ? 0 : DISPATCH_LIMIT_S + CHILD_GRACE_MS / 1000) +
      (skip.sse ? 0 : SSE_LIMIT_S + CHILD_GRACE_MS / 1000) +
      60,
  );
  const watchdog = setTimeout(() => {
    log(`\ntime budget of ${budgetS} s exceeded: stopping`);
    interrupt.abort(new BenchError(`the run exceeded its time budget of ${budgetS} s; no figures`));
  }, budgetS * 1000);
  watchdog.unref();

  const nodeFlags = startScriptNodeFlags();
  const runId = randomBytes(4).toString('hex');
  const dbName = `cc_bench_memory_${runId}`;
  const figures = [];
  let lockWaitMs = null;

  try {
    // 1. Idle, on SQLite and on PostgreSQL, alone on the machine.
    if (skip.idle) {
      figures.push({ key: 'idle_sqlite', label: 'idle RSS, SQLite', skipped: 'BENCH_MEMORY_SKIP_IDLE=1' });
      figures.push({ key: 'idle_postgres', label: 'idle RSS, PostgreSQL', skipped: 'BENCH_MEMORY_SKIP_IDLE=1' });
    } else {
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SERVICE_SETTINGS.test(key)));
      const [port] = await freePorts(1);
      const tempDir = makeTempDir('command-center-bench-memory-');
      const serviceEnv = (store, databaseUrl) => {
        const dataDir = path.join(tempDir, store);
        mkdirSync(dataDir);
        return {
          ...inherited,
          ...chart.env,
          LOG_LEVEL: chart.logLevel,
          PORT: String(port),
          HOST,
          DATA_DIR: dataDir,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
          SHUTDOWN_TIMEOUT_MS: '1000',
        };
      };

      let pgSkipped = skip.postgres ? 'BENCH_MEMORY_SKIP_POSTGRES=1' : undefined;
      let dbUrl;
      if (!pgSkipped) {
        try {
          await closeClient(await connect(adminUrl));
        } catch (err) {
          if (interrupt.signal.aborted) throw err;
          pgSkipped = `PostgreSQL not reachable: ${err.message}`;
          log(`idle, PostgreSQL: skipped (${err.message})`);
        }
      }
      if (!pgSkipped) {
        await createDatabase(adminUrl, dbName);
        dbUrl = new URL(adminUrl);
        dbUrl.pathname = `/${dbName}`;
      }

      lockWaitMs = await acquireLock();
      try {
        log(`lock held${lockWaitMs > 1_000 ? ` (waited ${(lockWaitMs / 1000).toFixed(0)} s)` : ''}`);
        const idle = async (key, label, env) => {
          try {
            const m = await measureIdle({ name: label, env, nodeFlags, port, settleS, windowS });
            const c = m.context;
            const notes = `peak of the last ${windowS} s after ${settleS} s idle; ready ${fmt(c.ready_mib)}, start-up peak ${fmt(c.startup_peak_mib)}, idle peak ${fmt(c.settle_peak_mib)}`;
            figures.push({ key, label: `idle RSS, ${label}`, mib: m.mib, notes, context: c });
          } catch (err) {
            if (interrupt.signal.aborted || !(err instanceof BenchError)) throw err;
            log(`idle, ${label}: ${err.message}`);
            figures.push({ key, label: `idle RSS, ${label}`, error: err.message.split('\n')[0] });
          }
        };
        await idle('idle_sqlite', 'SQLite', serviceEnv('sqlite'));
        if (pgSkipped) figures.push({ key: 'idle_postgres', label: 'idle RSS, PostgreSQL', skipped: pgSkipped });
        else await idle('idle_postgres', 'PostgreSQL', serviceEnv('postgres', dbUrl.href));
      } finally {
        releaseLock();
      }
      await dropCreatedDatabase();
    }

    // The child benchmarks measure the service as they configure it (dist/main.js with the flags
    // of `npm start`); settings that would point them elsewhere are removed.
    const childEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) =>
          !key.startsWith('BENCH_MEMORY_') &&
          !['NODE_OPTIONS', 'BENCH_DISPATCH_SERVICE', 'BENCH_SSE_SERVICE'].includes(key),
      ),
    );

    // 2. bench/dispatch: 50,000 deliveries due at once (it takes the lock for its measured phase).
    if (skip.dispatch) {
      for (const [key, label] of [
        ['dispatch_peak', 'dispatch: peak RSS'],
        ['dispatch_end', 'dispatch: RSS at the end'],
      ]) {
        figures.push({ key, label, skipped: 'BENCH_MEMORY_SKIP_DISPATCH=1' });
      }
    } else {
      const run = await runChildBench('bench/dispatch', DISPATCH_BENCH, childEnv, DISPATCH_LIMIT_S);
      const r = run.json?.benchmark === 'dispatch' ? run.json.results : undefined;
      const error = run.error ?? (r ? undefined : `unexpected JSON result (${run.how})`);
      const context = r && {
        deliveries: r.total,
        completed: r.completed,
        elapsed_s: r.elapsed_s,
        attempts_per_s: r.attempts_per_s,
        rss_samples: r.rss_samples,
        dispatch_result: run.json.pass ? 'PASS' : 'FAIL',
        dispatch_exit: run.exit,
      };
      const about = r
        ? `${r.total.toLocaleString('en-US')} deliveries${r.completed ? `, done in ${r.elapsed_s.toFixed(1)} s` : ', NOT completed'}; bench/dispatch itself: ${context.dispatch_result}`
        : undefined;
      figures.push({
        key: 'dispatch_peak',
        label: 'dispatch: peak RSS',
        ...(error ? { error } : { mib: r.peak_rss_mb, notes: about, context }),
      });
      figures.push({
        key: 'dispatch_end',
        label: 'dispatch: RSS at the end',
        ...(error ? { error } : { mib: r.end_rss_mb, notes: 'last sample, queue empty', context }),
      });
    }

    // 3. bench/sse, its 1,000-client phase only.
    const sseLabel = `sse: peak RSS at ${SSE_CLIENTS.toLocaleString('en-US')} clients`;
    if (skip.sse) figures.push({ key: 'sse_1000_peak', label: sseLabel, skipped: 'BENCH_MEMORY_SKIP_SSE=1' });
    else {
      const run = await runChildBench(
        'bench/sse',
        SSE_BENCH,
        { ...childEnv, BENCH_SSE_PHASES: String(SSE_CLIENTS) },
        SSE_LIMIT_S,
      );
      const r = run.json?.benchmark === 'sse' ? run.json.results?.find((x) => x.clients === SSE_CLIENTS) : undefined;
      let error = run.error ?? (r ? r.error : `no ${SSE_CLIENTS}-client phase in its JSON result (${run.how})`);
      if (!error && !(r.rss_samples > 0)) error = 'no RSS samples';
      const context = r &&
        !error && {
          rss_before_mib: r.rss_before_mb,
          rss_samples: r.rss_samples,
          p99_ms: r.p99_ms,
          deliveries: r.deliveries,
          expected: r.expected,
          sse_result: run.json.pass ? 'PASS' : 'FAIL',
          sse_exit: run.exit,
        };
      figures.push({
        key: 'sse_1000_peak',
        label: sseLabel,
        ...(error
          ? { error }
          : {
              mib: r.peak_rss_mb,
              notes: `before the phase ${r.rss_before_mb === null ? '-' : fmt(r.rss_before_mb)}; ${r.deliveries}/${r.expected} delivered; bench/sse itself: ${context.sse_result}`,
              context,
            }),
      });
    }
    clearTimeout(watchdog);

    const checks = judge(figures, chart.limitMib);
    const pass = checks.every((c) => c.pass !== false) && checks.some((c) => c.pass === true);
    printResults(figures, checks, pass, chart, {
      run_id: runId,
      settle_s: settleS,
      window_s: windowS,
      skipped: Object.keys(skip).filter((k) => skip[k]),
      node_flags: nodeFlags,
      idle_log_level: chart.logLevel,
      lock_wait_s: lockWaitMs === null ? null : Number((lockWaitMs / 1000).toFixed(1)),
    });
    return pass ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    releaseLock();
    await dropCreatedDatabase();
  }
}

await runBench(main);
