import { Table, TableForeignKey, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Enrolling many agents with a site key (enrolment/): the key itself, sealed like the other
 * secrets, and one row per agent of a submitted list — from first contact through a person's
 * approval to the claim — so that pending approvals and claims under way survive a restart and
 * any collector sharing the database can carry them on (rows are leased while worked on).
 */
export class SiteEnrolment1700000000012 implements MigrationInterface {
  name = 'SiteEnrolment1700000000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'site_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          // Sealed (storage/secret-box.ts): the collector must use the key, so it cannot be hashed.
          { name: 'key', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'created_by', type: 'text' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'enrolments',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'batch_id', type: 'varchar', length: '36' },
          // The line of the submitted CSV, as its author counts them.
          { name: 'line', type: 'integer' },
          { name: 'name', type: 'text' },
          { name: 'host', type: 'text' },
          { name: 'port', type: 'integer' },
          { name: 'tags_json', type: 'text', default: "'{}'" },
          { name: 'state', type: 'varchar', length: '16' },
          // What the agent said at first contact: its own id, certificate, host name and release.
          { name: 'agent_uid', type: 'text', isNullable: true },
          { name: 'fingerprint', type: 'text', isNullable: true },
          { name: 'hostname', type: 'text', isNullable: true },
          { name: 'agent_version', type: 'text', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          // Sealed; set just before a claim, until the agent it was claimed with is registered.
          { name: 'token', type: 'text', isNullable: true },
          { name: 'agent_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'lease_until', type: 'bigint', isNullable: true },
          { name: 'submitted_by', type: 'text' },
          { name: 'approved_by', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'idx_enrolments_batch', columnNames: ['batch_id', 'line'] }),
          // The worker's look for rows to contact or claim.
          new TableIndex({ name: 'idx_enrolments_state', columnNames: ['state'] }),
        ],
        // The row outlives its agent as a record of how it was enrolled.
        foreignKeys: [new TableForeignKey({ columnNames: ['agent_id'], referencedTableName: 'agents', referencedColumnNames: ['id'], onDelete: 'SET NULL' })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('enrolments');
    await queryRunner.dropTable('site_keys');
  }
}
