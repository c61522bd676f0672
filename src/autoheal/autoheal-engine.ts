import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { filter, type Subscription } from 'rxjs';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { AppConfig } from '../config/app-config.js';
import { DatabaseClock } from '../database/database-clock.js';
import { LeaderElection } from '../database/leader-election.js';
import { TransactionRunner, type Tx } from '../database/transaction-runner.js';
import { DeliveryStats, type EndpointWindowRow } from '../deliveries/delivery-stats.service.js';
import { EventRelay } from '../events/event-relay.js';
import type { NewEvent } from '../events/event.types.js';
import { EventsService } from '../events/events.service.js';
import { AutohealActions, ruleActor } from './autoheal-actions.js';
import { decide, EMPTY_SAMPLE, FRESH_MEMORY, type Decision, type EndpointSample } from './autoheal-decider.js';
import { AutohealExecutionRepository } from './autoheal-execution.repository.js';
import type { AutohealExecutionEntity, ExecutionOutcome } from './autoheal-execution.entity.js';
import { AutohealRuleRepository } from './autoheal-rule.repository.js';
import type { AutohealRuleEntity } from './autoheal-rule.entity.js';
import { AutohealStateRepository } from './autoheal-state.repository.js';
import { AutohealStateEntity } from './autoheal-state.entity.js';
import { AUTOHEAL_METRIC } from './autoheal.metrics.js';
import { ruleInScope } from './rule-scope.js';

const BUCKET_MS = 5 * 60_000;
/** Events after which a rule may have become true; the engine looks soon instead of at the next tick. */
const TRIGGERING_EVENTS = new Set(['delivery.attempt_failed', 'delivery.exhausted', 'endpoint.recovered']);
const REACT_DELAY_MS = 1000;
const ACTION_BATCH = 100;

interface Pending {
  rule: AutohealRuleEntity;
  endpoint: EndpointWindowRow;
  decision: Decision;
}

export interface TickSummary {
  led: boolean;
  rules: number;
  endpoints: number;
  recorded: number;
  fired: number;
}

/**
 * Evaluates the enabled rules over every endpoint: one set-wise read of the rollups per window,
 * the pure decision table per rule and endpoint, then the actions in batches, each in one transaction
 * with its execution rows, memory and events, and one transaction for the rest. Runs on the leader replica only, on its own
 * interval and shortly after a delivery event that may have made a rule true. All times are the
 * database's.
 */
