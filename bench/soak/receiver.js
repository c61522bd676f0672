// Webhook receiver for the soak benchmark: a plain node:http server on 127.0.0.1 that answers
// a share of requests 500 at random (BENCH_SOAK_FAIL_PERCENT, 20 by default) and the rest 200,
// each after a small delay (BENCH_SOAK_RECEIVER_DELAY_MS × 0.5-1.5). It keeps, per `webhook-id`,
// how often it answered 200 and 500. Started by run.js with an IPC channel and PORT; never run
// it by hand. Requests from run.js ({ id, cmd, ... }) are answered with { id, ok, ... }:
//   stats {}                 counts only
//   set { failPercent }      changes the failure share (the drain phase sets 0)
//   report {}                counts, plus every id answered 200 and the ids answered 200 twice
// Exits when the runner goes away (IPC channel closed) or on SIGTERM/SIGINT.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
let failPercent = Number(process.env.BENCH_SOAK_FAIL_PERCENT ?? '20');
const delayMs = Number(process.env.BENCH_SOAK_RECEIVER_DELAY_MS ?? '10');

if (!Number.isInteger(port) || port <= 0 || typeof process.send !== 'function') {
  process.stderr.write('receiver: PORT must be set and an IPC channel open (this server is started by run.js)\n');
  process.exit(1);
}

/** webhook-id → [answered 200, answered 500] */
const seen = new Map();
const stats = {
  requests: 0,
  answered_200: 0,
  answered_500: 0,
  /** The client went away before the answer was written (the service gave up on the attempt). */
  aborted: 0,
  without_id: 0,
  not_post: 0,
  distinct: 0,
  /** ids answered 200 more than once, and the extra 200s. */
  duplicate_ids: 0,
  duplicate_200s: 0,
  first_at: null,
  last_at: null,
};

function answer(req, res, status) {
  if (res.destroyed || req.socket.destroyed) {
    stats.aborted++;
    return false;
  }
  const body = status === 200 ? 'ok' : 'receiver failure (simulated)';
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return true;
}

const server = http.createServer((req, res) => {
  const now = Date.now();
  stats.requests++;
  stats.first_at ??= now;
  stats.last_at = now;
  if (req.method !== 'POST') stats.not_post++;
  const header = req.headers['webhook-id'];
  const id = typeof header === 'string' && header !== '' ? header : undefined;
  if (id === undefined) stats.without_id++;
  const status = Math.random() * 100 < failPercent ? 500 : 200;
  req.resume(); // the body is drained but not read
  setTimeout(
    () => {
      if (!answer(req, res, status)) return;
      if (status === 500) stats.answered_500++;
      else stats.answered_200++;
      if (id === undefined) return;
      let counts = seen.get(id);
      if (!counts) {
        counts = [0, 0];
        seen.set(id, counts);
        stats.distinct++;
      }
      if (status === 500) counts[1]++;
      else if (++counts[0] > 1) {
        stats.duplicate_200s++;
        if (counts[0] === 2) stats.duplicate_ids++;
      }
    },
    delayMs * (0.5 + Math.random()),
  );
});

server.on('error', (err) => {
  process.stderr.write(`receiver: ${err.message}\n`);
  process.exit(1);
});

function report() {
  const ok = [];
  const duplicates = [];
  for (const [id, [n200]] of seen) {
    if (n200 > 0) ok.push(id);
    if (n200 > 1) duplicates.push({ id, answered_200: n200 });
  }
  return { ...stats, fail_percent: failPercent, ok_ids: ok, duplicates: duplicates.slice(0, 20) };
}

const COMMANDS = {
  stats: () => ({ ...stats, fail_percent: failPercent }),
  set: (msg) => {
    failPercent = Number(msg.failPercent);
    return { fail_percent: failPercent };
  },
  report,
};

process.on('message', (msg) => {
  const command = COMMANDS[msg?.cmd];
  const reply = command ? { ok: true, ...command(msg) } : { ok: false, error: `unknown command ${msg?.cmd}` };
  process.send({ ...reply, id: msg.id });
});

server.listen({ port, host, backlog: 1024 }, () => process.send({ ready: true }));
// The runner is gone (or finished): nothing left to report to.
process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
