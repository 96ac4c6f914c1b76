import { Table, TableIndex, TableUnique } from 'typeorm';
import type { MigrationInterface, QueryRunner, TableColumnOptions } from 'typeorm';

const epochMs = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });

/**
 * Notification routing (routing/): the ordered policies, the routing settings (default route,
 * working hours) and the escalation timeline of every alert episode. No row in
 * notification_routing means the default route is every enabled channel: existing installs
 * notify as they did.
 */
export class NotificationRouting1700000000019 implements MigrationInterface {
  name = 'NotificationRouting1700000000019';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'notification_policies',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'position', type: 'integer' },
          { name: 'rules_json', type: 'text' },
          epochMs('created_at'),
          epochMs('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'uq_notification_policies_name', columnNames: ['name'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'notification_routing',
        columns: [{ name: 'id', type: 'varchar', length: '16', isPrimary: true }, { name: 'settings_json', type: 'text' }, epochMs('updated_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'notification_steps',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'key', type: 'text' },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          epochMs('active_at'),
          { name: 'alert_name', type: 'text' },
          { name: 'policy_id', type: 'varchar', length: '36' },
          { name: 'policy_name', type: 'text' },
          { name: 'step', type: 'integer' },
          epochMs('due_at'),
          { name: 'targets_json', type: 'text' },
          { name: 'channel_ids_json', type: 'text', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'note', type: 'text', isNullable: true },
          { name: 'payload_json', type: 'text' },
          epochMs('created_at'),
          epochMs('settled_at', true),
        ],
        // Routing the same firing twice (a replayed step) inserts nothing: ON CONFLICT DO NOTHING rests on this.
        uniques: [new TableUnique({ name: 'uq_notification_steps_key', columnNames: ['key'] })],
        indices: [
          new TableIndex({ name: 'idx_notification_steps_due', columnNames: ['status', 'due_at'] }),
          new TableIndex({ name: 'idx_notification_steps_episode', columnNames: ['fingerprint', 'active_at'] }),
        ],
      }),
      false,
      true,
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('notification_steps');
    await queryRunner.dropTable('notification_routing');
    await queryRunner.dropTable('notification_policies');
  }
}
