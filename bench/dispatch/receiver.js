// Webhook receiver for the dispatch benchmark: a plain node:http server on 127.0.0.1 that answers
// every request 200 at once and counts requests and distinct `webhook-id` headers. Started by
// run.js with an IPC channel and PORT; answers { cmd: 'stats' } with its counts. Exits when the
// runner goes away (IPC channel closed) or on SIGTERM/SIGINT.
import http from 'node:http';
import process from 'node:process';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';

if (!Number.isInteger(port) || port <= 0 || typeof process.send !== 'function') {
  process.stderr.write('receiver: PORT must be set and an IPC channel open (this server is started by run.js)\n');
  process.exit(1);
}

const seen = new Set();
const stats = {
  requests: 0,
  distinct: 0,
  duplicates: 0,
  without_id: 0,
  not_post: 0,
  first_at: null,
  last_at: null,
  duplicate_examples: [],
};

const server = http.createServer((req, res) => {
  const now = Date.now();
  stats.requests++;
  stats.first_at ??= now;
  stats.last_at = now;
  if (req.method !== 'POST') stats.not_post++;
  const id = req.headers['webhook-id'];
  if (typeof id !== 'string' || id === '') stats.without_id++;
  else if (seen.has(id)) {
    stats.duplicates++;
    if (stats.duplicate_examples.length < 5) stats.duplicate_examples.push(id);
  } else {
    seen.add(id);
    stats.distinct++;
  }
  // Answer at once; the body is drained but not read.
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});

server.on('error', (err) => {
  process.stderr.write(`receiver: ${err.message}\n`);
  process.exit(1);
});

server.listen({ port, host, backlog: 4096 }, () => process.send({ ready: true }));

process.on('message', (msg) => {
  if (msg?.cmd === 'stats') process.send({ id: msg.id, ok: true, ...stats });
});
// The runner is gone (or finished): nothing left to report to.
process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
