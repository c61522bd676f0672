// SSE clients for the fan-out benchmark. Forked by run.js with an IPC channel; never run it
// by hand. Holds one phase's clients at a time (one socket each, no keep-alive agent), parses
// their streams and records, per client and per published event, publish→receipt latency.
//
// Requests from run.js ({ id, cmd, ... }) are answered with { id, ok, ... }:
//   connect { count, batch, tag, capacity }  opens `count` clients, `batch` at a time
//   collect { seqs, drainMs }                waits (at most drainMs) for those events, then
//                                            returns delivery counts and latency percentiles
//   close {}                                 closes every client of the phase
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = process.env.BENCH_SSE_HOST;
const PORT = Number(process.env.BENCH_SSE_PORT);
const HEADERS = { 'x-user-roles': 'operator', accept: 'text/event-stream', 'cache-control': 'no-cache' };
/** Headers of every client of a batch must arrive within this time. */
const BATCH_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 10_000;
/** File descriptors this process needs besides its sockets (stdio, IPC, libuv, V8). */
const FD_RESERVE = 64;
const TARGET_EVENT = 'operator.annotation';
/** The message run.js publishes: bench:<phase tag>:<sequence number>:<send time, ms since epoch>. */
const MESSAGE_RE = /"message"\s*:\s*"bench:([\w-]+):(\d+):(\d+(?:\.\d+)?)"/;

/** Wall-clock milliseconds with sub-millisecond resolution; run.js stamps messages the same way. */
const now = () => performance.timeOrigin + performance.now();

if (typeof process.send !== 'function' || !HOST || !Number.isInteger(PORT)) {
  process.stderr.write('clients.js is started by run.js (IPC channel, BENCH_SSE_HOST, BENCH_SSE_PORT)\n');
  process.exit(1);
}
// The runner is gone (killed with SIGKILL, crashed): nothing left to report to. It can no longer
// stop the service either, so do that here, then remove the service's temporary data directory.
process.on('disconnect', () => {
  void stopOrphanedService().finally(() => process.exit(1));
});

/** Whether `pid` is still the service run.js started (its environment names the unique DATA_DIR). */
function isTheService(pid, dataDir) {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`DATA_DIR=${dataDir}`);
  } catch {
    return false;
  }
}

async function stopOrphanedService() {
  const pid = Number(process.env.BENCH_SSE_SERVICE_PID);
  const dataDir = process.env.BENCH_SSE_DATA_DIR;
  if (!Number.isInteger(pid) || pid <= 0 || !dataDir) return;
  for (const [signal, waitMs] of [
    ['SIGTERM', 3_000],
    ['SIGKILL', 1_000],
  ]) {
    if (!isTheService(pid, dataDir)) break;
    try {
      process.kill(pid, signal);
    } catch {
      break;
    }
    for (let waited = 0; waited < waitMs && isTheService(pid, dataDir); waited += 100) await sleep(100);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/** The state of the phase in progress; undefined between phases. */
let phase;

/** Soft and hard "Max open files" of this process, from /proc (Linux). */
function fdLimits() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
    const parse = (v) => (v === 'unlimited' ? Infinity : Number(v));
    return { soft: parse(soft), hard: parse(hard) };
  } catch {
    return undefined;
  }
}

// Read now: once the descriptors are used up, /proc/self/limits cannot be opened any more.
const FD_LIMITS = fdLimits();

function emfileAdvice(count, happened) {
  const current = FD_LIMITS ? `soft limit ${FD_LIMITS.soft}, hard limit ${FD_LIMITS.hard}` : 'limit unknown';
  const what = happened
    ? 'ran out of file descriptors (EMFILE)'
    : `would run out of file descriptors (${count + FD_RESERVE} needed)`;
  return (
    `the clients process ${what} for ${count} clients (${current}). ` +
    `Raise the limit in the shell that runs the benchmark, e.g. \`ulimit -n ${count + 1024}\` ` +
    '(the hard limit may need root or /etc/security/limits.conf), or run fewer clients (BENCH_SSE_PHASES).'
  );
}

function newPhase({ count, tag, capacity }) {
  const latencies = new Float64Array(count * capacity);
  latencies.fill(NaN);
  return {
    count,
    tag,
    capacity,
    // latencies[client * capacity + seq]: publish→receipt in ms, NaN until received.
    latencies,
    clients: [],
    closing: false,
    duplicates: 0,
    otherEvents: 0,
    foreignAnnotations: 0,
    comments: 0,
    disconnects: 0,
    firstDisconnect: undefined,
  };
}

