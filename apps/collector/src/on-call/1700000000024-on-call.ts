import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** On-call schedules (on-call/): the schedules with their rotations and contacts, and their overrides. */
export class OnCall1700000000024 implements MigrationInterface {
  name = 'OnCall1700000000024';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'on_call_schedules',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'time_zone', type: 'text' },
          { name: 'rotations_json', type: 'text' },
          { name: 'contacts_json', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        // Routing names a schedule by name: one name, one schedule.
        indices: [new TableIndex({ name: 'idx_on_call_schedules_name', columnNames: ['name'], isUnique: true })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'on_call_overrides',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'schedule_id', type: 'varchar', length: '36' },
          { name: 'user_name', type: 'text' },
          { name: 'starts_at', type: 'bigint' },
          { name: 'ends_at', type: 'bigint' },
          { name: 'comment', type: 'text', isNullable: true },
          { name: 'created_by', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_on_call_overrides_schedule', columnNames: ['schedule_id', 'ends_at'] })],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['schedule_id'], referencedTableName: 'on_call_schedules', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('on_call_overrides');
    await queryRunner.dropTable('on_call_schedules');
  }
}
