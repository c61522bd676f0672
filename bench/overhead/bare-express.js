// Baseline for the overhead benchmark: plain Express 5, one route, nothing else.
// Started by run.js with PORT, HOST and META_BODY (the service's own GET /meta body).
import process from 'node:process';
import express from 'express';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const metaBody = process.env.META_BODY;

if (!Number.isInteger(port) || port <= 0 || !metaBody) {
  process.stderr.write('bare-express: PORT and META_BODY must be set (this server is started by run.js)\n');
  process.exit(1);
}

// Parsed once, serialised per request, as the service does with the DTO it returns.
const meta = JSON.parse(metaBody);

const app = express();
// The service disables it too; keeps the two responses the same size.
app.disable('x-powered-by');
app.get('/meta', (_req, res) => {
  res.json(meta);
});

const server = app.listen(port, host, (err) => {
  if (err) {
    process.stderr.write(`bare-express: cannot listen on ${host}:${port}: ${err.message}\n`);
    process.exit(1);
  }
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    // Keep-alive sockets from the load generator may hold close() open.
    server.closeAllConnections();
  });
}
