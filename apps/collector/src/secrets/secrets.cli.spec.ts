import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { createDataSource } from '../storage/data-source.js';
import { openTestDatabase } from '../storage/testing.js';
import { readKeyFile, SECRET_KEY_FILE_NAME, writeKeyFile } from '../storage/secret-key.store.js';
import { runCollectorCli } from '../cli/testing.js';

const AGENT_TOKEN = 'agent-token-for-rotation';

describe('rounds-collector secrets rotate-key', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  const run = (args: string[]) => runCollectorCli(db, args);
  /** The agent's token as the collector reads it, with the key now in the folder. */
  const storedToken = async () => {
    const dataSource = await createDataSource(db.config).initialize();
    try {
      return (await new AgentsRepository(dataSource).findByName('pacs-01'))?.token;
    } finally {
      await dataSource.destroy();
    }
  };

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: AGENT_TOKEN, fingerprint: 'f' });
    await db.dataSource.destroy();
  });
  after(() => db.close());

  it('re-encrypts under a new key, says what it did, and the agents still read afterwards', async () => {
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const old = readKeyFile(file);
    const res = await run(['secrets', 'rotate-key']);
    assert.equal(res.code, 0, res.output);
    const next = readKeyFile(file);
    assert.match(
      res.output,
      new RegExp(
        `^re-encrypted 1 agent token, 0 notification channels, 0 check configs, 0 user's two-factor secrets and 0 site-key enrolment secrets from key ${old.id} to key ${next.id}$`,
        'm',
      ),
    );
    assert.match(res.output, /^back the new key up with the database now/m);
    assert.equal(await storedToken(), AGENT_TOKEN);
  });

  it('stops with the wrong key, naming the key ids and what to do, and changes nothing', async () => {
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const right = readFileSync(file);
    writeKeyFile(file, randomBytes(32), false);
    try {
      const res = await run(['secrets', 'rotate-key']);
      assert.equal(res.code, 1, res.output);
      assert.match(
        res.output,
        /this database's key check \(written by the first collector that started on it: every collector on one database needs that collector's key\) was encrypted with secret key \S+, but the key in use is \S+ \(from .*secret\.key\) — put back the key/,
      );
    } finally {
      writeFileSync(file, right, { mode: 0o600 });
    }
    assert.equal(await storedToken(), AGENT_TOKEN);
  });

  it('answers an unknown subcommand with its usage', async () => {
    const res = await run(['secrets', 'rotate']);
    assert.equal(res.code, 1);
    assert.match(res.output, /usage: rounds-collector secrets rotate-key/);
  });
});
