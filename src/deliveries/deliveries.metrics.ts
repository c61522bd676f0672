import { makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';

export const DELIVERY_METRIC = {
  deliveries: 'command_center_deliveries_total',
  attempts: 'command_center_delivery_attempts_total',
  attemptDuration: 'command_center_delivery_attempt_duration_seconds',
  queueDepth: 'command_center_delivery_queue_depth',
  oldestPending: 'command_center_delivery_oldest_pending_seconds',
  endpointsPaused: 'command_center_endpoints_paused',
  endpointsDisabled: 'command_center_endpoints_disabled',
} as const;

export const deliveryMetrics = [
  makeCounterProvider({
    name: DELIVERY_METRIC.deliveries,
    help: 'Deliveries accepted (status="pending") and finished (status="success" or "failed")',
    labelNames: ['status'],
  }),
  makeCounterProvider({
    name: DELIVERY_METRIC.attempts,
    help: 'Delivery attempts by result: success, or the error kind (http_status, timeout, connect, ...)',
    labelNames: ['result'],
  }),
  makeHistogramProvider({
    name: DELIVERY_METRIC.attemptDuration,
    help: 'Duration of delivery attempts in seconds',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
  }),
  makeGaugeProvider({ name: DELIVERY_METRIC.queueDepth, help: 'Deliveries waiting to be sent (status pending)' }),
  makeGaugeProvider({
    name: DELIVERY_METRIC.oldestPending,
    help: 'How long the most overdue pending delivery has been due, in seconds (0 when none is overdue)',
  }),
  makeGaugeProvider({
    name: DELIVERY_METRIC.endpointsPaused,
    help: 'Endpoints in state paused (by an admin or by autoheal)',
  }),
  makeGaugeProvider({
    name: DELIVERY_METRIC.endpointsDisabled,
    help: 'Endpoints in state disabled (after consecutive failures, until an admin enables them)',
  }),
];
