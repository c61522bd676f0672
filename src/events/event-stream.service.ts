import {
  BadRequestException,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  ServiceUnavailableException,
} from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Request, Response } from 'express';
import type { Counter, Gauge } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { AppConfig } from '../config/app-config.js';
import { TransactionRunner } from '../database/transaction-runner.js';
import type { StreamQueryDto } from './dto/event-queries.dto.js';
import { matchesFilter, type EventFilter } from './event-filter.js';
import { EventRelay } from './event-relay.js';
import { EventRepository } from './event.repository.js';
import type { StoredEvent } from './event.types.js';
import { METRIC_SSE_CLIENTS, METRIC_SSE_DROPPED } from './events.metrics.js';
import { HEARTBEAT_FRAME, resetFrame, SseConnection } from './sse-connection.js';

const REPLAY_PAGE = 500;
/** Live events held for a client while its missed events are read from the store. */
const MAX_HELD_DURING_REPLAY = 10_000;
/** Bytes a client may leave unread before it is dropped as too slow (it can resume). */
export const SSE_MAX_PENDING_BYTES = 1024 * 1024;

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, no-transform',
  // Proxies such as NGINX must pass events through as they come.
  'X-Accel-Buffering': 'no',
};
const RETRY_FRAME = Buffer.from('retry: 2000\n\n');

/**
 * Serves event streams. Each event's frame is formatted once; frames are queued per client and
 * written in one write per client per flush, so a burst of events costs each client one syscall,
 * and a busy server coalesces more events per write instead of falling behind.
 */
@Injectable()
export class EventStreamService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventStreamService.name);
  private readonly connections = new Set<SseConnection>();
  private readonly dirty = new Set<SseConnection>();
  private flushScheduled = false;
  private relaySubscription: Subscription | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly relay: EventRelay,
    private readonly events: EventRepository,
    private readonly runner: TransactionRunner,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
    @InjectMetric(METRIC_SSE_CLIENTS) private readonly gauge: Gauge,
    @InjectMetric(METRIC_SSE_DROPPED) private readonly dropped: Counter,
  ) {}

  onApplicationBootstrap(): void {
    this.relaySubscription = this.relay.events$.subscribe((event) => this.dispatch(event));
    this.heartbeat = setInterval(() => this.beat(), this.config.SSE_HEARTBEAT_S * 1000);
    this.heartbeat.unref();
    this.lifecycle.signal.addEventListener('abort', () => this.closeAll(), { once: true });
  }

  onApplicationShutdown(): void {
    this.closeAll();
    this.relaySubscription?.unsubscribe();
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Opens a stream on `res` for a caller: filters narrowed to its tenant scope, resuming after
   * Last-Event-ID. Refusals (bad id, too many clients, shutting down) throw before anything is
   * written, so the exception filter answers them.
   */
  attach(
    scope: TenantScope,
    query: StreamQueryDto,
    lastEventIdHeader: string | undefined,
    req: Request,
    res: Response,
  ): void {
    const resumeFrom = parseLastEventId(lastEventIdHeader ?? query.last_event_id);
    if (this.lifecycle.shuttingDown) throw new ServiceUnavailableException('Shutting down');
    if (this.connections.size >= this.config.SSE_MAX_CLIENTS) {
      throw new ServiceUnavailableException(
        `Too many event stream clients (limit ${this.config.SSE_MAX_CLIENTS}); retry later`,
      );
    }
    const filter: EventFilter = {
      types: query.types,
      tenantId: scope.filter(query.tenant_id),
      minSeverity: query.min_severity,
    };
    const connection = new SseConnection(res, filter, resumeFrom);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    req.socket.setTimeout(0);
    // The body runs until the connection closes (no chunked framing), so frames can be written to
    // the socket as they are: one writev per client per flush, with no per-write bookkeeping.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    connection.enqueueRaw(RETRY_FRAME);
    connection.flush();
    this.connections.add(connection);
    this.gauge.set(this.connections.size);
    res.once('close', () => this.forget(connection));
    if (connection.replaying) {
      this.replay(connection, resumeFrom!).catch((err: unknown) => {
        this.logger.warn({ err }, 'could not replay missed events; closing the stream');
        res.end();
      });
    }
  }

  private dispatch(event: StoredEvent): void {
    for (const connection of this.connections) {
      if (!matchesFilter(event, connection.filter)) continue;
      if (connection.replaying) {
        connection.held.push(event);
        if (connection.held.length > MAX_HELD_DURING_REPLAY) this.drop(connection, 'replay fell too far behind');
        continue;
      }
      if (connection.enqueue(event)) this.markDirty(connection);
    }
  }

  private beat(): void {
    for (const connection of this.connections) {
      connection.enqueueRaw(HEARTBEAT_FRAME);
      this.markDirty(connection);
    }
  }

  private markDirty(connection: SseConnection): void {
    this.dirty.add(connection);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const connection of batch) {
      if (connection.closed || !connection.hasPending) continue;
      if (connection.unreadBytes > SSE_MAX_PENDING_BYTES) {
        this.drop(connection, `the client is not reading: ${connection.unreadBytes} bytes are waiting for it`);
        continue;
      }
      if (connection.backedUp) {
        // Writing now would only queue inside Node; the frames wait here until the socket drains.
        this.awaitDrain(connection);
        continue;
      }
      connection.flush();
    }
  }

  private awaitDrain(connection: SseConnection): void {
    if (connection.waitingForDrain) return;
    connection.waitingForDrain = true;
    connection.res.socket?.once('drain', () => {
      connection.waitingForDrain = false;
      this.markDirty(connection);
    });
  }

  /** Sends what the store holds after `afterId`, then what arrived meanwhile, then goes live. */
  private async replay(connection: SseConnection, afterId: number): Promise<void> {
    const state = await this.runner.read((m) => this.events.state(m));
    const head = this.relay.position;
    let cursor = afterId;
    if (afterId > head) {
      connection.enqueueRaw(resetFrame('unknown_event_id', afterId, head));
      connection.lastSent = head;
      cursor = head;
    } else if (afterId < state.purged_through_id) {
      connection.enqueueRaw(resetFrame('events_purged', afterId, head));
      connection.lastSent = state.purged_through_id;
      cursor = state.purged_through_id;
    }
    for (;;) {
      const page = await this.runner.read((m) => this.events.findAfter(m, cursor, REPLAY_PAGE, connection.filter));
      if (connection.closed) return;
      for (const event of page) connection.enqueue(event);
      this.markDirty(connection);
      if (page.length < REPLAY_PAGE) break;
      cursor = page[page.length - 1].id;
    }
    connection.replaying = false;
    for (const event of connection.held.splice(0)) connection.enqueue(event);
    this.markDirty(connection);
  }

  private drop(connection: SseConnection, reason: string): void {
    this.logger.warn(`dropping an event stream: ${reason}`);
    this.dropped.inc();
    connection.res.destroy();
    this.forget(connection);
  }

  private forget(connection: SseConnection): void {
    if (connection.closed) return;
    connection.closed = true;
    this.connections.delete(connection);
    this.dirty.delete(connection);
    this.gauge.set(this.connections.size);
  }

  /** Shutdown: every stream ends now (clients reconnect elsewhere and resume). */
  private closeAll(): void {
    for (const connection of [...this.connections]) {
      if (connection.hasPending) connection.flush();
      connection.res.end();
      this.forget(connection);
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
