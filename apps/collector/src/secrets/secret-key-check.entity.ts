import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/** The database's one sealed key check (see SecretsRepository.resealAll). */
@Entity({ name: 'secret_key_check' })
export class SecretKeyCheckEntity {
  /** Always {@link SECRET_KEY_CHECK_ID}. */
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  /** A random value sealed with the key every collector on this database must have. */
  @Column({ type: 'text' })
  value!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt!: number;
}

export const SECRET_KEY_CHECK_ID = 1;
