import { postgresAvailable, testDialects, type Dialect } from './support/dialects.js';
import { DelayedReceiver, eventually, ServiceApi } from './support/delivery-load.js';
import { freePort, startService, waitUntilHealthy, within, type ServiceProcess } from './support/service-process.js';
import { createTestDatabase } from './support/test-database.js';

/**
 * SIGKILL mid-dispatch, restart on the same store: at-least-once delivery. The dispatcher leases
 * what it claims for DELIVERY_TIMEOUT_MS + 30 s (a fixed margin, see delivery-dispatcher.ts), so
 * the attempts in flight at the kill are taken over only once those leases expire; the rest of the
 * queue drains meanwhile. With that floor of ~32 s per store, the stores run side by side.
 */
const TOTAL = 2000;
const BATCH = 500;
const ENDPOINTS = 10;
const CONCURRENCY = 32;
const KILL_AFTER = 200;
/** Start-up takes 4 s on an idle 2-core machine, over 10 s when it is busy. */
const BOOT_MS = 30000;

const env = (store: Record<string, string>): Record<string, string> => ({
  ...store,
  LOG_LEVEL: 'warning',
  // Nothing here for them to do; they would only compete for the two cores.
  AUTOHEAL_ENABLED: 'false',
  ANOMALY_ENABLED: 'false',
  DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
  RATE_LIMIT_PER_MINUTE: '0',
  DISPATCH_CONCURRENCY: String(CONCURRENCY),
  DISPATCH_PER_ENDPOINT: '4',
  // The lease is this plus 30 s; 2 s is ample for a receiver that answers within 50 ms.
  DELIVERY_TIMEOUT_MS: '2000',
});

async function crashAndRecover(dialect: Dialect): Promise<void> {
  const db = await createTestDatabase(dialect);
  const receiver = new DelayedReceiver(() => 20 + Math.random() * 30);
  const services: ServiceProcess[] = [];
  try {
    const began = Date.now();
    const base = await receiver.start();
    const first = startService(env(db.env), await freePort());
    services.push(first);
    await waitUntilHealthy(first, BOOT_MS);
    const api = new ServiceApi(first.port);
    const bootMs = Date.now() - began;

    const ids: string[] = [];
    for (let start = 0; start < TOTAL; start += BATCH) {
      const items = Array.from({ length: Math.min(BATCH, TOTAL - start) }, (_, k) => ({
        tenant_id: `crash-${(start + k) % 3}`,
        endpoint_url: `${base}/hooks/${(start + k) % ENDPOINTS}`,
        event_type: 'crash.test',
        payload: { seq: start + k },
      }));
      ids.push(...(await api.ingest(items)));
    }
    expect(new Set(ids).size).toBe(TOTAL);
    const ingestMs = Date.now() - began - bootMs;

    // Kill with attempts really in flight: some at the receiver, others being recorded.
    await eventually(
      () => Promise.resolve(receiver.counts().size >= KILL_AFTER && receiver.inFlight >= 4),
      (ready) => ready,
      `${KILL_AFTER} deliveries at the receiver and more in flight`,
      20000,
      2,
    );
    const inFlightAtKill = receiver.inFlight;
    const seenBeforeKill = receiver.counts().size;
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 5000, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(seenBeforeKill).toBeLessThan(TOTAL);
    expect(inFlightAtKill).toBeGreaterThan(0);

    const restartAt = Date.now();
    const second = startService(env(db.env), await freePort());
    services.push(second);
    await waitUntilHealthy(second, BOOT_MS);
    const restartedMs = Date.now() - killedAt;
    const api2 = new ServiceApi(second.port);
    await eventually(
      () => api2.queueDepth(),
      (depth) => depth === 0,
      'an empty queue',
      60000,
      250,
    );
    const recoveredMs = Date.now() - killedAt;
    const counts = receiver.counts();
    const duplicated = [...counts].filter(([, n]) => n > 1);
    const duplicates = receiver.arrivals.length - counts.size;
    const stuck = await api2.listAll('pending,failed');
    const done = await api2.listAll('success');
    const attemptCounts = new Map<number, number>();
    for (const d of done) attemptCounts.set(d.attempt_count, (attemptCounts.get(d.attempt_count) ?? 0) + 1);
    process.stdout.write(
      `crash recovery (${dialect}): ${TOTAL} deliveries over ${ENDPOINTS} endpoints, DISPATCH_CONCURRENCY=${CONCURRENCY}; ` +
        `booted in ${bootMs} ms, ingested in ${ingestMs} ms, killed ${killedAt - began} ms in; ` +
        `SIGKILL after ${seenBeforeKill} had arrived (${inFlightAtKill} unanswered at the receiver); ` +
        `restarted in ${restartedMs} ms; queue empty ${recoveredMs} ms after the kill; ` +
        `delivered ${counts.size}/${TOTAL}, arrivals ${receiver.arrivals.length}, duplicates ${duplicates} ` +
        `(bound ${CONCURRENCY}); most unanswered at once ${receiver.maxInFlight}; ` +
        `success ${done.length}, pending or failed ${stuck.length}; ` +
        `attempt_count ${JSON.stringify(Object.fromEntries(attemptCounts))}\n`,
    );

    // Every delivery reached the receiver, always under its own delivery id.
    for (const arrival of receiver.arrivals) {
      const { seq } = JSON.parse(arrival.body) as { seq: number };
      expect(arrival.id).toBe(ids[seq]);
    }
    expect(ids.filter((id) => !counts.has(id))).toEqual([]);
    expect(counts.size).toBe(TOTAL);
    // Duplicates are the attempts the kill cut short: each first arrived from the killed instance,
    // at most one per in-flight slot.
    for (const [id] of duplicated) expect(receiver.arrivals.find((a) => a.id === id)!.at).toBeLessThan(restartAt);
    expect(duplicated.filter(([, n]) => n !== 2)).toEqual([]);
    expect(duplicates).toBeLessThanOrEqual(CONCURRENCY);
    expect(receiver.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);

    // The store agrees: nothing pending or failed, every delivery a success with an attempt.
    expect(stuck).toEqual([]);
    expect(done.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(done.filter((d) => d.attempt_count < 1)).toEqual([]);
  } finally {
    for (const service of services) service.child.kill('SIGKILL');
    await Promise.all(services.map((s) => within(s.exited, 5000, 'exit').catch(() => undefined)));
    await receiver.stop();
    await db.drop();
  }
}

describe('crash recovery: SIGKILL mid-dispatch, restart on the same store', () => {
  // The stores run side by side: each waits ~32 s for the killed instance's leases to expire.
  it.concurrent.each(testDialects())(
    'delivers every delivery at least once, with duplicates bounded by the in-flight limit (%s)',
    (dialect) => crashAndRecover(dialect),
    // About 40 s on an idle machine; the bound leaves room for a busy one.
    120000,
  );

  if (!postgresAvailable()) {
    it.skip('PostgreSQL crash recovery: set TEST_DATABASE_URL to run', () => undefined);
  }
});
