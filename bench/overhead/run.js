// Framework overhead benchmark: GET /meta on the built service versus a bare Express 5
// server answering the same body, one after the other, on loopback. See README.md.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import autocannon from 'autocannon';
import {
  BenchError,
  describeExit,
  freePorts,
  HOST,
  httpGet,
  interrupt,
  isRunning,
  log,
  makeTempDir,
  positiveInt,
  ROOT,
  runBench,
  startChild,
  waitForOk,
} from '../support/processes.js';

const SERVICE_ENTRY = path.join(ROOT, 'dist', 'main.js');
const BARE_ENTRY = fileURLToPath(new URL('./bare-express.js', import.meta.url));
const HEADERS = { 'x-user-roles': 'operator' };
const WARMUP_S = 3;
const TARGET_RATIO = 0.5;

let activeRun;

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
  const dataDir = makeTempDir('command-center-bench-');

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
  await waitForOk(service, `http://${HOST}:${servicePort}/healthz`, HEADERS);
  const meta = await httpGet(serviceUrl, HEADERS);
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
  const bareMeta = await waitForOk(bare, bareUrl, HEADERS);
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

await runBench(main, { onStop: () => activeRun?.stop() });
