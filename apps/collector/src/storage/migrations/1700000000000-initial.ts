import { Table, TableForeignKey, TableIndex, TableUnique } from 'typeorm';
import type { MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';

// Column defaults are SQL expressions; these literals mean the same in SQLite and PostgreSQL.
const id = (name: string): TableColumnOptions => ({ name, type: 'varchar', length: '36' });
const epochMs = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });

export class Initial1700000000000 implements MigrationInterface {
  name = 'Initial1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // SQLite only auto-increments a column declared exactly INTEGER (a 64-bit rowid alias);
    // on PostgreSQL int4 would run out within a year of raw results, so it gets BIGSERIAL.
    const resultIdType = queryRunner.connection.driver.options.type === 'postgres' ? 'bigint' : 'integer';

    await queryRunner.createTable(
      new Table({
        name: 'agents',
        columns: [
          { ...id('id'), isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'host', type: 'text' },
          { name: 'port', type: 'integer' },
          { name: 'token', type: 'text' },
          { name: 'fingerprint', type: 'text' },
          { name: 'state', type: 'varchar', length: '16', default: "'UNKNOWN'" },
          epochMs('last_seen_at', true),
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'consecutive_failures', type: 'integer', default: '0' },
          { name: 'ack_seq', type: 'bigint', default: '0' },
          { name: 'spool_epoch', type: 'text', default: "''" },
          { name: 'assignment_version', type: 'text' },
          { name: 'agent_assignment_version', type: 'text', default: "''" },
          { name: 'description_json', type: 'text', isNullable: true },
          { name: 'dropped', type: 'bigint', default: '0' },
          { name: 'health_json', type: 'text', isNullable: true },
          epochMs('created_at'),
          epochMs('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'uq_agents_name', columnNames: ['name'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'checks',
        columns: [
          { ...id('id'), isPrimary: true },
          id('agent_id'),
          { name: 'name', type: 'text' },
          { name: 'plugin', type: 'text' },
          { name: 'config_json', type: 'text' },
          { name: 'interval_ms', type: 'integer' },
          { name: 'timeout_ms', type: 'integer' },
          { name: 'enabled', type: 'boolean', default: 'true' },
          epochMs('created_at'),
          epochMs('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'uq_checks_agent_name', columnNames: ['agent_id', 'name'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_checks_agent',
            columnNames: ['agent_id'],
            referencedTableName: 'agents',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [new TableIndex({ name: 'idx_checks_agent_id', columnNames: ['agent_id'] })],
      }),
      false,
      true,
      true,
    );

    await queryRunner.createTable(
      new Table({
        name: 'check_results',
        columns: [
          { name: 'id', type: resultIdType, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          id('check_id'),
          id('agent_id'),
          { name: 'seq', type: 'bigint' },
          epochMs('started_at'),
          { name: 'duration_ms', type: 'integer' },
          { name: 'status', type: 'smallint' },
          { name: 'reason', type: 'text' },
          { name: 'summary', type: 'text' },
          { name: 'metrics_json', type: 'text' },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_check_results_check',
            columnNames: ['check_id'],
            referencedTableName: 'checks',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
        // Serves both history queries (one check, a time range) and the cascade on check delete.
        indices: [new TableIndex({ name: 'idx_check_results_check_started', columnNames: ['check_id', 'started_at'] })],
      }),
      false,
      true,
      true,
    );

    await queryRunner.createTable(
      new Table({
        name: 'check_state',
        columns: [
          { ...id('check_id'), isPrimary: true },
          { name: 'status', type: 'smallint', default: '3' },
          { name: 'reason', type: 'text', default: "''" },
          { name: 'summary', type: 'text', default: "''" },
          epochMs('last_result_at', true),
          epochMs('last_ok_at', true),
          epochMs('last_change_at', true),
          { name: 'consecutive_failures', type: 'integer', default: '0' },
          { name: 'last_duration_ms', type: 'integer', isNullable: true },
          { name: 'last_seq', type: 'bigint', default: '0' },
          { name: 'metrics_json', type: 'text', default: "'[]'" },
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_check_state_check',
            columnNames: ['check_id'],
            referencedTableName: 'checks',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Children first, so no foreign key ever points at a dropped table.
    await queryRunner.dropTable('check_state');
    await queryRunner.dropTable('check_results');
    await queryRunner.dropTable('checks');
    await queryRunner.dropTable('agents');
  }
}
