import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createDataSource } from '../storage/data-source.js';
import { openTestDatabase, TEST_ON_POSTGRES } from '../storage/testing.js';
import { verifyPassword } from './passwords.js';
import { COLLECTOR_BIN } from '../cli/testing.js';

describe('rounds-collector start on an empty database', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  /** Starts the real collector on an ephemeral port, waits for "ready", stops it with SIGTERM; resolves with all it printed. */
  const startAndStop = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [COLLECTOR_BIN, 'start'], {
        env: {
          PATH: process.env['PATH'],
          NO_COLOR: '1',
          ...db.env,
          ROUNDS_HTTP_HOST: '127.0.0.1',
          ROUNDS_HTTP_PORT: '0',
          ROUNDS_LOG_LEVEL: 'log',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready: http:/.test(output) && !child.killed) child.kill('SIGTERM');
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(output);
      });
    });

  before(async () => {
    db = await openTestDatabase();
    await db.dataSource.destroy();
  });
  after(() => db.close());

  it('creates admin once, printing a password that verifies and must be changed, and says nothing of it on the next start', async () => {
    const first = await startAndStop();
    const password =
      /first start: created user "admin" \(role admin\) with the password (\S{20}) — shown once; it must be changed at the first sign-in\. Lost it\? `rounds-collector user reset-password admin` prints a new one\./.exec(
        first,
      )?.[1];
    assert.ok(password, first);
    const dataSource = await createDataSource(db.config).initialize();
    try {
      const rows = await dataSource.query<{ name: string; role: string; password_hash: string; must_change_password: number }[]>('SELECT * FROM users');
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]!.name, rows[0]!.role, rows[0]!.must_change_password], ['admin', 'admin', TEST_ON_POSTGRES ? true : 1]);
      assert.equal(await verifyPassword(rows[0]!.password_hash, password), true);
    } finally {
      await dataSource.destroy();
    }
    const second = await startAndStop();
    assert.match(second, /ready: http:/);
    assert.doesNotMatch(second, /created user/);
  });
});
