import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../storage/entities/transformers.js';

/**
 * Failed sign-ins for what has no row of its own to count them in: client addresses, and user
 * names that do not exist (so that an unknown name locks exactly like a real one and the answers
 * never say which names exist). Known accounts count theirs in the users table. In the database
 * rather than in memory so that every collector behind a load balancer counts the same failures.
 */
@Entity({ name: 'sign_in_lockouts' })
export class SignInLockoutEntity {
  /** `address:<client address>` or `name:<lower-cased user name>`. */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key!: string;

  @Column({ type: 'integer' })
  failures!: number;

  @Index('idx_sign_in_lockouts_last_failure_at')
  @Column({ name: 'last_failure_at', type: 'bigint', transformer: bigintAsNumber })
  lastFailureAt!: number;

  /** 0 when not locked. */
  @Column({ name: 'locked_until', type: 'bigint', transformer: bigintAsNumber })
  lockedUntil!: number;
}
