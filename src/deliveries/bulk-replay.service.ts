import { BadRequestException, ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import type { Keyset } from '../common/pagination/cursor.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryRepository, type ReplayWindow } from './delivery.repository.js';
import type { BulkReplayDto, ReplayJobView } from './dto/bulk-replay.dto.js';
import { ReplayJobEntity } from './replay-job.entity.js';
import { ReplayJobRepository } from './replay-job.repository.js';

const MAX_WINDOW_MS = 14 * 86_400_000;
const MAX_MATCHED = 10_000;
const BATCH = 200;
/** A running job that has not moved for this long lost its replica: it no longer blocks others. */
const STALE_MS = 5 * 60_000;

/** `POST /alerts/deliveries/replay`: requeue a window's failed deliveries, in batches, in the background. */
@Injectable()
export class BulkReplayService {
  private readonly logger = new Logger(BulkReplayService.name);

  constructor(
    private readonly runner: TransactionRunner,
    private readonly deliveries: DeliveryRepository,
    private readonly jobs: ReplayJobRepository,
    private readonly audit: AuditService,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly lifecycle: LifecycleService,
    private readonly clock: Clock,
  ) {}

  async start(input: BulkReplayDto, scope: TenantScope, actor: Actor): Promise<ReplayJobView> {
    if (input.tenant_id) scope.assertCanActFor(input.tenant_id);
    const window: ReplayWindow = {
      tenantId: input.tenant_id ?? scope.tenantId,
      endpointUrl: input.endpoint_url ?? null,
      since: new Date(input.since),
      until: new Date(input.until),
    };
    if (window.since >= window.until) throw new BadRequestException('since must be before until');
    if (window.until.getTime() - window.since.getTime() > MAX_WINDOW_MS) {
      throw new BadRequestException('The window may span at most 14 days');
    }
    const matched = await this.deliveries.countFailedIn(window);
    if (matched > MAX_MATCHED) {
      throw new BadRequestException(
        `${matched} failed deliveries match; at most ${MAX_MATCHED} per job: narrow the window`,
      );
    }
    const now = this.clock.now();
    const dryRun = input.dry_run ?? false;
    const outcome = await this.runner.run(async (tx) => {
      const active = dryRun
        ? null
        : await this.jobs.findActiveOverlapping(
            tx,
            window.tenantId,
            window.endpointUrl,
            new Date(now.getTime() - STALE_MS),
          );
      const job = Object.assign(new ReplayJobEntity(), {
        id: randomUUID(),
        tenant_id: window.tenantId,
        endpoint_url: window.endpointUrl,
        since: window.since,
        until: window.until,
        dry_run: dryRun,
        status: dryRun ? 'completed' : 'running',
        matched,
        requeued: 0,
        skipped: 0,
        created_by: JSON.stringify(actor),
        created_at: now,
        updated_at: now,
        finished_at: dryRun ? now : null,
      } satisfies ReplayJobEntity);
      await this.audit.record(tx, {
        actor,
        action: 'delivery.bulk_replay',
        target: { type: 'replay_job', id: active ? active.id : job.id },
        tenantId: window.tenantId,
        result: active ? 'noop' : 'success',
        reason: active ? 'another recover job is running for these endpoints' : undefined,
        details: { endpoint_url: window.endpointUrl, since: input.since, until: input.until, dry_run: dryRun, matched },
      });
      if (active) return { conflict: active.id };
      await this.jobs.insert(tx, job);
      if (!dryRun) tx.afterCommit(() => void this.run(job, window));
      return { job };
    });
    if ('conflict' in outcome)
      throw new ConflictException(`A recover job (${outcome.conflict}) is already running for these endpoints`);
    return view(outcome.job, now);
  }

  async get(id: string, scope: TenantScope): Promise<ReplayJobView> {
    const job = await this.jobs.findById(id);
    if (!job || (scope.isScoped && job.tenant_id !== scope.tenantId))
      throw new NotFoundException('Replay job not found');
    return view(job, this.clock.now());
  }

  /** Requeues the window's failed deliveries batch by batch; progress is saved after each batch. */
  private async run(job: ReplayJobEntity, window: ReplayWindow): Promise<void> {
    let requeued = 0;
    let after: Keyset | undefined;
    try {
      while (!this.lifecycle.shuttingDown) {
        const batch = await this.deliveries.failedBatch(window, after, BATCH);
        if (!batch.length) break;
        requeued += await this.runner.run(async (tx) => {
          let n = 0;
          for (const d of batch)
            if (await this.deliveries.requeue(tx, d.id, 'failed', 'bulk_replay', this.clock.now())) n++;
          return n;
        });
        const last = batch[batch.length - 1];
        after = { createdAt: new Date(last.created_at), id: last.id };
        await this.jobs.progress(job.id, { requeued, updated_at: this.clock.now() });
        this.dispatcher.poke();
        if (batch.length < BATCH) break;
      }
      if (this.lifecycle.shuttingDown) return; // left running; it goes stale and stops blocking others
      const now = this.clock.now();
      await this.jobs.progress(job.id, {
        status: 'completed',
        requeued,
        skipped: Math.max(0, job.matched - requeued),
        updated_at: now,
        finished_at: now,
      });
    } catch (err) {
      this.logger.error({ err, job_id: job.id }, 'recover job failed');
      await this.jobs
        .progress(job.id, { status: 'failed', requeued, updated_at: this.clock.now(), finished_at: this.clock.now() })
        .catch(() => undefined);
    }
  }
}

function view(job: ReplayJobEntity, now: Date): ReplayJobView {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  const stale = job.status === 'running' && now.getTime() - new Date(job.updated_at).getTime() > STALE_MS;
  return {
    job_id: job.id,
    status: stale ? 'interrupted' : job.status,
    dry_run: Boolean(job.dry_run),
    matched: job.matched,
    requeued: job.requeued,
    skipped: job.skipped,
    tenant_id: job.tenant_id,
    endpoint_url: job.endpoint_url,
    since: iso(job.since)!,
    until: iso(job.until)!,
    created_at: iso(job.created_at)!,
    finished_at: iso(job.finished_at),
  };
}
