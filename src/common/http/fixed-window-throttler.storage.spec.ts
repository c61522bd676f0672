import { FixedWindowThrottlerStorage } from './fixed-window-throttler.storage.js';

describe('FixedWindowThrottlerStorage', () => {
  let now = 1_000_000;
  const storage = new FixedWindowThrottlerStorage(() => now);

  it('counts hits within a window and blocks past the limit until the block ends', async () => {
    for (let i = 1; i <= 3; i++) {
      expect(await storage.increment('a', 60_000, 3, 60_000)).toMatchObject({ totalHits: i, isBlocked: false });
    }
    const blocked = await storage.increment('a', 60_000, 3, 60_000);
    expect(blocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    now += 30_000;
    expect(await storage.increment('a', 60_000, 3, 60_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
    now += 30_001;
    expect(await storage.increment('a', 60_000, 3, 60_000)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps callers apart', async () => {
    for (let i = 0; i < 5; i++) await storage.increment('b', 60_000, 2, 60_000);
    expect(await storage.increment('c', 60_000, 2, 60_000)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('forgets callers whose windows have ended', async () => {
    const before = storage.size;
    expect(before).toBeGreaterThan(0);
    now += 10 * 60_000;
    await storage.increment('d', 60_000, 2, 60_000);
    expect(storage.size).toBe(1);
  });
});
