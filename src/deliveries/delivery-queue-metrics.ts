import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { Clock } from '../common/time/clock.js';
import { DELIVERY_METRIC } from './deliveries.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';

/** Queue depth and the most overdue delivery, read from the store at scrape time. */
@Injectable()
export class DeliveryQueueMetrics implements OnModuleInit {
  constructor(
    @InjectMetric(DELIVERY_METRIC.queueDepth) private readonly depth: Gauge,
    @InjectMetric(DELIVERY_METRIC.oldestPending) private readonly oldest: Gauge,
    private readonly deliveries: DeliveryRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // prom-client calls collect() on every scrape; one query serves both gauges.
    let pending: Promise<void> | null = null;
    const refresh = () =>
      (pending ??= this.deliveries
        .queueStats(this.clock.now())
        .then(({ depth, oldestDueAt }) => {
          this.depth.set(depth);
          this.oldest.set(oldestDueAt ? Math.max(0, (this.clock.now().getTime() - oldestDueAt.getTime()) / 1000) : 0);
        })
        .catch(() => undefined)
        .finally(() => (pending = null)));
    (this.depth as unknown as { collect: () => Promise<void> }).collect = refresh;
    (this.oldest as unknown as { collect: () => Promise<void> }).collect = refresh;
  }
}
