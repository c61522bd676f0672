import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddDispatch1764200000000 implements MigrationInterface {
  name = 'AddDispatch1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN lease_owner varchar(64)`);
    await q.query(`ALTER TABLE deliveries ADD COLUMN lease_expires_at datetime`);
    await q.query(`
      CREATE TABLE delivery_attempts (
        id varchar(36) PRIMARY KEY,
        delivery_id varchar(36) NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        tenant_id varchar(128) NOT NULL,
        endpoint_id varchar(36) NOT NULL,
        attempt_number integer NOT NULL,
        trigger varchar(16) NOT NULL,
        started_at datetime NOT NULL,
        duration_ms integer NOT NULL,
        status_code integer,
        error_kind varchar(32),
        response_excerpt text
      )`);
    await q.query(`CREATE INDEX idx_attempts_delivery ON delivery_attempts (delivery_id, attempt_number)`);
    await q.query(`
      CREATE TABLE delivery_stats_5m (
        bucket_start datetime NOT NULL,
        tenant_id varchar(128) NOT NULL,
        endpoint_id varchar(36) NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        successes integer NOT NULL DEFAULT 0,
        failures integer NOT NULL DEFAULT 0,
        timeouts integer NOT NULL DEFAULT 0,
        delivered integer NOT NULL DEFAULT 0,
        exhausted integer NOT NULL DEFAULT 0,
        latency_sum_ms bigint NOT NULL DEFAULT 0,
        lat_le_100 integer NOT NULL DEFAULT 0,
        lat_le_250 integer NOT NULL DEFAULT 0,
        lat_le_500 integer NOT NULL DEFAULT 0,
        lat_le_1000 integer NOT NULL DEFAULT 0,
        lat_le_2500 integer NOT NULL DEFAULT 0,
        lat_le_5000 integer NOT NULL DEFAULT 0,
        lat_le_10000 integer NOT NULL DEFAULT 0,
        lat_gt_10000 integer NOT NULL DEFAULT 0,
        PRIMARY KEY (bucket_start, tenant_id, endpoint_id)
      )`);
    await q.query(`CREATE INDEX idx_stats_tenant ON delivery_stats_5m (tenant_id, bucket_start)`);
    await q.query(`CREATE INDEX idx_stats_endpoint ON delivery_stats_5m (endpoint_id, bucket_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE delivery_stats_5m`);
    await q.query(`DROP TABLE delivery_attempts`);
  }
}
