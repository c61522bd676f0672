import {
  decide,
  EMPTY_SAMPLE,
  FRESH_MEMORY,
  percentile,
  type EndpointSample,
  type RuleMemory,
  type RulePolicy,
} from './autoheal-decider.js';

const T0 = new Date('2026-11-26T03:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const OVERFLOW_MS = 15_000;

const rule = (over: Partial<RulePolicy> = {}): RulePolicy => ({
  metric: 'failure_rate',
  threshold: 0.7,
  window_s: 300,
  min_requests: 10,
  for_s: 0,
  dry_run: false,
  cooldown_s: 900,
  max_actions_per_hour: 4,
  ...over,
});
const rate = (failures: number, attempts: number): EndpointSample => ({ ...EMPTY_SAMPLE, attempts, failures });

/** Evaluates `rule` at each tick (seconds from T0) with the sample the tick returns, like the engine. */
function simulate(policy: RulePolicy, ticks: number[], sampleAt: (s: number) => EndpointSample) {
  let memory: RuleMemory = FRESH_MEMORY;
  const fired: number[] = [];
  const log: { s: number; verdict: string; record: boolean }[] = [];
  for (const s of ticks) {
    const firedLastHour = fired.filter((f) => f > s - 3600).length;
    const d = decide(policy, sampleAt(s), memory, firedLastHour, at(s), OVERFLOW_MS);
    memory = d.memory;
    if (d.act) fired.push(s);
    log.push({ s, verdict: d.verdict, record: d.record });
  }
  return { fired, log, memory };
}
const every = (step: number, until: number) => Array.from({ length: Math.floor(until / step) + 1 }, (_, i) => i * step);

describe('autoheal decisions', () => {
  it('skips an endpoint below min_requests however bad it looks: 9 of 9 failures with min 10', () => {
    const d = decide(rule(), rate(9, 9), FRESH_MEMORY, 0, T0, OVERFLOW_MS);
    expect(d).toMatchObject({ verdict: 'too_few_requests', act: false, record: false, sampleSize: 9 });
  });

  it('fires on 7 of 10 at a 70 % threshold, and not on 6 of 10', () => {
    expect(decide(rule(), rate(7, 10), FRESH_MEMORY, 0, T0, OVERFLOW_MS)).toMatchObject({
      verdict: 'fired',
      act: true,
      record: true,
      value: 0.7,
    });
    expect(decide(rule(), rate(6, 10), FRESH_MEMORY, 0, T0, OVERFLOW_MS)).toMatchObject({
      verdict: 'condition_false',
      act: false,
    });
  });

  it('never satisfies for_s when failures alternate every 30 s', () => {
    const { fired, log } = simulate(rule({ for_s: 60 }), every(30, 3600), (s) =>
      (s / 30) % 2 === 0 ? rate(10, 10) : rate(0, 10),
    );
    expect(fired).toEqual([]);
    expect(log.filter((l) => l.verdict === 'holding').length).toBeGreaterThan(50);
  });

  it('fires once the condition has held for for_s, counted from when it first held', () => {
    const { fired } = simulate(rule({ for_s: 90 }), every(30, 300), () => rate(10, 10));
    expect(fired).toEqual([90]);
  });

  it('sets a cooldown when it acts: suppressed (recorded once) until it ends, then fires again', () => {
    const { fired, log } = simulate(rule({ cooldown_s: 900 }), every(30, 1800), () => rate(10, 10));
    expect(fired).toEqual([0, 900, 1800]);
    const suppressed = log.filter((l) => l.verdict === 'suppressed_cooldown');
    expect(suppressed.length).toBe(2 * (900 / 30 - 1));
    expect(suppressed.filter((l) => l.record).map((l) => l.s)).toEqual([30, 930]);
  });

  it('holds the hourly budget even when the cooldown would allow more', () => {
    const { fired, log } = simulate(rule({ cooldown_s: 60, max_actions_per_hour: 4 }), every(30, 3600), () =>
      rate(10, 10),
    );
    expect(fired).toEqual([0, 60, 120, 180, 3600]);
    expect(log.find((l) => l.s === 240)).toMatchObject({ verdict: 'suppressed_budget', record: true });
    expect(log.filter((l) => l.verdict === 'suppressed_budget' && l.record).map((l) => l.s)).toEqual([240]);
  });

  it('dry-run decides would_fire, acts never, sets no cooldown, and records once per cooldown period', () => {
    const { fired, log, memory } = simulate(rule({ dry_run: true, cooldown_s: 600 }), every(30, 1200), () =>
      rate(10, 10),
    );
    expect(fired).toEqual([]);
    expect(log.every((l) => l.verdict === 'would_fire')).toBe(true);
    expect(log.filter((l) => l.record).map((l) => l.s)).toEqual([0, 600, 1200]);
    expect(memory.cooldownUntil).toBeNull();
  });

  it('counts consecutive failures as their own sample', () => {
    const policy = rule({ metric: 'consecutive_failures', threshold: 10, min_requests: 10 });
    const streak = (n: number) => ({ ...EMPTY_SAMPLE, consecutiveFailures: n });
    expect(decide(policy, streak(9), FRESH_MEMORY, 0, T0, OVERFLOW_MS).act).toBe(false);
    expect(decide(policy, streak(10), FRESH_MEMORY, 0, T0, OVERFLOW_MS).act).toBe(true);
  });

  it('fires endpoint_recovered once per recovery, inside its window only', () => {
    const policy = rule({ metric: 'endpoint_recovered', threshold: 1, min_requests: 1, cooldown_s: 0 });
    const recovered = (when: Date, after = 5): EndpointSample => ({
      ...EMPTY_SAMPLE,
      recoveredAt: when,
      recoveredAfterFailures: after,
    });
    const first = decide(policy, recovered(at(0)), FRESH_MEMORY, 0, at(10), OVERFLOW_MS);
    expect(first.act).toBe(true);
    expect(decide(policy, recovered(at(0)), first.memory, 1, at(40), OVERFLOW_MS).verdict).toBe('condition_false');
    expect(decide(policy, recovered(at(100)), first.memory, 1, at(110), OVERFLOW_MS).act).toBe(true);
    expect(decide(policy, recovered(at(0)), FRESH_MEMORY, 0, at(301), OVERFLOW_MS).act).toBe(false);
    expect(
      decide(rule({ ...policy, threshold: 3 }), recovered(at(0), 2), FRESH_MEMORY, 0, at(1), OVERFLOW_MS).act,
    ).toBe(false);
  });

  it('reads the p95 latency from the rollup histogram', () => {
    expect(percentile([0, 0, 0, 0, 0, 0, 0, 0], 0.95, OVERFLOW_MS)).toBe(0);
    expect(percentile([95, 5, 0, 0, 0, 0, 0, 0], 0.95, OVERFLOW_MS)).toBe(100);
    expect(percentile([94, 6, 0, 0, 0, 0, 0, 0], 0.95, OVERFLOW_MS)).toBe(250);
    expect(percentile([90, 0, 0, 0, 0, 0, 0, 10], 0.95, OVERFLOW_MS)).toBe(OVERFLOW_MS);
    const slow = rule({ metric: 'latency_p95_ms', threshold: 2000 });
    const sample = { ...EMPTY_SAMPLE, attempts: 20, latency: [10, 0, 0, 0, 10, 0, 0, 0] };
    expect(decide(slow, sample, FRESH_MEMORY, 0, T0, OVERFLOW_MS)).toMatchObject({ act: true, value: 2500 });
  });
});
