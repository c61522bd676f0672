import { Column, Entity, PrimaryColumn } from 'typeorm';

export type EndpointState = 'active' | 'paused' | 'disabled';

/** Where a tenant's webhooks go: one row per tenant and URL, with its signing secret and health. */
@Entity({ name: 'endpoints' })
export class EndpointEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: EndpointState;

  @Column({ type: Date, nullable: true })
  paused_until!: Date | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  paused_by!: string | null;

  @Column({ type: 'text', nullable: true })
  disabled_reason!: string | null;

  @Column({ type: 'varchar', length: 128 })
  secret!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  previous_secret!: string | null;

  @Column({ type: Date, nullable: true })
  previous_secret_expires_at!: Date | null;

  @Column({ type: Date, nullable: true })
  last_success_at!: Date | null;

  @Column({ type: Date, nullable: true })
  last_failure_at!: Date | null;

  @Column({ type: 'integer' })
  consecutive_failures!: number;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;
}
