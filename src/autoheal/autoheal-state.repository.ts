import { Injectable } from '@nestjs/common';
import { DataSource, In, MoreThan, type EntityManager } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { AutohealStateEntity } from './autoheal-state.entity.js';

const UPSERT_CHUNK = 200;

/** The only place that queries `autoheal_states` (the engine's memory and the cooldowns). */
@Injectable()
export class AutohealStateRepository {
  constructor(private readonly dataSource: DataSource) {}

  forRules(ruleIds: string[]): Promise<AutohealStateEntity[]> {
    return ruleIds.length
      ? this.dataSource.manager.findBy(AutohealStateEntity, { rule_id: In(ruleIds) })
      : Promise.resolve([]);
  }

  async save(manager: EntityManager, states: AutohealStateEntity[]): Promise<void> {
    for (let i = 0; i < states.length; i += UPSERT_CHUNK) {
      await manager.upsert(AutohealStateEntity, states.slice(i, i + UPSERT_CHUNK), ['rule_id', 'endpoint_id']);
    }
  }

  /** Cooldowns running at `now`, soonest to end first; optionally one tenant's. */
  activeCooldowns(now: Date, tenantId: string | undefined, limit: number): Promise<AutohealStateEntity[]> {
    return this.dataSource.manager.find(AutohealStateEntity, {
      where: { cooldown_until: MoreThan(now), ...(tenantId === undefined ? {} : { tenant_id: tenantId }) },
      order: { cooldown_until: 'ASC' },
      take: limit,
    });
  }

  /** Ends the endpoint's cooldowns and forgets its pending conditions; how many cooldowns were running. */
  async clearEndpoint(tx: Tx, endpointId: string, now: Date): Promise<number> {
    const running = await tx.manager.countBy(AutohealStateEntity, {
      endpoint_id: endpointId,
      cooldown_until: MoreThan(now),
    });
    await tx.manager.update(
      AutohealStateEntity,
      { endpoint_id: endpointId },
      { cooldown_until: null, condition_since: null },
    );
    return running;
  }
}
