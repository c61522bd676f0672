import { Column, Entity, PrimaryColumn } from 'typeorm';

export const ATTEMPT_TRIGGERS = ['initial', 'retry', 'manual_replay', 'bulk_replay', 'autoheal', 'probe'] as const;
export type AttemptTrigger = (typeof ATTEMPT_TRIGGERS)[number];
export type AttemptErrorKind =
  'timeout' | 'dns' | 'connect' | 'tls' | 'ssrf_blocked' | 'http_status' | 'endpoint_disabled';

/** One try at delivering: when, how long, and what came back. */
@Entity({ name: 'delivery_attempts' })
export class AttemptEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  delivery_id!: string;

  @Column({ type: 'varchar', length: 128 })
  tenant_id!: string;

  @Column({ type: 'varchar', length: 36 })
  endpoint_id!: string;

  @Column({ type: 'integer' })
  attempt_number!: number;

  @Column({ type: 'varchar', length: 16 })
  trigger!: AttemptTrigger;

  @Column({ type: Date })
  started_at!: Date;

  @Column({ type: 'integer' })
  duration_ms!: number;

  @Column({ type: 'integer', nullable: true })
  status_code!: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  error_kind!: AttemptErrorKind | null;

  @Column({ type: 'text', nullable: true })
  response_excerpt!: string | null;
}
