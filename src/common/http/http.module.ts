import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { JsonBodyMiddleware } from './json-body.middleware.js';

/** Request body handling; imported after logging and metrics so their middleware runs first. */
@Module({ providers: [JsonBodyMiddleware] })
export class HttpModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonBodyMiddleware).forRoutes('*path');
  }
}
