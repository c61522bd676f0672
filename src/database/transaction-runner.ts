import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A unit of work: the transaction's EntityManager, and work to do once it has committed. */
export interface Tx {
  readonly manager: EntityManager;
  readonly dialect: 'postgres' | 'sqlite';
  /** Runs after a successful commit, never after a rollback. */
  afterCommit(hook: () => void): void;
}

/**
 * Runs every write transaction of the service. On SQLite all of them share one connection, where
 * overlapping transactions would interleave, so they are queued one at a time; PostgreSQL runs
 * them concurrently, each on a pooled connection.
 */
@Injectable()
export class TransactionRunner {
  private readonly logger = new Logger(TransactionRunner.name);
  private queue: Promise<unknown> = Promise.resolve();
  readonly dialect: 'postgres' | 'sqlite';

  constructor(private readonly dataSource: DataSource) {
    this.dialect = dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.serialized(() => this.execute(work));
  }

  /**
   * A read that must see only committed data. On SQLite a read issued while a transaction is open
   * would run inside it (one shared connection), so it waits its turn like a transaction.
   */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.serialized(() => work(this.dataSource.manager));
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') return task();
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async execute<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = [];
    const dialect = this.dialect;
    const result = await this.dataSource.transaction((manager) =>
      work({ manager, dialect, afterCommit: (hook) => hooks.push(hook) }),
    );
    for (const hook of hooks) {
      try {
        hook();
      } catch (err) {
        this.logger.error({ err }, 'after-commit hook failed');
      }
    }
    return result;
  }
}
