import { SEVERITIES, severityRank, type Severity, type StoredEvent } from './event.types.js';

/** Which events a reader wants. `types` entries are exact (`delivery.failed`) or prefixes (`audit.*`). */
export interface EventFilter {
  types?: string[];
  tenantId?: string;
  minSeverity?: Severity;
  actorRole?: string;
  since?: Date;
  until?: Date;
}

export function severitiesAtLeast(min: Severity): Severity[] {
  return SEVERITIES.filter((s) => severityRank(s) >= severityRank(min));
}

/** The same filter as the store applies, for events already in memory (the live stream). */
export function matchesFilter(event: StoredEvent, filter: EventFilter): boolean {
  if (filter.tenantId !== undefined && event.tenant_id !== filter.tenantId) return false;
  if (filter.minSeverity && severityRank(event.severity) < severityRank(filter.minSeverity)) return false;
  if (filter.types && !filter.types.some((t) => typeMatches(event.type, t))) return false;
  if (filter.actorRole && !event.actor.roles.includes(filter.actorRole)) return false;
  return true;
}

function typeMatches(type: string, pattern: string): boolean {
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}