@Injectable()
export class AutohealEngine implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AutohealEngine.name);
  private readonly task: PeriodicTask<TickSummary | null>;
  private subscription: Subscription | null = null;
  private reactTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly leader: LeaderElection,
    private readonly dbClock: DatabaseClock,
    private readonly runner: TransactionRunner,
    private readonly stats: DeliveryStats,
    private readonly rules: AutohealRuleRepository,
    private readonly states: AutohealStateRepository,
    private readonly executions: AutohealExecutionRepository,
    private readonly actions: AutohealActions,
    private readonly events: EventsService,
    private readonly relay: EventRelay,
    @InjectMetric(AUTOHEAL_METRIC.actions) private readonly actionsTotal: Counter<'rule' | 'action' | 'outcome'>,
    @InjectMetric(AUTOHEAL_METRIC.evaluation) private readonly evaluation: Histogram,
  ) {
    this.task = new PeriodicTask(
      'autoheal evaluation',
      config.AUTOHEAL_INTERVAL_S * 1000,
      () => this.tick(),
      null,
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    if (!this.config.AUTOHEAL_ENABLED) return;
    this.task.start();
    this.subscription = this.relay.events$
      .pipe(filter((e) => TRIGGERING_EVENTS.has(e.type)))
      .subscribe(() => this.soon());
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    if (this.reactTimer) clearTimeout(this.reactTimer);
    await this.task.stop();
  }

  /** Evaluates now (or joins the evaluation under way). */
  evaluate(): Promise<TickSummary | null> {
    return this.task.runNow();
  }

  private soon(): void {
    this.reactTimer ??= setTimeout(() => {
      this.reactTimer = null;
      void this.task.runNow();
    }, REACT_DELAY_MS);
    this.reactTimer.unref();
  }

  private async tick(): Promise<TickSummary> {
    if (!(await this.leader.lead('autoheal'))) return { led: false, rules: 0, endpoints: 0, recorded: 0, fired: 0 };
    const stop = this.evaluation.startTimer();
    const now = await this.dbClock.now();
    const rules = await this.rules.listEnabled();
    const summary: TickSummary = { led: true, rules: rules.length, endpoints: 0, recorded: 0, fired: 0 };
    if (!rules.length) return summary;

    const windows = new Map<number, Map<string, EndpointWindowRow>>();
    for (const w of new Set(rules.map((r) => r.trigger_window_s))) {
      const rows = await this.stats.endpointWindows(new Date(now.getTime() - w * 1000 - BUCKET_MS));
      windows.set(w, new Map(rows.map((r) => [r.endpoint_id, r])));
      summary.endpoints = Math.max(summary.endpoints, rows.length);
    }
    const memories = new Map(
      (await this.states.forRules(rules.map((r) => r.id))).map((s) => [key(s.rule_id, s.endpoint_id), s]),
    );
    const fired = await this.executions.firedSince(new Date(now.getTime() - 3_600_000));

    const changed: AutohealStateEntity[] = [];
    const pending: Pending[] = [];
    for (const rule of rules) {
      const rows = windows.get(rule.trigger_window_s)!;
      const ids = new Set([...rows.keys()]);
      for (const m of memories.values()) if (m.rule_id === rule.id && m.condition_since) ids.add(m.endpoint_id);
      for (const id of ids) {
        const stored = memories.get(key(rule.id, id));
        const row = rows.get(id) ?? (stored ? quietRow(stored) : undefined);
        if (!row) continue;
        const inScope = ruleInScope(rule, row);
        const decision = decide(
          policy(rule),
          inScope ? sample(row) : EMPTY_SAMPLE,
          stored ? memoryOf(stored) : FRESH_MEMORY,
          fired.get(key(rule.id, id)) ?? 0,
          now,
          this.config.DELIVERY_TIMEOUT_MS,
        );
        if (!stored && decision.memory.conditionSince === null && !decision.record) continue;
        const next = stateOf(rule.id, row, decision);
        if (!stored || !sameMemory(stored, next)) changed.push(next);
        if (decision.record) pending.push({ rule, endpoint: row, decision });
      }
    }

    // Actions go in batches (one transaction each, in endpoint order so replicas' row locks never
    // cross); a batch that fails is retried one action at a time, so one bad action sinks only itself.
    const acting = pending
      .filter((x) => x.decision.act)
      .sort((x, y) => (x.endpoint.endpoint_id < y.endpoint.endpoint_id ? -1 : 1));
    for (let i = 0; i < acting.length; i += ACTION_BATCH) {
      const batch = acting.slice(i, i + ACTION_BATCH);
      try {
        await this.act(batch, now);
        summary.fired += batch.length;
      } catch {
        for (const p of batch) {
          await this.act([p], now).then(
            () => summary.fired++,
            (err: unknown) => this.recordFailure(p, now, err),
          );
        }
      }
    }
    const quiet = pending.filter((x) => !x.decision.act);
    // Acted pairs saved their memory with the action (or keep the old one when it failed).
    const acted = new Set(acting.map((p) => key(p.rule.id, p.endpoint.endpoint_id)));
    await this.runner.run(async (tx) => {
      await this.states.save(
        tx.manager,
        changed.filter((s) => !acted.has(key(s.rule_id, s.endpoint_id))),
      );
      await this.record(
        tx,
        quiet.map((p) => this.execution(p, p.decision.verdict as ExecutionOutcome, {}, now)),
        quiet,
      );
    });
    summary.recorded = pending.length;
    stop();
    return summary;
  }

  private act(batch: Pending[], now: Date): Promise<void> {
    return this.runner.run(async (tx) => {
      const rows: AutohealExecutionEntity[] = [];
      const extra: NewEvent[] = [];
      for (const p of batch) {
        const detail = await this.actions.run(
          tx,
          p.rule,
          {
            endpointId: p.endpoint.endpoint_id,
            tenantId: p.endpoint.tenant_id,
            endpointUrl: p.endpoint.url,
            metric: p.rule.trigger_metric,
            value: p.decision.value,
          },
          now,
        );
        const { event, ...facts } = detail;
        if (event) extra.push(event);
        rows.push(this.execution(p, 'fired', facts, now));
      }
      await this.states.save(
        tx.manager,
        batch.map((p) => stateOf(p.rule.id, p.endpoint, p.decision)),
      );
      await this.record(tx, rows, batch, extra);
    });
  }

  /** An action that threw: its transaction rolled back; the failure is recorded, memory untouched. */
  private async recordFailure(p: Pending, now: Date, err: unknown): Promise<void> {
    this.logger.warn({ err, rule: p.rule.name, endpoint_id: p.endpoint.endpoint_id }, 'autoheal action failed');
    const message = err instanceof Error ? err.message : String(err);
    await this.runner
      .run((tx) => this.record(tx, [this.execution(p, 'action_failed', { error: message.slice(0, 500) }, now)], [p]))
      .catch((e: unknown) => this.logger.warn({ err: e }, 'could not record a failed autoheal action'));
  }

  private async record(
    tx: Tx,
    rows: AutohealExecutionEntity[],
    sources: Pending[],
    extra: NewEvent[] = [],
  ): Promise<void> {
    await this.executions.insert(tx.manager, rows);
    await this.events.publishMany(tx, [
      ...extra,
      ...rows.map((row, i) => {
        const rule = sources[i].rule;
        return {
          type: `autoheal.${row.outcome}`,
          severity:
            row.outcome === 'fired'
              ? firedSeverity(rule)
              : row.outcome === 'action_failed'
                ? ('error' as const)
                : ('info' as const),
          tenantId: row.tenant_id,
          subject: { type: 'endpoint', id: row.endpoint_id },
          actor: ruleActor(rule),
          data: {
            execution_id: row.id,
            rule: rule.name,
            action: rule.action_type,
            endpoint_url: row.endpoint_url,
            metric: row.metric,
            value: row.value,
            threshold: row.threshold,
            detail: JSON.parse(row.detail) as unknown,
          },
        };
      }),
    ]);
    tx.afterCommit(() => {
      for (const [i, row] of rows.entries()) {
        const rule = sources[i].rule;
        this.actionsTotal.inc({ rule: rule.name, action: rule.action_type, outcome: row.outcome });
      }
    });
  }

  private execution(
    p: Pending,
    outcome: ExecutionOutcome,
    detail: Record<string, unknown>,
    now: Date,
  ): AutohealExecutionEntity {
    return {
      id: randomUUID(),
      rule_id: p.rule.id,
      rule_name: p.rule.name,
      endpoint_id: p.endpoint.endpoint_id,
      tenant_id: p.endpoint.tenant_id,
      endpoint_url: p.endpoint.url,
      metric: p.rule.trigger_metric,
      value: p.decision.value,
      threshold: p.rule.trigger_threshold,
      outcome,
      action_type: p.rule.action_type,
      detail: JSON.stringify({ sample_size: p.decision.sampleSize, dry_run: p.rule.dry_run, ...detail }),
      created_at: now,
    };
  }
}

