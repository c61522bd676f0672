import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { Clock } from '../common/time/clock.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import { describeActor } from '../events/actor.js';
import { AuditService } from '../events/audit.service.js';
import type { Actor } from '../events/event.types.js';
import { EventsService } from '../events/events.service.js';
import type { AnomalyStatus } from './anomaly-lifecycle.js';
import type { AnomalyKind } from './anomaly-signals.js';
import { AnomalyRepository } from './anomaly.repository.js';
import { anomalyView } from './anomaly-view.js';
import type { AnomalyListView, AnomalyQueryDto, AnomalyView, TriageAnomalyDto } from './dto/anomaly.dto.js';

/** Anomalies as operators see them: listed and read within tenant scope, triaged with a note, audited. */
@Injectable()
export class AnomaliesService {
  constructor(
    private readonly anomalies: AnomalyRepository,
    private readonly runner: TransactionRunner,
    private readonly audit: AuditService,
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  async current(query: AnomalyQueryDto, scope: TenantScope): Promise<AnomalyListView> {
    const rows = await this.anomalies.list(
      {
        tenantId: scope.filter(query.tenant_id),
        kinds: query.kind as AnomalyKind[] | undefined,
        // `?status=` (an empty list) is no filter, as for kind: the default, not `IN ()`.
        statuses: (query.status?.length ? query.status : ['open', 'triaged']) as AnomalyStatus[],
      },
      query.limit,
    );
    return { items: rows.map(anomalyView) };
  }

  async get(id: string, scope: TenantScope): Promise<AnomalyView> {
    const row = await this.anomalies.findById(id);
    if (!row || !scope.canSee(row.tenant_id)) throw new NotFoundException('Anomaly not found');
    return anomalyView(row);
  }

  /** Open or triaged → triaged with the note; a resolved one is a 409. Refusals are audited too. */
  async triage(id: string, input: TriageAnomalyDto, scope: TenantScope, actor: Actor): Promise<AnomalyView> {
    const outcome = await this.runner.run(async (tx) => {
      const row = await this.anomalies.findForUpdate(tx, id);
      if (!row || !scope.canSee(row.tenant_id)) return { notFound: true as const };
      const now = this.clock.now();
      const set = {
        status: 'triaged' as const,
        triage_note: input.note,
        assignee: input.assignee ?? row.assignee,
        triaged_by: describeActor(actor),
        triaged_at: now,
        updated_at: now,
      };
      const changed = row.status !== 'resolved' && (await this.anomalies.updateUnlessResolved(tx, id, set));
      await this.audit.record(tx, {
        actor,
        action: 'anomaly.triage',
        target: { type: 'anomaly', id },
        tenantId: row.tenant_id,
        result: changed ? 'success' : 'noop',
        reason: changed ? null : 'Anomaly is already resolved',
        details: { note: input.note, assignee: set.assignee, previous_status: row.status },
      });
      if (!changed) return { conflict: 'Anomaly is already resolved; a recurrence reopens it' };
      const view = anomalyView({ ...row, ...set });
      await this.events.publish(tx, {
        type: 'anomaly.triaged',
        severity: 'info',
        tenantId: row.tenant_id,
        subject: { type: 'anomaly', id },
        actor,
        data: { ...view },
      });
      return { view };
    });
    if ('notFound' in outcome) throw new NotFoundException('Anomaly not found');
    if ('conflict' in outcome) throw new ConflictException(outcome.conflict);
    return outcome.view;
  }

  /** Open and triaged anomalies per tenant, for tenant analytics. */
  activeByTenant(tenantId?: string): Promise<Map<string, number>> {
    return this.anomalies.activeByTenant(tenantId);
  }
}
