import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { ValidationFailedException } from './validation-failed.exception.js';

interface ErrorBody {
  detail: string;
  request_id?: string;
  errors?: { field: string; message: string }[];
  error_id?: string;
}

/** Seconds a client should wait before retrying while the database is unreachable. */
const DATABASE_RETRY_AFTER_S = 5;

/**
 * The one exception filter. Every error becomes `{detail, request_id}`; validation errors add
 * `errors`; an unreachable database is a 503 with Retry-After; anything else unexpected is
 * logged with an error_id and answered as a bare 500.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const { status, body } = this.describe(exception, req);
    if (req?.id) body.request_id = String(req.id);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (status === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_S));
    res.status(status).json(body);
  }

  private describe(exception: unknown, req: Request): { status: number; body: ErrorBody } {
    if (exception instanceof ValidationFailedException) {
      return { status: 400, body: { detail: exception.message, errors: exception.errors } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && !req.route) return { status, body: { detail: 'Not Found' } };
      if (status === 500) return this.unexpected(exception);
      return { status, body: { detail: detailOf(exception) } };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ err: exception, path: req?.path }, 'database unavailable');
      return { status: 503, body: { detail: 'Database unavailable; retry shortly' } };
    }
    return this.unexpected(exception);
  }

  private unexpected(err: unknown): { status: number; body: ErrorBody } {
    const errorId = randomUUID();
    this.logger.error({ err, error_id: errorId }, 'Unhandled error');
    return { status: 500, body: { detail: 'Internal server error', error_id: errorId } };
  }
}

function detailOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message =
    (response as { message?: unknown; detail?: unknown }).detail ?? (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
