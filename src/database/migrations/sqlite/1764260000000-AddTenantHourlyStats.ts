import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddTenantHourlyStats1764260000000 implements MigrationInterface {
  name = 'AddTenantHourlyStats1764260000000';

  async up(q: QueryRunner): Promise<void> {
    // Sealed hours of delivery_stats_5m summed per tenant, so long windows read one row per tenant-hour.
    await q.query(`
      CREATE TABLE tenant_stats_1h (
        hour_start datetime NOT NULL,
        tenant_id varchar(128) NOT NULL,
        received integer NOT NULL,
        attempts integer NOT NULL,
        failures integer NOT NULL,
        delivered integer NOT NULL,
        exhausted integer NOT NULL,
        apdex_satisfied integer NOT NULL,
        apdex_tolerating integer NOT NULL,
        lat_le_100 integer NOT NULL,
        lat_le_250 integer NOT NULL,
        lat_le_500 integer NOT NULL,
        lat_le_1000 integer NOT NULL,
        lat_le_2500 integer NOT NULL,
        lat_le_5000 integer NOT NULL,
        lat_le_10000 integer NOT NULL,
        lat_gt_10000 integer NOT NULL,
        PRIMARY KEY (hour_start, tenant_id)
      )`);
    await q.query(`CREATE INDEX idx_tenant_stats_1h_tenant ON tenant_stats_1h (tenant_id, hour_start)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tenant_stats_1h`);
  }
}
