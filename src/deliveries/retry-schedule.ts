/** Default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
const JITTER = 0.2;
/** Bounds on a receiver's Retry-After. */
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 3600;

/** When to try again after a failed attempt, or never (the schedule is exhausted). */
export class RetrySchedule {
  readonly delays: number[];

  constructor(
    spec: string | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.delays = spec ? spec.split(',').map((s) => Number(s.trim())) : DEFAULT_RETRY_SCHEDULE;
  }

  get maxAttempts(): number {
    return this.delays.length;
  }

  /** Milliseconds to wait after attempt `attempt` (1-based) failed; null once all are spent. */
  delayAfter(attempt: number, retryAfterSeconds: number | null = null): number | null {
    if (attempt >= this.delays.length) return null;
    if (retryAfterSeconds !== null) {
      return Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, retryAfterSeconds)) * 1000;
    }
    const base = this.delays[attempt] * 1000;
    return Math.round(base * (1 - JITTER + 2 * JITTER * this.random()));
  }
}
