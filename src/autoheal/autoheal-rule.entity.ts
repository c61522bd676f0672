import { Column, Entity, PrimaryColumn } from 'typeorm';

export const TRIGGER_METRICS = [
  'consecutive_failures',
  'failure_rate',
  'timeout_rate',
  'latency_p95_ms',
  'endpoint_recovered',
] as const;
export type TriggerMetric = (typeof TRIGGER_METRICS)[number];

export const ACTION_TYPES = ['pause_endpoint', 'replay_failed', 'disable_endpoint', 'notify'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** A rule: when `trigger` holds for an endpoint in scope, take `action`, within cooldown and budget. */
@Entity({ name: 'autoheal_rules' })
export class AutohealRuleEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ type: Boolean })
  enabled!: boolean;

  @Column({ type: Boolean })
  dry_run!: boolean;

  @Column({ type: 'varchar', length: 128, nullable: true })
  tenant_id!: string | null;

  @Column({ type: 'varchar', length: 2048, nullable: true })
  endpoint_url_prefix!: string | null;

  @Column({ type: 'varchar', length: 32 })
  trigger_metric!: TriggerMetric;

  @Column({ type: 'double precision' })
  trigger_threshold!: number;

  @Column({ type: 'integer' })
  trigger_window_s!: number;

  @Column({ type: 'integer' })
  trigger_min_requests!: number;

  @Column({ type: 'integer' })
  trigger_for_s!: number;

  @Column({ type: 'varchar', length: 32 })
  action_type!: ActionType;

  /** The action's parameters, as JSON. */
  @Column({ type: 'text' })
  action_params!: string;

  @Column({ type: 'integer' })
  cooldown_s!: number;

  @Column({ type: 'integer' })
  max_actions_per_hour!: number;

  @Column({ type: Boolean })
  builtin!: boolean;

  /** Bumped on every change; a PATCH must name the version it read. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'varchar', length: 200 })
  created_by!: string;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;
}
