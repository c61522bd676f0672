import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  /** When the current window ends (ms since epoch). */
  resetAt: number;
  /** When a caller that went over the limit may try again (0 when not blocked). */
  blockedUntil: number;
}

interface StorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * A fixed-window counter per caller: O(1) per request and one small record per active caller.
 * The library's default store keeps a timestamp per hit and filters them on every request, which
 * slows a busy caller down in proportion to its own traffic.
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<StorageRecord> {
    const now = this.now();
    this.sweep(now, ttl);
    let window = this.windows.get(key);
    if (!window || (window.resetAt <= now && window.blockedUntil <= now)) {
      window = { hits: 0, resetAt: now + ttl, blockedUntil: 0 };
      this.windows.set(key, window);
    }
    if (window.blockedUntil > now) return Promise.resolve(record(window, now, true));
    window.hits += 1;
    if (window.hits > limit) {
      window.blockedUntil = now + blockDuration;
      return Promise.resolve(record(window, now, true));
    }
    return Promise.resolve(record(window, now, false));
  }

  /** Callers seen: bounded by the callers active within the last window. */
  get size(): number {
    return this.windows.size;
  }

  /** Drops finished windows at most once per ttl, so memory follows the active callers. */
  private sweep(now: number, ttl: number): void {
    if (now - this.lastSweep < ttl) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now && window.blockedUntil <= now) this.windows.delete(key);
    }
  }
}

function record(window: Window, now: number, isBlocked: boolean): StorageRecord {
  return {
    totalHits: window.hits,
    timeToExpire: Math.max(0, Math.ceil((window.resetAt - now) / 1000)),
    isBlocked,
    timeToBlockExpire: isBlocked ? Math.max(1, Math.ceil((window.blockedUntil - now) / 1000)) : 0,
  };
}
