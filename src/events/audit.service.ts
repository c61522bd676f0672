import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AccessDeniedRecorder } from '../common/auth/access-denied.js';
import { TransactionRunner, type Tx } from '../database/transaction-runner.js';
import { actorFromRequest } from './actor.js';
import type { Actor, Severity, StoredEvent, Subject } from './event.types.js';
import { EventsService } from './events.service.js';

export type AuditResult = 'success' | 'denied' | 'noop' | 'error';

export interface AuditEntry {
  actor: Actor;
  /** `delivery.replay`, `cooldown.clear`, ...: the event type becomes `audit.<action>`. */
  action: string;
  target?: Subject | null;
  tenantId?: string | null;
  result: AuditResult;
  reason?: string | null;
  /** Extra facts; keys that look like secrets are dropped. */
  details?: Record<string, unknown>;
}

const SEVERITY: Record<AuditResult, Severity> = { success: 'info', noop: 'info', denied: 'warning', error: 'error' };
const SECRET_KEY = /secret|password|token|authorization|signature|api[_-]?key/i;

/** Who did what, written as hash-chained `audit.*` events in the same transaction as the change. */
@Injectable()
export class AuditService implements AccessDeniedRecorder {
  constructor(
    private readonly events: EventsService,
    private readonly runner: TransactionRunner,
  ) {}

  record(tx: Tx, entry: AuditEntry): Promise<StoredEvent> {
    return this.events.publish(tx, {
      type: `audit.${entry.action}`,
      severity: SEVERITY[entry.result],
      // An admin is never confined, so the X-User-Tenant it sent says nothing about what the action concerns.
      tenantId: entry.tenantId ?? (entry.actor.roles.includes('admin') ? null : entry.actor.tenant_id) ?? null,
      subject: entry.target ?? null,
      actor: entry.actor,
      data: {
        action: entry.action,
        result: entry.result,
        ...(entry.reason ? { reason: entry.reason.slice(0, 1000) } : {}),
        ...withoutSecrets(entry.details ?? {}),
      },
    });
  }

  async recordDenied(req: Request, action: string, reason: string): Promise<void> {
    await this.runner.run((tx) => this.record(tx, { actor: actorFromRequest(req), action, result: 'denied', reason }));
  }
}

function withoutSecrets(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([key]) => !SECRET_KEY.test(key)));
}
