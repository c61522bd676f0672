import {
  BadRequestException,
  HttpException,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppConfig } from '../../config/app-config.js';

const MAX_JSON_DEPTH = 100;

/** Whether arrays and objects nest deeper than `max` levels (walked without recursion). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

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
    this.parse(req, res, (err?: unknown) => {
      if (err !== undefined) return next(this.toHttpException(err));
      // Validation and transformation recurse into the body: a few KiB of `[[[[...` would
      // overflow the stack (a 500). No legitimate body comes near this depth.
      if (nestedDeeperThan(req.body, MAX_JSON_DEPTH)) {
        return next(new BadRequestException(`JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`));
      }
      next();
    });
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
