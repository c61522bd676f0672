import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real webhook receiver on loopback. Paths choose the answer: /ok 200, /fail 500, /gone 410,
 * /limited 429 with Retry-After: 7, /slow never answers, /redirect 302 to /ok (or to the URL in
 * `?to=`), /big a 1 MB body,
 * /delay-N answers 200 after N ms, /flaky-N fails N times then answers 200, /switch answers 500 while `failing` is set, else 200.
 */
export class WebhookReceiver {
  readonly hooks: ReceivedHook[] = [];
  private server!: Server;
  private readonly flaky = new Map<string, number>();
  port = 0;
  /** What /switch answers: 500 while true, 200 otherwise. */
  failing = false;

  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        // Routed on the pathname: endpoints may differ only in their query string.
        const path = (req.url ?? '/').split('?')[0];
        this.hooks.push({ path, headers: req.headers, body });
        if (path.startsWith('/delay-')) {
          setTimeout(() => res.writeHead(200).end('thanks, later'), Number(path.slice(7)));
          return;
        }
        if (path.startsWith('/flaky-')) {
          // Counted per full URL, so endpoints that differ by query string fail independently.
          const seen = (this.flaky.get(req.url ?? path) ?? 0) + 1;
          this.flaky.set(req.url ?? path, seen);
          res.writeHead(seen <= Number(path.slice(7)) ? 500 : 200).end('flaky');
          return;
        }
        switch (path) {
          case '/switch':
            return void res.writeHead(this.failing ? 500 : 200).end(this.failing ? 'down' : 'ok');
          case '/ok':
            return void res.writeHead(200).end('thanks');
          case '/fail':
            return void res.writeHead(500).end('receiver exploded');
          case '/gone':
            return void res.writeHead(410).end('gone');
          case '/limited':
            return void res.writeHead(429, { 'Retry-After': '7' }).end('slow down');
          case '/redirect':
            return void res
              .writeHead(302, {
                Location:
                  new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? `http://${host}:${this.port}/ok`,
              })
              .end();
          case '/big':
            return void res.writeHead(200).end('x'.repeat(1024 * 1024));
          case '/slow':
            return; // never answers
          default:
            return void res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    this.port = (this.server.address() as { port: number }).port;
    return `http://${host}:${this.port}`;
  }

  hits(path: string): ReceivedHook[] {
    return this.hooks.filter((h) => h.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Standard Webhooks verification, written from the specification (not the service's code). */
export function verifySignature(secret: string, hook: ReceivedHook): boolean {
  const id = String(hook.headers['webhook-id']);
  const timestamp = String(hook.headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${hook.body}`).digest();
  return String(hook.headers['webhook-signature'])
    .split(' ')
    .some((candidate) => {
      const [version, signature] = candidate.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}
