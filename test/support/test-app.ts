import type { DynamicModule, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { APP_OPTIONS, configureApp } from '../../src/app.setup.js';
import { Clock } from '../../src/common/time/clock.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { LOG_DESTINATION } from '../../src/observability/logging.js';
import type { Dialect } from './dialects.js';
import { LogCapture } from './log-capture.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestAppOptions {
  /** Environment overrides, validated like production. */
  env?: Record<string, string>;
  /** Extra modules (test-only controllers). */
  imports?: (Type | DynamicModule)[];
  /** Share a store with another app (a second replica); the caller drops it. */
  database?: TestDatabase;
  /** Replace the clock. */
  clock?: Clock;
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  database: TestDatabase;
  logs: LogCapture;
  http(): ReturnType<typeof request>;
  /** Listens on a free loopback port; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * nestjs-pino keeps one pino-http instance per process (a service runs one app); a test process
 * boots many, so each app starts from a fresh one that writes to its own LogCapture.
 */
function resetProcessLogger(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const internals = require(require.resolve('nestjs-pino').replace(/index\.js$/, 'PinoLogger.js')) as {
    __resetOutOfContextForTests(): void;
  };
  internals.__resetOutOfContextForTests();
}

/** Boots the whole AppModule as production does, on a store of its own. */
export async function createTestApp(dialect: Dialect, options: TestAppOptions = {}): Promise<TestApp> {
  resetProcessLogger();
  const ownDatabase = options.database === undefined;
  const database = options.database ?? (await createTestDatabase(dialect));
  // The dispatcher would send real requests for every delivery a suite stores, and the autoheal
  // engine and anomaly detector would act on them: only the suites about them turn them on.
  const config = loadConfig({
    LOG_LEVEL: 'info',
    DISPATCHER_ENABLED: 'false',
    AUTOHEAL_ENABLED: 'false',
    ANOMALY_ENABLED: 'false',
    ...database.env,
    ...options.env,
  });
  const logs = new LogCapture();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule, ...(options.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .overrideProvider(LOG_DESTINATION)
    .useValue(logs)
    .overrideProvider(Clock)
    .useValue(options.clock ?? new Clock())
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(APP_OPTIONS);
  configureApp(app);
  await app.init();
  let closed = false;
  return {
    app,
    config,
    database,
    logs,
    http: () => request(app.getHttpServer()),
    listen: async () => {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      return `http://127.0.0.1:${port}`;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      if (ownDatabase) await database.drop();
    },
  };
}
