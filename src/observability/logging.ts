import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config/app-config.js';

export const SERVICE_NAME = 'command-center';

/** Where log lines go; tests swap it for an in-memory stream. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
/** The service's own logs (behind Nest's Logger): secrets redacted. */
export const APP_LOGGER = Symbol('APP_LOGGER');
/** One line per request; its fields are built from an allow-list, so it needs no redaction. */
export const REQUEST_LOGGER = Symbol('REQUEST_LOGGER');

export const PINO_LEVEL: Record<LogLevel, Level> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' };
const LABEL: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

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

function baseOptions(level: LogLevel): LoggerOptions {
  return {
    level: PINO_LEVEL[level],
    base: { service: SERVICE_NAME },
    messageKey: 'message',
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: LABEL[label] ?? label.toUpperCase() }) },
  };
}

export function createAppLogger(level: LogLevel, destination: DestinationStream): Logger {
  return pino({ ...baseOptions(level), redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

export function createRequestLogger(level: LogLevel, destination: DestinationStream): Logger {
  return pino(baseOptions(level), destination);
}

/** Honours a sane incoming X-Request-Id, otherwise makes one; echoes it on the response. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}
