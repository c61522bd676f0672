import { Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { DatabaseClock } from '../database/database-clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { EndpointHealing } from '../deliveries/endpoint-healing.service.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { AutohealRuleRepository } from './autoheal-rule.repository.js';
import { AutohealStateRepository } from './autoheal-state.repository.js';
import type { ClearCooldownDto, ClearCooldownView, CooldownView } from './dto/cooldown.dto.js';

const LIST_LIMIT = 1000;

/** Which endpoints autoheal is holding back (cooldowns and pauses), and the admin's way to end that. */
@Injectable()
export class AutohealCooldownsService {
  constructor(
    private readonly states: AutohealStateRepository,
    private readonly rules: AutohealRuleRepository,
    private readonly healing: EndpointHealing,
    private readonly runner: TransactionRunner,
    private readonly audit: AuditService,
    private readonly dbClock: DatabaseClock,
  ) {}

  async list(scope: TenantScope, tenantId: string | undefined): Promise<CooldownView[]> {
    const tenant = scope.filter(tenantId);
    const now = await this.dbClock.now();
    const cooldowns = await this.states.activeCooldowns(now, tenant, LIST_LIMIT);
    const names = new Map(
      (await this.rules.namesByIds([...new Set(cooldowns.map((c) => c.rule_id))])).map((r) => [r.id, r.name]),
    );
    const paused = await this.healing.listPaused(tenant, LIST_LIMIT);
    return [
      ...paused.map((e) => ({
        endpoint_id: e.id,
        tenant_id: e.tenant_id,
        endpoint_url: e.url,
        kind: 'paused',
        until: e.paused_until ? new Date(e.paused_until).toISOString() : null,
        rule_id: null,
        rule_name: e.paused_by?.startsWith('autoheal:') ? e.paused_by.slice('autoheal:'.length) : null,
        paused_by: e.paused_by,
      })),
      ...cooldowns.map((c) => ({
        endpoint_id: c.endpoint_id,
        tenant_id: c.tenant_id,
        endpoint_url: c.endpoint_url,
        kind: 'cooldown',
        until: new Date(c.cooldown_until!).toISOString(),
        rule_id: c.rule_id,
        rule_name: names.get(c.rule_id) ?? null,
        paused_by: null,
      })),
    ];
  }

  /**
   * Ends the cooldowns of the endpoint(s) with this URL, lifts an autoheal pause, and resets their
   * failure baseline so failures from before now cannot fire a rule straight away. Audited whether
   * or not there was anything to clear, and when the endpoint is unknown (404).
   */
  async clear(input: ClearCooldownDto, scope: TenantScope, actor: Actor): Promise<ClearCooldownView> {
    const tenant = scope.filter(input.tenant_id);
    const endpoints = await this.healing.findByUrl(input.endpoint_url, tenant);
    if (!endpoints.length) {
      await this.runner.run((tx) =>
        this.audit.record(tx, {
          actor,
          action: 'autoheal.clear_endpoint_cooldown',
          result: 'noop',
          reason: 'No endpoint with that URL',
          details: { endpoint_url: input.endpoint_url, tenant_id: tenant ?? null },
        }),
      );
      throw new NotFoundException('No endpoint with that URL');
    }
    return this.runner.run(async (tx) => {
      const now = await this.dbClock.now(tx.manager);
      const results = [];
      for (const endpoint of endpoints) {
        const cooldowns = await this.states.clearEndpoint(tx, endpoint.id, now);
        const paused = Boolean(endpoint.autoheal_paused) && endpoint.state === 'paused';
        const { resumed } =
          cooldowns || paused ? await this.healing.clear(tx, endpoint.id, { now }) : { resumed: false };
        results.push({
          endpoint_id: endpoint.id,
          tenant_id: endpoint.tenant_id,
          cooldowns_cleared: cooldowns,
          resumed,
        });
      }
      const cleared = results.some((r) => r.cooldowns_cleared > 0 || r.resumed);
      await this.audit.record(tx, {
        actor,
        action: 'autoheal.clear_endpoint_cooldown',
        target: endpoints.length === 1 ? { type: 'endpoint', id: endpoints[0].id } : null,
        tenantId: endpoints.length === 1 ? endpoints[0].tenant_id : null,
        result: cleared ? 'success' : 'noop',
        reason: input.reason,
        details: { endpoint_url: input.endpoint_url, endpoints: results },
      });
      return { cleared, endpoint_url: input.endpoint_url, endpoints: results };
    });
  }
}
