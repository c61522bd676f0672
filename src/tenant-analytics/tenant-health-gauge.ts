import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectMetric, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { TenantScope } from '../common/auth/tenant-scope.js';
import { PeriodicTask } from '../common/lifecycle/periodic-task.js';
import { AppConfig } from '../config/app-config.js';
import { TenantAnalyticsService } from './tenant-analytics.service.js';

export const TENANT_HEALTH_METRIC = 'command_center_tenant_health_score';

export const tenantAnalyticsMetrics = [
  makeGaugeProvider({
    name: TENANT_HEALTH_METRIC,
    help: 'Tenant health score (0-100) over the last 24 h, for the METRICS_MAX_TENANTS worst-scoring tenants',
    labelNames: ['tenant_id'],
  }),
];

/**
 * Refreshes command_center_tenant_health_score every ANOMALY_INTERVAL_S: only the worst
 * METRICS_MAX_TENANTS scored tenants, so a platform with many tenants does not explode the
 * metric's cardinality (the full list is GET /tenant_analytics/summary).
 */
@Injectable()
export class TenantHealthGauge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TenantHealthGauge.name);
  private readonly task: PeriodicTask<void>;

  constructor(
    private readonly analytics: TenantAnalyticsService,
    private readonly config: AppConfig,
    @InjectMetric(TENANT_HEALTH_METRIC) private readonly gauge: Gauge<'tenant_id'>,
  ) {
    this.task = new PeriodicTask(
      'tenant health gauge',
      config.ANOMALY_INTERVAL_S * 1000,
      () => this.refresh(),
      undefined,
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
    void this.task.runNow();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  refreshNow(): Promise<void> {
    return this.task.runNow();
  }

  private async refresh(): Promise<void> {
    const { items } = await this.analytics.summary('24h', TenantScope.unscoped());
    const worst = items.filter((t) => t.health_score !== null).slice(0, this.config.METRICS_MAX_TENANTS);
    this.gauge.reset();
    for (const t of worst) this.gauge.set({ tenant_id: t.tenant_id }, t.health_score!);
  }
}
