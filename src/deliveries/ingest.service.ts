import { Injectable, PayloadTooLargeException } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { randomUUID } from 'node:crypto';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner, type Tx } from '../database/transaction-runner.js';
import { DELIVERY_METRIC } from './deliveries.metrics.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';
import { DeliveryEntity } from './delivery.entity.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryStatsRepository, type ReceivedCount } from './delivery-stats.repository.js';
import type { SubmitBatchDto, SubmitDeliveryDto } from './dto/delivery-inputs.dto.js';
import type { BatchResultView, DeliveryView } from './dto/delivery-views.dto.js';
import type { EndpointEntity } from './endpoint.entity.js';
import { EndpointsService } from './endpoints.service.js';
import { deliveryView } from './views.js';

const IDEMPOTENCY_WINDOW_MS = 86_400_000;
const BUCKET_MS = 5 * 60_000;

interface Prepared {
  input: SubmitDeliveryDto;
  body: string;
  bytes: number;
}

/**
 * Accepts deliveries from producers: stored `pending` and due at once; the endpoint row is made
 * on first sight. An idempotency key repeated by the same tenant within 24 h returns the original.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly runner: TransactionRunner,
    private readonly deliveries: DeliveryRepository,
    private readonly endpoints: EndpointsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly stats: DeliveryStatsRepository,
    @InjectMetric(DELIVERY_METRIC.deliveries) private readonly deliveriesTotal: Counter<'status'>,
  ) {}

  async submit(input: SubmitDeliveryDto, scope: TenantScope): Promise<{ view: DeliveryView; created: boolean }> {
    const [stored] = await this.storeInTransaction(this.prepare([input], scope));
    return { view: deliveryView(stored.delivery), created: stored.created };
  }

  /** All or nothing: one transaction for the whole batch. */
  async submitBatch(input: SubmitBatchDto, scope: TenantScope): Promise<BatchResultView> {
    const stored = await this.storeInTransaction(this.prepare(input.items, scope));
    const duplicates = stored.filter((s) => !s.created).length;
    return {
      items: stored.map((s, index) => ({ index, id: s.delivery.id, duplicate: !s.created })),
      accepted: stored.length - duplicates,
      duplicates,
    };
  }

  /**
   * Stores the items in one transaction. Two requests racing with the same new idempotency key
   * collide on the unique index: the loser tries once more and then finds the winner's delivery.
   */
  private async storeInTransaction(items: Prepared[]): Promise<Stored[]> {
    const attempt = () =>
      this.runner.run(async (tx) => {
        const stored = await this.storeAll(tx, items);
        tx.afterCommit(() => {
          const created = stored.filter((s) => s.created).length;
          if (created) this.deliveriesTotal.inc({ status: 'pending' }, created);
          this.dispatcher.poke();
        });
        return stored;
      });
    try {
      return await attempt();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return attempt();
    }
  }

  /** Checks tenant scope and payload sizes before anything is written. */
  private prepare(inputs: SubmitDeliveryDto[], scope: TenantScope): Prepared[] {
    const max = this.config.DELIVERY_MAX_PAYLOAD_BYTES;
    const oversize: number[] = [];
    const prepared = inputs.map((input, index) => {
      scope.assertCanActFor(input.tenant_id);
      const body = JSON.stringify(input.payload);
      const bytes = Buffer.byteLength(body);
      if (bytes > max) oversize.push(index);
      return { input, body, bytes };
    });
    if (oversize.length) {
      const which = inputs.length > 1 ? ` (items ${oversize.join(', ')})` : '';
      throw new PayloadTooLargeException(`Payload exceeds DELIVERY_MAX_PAYLOAD_BYTES (${max} bytes)${which}`);
    }
    return prepared;
  }

  /** Set-wise: one query for the idempotency keys, two for the endpoints, one insert. */
  private async storeAll(tx: Tx, items: Prepared[]): Promise<Stored[]> {
    const now = this.clock.now();
    const keyOf = (i: Prepared) =>
      i.input.idempotency_key ? `${i.input.tenant_id}\n${i.input.idempotency_key}` : null;
    const keyed = items.filter((i) => i.input.idempotency_key);
    const earlier = await this.deliveries.findByIdempotencyKeys(
      tx.manager,
      [...new Set(keyed.map((i) => i.input.tenant_id))],
      [...new Set(keyed.map((i) => i.input.idempotency_key!))],
    );
    const byKey = new Map<string, DeliveryEntity>();
    const expired: string[] = [];
    for (const d of earlier) {
      if (now.getTime() - new Date(d.created_at).getTime() < IDEMPOTENCY_WINDOW_MS)
        byKey.set(`${d.tenant_id}\n${d.idempotency_key}`, d);
      else expired.push(d.id);
    }
    await this.deliveries.releaseIdempotencyKeys(tx.manager, expired);
    const fresh = items.filter((i) => !byKey.has(keyOf(i) ?? ''));
    const endpoints = fresh.length
      ? await this.endpoints.ensureMany(
          tx.manager,
          fresh.map((i) => ({ tenantId: i.input.tenant_id, url: i.input.endpoint_url })),
        )
      : new Map<string, EndpointEntity>();
    const results: Stored[] = [];
    const toInsert: DeliveryEntity[] = [];
    for (const item of items) {
      const key = keyOf(item);
      const original = key ? byKey.get(key) : undefined;
      if (original) {
        results.push({ delivery: original, created: false });
        continue;
      }
      const endpoint = endpoints.get(`${item.input.tenant_id}\n${item.input.endpoint_url}`)!;
      const delivery = this.newDelivery(item, endpoint, now);
      toInsert.push(delivery);
      if (key) byKey.set(key, delivery); // a key repeated within the batch is a duplicate too
      results.push({ delivery, created: true });
    }
    if (toInsert.length) {
      await this.deliveries.insert(tx.manager, toInsert);
      await this.stats.addReceived(tx, receivedCounts(toInsert, now));
    }
    return results;
  }

  private newDelivery({ input, body, bytes }: Prepared, endpoint: EndpointEntity, now: Date): DeliveryEntity {
    return Object.assign(new DeliveryEntity(), {
      id: randomUUID(),
      tenant_id: input.tenant_id,
      endpoint_id: endpoint.id,
      endpoint_url: endpoint.url,
      event_type: input.event_type,
      payload: body,
      payload_bytes: bytes,
      idempotency_key: input.idempotency_key ?? null,
      status: 'pending',
      attempt_count: 0,
      next_attempt_at: now,
      last_status_code: null,
      last_error_kind: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
      lease_owner: null,
      lease_expires_at: null,
      pending_trigger: null,
    } satisfies DeliveryEntity);
  }
}

interface Stored {
  delivery: DeliveryEntity;
  created: boolean;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** New deliveries per endpoint, for the volume in the 5-minute rollup. */
function receivedCounts(deliveries: DeliveryEntity[], now: Date): ReceivedCount[] {
  const bucketStart = new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS);
  const counts = new Map<string, ReceivedCount>();
  for (const d of deliveries) {
    const entry = counts.get(d.endpoint_id) ?? {
      bucketStart,
      tenantId: d.tenant_id,
      endpointId: d.endpoint_id,
      count: 0,
    };
    entry.count++;
    counts.set(d.endpoint_id, entry);
  }
  // In key order, so concurrent batches lock the rows in the same order.
  return [...counts.values()].sort((a, b) => (a.endpointId < b.endpointId ? -1 : 1));
}
