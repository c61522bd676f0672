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

  /** Transactions that hold the write lock and have queued their NOTIFY. */
  private readonly prepared = new WeakSet<Tx>();

  /** Call it last in the transaction: on PostgreSQL it serializes event writers until commit. */
  async publish(tx: Tx, input: NewEvent): Promise<StoredEvent> {
    if (isAuditType(input.type)) return this.publishOne(tx, input);
    const [stored] = await this.publishMany(tx, [input]);
    return stored;
  }

  /**
   * Several events of one transaction with one multi-row insert (audit events, which are chained
   * one by one, go through `publish`). Same guarantees as `publish`.
   */
  async publishMany(tx: Tx, inputs: NewEvent[]): Promise<StoredEvent[]> {
    const audit = inputs.filter((i) => isAuditType(i.type));
    const plain = inputs.filter((i) => !isAuditType(i.type));
    const out: StoredEvent[] = [];
    for (const input of audit) out.push(await this.publishOne(tx, input));
    if (!plain.length) return out;
    await this.prepare(tx, 'lock');
    const rows = plain.map((input) => this.toStored(input));
    const ids = await this.events.insertMany(
      tx,
      rows.map((r) => ({ ...r, created_at: new Date(r.created_at) })),
    );
    rows.forEach((r, i) => (r.id = ids[i]));
    await this.prepare(tx, 'notify', ids[0]);
    tx.afterCommit(() => {
      for (const r of rows) this.published.inc({ event_type: r.type, severity: r.severity });
      this.relay.poke();
    });
    return [...out, ...rows];
  }

  /**
   * The write lock is taken once per transaction, and one NOTIFY per transaction is enough:
   * listeners read every row they have not seen, whatever id the notification carries.
   */
  private async prepare(tx: Tx, step: 'lock' | 'notify', id?: number): Promise<void> {
    if (step === 'lock') {
      if (!this.prepared.has(tx)) await this.events.lockForWrite(tx);
      return;
    }
    if (this.prepared.has(tx)) return;
    this.prepared.add(tx);
    await this.events.notify(tx, id!);
  }

  private toStored(input: NewEvent): StoredEvent {
    return {
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
  }

  private async publishOne(tx: Tx, input: NewEvent): Promise<StoredEvent> {
    await this.prepare(tx, 'lock');
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
    await this.prepare(tx, 'notify', stored.id);
    tx.afterCommit(() => {
      this.published.inc({ event_type: stored.type, severity: stored.severity });
      this.relay.poke();
    });
    return stored;
  }
}
