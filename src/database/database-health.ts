import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Answers whether the store responds, within a bound. Used by readiness and the health gauge. */
@Injectable()
export class DatabaseHealth {
  constructor(private readonly dataSource: DataSource) {}

  get dialect(): 'postgres' | 'sqlite' {
    return this.dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
  }

  async ping(timeoutMs = 2000): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!this.dataSource.isInitialized) return { ok: false, reason: 'database connection closed' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message || 'database unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }
}
