import { Injectable } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { AuditService } from './audit.service.js';
import type { AnnotationDto } from './dto/event-queries.dto.js';
import type { Actor, StoredEvent } from './event.types.js';
import { EventsService } from './events.service.js';

/** Operators mark the timeline ("failing over the EU receiver"); streams and history show it. */
@Injectable()
export class AnnotationService {
  constructor(
    private readonly runner: TransactionRunner,
    private readonly events: EventsService,
    private readonly audit: AuditService,
  ) {}

  create(input: AnnotationDto, scope: TenantScope, actor: Actor): Promise<StoredEvent> {
    if (input.tenant_id) scope.assertCanActFor(input.tenant_id);
    const tenantId = input.tenant_id ?? scope.tenantId;
    return this.runner.run(async (tx) => {
      const event = await this.events.publish(tx, {
        type: 'operator.annotation',
        severity: input.severity ?? 'info',
        tenantId,
        actor,
        data: { message: input.message },
      });
      await this.audit.record(tx, {
        actor,
        action: 'annotation.create',
        target: { type: 'event', id: String(event.id) },
        tenantId,
        result: 'success',
      });
      return event;
    });
  }
}
