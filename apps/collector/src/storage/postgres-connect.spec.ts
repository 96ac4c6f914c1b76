import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../../../test/peers/process.js';
import { runCollectorCli } from '../cli/testing.js';

describe('ROUNDS_DATABASE_URL', () => {
  it('names the server, database and user it could not reach, and what to check, but never the password', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rounds-pg-connect-'));
    try {
      const port = await freePort(); // nothing listens there
      const run = await runCollectorCli(join(root, 'data'), ['start'], {
        env: { ROUNDS_DATABASE_URL: `postgres://rounds:s3cret-pw@127.0.0.1:${port}/rounds`, ROUNDS_SECRET_KEY: randomBytes(32).toString('base64') },
      });
      assert.notEqual(run.code, 0);
      assert.match(
        run.output,
        new RegExp(`cannot open PostgreSQL at 127\\.0\\.0\\.1:${port}, database rounds, user rounds \\(ROUNDS_DATABASE_URL\\): connect ECONNREFUSED`),
      );
      assert.match(run.output, /check that the server runs and listens on that address \(listen_addresses\), that pg_hba\.conf lets this host in/);
      assert.ok(!run.output.includes('s3cret-pw'), run.output);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
