import { TableColumn } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tags (`site=north`) on agents and checks, as one JSON object column each (shared/tags.ts). */
export class Tags1700000000009 implements MigrationInterface {
  name = 'Tags1700000000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['agents', 'checks']) {
      await queryRunner.addColumn(table, new TableColumn({ name: 'tags_json', type: 'text', default: "'{}'" }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['checks', 'agents']) await queryRunner.dropColumn(table, 'tags_json');
  }
}
