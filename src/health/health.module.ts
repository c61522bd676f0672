import { Module } from '@nestjs/common';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import { METRIC } from '../observability/metric-names.js';
import { HealthController } from './health.controller.js';
import { HealthMetrics } from './health-metrics.js';
import { MetaService } from './meta.service.js';
import { ReadinessService } from './readiness.service.js';

@Module({
  controllers: [HealthController],
  providers: [
    ReadinessService,
    MetaService,
    HealthMetrics,
    makeGaugeProvider({ name: METRIC.health, help: 'Service health: 1 when ready (database answers), 0 otherwise' }),
  ],
})
export class HealthModule {}
