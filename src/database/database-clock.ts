import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * The database's own time. Work that several replicas must agree on (cooldowns, budgets, windows)
 * reads it from here, so an application host with a skewed clock cannot shift their decisions.
 */
@Injectable()
export class DatabaseClock {
  constructor(private readonly dataSource: DataSource) {}

  async now(manager: EntityManager = this.dataSource.manager): Promise<Date> {
    const pg = this.dataSource.options.type === 'postgres';
    const sql = pg ? 'SELECT clock_timestamp() AS now' : `SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now`;
    const [row] = await manager.query<{ now: Date | string }[]>(sql);
    return new Date(row.now);
  }
}
