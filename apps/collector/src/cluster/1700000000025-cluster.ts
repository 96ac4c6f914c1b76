import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several collectors on one PostgreSQL (cluster/): `collectors`, one row per running collector with
 * its heartbeat, and `leases`, who holds what (`agent:<id>`, `leader`) until when, under which
 * fencing epoch. SQLite has one collector (SOLO): the tables exist there too, empty, so both
 * dialects keep one schema.
 */
export class Cluster1700000000025 implements MigrationInterface {
  name = 'Cluster1700000000025';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'collectors',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'text' },
          { name: 'started_at', type: 'bigint' },
          { name: 'heartbeat_at', type: 'bigint' },
          { name: 'http_url', type: 'text', isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'leases',
        columns: [
          { name: 'name', type: 'text', isPrimary: true },
          { name: 'holder', type: 'varchar', length: '36' },
          // Goes up by one whenever the lease changes hands, never down: a write under an older epoch is refused.
          { name: 'epoch', type: 'bigint' },
          // Epoch ms by the holder's clock; 0 once released.
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('leases');
    await queryRunner.dropTable('collectors');
  }
}
