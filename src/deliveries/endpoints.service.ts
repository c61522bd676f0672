import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { decodeKeyset, encodeKeyset } from '../common/pagination/cursor.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { RegisterEndpointDto } from './dto/delivery-inputs.dto.js';
import type { EndpointPageView, EndpointView } from './dto/delivery-views.dto.js';
import { EndpointEntity } from './endpoint.entity.js';
import { EndpointRepository } from './endpoint.repository.js';
import { generateSigningSecret } from './signing-secret.js';
import { endpointView } from './views.js';

const DAY_MS = 86_400_000;

/** Endpoints: registered explicitly or on the first delivery to a (tenant, URL). */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly deliveries: DeliveryRepository,
    private readonly runner: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The endpoint for (tenant, url), created with a fresh (or the given) secret if it is new. */
  ensure(manager: EntityManager, tenantId: string, url: string, secret?: string) {
    return this.endpoints.insertIfAbsent(manager, this.newEndpoint(tenantId, url, this.clock.now(), secret));
  }

  /** Endpoints for many (tenant, url) pairs at once, keyed `tenant\nurl`; new ones are created. */
  async ensureMany(
    manager: EntityManager,
    pairs: { tenantId: string; url: string }[],
  ): Promise<Map<string, EndpointEntity>> {
    const now = this.clock.now();
    const unique = new Map(pairs.map((p) => [`${p.tenantId}\n${p.url}`, p]));
    const stored = await this.endpoints.insertManyIfAbsent(
      manager,
      [...unique.values()].map((p) => this.newEndpoint(p.tenantId, p.url, now)),
    );
    return new Map(stored.map((e) => [`${e.tenant_id}\n${e.url}`, e]));
  }

  private newEndpoint(tenantId: string, url: string, now: Date, secret?: string): EndpointEntity {
    return Object.assign(new EndpointEntity(), {
      id: randomUUID(),
      tenant_id: tenantId,
      url,
      state: 'active',
      paused_until: null,
      paused_by: null,
      disabled_reason: null,
      secret: secret ?? generateSigningSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      last_success_at: null,
      last_failure_at: null,
      consecutive_failures: 0,
      autoheal_paused: false,
      pause_s: null,
      pause_streak: 0,
      probe_lease_until: null,
      recovered_at: null,
      recovered_after_failures: 0,
      baseline_reset_at: null,
      created_at: now,
      updated_at: now,
    } satisfies EndpointEntity);
  }

  register(
    input: RegisterEndpointDto,
    scope: TenantScope,
    actor: Actor,
  ): Promise<{ view: EndpointView; created: boolean }> {
    scope.assertCanActFor(input.tenant_id);
    return this.runner.run(async (tx) => {
      const { endpoint, created } = await this.ensure(tx.manager, input.tenant_id, input.url, input.secret);
      if (!created && input.secret && input.secret !== endpoint.secret) {
        throw new ConflictException('Endpoint already registered with a different secret; use rotate_secret');
      }
      await this.audit.record(tx, {
        actor,
        action: 'endpoint.register',
        target: { type: 'endpoint', id: endpoint.id },
        tenantId: endpoint.tenant_id,
        result: created ? 'success' : 'noop',
        details: { url: endpoint.url },
      });
      const view = endpointView(endpoint);
      return { view: created ? { ...view, secret: endpoint.secret } : view, created };
    });
  }

  async list(
    scope: TenantScope,
    tenantId: string | undefined,
    limit: number,
    cursor?: string,
  ): Promise<EndpointPageView> {
    const rows = await this.endpoints.list(scope.filter(tenantId), limit + 1, decodeKeyset(cursor));
    const page = rows.slice(0, limit);
    const counts = await this.deliveries.countsSince(
      page.map((e) => e.id),
      new Date(this.clock.now().getTime() - DAY_MS),
    );
    const last = page[page.length - 1];
    return {
      items: page.map((e) => endpointView(e, counts.get(e.id))),
      next_cursor:
        rows.length > limit && last ? encodeKeyset({ createdAt: new Date(last.created_at), id: last.id }) : null,
    };
  }

  async get(id: string, scope: TenantScope): Promise<EndpointView> {
    const endpoint = await this.endpoints.findById(id);
    if (!endpoint || !scope.canSee(endpoint.tenant_id)) throw new NotFoundException('Endpoint not found');
    const counts = await this.deliveries.countsSince([id], new Date(this.clock.now().getTime() - DAY_MS));
    return endpointView(endpoint, counts.get(id));
  }
}
