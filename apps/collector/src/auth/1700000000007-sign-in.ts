import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signing in over HTTP: server-side sessions (auth/session.entity.ts), per-user API tokens
 * (auth/api-token.entity.ts) and the user columns two-factor sign-in needs. Session ids and API
 * tokens are stored as SHA-256 hashes only: a copy of the database signs nobody in.
 */
export class SignIn1700000000007 implements MigrationInterface {
  name = 'SignIn1700000000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Plain ALTER TABLE (SQLite and PostgreSQL alike): TypeORM's SQLite addColumns rebuilds the
    // table and trips over the expression index on lower(name).
    // The TOTP time step of the last accepted code: a code (or an earlier one) is never accepted twice.
    await queryRunner.query('ALTER TABLE users ADD COLUMN totp_last_step bigint NULL');
    // JSON array of the unused backup codes' SHA-256 hashes (hex); null without 2FA.
    await queryRunner.query('ALTER TABLE users ADD COLUMN backup_codes text NULL');
    const userFk = () => new TableForeignKey({ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' });
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'stage', type: 'varchar', length: '16' },
          { name: 'csrf_token', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_seen_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'address', type: 'text', isNullable: true },
          { name: 'user_agent', type: 'text', isNullable: true },
          { name: 'pending_totp_secret', type: 'text', isNullable: true },
        ],
        foreignKeys: [userFk()],
        indices: [new TableIndex({ name: 'idx_sessions_user_id', columnNames: ['user_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'api_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'text' },
          { name: 'hash', type: 'varchar', length: '64' },
          { name: 'prefix', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint', isNullable: true },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
          { name: 'last_used_address', type: 'text', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
        foreignKeys: [userFk()],
        indices: [
          new TableIndex({ name: 'idx_api_tokens_hash', columnNames: ['hash'], isUnique: true }),
          new TableIndex({ name: 'idx_api_tokens_user_id', columnNames: ['user_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('api_tokens');
    await queryRunner.dropTable('sessions');
    await queryRunner.query('ALTER TABLE users DROP COLUMN backup_codes');
    await queryRunner.query('ALTER TABLE users DROP COLUMN totp_last_step');
  }
}
