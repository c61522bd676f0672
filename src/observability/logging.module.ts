import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config.js';
import { createDestination, LOG_DESTINATION, pinoHttpOptions } from './logging.js';

@Global()
@Module({
  providers: [{ provide: LOG_DESTINATION, useFactory: createDestination }],
  exports: [LOG_DESTINATION],
})
class LogDestinationModule {}

/** JSON logs to stdout through pino: one line per request plus the application's own logs. */
@Module({
  imports: [
    LogDestinationModule,
    LoggerModule.forRootAsync({
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) => ({
        pinoHttp: [pinoHttpOptions(config.LOG_LEVEL), destination],
        forRoutes: ['*path'],
      }),
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
