import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../config/app-config.js';
import {
  APP_LOGGER,
  createAppLogger,
  createDestination,
  createRequestLogger,
  LOG_DESTINATION,
  REQUEST_LOGGER,
} from './logging.js';

@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useFactory: createDestination },
    {
      provide: APP_LOGGER,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) => createAppLogger(config.LOG_LEVEL, destination),
    },
    {
      provide: REQUEST_LOGGER,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) =>
        createRequestLogger(config.LOG_LEVEL, destination),
    },
  ],
  exports: [LOG_DESTINATION, APP_LOGGER, REQUEST_LOGGER],
})
class LoggersModule {}

/**
 * JSON logs to stdout through pino. nestjs-pino makes it Nest's logger; request lines are
 * written by the RequestObserver, so nestjs-pino's per-request middleware is mounted nowhere.
 */
@Module({
  imports: [
    LoggersModule,
    LoggerModule.forRootAsync({
      inject: [APP_LOGGER],
      useFactory: (logger: Logger) => ({ pinoHttp: { logger, autoLogging: false }, forRoutes: [] }),
    }),
  ],
})
export class LoggingModule implements OnApplicationShutdown {
  constructor(@Inject(LOG_DESTINATION) private readonly destination: DestinationStream & { flushSync?: () => void }) {}

  onApplicationShutdown(): void {
    try {
      this.destination.flushSync?.();
    } catch {
      // a destination that is not ready yet has nothing to flush
    }
  }
}
