import { Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { AnomaliesService } from '../anomalies/anomalies.service.js';
import { interpolatedQuantile } from '../deliveries/delivery-latency.js';
import { DeliveryStats, type TenantBucketRow, type TenantTotalsRow } from '../deliveries/delivery-stats.service.js';
import type {
  AnalyticsWindow,
  SeriesPointView,
  SeriesSignal,
  SummaryView,
  TenantSummaryView,
  TimeseriesView,
} from './dto/tenant-analytics.dto.js';
import { APDEX_WEIGHT, healthScore, SLO_WEIGHT } from './health-score.js';

const BUCKET_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
const WINDOW_MS: Record<AnalyticsWindow, number> = { '1h': HOUR_MS, '24h': 24 * HOUR_MS, '7d': 7 * 24 * HOUR_MS };

const EMPTY_TOTALS = {
  received: 0,
  attempts: 0,
  failures: 0,
  delivered: 0,
  exhausted: 0,
  apdex_satisfied: 0,
  apdex_tolerating: 0,
  latency: [] as number[],
};

/** Tenant health at a glance: scores from the rollups, with the tenant's endpoints, queue and anomalies. */
@Injectable()
export class TenantAnalyticsService {
  constructor(
    private readonly stats: DeliveryStats,
    private readonly anomalies: AnomaliesService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** One row per tenant (within scope), worst score first, tenants without a score last. */
  async summary(window: AnalyticsWindow, scope: TenantScope, requested?: string): Promise<SummaryView> {
    const since = windowStart(this.clock.now(), window);
    const tenant = scope.filter(requested);
    const [totals, inventory, anomalies] = await Promise.all([
      this.stats.tenantTotals(since, tenant),
      this.stats.tenantInventory(tenant),
      this.anomalies.activeByTenant(tenant),
    ]);
    const byTenant = new Map(totals.map((t) => [t.tenant_id, t]));
    const ids = [...new Set([...inventory.keys(), ...byTenant.keys()])];
    const items = ids.map((id) => this.row(id, byTenant.get(id), inventory.get(id), anomalies.get(id) ?? 0));
    items.sort(
      (a, b) => (a.health_score ?? Infinity) - (b.health_score ?? Infinity) || (a.tenant_id < b.tenant_id ? -1 : 1),
    );
    return { window, since: since.toISOString(), items };
  }

  /** Every bucket of the window for one signal: 5-minute buckets for 1h and 24h, hourly for 7d. */
  async timeseries(
    tenantId: string,
    signal: SeriesSignal,
    window: AnalyticsWindow,
    scope: TenantScope,
  ): Promise<TimeseriesView> {
    const inventory = scope.canSee(tenantId) ? await this.stats.tenantInventory(tenantId) : new Map();
    if (!inventory.has(tenantId)) throw new NotFoundException('Tenant not found');
    const now = this.clock.now();
    const stepMs = window === '7d' ? HOUR_MS : BUCKET_MS;
    const from = Math.floor((now.getTime() - WINDOW_MS[window]) / stepMs) * stepMs + stepMs;
    const to = Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
    const rows = await this.stats.tenantBuckets([{ from: new Date(from), to: new Date(to) }], [tenantId]);
    const steps = new Map<number, TenantBucketRow[]>();
    for (const r of rows) {
      const at = Math.floor(r.bucket_ms / stepMs) * stepMs;
      steps.set(at, [...(steps.get(at) ?? []), r]);
    }
    const points: SeriesPointView[] = [];
    for (let at = from; at < to; at += stepMs) {
      points.push(this.point(at, signal, steps.get(at) ?? []));
    }
    return { tenant_id: tenantId, signal, window, bucket_s: stepMs / 1000, points };
  }

  private row(
    tenantId: string,
    totals: TenantTotalsRow | undefined,
    inventory: { endpoints: number; paused_endpoints: number; pending: number } | undefined,
    openAnomalies: number,
  ): TenantSummaryView {
    const t = totals ?? { ...EMPTY_TOTALS, tenant_id: tenantId };
    const score = healthScore(t, this.config.TENANT_SLO_TARGET);
    return {
      tenant_id: tenantId,
      health_score: score.health_score,
      status: score.status,
      success_rate: score.success_rate,
      p95_latency_ms: roundOrNull(interpolatedQuantile(t.latency, 0.95, this.config.DELIVERY_TIMEOUT_MS)),
      deliveries: t.delivered + t.exhausted,
      failed: t.exhausted,
      pending: inventory?.pending ?? 0,
      received: t.received,
      attempts: t.attempts,
      open_anomalies: openAnomalies,
      paused_endpoints: inventory?.paused_endpoints ?? 0,
      endpoints: inventory?.endpoints ?? 0,
      components: {
        slo_attainment: score.slo_attainment,
        apdex: score.apdex,
        slo_target: this.config.TENANT_SLO_TARGET,
        apdex_t_ms: this.config.APDEX_T_MS,
        slo_weight: SLO_WEIGHT,
        apdex_weight: APDEX_WEIGHT,
      },
    };
  }

  private point(at: number, signal: SeriesSignal, rows: TenantBucketRow[]): SeriesPointView {
    const sum = (f: (r: TenantBucketRow) => number) => rows.reduce((a, r) => a + f(r), 0);
    const attempts = sum((r) => r.attempts);
    const received = sum((r) => r.received);
    const finished = sum((r) => r.delivered + r.exhausted);
    let value: number | null;
    switch (signal) {
      case 'volume':
        value = received;
        break;
      case 'attempts':
        value = attempts;
        break;
      case 'failure_ratio':
        value = attempts ? sum((r) => r.failures) / attempts : null;
        break;
      case 'success_rate':
        value = finished ? sum((r) => r.delivered) / finished : null;
        break;
      case 'p95_latency_ms': {
        const histogram = rows.length ? rows[0].latency.map((_, i) => sum((r) => r.latency[i])) : [];
        value = roundOrNull(interpolatedQuantile(histogram, 0.95, this.config.DELIVERY_TIMEOUT_MS));
        break;
      }
    }
    return { bucket_start: new Date(at).toISOString(), value, attempts, received };
  }
}

/** The first 5-minute bucket of a window ending now (the current bucket is the last one). */
function windowStart(now: Date, window: AnalyticsWindow): Date {
  return new Date(Math.floor((now.getTime() - WINDOW_MS[window]) / BUCKET_MS) * BUCKET_MS + BUCKET_MS);
}

function roundOrNull(v: number | null): number | null {
  return v === null ? null : Math.round(v);
}
