import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ReplayJobStatus = 'running' | 'completed' | 'failed';

/** A bulk recover: the failed deliveries of a window, requeued in batches in the background. */
@Entity({ name: 'replay_jobs' })
export class ReplayJobEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  endpoint_url!: string | null;

  @Column({ type: Date })
  since!: Date;

  @Column({ type: Date })
  until!: Date;

  @Column({ type: Boolean })
  dry_run!: boolean;

  @Column({ type: 'varchar', length: 16 })
  status!: ReplayJobStatus;

  @Column({ type: 'integer' })
  matched!: number;

  @Column({ type: 'integer' })
  requeued!: number;

  @Column({ type: 'integer' })
  skipped!: number;

  /** The Actor who started it, as JSON. */
  @Column({ type: 'text' })
  created_by!: string;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;

  @Column({ type: Date, nullable: true })
  finished_at!: Date | null;
}
