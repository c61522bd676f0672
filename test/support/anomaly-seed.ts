import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AnomalyEntity } from '../../src/anomalies/anomaly.entity.js';

/**
 * Stores one open, critical failure spike for `tenantId` and returns its id. The detector's own
 * suites cover how an anomaly opens; suites about what is done with one just need it to exist.
 */
export async function seedOpenAnomaly(app: INestApplication, tenantId: string): Promise<string> {
  const now = new Date();
  const id = randomUUID();
  await app.get(DataSource).getRepository(AnomalyEntity).insert({
    id,
    tenant_id: tenantId,
    kind: 'failure_spike',
    signal: 'failure_ratio',
    status: 'open',
    severity: 'critical',
    baseline_mode: 'weekly',
    current_value: 0.41,
    baseline_median: 0.004,
    baseline_mad: 0.002,
    band_low: 0,
    band_high: 0.054,
    score: 8.1,
    peak_score: 8.1,
    sample_size: 420,
    first_seen_at: now,
    last_seen_at: now,
    inside_since: null,
    resolved_at: null,
    reopen_count: 0,
    triage_note: null,
    triaged_by: null,
    triaged_at: null,
    assignee: null,
    created_at: now,
    updated_at: now,
  });
  return id;
}
