import {
  BadRequestException,
  HttpException,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config.js';

/**
 * Parses JSON bodies up to MAX_BODY_BYTES. Mounted right after the request observer, so a 413 or
 * a malformed body is logged with its request id and answered by the exception filter.
 */
@Injectable()
export class JsonBodyParser {
  private readonly parse: RequestHandler;

  constructor(private readonly config: AppConfig) {
    this.parse = json({ limit: config.MAX_BODY_BYTES });
  }

  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    // Most requests (reads) carry no body at all.
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      next();
      return;
    }
    this.parse(req, res, (err?: unknown) => next(err === undefined ? undefined : this.toHttpException(err)));
  };

  private toHttpException(err: unknown): HttpException {
    switch ((err as { type?: string }).type) {
      case 'entity.too.large':
        return new PayloadTooLargeException(`Request body exceeds the limit of ${this.config.MAX_BODY_BYTES} bytes`);
      case 'entity.parse.failed':
        return new BadRequestException('Malformed JSON in request body');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new UnsupportedMediaTypeException('Unsupported content encoding or charset');
      default:
        return new BadRequestException('Request body could not be read');
    }
  }
}
