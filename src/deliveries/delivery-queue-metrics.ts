import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { Clock } from '../common/time/clock.js';
import { DELIVERY_METRIC } from './deliveries.metrics.js';
import { DeliveryRepository } from './delivery.repository.js';
import { EndpointRepository } from './endpoint.repository.js';

/** Queue depth, the most overdue delivery and the paused and disabled endpoints, read from the store at scrape time. */
@Injectable()
export class DeliveryQueueMetrics implements OnModuleInit {
  constructor(
    @InjectMetric(DELIVERY_METRIC.queueDepth) private readonly depth: Gauge,
    @InjectMetric(DELIVERY_METRIC.oldestPending) private readonly oldest: Gauge,
    @InjectMetric(DELIVERY_METRIC.endpointsPaused) private readonly paused: Gauge,
    @InjectMetric(DELIVERY_METRIC.endpointsDisabled) private readonly disabled: Gauge,
    private readonly deliveries: DeliveryRepository,
    private readonly endpoints: EndpointRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // prom-client calls collect() on every scrape, gauge by gauge; one refresh serves all four.
    let pending: Promise<void> | null = null;
    const refresh = () =>
      (pending ??= Promise.all([
        this.deliveries.queueStats(this.clock.now()),
        this.endpoints.countPaused(),
        this.endpoints.countDisabled(),
      ])
        .then(([{ depth, oldestDueAt }, paused, disabled]) => {
          this.depth.set(depth);
          this.oldest.set(oldestDueAt ? Math.max(0, (this.clock.now().getTime() - oldestDueAt.getTime()) / 1000) : 0);
          this.paused.set(paused);
          this.disabled.set(disabled);
        })
        .catch(() => undefined)
        .finally(() => (pending = null)));
    for (const gauge of [this.depth, this.oldest, this.paused, this.disabled])
      (gauge as unknown as { collect: () => Promise<void> }).collect = refresh;
  }
}
