import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { APP_OPTIONS, configureApp } from './app.setup.js';
import { StartupError } from './common/errors/startup-error.js';
import { LifecycleService } from './common/lifecycle/lifecycle.service.js';
import { ConfigError, loadConfig } from './config/app-config.js';

async function bootstrap(): Promise<void> {
  // Validate first: a bad variable should be one readable message, not a stack trace.
  const config = loadConfig();
  // Nest's own logger stays off until pino takes over, so a start-up failure is only our one line.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    ...APP_OPTIONS,
    abortOnError: false,
    logger: false,
  });
  configureApp(app);
  const lifecycle = app.get(LifecycleService);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      lifecycle.beginShutdown();
      // Whatever is still running when the budget is spent is abandoned.
      setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS - 250).unref();
    });
  }
  await app.listen(config.PORT, config.HOST);
  app.get(Logger).log(`Command Center listening on ${config.HOST}:${config.PORT} (${config.databaseDialect})`, 'Main');
}

bootstrap().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`command-center: ${err.message}\n`);
  } else {
    process.stderr.write(`command-center: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
