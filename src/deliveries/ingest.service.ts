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
import type { SubmitBatchDto, SubmitDeliveryDto } from './dto/delivery-inputs.dto.js';
import type { BatchResultView, DeliveryView } from './dto/delivery-views.dto.js';
import { EndpointsService } from './endpoints.service.js';
import { deliveryView } from './views.js';

const IDEMPOTENCY_WINDOW_MS = 86_400_000;

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
    @InjectMetric(DELIVERY_METRIC.deliveries) private readonly deliveriesTotal: Counter<'status'>,
  ) {}

  async submit(input: SubmitDeliveryDto, scope: TenantScope): Promise<{ view: DeliveryView; created: boolean }> {
    const [item] = this.prepare([input], scope);
    const { delivery, created } = await this.runner.run(async (tx) => {
      const stored = await this.store(tx, item);
      tx.afterCommit(() => {
        if (stored.created) this.deliveriesTotal.inc({ status: 'pending' });
        this.dispatcher.poke();
      });
      return stored;
    });
    return { view: deliveryView(delivery), created };
  }

  /** All or nothing: one transaction for the whole batch. */
  async submitBatch(input: SubmitBatchDto, scope: TenantScope): Promise<BatchResultView> {
    const items = this.prepare(input.items, scope);
    const stored = await this.runner.run(async (tx) => {
      const results: { delivery: DeliveryEntity; created: boolean }[] = [];
      for (const item of items) results.push(await this.store(tx, item));
      tx.afterCommit(() => {
        this.deliveriesTotal.inc({ status: 'pending' }, results.filter((r) => r.created).length);
        this.dispatcher.poke();
      });
      return results;
    });
    const duplicates = stored.filter((s) => !s.created).length;
    return {
      items: stored.map((s, index) => ({ index, id: s.delivery.id, duplicate: !s.created })),
      accepted: stored.length - duplicates,
      duplicates,
    };
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

  private async store(
    tx: Tx,
    { input, body, bytes }: Prepared,
  ): Promise<{ delivery: DeliveryEntity; created: boolean }> {
    const now = this.clock.now();
    if (input.idempotency_key) {
      const earlier = await this.deliveries.findByIdempotencyKey(tx.manager, input.tenant_id, input.idempotency_key);
      if (earlier && now.getTime() - new Date(earlier.created_at).getTime() < IDEMPOTENCY_WINDOW_MS) {
        return { delivery: earlier, created: false };
      }
      if (earlier) await this.deliveries.releaseIdempotencyKey(tx.manager, earlier.id);
    }
    const { endpoint } = await this.endpoints.ensure(tx.manager, input.tenant_id, input.endpoint_url);
    const delivery = Object.assign(new DeliveryEntity(), {
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
    await this.deliveries.insert(tx.manager, delivery);
    return { delivery, created: true };
  }
}
