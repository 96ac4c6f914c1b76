import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

@Entity({ name: 'checks' })
@Unique('uq_checks_agent_name', ['agentId', 'name'])
export class CheckEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('idx_checks_agent_id')
  @Column({ name: 'agent_id', type: 'varchar', length: 36 })
  agentId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  plugin!: string;

  /** The plugin config exactly as validated against the plugin's schema, secrets included. */
  @Column({ name: 'config_json', type: 'text' })
  configJson!: string;

  /** `{key: value}` as JSON, keys sorted (shared/tags.ts). */
  @Column({ name: 'tags_json', type: 'text', default: '{}' })
  tagsJson!: string;

  @Column({ name: 'interval_ms', type: 'integer' })
  intervalMs!: number;

  @Column({ name: 'timeout_ms', type: 'integer' })
  timeoutMs!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Parents (checks or agents) as `[{kind, id}]` JSON (inventory/dependencies.ts): while one is down, this one's alerts are held. */
  @Column({ name: 'depends_on_json', type: 'text', default: '[]' })
  dependsOnJson!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;
}
