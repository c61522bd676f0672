import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddEndpointHealing1764230000000 implements MigrationInterface {
  name = 'AddEndpointHealing1764230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE endpoints ADD COLUMN autoheal_paused boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN pause_s integer`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN pause_streak integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN probe_lease_until timestamptz`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN recovered_at timestamptz`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN recovered_after_failures integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE endpoints ADD COLUMN baseline_reset_at timestamptz`);
    // Every claim reads the paused endpoints, and probes look for the ones whose pause ran out.
    await q.query(`CREATE INDEX idx_endpoints_paused ON endpoints (paused_until) WHERE state = 'paused'`);
    // The cooldown clear names an endpoint by URL alone, across tenants.
    await q.query(`CREATE INDEX idx_endpoints_url ON endpoints (url)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_endpoints_url`);
    await q.query(`DROP INDEX idx_endpoints_paused`);
    for (const column of [
      'baseline_reset_at',
      'recovered_after_failures',
      'recovered_at',
      'probe_lease_until',
      'pause_streak',
      'pause_s',
      'autoheal_paused',
    ]) {
      await q.query(`ALTER TABLE endpoints DROP COLUMN ${column}`);
    }
  }
}
