import {
  BUCKET_MS,
  DAY_MS,
  DEFAULT_PARAMS,
  HOUR_MS,
  WEEK_MS,
  evaluateSignal,
  evaluateTenant,
  median,
  planWindows,
  rangesOf,
  severityOf,
  wilsonLowerBound,
  type Bucket,
  type Verdict,
} from './anomaly-signals.js';

// A Monday, 09:07 UTC: the level window is 08:50-09:05, the baseline hour 09:00-10:00.
const NOW = new Date('2026-11-30T09:07:00Z');
const LEVEL_END = Date.parse('2026-11-30T09:05:00Z');

/** A bucket with `attempts` attempts, `ratio` of them failed, all about `latencyMs` (one histogram bucket). */
function bucket(attempts: number, ratio = 0, latencyMs = 200, received = attempts): Bucket {
  const latency = [0, 0, 0, 0, 0, 0, 0, 0];
  const bounds = [100, 250, 500, 1000, 2500, 5000, 10000];
  const i = bounds.findIndex((b) => latencyMs <= b);
  latency[i === -1 ? 7 : i] = attempts;
  return { received, attempts, failures: Math.round(attempts * ratio), latency };
}

/** Fills every bucket start in [from, to) with `make(start)`. */
function fill(map: Map<number, Bucket>, from: number, to: number, make: (start: number) => Bucket | null) {
  for (let s = Math.ceil(from / BUCKET_MS) * BUCKET_MS; s < to; s += BUCKET_MS) {
    const b = make(s);
    if (b) map.set(s, b);
  }
}

/** Deterministic noise in [-1, 1] per bucket start. */
const noise = (s: number) => Math.sin(s / 7_919_000) * 0.5 + Math.sin(s / 1_237_000) * 0.5;

const byKind = (verdicts: Verdict[]) => Object.fromEntries(verdicts.map((v) => [v.signal, v]));

describe('planWindows', () => {
  it('judges the last three complete buckets against the same hour-of-week of the last four weeks', () => {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 30 * DAY_MS));
    expect(plan.mode).toBe('weekly');
    expect(plan.levelStarts).toEqual([LEVEL_END - 3 * BUCKET_MS, LEVEL_END - 2 * BUCKET_MS, LEVEL_END - BUCKET_MS]);
    expect(plan.baselineStarts).toHaveLength(48);
    const hour = Date.parse('2026-11-30T09:00:00Z');
    expect(rangesOf(plan)).toEqual([
      { from: hour - 4 * WEEK_MS, to: hour - 4 * WEEK_MS + HOUR_MS },
      { from: hour - 3 * WEEK_MS, to: hour - 3 * WEEK_MS + HOUR_MS },
      { from: hour - 2 * WEEK_MS, to: hour - 2 * WEEK_MS + HOUR_MS },
      { from: hour - WEEK_MS, to: hour - WEEK_MS + HOUR_MS },
      { from: LEVEL_END - 3 * BUCKET_MS, to: LEVEL_END },
    ]);
  });

  it('uses the weeks the tenant existed: 16 days of history gives two weeks', () => {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 16 * DAY_MS));
    expect(plan.mode).toBe('weekly');
    expect(plan.baselineStarts).toHaveLength(24);
  });

  it('falls back to the last 24 hours for a tenant with 3 days of history', () => {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 3 * DAY_MS));
    expect(plan.mode).toBe('daily');
    expect(plan.baselineStarts).toHaveLength(288);
    expect(plan.baselineStarts[0]).toBe(LEVEL_END - 3 * BUCKET_MS - DAY_MS);
    expect(plan.baselineStarts[287]).toBe(LEVEL_END - 4 * BUCKET_MS);
  });

  it('gives no baseline under 24 hours of history, or none at all', () => {
    expect(planWindows(NOW, new Date(NOW.getTime() - 20 * HOUR_MS)).mode).toBeNull();
    expect(planWindows(NOW, null).mode).toBeNull();
  });
});