function lostClient(client, reason) {
  if (client.gone) return;
  client.gone = true;
  if (phase?.clients[client.index] !== client || phase.closing) return;
  phase.disconnects++;
  phase.firstDisconnect ??= `client ${client.index}: ${reason}`;
}

/** One complete SSE frame (the text between two blank lines), already split off the stream. */
function handleFrame(client, frame, receivedAt) {
  // Cheap pre-filter: most frames are other event types (each annotation also causes an audit
  // event) or heartbeats, and a frame of the measured type necessarily contains its name.
  if (!frame.includes(TARGET_EVENT)) {
    // (Nest starts a stream with a lone newline, so the first frame may begin with one.)
    const text = frame.trimStart();
    if (text.charCodeAt(0) === 58 /* ':' */) phase.comments++;
    else if (text !== '') phase.otherEvents++;
    return;
  }
  let event = '';
  let data = '';
  for (const line of frame.split('\n')) {
    if (line === '') continue;
    if (line.charCodeAt(0) === 58 /* ':' */) {
      phase.comments++;
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data = data === '' ? value : `${data}\n${value}`;
  }
  if (event !== TARGET_EVENT) {
    if (event !== '' || data !== '') phase.otherEvents++;
    return;
  }
  const match = MESSAGE_RE.exec(data);
  if (match === null || match[1] !== phase.tag) {
    // Somebody else's annotation, or one from an earlier phase.
    phase.foreignAnnotations++;
    return;
  }
  const seq = Number(match[2]);
  if (seq >= phase.capacity) {
    phase.foreignAnnotations++;
    return;
  }
  const slot = client.index * phase.capacity + seq;
  if (!Number.isNaN(phase.latencies[slot])) {
    phase.duplicates++;
    return;
  }
  phase.latencies[slot] = receivedAt - Number(match[3]);
}

function onData(client, chunk) {
  // One timestamp per read: every frame in this chunk arrived together.
  const receivedAt = now();
  if (phase?.clients[client.index] !== client) return;
  let text = chunk;
  // SSE allows CRLF and CR line endings; normalise to LF (a CRLF may be split across reads).
  if (client.pendingCR && text.charCodeAt(0) === 10) text = text.slice(1);
  client.pendingCR = text.charCodeAt(text.length - 1) === 13;
  if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
  let buffer = client.buffer + text;
  let start = 0;
  let end;
  while ((end = buffer.indexOf('\n\n', start)) !== -1) {
    handleFrame(client, buffer.slice(start, end), receivedAt);
    start = end + 2;
  }
  client.buffer = start === 0 ? buffer : buffer.slice(start);
}

/** Opens one client; resolves with undefined once its stream is accepted, or with a failure. */
function openClient(index) {
  return new Promise((resolve) => {
    const client = { index, req: undefined, buffer: '', pendingCR: false, gone: false, pending: true };
    phase.clients[index] = client;
    const fail = (failure) => {
      if (!client.pending) return;
      client.pending = false;
      client.gone = true;
      resolve(failure);
    };
    const req = http.request({
      host: HOST,
      port: PORT,
      path: '/events/stream',
      method: 'GET',
      headers: HEADERS,
      agent: false,
    });
    client.req = req;
    req.on('error', (err) => {
      if (client.pending) fail({ code: err.code ?? 'ERROR', message: err.message });
      else lostClient(client, err.message);
    });
    req.on('response', (res) => {
      res.on('error', (err) => lostClient(client, err.message));
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body = (body + chunk).slice(0, 300)));
        const done = () =>
          fail({
            code: `HTTP ${res.statusCode}`,
            status: res.statusCode,
            message: `answered ${res.statusCode} with content-type ${JSON.stringify(type)}: ${body.trim()}`,
          });
        res.on('end', done);
        res.on('close', done);
        return;
      }
      client.pending = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => onData(client, chunk));
      res.on('close', () => lostClient(client, 'the server closed the stream'));
      resolve(undefined);
    });
    req.end();
  });
}

