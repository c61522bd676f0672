import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config.js';
import { EventRelay } from './event-relay.js';
import { EVENT_CHANNEL } from './event.repository.js';

export const LISTENER_APPLICATION_NAME = 'command-center-listener';

/**
 * On PostgreSQL, LISTENs for other replicas' commits on a connection of its own (outside the
 * pool) and pokes the relay. The notification carries only an id: the relay reads the rows. If
 * the connection drops it reconnects with backoff and pokes once, which catches up from the store.
 */
@Injectable()
export class PgEventListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PgEventListener.name);
  private client: Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly relay: EventRelay,
  ) {}

  get connected(): boolean {
    return this.client !== null;
  }

  onApplicationBootstrap(): void {
    if (this.config.DATABASE_URL) void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      connectionTimeoutMillis: this.config.DB_CONNECT_TIMEOUT_MS,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
    });
    client.on('notification', () => this.relay.poke());
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENT_CHANNEL}`);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.attempt > 0) this.logger.log('event listener reconnected; catching up from the store');
    this.attempt = 0;
    // Anything committed while we were not listening is read now.
    this.relay.poke();
  }

  private lost(client: Client, err: Error): void {
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.client === client) this.client = null;
    if (this.stopped || this.retryTimer) return;
    const delay = Math.min(5000, 250 * 2 ** this.attempt++);
    this.logger.warn({ err: err.message }, `event listener connection lost; reconnecting in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }
}
