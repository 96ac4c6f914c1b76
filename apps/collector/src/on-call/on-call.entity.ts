import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/**
 * An on-call schedule. Its rotations and contacts are validated JSON columns (on-call.dto.ts):
 * they are read and written whole, and never queried by their parts.
 */
@Entity({ name: 'on_call_schedules' })
export class OnCallScheduleEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'time_zone', type: 'text' })
  timeZone!: string;

  /** rotation.ts `Rotation[]`, users by name. */
  @Column({ name: 'rotations_json', type: 'text' })
  rotationsJson!: string;

  /** `{ user name: channel ids }`. */
  @Column({ name: 'contacts_json', type: 'text' })
  contactsJson!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}

/** Someone covering a schedule from one instant to another; removed with its schedule. */
@Entity({ name: 'on_call_overrides' })
export class OnCallOverrideEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'schedule_id', type: 'varchar', length: 36 })
  scheduleId!: string;

  @Column({ name: 'user_name', type: 'text' })
  userName!: string;

  @Column({ name: 'starts_at', type: 'bigint', transformer: bigintAsNumber })
  startsAt!: number;

  @Column({ name: 'ends_at', type: 'bigint', transformer: bigintAsNumber })
  endsAt!: number;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;
}