async function connect({ count, batch, tag, capacity }) {
  if (FD_LIMITS && FD_LIMITS.soft < count + FD_RESERVE) {
    return { ok: false, code: 'EMFILE', error: emfileAdvice(count, false) };
  }
  phase = newPhase({ count, tag, capacity });
  const started = now();
  for (let first = 0; first < count; first += batch) {
    const size = Math.min(batch, count - first);
    const opened = Array.from({ length: size }, (_, i) => openClient(first + i));
    const timeout = sleep(BATCH_TIMEOUT_MS, 'timeout', { ref: false });
    const outcome = await Promise.race([Promise.all(opened), timeout]);
    if (outcome === 'timeout') {
      const waiting = phase.clients.slice(first, first + size).filter((c) => c.pending).length;
      return {
        ok: false,
        code: 'TIMEOUT',
        error: `${waiting} of clients ${first}-${first + size - 1} got no response headers within ${BATCH_TIMEOUT_MS / 1000} s`,
      };
    }
    const failures = outcome.filter(Boolean);
    if (failures.length > 0) {
      const emfile = failures.find((f) => f.code === 'EMFILE');
      if (emfile) return { ok: false, code: 'EMFILE', error: emfileAdvice(count, true) };
      const byCode = {};
      for (const f of failures) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
      const summary = Object.entries(byCode)
        .map(([code, n]) => `${n} × ${code}`)
        .join(', ');
      return {
        ok: false,
        code: failures[0].code,
        status: failures[0].status,
        error:
          `${failures.length} of clients ${first}-${first + size - 1} failed (${summary}); ` +
          `first: GET /events/stream ${failures[0].message}`,
      };
    }
    if (phase.disconnects > 0) {
      return {
        ok: false,
        code: 'DISCONNECT',
        error: `a client lost its stream while connecting: ${phase.firstDisconnect}`,
      };
    }
  }
  return { ok: true, connect_ms: now() - started };
}

function countReceived(seqs) {
  const { latencies, capacity, count } = phase;
  let received = 0;
  for (let client = 0; client < count; client++) {
    const base = client * capacity;
    for (const seq of seqs) if (!Number.isNaN(latencies[base + seq])) received++;
  }
  return received;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

async function collect({ seqs, drainMs }) {
  const expected = seqs.length * phase.count;
  const deadline = now() + drainMs;
  const waitStarted = now();
  let received = countReceived(seqs);
  while (received < expected && now() < deadline) {
    await sleep(100);
    received = countReceived(seqs);
  }
  const { latencies, capacity, count } = phase;
  const values = new Float64Array(received);
  let k = 0;
  let clientsMissing = 0;
  const missingBySeq = new Map();
  for (let client = 0; client < count; client++) {
    const base = client * capacity;
    let missed = false;
    for (const seq of seqs) {
      const value = latencies[base + seq];
      if (Number.isNaN(value)) {
        missed = true;
        missingBySeq.set(seq, (missingBySeq.get(seq) ?? 0) + 1);
      } else values[k++] = value;
    }
    if (missed) clientsMissing++;
  }
  values.sort();
  const round = (v) => (v === null ? null : Number(v.toFixed(3)));
  return {
    ok: true,
    expected,
    received,
    missing: expected - received,
    clients_missing: clientsMissing,
    // A few examples, for the verdict line.
    missing_examples: [...missingBySeq]
      .slice(0, 5)
      .map(([seq, n]) => `event #${seq} missed by ${n} client${n === 1 ? '' : 's'}`),
    duplicates: phase.duplicates,
    disconnects: phase.disconnects,
    first_disconnect: phase.firstDisconnect ?? null,
    other_events: phase.otherEvents,
    foreign_annotations: phase.foreignAnnotations,
    comments: phase.comments,
    drain_wait_ms: round(now() - waitStarted),
    min_ms: round(values.length ? values[0] : null),
    p50_ms: round(percentile(values, 0.5)),
    p90_ms: round(percentile(values, 0.9)),
    p99_ms: round(percentile(values, 0.99)),
    max_ms: round(values.length ? values[values.length - 1] : null),
  };
}

async function close() {
  if (!phase) return { ok: true };
  phase.closing = true;
  const closed = phase.clients.map(
    (client) =>
      new Promise((resolve) => {
        const socket = client.req?.socket;
        if (!socket || socket.destroyed) return resolve();
        socket.once('close', resolve);
        client.req.destroy();
      }),
  );
  const outcome = await Promise.race([Promise.all(closed), sleep(CLOSE_TIMEOUT_MS, 'timeout', { ref: false })]);
  phase = undefined;
  return outcome === 'timeout' ? { ok: false, error: 'clients did not close within 10 s' } : { ok: true };
}

const COMMANDS = { connect, collect, close };

process.on('message', (msg) => {
  const command = COMMANDS[msg?.cmd];
  const run = command ? command(msg) : Promise.resolve({ ok: false, error: `unknown command ${msg?.cmd}` });
  Promise.resolve(run)
    .catch((err) => ({ ok: false, error: err?.stack ?? String(err) }))
    .then((reply) => process.send({ ...reply, id: msg.id }));
});
process.send({ ready: true });
