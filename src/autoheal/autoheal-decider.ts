import { LATENCY_BOUNDS_MS } from '../deliveries/delivery-latency.js';
import type { ExecutionOutcome } from './autoheal-execution.entity.js';
import type { TriggerMetric } from './autoheal-rule.entity.js';

export interface RulePolicy {
  metric: TriggerMetric;
  threshold: number;
  window_s: number;
  min_requests: number;
  for_s: number;
  dry_run: boolean;
  cooldown_s: number;
  max_actions_per_hour: number;
}

/** What the rollups and the endpoint row say about one endpoint, over one rule's window. */
export interface EndpointSample {
  attempts: number;
  failures: number;
  timeouts: number;
  /** Attempt counts per latency bucket: LATENCY_BOUNDS_MS, then the open-ended one. */
  latency: number[];
  consecutiveFailures: number;
  recoveredAt: Date | null;
  recoveredAfterFailures: number;
}

export const EMPTY_SAMPLE: EndpointSample = {
  attempts: 0,
  failures: 0,
  timeouts: 0,
  latency: [0, 0, 0, 0, 0, 0, 0, 0],
  consecutiveFailures: 0,
  recoveredAt: null,
  recoveredAfterFailures: 0,
};

/** The engine's memory of one rule on one endpoint. */
export interface RuleMemory {
  conditionSince: Date | null;
  cooldownUntil: Date | null;
  lastOutcome: string | null;
  lastOutcomeAt: Date | null;
  handledSignalAt: Date | null;
}

export const FRESH_MEMORY: RuleMemory = {
  conditionSince: null,
  cooldownUntil: null,
  lastOutcome: null,
  lastOutcomeAt: null,
  handledSignalAt: null,
};

export type Verdict = 'too_few_requests' | 'condition_false' | 'holding' | Exclude<ExecutionOutcome, 'action_failed'>;

export interface Decision {
  verdict: Verdict;
  value: number;
  sampleSize: number;
  /** Write an execution row (and its event). */
  record: boolean;
  /** Take the rule's action. */
  act: boolean;
  memory: RuleMemory;
}

/** The value a trigger compares with its threshold, and the number of observations behind it. */
export function measure(metric: TriggerMetric, s: EndpointSample, overflowMs: number): { value: number; size: number } {
  switch (metric) {
    case 'consecutive_failures':
      return { value: s.consecutiveFailures, size: s.consecutiveFailures };
    case 'endpoint_recovered':
      return { value: s.recoveredAfterFailures, size: s.recoveredAfterFailures };
    case 'failure_rate':
      return { value: s.attempts ? s.failures / s.attempts : 0, size: s.attempts };
    case 'timeout_rate':
      return { value: s.attempts ? s.timeouts / s.attempts : 0, size: s.attempts };
    case 'latency_p95_ms':
      return { value: percentile(s.latency, 0.95, overflowMs), size: s.attempts };
  }
}

/** The bucket bound at which the cumulative count reaches q of the total (0 when empty). */
export function percentile(counts: number[], q: number, overflowMs: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return 0;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : overflowMs;
  }
  return overflowMs;
}

/**
 * One evaluation of one rule on one endpoint at `now` (the database's time). Pure: the engine
 * gathers the inputs set-wise and applies the decisions; the whole decision table is here.
 */
export function decide(
  rule: RulePolicy,
  sample: EndpointSample,
  memory: RuleMemory,
  firedLastHour: number,
  now: Date,
  overflowMs: number,
): Decision {
  const { value, size } = measure(rule.metric, sample, overflowMs);
  const quiet = (verdict: Verdict): Decision => ({
    verdict,
    value,
    sampleSize: size,
    record: false,
    act: false,
    memory: { ...memory, conditionSince: null },
  });
  if (rule.metric === 'endpoint_recovered') {
    const at = sample.recoveredAt;
    const fresh =
      at !== null &&
      at.getTime() > now.getTime() - rule.window_s * 1000 &&
      (memory.handledSignalAt === null || at > memory.handledSignalAt);
    if (!fresh) return quiet('condition_false');
  }
  if (size < rule.min_requests) return quiet('too_few_requests');
  if (value < rule.threshold) return quiet('condition_false');

  const since = memory.conditionSince ?? now;
  if (now.getTime() - since.getTime() < rule.for_s * 1000) {
    return {
      verdict: 'holding',
      value,
      sampleSize: size,
      record: false,
      act: false,
      memory: { ...memory, conditionSince: since },
    };
  }
  const verdict: Verdict =
    memory.cooldownUntil && memory.cooldownUntil > now
      ? 'suppressed_cooldown'
      : firedLastHour >= rule.max_actions_per_hour
        ? 'suppressed_budget'
        : rule.dry_run
          ? 'would_fire'
          : 'fired';
  const act = verdict === 'fired';
  // A lasting suppression or dry-run verdict is written once per cooldown period (per hour for
  // the hourly budget), not on every tick.
  const period = verdict === 'suppressed_budget' ? Math.max(rule.cooldown_s, 3600) : rule.cooldown_s;
  const repeat =
    memory.lastOutcome === verdict &&
    memory.lastOutcomeAt !== null &&
    now.getTime() - memory.lastOutcomeAt.getTime() < period * 1000;
  const record = act || !repeat;
  return {
    verdict,
    value,
    sampleSize: size,
    record,
    act,
    memory: {
      conditionSince: act ? null : since,
      cooldownUntil: act ? new Date(now.getTime() + rule.cooldown_s * 1000) : memory.cooldownUntil,
      lastOutcome: record ? verdict : memory.lastOutcome,
      lastOutcomeAt: record ? now : memory.lastOutcomeAt,
      handledSignalAt: rule.metric === 'endpoint_recovered' ? sample.recoveredAt : memory.handledSignalAt,
    },
  };
}
