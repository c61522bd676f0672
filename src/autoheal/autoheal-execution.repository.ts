import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Keyset } from '../common/pagination/cursor.js';
import { AutohealExecutionEntity } from './autoheal-execution.entity.js';

export interface ExecutionFilter {
  tenantId?: string;
  ruleId?: string;
  endpointId?: string;
  outcomes?: string[];
  since?: Date;
  until?: Date;
}

/** The only place that queries `autoheal_executions`. */
@Injectable()
export class AutohealExecutionRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, rows: AutohealExecutionEntity[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) await manager.insert(AutohealExecutionEntity, rows.slice(i, i + 200));
  }

  /** Actions taken per rule and endpoint since `since`, keyed `rule\nendpoint`, for the hourly budget. */
  async firedSince(since: Date): Promise<Map<string, number>> {
    const rows = await this.dataSource
      .createQueryBuilder(AutohealExecutionEntity, 'x')
      .select('x.rule_id', 'rule_id')
      .addSelect('x.endpoint_id', 'endpoint_id')
      .addSelect('COUNT(*)', 'n')
      .where("x.outcome = 'fired'")
      .andWhere('x.created_at > :since', { since })
      .groupBy('x.rule_id')
      .addGroupBy('x.endpoint_id')
      .getRawMany<{ rule_id: string; endpoint_id: string; n: string | number }>();
    return new Map(rows.map((r) => [`${r.rule_id}\n${r.endpoint_id}`, Number(r.n)]));
  }

  /** Newest first, keyset-paged on (created_at, id). */
  list(filter: ExecutionFilter, limit: number, after?: Keyset): Promise<AutohealExecutionEntity[]> {
    const qb = this.dataSource
      .createQueryBuilder(AutohealExecutionEntity, 'x')
      .orderBy('x.created_at', 'DESC')
      .addOrderBy('x.id', 'DESC')
      .limit(limit);
    if (filter.tenantId !== undefined) qb.andWhere('x.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.ruleId !== undefined) qb.andWhere('x.rule_id = :ruleId', { ruleId: filter.ruleId });
    if (filter.endpointId !== undefined) qb.andWhere('x.endpoint_id = :endpointId', { endpointId: filter.endpointId });
    if (filter.outcomes?.length) qb.andWhere('x.outcome IN (:...outcomes)', { outcomes: filter.outcomes });
    if (filter.since) qb.andWhere('x.created_at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('x.created_at <= :until', { until: filter.until });
    if (after) qb.andWhere('(x.created_at, x.id) < (:at, :id)', { at: after.createdAt, id: after.id });
    return qb.getMany();
  }
}
