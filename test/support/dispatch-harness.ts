import type { Clock } from '../../src/common/time/clock.js';
import type { Dialect } from './dialects.js';
import { createTestApp, type TestApp } from './test-app.js';
import { WebhookReceiver } from './webhook-receiver.js';

export interface DispatchHarness {
  t: TestApp;
  receiver: WebhookReceiver;
  /** The receiver's base URL, e.g. http://127.0.0.1:41234 */
  base: string;
  close(): Promise<void>;
}

/**
 * An app whose dispatcher really sends, to a real receiver on loopback (the allow-list opens
 * 127.0.0.0/8 unless `env` says otherwise). `env` adds to or overrides that.
 */
export async function startDispatching(
  dialect: Dialect,
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<DispatchHarness> {
  const receiver = new WebhookReceiver();
  const base = await receiver.start();
  const t = await createTestApp(dialect, {
    clock: options.clock,
    env: { DISPATCHER_ENABLED: 'true', DELIVERY_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8', ...options.env },
  });
  return {
    t,
    receiver,
    base,
    close: async () => {
      await t.close();
      await receiver.stop();
    },
  };
}

/** Polls `probe` until `ok` holds; fails with the last value after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
