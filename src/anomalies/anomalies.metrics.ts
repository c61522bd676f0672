import { makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';

export const ANOMALY_METRIC = {
  open: 'command_center_anomalies_open',
  evaluation: 'command_center_anomaly_evaluation_seconds',
} as const;

export const anomalyMetrics = [
  makeGaugeProvider({
    name: ANOMALY_METRIC.open,
    help: 'Anomalies open or triaged (not yet resolved), by kind and severity',
    labelNames: ['kind', 'severity'],
  }),
  makeHistogramProvider({
    name: ANOMALY_METRIC.evaluation,
    help: 'Duration of one anomaly detector pass over every tenant, in seconds',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  }),
];
