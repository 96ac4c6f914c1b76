import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase } from '../storage/testing.js';
import { queryDatabase, runCollectorCli } from '../cli/testing.js';

describe('rounds-collector token add | list | revoke | rotate', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const cli = (args: string[]) => runCollectorCli(db, args);

  const query = <T>(sql: string) => queryDatabase<T>(db.config, sql);
  const tokenOf = (output: string) => /^token \(shown once; only its hash is kept\): (rnd_[A-Za-z0-9_-]{32})$/m.exec(output)?.[1];

  before(async () => {
    db = await openTestDatabase();
    await db.dataSource.destroy();
    assert.equal((await cli(['user', 'add', '--name', 'pacs-team', '--role', 'operator'])).code, 0);
  });
  after(() => db.close());

  let first = '';

  it('add prints the token once with its expiry, stores only its hash, and audits it as the OS user', async () => {
    const add = await cli(['token', 'add', 'pacs-team', '--name', 'backup script', '--expires', '90d']);
    assert.equal(add.code, 0, add.output);
    assert.match(add.output, /^added API token "backup script" of pacs-team \(id [0-9a-f-]{36}, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/m);
    first = tokenOf(add.output) ?? '';
    assert.ok(first, add.output);
    const [row] = await query<{ hash: string; expires_at: number; created_at: number }>('SELECT hash, expires_at, created_at FROM api_tokens');
    assert.equal(row?.hash, createHash('sha256').update(first).digest('hex'));
    assert.equal(Number(row?.expires_at) - Number(row?.created_at), 90 * 86_400_000);
    const dump = JSON.stringify([await query('SELECT * FROM api_tokens'), await query('SELECT * FROM audit_log')]);
    assert.ok(!dump.includes(first));
    const [audit] = await query<{ actor: string; action: string; target_name: string }>(
      "SELECT actor, action, target_name FROM audit_log WHERE action = 'api-token.create'",
    );
    assert.deepEqual(audit, { actor: `cli:${userInfo().username}`, action: 'api-token.create', target_name: 'pacs-team/backup script' });
  });

  it('list shows prefix, owner, state and times, never the token', async () => {
    const list = await cli(['token', 'list']);
    assert.equal(list.code, 0, list.output);
    const [header, row, ...rest] = list.output.trim().split('\n');
    assert.match(header!, /^ID\s+PREFIX\s+NAME\s+OWNER\s+STATE\s+CREATED\s+EXPIRES\s+LAST USED$/);
    assert.ok(row!.includes(first.slice(0, 10)) && !row!.includes(first));
    assert.match(row!, /backup script\s+pacs-team\s+active\s+\S+Z\s+\S+Z\s+never$/);
    assert.equal(rest.length, 0);
    assert.match((await cli(['token', 'list', '--user', 'nobody'])).output, /no user named "nobody"/);
  });

  it('rotate prints a new token and revokes the old one; revoke by prefix; errors say what to do', async () => {
    const rotate = await cli(['token', 'rotate', first.slice(0, 10)]);
    assert.equal(rotate.code, 0, rotate.output);
    const second = tokenOf(rotate.output);
    assert.ok(second && second !== first);
    const states = await query<{ prefix: string; revoked_at: number | null }>('SELECT prefix, revoked_at FROM api_tokens ORDER BY created_at');
    assert.equal(states.length, 2);
    assert.ok(states[0]!.revoked_at !== null && states[1]!.revoked_at === null);

    const revoke = await cli(['token', 'revoke', second.slice(0, 10)]);
    assert.equal(revoke.code, 0, revoke.output);
    assert.match(revoke.output, /^revoked API token "backup script" of pacs-team: it stops working at once$/m);
    const again = await cli(['token', 'revoke', second.slice(0, 10)]);
    assert.notEqual(again.code, 0);
    assert.match(again.output, /is revoked already/);
    const unknown = await cli(['token', 'revoke', 'rnd_nope']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.output, /no API token "rnd_nope" — `rounds-collector token list`/);
    const bad = await cli(['token', 'add', 'pacs-team', '--name', 'x', '--expires', 'soon']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /--expires must be a duration like 30s, 5m, 1h, 90d or 1500ms, got "soon"/);
  });
});
