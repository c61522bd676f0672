/** The tenant health score, pure: what a tenant's finished deliveries in a window say about it. */

export const HEALTH_STATUSES = ['healthy', 'degraded', 'critical', 'insufficient_data'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Weights of the two components. */
export const SLO_WEIGHT = 0.6;
export const APDEX_WEIGHT = 0.4;
/** Finished deliveries below which a tenant gets no score. */
export const MIN_SCORED_DELIVERIES = 100;

export interface FinishedDeliveries {
  /** Deliveries that succeeded in the window (after however many attempts). */
  delivered: number;
  /** Deliveries that failed for good in the window. */
  exhausted: number;
  /** Delivered within T, and within 4T. */
  apdex_satisfied: number;
  apdex_tolerating: number;
}

export interface HealthScore {
  health_score: number | null;
  status: HealthStatus;
  success_rate: number | null;
  /** B: how much of the error budget is left, clamped to [0, 1]. */
  slo_attainment: number | null;
  /** A: (satisfied + tolerating / 2) / finished, failures frustrated. */
  apdex: number | null;
}

/**
 * score = round(100 × (0.6 × B + 0.4 × A)), B = clamp(1 − (1 − success rate) / (1 − target), 0, 1),
 * A = Apdex; healthy ≥ 90, degraded ≥ 70, critical below; no score under 100 finished deliveries.
 */
export function healthScore(d: FinishedDeliveries, sloTarget: number): HealthScore {
  const finished = d.delivered + d.exhausted;
  const successRate = finished ? d.delivered / finished : null;
  if (finished < MIN_SCORED_DELIVERIES || successRate === null) {
    return {
      health_score: null,
      status: 'insufficient_data',
      success_rate: successRate,
      slo_attainment: null,
      apdex: null,
    };
  }
  const b = Math.min(1, Math.max(0, 1 - (1 - successRate) / (1 - sloTarget)));
  const a = (d.apdex_satisfied + d.apdex_tolerating / 2) / finished;
  const score = Math.round(100 * (SLO_WEIGHT * b + APDEX_WEIGHT * a));
  return { health_score: score, status: statusOf(score), success_rate: successRate, slo_attainment: b, apdex: a };
}

export function statusOf(score: number): Exclude<HealthStatus, 'insufficient_data'> {
  if (score >= 90) return 'healthy';
  if (score >= 70) return 'degraded';
  return 'critical';
}
