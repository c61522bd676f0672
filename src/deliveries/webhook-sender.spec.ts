import dns from 'node:dns';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/app-config.js';
import { appVersion } from '../health/app-version.js';
import { EXCERPT_BYTES, parseRetryAfter, WebhookSender } from './webhook-sender.js';

interface Hit {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  url: string;
  hits: Hit[];
  /** TCP connections accepted, so "no request" also means "no connection at all". */
  connections: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** A loopback server; the handler runs once the request body has been read. */
async function startServer(handler: (res: http.ServerResponse, hit: Hit) => void): Promise<TestServer> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      hits.push(hit);
      handler(res, hit);
    });
  });
  const state: TestServer = {
    port: 0,
    url: '',
    hits,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => (state.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  servers.push(state);
  return state;
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const TIMEOUT_MS = 500;
const TEST_BUDGET_MS = 5000;
const open = () =>
  new WebhookSender(loadConfig({ DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8', DELIVERY_TIMEOUT_MS: '500' }));
const guarded = () => new WebhookSender(loadConfig({}));

describe('WebhookSender over loopback', () => {
  it(
    'POSTs the body and headers as given, adding content-type and user-agent',
    async () => {
      const server = await startServer((res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
      const body = JSON.stringify({ type: 'order.created', note: 'héllo €', n: 1 });

      const result = await open().send({
        url: `${server.url}/hooks/in?tenant=a`,
        headers: { 'X-Signature': 'sha256=abc', 'X-Event-Id': 'evt_1', 'content-type': 'text/plain' },
        body,
      });

      expect(result).toEqual({
        statusCode: 200,
        errorKind: null,
        durationMs: expect.any(Number),
        responseExcerpt: 'ok',
        retryAfterSeconds: null,
        errorMessage: null,
      });
      expect(server.hits).toHaveLength(1);
      const [hit] = server.hits;
      expect(hit.method).toBe('POST');
      expect(hit.url).toBe('/hooks/in?tenant=a');
      expect(hit.body).toBe(body);
      expect(hit.headers['content-type']).toBe('application/json');
      expect(hit.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(hit.headers['user-agent']).toBe(`CommandCenter-Webhooks/${appVersion()}`);
      expect(hit.headers['x-signature']).toBe('sha256=abc');
      expect(hit.headers['x-event-id']).toBe('evt_1');
    },
    TEST_BUDGET_MS,
  );

  it(
    'reports a 500 as http_status with the body excerpt',
    async () => {
      const server = await startServer((res) => res.writeHead(500).end('boom: database down'));

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      expect(result).toMatchObject({
        statusCode: 500,
        errorKind: 'http_status',
        responseExcerpt: 'boom: database down',
        retryAfterSeconds: null,
        errorMessage: 'HTTP 500',
      });
    },
    TEST_BUDGET_MS,
  );

  it(
    'never follows a redirect',
    async () => {
      const target = await startServer((res) => res.writeHead(200).end());
      const server = await startServer((res) => res.writeHead(302, { location: `${target.url}/elsewhere` }).end());

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: 302, errorKind: 'http_status' });
      expect(server.hits).toHaveLength(1);
      expect(target.connections).toBe(0);
    },
    TEST_BUDGET_MS,
  );

  it(
    'reads Retry-After from a 429',
    async () => {
      const server = await startServer((res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'));

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      expect(result).toMatchObject({
        statusCode: 429,
        errorKind: 'http_status',
        retryAfterSeconds: 7,
        responseExcerpt: 'slow down',
      });
    },
    TEST_BUDGET_MS,
  );

  it(
    'times out a server that never answers',
    async () => {
      const server = await startServer(() => undefined);
      const started = Date.now();

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      const took = Date.now() - started;
      expect(result).toMatchObject({ statusCode: null, errorKind: 'timeout', responseExcerpt: null });
      expect(result.errorMessage).toMatch(/500 ms/);
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(took).toBeLessThan(TIMEOUT_MS + 1000);
      expect(server.hits).toHaveLength(1);
    },
    TEST_BUDGET_MS,
  );

  it(
    'stops after the excerpt of a 1 MB body',
    async () => {
      const server = await startServer((res) => res.writeHead(200).end('x'.repeat(1024 * 1024)));
      const started = Date.now();

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect(result).toMatchObject({ statusCode: 200, errorKind: null });
      expect(result.responseExcerpt).toHaveLength(EXCERPT_BYTES);
    },
    TEST_BUDGET_MS,
  );

  it(
    'does not wait for the rest of a body that never ends',
    async () => {
      // A long timeout, so returning early can only come from stopping at the excerpt.
      const sender = new WebhookSender(
        loadConfig({ DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8', DELIVERY_TIMEOUT_MS: '4000' }),
      );
      const server = await startServer((res) => {
        res.writeHead(200);
        res.write('€'.repeat(1024 * 1024));
      });
      const started = Date.now();

      const result = await sender.send({ url: server.url, headers: {}, body: '{}' });

      expect(Date.now() - started).toBeLessThan(1500);
      expect(result).toMatchObject({ statusCode: 200, errorKind: null });
      // 4096 bytes hold 1365 whole three-byte characters; the split one is dropped, not mangled.
      expect(result.responseExcerpt).toBe('€'.repeat(1365));
    },
    TEST_BUDGET_MS,
  );

  it(
    'keeps the status of an answer whose body is still trickling in at the deadline',
    async () => {
      const server = await startServer((res) => {
        res.writeHead(503);
        res.write('partial');
      });

      const result = await open().send({ url: server.url, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: 503, errorKind: 'http_status', responseExcerpt: 'partial' });
    },
    TEST_BUDGET_MS,
  );

  it(
    'reports a refused connection as connect',
    async () => {
      const port = await closedPort();

      const result = await open().send({ url: `http://127.0.0.1:${port}/`, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'connect', responseExcerpt: null });
      expect(result.errorMessage).toMatch(/ECONNREFUSED/);
    },
    TEST_BUDGET_MS,
  );

  it(
    'reports an unknown host as dns',
    async () => {
      const result = await open().send({ url: 'http://no-such-host.invalid/hook', headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'dns' });
    },
    TEST_BUDGET_MS,
  );

  it(
    'reports a failed TLS handshake as tls',
    async () => {
      // Speaking TLS to a plain-HTTP server fails in the handshake, no certificate fixture needed.
      const server = await startServer((res) => res.writeHead(200).end());

      const result = await open().send({ url: `https://127.0.0.1:${server.port}/`, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'tls' });
      expect(server.hits).toHaveLength(0);
    },
    TEST_BUDGET_MS,
  );

  it(
    'stops when the caller aborts',
    async () => {
      const server = await startServer(() => undefined);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();

      const result = await open().send({ url: server.url, headers: {}, body: '{}', signal: controller.signal });

      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS - 100);
      expect(result).toMatchObject({ statusCode: null, errorKind: 'timeout', errorMessage: 'aborted by caller' });

      const again = await open().send({ url: server.url, headers: {}, body: '{}', signal: controller.signal });
      expect(again.errorKind).toBe('timeout');
      expect(server.hits).toHaveLength(1);
    },
    TEST_BUDGET_MS,
  );

  it(
    'reports a header value Node refuses instead of throwing',
    async () => {
      const server = await startServer((res) => res.writeHead(200).end());

      const result = await open().send({ url: server.url, headers: { 'X-Bad': 'a\r\nInjected: 1' }, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'connect' });
      expect(server.connections).toBe(0);
    },
    TEST_BUDGET_MS,
  );
});

describe('WebhookSender SSRF protection', () => {
  it.each([
    ['127.0.0.1', (port: number) => `http://127.0.0.1:${port}/hook`],
    ['localhost', (port: number) => `http://localhost:${port}/hook`],
    ['[::1]', (port: number) => `http://[::1]:${port}/hook`],
    ['[::ffff:127.0.0.1]', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`],
    ['127.1 (URL-normalised)', (port: number) => `http://127.1:${port}/hook`],
    ['decimal 2130706433', (port: number) => `http://2130706433:${port}/hook`],
  ])(
    'refuses %s without the allow-list and never connects',
    async (_label, url) => {
      const server = await startServer((res) => res.writeHead(200).end());

      const result = await guarded().send({ url: url(server.port), headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'ssrf_blocked', responseExcerpt: null });
      expect(server.connections).toBe(0);
    },
    TEST_BUDGET_MS,
  );

  it(
    'refuses the cloud metadata address',
    async () => {
      const result = await guarded().send({ url: 'http://169.254.169.254/latest/meta-data/', headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'ssrf_blocked' });
      expect(result.durationMs).toBeLessThan(100);
    },
    TEST_BUDGET_MS,
  );

  it.each(['ftp://127.0.0.1/hook', 'ftp://example.com/hook', 'file:///etc/passwd', 'not a url'])(
    'refuses %s',
    async (url) => {
      const result = await open().send({ url, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'ssrf_blocked' });
    },
    TEST_BUDGET_MS,
  );

  it(
    'refuses a name when any of its addresses is private',
    async () => {
      const server = await startServer((res) => res.writeHead(200).end());
      fakeDns({ 'rebind.example.test': ['93.184.216.34', '127.0.0.1'] });

      const result = await guarded().send({
        url: `http://rebind.example.test:${server.port}/`,
        headers: {},
        body: '{}',
      });

      expect(result).toMatchObject({ statusCode: null, errorKind: 'ssrf_blocked' });
      expect(result.errorMessage).toMatch(/127\.0\.0\.1/);
      expect(server.connections).toBe(0);
    },
    TEST_BUDGET_MS,
  );

  it(
    'connects to the address it checked, keeping the name as Host',
    async () => {
      const server = await startServer((res) => res.writeHead(204).end());
      const lookup = fakeDns({ 'hooks.example.test': ['127.0.0.1'] });

      const result = await open().send({ url: `http://hooks.example.test:${server.port}/`, headers: {}, body: '{}' });

      expect(result).toMatchObject({ statusCode: 204, errorKind: null, responseExcerpt: '' });
      expect(lookup).toHaveBeenCalledWith(
        'hooks.example.test',
        expect.objectContaining({ all: true }),
        expect.any(Function),
      );
      expect(server.hits[0].headers.host).toBe(`hooks.example.test:${server.port}`);
    },
    TEST_BUDGET_MS,
  );
});

/** Answers dns.lookup from a table, so name-based cases need no real resolver. */
function fakeDns(table: Record<string, string[]>) {
  type Callback = (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void;
  const fake = (hostname: string, _options: dns.LookupAllOptions, callback: Callback) => {
    const addresses = table[hostname];
    if (!addresses) {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      err.code = 'ENOTFOUND';
      return process.nextTick(callback, err, []);
    }
    const answer = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    process.nextTick(callback, null, answer);
  };
  return jest.spyOn(dns, 'lookup').mockImplementation(fake as unknown as typeof dns.lookup);
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
  });

  it('returns null when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});
