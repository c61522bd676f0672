import { Module, OnModuleInit } from '@nestjs/common';
import { AnomaliesModule } from '../anomalies/anomalies.module.js';
import { FeatureRegistry } from '../common/features/feature-registry.js';
import { DeliveriesModule } from '../deliveries/deliveries.module.js';
import { DeliveryOverviewService } from './delivery-overview.service.js';
import { TenantAnalyticsController } from './tenant-analytics.controller.js';
import { TenantAnalyticsService } from './tenant-analytics.service.js';
import { TenantHealthGauge, tenantAnalyticsMetrics } from './tenant-health-gauge.js';

/** Per-tenant health scores and time series, read from the delivery rollups and open anomalies. */
@Module({
  imports: [DeliveriesModule, AnomaliesModule],
  controllers: [TenantAnalyticsController],
  providers: [...tenantAnalyticsMetrics, TenantAnalyticsService, DeliveryOverviewService, TenantHealthGauge],
})
export class TenantAnalyticsModule implements OnModuleInit {
  constructor(private readonly features: FeatureRegistry) {}

  onModuleInit(): void {
    this.features.enable('tenant_analytics');
  }
}
