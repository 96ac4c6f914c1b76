import { Table, TableForeignKey, TableIndex, TableUnique } from 'typeorm';
import type { MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';

const id = (name: string): TableColumnOptions => ({ name, type: 'varchar', length: '36' });
const epochMs = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });

/** Notification channels and the outbox that delivers to them. */
export class Notifications1700000000001 implements MigrationInterface {
  name = 'Notifications1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'notification_channels',
        columns: [
          { ...id('id'), isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'config_json', type: 'text' },
          { name: 'enabled', type: 'boolean', default: 'true' },
          { name: 'last_error', type: 'text', isNullable: true },
          epochMs('last_success_at', true),
          epochMs('failing_since', true),
          epochMs('created_at'),
          epochMs('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'uq_notification_channels_name', columnNames: ['name'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'notification_outbox',
        columns: [
          { ...id('id'), isPrimary: true },
          { name: 'key', type: 'text' },
          id('channel_id'),
          { name: 'payload_json', type: 'text' },
          { name: 'status', type: 'varchar', length: '16', default: "'pending'" },
          { name: 'attempts', type: 'integer', default: '0' },
          epochMs('next_attempt_at'),
          { name: 'last_error', type: 'text', isNullable: true },
          epochMs('created_at'),
          epochMs('sent_at', true),
        ],
        // The idempotency of enqueue rests on this constraint (INSERT … ON CONFLICT DO NOTHING).
        uniques: [new TableUnique({ name: 'uq_notification_outbox_key', columnNames: ['key'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_notification_outbox_channel',
            columnNames: ['channel_id'],
            referencedTableName: 'notification_channels',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
        indices: [
          new TableIndex({ name: 'idx_notification_outbox_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'idx_notification_outbox_channel', columnNames: ['channel_id'] }),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notification_outbox');
    await queryRunner.dropTable('notification_channels');
  }
}
