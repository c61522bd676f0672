import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transaction-runner.js';
import { EndpointHealing } from '../deliveries/endpoint-healing.service.js';
import type { Actor, NewEvent, Severity } from '../events/event.types.js';
import type { AutohealRuleEntity } from './autoheal-rule.entity.js';
import { parseParams } from './rule-params.js';

export interface ActionTarget {
  endpointId: string;
  tenantId: string;
  endpointUrl: string;
  metric: string;
  value: number;
}

/**
 * Carries out a rule's action on one endpoint, in the engine's transaction, and says what it did;
 * a `notify` hands back its event for the engine to publish with the batch.
 */
@Injectable()
export class AutohealActions {
  constructor(private readonly healing: EndpointHealing) {}

  async run(
    tx: Tx,
    rule: AutohealRuleEntity,
    target: ActionTarget,
    now: Date,
  ): Promise<Record<string, unknown> & { event?: NewEvent }> {
    const by = `autoheal:${rule.name}`;
    switch (rule.action_type) {
      case 'pause_endpoint': {
        const { pause_s } = parseParams('pause_endpoint', rule.action_params);
        const result = await this.healing.pause(tx, target.endpointId, { durationS: pause_s, by, now });
        return { pause_s, ...result, until: result.until?.toISOString() ?? null };
      }
      case 'replay_failed': {
        const { since_s, max_deliveries } = parseParams('replay_failed', rule.action_params);
        const since = new Date(now.getTime() - since_s * 1000);
        const requeued = await this.healing.requeueFailed(tx, target.endpointId, { since, limit: max_deliveries, now });
        return { since: since.toISOString(), max_deliveries, requeued };
      }
      case 'disable_endpoint': {
        const reason = `autoheal rule ${rule.name}: ${target.metric} ${round(target.value)} reached ${rule.trigger_threshold}`;
        return { disabled: await this.healing.disable(tx, target.endpointId, { reason, now }), reason };
      }
      case 'notify': {
        const { severity, message } = parseParams('notify', rule.action_params);
        // Returned, not published: the engine writes a batch's events in one insert.
        const event: NewEvent = {
          type: 'autoheal.notify',
          severity: severity as Severity,
          tenantId: target.tenantId,
          subject: { type: 'endpoint', id: target.endpointId },
          actor: ruleActor(rule),
          data: {
            rule: rule.name,
            message,
            endpoint_url: target.endpointUrl,
            metric: target.metric,
            value: target.value,
          },
        };
        return { severity, message, event };
      }
    }
  }
}

export function ruleActor(rule: AutohealRuleEntity): Actor {
  return { type: 'rule', roles: [], tenant_id: rule.tenant_id, rule_id: rule.id };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
