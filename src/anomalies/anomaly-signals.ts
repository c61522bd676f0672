import { interpolatedQuantile } from '../deliveries/delivery-latency.js';

/**
 * The anomaly method, pure: which buckets a tenant is judged on, its baseline from its own history,
 * the band around it, and the verdict per signal. The detector gathers the buckets set-wise and
 * applies the verdicts; everything statistical is here (and in the README's description).
 */

export const SIGNALS = ['failure_ratio', 'p95_latency_ms', 'volume'] as const;
export type Signal = (typeof SIGNALS)[number];

export const ANOMALY_KINDS = ['failure_spike', 'latency_spike', 'volume_drop'] as const;
export const ANOMALY_SEVERITIES = ['warning', 'error', 'critical'] as const;
export type AnomalySeverity = (typeof ANOMALY_SEVERITIES)[number];
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export const KIND_OF: Record<Signal, AnomalyKind> = {
  failure_ratio: 'failure_spike',
  p95_latency_ms: 'latency_spike',
  volume: 'volume_drop',
};

export const BUCKET_MS = 5 * 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
/** The current level is the median of this many complete buckets. */
export const LEVEL_BUCKETS = 3;
/** Weeks of the same hour-of-week in the seasonal baseline. */
export const BASELINE_WEEKS = 4;
/** History needed for the seasonal baseline; with less, the last 24 h are the baseline. */
export const WEEKLY_MIN_HISTORY_MS = 14 * DAY_MS;
/** History needed for any baseline. */
export const DAILY_MIN_HISTORY_MS = DAY_MS;
/** Baseline buckets with traffic that failure ratio and latency need. */
const MIN_BASELINE_SAMPLES = 6;
/** MAD × 1.4826 estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;
const WILSON_Z = 1.96;
/** Smallest half-width per signal, so a zero median and zero MAD never divide by zero. */
const ABSOLUTE_FLOOR: Record<Signal, number> = { failure_ratio: 1e-6, p95_latency_ms: 1, volume: 1 };

export interface DetectorParams {
  madMultiplier: number;
  /** Smallest failure-ratio half-width (0.05 = 5 percentage points). */
  failureFloor: number;
  /**
   * Smallest p95 latency half-width, as a share of the median. The rollup's histogram bins are
   * 2 to 2.5 times wide, so a p95 read from it moves by more than half the median without any
   * real change; the default of 1 (a band edge at twice the median) is above that resolution.
   */
  latencyFloor: number;
  /** Smallest volume half-width, as a share of the median. */
  volumeFloor: number;
  /** Attempts the level window needs for failure ratio and latency. */
  minAttempts: number;
  /** Baseline deliveries per hour a volume drop needs. */
  minHourlyVolume: number;
  /** Upper bound of the open-ended latency bucket (the delivery timeout). */
  overflowMs: number;
}

export const DEFAULT_PARAMS: DetectorParams = {
  madMultiplier: 3,
  failureFloor: 0.05,
  latencyFloor: 1,
  volumeFloor: 0.5,
  minAttempts: 100,
  minHourlyVolume: 300,
  overflowMs: 15_000,
};

/** One tenant's 5-minute bucket: deliveries received, attempts, failed attempts, latency histogram. */
export interface Bucket {
  received: number;
  attempts: number;
  failures: number;
  latency: readonly number[];
}

export type BaselineMode = 'weekly' | 'daily';

/** Which bucket starts (ms) a tenant is judged on at one evaluation. */
export interface Plan {
  levelStarts: number[];
  baselineStarts: number[];
  mode: BaselineMode | null;
}

/**
 * The level window is the last LEVEL_BUCKETS complete buckets before `now`. With two weeks of
 * history or more the baseline is the same UTC hour-of-week (the hour of the last complete bucket)
 * in each of the last four weeks the tenant existed; with one day or more, the 24 hours before the
 * level window; with less, none.
 */
export function planWindows(now: Date, firstSeen: Date | null): Plan {
  const levelEnd = Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS;
  const levelStart = levelEnd - LEVEL_BUCKETS * BUCKET_MS;
  const levelStarts = range(levelStart, levelEnd);
  const first = firstSeen === null ? null : Math.floor(firstSeen.getTime() / BUCKET_MS) * BUCKET_MS;
  const history = first === null ? 0 : levelEnd - first;
  if (first !== null && history >= WEEKLY_MIN_HISTORY_MS) {
    const hour = Math.floor((levelEnd - BUCKET_MS) / HOUR_MS) * HOUR_MS;
    const baselineStarts: number[] = [];
    for (let k = 1; k <= BASELINE_WEEKS; k++) {
      const start = hour - k * WEEK_MS;
      if (start >= first) baselineStarts.push(...range(start, start + HOUR_MS));
    }
    return { levelStarts, baselineStarts, mode: 'weekly' };
  }
  if (first !== null && history >= DAILY_MIN_HISTORY_MS) {
    return { levelStarts, baselineStarts: range(Math.max(first, levelStart - DAY_MS), levelStart), mode: 'daily' };
  }
  return { levelStarts, baselineStarts: [], mode: null };
}

/** The contiguous [from, to) time ranges a plan reads, for set-wise queries. */
export function rangesOf(plan: Plan): { from: number; to: number }[] {
  const starts = [...new Set([...plan.baselineStarts, ...plan.levelStarts])].sort((a, b) => a - b);
  const out: { from: number; to: number }[] = [];
  for (const s of starts) {
    const last = out[out.length - 1];
    if (last && last.to === s) last.to = s + BUCKET_MS;
    else out.push({ from: s, to: s + BUCKET_MS });
  }
  return out;
}

