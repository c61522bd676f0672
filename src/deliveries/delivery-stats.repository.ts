import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { readSqlDate, sqlDate } from '../database/sql-dates.js';
import { LATENCY_COLUMNS } from './delivery-latency.js';

/** One endpoint's health over a window: the rollup sums and the streaks on its row. */
export interface EndpointWindowRow {
  endpoint_id: string;
  tenant_id: string;
  url: string;
  state: string;
  consecutive_failures: number;
  recovered_at: Date | null;
  recovered_after_failures: number;
  attempts: number;
  failures: number;
  timeouts: number;
  latency: number[];
}

/** One tenant's 5-minute bucket, summed over its endpoints. */
export interface TenantBucketRow {
  tenant_id: string;
  bucket_start: Date;
  received: number;
  attempts: number;
  failures: number;
  delivered: number;
  exhausted: number;
  latency: number[];
}

/** One tenant's sums over a window. */
export interface TenantTotalsRow {
  tenant_id: string;
  received: number;
  attempts: number;
  failures: number;
  delivered: number;
  exhausted: number;
  apdex_satisfied: number;
  apdex_tolerating: number;
  latency: number[];
}

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface ReceivedCount {
  bucketStart: Date;
  tenantId: string;
  endpointId: string;
  count: number;
}

const TENANT_TOTALS = [
  'received',
  'attempts',
  'failures',
  'delivered',
  'exhausted',
  'apdex_satisfied',
  'apdex_tolerating',
  ...LATENCY_COLUMNS,
];
const TENANT_BUCKET_SUMS = ['received', 'attempts', 'failures', 'delivered', 'exhausted', ...LATENCY_COLUMNS];
/** Tenants per statement when a read is narrowed to a list of tenants. */
const TENANT_CHUNK = 500;

