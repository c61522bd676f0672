import {
  lifecycleStep,
  NO_STREAK,
  type AnomalyMemory,
  type LifecycleParams,
  type Streak,
} from './anomaly-lifecycle.js';
import type { VerdictState } from './anomaly-signals.js';

const PARAMS: LifecycleParams = { openAfter: 2, resolveAfterMs: 15 * 60_000, reopenWindowMs: 3_600_000 };
const T0 = Date.parse('2026-11-30T09:00:00Z');
const MIN = 60_000;

/**
 * Runs the lifecycle as the detector does, keeping one stored row: one evaluation per entry, each
 * of a new level window unless `window` says otherwise (entry index → window id).
 */
type Stored = AnomalyMemory & { reopen_count: number };

function simulate(
  states: VerdictState[],
  window: (i: number) => number = (i) => i,
): { actions: string[]; stored: Stored | null; rows: number } {
  let stored = null as Stored | null;
  let streak: Streak = NO_STREAK;
  let rows = 0;
  const actions: string[] = [];
  states.forEach((state, i) => {
    const now = new Date(T0 + i * MIN);
    const step = lifecycleStep(state, streak, stored, now, PARAMS, window(i));
    streak = step.streak;
    actions.push(step.action);
    switch (step.action) {
      case 'open':
        rows++;
        stored = { status: 'open', inside_since: null, resolved_at: null, reopen_count: 0 };
        break;
      case 'reopen':
        stored = { status: 'open', inside_since: null, resolved_at: null, reopen_count: stored!.reopen_count + 1 };
        break;
      case 'update':
        stored = { ...stored!, inside_since: null };
        break;
      case 'inside':
        stored = { ...stored!, inside_since: now };
        break;
      case 'resolve':
        stored = { ...stored!, status: 'resolved', resolved_at: now };
        break;
    }
  });
  return { actions, stored, rows };
}

const times = <T extends string>(n: number, s: T): T[] => Array<T>(n).fill(s);

describe('lifecycleStep', () => {
  it('opens after two anomalous evaluations in a row, not after one', () => {
    expect(simulate(['anomalous', 'normal', 'anomalous', 'normal']).rows).toBe(0);
    const r = simulate(['anomalous', 'anomalous', 'anomalous']);
    expect(r.actions).toEqual(['none', 'open', 'update']);
    expect(r.rows).toBe(1);
  });

  it('counts a level window judged again (the detector runs every minute, buckets last 5) once', () => {
    const sameWindow = simulate(times(5, 'anomalous'), () => 7);
    expect(sameWindow.rows).toBe(0);
    const twoWindows = simulate(times(6, 'anomalous'), (i) => Math.floor(i / 5));
    expect(twoWindows.actions).toEqual(['none', 'none', 'none', 'none', 'none', 'open']);
  });

  it('resolves after 15 minutes back inside the band, and an anomalous blip restarts the wait', () => {
    const r = simulate([...times(2, 'anomalous'), ...times(10, 'normal'), 'anomalous', ...times(15, 'normal')]);
    expect(r.actions.slice(2, 12)).toEqual(['inside', ...times(9, 'none')]);
    expect(r.actions[12]).toBe('update');
    expect(r.actions.slice(13)).toEqual(['inside', ...times(14, 'none')]);
    expect(r.stored!.status).toBe('open');
    const done = simulate([...times(2, 'anomalous'), ...times(16, 'normal')]);
    expect(done.actions[17]).toBe('resolve');
    expect(done.stored!.status).toBe('resolved');
  });

  it('flapping makes one anomaly with a reopen count', () => {
    const flap = [...times(2, 'anomalous'), ...times(16, 'normal')];
    const r = simulate([...flap, ...flap, ...flap]);
    expect(r.rows).toBe(1);
    expect(r.stored!.reopen_count).toBe(2);
    expect(r.actions.filter((a) => a === 'reopen')).toHaveLength(2);
  });

  it('a recurrence more than an hour after resolving opens a new anomaly', () => {
    const r = simulate([
      ...times(2, 'anomalous'),
      ...times(16, 'normal'),
      ...times(61, 'normal'),
      ...times(2, 'anomalous'),
    ]);
    expect(r.rows).toBe(2);
    expect(r.stored!.reopen_count).toBe(0);
  });

  it('no data counts toward resolving; a triaged anomaly resolves like an open one', () => {
    const stored: AnomalyMemory = { status: 'triaged', inside_since: null, resolved_at: null };
    const first = lifecycleStep('insufficient_data', { count: 3, window: 1 }, stored, new Date(T0), PARAMS, 2);
    expect(first).toEqual({ action: 'inside', streak: NO_STREAK });
    const later = lifecycleStep(
      'normal',
      NO_STREAK,
      { ...stored, inside_since: new Date(T0) },
      new Date(T0 + 15 * MIN),
      PARAMS,
      3,
    );
    expect(later.action).toBe('resolve');
  });
});
