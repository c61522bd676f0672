import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { DeliveriesModule } from '../deliveries/deliveries.module.js';
import { EventsModule } from '../events/events.module.js';
import { AnomaliesController } from './anomalies.controller.js';
import { anomalyMetrics } from './anomalies.metrics.js';
import { AnomaliesService } from './anomalies.service.js';
import { AnomalyDetector } from './anomaly-detector.js';
import { AnomalyGauges } from './anomaly-gauges.js';
import { AnomalyEntity } from './anomaly.entity.js';
import { AnomalyRepository } from './anomaly.repository.js';

/** Per-tenant anomaly detection against each tenant's own baseline, with triage. */
@Module({
  imports: [TypeOrmModule.forFeature([AnomalyEntity]), EventsModule, DeliveriesModule],
  controllers: [AnomaliesController],
  providers: [...anomalyMetrics, AnomalyRepository, AnomaliesService, AnomalyDetector, AnomalyGauges],
  exports: [AnomaliesService],
})
export class AnomaliesModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('anomaly_detection');
  }
}
