import { Global, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  PrometheusModule,
} from '@willsoto/nestjs-prometheus';
import { collectDefaultMetrics, register } from 'prom-client';
import { MetricsController } from './metrics.controller.js';
import { METRIC } from './metric-names.js';
import { RequestObserver } from './request-observer.js';

const bootedAt = Date.now();

const metrics = [
  makeCounterProvider({
    name: METRIC.apiRequestsTotal,
    help: 'API requests by method, route template and status code',
    labelNames: ['method', 'endpoint', 'status'],
  }),
  makeHistogramProvider({
    name: METRIC.apiRequestDuration,
    help: 'API request duration in seconds by method, route template and status code',
    labelNames: ['method', 'endpoint', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  makeCounterProvider({
    name: METRIC.eventsTotal,
    help: 'Events published, by event type and severity',
    labelNames: ['event_type', 'severity'],
  }),
  makeGaugeProvider({
    name: METRIC.uptime,
    help: 'Seconds since the service started',
    collect(this: { set(v: number): void }) {
      this.set((Date.now() - bootedAt) / 1000);
    },
  }),
];

/** The Prometheus registry, `GET /metrics`, and the request observer (request metrics and log lines). */
@Global()
@Module({
  imports: [
    PrometheusModule.register({
      controller: MetricsController,
      path: '/metrics',
      // Node process metrics are registered in onModuleInit, so a re-created app gets them again.
      defaultMetrics: { enabled: false },
    }),
  ],
  providers: [...metrics, RequestObserver],
  exports: [...metrics, RequestObserver],
})
export class ObservabilityModule implements OnModuleInit, OnApplicationShutdown {
  onModuleInit(): void {
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register });
  }

  /** The registry is process-wide; a closed app must not leave its metrics behind. */
  onApplicationShutdown(): void {
    register.clear();
  }
}
