// Shapes of the API answers the dashboard reads (see the OpenAPI document at /docs-json).

export interface Delivery {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  endpoint_url: string;
  event_type: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error_kind: string | null;
  idempotency_key: string | null;
  payload_bytes: number;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface Attempt {
  attempt_number: number;
  trigger: string;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error_kind: string | null;
  response_excerpt: string | null;
}

export interface DeliveryDetail extends Delivery {
  payload: unknown;
  attempts: Attempt[];
}

export interface HistoryPage {
  items: Delivery[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface Endpoint {
  id: string;
  tenant_id: string;
  url: string;
  state: string;
  paused_until: string | null;
  paused_by: string | null;
  disabled_reason: string | null;
  last_success_at: string | null;
  last_failure_at: string | null;
  consecutive_failures: number;
  autoheal_paused: boolean;
  counts_24h: { pending: number; success: number; failed: number };
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Anomaly {
  id: string;
  tenant_id: string;
  kind: string;
  signal: string;
  status: string;
  severity: string;
  current_value: number;
  baseline: { mode: string; median: number; mad: number };
  band: { low: number; high: number };
  score: number;
  first_seen_at: string;
  last_seen_at: string;
  reopen_count: number;
  triage_note: string | null;
  triaged_by: string | null;
}

export interface TenantSummary {
  tenant_id: string;
  health_score: number | null;
  status: string;
  success_rate: number | null;
  p95_latency_ms: number | null;
  deliveries: number;
  failed: number;
  pending: number;
  open_anomalies: number;
  paused_endpoints: number;
}

export interface Overview {
  points: {
    bucket_start: string;
    received: number;
    delivered: number;
    failed: number;
    attempts: number;
    failures: number;
  }[];
  bucket_s: number;
  pending: number;
  tenants: number;
  paused_endpoints: number;
}
