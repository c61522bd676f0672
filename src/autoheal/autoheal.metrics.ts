import { makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';

export const AUTOHEAL_METRIC = {
  actions: 'command_center_autoheal_actions_total',
  evaluation: 'command_center_autoheal_evaluation_seconds',
} as const;

export const autohealMetrics = [
  makeCounterProvider({
    name: AUTOHEAL_METRIC.actions,
    help: 'Autoheal decisions recorded, by rule, action and outcome (fired, would_fire, suppressed_cooldown, suppressed_budget, action_failed)',
    labelNames: ['rule', 'action', 'outcome'],
  }),
  makeHistogramProvider({
    name: AUTOHEAL_METRIC.evaluation,
    help: 'Duration of one autoheal evaluation over every rule and endpoint, in seconds',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
];
