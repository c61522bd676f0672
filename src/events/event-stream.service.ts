import {
  BadRequestException,
  Injectable,
  OnApplicationShutdown,
  ServiceUnavailableException,
  type MessageEvent,
} from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { interval, map, Observable, share } from 'rxjs';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import type { StreamQueryDto } from './dto/event-queries.dto.js';
import { METRIC_SSE_CLIENTS } from './events.metrics.js';
import { matchesFilter, type EventFilter } from './event-filter.js';
import { EventRelay } from './event-relay.js';
import { EventRepository } from './event.repository.js';
import type { StoredEvent } from './event.types.js';

const REPLAY_PAGE = 500;
/** Live events held for a client while its missed events are read from the store. */
const MAX_BUFFERED_DURING_REPLAY = 10_000;

/** The SSE frame of an event, built once per event however many clients receive it. */
const frames = new WeakMap<StoredEvent, MessageEvent>();
export function frameOf(event: StoredEvent): MessageEvent {
  let frame = frames.get(event);
  if (!frame) {
    const { prev_hash: _prev, hash: _hash, ...visible } = event;
    frame = { id: String(event.id), type: event.type, data: JSON.stringify(visible) };
    frames.set(event, frame);
  }
  return frame;
}

/**
 * Opens event streams: optionally replays what a client missed (after its Last-Event-ID) from the
 * store, then follows the relay live, with no gap and no duplicate. Bounded in clients; every
 * stream completes as soon as shutdown begins.
 */
@Injectable()
export class EventStreamService implements OnApplicationShutdown {
  private clients = 0;
  private readonly heartbeat$: Observable<MessageEvent>;

  constructor(
    private readonly relay: EventRelay,
    private readonly events: EventRepository,
    private readonly runner: TransactionRunner,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
    @InjectMetric(METRIC_SSE_CLIENTS) private readonly gauge: Gauge,
  ) {
    this.heartbeat$ = interval(config.SSE_HEARTBEAT_S * 1000).pipe(
      map((): MessageEvent => ({ comment: 'heartbeat' })),
      share(),
    );
  }

  get openStreams(): number {
    return this.clients;
  }

  onApplicationShutdown(): void {
    this.relay.complete();
  }

  /** A stream for a caller: filters narrowed to its tenant scope; resumes after Last-Event-ID. */
  openFor(scope: TenantScope, query: StreamQueryDto, lastEventIdHeader: string | undefined): Observable<MessageEvent> {
    const resumeFrom = parseLastEventId(lastEventIdHeader ?? query.last_event_id);
    const filter: EventFilter = {
      types: query.types,
      tenantId: scope.filter(query.tenant_id),
      minSeverity: query.min_severity,
    };
    return this.open(filter, resumeFrom);
  }

  open(filter: EventFilter, lastEventId?: number): Observable<MessageEvent> {
    if (this.lifecycle.shuttingDown) throw new ServiceUnavailableException('Shutting down');
    if (this.clients >= this.config.SSE_MAX_CLIENTS) {
      throw new ServiceUnavailableException(
        `Too many event stream clients (limit ${this.config.SSE_MAX_CLIENTS}); retry later`,
      );
    }
    return new Observable<MessageEvent>((subscriber) => {
      this.clients += 1;
      this.gauge.set(this.clients);
      let lastSent = lastEventId ?? 0;
      let replaying = lastEventId !== undefined;
      const buffered: StoredEvent[] = [];
      const send = (event: StoredEvent) => {
        if (event.id <= lastSent) return;
        lastSent = event.id;
        subscriber.next(frameOf(event));
      };

      const live = this.relay.events$.subscribe({
        next: (event) => {
          if (!matchesFilter(event, filter)) return;
          if (!replaying) return send(event);
          buffered.push(event);
          if (buffered.length > MAX_BUFFERED_DURING_REPLAY) subscriber.error(new Error('replay fell too far behind'));
        },
        complete: () => subscriber.complete(),
      });
      const heartbeat = this.heartbeat$.subscribe((frame) => subscriber.next(frame));
      const onShutdown = () => subscriber.complete();
      this.lifecycle.signal.addEventListener('abort', onShutdown, { once: true });
      if (this.lifecycle.shuttingDown) onShutdown();

      if (replaying) {
        this.replay(filter, lastEventId!, send, (frame, resumeFrom) => {
          subscriber.next(frame);
          lastSent = resumeFrom;
        })
          .then(() => {
            replaying = false;
            for (const event of buffered.splice(0)) send(event);
          })
          .catch((err: unknown) => subscriber.error(err));
      }

      return () => {
        live.unsubscribe();
        heartbeat.unsubscribe();
        this.lifecycle.signal.removeEventListener('abort', onShutdown);
        this.clients -= 1;
        this.gauge.set(this.clients);
      };
    });
  }

  /**
   * Sends what the store holds after `afterId`. If events after it were purged, or the id is
   * unknown (newer than anything stored), a `reset` frame comes first and the stream resumes from
   * what is available.
   */
  private async replay(
    filter: EventFilter,
    afterId: number,
    send: (e: StoredEvent) => void,
    reset: (frame: MessageEvent, resumeFrom: number) => void,
  ): Promise<void> {
    const state = await this.runner.read((m) => this.events.state(m));
    const head = this.relay.position;
    let cursor = afterId;
    if (afterId > head) {
      reset(resetFrame('unknown_event_id', afterId, head), head);
      return;
    }
    if (afterId < state.purged_through_id) {
      reset(resetFrame('events_purged', afterId, head), state.purged_through_id);
      cursor = state.purged_through_id;
    }
    for (;;) {
      const page = await this.runner.read((m) => this.events.findAfter(m, cursor, REPLAY_PAGE, filter));
      for (const event of page) send(event);
      if (page.length < REPLAY_PAGE) return;
      cursor = page[page.length - 1].id;
    }
  }
}

function parseLastEventId(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new BadRequestException('Invalid Last-Event-ID: must be the id of an event (a non-negative integer)');
  }
  return Number(value.trim());
}

function resetFrame(reason: 'events_purged' | 'unknown_event_id', lastEventId: number, head: number): MessageEvent {
  return { type: 'reset', data: JSON.stringify({ reason, last_event_id: lastEventId, current_event_id: head }) };
}
