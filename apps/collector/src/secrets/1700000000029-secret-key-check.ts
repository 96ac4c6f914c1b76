import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `secret_key_check`: one sealed value that the first collector to start on a database writes with
 * its key. A collector that starts with another key fails to open it and stops, naming both keys —
 * before, collectors sharing an empty database with different keys each sealed with their own, and
 * each failed on what the others had stored only later, agent by agent.
 */
export class SecretKeyCheck1700000000029 implements MigrationInterface {
  name = 'SecretKeyCheck1700000000029';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'secret_key_check',
        columns: [
          // Always 1: one row per database.
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'value', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('secret_key_check');
  }
}
