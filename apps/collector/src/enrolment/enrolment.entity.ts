import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/**
 * Where one line of a submitted list is: `contacting` (first contact queued or under way),
 * `pending` (the agent answered: a person approves its fingerprint), `approved` (the claim
 * queued or under way), `enrolled` (claimed and registered as an agent), `failed` (why in `error`).
 */
export const ENROLMENT_STATES = ['contacting', 'pending', 'approved', 'enrolled', 'failed'] as const;
export type EnrolmentState = (typeof ENROLMENT_STATES)[number];

/** One agent of a list enrolled with the site key (see enrolments.service.ts). */
@Entity({ name: 'enrolments' })
export class EnrolmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'batch_id', type: 'varchar', length: 36 })
  batchId!: string;

  @Column({ type: 'integer' })
  line!: number;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'integer' })
  port!: number;

  @Column({ name: 'tags_json', type: 'text', default: '{}' })
  tagsJson!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: EnrolmentState;

  /** The agent's own id (its config's `id`), from the first contact. */
  @Column({ name: 'agent_uid', type: 'text', nullable: true })
  agentUid!: string | null;

  /** SHA-256 of the certificate seen at first contact: what a person approves and the claim pins. */
  @Column({ type: 'text', nullable: true })
  fingerprint!: string | null;

  @Column({ type: 'text', nullable: true })
  hostname!: string | null;

  @Column({ name: 'agent_version', type: 'text', nullable: true })
  agentVersion!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /**
   * The token a claim gave the agent, sealed (storage/secret-box.ts), kept from just before the
   * claim until the agent is registered: an answer lost on the way, or a restart, does not lose it.
   */
  @Column({ type: 'text', nullable: true })
  token!: string | null;

  /** The agent registered from this line. */
  @Column({ name: 'agent_id', type: 'varchar', length: 36, nullable: true })
  agentId!: string | null;

  /** While a collector works on the row: until when it is that collector's. */
  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  leaseUntil!: number | null;

  @Column({ name: 'submitted_by', type: 'text' })
  submittedBy!: string;

  @Column({ name: 'approved_by', type: 'text', nullable: true })
  approvedBy!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}

/** The site key agents are installed with (one at a time), sealed. */
@Entity({ name: 'site_keys' })
export class SiteKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text' })
  key!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;
}
