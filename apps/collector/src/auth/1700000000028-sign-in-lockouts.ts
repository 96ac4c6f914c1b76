import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sign_in_lockouts`: failed sign-ins per client address and per unknown user name (known accounts
 * count theirs in `users`). Kept in each collector's memory before: behind a load balancer every
 * collector counted its own share, and an attacker got one round of attempts per collector
 * (docs/scaling.md, "High availability").
 */
export class SignInLockouts1700000000028 implements MigrationInterface {
  name = 'SignInLockouts1700000000028';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sign_in_lockouts',
        columns: [
          // `address:<ip>` or `name:<lower-cased name>`.
          { name: 'key', type: 'varchar', length: '200', isPrimary: true },
          { name: 'failures', type: 'integer' },
          { name: 'last_failure_at', type: 'bigint' },
          { name: 'locked_until', type: 'bigint' },
        ],
        // Forgetting old rows reads them by age.
        indices: [new TableIndex({ name: 'idx_sign_in_lockouts_last_failure_at', columnNames: ['last_failure_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sign_in_lockouts');
  }
}
