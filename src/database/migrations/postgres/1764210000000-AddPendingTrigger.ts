import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddPendingTrigger1764210000000 implements MigrationInterface {
  name = 'AddPendingTrigger1764210000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN pending_trigger varchar(16)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries DROP COLUMN pending_trigger`);
  }
}
