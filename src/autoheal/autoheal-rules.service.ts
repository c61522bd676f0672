import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { ValidationFailedException } from '../common/errors/validation-failed.exception.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { describeActor } from '../events/actor.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { AutohealRuleRepository } from './autoheal-rule.repository.js';
import { AutohealRuleEntity } from './autoheal-rule.entity.js';
import type { CreateRuleDto, RuleView, UpdateRuleDto } from './dto/rule.dto.js';
import { paramProblems } from './rule-params.js';

const RATE_METRICS = new Set(['failure_rate', 'timeout_rate']);

/** Rules: listed within tenant scope, changed by admins with optimistic versions, every change audited. */
@Injectable()
export class AutohealRulesService {
  constructor(
    private readonly rules: AutohealRuleRepository,
    private readonly runner: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async list(scope: TenantScope): Promise<RuleView[]> {
    return (await this.rules.list(scope.tenantId ?? undefined)).map(ruleView);
  }

  async get(id: string, scope: TenantScope): Promise<RuleView> {
    return ruleView(await this.visible(id, scope));
  }

  create(input: CreateRuleDto, actor: Actor): Promise<RuleView> {
    const now = this.clock.now();
    const rule = Object.assign(new AutohealRuleEntity(), {
      id: randomUUID(),
      name: input.name,
      description: input.description ?? '',
      enabled: input.enabled ?? true,
      dry_run: input.dry_run ?? false,
      tenant_id: input.tenant_id ?? null,
      endpoint_url_prefix: input.endpoint_url_prefix ?? null,
      trigger_metric: input.trigger.metric,
      trigger_threshold: input.trigger.threshold,
      trigger_window_s: input.trigger.window_s ?? 300,
      trigger_min_requests: input.trigger.min_requests ?? 10,
      trigger_for_s: input.trigger.for_s ?? 0,
      action_type: input.action.type,
      action_params: JSON.stringify(input.action.params ?? {}),
      cooldown_s: input.cooldown_s ?? 900,
      max_actions_per_hour: input.max_actions_per_hour ?? 4,
      builtin: false,
      version: 1,
      created_by: describeActor(actor),
      created_at: now,
      updated_at: now,
    } satisfies AutohealRuleEntity);
    assertCoherent(rule);
    return this.runner.run(async (tx) => {
      if (await this.rules.findByName(tx.manager, rule.name)) {
        throw new ConflictException(`A rule named ${rule.name} already exists`);
      }
      await this.rules.insert(tx, rule);
      await this.audit.record(tx, {
        actor,
        action: 'autoheal.rule.create',
        target: { type: 'autoheal_rule', id: rule.id },
        tenantId: rule.tenant_id,
        result: 'success',
        details: { rule: ruleView(rule) },
      });
      return ruleView(rule);
    });
  }

  update(id: string, input: UpdateRuleDto, scope: TenantScope, actor: Actor): Promise<RuleView> {
    return this.runner.run(async (tx) => {
      const current = visibleTo(scope, await this.rules.findById(id, tx.manager));
      if (current.version !== input.version) {
        throw new ConflictException(`Rule is at version ${current.version}, not ${input.version}; reload it and retry`);
      }
      const next: AutohealRuleEntity = {
        ...current,
        ...defined({
          name: input.name,
          description: input.description,
          enabled: input.enabled,
          dry_run: input.dry_run,
          tenant_id: input.tenant_id,
          endpoint_url_prefix: input.endpoint_url_prefix,
          cooldown_s: input.cooldown_s,
          max_actions_per_hour: input.max_actions_per_hour,
        }),
        ...(input.trigger
          ? {
              trigger_metric: input.trigger.metric,
              trigger_threshold: input.trigger.threshold,
              trigger_window_s: input.trigger.window_s ?? current.trigger_window_s,
              trigger_min_requests: input.trigger.min_requests ?? current.trigger_min_requests,
              trigger_for_s: input.trigger.for_s ?? current.trigger_for_s,
            }
          : {}),
        ...(input.action
          ? { action_type: input.action.type, action_params: JSON.stringify(input.action.params ?? {}) }
          : {}),
        updated_at: this.clock.now(),
      };
      assertCoherent(next);
      if (next.name !== current.name && (await this.rules.findByName(tx.manager, next.name))) {
        throw new ConflictException(`A rule named ${next.name} already exists`);
      }
      const { id: _id, version: _v, created_at: _c, created_by: _b, builtin: _bi, ...changes } = next;
      if (!(await this.rules.updateAtVersion(tx, id, input.version, changes))) {
        throw new ConflictException('Rule changed meanwhile; reload it and retry');
      }
      const stored = { ...next, version: input.version + 1 };
      await this.audit.record(tx, {
        actor,
        action: 'autoheal.rule.update',
        target: { type: 'autoheal_rule', id },
        // Moved between tenants, it concerns both: only unscoped callers see it.
        tenantId: current.tenant_id === stored.tenant_id ? current.tenant_id : null,
        result: 'success',
        details: { before: ruleView(current), after: ruleView(stored) },
      });
      return ruleView(stored);
    });
  }

  remove(id: string, scope: TenantScope, actor: Actor): Promise<void> {
    return this.runner.run(async (tx) => {
      const current = visibleTo(scope, await this.rules.findById(id, tx.manager));
      await this.rules.delete(tx, id);
      await this.audit.record(tx, {
        actor,
        action: 'autoheal.rule.delete',
        target: { type: 'autoheal_rule', id },
        tenantId: current.tenant_id,
        result: 'success',
        details: { rule: ruleView(current) },
      });
    });
  }

  private async visible(id: string, scope: TenantScope): Promise<AutohealRuleEntity> {
    return visibleTo(scope, await this.rules.findById(id));
  }
}

/** Global rules are visible to every tenant; a tenant's own rule only to that tenant. */
function visibleTo(scope: TenantScope, rule: AutohealRuleEntity | null): AutohealRuleEntity {
  if (!rule || (rule.tenant_id !== null && !scope.canSee(rule.tenant_id)))
    throw new NotFoundException('Rule not found');
  return rule;
}

/** Checks across fields that the DTO cannot: the threshold's unit and the action's parameters. */
function assertCoherent(rule: AutohealRuleEntity): void {
  const problems = paramProblems(rule.action_type, JSON.parse(rule.action_params) as Record<string, unknown>).map(
    (p) => {
      const [field, ...message] = p.split(': ');
      return { field, message: message.join(': ') };
    },
  );
  if (RATE_METRICS.has(rule.trigger_metric) && rule.trigger_threshold > 1) {
    problems.push({
      field: 'trigger.threshold',
      message: `must be a ratio between 0 and 1 for ${rule.trigger_metric}`,
    });
  }
  if (problems.length) throw new ValidationFailedException(problems);
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function ruleView(r: AutohealRuleEntity): RuleView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    enabled: Boolean(r.enabled),
    dry_run: Boolean(r.dry_run),
    tenant_id: r.tenant_id,
    endpoint_url_prefix: r.endpoint_url_prefix,
    trigger: {
      metric: r.trigger_metric,
      threshold: r.trigger_threshold,
      window_s: r.trigger_window_s,
      min_requests: r.trigger_min_requests,
      for_s: r.trigger_for_s,
    },
    action: { type: r.action_type, params: JSON.parse(r.action_params) as Record<string, unknown> },
    cooldown_s: r.cooldown_s,
    max_actions_per_hour: r.max_actions_per_hour,
    builtin: Boolean(r.builtin),
    version: r.version,
    created_by: r.created_by,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}
