import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAnomalies1764250000000 implements MigrationInterface {
  name = 'CreateAnomalies1764250000000';

  async up(q: QueryRunner): Promise<void> {
    // Deliveries received from producers (the volume signal) and the Apdex zones of delivered ones.
    await q.query(`ALTER TABLE delivery_stats_5m ADD COLUMN received integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE delivery_stats_5m ADD COLUMN apdex_satisfied integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE delivery_stats_5m ADD COLUMN apdex_tolerating integer NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE anomalies (
        id varchar(36) PRIMARY KEY,
        tenant_id varchar(128) NOT NULL,
        kind varchar(32) NOT NULL,
        signal varchar(32) NOT NULL,
        status varchar(16) NOT NULL,
        severity varchar(16) NOT NULL,
        baseline_mode varchar(16) NOT NULL,
        current_value double precision NOT NULL,
        baseline_median double precision NOT NULL,
        baseline_mad double precision NOT NULL,
        band_low double precision NOT NULL,
        band_high double precision NOT NULL,
        score double precision NOT NULL,
        peak_score double precision NOT NULL,
        sample_size integer NOT NULL,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        inside_since timestamptz,
        resolved_at timestamptz,
        reopen_count integer NOT NULL,
        triage_note text,
        triaged_by varchar(200),
        triaged_at timestamptz,
        assignee varchar(200),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX idx_anomalies_tenant_signal ON anomalies (tenant_id, signal, updated_at)`);
    await q.query(`CREATE INDEX idx_anomalies_status ON anomalies (status, first_seen_at, id)`);
    await q.query(`CREATE INDEX idx_anomalies_resolved ON anomalies (resolved_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE anomalies`);
    await q.query(`ALTER TABLE delivery_stats_5m DROP COLUMN apdex_tolerating`);
    await q.query(`ALTER TABLE delivery_stats_5m DROP COLUMN apdex_satisfied`);
    await q.query(`ALTER TABLE delivery_stats_5m DROP COLUMN received`);
  }
}
