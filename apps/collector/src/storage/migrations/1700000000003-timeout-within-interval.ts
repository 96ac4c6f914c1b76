import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A timeout never exceeds its interval now, and agents refuse a check whose timeout does.
 * Checks saved before (`check add --interval 1s` gave a 10 s timeout) would turn UNKNOWN
 * the moment their agent is upgraded: their timeout is shortened to their interval, which
 * is also how long a run could last before it overlapped the next one anyway.
 */
export class TimeoutWithinInterval1700000000003 implements MigrationInterface {
  name = 'TimeoutWithinInterval1700000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('UPDATE checks SET timeout_ms = interval_ms WHERE timeout_ms > interval_ms');
  }

  // The longer timeouts are not kept anywhere, and the shortened ones are valid for the older code too.
  async down(): Promise<void> {}
}
