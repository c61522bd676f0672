import { Injectable } from '@nestjs/common';
import { In, MoreThan } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm';
import { sqlDate } from '../database/sql-dates.js';
import type { Tx } from '../database/transaction-runner.js';
import { AttemptEntity } from './attempt.entity.js';
import { DeliveryEntity } from './delivery.entity.js';
import { latencyColumnFor, type ApdexZone } from './delivery-latency.js';
import { AUTOHEAL_CLEARED, EndpointEntity } from './endpoint.entity.js';

export interface AttemptOutcome {
  status: DeliveryEntity['status'];
  attemptCount: number;
  nextAttemptAt: Date | null;
  statusCode: number | null;
  errorKind: string | null;
  completedAt: Date | null;
}

export interface StatsIncrement {
  bucketStart: Date;
  tenantId: string;
  endpointId: string;
  success: boolean;
  timeout: boolean;
  delivered: boolean;
  exhausted: boolean;
  durationMs: number;
  /** Apdex zone of a delivered webhook (null unless delivered). */
  apdex: ApdexZone | null;
}

/** The dispatcher's queries: claiming due deliveries under a lease, and recording attempts. */
@Injectable()
export class DispatchRepository {
  /**
   * Leases up to `limit` due deliveries of endpoints that are not paused, skipping rows another
   * replica holds (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: transactions run one at a time).
   * An autoheal pause holds past its paused_until: only a probe (claimProbes) ends it.
   */
  async claimDue(
    tx: Tx,
    owner: string,
    now: Date,
    leaseUntil: Date,
    limit: number,
    skipEndpoints: string[],
  ): Promise<DeliveryEntity[]> {
    const pg = tx.dialect === 'postgres';
    const p = (i: number) => (pg ? `$${i}` : '?');
    const skip = skipEndpoints.length
      ? `AND d.endpoint_id NOT IN (${skipEndpoints.map((_, i) => p(5 + i)).join(', ')})`
      : '';
    // Paused endpoints are few: a hashed NOT IN keeps the scan on the due index, in order.
    const sql = `
      UPDATE deliveries SET lease_owner = ${p(1)}, lease_expires_at = ${p(2)}
      WHERE id IN (
        SELECT d.id FROM deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= ${p(3)}
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at < ${p(3)})
          AND d.endpoint_id NOT IN (
            SELECT e.id FROM endpoints e
            WHERE e.state = 'paused'
              AND (e.autoheal_paused OR e.paused_until IS NULL OR e.paused_until > ${p(3)}))
          ${skip}
        ORDER BY d.next_attempt_at
        LIMIT ${p(4)}
        ${pg ? 'FOR UPDATE SKIP LOCKED' : ''}
      )
      RETURNING id`;
    // Without fresh statistics (a new table, or a burst of inserts before autovacuum's next
    // ANALYZE) the planner expects a handful of due rows and picks a bitmap scan plus a sort of
    // the whole backlog, spilling to disk; the due index returns them already in order.
    if (pg) await tx.manager.query('SET LOCAL enable_bitmapscan = off');
    // Numbered on PostgreSQL; in textual order on SQLite (`now` three times, the skip list before LIMIT).
    const params: unknown[] = pg
      ? [owner, leaseUntil, now, limit, ...skipEndpoints]
      : [owner, ...[leaseUntil, now, now, now].map((d) => sqlDate('sqlite', d)), ...skipEndpoints, limit];
    const rows = (await tx.manager.query(sql, params)) as unknown;
    const ids = normalizeReturning(rows).map((r) => r.id);
    return ids.length ? tx.manager.findBy(DeliveryEntity, { id: In(ids) }) : [];
  }

