import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { EventRepository } from './event.repository.js';

const BATCH = 1000;
const DAY_MS = 86_400_000;

/**
 * Deletes events older than EVENT_RETENTION_DAYS in bounded batches, every
 * EVENT_RETENTION_INTERVAL_S. Each batch records the last purged audit link as the chain's new
 * anchor and the highest purged id, so verification and stream resumption keep working.
 */
@Injectable()
export class EventRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventRetentionService.name);
  private readonly task: PeriodicTask<number>;

  constructor(
    private readonly events: EventRepository,
    private readonly runner: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly lifecycle: LifecycleService,
  ) {
    this.task = new PeriodicTask(
      'event retention',
      this.config.EVENT_RETENTION_INTERVAL_S * 1000,
      () => this.purge(),
      0,
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Purges everything past retention; returns how many events were deleted. */
  purgeNow(): Promise<number> {
    return this.task.runNow();
  }

  private async purge(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.EVENT_RETENTION_DAYS * DAY_MS);
    let deleted = 0;
    while (!this.lifecycle.shuttingDown) {
      const count = await this.runner.run(async (tx) => {
        await this.events.lockForWrite(tx);
        const rows = await this.events.oldestBefore(tx, cutoff, BATCH);
        if (!rows.length) return 0;
        const lastAudit = [...rows].reverse().find((r) => r.hash !== null);
        const lastId = rows[rows.length - 1].id;
        await this.events.deleteThrough(tx, lastId);
        await this.events.recordPurge(tx, lastId, lastAudit ? { id: lastAudit.id, hash: lastAudit.hash! } : null);
        return rows.length;
      });
      deleted += count;
      if (count < BATCH) break;
    }
    if (deleted) this.logger.log(`purged ${deleted} events older than ${cutoff.toISOString()}`);
    return deleted;
  }
}
