import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination/cursor.js';
import { sqlDate } from '../database/sql-dates.js';
import type { Tx } from '../database/transaction-runner.js';
import { AttemptEntity } from './attempt.entity.js';
import { DeliveryEntity, type DeliveryStatus } from './delivery.entity.js';

export interface DeliveryFilter {
  tenantId?: string;
  statuses?: DeliveryStatus[];
  endpointUrl?: string;
  eventType?: string;
  start?: Date;
  end?: Date;
}

export type StatusCounts = Record<DeliveryStatus, number>;

export interface ReplayWindow {
  tenantId: string | null;
  endpointUrl: string | null;
  since: Date;
  until: Date;
}

/** The only place that queries `deliveries`. */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  insert(manager: EntityManager, deliveries: DeliveryEntity | DeliveryEntity[]): Promise<unknown> {
    return manager.insert(DeliveryEntity, deliveries);
  }

  /** Deliveries holding any of these idempotency keys, for these tenants. */
  findByIdempotencyKeys(manager: EntityManager, tenantIds: string[], keys: string[]): Promise<DeliveryEntity[]> {
    if (!keys.length) return Promise.resolve([]);
    return manager
      .createQueryBuilder(DeliveryEntity, 'd')
      .where('d.tenant_id IN (:...tenantIds)', { tenantIds })
      .andWhere('d.idempotency_key IN (:...keys)', { keys })
      .getMany();
  }

  async releaseIdempotencyKeys(manager: EntityManager, ids: string[]): Promise<void> {
    if (ids.length) await manager.update(DeliveryEntity, { id: In(ids) }, { idempotency_key: null });
  }

  findById(id: string): Promise<DeliveryEntity | null> {
    return this.dataSource.manager.findOneBy(DeliveryEntity, { id });
  }

  /** Inside a transaction: on PostgreSQL the row stays locked until it ends. */
  async findForUpdate(tx: Tx, id: string): Promise<DeliveryEntity | null> {
    const qb = tx.manager.createQueryBuilder(DeliveryEntity, 'd').where('d.id = :id', { id });
    if (tx.dialect === 'postgres') qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /** Back in the queue, due at `now`, if it is still in `fromStatus`; false if someone else moved it. */
  async requeue(tx: Tx, id: string, fromStatus: DeliveryStatus, trigger: string, now: Date): Promise<boolean> {
    const result = await tx.manager.update(
      DeliveryEntity,
      { id, status: fromStatus },
      {
        status: 'pending',
        next_attempt_at: now,
        completed_at: null,
        pending_trigger: trigger,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
      },
    );
    return (result.affected ?? 0) > 0;
  }

  /**
   * Puts an endpoint's newest `limit` failed deliveries created at or after `since` back in the
   * queue, due now, in one statement; returns how many.
   */
  async requeueFailedOf(
    tx: Tx,
    endpointId: string,
    since: Date,
    limit: number,
    trigger: string,
    now: Date,
  ): Promise<number> {
    const newest = tx.manager
      .createQueryBuilder(DeliveryEntity, 'f')
      .select('f.id')
      .where('f.endpoint_id = :endpointId')
      .andWhere(`f.status = 'failed'`)
      .andWhere('f.created_at >= :since')
      .orderBy('f.created_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(limit)
      .getQuery();
    const result = await tx.manager
      .createQueryBuilder()
      .update(DeliveryEntity)
      .set({
        status: 'pending',
        next_attempt_at: now,
        completed_at: null,
        pending_trigger: trigger,
        updated_at: now,
        lease_owner: null,
        lease_expires_at: null,
      })
      // Re-checked on the row itself: on PostgreSQL a concurrent replay may have moved it meanwhile.
      .where(`id IN (${newest}) AND status = 'failed'`)
      .setParameters({ endpointId, since })
      .execute();
    return result.affected ?? 0;
  }

  attemptsOf(deliveryId: string): Promise<AttemptEntity[]> {
    return this.dataSource.manager.find(AttemptEntity, {
      where: { delivery_id: deliveryId },
      order: { attempt_number: 'ASC' },
    });
  }

  /** Newest first; keyset after `cursor`, or offset `skip`. Returns up to `limit` rows. */
  page(filter: DeliveryFilter, limit: number, skip: number, cursor?: Keyset): Promise<DeliveryEntity[]> {
    const qb = this.dataSource
      .createQueryBuilder(DeliveryEntity, 'd')
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit);
    if (filter.tenantId !== undefined) qb.andWhere('d.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.statuses?.length) qb.andWhere('d.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.endpointUrl !== undefined) qb.andWhere('d.endpoint_url = :url', { url: filter.endpointUrl });
    if (filter.eventType !== undefined) qb.andWhere('d.event_type = :eventType', { eventType: filter.eventType });
    if (filter.start) qb.andWhere('d.created_at >= :start', { start: filter.start });
    if (filter.end) qb.andWhere('d.created_at <= :end', { end: filter.end });
    if (cursor) {
      qb.andWhere('(d.created_at, d.id) < (:at, :cursorId)', {
        at: cursor.createdAt,
        cursorId: cursor.id,
      });
    } else if (skip > 0) {
      qb.offset(skip);
    }
    return qb.getMany();
  }

  /** Failed deliveries created in a window (a bulk recover's selection). */
  private failedIn(w: ReplayWindow) {
    const qb = this.dataSource
      .createQueryBuilder(DeliveryEntity, 'd')
      .where('d.status = :failed', { failed: 'failed' })
      .andWhere('d.created_at >= :since AND d.created_at <= :until', { since: w.since, until: w.until });
    if (w.tenantId) qb.andWhere('d.tenant_id = :tenantId', { tenantId: w.tenantId });
    if (w.endpointUrl) qb.andWhere('d.endpoint_url = :url', { url: w.endpointUrl });
    return qb;
  }

  countFailedIn(w: ReplayWindow): Promise<number> {
    return this.failedIn(w).getCount();
  }

  /** The next `limit` failed deliveries of the window after `after`, oldest first. */
  failedBatch(w: ReplayWindow, after: Keyset | undefined, limit: number): Promise<DeliveryEntity[]> {
    const qb = this.failedIn(w).orderBy('d.created_at', 'ASC').addOrderBy('d.id', 'ASC').limit(limit);
    if (after)
      qb.andWhere('(d.created_at, d.id) > (:at, :afterId)', {
        at: after.createdAt,
        afterId: after.id,
      });
    return qb.getMany();
  }

  /** Up to `limit` finished deliveries completed before `cutoff`, deleted (their attempts cascade). */
  async deleteFinishedBefore(tx: Tx, cutoff: Date, limit: number): Promise<number> {
    const rows = await tx.manager
      .createQueryBuilder(DeliveryEntity, 'd')
      .select('d.id')
      .where('d.status IN (:...done)', { done: ['success', 'failed'] })
      .andWhere('d.completed_at < :cutoff', { cutoff })
      .orderBy('d.completed_at', 'ASC')
      .limit(limit)
      .getMany();
    if (!rows.length) return 0;
    await tx.manager
      .createQueryBuilder()
      .delete()
      .from(DeliveryEntity)
      .where('id IN (:...ids)', { ids: rows.map((r) => r.id) })
      .execute();
    return rows.length;
  }

  /** Stats buckets (5-minute and hourly) older than `cutoff`. */
  async deleteStatsBefore(tx: Tx, cutoff: Date): Promise<void> {
    const p = tx.dialect === 'postgres' ? '$1' : '?';
    await tx.manager.query(`DELETE FROM delivery_stats_5m WHERE bucket_start < ${p}`, [sqlDate(tx.dialect, cutoff)]);
    await tx.manager.query(`DELETE FROM tenant_stats_1h WHERE hour_start < ${p}`, [sqlDate(tx.dialect, cutoff)]);
  }

  /** Pending deliveries, and the earliest due time among those already due. */
  async queueStats(now: Date): Promise<{ depth: number; oldestDueAt: Date | null }> {
    const depth = await this.dataSource.manager.countBy(DeliveryEntity, { status: 'pending' });
    const oldest = await this.dataSource
      .createQueryBuilder(DeliveryEntity, 'd')
      .where('d.status = :status', { status: 'pending' })
      .andWhere('d.next_attempt_at <= :now', { now })
      .orderBy('d.next_attempt_at', 'ASC')
      .limit(1)
      .getOne();
    return { depth, oldestDueAt: oldest?.next_attempt_at ? new Date(oldest.next_attempt_at) : null };
  }

  /** Pending deliveries per tenant; only `tenantId` when given. */
  async pendingByTenant(tenantId?: string): Promise<Map<string, number>> {
    const qb = this.dataSource
      .createQueryBuilder(DeliveryEntity, 'd')
      .select('d.tenant_id', 'tenant_id')
      .addSelect('COUNT(*)', 'n')
      .where('d.status = :status', { status: 'pending' })
      .groupBy('d.tenant_id');
    if (tenantId !== undefined) qb.andWhere('d.tenant_id = :tenantId', { tenantId });
    const rows = await qb.getRawMany<{ tenant_id: string; n: unknown }>();
    return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
  }

  /** Deliveries created since `since`, per endpoint and status. */
  async countsSince(endpointIds: string[], since: Date): Promise<Map<string, StatusCounts>> {
    const counts = new Map<string, StatusCounts>();
    if (!endpointIds.length) return counts;
    const rows = await this.dataSource
      .createQueryBuilder(DeliveryEntity, 'd')
      .select('d.endpoint_id', 'endpoint_id')
      .addSelect('d.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .where('d.endpoint_id IN (:...ids)', { ids: endpointIds })
      .andWhere('d.created_at >= :since', { since })
      .groupBy('d.endpoint_id')
      .addGroupBy('d.status')
      .getRawMany<{ endpoint_id: string; status: DeliveryStatus; n: string | number }>();
    for (const row of rows) {
      const entry = counts.get(row.endpoint_id) ?? { pending: 0, success: 0, failed: 0 };
      entry[row.status] = Number(row.n);
      counts.set(row.endpoint_id, entry);
    }
    return counts;
  }
}