describe('evaluateTenant', () => {
  /** Three days of steady traffic (daily mode), then `level` in the level window. */
  function steady(
    level: (s: number) => Bucket | null,
    base = (s: number) => bucket(Math.round(400 + 40 * noise(s)), 0.01),
  ) {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 3 * DAY_MS));
    const buckets = new Map<number, Bucket>();
    fill(buckets, NOW.getTime() - 3 * DAY_MS, LEVEL_END - 3 * BUCKET_MS, base);
    fill(buckets, LEVEL_END - 3 * BUCKET_MS, LEVEL_END, level);
    return byKind(evaluateTenant(plan, buckets, DEFAULT_PARAMS));
  }

  it('a tenant with 3 days of history is judged on the 24 h fallback', () => {
    const v = steady(() => bucket(400, 0.6));
    expect(v.failure_ratio.mode).toBe('daily');
    expect(v.failure_ratio.state).toBe('anomalous');
    expect(v.failure_ratio.median).toBeCloseTo(0.01, 2);
  });

  it('2 failures out of 3 attempts is no anomaly: too few attempts for a verdict', () => {
    const v = steady((s) => (s === LEVEL_END - BUCKET_MS ? bucket(3, 2 / 3) : null));
    expect(v.failure_ratio.level).toBeCloseTo(2 / 3);
    expect(v.failure_ratio.sampleSize).toBe(3);
    expect(v.failure_ratio.state).toBe('insufficient_data');
    expect(v.p95_latency_ms.state).toBe('insufficient_data');
  });

  it('needs the Wilson lower bound above the band, not just the level', () => {
    // 11 of 100 failed: level 0.11 is above 0.01 + 0.05 but the lower bound (0.062) is barely;
    // 9 of 100 (lower bound 0.048) stays normal.
    const nine = steady(() => bucket(34, 9 / 100 + 0.0001));
    expect(nine.failure_ratio.level).toBeGreaterThan(nine.failure_ratio.high!);
    expect(nine.failure_ratio.state).toBe('normal');
  });

  it('MAD = 0 uses the floor and divides by nothing', () => {
    // Perfectly flat history: every bucket 500 attempts, none failed, all under 100 ms.
    const flat = steady(
      () => bucket(500, 0, 80),
      () => bucket(500, 0, 80),
    );
    for (const v of Object.values(flat)) {
      expect(v.mad).toBe(0);
      expect(Number.isFinite(v.score)).toBe(true);
      expect(v.state).toBe('normal');
    }
    expect(flat.failure_ratio.median).toBe(0);
    expect(flat.failure_ratio.high).toBeCloseTo(0.05);
    expect(flat.volume.low).toBe(250);
    const spiked = steady(
      () => bucket(500, 0.5, 80),
      () => bucket(500, 0, 80),
    );
    expect(spiked.failure_ratio.state).toBe('anomalous');
    expect(spiked.failure_ratio.score).toBeCloseTo(0.5 / 0.05);
  });

  it('a volume drop needs a baseline of 300 deliveries an hour', () => {
    const busy = steady(() => null);
    expect(busy.volume.state).toBe('anomalous');
    expect(busy.volume.level).toBe(0);
    const quiet = steady(
      () => null,
      () => bucket(20),
    );
    expect(quiet.volume.state).toBe('insufficient_data');
  });

  /** Four weeks of a weekday-shaped tenant: quiet nights, a peak on Monday mornings. */
  function seasonal(week: (k: number) => number = () => 1) {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 29 * DAY_MS));
    const buckets = new Map<number, Bucket>();
    fill(buckets, NOW.getTime() - 29 * DAY_MS, LEVEL_END - 3 * BUCKET_MS, (s) => {
      const d = new Date(s);
      const mondayMorning = d.getUTCDay() === 1 && d.getUTCHours() >= 8 && d.getUTCHours() < 11;
      const k = Math.ceil((LEVEL_END - s) / WEEK_MS);
      const n = (mondayMorning ? 3000 : 300) * week(k) * (1 + 0.05 * noise(s));
      return bucket(Math.round(n), 0.01, mondayMorning ? 900 : 150);
    });
    return { plan, buckets };
  }

  it('a Monday peak seen on the last Mondays is normal', () => {
    const { plan, buckets } = seasonal();
    fill(buckets, LEVEL_END - 3 * BUCKET_MS, LEVEL_END, () => bucket(3000, 0.01, 900));
    const v = byKind(evaluateTenant(plan, buckets, DEFAULT_PARAMS));
    expect(v.volume.mode).toBe('weekly');
    expect(v.volume.median).toBeGreaterThan(2500);
    for (const s of Object.values(v)) expect(s.state).toBe('normal');
    // The same peak judged on the last 24 h alone would look like a latency and volume spike.
    const daily = planWindows(NOW, new Date(NOW.getTime() - 3 * DAY_MS));
    expect(evaluateSignal('p95_latency_ms', daily, buckets, DEFAULT_PARAMS).state).toBe('anomalous');
  });

  it('one holiday week does not move the baseline', () => {
    const normal = seasonal();
    const holiday = seasonal((k) => (k === 2 ? 0.1 : 1));
    const level = () => bucket(3000, 0.01, 900);
    fill(normal.buckets, LEVEL_END - 3 * BUCKET_MS, LEVEL_END, level);
    fill(holiday.buckets, LEVEL_END - 3 * BUCKET_MS, LEVEL_END, level);
    const a = evaluateSignal('volume', normal.plan, normal.buckets, DEFAULT_PARAMS);
    const b = evaluateSignal('volume', holiday.plan, holiday.buckets, DEFAULT_PARAMS);
    expect(Math.abs(b.median! - a.median!) / a.median!).toBeLessThan(0.05);
    expect(b.state).toBe('normal');
    // And a real drop in the peak is still seen against it.
    fill(holiday.buckets, LEVEL_END - 3 * BUCKET_MS, LEVEL_END, () => bucket(600, 0.01, 900));
    expect(evaluateSignal('volume', holiday.plan, holiday.buckets, DEFAULT_PARAMS).state).toBe('anomalous');
  });

  it('a latency spike needs the p95 above twice the baseline median (the histogram’s resolution)', () => {
    const slow = steady(() => bucket(400, 0.01, 900));
    expect(slow.p95_latency_ms.state).toBe('anomalous');
    expect(slow.failure_ratio.state).toBe('normal');
    expect(slow.p95_latency_ms.high).toBeCloseTo(2 * slow.p95_latency_ms.median!);
    // 15 % of attempts one bin up: the p95 (≈ 417 ms) is 1.7 × the median, inside the band.
    const bit = steady(() => ({ ...bucket(400, 0.01), latency: [0, 340, 60, 0, 0, 0, 0, 0] }));
    expect(bit.p95_latency_ms.level).toBeCloseTo(416.7, 0);
    expect(bit.p95_latency_ms.state).toBe('normal');
  });

  it('without a day of history no signal has a verdict', () => {
    const plan = planWindows(NOW, new Date(NOW.getTime() - 5 * HOUR_MS));
    const buckets = new Map<number, Bucket>();
    fill(buckets, NOW.getTime() - 5 * HOUR_MS, LEVEL_END, () => bucket(500, 0.9));
    for (const v of evaluateTenant(plan, buckets, DEFAULT_PARAMS)) expect(v.state).toBe('insufficient_baseline');
  });
});

describe('statistics', () => {
  it('median of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('Wilson lower bound', () => {
    expect(wilsonLowerBound(0, 100)).toBe(0);
    expect(wilsonLowerBound(2, 3)).toBeCloseTo(0.208, 3);
    expect(wilsonLowerBound(50, 100)).toBeCloseTo(0.4038, 3);
    expect(wilsonLowerBound(0, 0)).toBe(0);
  });
});

describe('severityOf', () => {
  it('grades spikes by score and volume drops by the share lost', () => {
    expect(severityOf({ signal: 'failure_ratio', score: 1.5, level: 0.1, median: 0.01 })).toBe('warning');
    expect(severityOf({ signal: 'p95_latency_ms', score: 2, level: 600, median: 200 })).toBe('error');
    expect(severityOf({ signal: 'failure_ratio', score: 4, level: 0.3, median: 0.01 })).toBe('critical');
    expect(severityOf({ signal: 'volume', score: 1.2, level: 400, median: 1000 })).toBe('warning');
    expect(severityOf({ signal: 'volume', score: 1.6, level: 200, median: 1000 })).toBe('error');
    expect(severityOf({ signal: 'volume', score: 2, level: 0, median: 1000 })).toBe('critical');
  });
});
