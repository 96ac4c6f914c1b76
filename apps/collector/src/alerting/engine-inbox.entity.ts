import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/** A poll event of a collector that is not the leader, waiting for the leader's alert engine (alerting.repository.ts). */
@Entity({ name: 'engine_inbox' })
export class EngineInboxEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  at!: number;

  /** 'results', 'down' or 'up' (PollEvents). */
  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 36 })
  agentId!: string;

  @Column({ name: 'payload_json', type: 'text' })
  payloadJson!: string;
}
