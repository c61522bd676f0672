import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AnomalyStatus } from './anomaly-lifecycle.js';
import type { AnomalyKind, AnomalySeverity, BaselineMode, Signal } from './anomaly-signals.js';

/** One anomaly of one tenant's signal: opened, updated, triaged, resolved, and reopened in place. */
@Entity({ name: 'anomalies' })
export class AnomalyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 32 })
  kind!: AnomalyKind;

  @Column({ type: 'varchar', length: 32 })
  signal!: Signal;

  @Column({ type: 'varchar', length: 16 })
  status!: AnomalyStatus;

  @Column({ type: 'varchar', length: 16 })
  severity!: AnomalySeverity;

  @Column({ type: 'varchar', length: 16 })
  baseline_mode!: BaselineMode;

  /** The level (median of the last three complete buckets) at the last anomalous evaluation. */
  @Column({ type: 'double precision' })
  current_value!: number;

  @Column({ type: 'double precision' })
  baseline_median!: number;

  @Column({ type: 'double precision' })
  baseline_mad!: number;

  @Column({ type: 'double precision' })
  band_low!: number;

  @Column({ type: 'double precision' })
  band_high!: number;

  @Column({ type: 'double precision' })
  score!: number;

  @Column({ type: 'double precision' })
  peak_score!: number;

  @Column({ type: 'integer' })
  sample_size!: number;

  @Column({ type: Date })
  first_seen_at!: Date;

  @Column({ type: Date })
  last_seen_at!: Date;

  /** Back inside the band since then (resolves after ANOMALY_RESOLVE_AFTER_S); null while outside. */
  @Column({ type: Date, nullable: true })
  inside_since!: Date | null;

  @Column({ type: Date, nullable: true })
  resolved_at!: Date | null;

  @Column({ type: 'integer' })
  reopen_count!: number;

  @Column({ type: 'text', nullable: true })
  triage_note!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  triaged_by!: string | null;

  @Column({ type: Date, nullable: true })
  triaged_at!: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  assignee!: string | null;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;
}
