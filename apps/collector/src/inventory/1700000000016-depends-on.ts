import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Alert dependencies: each agent's and check's parents, as one JSON list column each (inventory/dependencies.ts). */
export class DependsOn1700000000016 implements MigrationInterface {
  name = 'DependsOn1700000000016';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['agents', 'checks']) {
      await queryRunner.addColumn(table, new TableColumn({ name: 'depends_on_json', type: 'text', default: "'[]'" }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['checks', 'agents']) await queryRunner.dropColumn(table, 'depends_on_json');
  }
}
