import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable.js';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { AttemptRecorder, type AttemptResult } from './attempt-recorder.js';
import type { AttemptTrigger } from './attempt.entity.js';
import type { DeliveryEntity } from './delivery.entity.js';
import { DispatchRepository } from './dispatch.repository.js';
import type { EndpointEntity } from './endpoint.entity.js';
import { WebhookSender } from './webhook-sender.js';
import { webhookHeaders } from './webhook-signature.js';

const POLL_MS = 500;
/** Longest pause between claims while the database keeps failing them. */
const MAX_CLAIM_BACKOFF_MS = 15_000;
/** A lease outlives the attempt it covers, so it only expires when its replica died. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Sends due deliveries. Every replica runs one: it leases due rows (a crashed replica's expired
 * leases are taken over), keeps at most DISPATCH_CONCURRENCY attempts in flight and
 * DISPATCH_PER_ENDPOINT per endpoint, and hands each result to the AttemptRecorder. An endpoint
 * autoheal paused gets one delivery, a `probe`, once its pause has run out.
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryDispatcher.name);
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perEndpoint = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private probesCheckedAt = 0;
  private claimFailures = 0;
  private claimRetryAt = 0;

  constructor(
    private readonly runner: TransactionRunner,
    private readonly dispatch: DispatchRepository,
    private readonly recorder: AttemptRecorder,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly lifecycle: LifecycleService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.DISPATCHER_ENABLED) return;
    // Every attempt in flight listens on the shared abort signal; that many is expected, not a leak.
    setMaxListeners(this.config.DISPATCH_CONCURRENCY + 10, this.abort.signal);
    this.timer = setInterval(() => this.poke(), POLL_MS);
    this.timer.unref();
    this.poke();
  }

  /**
   * Stops claiming and lets in-flight attempts finish and be recorded while the database is still
   * open; past the grace they are aborted (and recorded as such). A killed process leaves leases
   * that expire and are taken over.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const grace = setTimeout(() => this.abort.abort(), Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS - 3000));
    // A claim still running when shutdown began starts its attempts when it returns: wait for it,
    // or those attempts would be sent, left unrecorded as the store closes, and sent again later.
    await this.ticking;
    await Promise.allSettled(this.inFlight.values());
    clearTimeout(grace);
  }

  /** Free slots worth a claim while attempts are still in flight. */
  private get minClaim(): number {
    return Math.max(1, Math.min(8, Math.floor(this.config.DISPATCH_CONCURRENCY / 4)));
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Something may be due: claim and start what capacity allows. */
  poke(): void {
    if (!this.config.DISPATCHER_ENABLED || this.lifecycle.shuttingDown) return;
    if (Date.now() < this.claimRetryAt) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.again = false;
    this.ticking = this.tick()
      .then(() => {
        if (this.claimFailures) this.logger.log(`claiming works again after ${this.claimFailures} failures`);
        this.claimFailures = 0;
      })
      .catch((err: unknown) => this.claimFailed(err))
      .finally(() => {
        this.ticking = null;
        if (this.again) this.poke();
      });
  }

  /** Backs off (doubling, up to 15 s) while claims fail, logging the 1st, 2nd, 4th, 8th... failure. */
  private claimFailed(err: unknown): void {
    this.claimFailures++;
    const delay = Math.min(MAX_CLAIM_BACKOFF_MS, POLL_MS * 2 ** Math.min(this.claimFailures, 10));
    this.claimRetryAt = Date.now() + delay;
    if ((this.claimFailures & (this.claimFailures - 1)) === 0)
      this.logger.warn(
        { err, failures: this.claimFailures, retry_in_ms: delay },
        'could not claim due deliveries; backing off',
      );
  }

  private async tick(): Promise<void> {
    const capacity = this.config.DISPATCH_CONCURRENCY - this.inFlight.size;
    if (capacity <= 0 || this.lifecycle.shuttingDown) return;
    // Claim in batches: a claim is a transaction, and one per finished attempt would double them.
    if (this.inFlight.size > 0 && capacity < this.minClaim) return;
    const saturated = [...this.perEndpoint].filter(([, n]) => n >= this.config.DISPATCH_PER_ENDPOINT).map(([id]) => id);
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + this.config.DELIVERY_TIMEOUT_MS + LEASE_MARGIN_MS);
    // Pauses run out on the clock, not on a poke: looking for them once per poll interval keeps
    // the claim on the hot path a single statement.
    const lookForProbes = Date.now() - this.probesCheckedAt >= POLL_MS;
    if (lookForProbes) this.probesCheckedAt = Date.now();
    const claimed = await this.runner.run(async (tx) => {
      const probes = lookForProbes
        ? await this.dispatch.claimProbes(tx, this.owner, now, leaseUntil, capacity, saturated)
        : [];
      const rows =
        capacity > probes.length
          ? await this.dispatch.claimDue(tx, this.owner, now, leaseUntil, capacity - probes.length, saturated)
          : [];
      const probeIds = new Set(probes.map((row) => row.id));
      const kept: DeliveryEntity[] = [];
      const extra: string[] = [];
      const counts = new Map(this.perEndpoint);
      for (const row of [...probes, ...rows]) {
        const n = counts.get(row.endpoint_id) ?? 0;
        if (n >= this.config.DISPATCH_PER_ENDPOINT) extra.push(row.id);
        else {
          counts.set(row.endpoint_id, n + 1);
          kept.push(row);
        }
      }
      await this.dispatch.release(tx, extra, this.owner);
      const found = await this.dispatch.findEndpoints(tx, [...new Set(kept.map((row) => row.endpoint_id))]);
      const endpoints = new Map(found.map((endpoint) => [endpoint.id, endpoint]));
      return kept.map((delivery) => ({
        delivery,
        endpoint: endpoints.get(delivery.endpoint_id)!,
        probe: probeIds.has(delivery.id),
      }));
    });
    for (const { delivery, endpoint, probe } of claimed) this.start(delivery, endpoint, probe);
    if (claimed.length === capacity) this.again = true;
  }

  private start(delivery: DeliveryEntity, endpoint: EndpointEntity, probe: boolean): void {
    this.perEndpoint.set(endpoint.id, (this.perEndpoint.get(endpoint.id) ?? 0) + 1);
    const work = this.attempt(delivery, endpoint, probe)
      .catch((err: unknown) => this.logger.error({ err, delivery_id: delivery.id }, 'attempt could not be recorded'))
      .finally(() => {
        this.inFlight.delete(delivery.id);
        const n = (this.perEndpoint.get(endpoint.id) ?? 1) - 1;
        if (n > 0) this.perEndpoint.set(endpoint.id, n);
        else this.perEndpoint.delete(endpoint.id);
        this.poke();
      });
    this.inFlight.set(delivery.id, work);
  }

  private async attempt(delivery: DeliveryEntity, endpoint: EndpointEntity, probe: boolean): Promise<void> {
    const trigger: AttemptTrigger = probe
      ? 'probe'
      : ((delivery.pending_trigger as AttemptTrigger | null) ?? (delivery.attempt_count === 0 ? 'initial' : 'retry'));
    const startedAt = this.clock.now();
    if (endpoint.state === 'disabled') {
      await this.recordDurably(delivery, endpoint, trigger, {
        startedAt,
        durationMs: 0,
        statusCode: null,
        errorKind: 'endpoint_disabled',
        responseExcerpt: endpoint.disabled_reason,
        retryAfterSeconds: null,
      });
      return;
    }
    const headers = webhookHeaders(
      {
        secret: endpoint.secret,
        previousSecret: endpoint.previous_secret,
        previousSecretExpiresAt: endpoint.previous_secret_expires_at,
      },
      delivery.id,
      delivery.payload,
      startedAt,
    );
    const result = await this.sender.send({
      url: delivery.endpoint_url,
      headers,
      body: delivery.payload,
      signal: this.abort.signal,
    });
    await this.recordDurably(delivery, endpoint, trigger, { startedAt, ...result });
  }

  /**
   * Records an attempt, retrying while the database is unreachable and the lease still holds, so
   * an outage does not turn a sent webhook into a second attempt. A retry first checks the lease:
   * a commit whose answer was lost has already released it.
   */
  private async recordDurably(
    delivery: DeliveryEntity,
    endpoint: EndpointEntity,
    trigger: AttemptTrigger,
    result: AttemptResult,
  ): Promise<void> {
    // The attempt ended within DELIVERY_TIMEOUT_MS of its claim, so the lease has at least the margin left.
    const deadline = Date.now() + LEASE_MARGIN_MS - 2000;
    for (let wait = 250, retry = false; ; wait = Math.min(wait * 2, 5000), retry = true) {
      try {
        if (retry && !(await this.runner.run((tx) => this.dispatch.holdsLease(tx, delivery.id, this.owner)))) return;
        await this.recorder.record(delivery, endpoint, this.owner, trigger, result);
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || Date.now() + wait > deadline) throw err;
        if (!retry)
          this.logger.warn(
            { err, delivery_id: delivery.id },
            'database unavailable; will record the attempt when it is back',
          );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
