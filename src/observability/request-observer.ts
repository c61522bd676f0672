import { Inject, Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { NextFunction, Request, Response } from 'express';
import type { Level, Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { parseRoles, parseTenant, ROLES_HEADER, TENANT_HEADER, type Identity } from '../common/auth/identity.js';
import { REQUEST_LOGGER, requestId } from './logging.js';
import { METRIC } from './metric-names.js';
import { routeTemplate } from './route-template.js';

/** Probes and scrapes run every few seconds; they are logged at debug only. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type ObservedRequest = Request & { id?: string; identity?: Identity | null };

/**
 * The first middleware of every request: gives it a request id, and when the response is done
 * (or the client went away) counts it, times it and writes its one log line.
 */
@Injectable()
export class RequestObserver {
  constructor(
    @InjectMetric(METRIC.apiRequestsTotal) private readonly requests: Counter<'method' | 'endpoint' | 'status'>,
    @InjectMetric(METRIC.apiRequestDuration) private readonly duration: Histogram<'method' | 'endpoint' | 'status'>,
    @Inject(REQUEST_LOGGER) private readonly logger: Logger,
  ) {}

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    (req as ObservedRequest).id = requestId(req, res);
    res.once('close', () => this.record(req as ObservedRequest, res, started));
    next();
  };

  private record(req: ObservedRequest, res: Response, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A client that left before an answer started: 499, the usual proxy convention. A stream the
    // client closed keeps the status it was sent with.
    const status = res.writableFinished || res.headersSent ? res.statusCode : 499;
    const endpoint = routeTemplate(req);
    const labels = { method: req.method, endpoint, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
    const level = levelFor(req, status);
    if (!this.logger.isLevelEnabled(level)) return;
    const identity = req.identity;
    this.logger[level](
      {
        request_id: req.id,
        endpoint,
        path: req.path.slice(0, 512),
        method: req.method,
        status,
        duration_ms: Math.round(seconds * 100_000) / 100,
        user_roles: identity ? identity.roles : parseRoles(req.headers[ROLES_HEADER]),
        tenant_id: (identity ? identity.tenantId : parseTenant(req.headers[TENANT_HEADER])) ?? null,
      },
      status === 499 ? 'request aborted' : 'request completed',
    );
  }
}

function levelFor(req: Request, status: number): Level {
  if (status >= 500) return 'error';
  if (QUIET_PATHS.has(req.path)) return 'debug';
  if (status >= 400) return 'warn';
  return 'info';
}