const key = (ruleId: string, endpointId: string) => `${ruleId}\n${endpointId}`;

function firedSeverity(rule: AutohealRuleEntity) {
  return rule.action_type === 'disable_endpoint'
    ? ('critical' as const)
    : rule.action_type === 'pause_endpoint'
      ? ('warning' as const)
      : ('info' as const);
}

function policy(rule: AutohealRuleEntity) {
  return {
    metric: rule.trigger_metric,
    threshold: rule.trigger_threshold,
    window_s: rule.trigger_window_s,
    min_requests: rule.trigger_min_requests,
    for_s: rule.trigger_for_s,
    dry_run: rule.dry_run,
    cooldown_s: rule.cooldown_s,
    max_actions_per_hour: rule.max_actions_per_hour,
  };
}

function sample(row: EndpointWindowRow): EndpointSample {
  return {
    attempts: row.attempts,
    failures: row.failures,
    timeouts: row.timeouts,
    latency: row.latency,
    consecutiveFailures: row.consecutive_failures,
    recoveredAt: row.recovered_at,
    recoveredAfterFailures: row.recovered_after_failures,
  };
}

/** An endpoint with a pending condition but nothing in the window any more. */
function quietRow(s: AutohealStateEntity): EndpointWindowRow {
  return {
    endpoint_id: s.endpoint_id,
    tenant_id: s.tenant_id,
    url: s.endpoint_url,
    state: 'active',
    consecutive_failures: 0,
    recovered_at: null,
    recovered_after_failures: 0,
    attempts: 0,
    failures: 0,
    timeouts: 0,
    latency: EMPTY_SAMPLE.latency,
  };
}

function memoryOf(s: AutohealStateEntity) {
  return {
    conditionSince: s.condition_since,
    cooldownUntil: s.cooldown_until,
    lastOutcome: s.last_outcome,
    lastOutcomeAt: s.last_outcome_at,
    handledSignalAt: s.handled_signal_at,
  };
}

function stateOf(ruleId: string, row: EndpointWindowRow, d: Decision): AutohealStateEntity {
  return Object.assign(new AutohealStateEntity(), {
    rule_id: ruleId,
    endpoint_id: row.endpoint_id,
    tenant_id: row.tenant_id,
    endpoint_url: row.url,
    condition_since: d.memory.conditionSince,
    cooldown_until: d.memory.cooldownUntil,
    last_outcome: d.memory.lastOutcome,
    last_outcome_at: d.memory.lastOutcomeAt,
    handled_signal_at: d.memory.handledSignalAt,
  });
}

function sameMemory(a: AutohealStateEntity, b: AutohealStateEntity): boolean {
  const t = (d: Date | null) => (d ? new Date(d).getTime() : null);
  return (
    t(a.condition_since) === t(b.condition_since) &&
    t(a.cooldown_until) === t(b.cooldown_until) &&
    a.last_outcome === b.last_outcome &&
    t(a.last_outcome_at) === t(b.last_outcome_at) &&
    t(a.handled_signal_at) === t(b.handled_signal_at)
  );
}
