import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './common/auth/auth.module.js';
import { RolesGuard } from './common/auth/roles.guard.js';
import { CommonModule } from './common/common.module.js';
import { HttpExceptionFilter } from './common/errors/http-exception.filter.js';
import { JsonBodyParser } from './common/http/json-body-parser.js';
import { CallerThrottlerGuard } from './common/http/throttler.guard.js';
import { ThrottlingModule } from './common/http/throttling.module.js';
import { createValidationPipe } from './common/validation/validation.pipe.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { AnomaliesModule } from './anomalies/anomalies.module.js';
import { AutohealModule } from './autoheal/autoheal.module.js';
import { DeliveriesModule } from './deliveries/deliveries.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { LoggingModule } from './observability/logging.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { TenantAnalyticsModule } from './tenant-analytics/tenant-analytics.module.js';
import { UiModule } from './ui/ui.module.js';

/** The composition root. Guards run in order: rate limit first, then roles. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule,
    ObservabilityModule,
    CommonModule,
    AuthModule,
    ThrottlingModule,
    DatabaseModule,
    HealthModule,
    EventsModule,
    DeliveriesModule,
    AutohealModule,
    AnomaliesModule,
    TenantAnalyticsModule,
    UiModule,
  ],
  providers: [
    JsonBodyParser,
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_GUARD, useClass: CallerThrottlerGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
})
export class AppModule {}
