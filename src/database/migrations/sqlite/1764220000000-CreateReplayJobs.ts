import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateReplayJobs1764220000000 implements MigrationInterface {
  name = 'CreateReplayJobs1764220000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE replay_jobs (
        id varchar(36) PRIMARY KEY,
        tenant_id varchar(128),
        endpoint_url varchar(2048),
        since datetime NOT NULL,
        until datetime NOT NULL,
        dry_run integer NOT NULL,
        status varchar(16) NOT NULL,
        matched integer NOT NULL DEFAULT 0,
        requeued integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        created_by text NOT NULL,
        created_at datetime NOT NULL,
        updated_at datetime NOT NULL,
        finished_at datetime
      )`);
    await q.query(`CREATE INDEX idx_replay_jobs_status ON replay_jobs (status, updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replay_jobs`);
  }
}
