import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import pino, { type DestinationStream, type Level } from 'pino';
import type { Options } from 'pino-http';
import type { LogLevel } from '../config/app-config.js';
import { parseRoles, parseTenant, ROLES_HEADER, TENANT_HEADER, type Identity } from '../common/auth/identity.js';
import { routeTemplate } from './route-template.js';

export const SERVICE_NAME = 'command-center';

/** Where log lines go; tests swap it for an in-memory stream. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

const PINO_LEVEL: Record<LogLevel, Level> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' };
const LABEL: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Probes and scrapes run every few seconds; they are logged at debug only. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-auth-proxy-secret"]',
  'headers.authorization',
  'headers["x-auth-proxy-secret"]',
  '*.secret',
  '*.signing_secret',
  '*.password',
  'secret',
  'signing_secret',
];

export function createDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

type Req = IncomingMessage & Request & { identity?: Identity | null; id?: unknown };

/** Honours a sane incoming X-Request-Id, otherwise makes one; echoes it on the response. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

function requestFields(req: Req, res: ServerResponse, durationMs: number) {
  const identity = req.identity;
  const tenant = identity ? identity.tenantId : parseTenant(req.headers[TENANT_HEADER]);
  return {
    endpoint: routeTemplate(req),
    path: (req.originalUrl ?? req.url ?? '').split('?')[0].slice(0, 512),
    method: req.method,
    status: res.statusCode,
    duration_ms: Math.round(durationMs * 100) / 100,
    user_roles: identity ? identity.roles : parseRoles(req.headers[ROLES_HEADER]),
    tenant_id: tenant ?? null,
  };
}

/** pino-http options: one JSON line per request with the runbook's fields. */
export function pinoHttpOptions(level: LogLevel): Options<Req, ServerResponse> {
  return {
    level: PINO_LEVEL[level],
    base: { service: SERVICE_NAME },
    messageKey: 'message',
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: LABEL[label] ?? label.toUpperCase() }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    genReqId: requestId,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'request_id' },
    customLogLevel: (req, res, err) => {
      if (res.statusCode >= 500 || err) return 'error';
      if (QUIET_PATHS.has((req.originalUrl ?? req.url ?? '').split('?')[0])) return 'debug';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, val: { responseTime: number }) => requestFields(req, res, val.responseTime),
    customErrorObject: (req, res, err, val: { responseTime: number }) => ({
      ...requestFields(req, res, val.responseTime),
      err,
    }),
  };
}
