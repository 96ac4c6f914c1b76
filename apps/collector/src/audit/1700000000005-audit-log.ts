import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (see audit/audit-log.entity.ts). Besides the code having no update or delete
 * path, the database itself refuses UPDATE and DELETE on it (and TRUNCATE on PostgreSQL):
 * tampering then takes a deliberate DROP TRIGGER first, and `rounds-collector audit verify`
 * still finds what changed through the hash chain.
 */
export class AuditLog1700000000005 implements MigrationInterface {
  name = 'AuditLog1700000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'at', type: 'bigint' },
          { name: 'actor', type: 'text' },
          { name: 'source', type: 'varchar', length: '16' },
          { name: 'address', type: 'text', isNullable: true },
          { name: 'user_agent', type: 'text', isNullable: true },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'target_kind', type: 'varchar', length: '32' },
          { name: 'target_id', type: 'text', isNullable: true },
          { name: 'target_name', type: 'text', isNullable: true },
          { name: 'before_json', type: 'text', isNullable: true },
          { name: 'after_json', type: 'text', isNullable: true },
          { name: 'prev_hash', type: 'varchar', length: '64' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
        indices: [
          new TableIndex({ name: 'idx_audit_log_at', columnNames: ['at'] }),
          new TableIndex({ name: 'idx_audit_log_action', columnNames: ['action'] }),
          new TableIndex({ name: 'idx_audit_log_target_id', columnNames: ['target_id'] }),
        ],
      }),
    );
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(
        // The same words as SQLite's triggers below, per operation (TRUNCATE deletes too).
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only: its rows are never %', CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END; END $$",
      );
      await queryRunner.query('CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()');
      await queryRunner.query('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()');
    } else {
      await queryRunner.query(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its rows are never changed'); END",
      );
      await queryRunner.query(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its rows are never deleted'); END",
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // SQLite drops a table's triggers with it; PostgreSQL too, but not the function.
    await queryRunner.dropTable('audit_log');
    if (queryRunner.connection.options.type === 'postgres') await queryRunner.query('DROP FUNCTION audit_log_append_only()');
  }
}
