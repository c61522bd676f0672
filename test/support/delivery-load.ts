import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { Dialect } from './dialects.js';
import type { TestDatabase } from './test-database.js';

/** One webhook as the receiver saw it: `id` is its `webhook-id` header. */
export interface Arrival {
  id: string;
  path: string;
  body: string;
  at: number;
  /** The receiver wrote its 200 (the sender may still have died before reading it). */
  answered: boolean;
  /** The request is over: answered, or its connection went away first. */
  closed: boolean;
}

/**
 * A loopback receiver that answers 200 after `delayMs` (a number, or a function of the path, for
 * jitter or slow and quick endpoints), so attempts stay in flight for a while. Records every
 * arrival and how many were open at once.
 */
export class DelayedReceiver {
  readonly arrivals: Arrival[] = [];
  /** Requests received and not yet answered (nor gone), and the most there were at once. */
  inFlight = 0;
  maxInFlight = 0;
  private server!: Server;
  private readonly open = new Set<ServerResponse>();

  constructor(public delayMs: number | ((path: string) => number)) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const arrival: Arrival = {
          id: String(req.headers['webhook-id']),
          path: (req.url ?? '/').split('?')[0],
          body,
          at: Date.now(),
          answered: false,
          closed: false,
        };
        this.arrivals.push(arrival);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        this.open.add(res);
        // Open until answered (before the sender can read the answer and start another attempt, so
        // the count never runs ahead of the sender's), or until the connection goes away unanswered.
        let open = true;
        const done = () => {
          if (open) this.inFlight--;
          open = false;
        };
        const delay = typeof this.delayMs === 'number' ? this.delayMs : this.delayMs(arrival.path);
        const timer = setTimeout(() => {
          if (res.destroyed) return;
          arrival.answered = true;
          done();
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
        }, delay);
        res.once('close', () => {
          clearTimeout(timer);
          arrival.closed = true;
          done();
          this.open.delete(res);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Requests not yet answered (nor gone) whose path starts with `prefix`. */
  openOn(prefix: string): number {
    return this.arrivals.filter((a) => !a.answered && !a.closed && a.path.startsWith(prefix)).length;
  }

  /** How many times each webhook-id arrived. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const a of this.arrivals) counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface DeliveryView {
  id: string;
  status: 'pending' | 'success' | 'failed';
  attempt_count: number;
  endpoint_url: string;
}

export interface BatchItem {
  tenant_id: string;
  endpoint_url: string;
  event_type: string;
  payload: unknown;
}

/** The service's HTTP API, over fetch, for a child process on loopback. */
export class ServiceApi {
  constructor(readonly port: number) {}

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async call<T>(method: string, path: string, role: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url(path), {
      method,
      headers: { 'X-User-Roles': role, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Submits up to 500 deliveries in one batch; their ids, in order. */
  async ingest(items: BatchItem[]): Promise<string[]> {
    const { status, body } = await this.call<{ items: { index: number; id: string }[] }>(
      'POST',
      '/alerts/deliveries/batch',
      'ingest',
      { items },
    );
    if (status !== 202) throw new Error(`batch answered ${status}: ${JSON.stringify(body)}`);
    return body.items.sort((a, b) => a.index - b.index).map((i) => i.id);
  }

  /** command_center_delivery_queue_depth: deliveries still pending. */
  async queueDepth(): Promise<number> {
    const text = await (await fetch(this.url('/metrics'))).text();
    const match = /^command_center_delivery_queue_depth (\d+)$/m.exec(text);
    if (!match) throw new Error('queue depth gauge missing from /metrics');
    return Number(match[1]);
  }

  /** Every delivery with one of `status` (comma-separated), paged by cursor. */
  async listAll(status: string): Promise<DeliveryView[]> {
    const all: DeliveryView[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 100; n++) {
      const query: string = `status=${status}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { status: number; body: { items: DeliveryView[]; next_cursor: string | null } } = await this.call(
        'GET',
        `/alerts/deliveries/history?${query}`,
        'operator',
      );
      const { status: code, body } = page;
      if (code !== 200) throw new Error(`history answered ${code}: ${JSON.stringify(body)}`);
      all.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor || body.items.length === 0) return all;
    }
    throw new Error('history did not end within 100 pages');
  }
}

/** Polls `probe` until `ok`, at most `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${String(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A plain connection to a suite's store (the service stopped), for raw queries. */
export async function openStore(dialect: Dialect, db: TestDatabase): Promise<DataSource> {
  const store =
    dialect === 'postgres'
      ? new DataSource({ type: 'postgres', url: db.databaseUrl })
      : new DataSource({ type: 'better-sqlite3', database: join(db.env.DATA_DIR, 'command-center.sqlite') });
  return store.initialize();
}
