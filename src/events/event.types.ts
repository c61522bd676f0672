export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Who caused an event: a person (through the proxy), the service itself, or an autoheal rule. */
export interface Actor {
  type: 'user' | 'system' | 'rule';
  roles: string[];
  tenant_id: string | null;
  ip?: string | null;
  user_agent?: string | null;
  request_id?: string | null;
  /** For rules: which one. */
  rule_id?: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', roles: [], tenant_id: null };

export interface Subject {
  type: string;
  id: string;
}

/** What a module hands to EventsService.publish. */
export interface NewEvent {
  type: string;
  severity?: Severity;
  tenantId?: string | null;
  subject?: Subject | null;
  actor: Actor;
  data?: Record<string, unknown>;
}

/** An event as stored and as served (JSON field names are the API's). */
export interface StoredEvent {
  id: number;
  type: string;
  severity: Severity;
  tenant_id: string | null;
  subject: Subject | null;
  actor: Actor;
  data: Record<string, unknown>;
  created_at: string;
  prev_hash: string | null;
  hash: string | null;
}
