import { BadRequestException, Injectable } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor.js';
import type { AuditQueryDto } from './dto/event-queries.dto.js';
import type { EventPageDto } from './dto/event.dto.js';
import { EventRepository } from './event.repository.js';

/** `GET /events/audit`: the retained history, newest first, keyset-paged. */
@Injectable()
export class EventHistoryService {
  constructor(private readonly events: EventRepository) {}

  async list(scope: TenantScope, query: AuditQueryDto): Promise<EventPageDto> {
    const since = query.since ? new Date(query.since) : undefined;
    const until = query.until ? new Date(query.until) : undefined;
    if (since && until && since > until) throw new BadRequestException('since must not be after until');
    const filter = {
      types: query.type,
      tenantId: scope.filter(query.tenant_id),
      actorRole: query.actor_role,
      since,
      until,
    };
    const rows = await this.events.findPage(filter, decodeCursor(query.cursor), query.limit + 1);
    const items = rows.slice(0, query.limit);
    const more = rows.length > query.limit;
    return { items, next_cursor: more ? encodeCursor(items[items.length - 1].id) : null };
  }
}
