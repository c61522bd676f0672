import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { ANOMALY_KINDS } from './anomaly-signals.js';
import { AnomalyRepository } from './anomaly.repository.js';
import { ANOMALY_METRIC } from './anomalies.metrics.js';

/** command_center_anomalies_open{kind}, read from the store at scrape time (the same on every replica). */
@Injectable()
export class AnomalyGauges implements OnModuleInit {
  constructor(
    @InjectMetric(ANOMALY_METRIC.open) private readonly open: Gauge<'kind'>,
    private readonly anomalies: AnomalyRepository,
  ) {}

  onModuleInit(): void {
    (this.open as unknown as { collect: () => Promise<void> }).collect = async () => {
      const counts = await this.anomalies.activeByKind().catch(() => null);
      if (!counts) return;
      for (const kind of ANOMALY_KINDS) this.open.set({ kind }, counts.get(kind) ?? 0);
    };
  }
}
