import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

export const AGENT_STATES = ['UNKNOWN', 'UP', 'DOWN'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

@Entity({ name: 'agents' })
export class AgentEntity {
  /** crypto.randomUUID(), assigned in code so SQLite and PostgreSQL behave alike. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'integer' })
  port!: number;

  /**
   * Bearer token the collector presents to the agent. It cannot be hashed — the collector
   * must send it on every call — so it is stored sealed (`enc:v1:…`, see storage/secret-box.ts)
   * by AgentsRepository and opened on read; every API response, page and log line shows it redacted.
   */
  @Column({ type: 'text' })
  token!: string;

  /** SHA-256 hex of the agent's TLS certificate, pinned at enrolment. */
  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ type: 'varchar', length: 16, default: 'UNKNOWN' })
  state!: AgentState;

  @Column({ name: 'last_seen_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastSeenAt!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures!: number;

  /** Highest result seq durably stored for `spoolEpoch`; sent back as the agent's ack. */
  @Column({ name: 'ack_seq', type: 'bigint', default: 0, transformer: bigintAsNumber })
  ackSeq!: number;

  @Column({ name: 'spool_epoch', type: 'text', default: '' })
  spoolEpoch!: string;

  /** The check set the collector wants the agent to run; changes whenever one of its checks does. */
  @Column({ name: 'assignment_version', type: 'text' })
  assignmentVersion!: string;

  /** What the agent last said it runs; differing from `assignmentVersion` means "send the checks". */
  @Column({ name: 'agent_assignment_version', type: 'text', default: '' })
  agentAssignmentVersion!: string;

  /** Last Describe answer, kept as sent so the UI can show plugins and schemas while the agent is down. */
  @Column({ name: 'description_json', type: 'text', nullable: true })
  descriptionJson!: string | null;

  /** Results the agent's spool discarded since it started (as last reported). */
  @Column({ type: 'bigint', default: 0, transformer: bigintAsNumber })
  dropped!: number;

  @Column({ name: 'health_json', type: 'text', nullable: true })
  healthJson!: string | null;

  /** `{key: value}` as JSON, keys sorted (shared/tags.ts). */
  @Column({ name: 'tags_json', type: 'text', default: '{}' })
  tagsJson!: string;

  /** Parents (checks or agents) as `[{kind, id}]` JSON (inventory/dependencies.ts): while one is down, this one's alerts are held. */
  @Column({ name: 'depends_on_json', type: 'text', default: '[]' })
  dependsOnJson!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  /** Last edit of the agent's definition; poll bookkeeping does not touch it (see `lastSeenAt`). */
  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}
