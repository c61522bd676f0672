import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { decodeKeyset, encodeKeyset } from '../common/pagination/cursor.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { HistoryQueryDto } from './dto/history-query.dto.js';
import type { DeliveryDetailView, HistoryPageView } from './dto/delivery-views.dto.js';
import { deliveryDetailView, deliveryView } from './views.js';

/** `GET /alerts/deliveries/history` and one delivery's detail. */
@Injectable()
export class DeliveryHistoryService {
  constructor(private readonly deliveries: DeliveryRepository) {}

  async history(scope: TenantScope, query: HistoryQueryDto): Promise<HistoryPageView> {
    const start = query.start_time ? new Date(query.start_time) : undefined;
    const end = query.end_time ? new Date(query.end_time) : undefined;
    if (start && end && start > end) throw new BadRequestException('start_time must not be after end_time');
    if (query.cursor !== undefined && query.skip > 0) {
      throw new BadRequestException('Use either skip or cursor, not both');
    }
    const cursor = decodeKeyset(query.cursor);
    const rows = await this.deliveries.page(
      {
        tenantId: scope.filter(query.tenant_id),
        statuses: query.status,
        endpointUrl: query.endpoint_url,
        eventType: query.event_type,
        start,
        end,
      },
      query.limit + 1,
      query.skip,
      cursor,
    );
    const items = rows.slice(0, query.limit);
    const hasMore = rows.length > query.limit;
    const last = items[items.length - 1];
    return {
      items: items.map(deliveryView),
      limit: query.limit,
      skip: query.skip,
      next_cursor: hasMore && last ? encodeKeyset({ createdAt: new Date(last.created_at), id: last.id }) : null,
      has_more: hasMore,
    };
  }

  async get(id: string, scope: TenantScope): Promise<DeliveryDetailView> {
    const delivery = await this.deliveries.findById(id);
    if (!delivery || !scope.canSee(delivery.tenant_id)) throw new NotFoundException('Delivery not found');
    return deliveryDetailView(delivery, await this.deliveries.attemptsOf(id));
  }
}
