import { DEFAULT_RETRY_SCHEDULE, RetrySchedule } from './retry-schedule.js';

describe('RetrySchedule', () => {
  it('follows the default schedule with at most ±20 % jitter, then gives up', () => {
    const low = new RetrySchedule(undefined, () => 0);
    const high = new RetrySchedule(undefined, () => 1);
    expect(low.maxAttempts).toBe(8);
    for (let attempt = 1; attempt < 8; attempt++) {
      expect(low.delayAfter(attempt)).toBe(Math.round(DEFAULT_RETRY_SCHEDULE[attempt] * 800));
      expect(high.delayAfter(attempt)).toBe(Math.round(DEFAULT_RETRY_SCHEDULE[attempt] * 1200));
    }
    expect(low.delayAfter(8)).toBeNull();
  });

  it('honours Retry-After within bounds, but not past the last attempt', () => {
    const schedule = new RetrySchedule('0,5,5');
    expect(schedule.delayAfter(1, 7)).toBe(7000);
    expect(schedule.delayAfter(1, 0)).toBe(1000);
    expect(schedule.delayAfter(1, 86400)).toBe(3_600_000);
    expect(schedule.delayAfter(3, 7)).toBeNull();
  });
});
