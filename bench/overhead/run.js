// Framework overhead benchmark: GET /meta on the built service versus a bare Express 5
// server answering the same body, one after the other, on loopback. See README.md.
/* global AbortController */ // Node 20 global; the repository's ESLint config only declares a few.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import autocannon from 'autocannon';

const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const BARE_ENTRY = fileURLToPath(new URL('./bare-express.js', import.meta.url));
const HEADERS = { 'x-user-roles': 'operator' };
const WARMUP_S = 3;
const TARGET_RATIO = 0.5;
const STARTUP_TIMEOUT_MS = 30_000;
// Grace period before SIGKILL; the service is also told to give up on shutdown after 1 s.
const STOP_TIMEOUT_MS = 5_000;

/** An expected failure: printed as one line, without a stack. */
class BenchError extends Error {}

const interrupt = new AbortController();
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };
const children = new Set();
let dataDir;
let activeRun;

const log = (line) => process.stderr.write(`${line}\n`);

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < 1) {
    throw new BenchError(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** Asks the OS for distinct free loopback ports (all held open at once so they differ). */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(() => resolve()))));
  }
}

/** One GET without keep-alive, so probes never share a socket with the load. */
function httpGet(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: HEADERS, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function isRunning(child) {
  return child.proc.exitCode === null && child.proc.signalCode === null && !child.spawnError;
}

function describeExit(child) {
  const how = child.spawnError ? child.spawnError.message : `exit ${child.proc.exitCode ?? child.proc.signalCode}`;
  const stderr = child.stderr.trim();
  return `${child.name} stopped (${how})${stderr ? `:\n${stderr}` : ''}`;
}

/** Runs a Node script; stdout goes to /dev/null, the tail of stderr is kept for error messages. */
function startChild(name, entry, env) {
  const proc = spawn(process.execPath, [entry], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const child = { name, proc, stderr: '', spawnError: undefined };
  child.exited = new Promise((resolve) => {
    proc.once('exit', resolve);
    proc.once('error', (err) => {
      child.spawnError = err;
      resolve();
    });
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => (child.stderr = (child.stderr + chunk).slice(-4_000)));
  children.add(child);
  return child;
}

async function settlesWithin(promise, ms) {
  return Promise.race([promise.then(() => true), sleep(ms, false, { ref: false })]);
}

async function stopChild(child) {
  if (!isRunning(child)) return;
  child.proc.kill('SIGTERM');
  if (await settlesWithin(child.exited, STOP_TIMEOUT_MS)) return;
  log(`${child.name} ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; killing it`);
  child.proc.kill('SIGKILL');
  await settlesWithin(child.exited, 1_000);
}

async function cleanup() {
  activeRun?.stop();
  await Promise.all([...children].map(stopChild));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
}

/** Polls until `url` answers 200; fails early if the child dies. */
async function waitForOk(child, url) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    interrupt.signal.throwIfAborted();
    if (!isRunning(child)) throw new BenchError(describeExit(child));
    try {
      const res = await httpGet(url);
      if (res.status === 200) return res;
    } catch {
      // Not listening yet.
    }
    await sleep(100, undefined, { signal: interrupt.signal });
  }
  throw new BenchError(`${child.name} did not answer 200 on ${url} within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

async function load(url, durationS, connections) {
  activeRun = autocannon({ url, method: 'GET', headers: HEADERS, connections, duration: durationS });
  try {
    return await activeRun;
  } finally {
    activeRun = undefined;
    interrupt.signal.throwIfAborted();
  }
}

/** Throughput of failing requests is not a measurement of the endpoint: refuse to report it. */
function assertAll2xx(label, result) {
  const problems = [];
  if (result.errors > 0) problems.push(`${result.errors} connection errors`);
  if (result.timeouts > 0) problems.push(`${result.timeouts} timeouts`);
  if (result.non2xx > 0) {
    const codes = Object.entries(result.statusCodeStats)
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, { count }]) => `${count} × ${code}`);
    problems.push(`${result.non2xx} non-2xx responses (${codes.join(', ')})`);
  }
  if (result['2xx'] === 0) problems.push('no 2xx response at all');
  if (problems.length > 0) {
    throw new BenchError(`${label}: ${problems.join('; ')}. The figures would be meaningless.`);
  }
}

function printResults(figures, ratio, pass, settings) {
  const row = (cells) => cells.map((cell, i) => (i === 0 ? cell.padEnd(16) : cell.padStart(12))).join('');
  const lines = [
    row(['target', 'req/s (avg)', 'p50 (ms)', 'p99 (ms)']),
    ...figures.map((f) => row([f.target, f.req_per_s.toFixed(1), f.p50_ms.toFixed(2), f.p99_ms.toFixed(2)])),
    '',
    `ratio command-center req/s ÷ bare express req/s = ${ratio.toFixed(3)} (target >= ${TARGET_RATIO}): ${pass ? 'PASS' : 'FAIL'}`,
    JSON.stringify({
      benchmark: 'overhead',
      endpoint: 'GET /meta',
      ...settings,
      node: process.version,
      cpus: os.availableParallelism(),
      results: figures,
      ratio: Number(ratio.toFixed(4)),
      target_ratio: TARGET_RATIO,
      pass,
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  if (!existsSync(SERVICE_ENTRY)) {
    throw new BenchError('dist/main.js not found: run `npm run build` first.');
  }
  const durationS = positiveInt('BENCH_DURATION_S', 10);
  const connections = positiveInt('BENCH_CONNECTIONS', 50);

  // Settings the caller's shell may export (e.g. from .env) would change what is measured.
  const inherited = { ...process.env };
  for (const key of ['DATABASE_URL', 'AUTH_PROXY_SECRET', 'TRUST_PROXY', 'META_BODY']) delete inherited[key];

  const [servicePort, barePort] = await freePorts(2);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'command-center-bench-'));

  log(`starting command-center on ${HOST}:${servicePort}`);
  const service = startChild('command-center', SERVICE_ENTRY, {
    ...inherited,
    PORT: String(servicePort),
    HOST,
    DATA_DIR: dataDir,
    // Request logging stays on (to /dev/null) because it is part of the real per-request cost.
    LOG_LEVEL: 'info',
    // Throttler still runs on every request, but never answers 429.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    SHUTDOWN_TIMEOUT_MS: '1000',
  });
  const serviceUrl = `http://${HOST}:${servicePort}/meta`;
  await waitForOk(service, `http://${HOST}:${servicePort}/healthz`);
  const meta = await httpGet(serviceUrl);
  interrupt.signal.throwIfAborted();
  if (meta.status !== 200) throw new BenchError(`command-center: GET /meta answered ${meta.status}: ${meta.body}`);
  JSON.parse(meta.body);

  log(`starting bare express on ${HOST}:${barePort}`);
  const bare = startChild('bare express', BARE_ENTRY, {
    ...inherited,
    PORT: String(barePort),
    HOST,
    META_BODY: meta.body,
  });
  const bareUrl = `http://${HOST}:${barePort}/meta`;
  const bareMeta = await waitForOk(bare, bareUrl);
  if (bareMeta.body !== meta.body) {
    throw new BenchError(`bare express answers a different body:\n  ${bareMeta.body}\nvs\n  ${meta.body}`);
  }

  const targets = [
    { name: 'command-center', url: serviceUrl, child: service },
    { name: 'bare express', url: bareUrl, child: bare },
  ];
  const figures = [];
  for (const { name, url, child } of targets) {
    log(`${name}: warm-up ${WARMUP_S} s, ${connections} connections`);
    assertAll2xx(`${name} warm-up`, await load(url, WARMUP_S, connections));
    log(`${name}: measuring ${durationS} s, ${connections} connections`);
    const result = await load(url, durationS, connections);
    assertAll2xx(name, result);
    if (!isRunning(child)) throw new BenchError(describeExit(child));
    figures.push({
      target: name,
      req_per_s: result.requests.average,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      requests: result['2xx'],
    });
  }

  const ratio = figures[0].req_per_s / figures[1].req_per_s;
  const pass = ratio >= TARGET_RATIO;
  printResults(figures, ratio, pass, { duration_s: durationS, warmup_s: WARMUP_S, connections });
  return pass ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) {
      // Second Ctrl-C: no more patience; the exit handler below still kills the children.
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    log(`\n${signal} received: stopping`);
    const reason = new BenchError(`interrupted by ${signal}; no figures`);
    reason.exitCode = SIGNAL_EXIT_CODES[signal];
    interrupt.abort(reason);
    activeRun?.stop();
  });
}

// Last resort for any path that skips `finally` (process.exit, second Ctrl-C).
process.on('exit', () => {
  for (const child of children) if (isRunning(child)) child.proc.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  const reason = interrupt.signal.aborted ? interrupt.signal.reason : err;
  log(reason instanceof BenchError ? `bench: ${reason.message}` : `bench: ${reason?.stack ?? String(reason)}`);
  exitCode = interrupt.signal.aborted ? reason.exitCode : 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
