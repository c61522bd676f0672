import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { JsonBodyParser } from './common/http/json-body-parser.js';
import { LifecycleService } from './common/lifecycle/lifecycle.service.js';
import { AppConfig } from './config/app-config.js';
import { RequestObserver } from './observability/request-observer.js';
import { buildOpenApiDocument } from './openapi/openapi-document.js';
import { serveDashboard } from './ui/ui.module.js';

/** Options for NestFactory.create, shared by main.ts and the test harness. */
export const APP_OPTIONS: NestApplicationOptions = { bufferLogs: true, bodyParser: false };

/**
 * What cannot be an APP_* provider: the logger, the request observer and body parser (first,
 * before any route), proxy trust, the dashboard's files, Swagger UI and the shutdown hooks. Called by main.ts and by
 * every e2e suite, so tests run the production setup.
 */
export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // JSON API answers; a per-response hash buys nothing.
  app.set('etag', false);
  app.use(app.get(RequestObserver).middleware);
  app.use(app.get(JsonBodyParser).middleware);
  app.set('trust proxy', trustProxy(config.TRUST_PROXY));
  serveDashboard(app);
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Command Center API',
    swaggerOptions: { persistAuthorization: true },
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  // server.close() only closes connections idle at that moment; an event stream that ends during
  // shutdown would otherwise hold its keep-alive connection for the whole keep-alive timeout.
  app.get(LifecycleService).signal.addEventListener('abort', () => {
    const server = app.getHttpServer();
    server.keepAliveTimeout = 1;
    server.closeIdleConnections();
  });
}

function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
