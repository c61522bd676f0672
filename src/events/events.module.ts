import { Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ACCESS_DENIED_RECORDER } from '../common/auth/access-denied.js';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { AnnotationService } from './annotation.service.js';
import { AuditVerifier } from './audit-verifier.js';
import { AuditService } from './audit.service.js';
import { EventHistoryService } from './event-history.service.js';
import { EventRelay } from './event-relay.js';
import { EventRetentionService } from './event-retention.service.js';
import { EventStreamService } from './event-stream.service.js';
import { EventEntity, EventStoreStateEntity } from './event.entity.js';
import { EventRepository } from './event.repository.js';
import { EventsController } from './events.controller.js';
import { eventsMetrics } from './events.metrics.js';
import { EventsService } from './events.service.js';
import { PgEventListener } from './pg-event-listener.js';

/**
 * The event store (outbox), its relay to live streams (and across replicas on PostgreSQL), the
 * SSE stream, the event history and the hash-chained audit trail. Other modules publish through
 * EventsService and record actions through AuditService, inside their own transactions.
 */
@Module({
  imports: [TypeOrmModule.forFeature([EventEntity, EventStoreStateEntity])],
  controllers: [EventsController],
  providers: [
    ...eventsMetrics,
    EventRepository,
    EventRelay,
    PgEventListener,
    EventsService,
    AuditService,
    AuditVerifier,
    EventHistoryService,
    EventStreamService,
    EventRetentionService,
    AnnotationService,
    { provide: ACCESS_DENIED_RECORDER, useExisting: AuditService },
  ],
  exports: [EventsService, AuditService, EventRelay, ACCESS_DENIED_RECORDER],
})
export class EventsModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('event_stream');
    this.features.enable('audit_trail');
  }
}
