import { Injectable } from '@nestjs/common';
import { TransactionRunner } from '../database/transaction-runner.js';
import { linkHash } from './audit-chain.js';
import { EventRepository } from './event.repository.js';

export interface ChainReport {
  ok: boolean;
  checked: number;
  first_id: number | null;
  last_id: number | null;
  /** The first link that does not follow from the one before (or from the anchor). */
  broken_at?: number;
  reason?: string;
}

const PAGE = 1000;

/**
 * Walks the retained audit chain from the purge anchor to the recorded head. An edited row fails
 * its own hash; a deleted row breaks the next link; a deleted tail no longer reaches the head.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly events: EventRepository,
    private readonly runner: TransactionRunner,
  ) {}

  async verify(): Promise<ChainReport> {
    const state = await this.runner.read((m) => this.events.state(m));
    let expectedPrev = state.anchor_hash;
    let after = state.anchor_id ?? 0;
    let checked = 0;
    let first: number | null = null;
    let last: number | null = null;
    const report = (extra: Partial<ChainReport> = {}): ChainReport => ({
      ok: extra.broken_at === undefined,
      checked,
      first_id: first,
      last_id: last,
      ...extra,
    });
    for (;;) {
      const links = await this.runner.read((m) => this.events.chainAfter(m, after, PAGE));
      for (const link of links) {
        first ??= link.id;
        if (link.prev_hash !== expectedPrev) {
          return report({
            broken_at: link.id,
            reason: 'does not follow the previous link (a link before it was removed or altered)',
          });
        }
        if (linkHash(link.prev_hash, link) !== link.hash) {
          return report({ broken_at: link.id, reason: 'content does not match its hash (the row was altered)' });
        }
        expectedPrev = link.hash;
        last = link.id;
        checked += 1;
      }
      if (links.length < PAGE) break;
      after = links[links.length - 1].id;
    }
    if (state.head_hash !== null && expectedPrev !== state.head_hash) {
      return report({
        broken_at: last ?? state.head_id ?? 0,
        reason: 'the chain ends before its recorded head (links were removed)',
      });
    }
    return report();
  }
}
