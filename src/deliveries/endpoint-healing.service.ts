import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transaction-runner.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { EndpointEntity } from './endpoint.entity.js';
import { EndpointPauses, type PauseResult } from './endpoint-pauses.js';
import { EndpointRepository } from './endpoint.repository.js';

/** Most deliveries one requeue puts back in the queue. */
const MAX_REQUEUE = 10_000;

/**
 * What autoheal may do to endpoints and their deliveries, in the caller's transaction so it can
 * record its own decision alongside: pause (ended by a probe; see EndpointPauses), disable,
 * requeue what failed, and clear an endpoint's autoheal history.
 */
@Injectable()
export class EndpointHealing {
  constructor(
    private readonly pauses: EndpointPauses,
    private readonly endpoints: EndpointRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly dispatcher: DeliveryDispatcher,
  ) {}

  /**
   * Holds an active endpoint's deliveries for `durationS` (at most 6 h), then probes it.
   * `by` says who, e.g. `autoheal:<rule name>`. A disabled or already paused endpoint is left
   * alone; the pause that reaches AUTOHEAL_DISABLE_AFTER_PAUSES disables it instead.
   */
  pause(tx: Tx, endpointId: string, opts: { durationS: number; by: string; now: Date }): Promise<PauseResult> {
    return this.pauses.pause(tx, endpointId, opts.durationS, opts.by, opts.now);
  }

  /** False if it was disabled already. Its pending deliveries then fail without a request. */
  async disable(tx: Tx, endpointId: string, opts: { reason: string; now: Date }): Promise<boolean> {
    const disabled = await this.pauses.disable(tx, endpointId, opts.reason, opts.now);
    if (disabled) tx.afterCommit(() => this.dispatcher.poke());
    return disabled;
  }

  /**
   * Puts the endpoint's newest failed deliveries created at or after `since` back in the queue,
   * due now; their next attempt is recorded as `autoheal`. Returns how many (at most `limit`,
   * and never more than 10,000).
   */
  async requeueFailed(tx: Tx, endpointId: string, opts: { since: Date; limit: number; now: Date }): Promise<number> {
    const limit = Math.min(Math.max(0, Math.floor(opts.limit)), MAX_REQUEUE);
    if (limit === 0) return 0;
    const n = await this.deliveries.requeueFailedOf(tx, endpointId, opts.since, limit, 'autoheal', opts.now);
    if (n > 0) tx.afterCommit(() => this.dispatcher.poke());
    return n;
  }

  /**
   * An admin's cooldown clear: resumes an autoheal pause (a pause set by hand stays), and resets
   * the pause streak and failure count; failures before `now` no longer count for rules.
   */
  async clear(tx: Tx, endpointId: string, opts: { now: Date }): Promise<{ resumed: boolean }> {
    const result = await this.pauses.clear(tx, endpointId, opts.now);
    if (result.resumed) tx.afterCommit(() => this.dispatcher.poke());
    return result;
  }

  /** The endpoints with this URL: the tenant's, or every tenant's when none is given. */
  findByUrl(endpointUrl: string, tenantId: string | undefined): Promise<EndpointEntity[]> {
    return this.endpoints.findByUrl(endpointUrl, tenantId);
  }

  /** Paused endpoints, by hand or by autoheal (`autoheal_paused`), the soonest to run out first. */
  listPaused(tenantId: string | undefined, limit: number): Promise<EndpointEntity[]> {
    return this.endpoints.listPaused(tenantId, limit);
  }

  findById(id: string): Promise<EndpointEntity | null> {
    return this.endpoints.findById(id);
  }
}
