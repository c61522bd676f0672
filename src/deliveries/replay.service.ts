import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { DeliveryView } from './dto/delivery-views.dto.js';
import { EndpointRepository } from './endpoint.repository.js';
import { deliveryView } from './views.js';

/**
 * `POST /alerts/deliveries/{id}/replay`: the delivery goes back in the queue, due now, as a
 * `manual_replay`. The requeue is one conditional update, so of two concurrent replays exactly
 * one succeeds.
 */
@Injectable()
export class ReplayService {
  constructor(
    private readonly runner: TransactionRunner,
    private readonly deliveries: DeliveryRepository,
    private readonly endpoints: EndpointRepository,
    private readonly audit: AuditService,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly clock: Clock,
  ) {}

  async replay(id: string, force: boolean, scope: TenantScope, actor: Actor): Promise<DeliveryView> {
    // A refusal is audited too, so it returns (and commits) rather than throwing inside.
    const outcome = await this.runner.run(async (tx) => {
      const delivery = await this.deliveries.findForUpdate(tx, id);
      if (!delivery || !scope.canSee(delivery.tenant_id)) return { notFound: true as const };
      const endpoint = await this.endpoints.findById(delivery.endpoint_id);
      const now = this.clock.now();
      let refusal: string | null = null;
      if (delivery.status === 'pending') refusal = 'Delivery is already pending or in flight';
      else if (delivery.status === 'success' && !force) {
        refusal = 'Delivery already succeeded; pass force=true to send it again';
      } else if (endpoint && endpoint.state !== 'active' && !force) {
        refusal = `Endpoint is ${endpoint.state}; pass force=true to replay anyway`;
      } else if (!(await this.deliveries.requeue(tx, id, delivery.status, 'manual_replay', now))) {
        refusal = 'Delivery was replayed concurrently';
      }
      await this.audit.record(tx, {
        actor,
        action: 'delivery.replay',
        target: { type: 'delivery', id },
        tenantId: delivery.tenant_id,
        result: refusal ? 'noop' : 'success',
        reason: refusal,
        details: { force },
      });
      if (refusal) return { conflict: refusal };
      tx.afterCommit(() => this.dispatcher.poke());
      return {
        view: deliveryView({
          ...delivery,
          status: 'pending',
          next_attempt_at: now,
          completed_at: null,
          updated_at: now,
        }),
      };
    });
    if ('notFound' in outcome) throw new NotFoundException('Delivery not found');
    if ('conflict' in outcome) throw new ConflictException(outcome.conflict);
    return outcome.view;
  }
}
