import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { EndpointEntity } from './endpoint.entity.js';

/** The only place that queries `endpoints`. */
@Injectable()
export class EndpointRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string): Promise<EndpointEntity | null> {
    return this.dataSource.manager.findOneBy(EndpointEntity, { id });
  }

  /** Every tenant's endpoint with this URL, or only the given tenant's. */
  findByUrl(url: string, tenantId: string | undefined): Promise<EndpointEntity[]> {
    return this.dataSource.manager.find(EndpointEntity, {
      where: tenantId === undefined ? { url } : { url, tenant_id: tenantId },
      order: { created_at: 'ASC', id: 'ASC' },
    });
  }

  /** Paused endpoints (by hand or by autoheal), the soonest to run out first. */
  listPaused(tenantId: string | undefined, limit: number): Promise<EndpointEntity[]> {
    return this.dataSource.manager.find(EndpointEntity, {
      where: tenantId === undefined ? { state: 'paused' } : { state: 'paused', tenant_id: tenantId },
      order: { paused_until: 'ASC', id: 'ASC' },
      take: limit,
    });
  }

  /** Per tenant: its endpoints and how many are paused; only `tenantId` when given. */
  async countsByTenant(tenantId?: string): Promise<Map<string, { endpoints: number; paused: number }>> {
    const qb = this.dataSource
      .createQueryBuilder(EndpointEntity, 'e')
      .select('e.tenant_id', 'tenant_id')
      .addSelect('COUNT(*)', 'endpoints')
      .addSelect(`SUM(CASE WHEN e.state = 'paused' THEN 1 ELSE 0 END)`, 'paused')
      .groupBy('e.tenant_id');
    if (tenantId !== undefined) qb.where('e.tenant_id = :tenantId', { tenantId });
    const rows = await qb.getRawMany<{ tenant_id: string; endpoints: unknown; paused: unknown }>();
    return new Map(rows.map((r) => [r.tenant_id, { endpoints: Number(r.endpoints), paused: Number(r.paused) }]));
  }

  countPaused(): Promise<number> {
    return this.dataSource.manager.countBy(EndpointEntity, { state: 'paused' });
  }

  countDisabled(): Promise<number> {
    return this.dataSource.manager.countBy(EndpointEntity, { state: 'disabled' });
  }

  findByTenantAndUrl(manager: EntityManager, tenantId: string, url: string): Promise<EndpointEntity | null> {
    return manager.findOneBy(EndpointEntity, { tenant_id: tenantId, url });
  }

  /** Inserts the rows whose (tenant, url) is new; returns every requested endpoint, stored. */
  async insertManyIfAbsent(manager: EntityManager, candidates: EndpointEntity[]): Promise<EndpointEntity[]> {
    await manager.createQueryBuilder().insert().into(EndpointEntity).values(candidates).orIgnore().execute();
    const stored = await manager
      .createQueryBuilder(EndpointEntity, 'e')
      .where('e.tenant_id IN (:...tenants)', { tenants: [...new Set(candidates.map((c) => c.tenant_id))] })
      .andWhere('e.url IN (:...urls)', { urls: [...new Set(candidates.map((c) => c.url))] })
      .getMany();
    const wanted = new Set(candidates.map((c) => `${c.tenant_id}\n${c.url}`));
    return stored.filter((e) => wanted.has(`${e.tenant_id}\n${e.url}`));
  }

  /** Inserts unless the (tenant, url) row exists; returns the row either way and whether it is new. */
  async insertIfAbsent(
    manager: EntityManager,
    endpoint: EndpointEntity,
  ): Promise<{ endpoint: EndpointEntity; created: boolean }> {
    await manager.createQueryBuilder().insert().into(EndpointEntity).values(endpoint).orIgnore().execute();
    const stored = await this.findByTenantAndUrl(manager, endpoint.tenant_id, endpoint.url);
    if (!stored) throw new Error('endpoint vanished after insert');
    return { endpoint: stored, created: stored.id === endpoint.id };
  }

  async findForUpdate(tx: Tx, id: string): Promise<EndpointEntity | null> {
    const qb = tx.manager.createQueryBuilder(EndpointEntity, 'e').where('e.id = :id', { id });
    if (tx.dialect === 'postgres') qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  async update(manager: EntityManager, id: string, changes: Partial<EndpointEntity>): Promise<void> {
    await manager.update(EndpointEntity, { id }, changes);
  }

  /** Newest first, keyset-paged on (created_at, id). */
  list(
    tenantId: string | undefined,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<EndpointEntity[]> {
    const qb = this.dataSource
      .createQueryBuilder(EndpointEntity, 'e')
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(limit);
    if (tenantId !== undefined) qb.andWhere('e.tenant_id = :tenantId', { tenantId });
    if (after) {
      qb.andWhere('(e.created_at, e.id) < (:at, :id)', { at: after.createdAt, id: after.id });
    }
    return qb.getMany();
  }
}
