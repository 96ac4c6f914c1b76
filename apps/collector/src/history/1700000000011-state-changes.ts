import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A check's state history: one row each time its status takes a different value (the first
 * result included), written with the result that changed it (polling/result-writer.ts). Raw
 * results go after days; these few rows are what says "CRITICAL from 02:10 to 02:41" a year
 * later, so they are kept as long as the hour buckets, and go with their check.
 */
export class StateChanges1700000000011 implements MigrationInterface {
  name = 'StateChanges1700000000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'state_changes',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'check_id', type: 'varchar', length: '36' },
          // started_at of the result that changed the status, epoch ms.
          { name: 'at', type: 'bigint' },
          // NULL for the check's first result.
          { name: 'from_status', type: 'smallint', isNullable: true },
          { name: 'to_status', type: 'smallint' },
          { name: 'reason', type: 'text' },
          { name: 'summary', type: 'text' },
        ],
        indices: [
          // A check's page reads a range of one check; pruning deletes by age across all.
          new TableIndex({ name: 'idx_state_changes_check_at', columnNames: ['check_id', 'at'] }),
          new TableIndex({ name: 'idx_state_changes_at', columnNames: ['at'] }),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['check_id'], referencedTableName: 'checks', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('state_changes');
  }
}
