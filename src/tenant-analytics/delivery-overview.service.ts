import { Injectable } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { DeliveryStats } from '../deliveries/delivery-stats.service.js';
import type { OverviewPointView, OverviewView } from './dto/tenant-analytics.dto.js';

const BUCKET_MS = 5 * 60_000;
const POINTS = 12;

/** The last hour of every tenant in scope at once, bucket by bucket: the dashboard's overview. */
@Injectable()
export class DeliveryOverviewService {
  constructor(
    private readonly stats: DeliveryStats,
    private readonly clock: Clock,
  ) {}

  async lastHour(scope: TenantScope): Promise<OverviewView> {
    const tenant = scope.filter(undefined);
    const current = Math.floor(this.clock.now().getTime() / BUCKET_MS) * BUCKET_MS;
    const from = current - (POINTS - 1) * BUCKET_MS;
    const [rows, inventory] = await Promise.all([
      this.stats.tenantBuckets(
        [{ from: new Date(from), to: new Date(current + BUCKET_MS) }],
        tenant === undefined ? undefined : [tenant],
      ),
      this.stats.tenantInventory(tenant),
    ]);
    const points = new Map<number, OverviewPointView>();
    for (let at = from; at <= current; at += BUCKET_MS) {
      points.set(at, {
        bucket_start: new Date(at).toISOString(),
        received: 0,
        delivered: 0,
        failed: 0,
        attempts: 0,
        failures: 0,
      });
    }
    for (const r of rows) {
      const p = points.get(r.bucket_ms);
      if (!p) continue;
      p.received += r.received;
      p.delivered += r.delivered;
      p.failed += r.exhausted;
      p.attempts += r.attempts;
      p.failures += r.failures;
    }
    const tenants = [...inventory.values()];
    return {
      window: '1h',
      bucket_s: BUCKET_MS / 1000,
      points: [...points.values()],
      pending: tenants.reduce((a, t) => a + t.pending, 0),
      tenants: inventory.size,
      paused_endpoints: tenants.reduce((a, t) => a + t.paused_endpoints, 0),
    };
  }
}
