import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { readSqlDate, sqlDate } from '../database/sql-dates.js';

const LATENCY_COLUMNS = [
  'lat_le_100',
  'lat_le_250',
  'lat_le_500',
  'lat_le_1000',
  'lat_le_2500',
  'lat_le_5000',
  'lat_le_10000',
  'lat_gt_10000',
] as const;

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

/** Reads of the 5-minute delivery stats rollup, set-wise: one statement for every endpoint. */
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
}
