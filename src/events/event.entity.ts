import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn, type ValueTransformer } from 'typeorm';

/** PostgreSQL returns bigint as a string; ids stay far below 2^53. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

@Entity({ name: 'events' })
export class EventEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'increment', transformer: bigintAsNumber })
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  type!: string;

  @Column({ type: 'varchar', length: 16 })
  severity!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  subject_type!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  subject_id!: string | null;

  @Column({ type: 'varchar', length: 16 })
  actor_type!: string;

  /** `,admin,operator,`: lets `actor_role` filter with one LIKE on either store. */
  @Column({ type: 'varchar', length: 128 })
  actor_roles!: string;

  @Column({ type: 'simple-json' })
  actor!: Record<string, unknown>;

  @Column({ type: 'simple-json' })
  data!: Record<string, unknown>;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  prev_hash!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  hash!: string | null;
}

/** One row: retention watermark, the audit chain's anchor (last purged link) and head. */
@Entity({ name: 'event_store_state' })
export class EventStoreStateEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  purged_through_id!: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  anchor_id!: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  anchor_hash!: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  head_id!: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  head_hash!: string | null;
}