  /**
   * For up to `limit` autoheal-paused endpoints whose pause has run out and that no replica is
   * probing, leases the oldest due delivery as the probe and marks the endpoint probed until
   * `leaseUntil`. An endpoint with nothing due is left alone. PostgreSQL locks the endpoint rows
   * (SKIP LOCKED), so two replicas never probe one endpoint at once.
   */
  async claimProbes(
    tx: Tx,
    owner: string,
    now: Date,
    leaseUntil: Date,
    limit: number,
    skipEndpoints: string[],
  ): Promise<DeliveryEntity[]> {
    const pg = tx.dialect === 'postgres';
    const endpoints = tx.manager
      .createQueryBuilder(EndpointEntity, 'e')
      .select('e.id')
      .where(`e.state = 'paused' AND e.autoheal_paused = :yes`, { yes: true })
      .andWhere('e.paused_until <= :now', { now })
      .andWhere('(e.probe_lease_until IS NULL OR e.probe_lease_until < :now)')
      .orderBy('e.paused_until', 'ASC')
      .limit(limit);
    if (skipEndpoints.length) endpoints.andWhere('e.id NOT IN (:...skip)', { skip: skipEndpoints });
    if (pg) endpoints.setLock('pessimistic_write').setOnLocked('skip_locked');
    const probes: string[] = [];
    for (const { id: endpointId } of await endpoints.getMany()) {
      const due = tx.manager
        .createQueryBuilder(DeliveryEntity, 'd')
        .select('d.id')
        .where('d.endpoint_id = :endpointId', { endpointId })
        .andWhere(`d.status = 'pending' AND d.next_attempt_at <= :now`, { now })
        .andWhere('(d.lease_expires_at IS NULL OR d.lease_expires_at < :now)')
        .orderBy('d.next_attempt_at', 'ASC')
        .limit(1);
      if (pg) due.setLock('pessimistic_write').setOnLocked('skip_locked');
      const delivery = await due.getOne();
      if (!delivery) continue;
      await tx.manager.update(
        DeliveryEntity,
        { id: delivery.id },
        { lease_owner: owner, lease_expires_at: leaseUntil },
      );
      await tx.manager.update(EndpointEntity, { id: endpointId }, { probe_lease_until: leaseUntil });
      probes.push(delivery.id);
    }
    return probes.length ? tx.manager.findBy(DeliveryEntity, { id: In(probes) }) : [];
  }

  /** Gives a lease back without an attempt (e.g. the endpoint's per-endpoint limit was reached). */
  async release(tx: Tx, ids: string[], owner: string): Promise<void> {
    if (!ids.length) return;
    await tx.manager.update(
      DeliveryEntity,
      { id: In(ids), lease_owner: owner },
      { lease_owner: null, lease_expires_at: null },
    );
  }

  findEndpoints(tx: Tx, ids: string[]): Promise<EndpointEntity[]> {
    return ids.length ? tx.manager.findBy(EndpointEntity, { id: In(ids) }) : Promise.resolve([]);
  }

  insertAttempt(tx: Tx, attempt: AttemptEntity): Promise<unknown> {
    return tx.manager.insert(AttemptEntity, attempt);
  }

  /** Whether this replica still holds the delivery's lease (an attempt's outcome not yet recorded). */
  async holdsLease(tx: Tx, id: string, owner: string): Promise<boolean> {
    return (await tx.manager.countBy(DeliveryEntity, { id, lease_owner: owner })) > 0;
  }

