import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
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
  /** Start of the bucket, in ms since the epoch. */
  bucket_ms: number;
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
const HOUR_MS = 3_600_000;
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
    // PostgreSQL: epoch ms and float8 sums arrive as JS numbers (no Date or bigint strings to parse).
    const pg = dialect === 'postgres';
    const start = pg ? `(extract(epoch from s.bucket_start) * 1000)::float8` : 's.bucket_start';
    const sum = (c: string) => (pg ? `SUM(s.${c})::float8 AS ${c}` : `SUM(s.${c}) AS ${c}`);
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT s.tenant_id, ${start} AS bucket_start, ${TENANT_BUCKET_SUMS.map(sum).join(', ')}
       FROM delivery_stats_5m s WHERE (${inRanges}) ${tenants}
       GROUP BY s.tenant_id, s.bucket_start`,
      params,
    );
    return rows.map((r) => ({
      tenant_id: r.tenant_id as string,
      bucket_ms: pg ? (r.bucket_start as number) : readSqlDate(r.bucket_start).getTime(),
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

  /**
   * Per tenant, the sums of the buckets that start at or after `since`; only `tenantId` when given.
   * Whole hours that are folded into tenant_stats_1h are read from there (one row per tenant and
   * hour), the rest from the 5-minute rollup: the partial hour at the window's start and
   * everything from `foldedUntil` on.
   */
  async tenantTotals(since: Date, tenantId?: string): Promise<TenantTotalsRow[]> {
    const { dialect, p, params } = this.binder();
    const foldedUntil = await this.foldedUntil();
    const firstHour = Math.ceil(since.getTime() / HOUR_MS) * HOUR_MS;
    const at = (ms: number) => p(sqlDate(dialect, new Date(ms)));
    const tenant = (alias: string) => (tenantId === undefined ? '' : `AND ${alias}.tenant_id = ${p(tenantId)}`);
    const sums = TENANT_TOTALS.map((c) => `SUM(x.${c}) AS ${c}`).join(', ');
    const columns = TENANT_TOTALS.join(', ');
    let source: string;
    if (foldedUntil === null || foldedUntil.getTime() <= firstHour) {
      source = `SELECT tenant_id, ${columns} FROM delivery_stats_5m s WHERE s.bucket_start >= ${at(since.getTime())} ${tenant('s')}`;
    } else {
      const until = foldedUntil.getTime();
      source = `
        SELECT tenant_id, ${columns} FROM delivery_stats_5m s
        WHERE ((s.bucket_start >= ${at(since.getTime())} AND s.bucket_start < ${at(firstHour)}) OR s.bucket_start >= ${at(until)}) ${tenant('s')}
        UNION ALL
        SELECT tenant_id, ${columns} FROM tenant_stats_1h h
        WHERE h.hour_start >= ${at(firstHour)} AND h.hour_start < ${at(until)} ${tenant('h')}`;
    }
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT x.tenant_id, ${sums} FROM (${source}) x GROUP BY x.tenant_id`,
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

  /** The end of the last hour folded into tenant_stats_1h; null when nothing is. */
  async foldedUntil(manager: EntityManager = this.dataSource.manager): Promise<Date | null> {
    const [row] = await manager.query<{ last: unknown }[]>(`SELECT MAX(hour_start) AS last FROM tenant_stats_1h`);
    return row?.last == null ? null : new Date(readSqlDate(row.last).getTime() + HOUR_MS);
  }

  /** The oldest bucket in the 5-minute rollup; null when it is empty. */
  async oldestBucket(manager: EntityManager = this.dataSource.manager): Promise<Date | null> {
    const [row] = await manager.query<{ first: unknown }[]>(`SELECT MIN(bucket_start) AS first FROM delivery_stats_5m`);
    return row?.first == null ? null : readSqlDate(row.first);
  }

  /** (Re)computes tenant_stats_1h for the whole hours in [from, to) from the 5-minute rollup. */
  async foldHours(tx: Tx, from: Date, to: Date): Promise<void> {
    const pg = tx.dialect === 'postgres';
    const hour = pg
      ? `to_timestamp(floor(extract(epoch from s.bucket_start) / 3600) * 3600)`
      : `strftime('%Y-%m-%d %H:00:00.000', s.bucket_start)`;
    const columns = TENANT_TOTALS;
    await tx.manager.query(
      `INSERT INTO tenant_stats_1h (hour_start, tenant_id, ${columns.join(', ')})
       SELECT ${hour}, s.tenant_id, ${columns.map((c) => `SUM(s.${c})`).join(', ')}
       FROM delivery_stats_5m s WHERE s.bucket_start >= ${pg ? '$1' : '?'} AND s.bucket_start < ${pg ? '$2' : '?'}
       GROUP BY 1, 2
       ON CONFLICT (hour_start, tenant_id) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      [sqlDate(tx.dialect, from), sqlDate(tx.dialect, to)],
    );
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
