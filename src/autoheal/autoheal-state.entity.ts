import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The engine's memory of one rule on one endpoint: since when its condition holds, its cooldown. */
@Entity({ name: 'autoheal_states' })
export class AutohealStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  rule_id!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  endpoint_id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 2048 })
  endpoint_url!: string;

  @Column({ type: Date, nullable: true })
  condition_since!: Date | null;

  @Column({ type: Date, nullable: true })
  cooldown_until!: Date | null;

  /** The last outcome written as an execution, so a lasting suppression is recorded once per cooldown. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  last_outcome!: string | null;

  @Column({ type: Date, nullable: true })
  last_outcome_at!: Date | null;

  /** For `endpoint_recovered`: the recovery already handled, so each recovery counts once. */
  @Column({ type: Date, nullable: true })
  handled_signal_at!: Date | null;
}
