import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config.js';
import { FixedWindowThrottlerStorage } from './fixed-window-throttler.storage.js';

/** In-memory fixed one-minute windows: each replica enforces RATE_LIMIT_PER_MINUTE on its own share of traffic. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: Math.max(1, config.RATE_LIMIT_PER_MINUTE) }],
        storage: new FixedWindowThrottlerStorage(),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class ThrottlingModule {}
