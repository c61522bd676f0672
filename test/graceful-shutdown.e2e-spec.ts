import { postgresAvailable, testDialects, type Dialect } from './support/dialects.js';
import { DelayedReceiver, eventually, openStore, ServiceApi } from './support/delivery-load.js';
import { freePort, startService, waitUntilHealthy, within, type ServiceProcess } from './support/service-process.js';
import { SseClient } from './support/sse-client.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * SIGTERM under load: event streams open, API requests going, attempts in flight to endpoints that
 * take 2 s to answer while others answer in 150 ms (so the dispatcher keeps claiming). The process
 * must exit on the signal within 10 s, every request either completes or is cleanly refused, and
 * the store is consistent afterwards: attempts match their deliveries, nothing stays leased, and
 * the interrupted deliveries go out on restart, each webhook sent exactly once in all.
 */
const SLOW = 64;
const QUICK = 256;
const DELIVERIES = SLOW + QUICK;
const ENDPOINTS = 4; // of each kind
const CONCURRENCY = 32;
const STREAMS = 4;
const WORKERS = 4;
const SLOW_MS = 2000;
const QUICK_MS = 150;

type Outcome = 'ok' | 'refused' | 'truncated' | 'server_error';
interface Call {
  kind: 'history' | 'annotation' | 'readyz';
  n: number;
  startedAt: number;
  endedAt: number;
  outcome: Outcome;
  status: number;
  detail: string;
  eventId?: number;
}

