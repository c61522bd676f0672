import { Injectable } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository.js';
import {
  DeliveryStatsRepository,
  type EndpointWindowRow,
  type TenantBucketRow,
  type TenantTotalsRow,
  type TimeRange,
} from './delivery-stats.repository.js';
import { EndpointRepository } from './endpoint.repository.js';

export type { EndpointWindowRow, TenantBucketRow, TenantTotalsRow, TimeRange } from './delivery-stats.repository.js';

/** What a tenant has right now: endpoints, paused ones, and deliveries still pending. */
export interface TenantInventory {
  endpoints: number;
  paused_endpoints: number;
  pending: number;
}

/** What other modules (autoheal, anomalies, tenant analytics) may read of the delivery statistics. */
@Injectable()
export class DeliveryStats {
  constructor(
    private readonly stats: DeliveryStatsRepository,
    private readonly endpoints: EndpointRepository,
    private readonly deliveries: DeliveryRepository,
  ) {}

  /** Per endpoint, the 5-minute buckets that start after `since`, summed. */
  endpointWindows(since: Date): Promise<EndpointWindowRow[]> {
    return this.stats.endpointWindows(since);
  }

  /** Per tenant and 5-minute bucket inside any of `ranges`, summed over its endpoints. */
  tenantBuckets(ranges: TimeRange[], tenantIds?: string[]): Promise<TenantBucketRow[]> {
    return this.stats.tenantBuckets(ranges, tenantIds);
  }

  /** Per tenant, its earliest bucket at or after `since` (how much history it has). */
  tenantsFirstSeen(since: Date): Promise<Map<string, Date>> {
    return this.stats.tenantsFirstSeen(since);
  }

  /** Per tenant, the sums of the buckets since `since`. */
  tenantTotals(since: Date, tenantId?: string): Promise<TenantTotalsRow[]> {
    return this.stats.tenantTotals(since, tenantId);
  }

  /** Every tenant with an endpoint (or just `tenantId`), with its endpoint and pending counts. */
  async tenantInventory(tenantId?: string): Promise<Map<string, TenantInventory>> {
    const [endpoints, pending] = await Promise.all([
      this.endpoints.countsByTenant(tenantId),
      this.deliveries.pendingByTenant(tenantId),
    ]);
    return new Map(
      [...endpoints].map(([tenant, e]) => [
        tenant,
        { endpoints: e.endpoints, paused_endpoints: e.paused, pending: pending.get(tenant) ?? 0 },
      ]),
    );
  }
}