  /** Applies an attempt's outcome if this replica still holds the lease; false if it lost it. */
  async finish(tx: Tx, id: string, owner: string, outcome: AttemptOutcome, now: Date): Promise<boolean> {
    const result = await tx.manager.update(
      DeliveryEntity,
      { id, lease_owner: owner },
      {
        status: outcome.status,
        attempt_count: outcome.attemptCount,
        next_attempt_at: outcome.nextAttemptAt,
        last_status_code: outcome.statusCode,
        last_error_kind: outcome.errorKind,
        completed_at: outcome.completedAt,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
        pending_trigger: null,
      },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * The endpoint's health after an attempt, from the row's current values rather than the claim's
   * snapshot (other attempts finish concurrently): a failure extends the streak, a success ends it
   * and marks the recovery. Returns the length of the streak a success ended, 0 if none.
   *
   * Success on a healthy endpoint that was updated within the last second changes nothing worth
   * a write: skipping it keeps busy endpoints from becoming a hot row.
   */
  async recordEndpointResult(
    tx: Tx,
    endpoint: EndpointEntity,
    success: boolean,
    now: Date,
    disableReason?: string,
  ): Promise<number> {
    const healthy = success && !disableReason && endpoint.consecutive_failures === 0 && endpoint.state === 'active';
    if (healthy && endpoint.last_success_at && now.getTime() - new Date(endpoint.last_success_at).getTime() < 1000)
      return 0;
    const id = endpoint.id;
    if (!success) {
      const changes: QueryDeepPartialEntity<EndpointEntity> = {
        last_failure_at: now,
        consecutive_failures: () => 'consecutive_failures + 1',
        updated_at: now,
      };
      if (disableReason)
        Object.assign(changes, { state: 'disabled', disabled_reason: disableReason, ...AUTOHEAL_CLEARED });
      await tx.manager.update(EndpointEntity, { id }, changes);
      return 0;
    }
    // Two conditional updates, exactly one of which matches the row as it is now; the one the
    // snapshot expects goes first, so it is usually a single statement.
    const endStreak = async () => {
      const result = await tx.manager.update(
        EndpointEntity,
        { id, consecutive_failures: MoreThan(0) },
        {
          last_success_at: now,
          consecutive_failures: 0,
          recovered_at: now,
          recovered_after_failures: () => 'consecutive_failures',
          updated_at: now,
        },
      );
      if (!result.affected) return null;
      const row = await tx.manager.findOne(EndpointEntity, {
        where: { id },
        select: { id: true, recovered_after_failures: true },
      });
      return row?.recovered_after_failures ?? 0;
    };
    const plain = async () => {
      const result = await tx.manager.update(
        EndpointEntity,
        { id, consecutive_failures: 0 },
        { last_success_at: now, updated_at: now },
      );
      return result.affected ? 0 : null;
    };
    const [first, second] = endpoint.consecutive_failures > 0 ? [endStreak, plain] : [plain, endStreak];
    return (await first()) ?? (await second()) ?? 0;
  }

  /** Adds one attempt to its 5-minute bucket (per tenant and endpoint). */
  async addToStats(tx: Tx, s: StatsIncrement): Promise<void> {
    const pg = tx.dialect === 'postgres';
    const counters: Record<string, number> = {
      attempts: 1,
      successes: s.success ? 1 : 0,
      failures: s.success ? 0 : 1,
      timeouts: s.timeout ? 1 : 0,
      delivered: s.delivered ? 1 : 0,
      exhausted: s.exhausted ? 1 : 0,
      latency_sum_ms: Math.round(s.durationMs),
      apdex_satisfied: s.apdex === 'satisfied' ? 1 : 0,
      apdex_tolerating: s.apdex === 'tolerating' ? 1 : 0,
      [latencyColumnFor(s.durationMs)]: 1,
    };
    const columns = Object.keys(counters);
    const p = (i: number) => (pg ? `$${i}` : '?');
    const sql = `
      INSERT INTO delivery_stats_5m (bucket_start, tenant_id, endpoint_id, ${columns.join(', ')})
      VALUES (${[1, 2, 3, ...columns.map((_, i) => i + 4)].map(p).join(', ')})
      ON CONFLICT (bucket_start, tenant_id, endpoint_id) DO UPDATE SET
        ${columns.map((c) => `${c} = delivery_stats_5m.${c} + excluded.${c}`).join(', ')}`;
    await tx.manager.query(sql, [
      sqlDate(tx.dialect, s.bucketStart),
      s.tenantId,
      s.endpointId,
      ...Object.values(counters),
    ]);
  }
}

/** RETURNING rows come back as rows (PostgreSQL) or as [rows, count] depending on the driver. */
function normalizeReturning(result: unknown): { id: string }[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as { id: string }[];
  }
  return Array.isArray(result) ? (result as { id: string }[]) : [];
}
