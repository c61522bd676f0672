import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import type { Tx } from '../database/transaction-runner.js';
import { SYSTEM_ACTOR, type NewEvent, type Severity } from '../events/event.types.js';
import { EventsService } from '../events/events.service.js';
import { AUTOHEAL_CLEARED, type EndpointEntity } from './endpoint.entity.js';
import { EndpointRepository } from './endpoint.repository.js';

/** The longest autoheal pause: doubling after failed probes stops here (6 h). */
export const MAX_PAUSE_S = 6 * 3600;
/** Only for a row paused before its length was recorded. */
const FALLBACK_PAUSE_S = 60;

export interface PauseResult {
  paused: boolean;
  until: Date | null;
  disabled: boolean;
}

/**
 * Autoheal's pause ladder on one endpoint row. A pause holds the endpoint's deliveries until one
 * probe after it runs out: a successful probe resumes the endpoint, a failed one pauses it twice
 * as long, and AUTOHEAL_DISABLE_AFTER_PAUSES pauses in a row disable it. Each step locks the row,
 * decides on its current values and publishes its event in the caller's transaction.
 *
 * Apart from EndpointHealing because the AttemptRecorder, which the dispatcher runs, records
 * probe outcomes here, while EndpointHealing wakes the dispatcher.
 */
@Injectable()
export class EndpointPauses {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly events: EventsService,
    private readonly config: AppConfig,
  ) {}

  /** An active endpoint only: a disabled or already paused one (by anyone) is left alone. */
  async pause(tx: Tx, endpointId: string, durationS: number, by: string, now: Date): Promise<PauseResult> {
    if (!Number.isInteger(durationS) || durationS < 1) throw new RangeError('durationS must be a positive integer');
    const e = await this.endpoints.findForUpdate(tx, endpointId);
    if (!e || e.state !== 'active') return { paused: false, until: null, disabled: false };
    const streak = e.pause_streak + 1;
    if (streak >= this.config.AUTOHEAL_DISABLE_AFTER_PAUSES) {
      await this.disableLocked(tx, e, this.exhaustedReason(streak), now, { by, pause_streak: streak });
      return { paused: false, until: null, disabled: true };
    }
    const pauseS = Math.min(durationS, MAX_PAUSE_S);
    const until = await this.pauseLocked(tx, e, pauseS, streak, by, now);
    await this.publish(tx, e, 'endpoint.paused', 'warning', {
      by,
      pause_s: pauseS,
      paused_until: until.toISOString(),
      pause_streak: streak,
    });
    return { paused: true, until, disabled: false };
  }

  /** False if it is disabled already (or gone). */
  async disable(tx: Tx, endpointId: string, reason: string, now: Date): Promise<boolean> {
    const e = await this.endpoints.findForUpdate(tx, endpointId);
    if (!e || e.state === 'disabled') return false;
    await this.disableLocked(tx, e, reason, now, {});
    return true;
  }

  /**
   * After a probe's attempt: resumed, paused again (twice as long) or disabled. Null when the
   * endpoint left its autoheal pause meanwhile (an admin resumed, paused or disabled it).
   */
  async afterProbe(
    tx: Tx,
    endpointId: string,
    success: boolean,
    now: Date,
  ): Promise<'resumed' | 'paused' | 'disabled' | null> {
    const e = await this.endpoints.findForUpdate(tx, endpointId);
    if (!e || e.state !== 'paused' || !e.autoheal_paused) return null;
    if (success) {
      await this.resumeLocked(tx, e, {}, 'probe', now);
      return 'resumed';
    }
    const streak = e.pause_streak + 1;
    if (streak >= this.config.AUTOHEAL_DISABLE_AFTER_PAUSES) {
      await this.disableLocked(tx, e, this.exhaustedReason(streak), now, { by: e.paused_by, pause_streak: streak });
      return 'disabled';
    }
    const pauseS = Math.min((e.pause_s ?? FALLBACK_PAUSE_S) * 2, MAX_PAUSE_S);
    const until = await this.pauseLocked(tx, e, pauseS, streak, e.paused_by ?? 'autoheal', now);
    await this.publish(tx, e, 'endpoint.probe_failed', 'warning', {
      pause_s: pauseS,
      paused_until: until.toISOString(),
      pause_streak: streak,
    });
    return 'paused';
  }

  /**
   * An admin's cooldown clear: ends an autoheal pause, and autoheal counts failures afresh from
   * now. A pause set by hand stays.
   */
  async clear(tx: Tx, endpointId: string, now: Date): Promise<{ resumed: boolean }> {
    const e = await this.endpoints.findForUpdate(tx, endpointId);
    if (!e) return { resumed: false };
    const fresh = { pause_streak: 0, consecutive_failures: 0, baseline_reset_at: now };
    if (e.state === 'paused' && e.autoheal_paused) {
      await this.resumeLocked(tx, e, fresh, 'cooldown_clear', now);
      return { resumed: true };
    }
    await this.endpoints.update(tx.manager, e.id, { ...fresh, updated_at: now });
    return { resumed: false };
  }

  private async pauseLocked(tx: Tx, e: EndpointEntity, pauseS: number, streak: number, by: string, now: Date) {
    const until = new Date(now.getTime() + pauseS * 1000);
    await this.endpoints.update(tx.manager, e.id, {
      state: 'paused',
      autoheal_paused: true,
      paused_by: by,
      pause_s: pauseS,
      paused_until: until,
      pause_streak: streak,
      probe_lease_until: null,
      updated_at: now,
    });
    return until;
  }

  private async resumeLocked(tx: Tx, e: EndpointEntity, extra: Partial<EndpointEntity>, by: string, now: Date) {
    await this.endpoints.update(tx.manager, e.id, {
      state: 'active',
      paused_until: null,
      paused_by: null,
      ...AUTOHEAL_CLEARED,
      ...extra,
      updated_at: now,
    });
    await this.publish(tx, e, 'endpoint.resumed', 'info', { by, paused_by: e.paused_by });
  }

  private async disableLocked(tx: Tx, e: EndpointEntity, reason: string, now: Date, data: Record<string, unknown>) {
    await this.endpoints.update(tx.manager, e.id, {
      state: 'disabled',
      disabled_reason: reason,
      paused_until: null,
      paused_by: null,
      ...AUTOHEAL_CLEARED,
      updated_at: now,
    });
    await this.publish(tx, e, 'endpoint.disabled', 'critical', { reason, ...data });
  }

  private exhaustedReason(streak: number): string {
    return `Autoheal paused it ${streak} times in a row without a successful probe`;
  }

  private publish(tx: Tx, e: EndpointEntity, type: string, severity: Severity, data: Record<string, unknown>) {
    return this.events.publish(tx, endpointEvent(e, type, severity, data));
  }
}

/** An event about an endpoint's state, caused by the service itself. */
export function endpointEvent(
  e: EndpointEntity,
  type: string,
  severity: Severity,
  data: Record<string, unknown>,
): NewEvent {
  return {
    type,
    severity,
    tenantId: e.tenant_id,
    subject: { type: 'endpoint', id: e.id },
    actor: SYSTEM_ACTOR,
    data: { endpoint_id: e.id, endpoint_url: e.url, tenant: e.tenant_id, ...data },
  };
}