/** Reads of the 5-minute delivery stats rollup, set-wise: one statement for every endpoint or tenant. */
@Injectable()
export class DeliveryStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Every endpoint with attempts in buckets that start after `since` (counting none from before its
   * baseline reset), a failure streak, or a recovery after `since`.
   */
  async endpointWindows(since: Date): Promise<EndpointWindowRow[]> {
    const pg = this.dataSource.options.type === 'postgres';
    const at = sqlDate(pg ? 'postgres' : 'sqlite', since);
    const p = (i: number) => (pg ? `$${i}` : '?');
    const sums = ['attempts', 'failures', 'timeouts', ...LATENCY_COLUMNS];
    const sql = `
      WITH w AS (
        SELECT s.endpoint_id, ${sums.map((c) => `SUM(s.${c}) AS ${c}`).join(', ')}
        FROM delivery_stats_5m s JOIN endpoints b ON b.id = s.endpoint_id
        WHERE s.bucket_start > ${p(1)} AND (b.baseline_reset_at IS NULL OR s.bucket_start >= b.baseline_reset_at)
        GROUP BY s.endpoint_id
      )
      SELECT e.id AS endpoint_id, e.tenant_id, e.url, e.state, e.consecutive_failures, e.recovered_at,
        e.recovered_after_failures, ${sums.map((c) => `COALESCE(w.${c}, 0) AS ${c}`).join(', ')}
      FROM endpoints e LEFT JOIN w ON w.endpoint_id = e.id
      WHERE w.endpoint_id IS NOT NULL OR e.consecutive_failures > 0 OR e.recovered_at > ${p(2)}`;
    const rows = await this.dataSource.query<Record<string, unknown>[]>(sql, [at, at]);
    return rows.map((r) => ({
      endpoint_id: String(r.endpoint_id),
      tenant_id: String(r.tenant_id),
      url: String(r.url),
      state: String(r.state),
      consecutive_failures: Number(r.consecutive_failures),
      recovered_at: r.recovered_at === null ? null : readSqlDate(r.recovered_at),
      recovered_after_failures: Number(r.recovered_after_failures),
      attempts: Number(r.attempts),
      failures: Number(r.failures),
      timeouts: Number(r.timeouts),
      latency: LATENCY_COLUMNS.map((c) => Number(r[c])),
    }));
  }
  /** Counts deliveries received from producers into their buckets (one statement per batch). */
  async addReceived(tx: Tx, counts: ReceivedCount[]): Promise<void> {
    if (!counts.length) return;
    const pg = tx.dialect === 'postgres';
    let i = 0;
    const p = () => (pg ? `$${++i}` : '?');
    const values = counts.map(() => `(${p()}, ${p()}, ${p()}, ${p()})`).join(', ');
    await tx.manager.query(
      `INSERT INTO delivery_stats_5m (bucket_start, tenant_id, endpoint_id, received) VALUES ${values}
       ON CONFLICT (bucket_start, tenant_id, endpoint_id) DO UPDATE SET received = delivery_stats_5m.received + excluded.received`,
      counts.flatMap((c) => [sqlDate(tx.dialect, c.bucketStart), c.tenantId, c.endpointId, c.count]),
    );
  }

  /**
   * Per tenant and bucket, the buckets that start inside any of `ranges` ([from, to)), summed over
   * the tenant's endpoints; only `tenantIds` when given. Buckets without a row are absent.
   */
  async tenantBuckets(ranges: TimeRange[], tenantIds?: string[]): Promise<TenantBucketRow[]> {
    if (!ranges.length || tenantIds?.length === 0) return [];
    if (tenantIds && tenantIds.length > TENANT_CHUNK) {
      const out: TenantBucketRow[] = [];
      for (let i = 0; i < tenantIds.length; i += TENANT_CHUNK) {
        out.push(...(await this.tenantBuckets(ranges, tenantIds.slice(i, i + TENANT_CHUNK))));
      }
      return out;
    }
    const { dialect, p, params } = this.binder();
    const inRanges = ranges
      .map(
        (r) => `(s.bucket_start >= ${p(sqlDate(dialect, r.from))} AND s.bucket_start < ${p(sqlDate(dialect, r.to))})`,
      )
      .join(' OR ');
    const tenants = tenantIds ? `AND s.tenant_id IN (${tenantIds.map((t) => p(t)).join(', ')})` : '';
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT s.tenant_id, s.bucket_start, ${TENANT_BUCKET_SUMS.map((c) => `SUM(s.${c}) AS ${c}`).join(', ')}
       FROM delivery_stats_5m s WHERE (${inRanges}) ${tenants}
       GROUP BY s.tenant_id, s.bucket_start`,
      params,
    );
    return rows.map((r) => ({
      tenant_id: String(r.tenant_id),
      bucket_start: readSqlDate(r.bucket_start),
      received: Number(r.received),
      attempts: Number(r.attempts),
      failures: Number(r.failures),
      delivered: Number(r.delivered),
      exhausted: Number(r.exhausted),
      latency: LATENCY_COLUMNS.map((c) => Number(r[c])),
    }));
  }

  /** Per tenant with a bucket at or after `since`, the earliest such bucket (an index probe per tenant). */
  async tenantsFirstSeen(since: Date): Promise<Map<string, Date>> {
    const { dialect, p, params } = this.binder();
    const at = p(sqlDate(dialect, since));
    const rows = await this.dataSource.query<{ tenant_id: string; first_seen: unknown }[]>(
      `SELECT t.tenant_id, (SELECT MIN(s.bucket_start) FROM delivery_stats_5m s
                            WHERE s.tenant_id = t.tenant_id AND s.bucket_start >= ${at}) AS first_seen
       FROM (SELECT DISTINCT tenant_id FROM endpoints) t`,
      params,
    );
    return new Map(rows.filter((r) => r.first_seen !== null).map((r) => [r.tenant_id, readSqlDate(r.first_seen)]));
  }

  /** Per tenant, the sums of the buckets that start at or after `since`; only `tenantId` when given. */
  async tenantTotals(since: Date, tenantId?: string): Promise<TenantTotalsRow[]> {
    const { dialect, p, params } = this.binder();
    const at = p(sqlDate(dialect, since));
    const tenant = tenantId === undefined ? '' : `AND s.tenant_id = ${p(tenantId)}`;
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT s.tenant_id, ${TENANT_TOTALS.map((c) => `SUM(s.${c}) AS ${c}`).join(', ')}
       FROM delivery_stats_5m s WHERE s.bucket_start >= ${at} ${tenant}
       GROUP BY s.tenant_id`,
      params,
    );
    return rows.map((r) => ({
      tenant_id: String(r.tenant_id),
      received: Number(r.received),
      attempts: Number(r.attempts),
      failures: Number(r.failures),
      delivered: Number(r.delivered),
      exhausted: Number(r.exhausted),
      apdex_satisfied: Number(r.apdex_satisfied),
      apdex_tolerating: Number(r.apdex_tolerating),
      latency: LATENCY_COLUMNS.map((c) => Number(r[c])),
    }));
  }

  /** Positional parameters for the store's driver: `p(value)` adds one and returns its placeholder. */
  private binder() {
    const dialect = this.dataSource.options.type === 'postgres' ? ('postgres' as const) : ('sqlite' as const);
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return dialect === 'postgres' ? `$${params.length}` : '?';
    };
    return { dialect, p, params };
  }
}
