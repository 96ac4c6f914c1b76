import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';

const epochMs = (name: string): TableColumnOptions => ({ name, type: 'bigint' });

/**
 * The alert engine's state (one JSON row, which also holds rules, silences, maintenance
 * windows and check policy overrides) and the append-only alert history.
 */
export class Alerting1700000000002 implements MigrationInterface {
  name = 'Alerting1700000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'alert_engine_state',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'version', type: 'integer' },
          { name: 'state_json', type: 'text' },
          epochMs('updated_at'),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'alert_history',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          epochMs('at'),
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'alert_name', type: 'text' },
          { name: 'transition', type: 'varchar', length: '32' },
          { name: 'by', type: 'text', isNullable: true },
          { name: 'comment', type: 'text', isNullable: true },
          { name: 'details_json', type: 'text' },
        ],
        indices: [
          new TableIndex({ name: 'idx_alert_history_at', columnNames: ['at'] }),
          new TableIndex({ name: 'idx_alert_history_fingerprint', columnNames: ['fingerprint', 'at'] }),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('alert_history');
    await queryRunner.dropTable('alert_engine_state');
  }
}
