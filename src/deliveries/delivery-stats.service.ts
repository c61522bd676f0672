import { Injectable } from '@nestjs/common';
import { DeliveryStatsRepository, type EndpointWindowRow } from './delivery-stats.repository.js';

export type { EndpointWindowRow } from './delivery-stats.repository.js';

/** What other modules (autoheal, anomalies, tenant analytics) may read of the delivery statistics. */
@Injectable()
export class DeliveryStats {
  constructor(private readonly stats: DeliveryStatsRepository) {}

  /** Per endpoint, the 5-minute buckets that start after `since`, summed. */
  endpointWindows(since: Date): Promise<EndpointWindowRow[]> {
    return this.stats.endpointWindows(since);
  }
}
