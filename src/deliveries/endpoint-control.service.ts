import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner, type Tx } from '../database/transaction-runner.js';
import { describeActor } from '../events/actor.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { EventsService } from '../events/events.service.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import type { EndpointView } from './dto/delivery-views.dto.js';
import { AUTOHEAL_CLEARED, type EndpointEntity } from './endpoint.entity.js';
import { EndpointRepository } from './endpoint.repository.js';
import { generateSigningSecret } from './signing-secret.js';
import { endpointView } from './views.js';

const ROTATION_OVERLAP_MS = 24 * 3_600_000;

type Change = { changes: Partial<EndpointEntity>; event?: string; noop?: string };

/** What admins (and later autoheal) do to an endpoint: pause, resume, enable, rotate its secret. */
@Injectable()
export class EndpointControlService {
  constructor(
    private readonly runner: TransactionRunner,
    private readonly endpoints: EndpointRepository,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly clock: Clock,
  ) {}

  pause(id: string, until: Date | null, reason: string | undefined, scope: TenantScope, actor: Actor) {
    if (until && until <= this.clock.now()) throw new BadRequestException('until must be in the future');
    return this.apply(id, 'endpoint.pause', scope, actor, reason, (e, now) => ({
      // A pause by hand replaces an autoheal pause: it ends at `until` (or on resume), not by a probe.
      changes: {
        state: 'paused',
        paused_until: until,
        paused_by: describeActor(actor),
        autoheal_paused: false,
        pause_s: null,
        probe_lease_until: null,
        updated_at: now,
      },
      event: e.state === 'paused' ? undefined : 'endpoint.paused',
      noop: e.state === 'disabled' ? 'Endpoint is disabled; enable it instead' : undefined,
    }));
  }

  resume(id: string, scope: TenantScope, actor: Actor) {
    return this.apply(id, 'endpoint.resume', scope, actor, undefined, (e, now) =>
      e.state === 'paused'
        ? {
            changes: { state: 'active', paused_until: null, paused_by: null, ...AUTOHEAL_CLEARED, updated_at: now },
            event: 'endpoint.resumed',
          }
        : { changes: {}, noop: `Endpoint is ${e.state}, not paused` },
    );
  }

  enable(id: string, scope: TenantScope, actor: Actor) {
    return this.apply(id, 'endpoint.enable', scope, actor, undefined, (e, now) =>
      e.state === 'disabled'
        ? {
            changes: { state: 'active', disabled_reason: null, consecutive_failures: 0, updated_at: now },
            event: 'endpoint.enabled',
          }
        : { changes: {}, noop: `Endpoint is ${e.state}, not disabled` },
    );
  }

  /** A new secret; the old one keeps signing alongside for 24 h. The answer is the only place it appears. */
  async rotateSecret(id: string, scope: TenantScope, actor: Actor): Promise<EndpointView & { secret: string }> {
    const secret = generateSigningSecret();
    const view = await this.apply(id, 'endpoint.rotate_secret', scope, actor, undefined, (e, now) => ({
      changes: {
        secret,
        previous_secret: e.secret,
        previous_secret_expires_at: new Date(now.getTime() + ROTATION_OVERLAP_MS),
        updated_at: now,
      },
    }));
    return { ...view, secret };
  }

  private async apply(
    id: string,
    action: string,
    scope: TenantScope,
    actor: Actor,
    reason: string | undefined,
    decide: (endpoint: EndpointEntity, now: Date) => Change,
  ): Promise<EndpointView> {
    const view = await this.runner.run(async (tx) => {
      const endpoint = await this.endpoints.findForUpdate(tx, id);
      if (!endpoint || !scope.canSee(endpoint.tenant_id)) return null;
      const now = this.clock.now();
      const { changes, event, noop } = decide(endpoint, now);
      if (!noop) await this.endpoints.update(tx.manager, id, changes);
      await this.record(tx, endpoint, action, actor, noop ? 'noop' : 'success', noop ?? reason);
      if (event && !noop) await this.publish(tx, endpoint, event, actor, reason);
      if (!noop) tx.afterCommit(() => this.dispatcher.poke());
      return endpointView(noop ? endpoint : { ...endpoint, ...changes });
    });
    if (!view) throw new NotFoundException('Endpoint not found');
    return view;
  }

  private record(tx: Tx, e: EndpointEntity, action: string, actor: Actor, result: 'success' | 'noop', reason?: string) {
    return this.audit.record(tx, {
      actor,
      action,
      target: { type: 'endpoint', id: e.id },
      tenantId: e.tenant_id,
      result,
      reason,
      details: { url: e.url },
    });
  }

  private publish(tx: Tx, e: EndpointEntity, type: string, actor: Actor, reason?: string) {
    return this.events.publish(tx, {
      type,
      severity: type === 'endpoint.paused' ? 'warning' : 'info',
      tenantId: e.tenant_id,
      subject: { type: 'endpoint', id: e.id },
      actor,
      data: { url: e.url, ...(reason ? { reason } : {}) },
    });
  }
}
