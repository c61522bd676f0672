import { Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { AutohealRuleEntity } from './autoheal-rule.entity.js';

/** The only place that queries `autoheal_rules`. */
@Injectable()
export class AutohealRuleRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<AutohealRuleEntity | null> {
    return manager.findOneBy(AutohealRuleEntity, { id });
  }

  findByName(manager: EntityManager, name: string): Promise<AutohealRuleEntity | null> {
    return manager.findOneBy(AutohealRuleEntity, { name });
  }

  /** By name; a tenant sees global rules and its own. */
  list(tenantId: string | undefined): Promise<AutohealRuleEntity[]> {
    return this.dataSource.manager.find(AutohealRuleEntity, {
      where: tenantId === undefined ? {} : [{ tenant_id: IsNull() }, { tenant_id: tenantId }],
      order: { name: 'ASC' },
    });
  }

  listEnabled(): Promise<AutohealRuleEntity[]> {
    return this.dataSource.manager.find(AutohealRuleEntity, { where: { enabled: true }, order: { name: 'ASC' } });
  }

  namesByIds(ids: string[]): Promise<AutohealRuleEntity[]> {
    return ids.length ? this.dataSource.manager.findBy(AutohealRuleEntity, { id: In(ids) }) : Promise.resolve([]);
  }

  async insert(tx: Tx, rule: AutohealRuleEntity): Promise<void> {
    await tx.manager.insert(AutohealRuleEntity, rule);
  }

  /** Applies `changes` only if the rule is still at `version`; false if it moved on (or is gone). */
  async updateAtVersion(tx: Tx, id: string, version: number, changes: Partial<AutohealRuleEntity>): Promise<boolean> {
    const result = await tx.manager.update(AutohealRuleEntity, { id, version }, { ...changes, version: version + 1 });
    return (result.affected ?? 0) > 0;
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.manager.delete(AutohealRuleEntity, { id });
  }
}
