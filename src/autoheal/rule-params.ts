import { SEVERITIES } from '../events/event.types.js';
import type { ActionType } from './autoheal-rule.entity.js';

/** Each action's parameters: defaults and bounds. Unknown keys are refused. */
export const ACTION_PARAMS = {
  pause_endpoint: { pause_s: { default: 300, min: 10, max: 21_600 } },
  replay_failed: {
    since_s: { default: 86_400, min: 60, max: 14 * 86_400 },
    max_deliveries: { default: 1000, min: 1, max: 10_000 },
  },
  disable_endpoint: {},
  notify: {},
} as const;

export interface ParamsOf {
  pause_endpoint: { pause_s: number };
  replay_failed: { since_s: number; max_deliveries: number };
  disable_endpoint: Record<string, never>;
  notify: { severity: string; message: string };
}

/** The problems with `params` for `type`, as `params.<key>: ...` lines; empty when valid. */
export function paramProblems(type: ActionType, params: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const known: Record<string, { min: number; max: number }> = ACTION_PARAMS[type];
  const allowed = type === 'notify' ? ['severity', 'message'] : Object.keys(known);
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) problems.push(`action.params.${key}: not a parameter of ${type}`);
  }
  for (const [key, bound] of Object.entries(known)) {
    const v = params[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= bound.min && (v as number) <= bound.max)) {
      problems.push(`action.params.${key}: must be an integer between ${bound.min} and ${bound.max}`);
    }
  }
  if (type === 'notify') {
    if (params.severity !== undefined && !SEVERITIES.includes(params.severity as never)) {
      problems.push(`action.params.severity: must be one of ${SEVERITIES.join(', ')}`);
    }
    if (params.message !== undefined && (typeof params.message !== 'string' || params.message.length > 500)) {
      problems.push('action.params.message: must be a string of at most 500 characters');
    }
  }
  return problems;
}

/** The stored parameters with defaults filled in. */
export function parseParams<T extends ActionType>(type: T, stored: string): ParamsOf[T] {
  const params = JSON.parse(stored) as Record<string, unknown>;
  const defaults: Record<string, unknown> = Object.fromEntries(
    Object.entries(ACTION_PARAMS[type] as Record<string, { default: number }>).map(([k, b]) => [k, b.default]),
  );
  if (type === 'notify') Object.assign(defaults, { severity: 'warning', message: 'autoheal rule fired' });
  return { ...defaults, ...params } as ParamsOf[T];
}
