import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History that lasts: check results rolled up into 1-minute and 1-hour buckets (history/rollups.ts),
 * and how far the raw results have been rolled up. Raw rows are pruned after days, buckets after
 * months and years (history/retention.service.ts).
 */
export class Rollups1700000000008 implements MigrationInterface {
  name = 'Rollups1700000000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['check_rollups_1m', 'check_rollups_1h']) {
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'check_id', type: 'varchar', length: '36', isPrimary: true },
            // Start of the bucket, epoch ms.
            { name: 'bucket', type: 'bigint', isPrimary: true },
            { name: 'agent_id', type: 'varchar', length: '36' },
            { name: 'results', type: 'integer' },
            { name: 'ok', type: 'integer' },
            { name: 'warning', type: 'integer' },
            { name: 'critical', type: 'integer' },
            { name: 'unknown', type: 'integer' },
            { name: 'duration_sum', type: 'bigint' },
            { name: 'duration_min', type: 'integer' },
            { name: 'duration_max', type: 'integer' },
          ],
          // Pruning deletes by age across all checks.
          indices: [new TableIndex({ name: `idx_${table}_bucket`, columnNames: ['bucket'] })],
        }),
      );
    }
    await queryRunner.createTable(
      new Table({
        name: 'rollup_progress',
        columns: [
          { name: 'name', type: 'varchar', length: '32', isPrimary: true },
          // The highest check_results id already counted in the buckets.
          { name: 'last_result_id', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.query(`INSERT INTO rollup_progress (name, last_result_id) VALUES ('results', 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('rollup_progress');
    await queryRunner.dropTable('check_rollups_1h');
    await queryRunner.dropTable('check_rollups_1m');
  }
}
