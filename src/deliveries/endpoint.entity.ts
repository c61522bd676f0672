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

  /** The current pause was set by autoheal: it ends with a successful probe, not at paused_until. */
  @Column({ type: Boolean })
  autoheal_paused!: boolean;

  /** Length of the current autoheal pause, doubled after each failed probe. */
  @Column({ type: 'integer', nullable: true })
  pause_s!: number | null;

  /** Autoheal pauses in a row without a successful probe. */
  @Column({ type: 'integer' })
  pause_streak!: number;

  /** A probe attempt is in flight until then (a crashed replica's probe expires). */
  @Column({ type: Date, nullable: true })
  probe_lease_until!: Date | null;

  /** When a success last ended a failure streak, and how long that streak was. */
  @Column({ type: Date, nullable: true })
  recovered_at!: Date | null;

  @Column({ type: 'integer' })
  recovered_after_failures!: number;

  /** Failures before this no longer count for autoheal rules (an admin cleared the cooldown). */
  @Column({ type: Date, nullable: true })
  baseline_reset_at!: Date | null;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;
}

/** Out of autoheal's pause ladder: set when an endpoint is resumed by hand or disabled. */
export const AUTOHEAL_CLEARED = {
  autoheal_paused: false,
  pause_s: null,
  pause_streak: 0,
  probe_lease_until: null,
} satisfies Partial<EndpointEntity>;