/** One request, classified: a refusal has no answer at all; a truncated one lost part of its body. */
async function call(api: ServiceApi, kind: Call['kind'], n: number): Promise<Call> {
  const startedAt = Date.now();
  const [method, path, role, body] =
    kind === 'history'
      ? ['GET', '/alerts/deliveries/history?limit=50', 'operator', undefined]
      : kind === 'annotation'
        ? ['POST', '/events/annotations', 'operator', JSON.stringify({ message: `load ${n}` })]
        : ['GET', '/readyz', 'operator', undefined];
  let res: Response;
  try {
    res = await fetch(api.url(path), {
      method,
      headers: { 'X-User-Roles': role, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body,
    });
  } catch (err) {
    return { kind, n, startedAt, endedAt: Date.now(), outcome: 'refused', status: 0, detail: errorCode(err) };
  }
  let parsed: { id?: number; status?: string; detail?: string };
  try {
    parsed = JSON.parse(await res.text()) as typeof parsed;
  } catch (err) {
    return {
      kind,
      n,
      startedAt,
      endedAt: Date.now(),
      outcome: 'truncated',
      status: res.status,
      detail: errorCode(err),
    };
  }
  // Readiness turning 503 (with its whole JSON body) is what shutdown is meant to do.
  const expected503 = kind === 'readyz' && res.status === 503 && parsed.status === 'unavailable';
  return {
    kind,
    n,
    startedAt,
    endedAt: Date.now(),
    outcome: res.status >= 500 && !expected503 ? 'server_error' : 'ok',
    status: res.status,
    detail: parsed.detail ?? '',
    eventId: kind === 'annotation' && res.status === 201 ? parsed.id : undefined,
  };
}

/** Anything the service wrote to stderr (the dispatcher raises the abort signal's listener limit, so not even warnings). */
function unexpectedStderr(service: ServiceProcess): string[] {
  return service
    .stderr()
    .split('\n')
    .filter((l) => l !== '');
}

function errorCode(err: unknown): string {
  const { code, cause } = (err ?? {}) as { code?: string; cause?: { code?: string; message?: string } };
  return cause?.code ?? code ?? cause?.message ?? String(err);
}

/** Rows as the store holds them, read with the service stopped. */
async function readStore(dialect: Dialect, db: TestDatabase) {
  const store = await openStore(dialect, db);
  try {
    const deliveries = await store.query<
      {
        id: string;
        status: string;
        attempt_count: number;
        completed_at: unknown;
        lease_owner: string | null;
        last_error_kind: string | null;
      }[]
    >(`SELECT id, status, attempt_count, completed_at, lease_owner, last_error_kind FROM deliveries`);
    const attempts = await store.query<
      { delivery_id: string; attempt_number: number; status_code: number | null; error_kind: string | null }[]
    >(
      `SELECT delivery_id, attempt_number, status_code, error_kind FROM delivery_attempts ORDER BY delivery_id, attempt_number`,
    );
    const orphans = await store.query<{ n: unknown }[]>(
      `SELECT COUNT(*) AS n FROM delivery_attempts a WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = a.delivery_id)`,
    );
    return { deliveries, attempts, orphans: Number(orphans[0].n) };
  } finally {
    await store.destroy();
  }
}

describe.each(testDialects())('graceful shutdown under load (%s)', (dialect) => {
  let db: TestDatabase;
  let receiver: DelayedReceiver;
  let base: string;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    receiver = new DelayedReceiver((path) => (path.startsWith('/slow/') ? SLOW_MS : QUICK_MS));
    base = await receiver.start();
  });
  afterAll(async () => {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((s) => within(s.exited, 5000, 'exit').catch(() => undefined)));
    await receiver.stop();
    await db.drop();
  });

  const env = () => ({
    ...db.env,
    LOG_LEVEL: 'info',
    DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
    RATE_LIMIT_PER_MINUTE: '0',
    DISPATCH_CONCURRENCY: String(CONCURRENCY),
    DISPATCH_PER_ENDPOINT: '4',
    DELIVERY_TIMEOUT_MS: '5000',
    SSE_HEARTBEAT_S: '1',
  });

  it('exits on SIGTERM within 10 s, ends streams, drops no request mid-body and leaves a consistent store', async () => {
    const began = Date.now();
    const service = startService(env(), await freePort());
    services.push(service);
    await waitUntilHealthy(service, 30000);
    const api = new ServiceApi(service.port);

    const ids = await api.ingest(
      Array.from({ length: DELIVERIES }, (_, i) => ({
        tenant_id: 'drain',
        endpoint_url: `${base}/${i < SLOW ? 'slow' : 'quick'}/${i % ENDPOINTS}`,
        event_type: 'shutdown.test',
        payload: { seq: i },
      })),
    );
    const streamUrl = api.url('/events/stream?types=operator.annotation');
    const streams = await Promise.all(
      Array.from({ length: STREAMS }, () => SseClient.open(streamUrl, { 'X-User-Roles': 'operator' })),
    );
    expect(streams.map((s) => s.status)).toEqual(Array<number>(STREAMS).fill(200));

    // Requests keep going until the service is gone (bounded in count and time either way).
    const calls: Call[] = [];
    let exited = false;
    void service.exited.then(() => (exited = true));
    const kinds: Call['kind'][] = ['history', 'annotation', 'history', 'readyz'];
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      for (let n = 0; n < 2000 && !exited && Date.now() - began < 40000; n++) {
        const result = await call(api, kinds[(w + n) % kinds.length], w * 10000 + n);
        calls.push(result);
        if (result.outcome === 'refused') await new Promise((r) => setTimeout(r, 20));
      }
    });

    // Attempts in flight on every slow endpoint (the receiver holds them 2 s), and the streams live.
    await eventually(
      () => Promise.resolve(receiver.openOn('/slow/')),
      (n) => n >= ENDPOINTS * 4,
      'attempts in flight to the slow endpoints',
      10000,
      20,
    );
    await Promise.all(streams.map((s) => s.waitFor((f) => f.some((x) => x.event === 'operator.annotation'), 5000)));
    await eventually(
      () => Promise.resolve(calls.length),
      (n) => n >= 40,
      'API traffic',
      10000,
      20,
    );
    const slowAtTerm = receiver.openOn('/slow/');
    const quickAtTerm = receiver.openOn('/quick/');
    const quickLeft = QUICK - receiver.arrivals.filter((a) => a.path.startsWith('/quick/')).length;
    const arrivedAtTerm = receiver.arrivals.length;
    const termAt = Date.now();
    const streamEnds = streams.map((s) => s.closed.then(() => Date.now() - termAt));
    service.child.kill('SIGTERM');
    const exit = await within(service.exited, 10000, 'shutdown after SIGTERM');
    const shutdownMs = Date.now() - termAt;
    const streamEndMs = Math.max(...(await within(Promise.all(streamEnds), 1000, 'stream ends after exit')));
    await within(Promise.all(workers), 5000, 'load workers');

    expect(quickLeft).toBeGreaterThan(0); // claims were still being made
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(shutdownMs).toBeLessThan(10000);
    // Streams end at once, without waiting for the dispatcher to drain.
    expect(streams.every((s) => s.isClosed)).toBe(true);
    expect(streamEndMs).toBeLessThan(2000);
    // The in-flight attempts were waited for, not cut: the receiver answered every one.
    expect(receiver.arrivals.filter((a) => !a.answered)).toEqual([]);
    // Nothing half-sent and no 5xx besides readiness: each request completed or was refused whole.
    expect(calls.filter((c) => c.outcome === 'truncated' || c.outcome === 'server_error')).toEqual([]);
    const afterTerm = calls.filter((c) => c.endedAt >= termAt);
    const straddling = afterTerm.filter((c) => c.startedAt < termAt).length;
    expect(afterTerm.some((c) => c.kind === 'readyz' && c.status === 503)).toBe(true);
    const lines = service.stdout().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(unexpectedStderr(service)).toEqual([]);

    // The store, read directly: every delivery pending or finished, its attempts matching.
    const stored = await readStore(dialect, db);
    expect(stored.deliveries).toHaveLength(DELIVERIES);
    expect(stored.orphans).toBe(0);
    const byDelivery = new Map<string, typeof stored.attempts>();
    for (const a of stored.attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
    const answered = new Set(receiver.arrivals.map((a) => a.id));
    // A claim under way at SIGTERM must not leave leases behind (nor attempts sent but unrecorded):
    // a gracefully stopped instance hands every delivery back.
    expect(stored.deliveries.filter((d) => d.lease_owner !== null).map((d) => d.id)).toEqual([]);
    // A webhook the receiver answered was recorded as a success; one never sent has no attempt.
    expect(stored.deliveries.filter((d) => (d.status === 'success') !== answered.has(d.id))).toEqual([]);
    const inconsistent = stored.deliveries.filter((d) => {
      const attempts = byDelivery.get(d.id) ?? [];
      const numbered = attempts.every((a, i) => Number(a.attempt_number) === i + 1);
      const count = attempts.length === Number(d.attempt_count);
      const state =
        d.status === 'success'
          ? d.completed_at !== null && attempts.length > 0 && attempts[attempts.length - 1].error_kind === null
          : d.status === 'pending' && d.completed_at === null;
      return !(numbered && count && state);
    });
    expect(inconsistent).toEqual([]);
    const successAtStop = stored.deliveries.filter((d) => d.status === 'success').length;
    const pendingAtStop = DELIVERIES - successAtStop;
    expect(successAtStop).toBeGreaterThan(0);
    expect(pendingAtStop).toBeGreaterThan(0);

    // Restart on the same store: the interrupted deliveries go out, each exactly once in all.
    receiver.delayMs = 10;
    const restartAt = Date.now();
    const again = startService(env(), await freePort());
    services.push(again);
    await waitUntilHealthy(again, 30000);
    const api2 = new ServiceApi(again.port);
    await eventually(
      () => api2.queueDepth(),
      (depth) => depth === 0,
      'an empty queue after restart',
      20000,
      200,
    );
    const drainedMs = Date.now() - restartAt;
    const counts = receiver.counts();
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(receiver.arrivals).toHaveLength(DELIVERIES);
    expect(await api2.listAll('pending,failed')).toEqual([]);
    const details = [];
    for (let i = 0; i < ids.length; i += 8) {
      const page = ids.slice(i, i + 8).map(async (id) => {
        const { body } = await api2.call<{ status: string; attempt_count: number; attempts: unknown[] }>(
          'GET',
          `/alerts/deliveries/${id}`,
          'operator',
        );
        return { id, status: body.status, attempt_count: body.attempt_count, attempts: body.attempts.length };
      });
      details.push(...(await Promise.all(page)));
    }
    expect(details.filter((d) => d.status !== 'success' || d.attempts !== d.attempt_count)).toEqual([]);
    // Every annotation acknowledged with a 201 is in the history.
    const acked = calls.filter((c) => c.eventId !== undefined).map((c) => c.eventId!);
    const { body: history } = await api2.call<{ items: { id: number; data: { message: string } }[] }>(
      'GET',
      '/events/audit?type=operator.annotation&limit=1000',
      'operator',
    );
    const stored201 = new Set(history.items.map((e) => e.id));
    expect(acked.filter((id) => !stored201.has(id))).toEqual([]);
    // A refused annotation was never processed: no request was cut after the server took it on.
    const messages = new Set(history.items.map((e) => e.data.message));
    const refused = calls.filter((c) => c.kind === 'annotation' && c.outcome === 'refused');
    expect(refused.filter((c) => messages.has(`load ${c.n}`))).toEqual([]);

    again.child.kill('SIGTERM');
    expect(await within(again.exited, 10000, 'second shutdown')).toEqual({ code: null, signal: 'SIGTERM' });

    const tally = (list: Call[]) =>
      JSON.stringify(
        list.reduce<Record<string, number>>((acc, c) => {
          const key = c.outcome === 'refused' ? `refused:${c.detail}` : `${c.outcome}:${c.status}`;
          acc[key] = (acc[key] ?? 0) + 1;
          return acc;
        }, {}),
      );
    process.stdout.write(
      `graceful shutdown (${dialect}): at SIGTERM ${slowAtTerm} attempts open on slow endpoints, ${quickAtTerm} on quick ` +
        `ones (${arrivedAtTerm} arrived, ${quickLeft} quick ones not yet sent); exited on ${exit.signal} ${shutdownMs} ms after it; ` +
        `streams ended ${streamEndMs} ms after it; requests ${calls.length}, ${straddling} of them in flight at SIGTERM, ` +
        `ending after it: ${tally(afterTerm)}; ` +
        `at stop ${successAtStop} success / ${pendingAtStop} pending, no lease left; ` +
        `restart drained the rest in ${drainedMs} ms, ${receiver.arrivals.length} arrivals for ${DELIVERIES} deliveries; ` +
        `annotations acknowledged ${acked.length}, all stored\n`,
    );
  }, 60000);
});

if (!postgresAvailable()) {
  it.skip('PostgreSQL graceful shutdown: set TEST_DATABASE_URL to run', () => undefined);
}
