import { Column, Entity, PrimaryColumn } from 'typeorm';

export const EXECUTION_OUTCOMES = [
  'fired',
  'would_fire',
  'suppressed_cooldown',
  'suppressed_budget',
  'action_failed',
] as const;
export type ExecutionOutcome = (typeof EXECUTION_OUTCOMES)[number];

/** What the engine decided for one rule and endpoint, and why. Kept after the rule is deleted. */
@Entity({ name: 'autoheal_executions' })
export class AutohealExecutionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  rule_id!: string;

  @Column({ type: 'varchar', length: 100 })
  rule_name!: string;

  @Column({ type: 'varchar', length: 36 })
  endpoint_id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 2048 })
  endpoint_url!: string;

  @Column({ type: 'varchar', length: 32 })
  metric!: string;

  @Column({ type: 'double precision' })
  value!: number;

  @Column({ type: 'double precision' })
  threshold!: number;

  @Column({ type: 'varchar', length: 32 })
  outcome!: ExecutionOutcome;

  @Column({ type: 'varchar', length: 32 })
  action_type!: string;

  /** What the action did (or would have done), as JSON. */
  @Column({ type: 'text' })
  detail!: string;

  @Column({ type: Date })
  created_at!: Date;
}
