import {
  BadRequestException,
  HttpException,
  Injectable,
  NestMiddleware,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config.js';

/**
 * Parses JSON bodies up to MAX_BODY_BYTES. Runs as Nest middleware, after the request id and
 * request log are set up, so a 413 or malformed body is logged and answered like any error.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(private readonly config: AppConfig) {
    this.parse = json({ limit: config.MAX_BODY_BYTES });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    this.parse(req, res, (err?: unknown) => next(err === undefined ? undefined : this.toHttpException(err)));
  }

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
