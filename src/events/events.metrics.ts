import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';

export const METRIC_SSE_CLIENTS = 'command_center_sse_clients';

export const eventsMetrics = [
  makeGaugeProvider({ name: METRIC_SSE_CLIENTS, help: 'Open event stream (SSE) connections' }),
];
