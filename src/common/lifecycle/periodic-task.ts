import type { LoggerService } from '@nestjs/common';

/**
 * Background work on an interval, one run at a time: a run asked for while one is going joins
 * it; a failed run is logged and retried on the next tick; stop() waits for the current run.
 */
export class PeriodicTask<T> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<T> | null = null;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
    private readonly onFailure: T,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  runNow(): Promise<T> {
    this.running ??= this.work()
      .catch((err: unknown) => {
        this.logger.warn({ err }, `${this.name} failed; will retry`);
        return this.onFailure;
      })
      .finally(() => (this.running = null));
    return this.running;
  }
}
