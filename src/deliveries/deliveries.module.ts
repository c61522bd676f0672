import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { EventsModule } from '../events/events.module.js';
import { AttemptEntity } from './attempt.entity.js';
import { AttemptRecorder } from './attempt-recorder.js';
import { DeliveriesController } from './deliveries.controller.js';
import { deliveryMetrics } from './deliveries.metrics.js';
import { DeliveryQueueMetrics } from './delivery-queue-metrics.js';
import { DeliveryRetentionService } from './delivery-retention.service.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DispatchRepository } from './dispatch.repository.js';
import { WebhookSender } from './webhook-sender.js';
import { DeliveryHistoryService } from './delivery-history.service.js';
import { DeliveryEntity } from './delivery.entity.js';
import { DeliveryRepository } from './delivery.repository.js';
import { EndpointEntity } from './endpoint.entity.js';
import { EndpointRepository } from './endpoint.repository.js';
import { EndpointsController } from './endpoints.controller.js';
import { EndpointsService } from './endpoints.service.js';
import { IngestService } from './ingest.service.js';
import { ReplayService } from './replay.service.js';
import { BulkReplayService } from './bulk-replay.service.js';
import { ReplayJobEntity } from './replay-job.entity.js';
import { ReplayJobRepository } from './replay-job.repository.js';
import { EndpointControlService } from './endpoint-control.service.js';
import { EndpointHealing } from './endpoint-healing.service.js';
import { DeliveryStats } from './delivery-stats.service.js';
import { DeliveryStatsRepository } from './delivery-stats.repository.js';
import { EndpointPauses } from './endpoint-pauses.js';
import { TenantHourlyRollup } from './tenant-hourly-rollup.js';

/**
 * Endpoints and deliveries: ingest, signed dispatch with retries, attempts, history and detail.
 * Other modules change endpoints and deliveries only through EndpointHealing.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EndpointEntity, DeliveryEntity, AttemptEntity, ReplayJobEntity]), EventsModule],
  controllers: [DeliveriesController, EndpointsController],
  providers: [
    ...deliveryMetrics,
    DeliveryQueueMetrics,
    EndpointRepository,
    DeliveryRepository,
    DispatchRepository,
    EndpointsService,
    IngestService,
    DeliveryHistoryService,
    WebhookSender,
    AttemptRecorder,
    DeliveryDispatcher,
    ReplayService,
    EndpointControlService,
    DeliveryRetentionService,
    ReplayJobRepository,
    BulkReplayService,
    EndpointPauses,
    EndpointHealing,
    DeliveryStatsRepository,
    DeliveryStats,
    TenantHourlyRollup,
  ],
  exports: [EndpointHealing, DeliveryStats],
})
export class DeliveriesModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('delivery_history');
  }
}
