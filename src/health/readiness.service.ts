import { Injectable } from '@nestjs/common';
import { LifecycleService } from '../common/lifecycle/lifecycle.service.js';
import { DatabaseHealth } from '../database/database-health.js';
import type { ReadinessDto } from './health.dto.js';

/** Ready means: not shutting down, and the database answers. */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly lifecycle: LifecycleService,
    private readonly database: DatabaseHealth,
  ) {}

  async check(): Promise<ReadinessDto> {
    const database = this.database.dialect;
    if (this.lifecycle.shuttingDown) return { status: 'unavailable', database, detail: 'shutting down' };
    const ping = await this.database.ping();
    if (!ping.ok) return { status: 'unavailable', database, detail: `database unavailable: ${ping.reason}` };
    return { status: 'ready', database };
  }
}
