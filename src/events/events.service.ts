import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { Clock } from '../common/time/clock.js';
import type { Tx } from '../database/transaction-runner.js';
import { METRIC } from '../observability/metric-names.js';
import { isAuditType, linkHash } from './audit-chain.js';
import { EventRelay } from './event-relay.js';
import { EventRepository } from './event.repository.js';
import type { NewEvent, StoredEvent } from './event.types.js';

/**
 * The outbox: modules publish events inside their own transaction, so an event exists exactly
 * when the change it describes committed. Once committed it is counted and relayed to streams.
 */
@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventRepository,
    private readonly relay: EventRelay,
    private readonly clock: Clock,
    @InjectMetric(METRIC.eventsTotal) private readonly published: Counter<'event_type' | 'severity'>,
  ) {}

  /** Call it last in the transaction: on PostgreSQL it serializes event writers until commit. */
  async publish(tx: Tx, input: NewEvent): Promise<StoredEvent> {
    await this.events.lockForWrite(tx);
    const stored: StoredEvent = {
      id: 0,
      type: input.type,
      severity: input.severity ?? 'info',
      tenant_id: input.tenantId ?? null,
      subject: input.subject ?? null,
      actor: input.actor,
      data: input.data ?? {},
      created_at: this.clock.now().toISOString(),
      prev_hash: null,
      hash: null,
    };
    stored.id = await this.events.insert(tx, { ...stored, created_at: new Date(stored.created_at) });
    if (isAuditType(stored.type)) {
      const { head_hash: prevHash } = await this.events.state(tx.manager);
      stored.prev_hash = prevHash;
      stored.hash = linkHash(prevHash, stored);
      await this.events.setHash(tx, stored.id, stored.prev_hash, stored.hash);
    }
    await this.events.notify(tx, stored.id);
    tx.afterCommit(() => {
      this.published.inc({ event_type: stored.type, severity: stored.severity });
      this.relay.poke();
    });
    return stored;
  }
}
