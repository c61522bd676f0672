import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config.js';

export const LEADER_APPLICATION_NAME = 'command-center-leader';

/**
 * One leader per role among the replicas. On PostgreSQL a role is a session advisory lock held
 * on a connection of its own (outside the pool): if that connection drops, the lock is gone and
 * another replica takes it on its next try. The embedded store has one replica, always leader.
 */
@Injectable()
export class LeaderElection implements OnApplicationShutdown {
  private readonly logger = new Logger(LeaderElection.name);
  private client: Client | null = null;
  private connecting: Promise<Client | null> | null = null;
  private readonly held = new Set<string>();
  private stopped = false;

  constructor(private readonly config: AppConfig) {}

  /** Whether this replica leads `role` now, taking the lead if nobody holds it. */
  async lead(role: string): Promise<boolean> {
    if (!this.config.DATABASE_URL) return true;
    if (this.stopped) return false;
    const client = await this.connection();
    if (!client) return false;
    try {
      if (this.held.has(role)) {
        await client.query('SELECT 1'); // the lock lives exactly as long as this session
        return true;
      }
      const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', lockKey(role));
      if (res.rows[0]?.ok) {
        this.held.add(role);
        this.logger.log(`leading ${role}`);
      }
      return this.held.has(role);
    } catch (err) {
      this.drop(client, err as Error);
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = null;
    this.held.clear();
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<Client | null> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<Client | null> {
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      connectionTimeoutMillis: this.config.DB_CONNECT_TIMEOUT_MS,
      application_name: LEADER_APPLICATION_NAME,
      keepAlive: true,
    });
    client.on('error', (err) => this.drop(client, err));
    try {
      await client.connect();
    } catch (err) {
      this.drop(client, err as Error);
      return null;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return null;
    }
    this.client = client;
    return client;
  }

  private drop(client: Client, err: Error): void {
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.client !== client) return;
    this.client = null;
    if (this.held.size) this.logger.warn({ err: err.message }, `lost the lead of ${[...this.held].join(', ')}`);
    this.held.clear();
  }
}

/** Two int4 keys derived from the role name, so roles never collide with other advisory locks. */
function lockKey(role: string): [number, number] {
  const digest = createHash('sha256').update(`command-center:${role}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}
