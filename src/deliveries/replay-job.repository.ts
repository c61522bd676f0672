import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { ReplayJobEntity } from './replay-job.entity.js';

/** The only place that queries `replay_jobs`. */
@Injectable()
export class ReplayJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  insert(tx: Tx, job: ReplayJobEntity): Promise<unknown> {
    return tx.manager.insert(ReplayJobEntity, job);
  }

  findById(id: string): Promise<ReplayJobEntity | null> {
    return this.dataSource.manager.findOneBy(ReplayJobEntity, { id });
  }

  /** Running jobs that made progress since `aliveSince` and cover part of the same endpoints. */
  async findActiveOverlapping(tx: Tx, tenantId: string | null, endpointUrl: string | null, aliveSince: Date) {
    const qb = tx.manager
      .createQueryBuilder(ReplayJobEntity, 'j')
      .where('j.status = :running', { running: 'running' })
      .andWhere('j.updated_at >= :aliveSince', { aliveSince });
    if (tenantId !== null) qb.andWhere('(j.tenant_id IS NULL OR j.tenant_id = :tenantId)', { tenantId });
    if (endpointUrl !== null) qb.andWhere('(j.endpoint_url IS NULL OR j.endpoint_url = :endpointUrl)', { endpointUrl });
    return qb.getOne();
  }

  async progress(id: string, changes: Partial<ReplayJobEntity>): Promise<void> {
    await this.dataSource.manager.update(ReplayJobEntity, { id }, changes);
  }
}
