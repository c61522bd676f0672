import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

/**
 * Knows when the process is shutting down. Readiness turns 503 as soon as shutdown starts
 * (before the HTTP server stops accepting), and background loops and streams of any module
 * stop on `signal`.
 */
@Injectable()
export class LifecycleService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly controller = new AbortController();
  private readonly logger = new Logger('Lifecycle');

  get shuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  /** Aborted when shutdown begins. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  beginShutdown(): void {
    if (!this.controller.signal.aborted) this.controller.abort();
  }

  onModuleDestroy(): void {
    this.beginShutdown();
  }

  beforeApplicationShutdown(signal?: string): void {
    this.logger.log(`Shutting down${signal ? ` on ${signal}` : ''}: draining requests`);
  }
}
