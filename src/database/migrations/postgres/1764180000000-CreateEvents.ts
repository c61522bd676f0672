import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEvents1764180000000 implements MigrationInterface {
  name = 'CreateEvents1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        type varchar(100) NOT NULL,
        severity varchar(16) NOT NULL,
        tenant_id varchar(128),
        subject_type varchar(64),
        subject_id varchar(128),
        actor_type varchar(16) NOT NULL,
        actor_roles varchar(128) NOT NULL DEFAULT '',
        actor text NOT NULL,
        data text NOT NULL,
        created_at timestamptz NOT NULL,
        prev_hash varchar(64),
        hash varchar(64)
      )`);
    await q.query(`CREATE INDEX idx_events_created_at ON events (created_at, id)`);
    await q.query(`CREATE INDEX idx_events_tenant ON events (tenant_id, id)`);
    await q.query(`CREATE INDEX idx_events_type ON events (type, id)`);
    await q.query(`CREATE INDEX idx_events_chain ON events (id) WHERE hash IS NOT NULL`);
    await q.query(`
      CREATE TABLE event_store_state (
        id integer PRIMARY KEY CHECK (id = 1),
        purged_through_id bigint NOT NULL DEFAULT 0,
        anchor_id bigint,
        anchor_hash varchar(64),
        head_id bigint,
        head_hash varchar(64)
      )`);
    await q.query(`INSERT INTO event_store_state (id) VALUES (1)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_store_state`);
    await q.query(`DROP TABLE events`);
  }
}
