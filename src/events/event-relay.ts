import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { TransactionRunner } from '../database/transaction-runner.js';
import { EventRepository } from './event.repository.js';
import type { StoredEvent } from './event.types.js';

const PAGE = 500;

/**
 * Feeds committed events to the in-process stream, in id order, exactly once. It reads the store
 * after the last id it emitted whenever it is poked: by a local commit, or by a NOTIFY from
 * another replica. Reading from the store (not trusting notifications) means a missed or
 * duplicated poke cannot lose or repeat an event.
 */
@Injectable()
export class EventRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventRelay.name);
  private readonly subject = new Subject<StoredEvent>();
  private lastId = 0;
  private running = false;
  private again = false;
  private ready = false;

  constructor(
    private readonly events: EventRepository,
    private readonly runner: TransactionRunner,
  ) {}

  readonly events$: Observable<StoredEvent> = this.subject.asObservable();

  /** The id of the last event emitted: streams start after it. */
  get position(): number {
    return this.lastId;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.lastId = await this.runner.read((m) => this.events.maxId(m));
    this.ready = true;
    if (this.again) this.poke();
  }

  /** Something may have been committed: read and emit whatever is new. */
  poke(): void {
    if (!this.ready || this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    void this.drain()
      .catch((err: unknown) => this.logger.warn({ err }, 'could not read new events; will retry on the next poke'))
      .finally(() => {
        this.running = false;
        if (this.again) this.poke();
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = await this.runner.read((m) => this.events.findAfter(m, this.lastId, PAGE));
      for (const event of batch) {
        if (event.id <= this.lastId) continue;
        this.lastId = event.id;
        this.subject.next(event);
      }
      if (batch.length < PAGE) return;
    }
  }

  complete(): void {
    this.subject.complete();
  }
}