export type VerdictState = 'anomalous' | 'normal' | 'insufficient_baseline' | 'insufficient_data';

export interface Verdict {
  signal: Signal;
  kind: AnomalyKind;
  state: VerdictState;
  mode: BaselineMode | null;
  /** Median of the level window's bucket values. */
  level: number | null;
  median: number | null;
  mad: number | null;
  low: number | null;
  high: number | null;
  /** Distance of the level from the median in band half-widths, in the anomalous direction (0 if not). */
  score: number | null;
  /** Attempts (failure ratio, latency) or deliveries received (volume) in the level window. */
  sampleSize: number;
}

/** Every signal's verdict for one tenant; `buckets` maps bucket start (ms) to its sums (absent: no traffic). */
export function evaluateTenant(plan: Plan, buckets: ReadonlyMap<number, Bucket>, params: DetectorParams): Verdict[] {
  return SIGNALS.map((signal) => evaluateSignal(signal, plan, buckets, params));
}

export function evaluateSignal(
  signal: Signal,
  plan: Plan,
  buckets: ReadonlyMap<number, Bucket>,
  params: DetectorParams,
): Verdict {
  const valueOf = (start: number) => bucketValue(signal, buckets.get(start), params.overflowMs);
  const levelValues = present(plan.levelStarts.map(valueOf));
  const level = median(levelValues);
  const pooled = plan.levelStarts.reduce(
    (acc, s) => {
      const b = buckets.get(s);
      return b
        ? {
            attempts: acc.attempts + b.attempts,
            failures: acc.failures + b.failures,
            received: acc.received + b.received,
          }
        : acc;
    },
    { attempts: 0, failures: 0, received: 0 },
  );
  const verdict = (state: VerdictState, extra: Partial<Verdict> = {}): Verdict => ({
    signal,
    kind: KIND_OF[signal],
    state,
    mode: plan.mode,
    level,
    median: null,
    mad: null,
    low: null,
    high: null,
    score: null,
    sampleSize: signal === 'volume' ? pooled.received : pooled.attempts,
    ...extra,
  });

  const samples = present(plan.baselineStarts.map(valueOf));
  if (plan.mode === null || (signal !== 'volume' && samples.length < MIN_BASELINE_SAMPLES) || !samples.length) {
    return verdict('insufficient_baseline');
  }
  const m = median(samples)!;
  const mad = median(samples.map((x) => Math.abs(x - m)))!;
  const floor =
    signal === 'failure_ratio'
      ? params.failureFloor
      : (signal === 'volume' ? params.volumeFloor : params.latencyFloor) * m;
  const half = Math.max(params.madMultiplier * MAD_TO_SIGMA * mad, floor, ABSOLUTE_FLOOR[signal]);
  const band = { median: m, mad, low: m - half, high: m + half };

  if (signal === 'volume') {
    if ((m * HOUR_MS) / BUCKET_MS < params.minHourlyVolume) return verdict('insufficient_data', band);
  } else if (pooled.attempts < params.minAttempts || level === null) {
    return verdict('insufficient_data', band);
  }
  const lvl = level ?? 0;
  const score = Math.max(0, (signal === 'volume' ? m - lvl : lvl - m) / half);
  let anomalous: boolean;
  if (signal === 'volume') anomalous = lvl < band.low;
  else if (signal === 'p95_latency_ms') anomalous = lvl > band.high;
  else anomalous = lvl > band.high && wilsonLowerBound(pooled.failures, pooled.attempts) > band.high;
  return verdict(anomalous ? 'anomalous' : 'normal', { ...band, level: lvl, score });
}

/** A signal's value in one bucket; null where it has no value (no attempts), volume 0 where no row. */
export function bucketValue(signal: Signal, bucket: Bucket | undefined, overflowMs: number): number | null {
  if (signal === 'volume') return bucket?.received ?? 0;
  if (!bucket || bucket.attempts === 0) return null;
  if (signal === 'failure_ratio') return bucket.failures / bucket.attempts;
  return interpolatedQuantile(bucket.latency, 0.95, overflowMs);
}

/**
 * Severity by size. Spikes: 4 band half-widths or more is critical, 2 an error, else a warning.
 * Volume drops, whose score cannot pass 1 ÷ the volume floor: by the share of the baseline lost,
 * 90 % or more critical, 75 % an error, else a warning.
 */
export function severityOf(v: Pick<Verdict, 'signal' | 'score' | 'level' | 'median'>): AnomalySeverity {
  if (v.signal === 'volume') {
    const lost = v.median ? 1 - (v.level ?? 0) / v.median : 0;
    return lost >= 0.9 ? 'critical' : lost >= 0.75 ? 'error' : 'warning';
  }
  const score = v.score ?? 0;
  if (score >= 4) return 'critical';
  if (score >= 2) return 'error';
  return 'warning';
}

/** Lower bound of the Wilson score interval (95 %) of `successes` out of `n`. */
export function wilsonLowerBound(successes: number, n: number): number {
  if (n <= 0) return 0;
  const p = successes / n;
  const z2 = WILSON_Z * WILSON_Z;
  const centre = p + z2 / (2 * n);
  const spread = WILSON_Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function present(values: (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s < to; s += BUCKET_MS) out.push(s);
  return out;
}
