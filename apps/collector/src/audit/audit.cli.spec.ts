import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createDataSource } from '../storage/data-source.js';
import { dropAppendOnlyGuards } from './testing.js';
import { openTestDatabase } from '../storage/testing.js';
import { runCollectorCli } from '../cli/testing.js';

describe('rounds-collector audit verify | list', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  /** Runs the real CLI against the spec's database. */
  const cli = (args: string[]) => runCollectorCli(db, args);

  /** Tampers as someone with the database file would: the append-only triggers go first. */
  const tamper = async (...statements: string[]) => {
    const dataSource = await createDataSource(db.config).initialize();
    try {
      await dropAppendOnlyGuards(dataSource);
      for (const sql of statements) await dataSource.query(sql);
    } finally {
      await dataSource.destroy();
    }
  };

  before(async () => {
    db = await openTestDatabase();
    // The CLI opens the database itself; SQLite would otherwise be shared with this process.
    await db.dataSource.destroy();
  });
  after(() => db.close());

  it('verify exits 0 on an empty log, saying so', async () => {
    const res = await cli(['audit', 'verify']);
    assert.equal(res.code, 0, res.output);
    assert.equal(res.output.trim(), 'OK: the audit log is empty');
  });

  it('records CLI changes as cli:<os user> with source cli, lists them newest first, and verify exits 0 with the count and head', async () => {
    // Local commands (the operator commands go through the API, audited as the token's user).
    assert.equal((await cli(['user', 'add', '--name', 'night-shift', '--role', 'viewer'])).code, 0);
    assert.equal((await cli(['user', 'disable', 'night-shift'])).code, 0);
    const list = await cli(['audit', 'list', '--limit', '5']);
    assert.equal(list.code, 0, list.output);
    const user = userInfo().username;
    const lines = list.output.trim().split('\n');
    assert.equal(lines.length, 2, list.output);
    assert.match(lines[0]!, new RegExp(`^#2 \\S+Z cli:${user} \\(cli\\) user\\.disable user night-shift$`));
    assert.match(lines[1]!, new RegExp(`^#1 \\S+Z cli:${user} \\(cli\\) user\\.add user night-shift$`));
    assert.equal((await cli(['audit', 'list', '--limit', '1'])).output.trim().split('\n').length, 1);
    const verify = await cli(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.output);
    assert.match(verify.output.trim(), /^OK: 2 rows, the chain is intact; head #2 sha256 [0-9a-f]{64}$/);
  });

  it('verify exits 2 naming the row whose after was edited, then the row that was deleted', async () => {
    await tamper(`UPDATE audit_log SET actor = 'cli:someone-else' WHERE id = 1`);
    let res = await cli(['audit', 'verify']);
    assert.equal(res.code, 2, res.output);
    assert.match(
      res.output.trim(),
      /^BROKEN at row 1: its contents hash to [0-9a-f]{12}…, not to the stored [0-9a-f]{12}…: a field of this row was changed after it was written \(0 rows before it are intact\)$/,
    );
    await tamper('DELETE FROM audit_log WHERE id = 1');
    res = await cli(['audit', 'verify']);
    assert.equal(res.code, 2, res.output);
    assert.equal(res.output.trim(), 'BROKEN at row 1: row 1 is missing (deleted): the next row is 2, and it is the first row (0 rows before it are intact)');
  });

  it('refuses an unknown subcommand and a bad --limit with exit 1, saying what to type', async () => {
    const unknown = await cli(['audit', 'erase']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /usage: rounds-collector audit verify \| audit list \[--limit 20\]/);
    const bad = await cli(['audit', 'list', '--limit', 'lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /invalid --limit: limit: must be a whole number from 1 to 1000/);
  });
});
