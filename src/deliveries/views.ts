import type { AttemptEntity } from './attempt.entity.js';
import type { StatusCounts } from './delivery.repository.js';
import type { DeliveryEntity } from './delivery.entity.js';
import type { AttemptView, DeliveryDetailView, DeliveryView, EndpointView } from './dto/delivery-views.dto.js';
import type { EndpointEntity } from './endpoint.entity.js';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
export const NO_COUNTS: StatusCounts = { pending: 0, success: 0, failed: 0 };

/** The API's view of an endpoint: never its secrets. */
export function endpointView(e: EndpointEntity, counts: StatusCounts = NO_COUNTS): EndpointView {
  return {
    id: e.id,
    tenant_id: e.tenant_id,
    url: e.url,
    state: e.state,
    paused_until: iso(e.paused_until),
    paused_by: e.paused_by,
    disabled_reason: e.disabled_reason,
    last_success_at: iso(e.last_success_at),
    last_failure_at: iso(e.last_failure_at),
    consecutive_failures: e.consecutive_failures,
    autoheal_paused: Boolean(e.autoheal_paused),
    pause_streak: e.pause_streak,
    counts_24h: { ...counts },
    created_at: iso(e.created_at)!,
    updated_at: iso(e.updated_at)!,
  };
}

export function deliveryView(d: DeliveryEntity): DeliveryView {
  return {
    id: d.id,
    tenant_id: d.tenant_id,
    endpoint_id: d.endpoint_id,
    endpoint_url: d.endpoint_url,
    event_type: d.event_type,
    status: d.status,
    attempt_count: d.attempt_count,
    next_attempt_at: iso(d.next_attempt_at),
    last_status_code: d.last_status_code,
    last_error_kind: d.last_error_kind,
    idempotency_key: d.idempotency_key,
    payload_bytes: d.payload_bytes,
    created_at: iso(d.created_at)!,
    updated_at: iso(d.updated_at)!,
    completed_at: iso(d.completed_at),
  };
}

export function attemptView(a: AttemptEntity): AttemptView {
  return {
    attempt_number: a.attempt_number,
    trigger: a.trigger,
    started_at: iso(a.started_at)!,
    duration_ms: a.duration_ms,
    status_code: a.status_code,
    error_kind: a.error_kind,
    response_excerpt: a.response_excerpt,
  };
}

export function deliveryDetailView(d: DeliveryEntity, attempts: AttemptEntity[]): DeliveryDetailView {
  return { ...deliveryView(d), payload: JSON.parse(d.payload) as unknown, attempts: attempts.map(attemptView) };
}
