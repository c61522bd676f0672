/**
 * The two rules a fresh install starts with (migration 1764240000000). Frozen with that
 * migration: later changes to the defaults need a migration of their own.
 */
export const BUILTIN_RULES = [
  {
    name: 'pause-after-10-consecutive-failures',
    description:
      'Stop sending to an endpoint after 10 failures in a row; probe it when the pause ends, and resume it when the probe succeeds.',
    trigger: { metric: 'consecutive_failures', threshold: 10, window_s: 300, min_requests: 10, for_s: 0 },
    action: { type: 'pause_endpoint', params: { pause_s: 300 } },
    cooldown_s: 900,
    max_actions_per_hour: 4,
  },
  {
    name: 'replay-failed-on-recovery',
    description:
      'When an endpoint recovers from a failure streak, replay its deliveries that failed in the last 24 hours (at most 1,000).',
    trigger: { metric: 'endpoint_recovered', threshold: 1, window_s: 300, min_requests: 1, for_s: 0 },
    action: { type: 'replay_failed', params: { since_s: 86_400, max_deliveries: 1000 } },
    cooldown_s: 900,
    max_actions_per_hour: 4,
  },
] as const;
