import { Column, Entity, PrimaryColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'success', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One webhook to deliver: its payload, where it goes, and where it stands. */
@Entity({ name: 'deliveries' })
export class DeliveryEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 36 })
  endpoint_id!: string;

  @Column({ type: 'varchar', length: 2048 })
  endpoint_url!: string;

  @Column({ type: 'varchar', length: 200 })
  event_type!: string;

  /** The JSON body exactly as it will be sent (and signed). */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'integer' })
  payload_bytes!: number;

  @Column({ type: 'varchar', length: 200, nullable: true })
  idempotency_key!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'integer' })
  attempt_count!: number;

  @Column({ type: Date, nullable: true })
  next_attempt_at!: Date | null;

  @Column({ type: 'integer', nullable: true })
  last_status_code!: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  last_error_kind!: string | null;

  @Column({ type: Date })
  created_at!: Date;

  @Column({ type: Date })
  updated_at!: Date;

  @Column({ type: Date, nullable: true })
  completed_at!: Date | null;

  /** Why the next attempt happens, when it is not the schedule (e.g. `manual_replay`). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  pending_trigger!: string | null;

  /** The replica working on it, until the lease expires (then another may take it over). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  lease_owner!: string | null;

  @Column({ type: Date, nullable: true })
  lease_expires_at!: Date | null;
}
