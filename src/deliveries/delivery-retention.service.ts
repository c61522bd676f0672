import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { DeliveryRepository } from './delivery.repository.js';

const BATCH = 1000;
const DAY_MS = 86_400_000;
const INTERVAL_MS = 300_000;
/** Anomaly baselines look four weeks back: the 5-minute stats outlive short delivery retention. */
const MIN_STATS_DAYS = 35;

/** Deletes finished deliveries (and their attempts) past DELIVERY_RETENTION_DAYS, in batches. */
@Injectable()
export class DeliveryRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryRetentionService.name);
  private readonly task: PeriodicTask<number>;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly runner: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly lifecycle: LifecycleService,
  ) {
    this.task = new PeriodicTask('delivery retention', INTERVAL_MS, () => this.purge(), 0, this.logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Returns how many deliveries were deleted. Pending deliveries are never deleted. */
  purgeNow(): Promise<number> {
    return this.task.runNow();
  }

  private async purge(): Promise<number> {
    const now = this.clock.now().getTime();
    const cutoff = new Date(now - this.config.DELIVERY_RETENTION_DAYS * DAY_MS);
    let deleted = 0;
    while (!this.lifecycle.shuttingDown) {
      const count = await this.runner.run((tx) => this.deliveries.deleteFinishedBefore(tx, cutoff, BATCH));
      deleted += count;
      if (count < BATCH) break;
    }
    const statsCutoff = new Date(now - Math.max(MIN_STATS_DAYS, this.config.DELIVERY_RETENTION_DAYS) * DAY_MS);
    await this.runner.run((tx) => this.deliveries.deleteStatsBefore(tx, statsCutoff));
    if (deleted) this.logger.log(`purged ${deleted} deliveries finished before ${cutoff.toISOString()}`);
    return deleted;
  }
}
