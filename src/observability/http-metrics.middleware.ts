import { Injectable, NestMiddleware } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { NextFunction, Request, Response } from 'express';
import type { Counter, Histogram } from 'prom-client';
import { METRIC } from './metric-names.js';
import { routeTemplate } from './route-template.js';

/** Counts and times every request once it finishes, labelled by route template. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(
    @InjectMetric(METRIC.apiRequestsTotal) private readonly requests: Counter<'method' | 'endpoint' | 'status'>,
    @InjectMetric(METRIC.apiRequestDuration) private readonly duration: Histogram<'method' | 'endpoint' | 'status'>,
  ) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = { method: req.method, endpoint: routeTemplate(req), status: String(res.statusCode) };
      this.requests.inc(labels);
      this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}
