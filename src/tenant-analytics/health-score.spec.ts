import { apdexZone } from '../deliveries/delivery-latency.js';
import { healthScore, statusOf } from './health-score.js';

const T = 1000;

describe('apdexZone', () => {
  it('is satisfied up to exactly T, tolerating up to exactly 4T, frustrated beyond', () => {
    expect(apdexZone(0, T)).toBe('satisfied');
    expect(apdexZone(T, T)).toBe('satisfied');
    expect(apdexZone(T + 1, T)).toBe('tolerating');
    expect(apdexZone(4 * T, T)).toBe('tolerating');
    expect(apdexZone(4 * T + 1, T)).toBe('frustrated');
  });
});

describe('healthScore', () => {
  const all = (n: number) => ({ delivered: n, exhausted: 0, apdex_satisfied: n, apdex_tolerating: 0 });

  it('zero traffic is insufficient_data, not 0 or 100', () => {
    const s = healthScore({ delivered: 0, exhausted: 0, apdex_satisfied: 0, apdex_tolerating: 0 }, 0.995);
    expect(s).toEqual({
      health_score: null,
      status: 'insufficient_data',
      success_rate: null,
      slo_attainment: null,
      apdex: null,
    });
  });

  it('under 100 finished deliveries has no score, but says its success rate', () => {
    const s = healthScore({ delivered: 90, exhausted: 9, apdex_satisfied: 90, apdex_tolerating: 0 }, 0.995);
    expect(s.health_score).toBeNull();
    expect(s.status).toBe('insufficient_data');
    expect(s.success_rate).toBeCloseTo(90 / 99);
  });

  it('all delivered within T scores 100', () => {
    expect(healthScore(all(100), 0.995)).toMatchObject({
      health_score: 100,
      status: 'healthy',
      slo_attainment: 1,
      apdex: 1,
    });
  });

  it('spends the error budget linearly: B = 1 − misses / budget', () => {
    // 1,000 finished, 5 failed (= the 0.5 % budget): B = 0, A = 995/1000.
    const atBudget = healthScore({ delivered: 995, exhausted: 5, apdex_satisfied: 995, apdex_tolerating: 0 }, 0.995);
    expect(atBudget.slo_attainment).toBeCloseTo(0);
    expect(atBudget.health_score).toBe(Math.round(100 * (0.4 * 0.995)));
    expect(atBudget.status).toBe('critical');
    // Half the budget: B = 0.5.
    const half = healthScore({ delivered: 9975, exhausted: 25, apdex_satisfied: 9975, apdex_tolerating: 0 }, 0.995);
    expect(half.slo_attainment).toBeCloseTo(0.5);
    expect(half.health_score).toBe(Math.round(100 * (0.6 * 0.5 + 0.4 * 0.9975)));
  });

  it('counts tolerating deliveries half and failures as frustrated', () => {
    const s = healthScore({ delivered: 1000, exhausted: 0, apdex_satisfied: 500, apdex_tolerating: 500 }, 0.995);
    expect(s.apdex).toBeCloseTo(0.75);
    expect(s.health_score).toBe(90);
    expect(s.status).toBe('healthy');
  });

  it('status boundaries', () => {
    expect(statusOf(90)).toBe('healthy');
    expect(statusOf(89)).toBe('degraded');
    expect(statusOf(70)).toBe('degraded');
    expect(statusOf(69)).toBe('critical');
  });
});
