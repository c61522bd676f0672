import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { EventsService } from '../events/events.service.js';
import { SYSTEM_ACTOR } from '../events/event.types.js';
import { AttemptEntity, type AttemptErrorKind, type AttemptTrigger } from './attempt.entity.js';
import type { DeliveryEntity } from './delivery.entity.js';
import { DELIVERY_METRIC } from './deliveries.metrics.js';
import { apdexZone } from './delivery-latency.js';
import { DispatchRepository, type AttemptOutcome } from './dispatch.repository.js';
import type { EndpointEntity } from './endpoint.entity.js';
import { EndpointPauses, endpointEvent } from './endpoint-pauses.js';
import { RetrySchedule } from './retry-schedule.js';

const BUCKET_MS = 5 * 60_000;

export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorKind: AttemptErrorKind | null;
  responseExcerpt: string | null;
  retryAfterSeconds: number | null;
}

/**
 * Records one attempt in one transaction: the attempt row, the delivery's next state (success,
 * a retry time, or failed when the schedule is spent), the endpoint's health (and, for a probe,
 * its autoheal pause), the 5-minute stats rollup, and the events (`delivery.attempt_failed`,
 * `delivery.exhausted`, `delivery.recovered`, `endpoint.recovered`).
 */
@Injectable()
export class AttemptRecorder {
  private readonly schedule: RetrySchedule;
  private readonly apdexThresholdMs: number;

  constructor(
    private readonly runner: TransactionRunner,
    private readonly dispatch: DispatchRepository,
    private readonly events: EventsService,
    private readonly pauses: EndpointPauses,
    private readonly clock: Clock,
    config: AppConfig,
    @InjectMetric(DELIVERY_METRIC.deliveries) private readonly deliveriesTotal: Counter<'status'>,
    @InjectMetric(DELIVERY_METRIC.attempts) private readonly attemptsTotal: Counter<'result'>,
    @InjectMetric(DELIVERY_METRIC.attemptDuration) private readonly attemptDuration: Histogram,
  ) {
    this.schedule = new RetrySchedule(config.RETRY_SCHEDULE);
    this.apdexThresholdMs = config.APDEX_T_MS;
  }

  record(
    delivery: DeliveryEntity,
    endpoint: EndpointEntity,
    owner: string,
    trigger: AttemptTrigger,
    result: AttemptResult,
  ) {
    return this.runner.run(async (tx) => {
      const now = this.clock.now();
      const attemptNumber = delivery.attempt_count + 1;
      const success = result.errorKind === null;
      const gone = result.statusCode === 410;
      const final = success || gone || result.errorKind === 'endpoint_disabled';
      const retryAfter = result.statusCode === 429 || result.statusCode === 503 ? result.retryAfterSeconds : null;
      const delay = final ? null : this.schedule.delayAfter(attemptNumber, retryAfter);
      const exhausted = !success && delay === null;
      const outcome: AttemptOutcome = {
        status: success ? 'success' : exhausted ? 'failed' : 'pending',
        attemptCount: attemptNumber,
        nextAttemptAt: delay === null ? null : new Date(now.getTime() + delay),
        statusCode: result.statusCode,
        errorKind: result.errorKind,
        completedAt: success || exhausted ? now : null,
      };
      await this.dispatch.insertAttempt(
        tx,
        Object.assign(new AttemptEntity(), {
          id: randomUUID(),
          delivery_id: delivery.id,
          tenant_id: delivery.tenant_id,
          endpoint_id: endpoint.id,
          attempt_number: attemptNumber,
          trigger,
          started_at: result.startedAt,
          duration_ms: Math.round(result.durationMs),
          status_code: result.statusCode,
          error_kind: result.errorKind,
          response_excerpt: result.responseExcerpt,
        } satisfies AttemptEntity),
      );
      tx.afterCommit(() => {
        this.attemptsTotal.inc({ result: result.errorKind ?? 'success' });
        this.attemptDuration.observe(result.durationMs / 1000);
        if (outcome.status !== 'pending') this.deliveriesTotal.inc({ status: outcome.status });
      });
      if (!(await this.dispatch.finish(tx, delivery.id, owner, outcome, now))) return outcome; // another replica took over
      let endedStreak = 0;
      if (result.errorKind !== 'endpoint_disabled') {
        endedStreak = await this.dispatch.recordEndpointResult(
          tx,
          endpoint,
          success,
          now,
          gone ? 'The endpoint answered 410 Gone' : undefined,
        );
      }
      await this.dispatch.addToStats(tx, {
        bucketStart: new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS),
        tenantId: delivery.tenant_id,
        endpointId: endpoint.id,
        success,
        timeout: result.errorKind === 'timeout',
        delivered: success,
        exhausted,
        durationMs: result.durationMs,
        apdex: success ? apdexZone(result.durationMs, this.apdexThresholdMs) : null,
      });
      // Events last: publishing serializes event writers until commit.
      const probed =
        trigger === 'probe' && result.errorKind !== 'endpoint_disabled'
          ? await this.pauses.afterProbe(tx, endpoint.id, success, now)
          : null;
      if (endedStreak > 0 || probed === 'resumed') {
        await this.events.publish(
          tx,
          endpointEvent(endpoint, 'endpoint.recovered', 'info', { after_failures: endedStreak }),
        );
      }
      const event = this.eventFor(success, exhausted, attemptNumber);
      if (event) {
        await this.events.publish(tx, {
          type: event.type,
          severity: event.severity,
          tenantId: delivery.tenant_id,
          subject: { type: 'delivery', id: delivery.id },
          actor: SYSTEM_ACTOR,
          data: {
            endpoint_id: endpoint.id,
            endpoint_url: delivery.endpoint_url,
            event_type: delivery.event_type,
            attempt: attemptNumber,
            status_code: result.statusCode,
            error_kind: result.errorKind,
            next_attempt_at: outcome.nextAttemptAt?.toISOString() ?? null,
          },
        });
      }
      return outcome;
    });
  }

  private eventFor(success: boolean, exhausted: boolean, attempt: number) {
    if (success) return attempt > 1 ? { type: 'delivery.recovered', severity: 'info' as const } : null;
    if (exhausted) return { type: 'delivery.exhausted', severity: 'error' as const };
    return { type: 'delivery.attempt_failed', severity: 'warning' as const };
  }
}
