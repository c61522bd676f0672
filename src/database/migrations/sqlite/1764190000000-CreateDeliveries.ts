import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDeliveries1764190000000 implements MigrationInterface {
  name = 'CreateDeliveries1764190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE endpoints (
        id varchar(36) PRIMARY KEY,
        tenant_id varchar(128) NOT NULL,
        url varchar(2048) NOT NULL,
        state varchar(16) NOT NULL DEFAULT 'active',
        paused_until datetime,
        paused_by varchar(128),
        disabled_reason text,
        secret varchar(128) NOT NULL,
        previous_secret varchar(128),
        previous_secret_expires_at datetime,
        last_success_at datetime,
        last_failure_at datetime,
        consecutive_failures integer NOT NULL DEFAULT 0,
        created_at datetime NOT NULL,
        updated_at datetime NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_endpoints_tenant_url ON endpoints (tenant_id, url)`);
    await q.query(`CREATE INDEX idx_endpoints_created ON endpoints (created_at, id)`);
    await q.query(`
      CREATE TABLE deliveries (
        id varchar(36) PRIMARY KEY,
        tenant_id varchar(128) NOT NULL,
        endpoint_id varchar(36) NOT NULL REFERENCES endpoints (id),
        endpoint_url varchar(2048) NOT NULL,
        event_type varchar(200) NOT NULL,
        payload text NOT NULL,
        payload_bytes integer NOT NULL,
        idempotency_key varchar(200),
        status varchar(16) NOT NULL,
        attempt_count integer NOT NULL DEFAULT 0,
        next_attempt_at datetime,
        last_status_code integer,
        last_error_kind varchar(32),
        created_at datetime NOT NULL,
        updated_at datetime NOT NULL,
        completed_at datetime
      )`);
    await q.query(`CREATE INDEX idx_deliveries_created ON deliveries (created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_tenant ON deliveries (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_status ON deliveries (status, created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_tenant_status ON deliveries (tenant_id, status, created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_endpoint ON deliveries (endpoint_id, created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_event_type ON deliveries (event_type, created_at, id)`);
    await q.query(`CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at)`);
    await q.query(
      `CREATE UNIQUE INDEX uq_deliveries_idempotency ON deliveries (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE deliveries`);
    await q.query(`DROP TABLE endpoints`);
  }
}
