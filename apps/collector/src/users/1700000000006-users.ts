import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users of the admin UI (users/user.entity.ts). The name's uniqueness is an expression index on
 * lower(name), which SQLite and PostgreSQL both accept, so "Admin" cannot be added beside "admin".
 */
export class Users1700000000006 implements MigrationInterface {
  name = 'Users1700000000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'password_hash', type: 'text' },
          { name: 'must_change_password', type: 'boolean', default: 'false' },
          { name: 'disabled', type: 'boolean', default: 'false' },
          { name: 'totp_secret', type: 'text', isNullable: true },
          { name: 'failed_sign_ins', type: 'integer', default: '0' },
          { name: 'locked_until', type: 'bigint', isNullable: true },
          { name: 'last_sign_in_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.query('CREATE UNIQUE INDEX idx_users_name_lower ON users (lower(name))');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('users');
  }
}
