import type { AutohealRuleEntity } from './autoheal-rule.entity.js';

/**
 * Whether a rule applies to an endpoint: its tenant and URL prefix, and the endpoint's state
 * (pausing or disabling an endpoint that already is, or replaying to a disabled one, would do nothing).
 */
export function ruleInScope(
  rule: Pick<AutohealRuleEntity, 'tenant_id' | 'endpoint_url_prefix' | 'action_type'>,
  endpoint: { tenant_id: string; url: string; state: string },
): boolean {
  if (rule.tenant_id !== null && rule.tenant_id !== endpoint.tenant_id) return false;
  if (rule.endpoint_url_prefix !== null && !endpoint.url.startsWith(rule.endpoint_url_prefix)) return false;
  switch (rule.action_type) {
    case 'pause_endpoint':
    case 'disable_endpoint':
      return endpoint.state === 'active';
    case 'replay_failed':
      return endpoint.state !== 'disabled';
    case 'notify':
      return true;
  }
}
