import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/** One notification policy; its rules (matchers, severities, time, continue, steps) are one validated JSON column. */
@Entity({ name: 'notification_policies' })
export class NotificationPolicyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  /** 0-based place in the list; policies are judged in this order. */
  @Column({ type: 'integer' })
  position!: number;

  /** policy.ts StoredRules. */
  @Column({ name: 'rules_json', type: 'text' })
  rulesJson!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}

export const ROUTING_SETTINGS_ID = 'routing';

/** The one row of routing settings: the default route and the working hours. */
@Entity({ name: 'notification_routing' })
export class NotificationRoutingEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  id!: string;

  @Column({ name: 'settings_json', type: 'text' })
  settingsJson!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}

export const STEP_STATUSES = ['pending', 'sent', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/**
 * One escalation step of one route for one alert episode: the timeline. Written when the alert
 * fires (step 0 as sent, later steps pending with their due time), settled when due (sent, or
 * cancelled because the alert was acknowledged or resolved meanwhile): it survives a restart,
 * and the channels of its sent rows are who hears that the alert resolved.
 */
@Entity({ name: 'notification_steps' })
@Index('idx_notification_steps_due', ['status', 'dueAt'])
@Index('idx_notification_steps_episode', ['fingerprint', 'activeAt'])
export class NotificationStepEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** `<fingerprint>/<activeAt>/<policy id>/<step>`: routing the same firing again adds nothing. */
  @Column({ type: 'text', unique: true })
  key!: string;

  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** The alert episode (the engine's activeAt). */
  @Column({ name: 'active_at', type: 'bigint', transformer: bigintAsNumber })
  activeAt!: number;

  @Column({ name: 'alert_name', type: 'text' })
  alertName!: string;

  @Column({ name: 'policy_id', type: 'varchar', length: 36 })
  policyId!: string;

  @Column({ name: 'policy_name', type: 'text' })
  policyName!: string;

  @Column({ type: 'integer' })
  step!: number;

  @Column({ name: 'due_at', type: 'bigint', transformer: bigintAsNumber })
  dueAt!: number;

  /** The step's targets as configured (policy.ts RouteTarget[]). */
  @Column({ name: 'targets_json', type: 'text' })
  targetsJson!: string;

  /** Channel ids the targets resolved to when the step was sent; null until then. */
  @Column({ name: 'channel_ids_json', type: 'text', nullable: true })
  channelIdsJson!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: StepStatus;

  /** Why a step was cancelled, or what its targets did not reach (an unknown schedule). */
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  /** The alert's latest "firing" message (a severity change replaces it in pending steps). */
  @Column({ name: 'payload_json', type: 'text' })
  payloadJson!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'settled_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  settledAt!: number | null;
}
