import { Table, TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The alert engine across several collectors (docs/scaling.md, "High availability"): the poll
 * events of collectors that are not the leader wait in `engine_inbox` until the leader's engine
 * has taken them in (deleted in the transaction that commits the state they changed), and the
 * stored state gets a revision, so that a change made on any collector commits only on top of
 * the state it was made on. On SQLite (one collector) the inbox stays empty.
 */
export class EngineInbox1700000000027 implements MigrationInterface {
  name = 'EngineInbox1700000000027';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'engine_inbox',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'at', type: 'bigint' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'agent_id', type: 'varchar', length: '36' },
          { name: 'payload_json', type: 'text' },
        ],
      }),
    );
    await queryRunner.addColumn('alert_engine_state', new TableColumn({ name: 'revision', type: 'bigint', default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('alert_engine_state', 'revision');
    await queryRunner.dropTable('engine_inbox');
  }
}
