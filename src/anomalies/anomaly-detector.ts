import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Histogram } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { LeaderElection } from '../database/leader-election.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { DeliveryStats, type TenantBucketRow } from '../deliveries/delivery-stats.service.js';
import { SYSTEM_ACTOR, type NewEvent } from '../events/event.types.js';
import { EventsService } from '../events/events.service.js';
import {
  lifecycleStep,
  NO_STREAK,
  type LifecycleAction,
  type LifecycleParams,
  type Streak,
} from './anomaly-lifecycle.js';
import {
  BASELINE_WEEKS,
  DAY_MS,
  evaluateTenant,
  planWindows,
  rangesOf,
  severityOf,
  WEEK_MS,
  type Bucket,
  type DetectorParams,
  type Plan,
  type Verdict,
} from './anomaly-signals.js';
import { AnomalyEntity } from './anomaly.entity.js';
import { AnomalyRepository } from './anomaly.repository.js';
import { ANOMALY_METRIC } from './anomalies.metrics.js';
import { anomalyView } from './anomaly-view.js';

/** The pass's counters of the actions that publish an event. */
const COUNTED = { open: 'opened', reopen: 'reopened', resolve: 'resolved' } as const;
/** Tenants judged between two turns of the event loop. */
const YIELD_EVERY = 50;

export interface DetectorPass {
  led: boolean;
  tenants: number;
  opened: number;
  reopened: number;
  resolved: number;
}

/**
 * Judges every tenant's signals against its own baseline (anomaly-signals.ts) and moves each
 * (tenant, signal) through its lifecycle (anomaly-lifecycle.ts). Leader only, every
 * ANOMALY_INTERVAL_S, on the application clock that also stamps the rollup buckets. A pass reads
 * the rollups in at most two set-wise statements and writes its changes and events in one transaction.
 * Streaks of anomalous level windows live in memory: after a change of leader an anomaly opens at
 * most one level window (5 minutes) later.
 */
