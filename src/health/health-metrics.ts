import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { METRIC } from '../observability/metric-names.js';
import { ReadinessService } from './readiness.service.js';

/** `command_center_health`: 1 when ready, 0 otherwise, evaluated at scrape time. */
@Injectable()
export class HealthMetrics implements OnModuleInit {
  constructor(
    @InjectMetric(METRIC.health) private readonly gauge: Gauge,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    const readiness = this.readiness;
    // prom-client calls collect() on every scrape; it may be async.
    (this.gauge as unknown as { collect: () => Promise<void> }).collect = async () => {
      const result = await readiness.check();
      this.gauge.set(result.status === 'ready' ? 1 : 0);
    };
  }
}
