import { Table, TableIndex, TableUnique } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History of metric series: each series of a check (a metric name with its labels) once in
 * `metric_series`, and its samples rolled up into 1-minute and 1-hour buckets (count, sum, min,
 * max) with the check roll-ups (history/metric-rollups.ts), pruned with them.
 */
export class MetricRollups1700000000010 implements MigrationInterface {
  name = 'MetricRollups1700000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'metric_series',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'check_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'text' },
          // The labels as a JSON object with sorted keys; '{}' without labels.
          { name: 'labels_json', type: 'text' },
          { name: 'unit', type: 'text' },
        ],
        uniques: [new TableUnique({ name: 'uq_metric_series', columnNames: ['check_id', 'name', 'labels_json'] })],
      }),
    );
    for (const table of ['metric_rollups_1m', 'metric_rollups_1h']) {
      await queryRunner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'series_id', type: 'integer', isPrimary: true },
            { name: 'bucket', type: 'bigint', isPrimary: true },
            { name: 'samples', type: 'integer' },
            { name: 'value_sum', type: 'double precision' },
            { name: 'value_min', type: 'double precision' },
            { name: 'value_max', type: 'double precision' },
          ],
          indices: [new TableIndex({ name: `idx_${table}_bucket`, columnNames: ['bucket'] })],
          // A rowid table, not WITHOUT ROWID: a bucket is updated on every roll-up while it is
          // current (an hour bucket hundreds of times), and in a rowid table those rows sit
          // together in the newest pages; keyed by series they would dirty a page per series.
        }),
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('metric_rollups_1h');
    await queryRunner.dropTable('metric_rollups_1m');
    await queryRunner.dropTable('metric_series');
  }
}
