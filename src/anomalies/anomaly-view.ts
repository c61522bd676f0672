import type { AnomalyView } from './dto/anomaly.dto.js';
import type { AnomalyEntity } from './anomaly.entity.js';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function anomalyView(a: AnomalyEntity): AnomalyView {
  return {
    id: a.id,
    tenant_id: a.tenant_id,
    kind: a.kind,
    signal: a.signal,
    status: a.status,
    severity: a.severity,
    current_value: a.current_value,
    baseline: { mode: a.baseline_mode, median: a.baseline_median, mad: a.baseline_mad },
    band: { low: a.band_low, high: a.band_high },
    score: a.score,
    peak_score: a.peak_score,
    sample_size: a.sample_size,
    first_seen_at: iso(a.first_seen_at)!,
    last_seen_at: iso(a.last_seen_at)!,
    inside_since: iso(a.inside_since),
    resolved_at: iso(a.resolved_at),
    reopen_count: a.reopen_count,
    triage_note: a.triage_note,
    triaged_by: a.triaged_by,
    triaged_at: iso(a.triaged_at),
    assignee: a.assignee,
  };
}
