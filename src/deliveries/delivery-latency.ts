/** Upper bounds (ms) of the latency histogram in the 5-minute rollup; one open-ended bucket follows. */
export const LATENCY_BOUNDS_MS = [100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** The rollup's histogram columns, in the order of LATENCY_BOUNDS_MS, then the open-ended one. */
export const LATENCY_COLUMNS = [...LATENCY_BOUNDS_MS.map((b) => `lat_le_${b}`), 'lat_gt_10000'] as const;

export function latencyColumnFor(durationMs: number): (typeof LATENCY_COLUMNS)[number] {
  const i = LATENCY_BOUNDS_MS.findIndex((b) => durationMs <= b);
  return LATENCY_COLUMNS[i === -1 ? LATENCY_BOUNDS_MS.length : i];
}

/**
 * The q-quantile of a histogram, interpolated linearly inside the bucket it falls in (the first
 * bucket starts at 0; the open-ended one ends at `overflowMs`). Null when the histogram is empty.
 */
export function interpolatedQuantile(counts: readonly number[], q: number, overflowMs: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && seen + counts[i] >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      const upper = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : Math.max(overflowMs, lower);
      return lower + ((rank - seen) / counts[i]) * (upper - lower);
    }
    seen += counts[i];
  }
  return overflowMs;
}

export type ApdexZone = 'satisfied' | 'tolerating' | 'frustrated';

/** Apdex zone of a delivered webhook: within T satisfied, within 4T tolerating, beyond frustrated. */
export function apdexZone(durationMs: number, thresholdMs: number): ApdexZone {
  if (durationMs <= thresholdMs) return 'satisfied';
  if (durationMs <= 4 * thresholdMs) return 'tolerating';
  return 'frustrated';
}
