import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import type { Tx } from '../database/transaction-runner.js';
import { EventEntity, EventStoreStateEntity } from './event.entity.js';
import { severitiesAtLeast, type EventFilter } from './event-filter.js';
import type { Actor, Severity, StoredEvent } from './event.types.js';

/** Serializes event writers on PostgreSQL so ids commit in order and the audit chain stays linear. */
const EVENT_WRITE_LOCK = 7_362_001;
export const EVENT_CHANNEL = 'command_center_events';

/** A new event as written: the store assigns the id; audit links are added after the insert. */
export type EventRow = Omit<StoredEvent, 'id' | 'created_at' | 'prev_hash' | 'hash'> & { created_at: Date };

/** The only place that queries the `events` and `event_store_state` tables. */
@Injectable()
export class EventRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Held until the transaction ends. SQLite transactions are already one at a time. */
  async lockForWrite(tx: Tx): Promise<void> {
    if (tx.dialect === 'postgres') await tx.manager.query('SELECT pg_advisory_xact_lock($1)', [EVENT_WRITE_LOCK]);
  }

  async insert(tx: Tx, row: EventRow): Promise<number> {
    const result = await tx.manager.insert(EventEntity, toColumns(row));
    return Number((result.identifiers[0] as { id: number | string }).id);
  }

  /** Ids in the order of `rows`. */
  async insertMany(tx: Tx, rows: EventRow[]): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      if (tx.dialect === 'sqlite') {
        // better-sqlite3 reports only the last rowid of a multi-row insert.
        for (const row of chunk) ids.push(await this.insert(tx, row));
        continue;
      }
      const result = await tx.manager.insert(EventEntity, chunk.map(toColumns));
      ids.push(...result.identifiers.map((x) => Number((x as { id: number | string }).id)));
    }
    return ids;
  }

  async setHash(tx: Tx, id: number, prevHash: string | null, hash: string): Promise<void> {
    await tx.manager.update(EventEntity, { id }, { prev_hash: prevHash, hash });
    await tx.manager.update(EventStoreStateEntity, { id: 1 }, { head_id: id, head_hash: hash });
  }

  /** Delivered to every listening replica when (and only if) the transaction commits. */
  async notify(tx: Tx, id: number): Promise<void> {
    if (tx.dialect === 'postgres') await tx.manager.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, String(id)]);
  }

  async state(manager: EntityManager = this.dataSource.manager): Promise<EventStoreStateEntity> {
    return manager.findOneByOrFail(EventStoreStateEntity, { id: 1 });
  }

  async maxId(manager: EntityManager = this.dataSource.manager): Promise<number> {
    const row = await manager
      .createQueryBuilder(EventEntity, 'e')
      .select('MAX(e.id)', 'max')
      .getRawOne<{ max: string | number | null }>();
    return Number(row?.max ?? 0);
  }

  async findById(id: number): Promise<StoredEvent | null> {
    const row = await this.dataSource.manager.findOneBy(EventEntity, { id });
    return row ? toStored(row) : null;
  }

  /** Events after `afterId` in id order, optionally filtered: the relay and stream replay. */
  async findAfter(
    manager: EntityManager,
    afterId: number,
    limit: number,
    filter: EventFilter = {},
  ): Promise<StoredEvent[]> {
    const qb = this.filtered(manager, filter)
      .andWhere('e.id > :afterId', { afterId })
      .orderBy('e.id', 'ASC')
      .limit(limit);
    return (await qb.getMany()).map(toStored);
  }

  /** Newest first, keyset-paged on id. */
  async findPage(filter: EventFilter, beforeId: number | undefined, limit: number): Promise<StoredEvent[]> {
    const qb = this.filtered(this.dataSource.manager, filter).orderBy('e.id', 'DESC').limit(limit);
    if (beforeId !== undefined) qb.andWhere('e.id < :beforeId', { beforeId });
    return (await qb.getMany()).map(toStored);
  }

  /** Audit links after `afterId`, in chain order. */
  async chainAfter(manager: EntityManager, afterId: number, limit: number): Promise<StoredEvent[]> {
    const rows = await manager
      .createQueryBuilder(EventEntity, 'e')
      .where('e.hash IS NOT NULL')
      .andWhere('e.id > :afterId', { afterId })
      .orderBy('e.id', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map(toStored);
  }

  /**
   * The oldest events, in id order, up to the first one created at or after `cutoff`: purging
   * always removes a prefix of the store, so the audit chain's anchor stays exact.
   */
  async oldestBefore(tx: Tx, cutoff: Date, limit: number): Promise<{ id: number; hash: string | null }[]> {
    const rows = await tx.manager
      .createQueryBuilder(EventEntity, 'e')
      .select(['e.id', 'e.hash', 'e.created_at'])
      .orderBy('e.id', 'ASC')
      .limit(limit)
      .getMany();
    const prefix: { id: number; hash: string | null }[] = [];
    for (const row of rows) {
      if (new Date(row.created_at).getTime() >= cutoff.getTime()) break;
      prefix.push({ id: Number(row.id), hash: row.hash });
    }
    return prefix;
  }

  /** Deletes every event up to and including `lastId` (a prefix: see oldestBefore). */
  async deleteThrough(tx: Tx, lastId: number): Promise<void> {
    await tx.manager.createQueryBuilder().delete().from(EventEntity).where('id <= :lastId', { lastId }).execute();
  }

  async recordPurge(tx: Tx, purgedThroughId: number, anchor: { id: number; hash: string } | null): Promise<void> {
    const changes: Partial<EventStoreStateEntity> = { purged_through_id: purgedThroughId };
    if (anchor) Object.assign(changes, { anchor_id: anchor.id, anchor_hash: anchor.hash });
    await tx.manager.update(EventStoreStateEntity, { id: 1 }, changes);
  }

  private filtered(manager: EntityManager, filter: EventFilter): SelectQueryBuilder<EventEntity> {
    const qb = manager.createQueryBuilder(EventEntity, 'e').where('1 = 1');
    if (filter.tenantId !== undefined) qb.andWhere('e.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.minSeverity) qb.andWhere('e.severity IN (:...sev)', { sev: severitiesAtLeast(filter.minSeverity) });
    if (filter.actorRole) qb.andWhere('e.actor_roles LIKE :role', { role: `%,${filter.actorRole},%` });
    if (filter.since) qb.andWhere('e.created_at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('e.created_at <= :until', { until: filter.until });
    if (filter.types?.length) {
      const clauses = filter.types.map((t, i) => (t.endsWith('.*') ? `e.type LIKE :type${i}` : `e.type = :type${i}`));
      const params = Object.fromEntries(
        filter.types.map((t, i) => [`type${i}`, t.endsWith('.*') ? `${t.slice(0, -1)}%` : t]),
      );
      qb.andWhere(`(${clauses.join(' OR ')})`, params);
    }
    return qb;
  }
}

export function toStored(row: EventEntity): StoredEvent {
  return {
    id: Number(row.id),
    type: row.type,
    severity: row.severity as Severity,
    tenant_id: row.tenant_id,
    subject: row.subject_type && row.subject_id ? { type: row.subject_type, id: row.subject_id } : null,
    actor: row.actor as unknown as Actor,
    data: row.data,
    created_at: new Date(row.created_at).toISOString(),
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

function toColumns(row: EventRow) {
  return {
    type: row.type,
    severity: row.severity,
    tenant_id: row.tenant_id,
    subject_type: row.subject?.type ?? null,
    subject_id: row.subject?.id ?? null,
    actor_type: row.actor.type,
    actor_roles: row.actor.roles.length ? `,${row.actor.roles.join(',')},` : '',
    // simple-json columns: TypeORM's deep-partial typing cannot follow unknown-valued records.
    actor: row.actor as never,
    data: row.data as never,
    created_at: row.created_at,
    prev_hash: null,
    hash: null,
  };
}
