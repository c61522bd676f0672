import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { ANOMALY_KINDS, ANOMALY_SEVERITIES } from './anomaly-signals.js';
import { AnomalyRepository } from './anomaly.repository.js';
import { ANOMALY_METRIC } from './anomalies.metrics.js';

/**
 * command_center_anomalies_open{kind,severity}, read from the store at scrape time (the same on
 * every replica). Every pair is set, zeros included, so alerts and panels see a series at once.
 */
@Injectable()
export class AnomalyGauges implements OnModuleInit {
  constructor(
    @InjectMetric(ANOMALY_METRIC.open) private readonly open: Gauge<'kind' | 'severity'>,
    private readonly anomalies: AnomalyRepository,
  ) {}

  onModuleInit(): void {
    (this.open as unknown as { collect: () => Promise<void> }).collect = async () => {
      const rows = await this.anomalies.activeByKindAndSeverity().catch(() => null);
      if (!rows) return;
      for (const kind of ANOMALY_KINDS)
        for (const severity of ANOMALY_SEVERITIES)
          this.open.set({ kind, severity }, rows.find((r) => r.kind === kind && r.severity === severity)?.n ?? 0);
    };
  }
}