@Injectable()
export class AnomalyDetector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AnomalyDetector.name);
  private readonly task: PeriodicTask<DetectorPass | null>;
  private readonly params: DetectorParams;
  private readonly lifecycle: LifecycleParams;
  private readonly streaks = new Map<string, Streak>();

  constructor(
    private readonly config: AppConfig,
    private readonly leader: LeaderElection,
    private readonly clock: Clock,
    private readonly runner: TransactionRunner,
    private readonly stats: DeliveryStats,
    private readonly anomalies: AnomalyRepository,
    private readonly events: EventsService,
    @InjectMetric(ANOMALY_METRIC.evaluation) private readonly evaluation: Histogram,
  ) {
    this.params = {
      madMultiplier: config.ANOMALY_MAD_MULTIPLIER,
      failureFloor: config.ANOMALY_FAILURE_RATIO_FLOOR,
      latencyFloor: config.ANOMALY_LATENCY_FLOOR,
      volumeFloor: config.ANOMALY_VOLUME_FLOOR,
      minAttempts: config.ANOMALY_MIN_ATTEMPTS,
      minHourlyVolume: config.ANOMALY_MIN_HOURLY_VOLUME,
      overflowMs: config.DELIVERY_TIMEOUT_MS,
    };
    this.lifecycle = {
      openAfter: config.ANOMALY_OPEN_AFTER,
      resolveAfterMs: config.ANOMALY_RESOLVE_AFTER_S * 1000,
      reopenWindowMs: config.ANOMALY_REOPEN_WINDOW_S * 1000,
    };
    this.task = new PeriodicTask(
      'anomaly detection',
      config.ANOMALY_INTERVAL_S * 1000,
      () => this.pass(),
      null,
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    if (this.config.ANOMALY_ENABLED) this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Evaluates now (or joins the pass under way). */
  evaluate(): Promise<DetectorPass | null> {
    return this.task.runNow();
  }

  private async pass(): Promise<DetectorPass> {
    if (!(await this.leader.lead('anomalies'))) {
      this.streaks.clear();
      return { led: false, tenants: 0, opened: 0, reopened: 0, resolved: 0 };
    }
    const stop = this.evaluation.startTimer();
    const now = this.clock.now();
    const firstSeen = await this.stats.tenantsFirstSeen(new Date(now.getTime() - BASELINE_WEEKS * WEEK_MS - DAY_MS));
    const live = await this.anomalies.findLive(new Date(now.getTime() - this.lifecycle.reopenWindowMs));
    const stored = new Map(live.map((a) => [key(a.tenant_id, a.signal), a])); // the latest per key wins
    const tenants = [...new Set([...firstSeen.keys(), ...live.map((a) => a.tenant_id)])].sort();
    const plans = new Map(tenants.map((t) => [t, planWindows(now, firstSeen.get(t) ?? null)]));
    const buckets = await this.readBuckets(now, plans);

    const result: DetectorPass = { led: true, tenants: tenants.length, opened: 0, reopened: 0, resolved: 0 };
    const batch: Batch = { inserts: [], changes: [], events: [] };
    for (const [i, tenant] of tenants.entries()) {
      // Judging a thousand tenants takes a while: let requests in between, so the API stays responsive.
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const plan = plans.get(tenant)!;
      for (const verdict of evaluateTenant(plan, buckets.get(tenant) ?? new Map(), this.params)) {
        const k = key(tenant, verdict.signal);
        const row = stored.get(k) ?? null;
        const before = this.streaks.get(k) ?? NO_STREAK;
        const step = lifecycleStep(verdict.state, before, row, now, this.lifecycle, plan.levelStarts.at(-1)!);
        if (step.streak.count) this.streaks.set(k, step.streak);
        else this.streaks.delete(k);
        const counted = COUNTED[step.action as keyof typeof COUNTED];
        if (counted) result[counted]++;
        apply(step.action, tenant, verdict, row, now, batch);
      }
    }
    const { inserts, changes, events } = batch;
    if (inserts.length || changes.length) {
      await this.runner.run(async (tx) => {
        await this.anomalies.insert(tx.manager, inserts);
        await this.anomalies.applyChanges(tx.manager, changes);
        await this.events.publishMany(tx, events);
      });
    }
    stop();
    return result;
  }

  /**
   * Every tenant's buckets: the level window and the weekly hours for all in one statement, and the
   * 24 hours before the level window for the tenants on the daily fallback in a second one.
   */
  private async readBuckets(now: Date, plans: Map<string, Plan>): Promise<Map<string, Map<number, Bucket>>> {
    const weekly = planWindows(now, new Date(0));
    const rows: TenantBucketRow[] = await this.stats.tenantBuckets(toRanges(weekly));
    const daily = [...plans].filter(([, p]) => p.mode === 'daily').map(([t]) => t);
    if (daily.length) {
      const fallback = planWindows(now, new Date(now.getTime() - 2 * DAY_MS));
      rows.push(...(await this.stats.tenantBuckets(toRanges({ ...fallback, levelStarts: [] }), daily)));
    }
    const out = new Map<string, Map<number, Bucket>>();
    for (const r of rows) {
      let tenant = out.get(r.tenant_id);
      if (!tenant) out.set(r.tenant_id, (tenant = new Map<number, Bucket>()));
      tenant.set(r.bucket_ms, r);
    }
    return out;
  }
}

/** What one pass writes, in one transaction. */
interface Batch {
  inserts: AnomalyEntity[];
  changes: { id: string; set: Partial<AnomalyEntity> }[];
  events: NewEvent[];
}

/** Adds what a lifecycle action writes (rows and events) to the pass's batch. */
function apply(
  action: LifecycleAction,
  tenant: string,
  verdict: Verdict,
  row: AnomalyEntity | null,
  now: Date,
  batch: Batch,
): void {
  switch (action) {
    case 'open': {
      const created = newAnomaly(tenant, verdict, now);
      batch.inserts.push(created);
      batch.events.push(anomalyEvent('anomaly.detected', created));
      return;
    }
    case 'reopen': {
      const set = {
        ...figures(verdict, now),
        status: 'open' as const,
        resolved_at: null,
        reopen_count: row!.reopen_count + 1,
        peak_score: verdict.score!,
      };
      batch.changes.push({ id: row!.id, set });
      batch.events.push(anomalyEvent('anomaly.detected', { ...row!, ...set }));
      return;
    }
    case 'update':
      batch.changes.push({
        id: row!.id,
        set: { ...figures(verdict, now), peak_score: Math.max(row!.peak_score, verdict.score!) },
      });
      return;
    case 'inside':
      batch.changes.push({ id: row!.id, set: { inside_since: now, updated_at: now } });
      return;
    case 'resolve': {
      const set = { status: 'resolved' as const, resolved_at: now, updated_at: now };
      batch.changes.push({ id: row!.id, set });
      batch.events.push(anomalyEvent('anomaly.resolved', { ...row!, ...set }));
      return;
    }
    case 'none':
      return;
  }
}

function key(tenant: string, signal: string): string {
  return `${tenant}\n${signal}`;
}

function toRanges(plan: Plan) {
  return rangesOf(plan).map((r) => ({ from: new Date(r.from), to: new Date(r.to) }));
}

/** The columns an anomalous evaluation refreshes. */
function figures(v: Verdict, now: Date) {
  return {
    severity: severityOf(v),
    baseline_mode: v.mode!,
    current_value: v.level!,
    baseline_median: v.median!,
    baseline_mad: v.mad!,
    band_low: v.low!,
    band_high: v.high!,
    score: v.score!,
    sample_size: v.sampleSize,
    last_seen_at: now,
    inside_since: null,
    updated_at: now,
  };
}

function newAnomaly(tenant: string, v: Verdict, now: Date): AnomalyEntity {
  return Object.assign(new AnomalyEntity(), {
    id: randomUUID(),
    tenant_id: tenant,
    kind: v.kind,
    signal: v.signal,
    status: 'open',
    ...figures(v, now),
    peak_score: v.score!,
    first_seen_at: now,
    resolved_at: null,
    reopen_count: 0,
    triage_note: null,
    triaged_by: null,
    triaged_at: null,
    assignee: null,
    created_at: now,
  } satisfies AnomalyEntity);
}

function anomalyEvent(type: 'anomaly.detected' | 'anomaly.resolved', a: AnomalyEntity): NewEvent {
  return {
    type,
    severity: type === 'anomaly.detected' ? a.severity : 'info',
    tenantId: a.tenant_id,
    subject: { type: 'anomaly', id: a.id },
    actor: SYSTEM_ACTOR,
    data: { ...anomalyView(a) },
  };
}
