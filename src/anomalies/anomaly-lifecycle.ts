import type { VerdictState } from './anomaly-signals.js';

export const ANOMALY_STATUSES = ['open', 'triaged', 'resolved'] as const;
export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

export interface LifecycleParams {
  /** Anomalous evaluations in a row before an anomaly opens. */
  openAfter: number;
  /** Time back inside the band after which an anomaly resolves. */
  resolveAfterMs: number;
  /** A recurrence this soon after resolving reopens the same anomaly. */
  reopenWindowMs: number;
}

/** The stored anomaly of one (tenant, signal), as far as the lifecycle needs it. */
export interface AnomalyMemory {
  status: AnomalyStatus;
  inside_since: Date | null;
  resolved_at: Date | null;
}

/**
 * What one evaluation does to one (tenant, signal): `open` a new anomaly, `reopen` the one that
 * resolved within the reopen window, `update` the active one with fresh figures, mark it `inside`
 * the band again, `resolve` it, or nothing.
 */
export type LifecycleAction = 'none' | 'open' | 'reopen' | 'update' | 'inside' | 'resolve';

/** Anomalous level windows in a row, and the last one counted. */
export interface Streak {
  count: number;
  window: number | null;
}

export const NO_STREAK: Streak = { count: 0, window: null };

export interface LifecycleStep {
  action: LifecycleAction;
  /** The streak after this evaluation. */
  streak: Streak;
}

/**
 * One step of the lifecycle, pure. `window` names the level window judged (its end, in ms): the
 * detector evaluates every minute but the window moves every 5 minutes, and an evaluation of the
 * same buckets again is no new evidence, so it does not lengthen the streak. An anomaly opens
 * after `openAfter` anomalous evaluations in a row of different windows. A verdict without data
 * (too little traffic or baseline) is not anomalous: it breaks a streak and counts toward
 * resolving, so an anomaly whose traffic stopped does not stay open forever.
 */
export function lifecycleStep(
  state: VerdictState,
  before: Streak,
  stored: AnomalyMemory | null,
  now: Date,
  params: LifecycleParams,
  window: number,
): LifecycleStep {
  const active = stored !== null && stored.status !== 'resolved';
  if (state === 'anomalous') {
    const streak = before.window === window ? before : { count: before.count + 1, window };
    if (active) return { action: 'update', streak };
    if (streak.count < params.openAfter) return { action: 'none', streak };
    const recent =
      stored?.status === 'resolved' &&
      stored.resolved_at !== null &&
      now.getTime() - stored.resolved_at.getTime() <= params.reopenWindowMs;
    return { action: recent ? 'reopen' : 'open', streak };
  }
  if (!active) return { action: 'none', streak: NO_STREAK };
  if (stored.inside_since === null) {
    return { action: params.resolveAfterMs === 0 ? 'resolve' : 'inside', streak: NO_STREAK };
  }
  const inside = now.getTime() - stored.inside_since.getTime();
  return { action: inside >= params.resolveAfterMs ? 'resolve' : 'none', streak: NO_STREAK };
}
