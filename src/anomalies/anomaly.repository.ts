import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import type { AnomalyStatus } from './anomaly-lifecycle.js';
import type { AnomalyKind } from './anomaly-signals.js';
import { AnomalyEntity } from './anomaly.entity.js';

export interface AnomalyFilter {
  tenantId?: string;
  kinds?: AnomalyKind[];
  statuses: AnomalyStatus[];
}

/** The only place that queries `anomalies`. */
@Injectable()
export class AnomalyRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<AnomalyEntity | null> {
    return manager.findOneBy(AnomalyEntity, { id });
  }

  /** Row-locked on PostgreSQL, for a change that must not race the detector. */
  findForUpdate(tx: Tx, id: string): Promise<AnomalyEntity | null> {
    const qb = tx.manager.createQueryBuilder(AnomalyEntity, 'a').where('a.id = :id', { id });
    if (tx.dialect === 'postgres') qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /** What the detector remembers: every active anomaly and those resolved since `resolvedSince`. */
  findLive(resolvedSince: Date, manager: EntityManager = this.dataSource.manager): Promise<AnomalyEntity[]> {
    return manager
      .createQueryBuilder(AnomalyEntity, 'a')
      .where("a.status IN ('open', 'triaged')")
      .orWhere('a.resolved_at >= :since', { since: resolvedSince })
      .orderBy('a.updated_at', 'ASC')
      .getMany();
  }

  /** Newest first by first sighting, at most `limit`. */
  list(filter: AnomalyFilter, limit: number): Promise<AnomalyEntity[]> {
    const qb = this.dataSource
      .createQueryBuilder(AnomalyEntity, 'a')
      .where('a.status IN (:...statuses)', { statuses: filter.statuses })
      .orderBy('a.first_seen_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit);
    if (filter.tenantId !== undefined) qb.andWhere('a.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.kinds?.length) qb.andWhere('a.kind IN (:...kinds)', { kinds: filter.kinds });
    return qb.getMany();
  }

  /** Open and triaged anomalies per tenant; only `tenantId` when given. */
  async activeByTenant(tenantId?: string): Promise<Map<string, number>> {
    const qb = this.dataSource
      .createQueryBuilder(AnomalyEntity, 'a')
      .select('a.tenant_id', 'tenant_id')
      .addSelect('COUNT(*)', 'n')
      .where("a.status IN ('open', 'triaged')")
      .groupBy('a.tenant_id');
    if (tenantId !== undefined) qb.andWhere('a.tenant_id = :tenantId', { tenantId });
    const rows = await qb.getRawMany<{ tenant_id: string; n: unknown }>();
    return new Map(rows.map((r) => [r.tenant_id, Number(r.n)]));
  }

  /** Open and triaged anomalies per kind. */
  /** Anomalies not yet resolved, counted per kind and severity. */
  async activeByKindAndSeverity(): Promise<{ kind: string; severity: string; n: number }[]> {
    const rows = await this.dataSource
      .createQueryBuilder(AnomalyEntity, 'a')
      .select('a.kind', 'kind')
      .addSelect('a.severity', 'severity')
      .addSelect('COUNT(*)', 'n')
      .where("a.status IN ('open', 'triaged')")
      .groupBy('a.kind')
      .addGroupBy('a.severity')
      .getRawMany<{ kind: string; severity: string; n: unknown }>();
    return rows.map((r) => ({ kind: r.kind, severity: r.severity, n: Number(r.n) }));
  }

  async insert(manager: EntityManager, rows: AnomalyEntity[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 100) await manager.insert(AnomalyEntity, rows.slice(i, i + 100));
  }

  /** Applies the detector's changes; each names only the columns it sets, so a triage meanwhile stays. */
  async applyChanges(manager: EntityManager, changes: { id: string; set: Partial<AnomalyEntity> }[]): Promise<void> {
    for (const { id, set } of changes) await manager.update(AnomalyEntity, { id }, set);
  }

  /** Changes a row unless it resolved meanwhile; returns whether it did. */
  async updateUnlessResolved(tx: Tx, id: string, changes: Partial<AnomalyEntity>): Promise<boolean> {
    const result = await tx.manager
      .createQueryBuilder()
      .update(AnomalyEntity)
      .set(changes)
      .where('id = :id', { id })
      .andWhere("status <> 'resolved'")
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
