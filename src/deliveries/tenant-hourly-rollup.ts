import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { Clock } from '../common/time/clock.js';
import { LeaderElection } from '../database/leader-election.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { DeliveryStatsRepository } from './delivery-stats.repository.js';

const HOUR_MS = 3_600_000;
const INTERVAL_MS = 60_000;
/** An hour is folded this long after it ends: a replica whose clock is behind may still be writing to it. */
const SEAL_GRACE_MS = 5 * 60_000;
/** Hours folded per transaction (a first run after an upgrade folds up to the 35 days kept). */
const HOURS_PER_TRANSACTION = 24;

/**
 * Folds each sealed hour of the 5-minute rollup into tenant_stats_1h, one row per tenant and hour,
 * so that a 24 h or 7 d summary of every tenant reads 24 or 168 rows per tenant instead of 288 or
 * 2,016 per endpoint. Runs on the leader every minute; folding is idempotent (an upsert of sums
 * recomputed from the 5-minute rows), and reads take whatever is not folded yet from the 5-minute rows.
 */
@Injectable()
export class TenantHourlyRollup implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TenantHourlyRollup.name);
  private readonly task: PeriodicTask<number>;

  constructor(
    private readonly stats: DeliveryStatsRepository,
    private readonly runner: TransactionRunner,
    private readonly leader: LeaderElection,
    private readonly lifecycle: LifecycleService,
    private readonly clock: Clock,
  ) {
    this.task = new PeriodicTask('tenant hourly rollup', INTERVAL_MS, () => this.fold(), 0, this.logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
    void this.task.runNow();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Folds now (or joins the run under way); returns how many hours it folded. */
  foldNow(): Promise<number> {
    return this.task.runNow();
  }

  /** Recomputes the sealed hours in [from, to) (rounded out to whole hours), e.g. after writing history. */
  async refold(from: Date, to: Date): Promise<void> {
    const start = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
    const end = Math.min(this.sealedBefore(), Math.ceil(to.getTime() / HOUR_MS) * HOUR_MS);
    for (let h = start; h < end; h += HOURS_PER_TRANSACTION * HOUR_MS) {
      const until = Math.min(end, h + HOURS_PER_TRANSACTION * HOUR_MS);
      await this.runner.run((tx) => this.stats.foldHours(tx, new Date(h), new Date(until)));
    }
  }

  /** Hours that start before this are over (with the grace) and may be folded. */
  private sealedBefore(): number {
    return Math.floor((this.clock.now().getTime() - SEAL_GRACE_MS) / HOUR_MS) * HOUR_MS;
  }

  private async fold(): Promise<number> {
    if (!(await this.leader.lead('tenant-rollup'))) return 0;
    const sealedBefore = this.sealedBefore();
    const start = (await this.stats.foldedUntil()) ?? (await this.stats.oldestBucket());
    if (!start) return 0;
    let hour = Math.floor(start.getTime() / HOUR_MS) * HOUR_MS;
    let folded = 0;
    while (hour < sealedBefore && !this.lifecycle.shuttingDown) {
      const until = Math.min(sealedBefore, hour + HOURS_PER_TRANSACTION * HOUR_MS);
      await this.runner.run((tx) => this.stats.foldHours(tx, new Date(hour), new Date(until)));
      folded += (until - hour) / HOUR_MS;
      hour = until;
    }
    return folded;
  }
}
