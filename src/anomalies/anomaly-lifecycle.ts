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

export interface LifecycleStep {
  action: LifecycleAction;
  /** Anomalous evaluations in a row, this one included. */
  streak: number;
}

/**
 * One step of the lifecycle, pure. A verdict without data (too little traffic or baseline) is not
 * anomalous: it breaks a streak and counts toward resolving, so an anomaly whose traffic stopped
 * does not stay open forever.
 */
export function lifecycleStep(
  state: VerdictState,
  streakBefore: number,
  stored: AnomalyMemory | null,
  now: Date,
  params: LifecycleParams,
): LifecycleStep {
  const active = stored !== null && stored.status !== 'resolved';
  if (state === 'anomalous') {
    const streak = streakBefore + 1;
    if (active) return { action: 'update', streak };
    if (streak < params.openAfter) return { action: 'none', streak };
    const recent =
      stored?.status === 'resolved' &&
      stored.resolved_at !== null &&
      now.getTime() - stored.resolved_at.getTime() <= params.reopenWindowMs;
    return { action: recent ? 'reopen' : 'open', streak };
  }
  if (!active) return { action: 'none', streak: 0 };
  if (stored.inside_since === null) return { action: params.resolveAfterMs === 0 ? 'resolve' : 'inside', streak: 0 };
  const inside = now.getTime() - stored.inside_since.getTime();
  return { action: inside >= params.resolveAfterMs ? 'resolve' : 'none', streak: 0 };
}
