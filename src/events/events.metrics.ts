import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';

export const METRIC_SSE_CLIENTS = 'command_center_sse_clients';
export const METRIC_SSE_DROPPED = 'command_center_sse_dropped_total';

export const eventsMetrics = [
  makeGaugeProvider({ name: METRIC_SSE_CLIENTS, help: 'Open event stream (SSE) connections' }),
  makeCounterProvider({
    name: METRIC_SSE_DROPPED,
    help: 'Event streams dropped because the client stopped reading (it can resume with Last-Event-ID)',
  }),
];
