import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { postgresAvailable, testDialects } from './support/dialects.js';
import { freePort, startService, waitUntilHealthy, within } from './support/service-process.js';
import { SseClient } from './support/sse-client.js';

const NO_STACK = /^\s+at /m;

describe('start-up failures are one readable message', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-proc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names every bad variable and exits 1', async () => {
    const proc = startService(
      {
        DATA_DIR: dir,
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        RATE_LIMIT_PER_MINUTE: '-5',
        DATABASE_URL: 'mysql://secret@x',
      },
      0,
    );
    const { code } = await within(proc.exited, 10000, 'exit');
    expect(code).toBe(1);
    const stderr = proc.stderr();
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toContain('PORT must be an integer between 1 and 65535 (got "eighty")');
    expect(stderr).toContain('LOG_LEVEL must be one of debug, info, warning, error (got "loud")');
    expect(stderr).toContain('RATE_LIMIT_PER_MINUTE must be a non-negative integer');
    expect(stderr).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(stderr).not.toContain('secret');
    expect(stderr).not.toMatch(NO_STACK);
  });

  it('reports a data directory that cannot be written', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, '');
    const proc = startService({ DATA_DIR: join(file, 'data') }, await freePort());
    const { code } = await within(proc.exited, 10000, 'exit');
    expect(code).toBe(1);
    expect(proc.stderr()).toMatch(/Data directory .*not-a-directory\/data is not writable \(ENOTDIR\)/);
    expect(proc.stderr()).not.toMatch(NO_STACK);
  });

  it('reports a PostgreSQL server that cannot be reached, without the password', async () => {
    const closedPort = await freePort();
    const proc = startService(
      {
        DATA_DIR: dir,
        DATABASE_URL: `postgres://cc:hunter2@127.0.0.1:${closedPort}/cc`,
        DB_CONNECT_TIMEOUT_MS: '1000',
      },
      await freePort(),
    );
    const { code } = await within(proc.exited, 15000, 'exit');
    expect(code).toBe(1);
    expect(proc.stderr()).toContain(`Cannot connect to PostgreSQL at 127.0.0.1:${closedPort}/cc`);
    expect(proc.stderr()).toContain('ECONNREFUSED');
    expect(proc.stderr()).not.toContain('hunter2');
    expect(proc.stderr()).not.toMatch(NO_STACK);
  });
});

describe.each(testDialects())('SIGTERM (%s)', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db.drop());

  // Nest's shutdown hooks close the app, then re-raise the signal: exit status 143 in a container.
  it('drains, closes idle keep-alive connections and exits on the signal within 10 s', async () => {
    const service = startService({ ...db.env, LOG_LEVEL: 'info' }, await freePort());
    try {
      await waitUntilHealthy(service);
      // An idle keep-alive connection must not hold the process open.
      const agentResponse = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: service.port, path: '/meta', headers: { Connection: 'keep-alive' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(agentResponse).toBe(200);
      const started = Date.now();
      service.child.kill('SIGTERM');
      const { code, signal } = await within(service.exited, 10000, 'shutdown');
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
      expect(Date.now() - started).toBeLessThan(10000);
      const lines = service.stdout().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
      expect(lines.some((l) => l.includes('"endpoint":"/meta"'))).toBe(true);
      expect(lines.some((l) => l.includes('Shutting down on SIGTERM'))).toBe(true);
    } finally {
      service.child.kill('SIGKILL');
    }
  });
});

describe.each(testDialects())('SIGTERM with open event streams (%s)', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db.drop());

  it('completes the streams and exits within a few seconds', async () => {
    const service = startService({ ...db.env, SSE_HEARTBEAT_S: '60' }, await freePort());
    try {
      await waitUntilHealthy(service);
      const url = `http://127.0.0.1:${service.port}/events/stream`;
      const streams = await Promise.all([1, 2, 3, 4, 5].map(() => SseClient.open(url, { 'X-User-Roles': 'operator' })));
      expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
      const started = Date.now();
      service.child.kill('SIGTERM');
      await within(service.exited, 10000, 'shutdown');
      await Promise.all(streams.map((s) => within(s.closed, 2000, 'stream close')));
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      service.child.kill('SIGKILL');
    }
  });
});

if (!postgresAvailable()) {
  it.skip('PostgreSQL start-up and shutdown: set TEST_DATABASE_URL to run', () => undefined);
}
