import { DataSource } from 'typeorm';
import { sqlDate } from '../../src/database/sql-dates.js';
import { TenantHourlyRollup } from '../../src/deliveries/tenant-hourly-rollup.js';
import type { TestApp } from './test-app.js';

export const BUCKET_MS = 5 * 60_000;

/** One endpoint's 5-minute bucket in the delivery stats rollup, as the dispatcher and ingest write it. */
export interface SeedBucket {
  received?: number;
  attempts: number;
  failures?: number;
  delivered?: number;
  exhausted?: number;
  /** Attempts per latency bucket: ≤100, ≤250, ≤500, ≤1000, ≤2500, ≤5000, ≤10000, more (ms). */
  latency?: number[];
  apdexSatisfied?: number;
  apdexTolerating?: number;
}

const LATENCY = [
  'lat_le_100',
  'lat_le_250',
  'lat_le_500',
  'lat_le_1000',
  'lat_le_2500',
  'lat_le_5000',
  'lat_le_10000',
  'lat_gt_10000',
];

/**
 * Writes history into the rollup for one tenant's endpoint: every bucket start in [from, to) gets
 * `make(start)` (null skips it), and folds the hours that are over into the hourly rollup, as the
 * service would have. This is the past a test cannot wait for: weeks of traffic.
 */
export async function seedRollup(
  t: TestApp,
  tenantId: string,
  endpointId: string,
  from: number,
  to: number,
  make: (start: number) => SeedBucket | null,
): Promise<number> {
  const ds = t.app.get(DataSource);
  const pg = ds.options.type === 'postgres';
  const dialect = pg ? 'postgres' : 'sqlite';
  const columns = [
    'bucket_start',
    'tenant_id',
    'endpoint_id',
    'received',
    'attempts',
    'successes',
    'failures',
    'delivered',
    'exhausted',
    'apdex_satisfied',
    'apdex_tolerating',
    ...LATENCY,
  ];
  const rows: unknown[][] = [];
  for (let s = Math.ceil(from / BUCKET_MS) * BUCKET_MS; s < to; s += BUCKET_MS) {
    const b = make(s);
    if (!b) continue;
    const failures = b.failures ?? 0;
    const delivered = b.delivered ?? b.attempts - failures;
    rows.push([
      sqlDate(dialect, new Date(s)),
      tenantId,
      endpointId,
      b.received ?? b.attempts,
      b.attempts,
      b.attempts - failures,
      failures,
      delivered,
      b.exhausted ?? failures,
      b.apdexSatisfied ?? delivered,
      b.apdexTolerating ?? 0,
      ...(b.latency ?? [b.attempts, 0, 0, 0, 0, 0, 0, 0]),
    ]);
  }
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    let n = 0;
    const p = () => (pg ? `$${++n}` : '?');
    const values = chunk.map((r) => `(${r.map(() => p()).join(', ')})`).join(', ');
    await ds.query(`INSERT INTO delivery_stats_5m (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
  await t.app.get(TenantHourlyRollup).refold(new Date(from), new Date(to));
  return rows.length;
}
