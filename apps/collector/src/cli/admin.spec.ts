import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentsRepository } from '../inventory/agents.repository.js';
import { openTestDatabase } from '../storage/testing.js';
import { readKeyFile, SECRET_KEY_FILE_NAME, writeKeyFile } from '../storage/secret-key.store.js';
import { runCollectorCli } from './testing.js';

describe('rounds-collector check add (limits)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  /** `check add` of a tcp check on pacs-01 through the real CLI, against the spec's database. */
  const checkAdd = (args: string[], env: Record<string, string> = {}) =>
    runCollectorCli(db.dataDir, ['check', 'add', '--agent', 'pacs-01', '--plugin', 'tcp', '--config', '{"host":"pacs","port":104}', ...args], { env });

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    // The CLI opens the database itself; SQLite would otherwise be shared with this process.
    await db.dataSource.destroy();
  });
  after(() => db.close());

  it('refuses --interval below the minimum, saying the limit and the variable that lowers it', async () => {
    const res = await checkAdd(['--name', 'fast', '--interval', '200ms', '--timeout', '100ms']);
    assert.equal(res.code, 1, res.output);
    assert.equal(
      res.output.trim(),
      'rounds-collector: invalid check: intervalMs: interval 200ms is below the minimum of 1s — set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals',
    );
  });

  it('refuses a --timeout longer than the --interval', async () => {
    const res = await checkAdd(['--name', 'slow', '--interval', '5s', '--timeout', '10s']);
    assert.equal(res.code, 1, res.output);
    assert.match(res.output, /invalid check: timeoutMs: timeout 10s is longer than the interval 5s — /);
  });

  it('adds the check once ROUNDS_MIN_CHECK_INTERVAL_MS allows it, then refuses one beyond ROUNDS_MAX_CHECKS_PER_AGENT', async () => {
    const added = await checkAdd(['--name', 'fast', '--interval', '200ms', '--timeout', '100ms'], { ROUNDS_MIN_CHECK_INTERVAL_MS: '200' });
    assert.equal(added.code, 0, added.output);
    assert.match(added.output, /^added check fast \(.+\): tcp every 0.2 s$/m);
    const refused = await checkAdd(['--name', 'second'], { ROUNDS_MAX_CHECKS_PER_AGENT: '1' });
    assert.equal(refused.code, 1, refused.output);
    assert.match(
      refused.output,
      /invalid check: agent: agent pacs-01 has 1 check, the most one agent may have is 1 — set ROUNDS_MAX_CHECKS_PER_AGENT on the collector to allow more/,
    );
  });
});

describe('rounds-collector check list and check remove', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const run = (args: string[]) => runCollectorCli(db.dataDir, args);

  before(async () => {
    db = await openTestDatabase();
    const agents = new AgentsRepository(db.dataSource);
    await agents.create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    await agents.create({ name: 'pacs-02', host: '127.0.0.1', port: 9, token: 't', fingerprint: 'f' });
    await db.dataSource.destroy();
    for (const [agent, name] of [
      ['pacs-01', 'DICOM port'],
      ['pacs-02', 'DICOM port'],
      ['pacs-02', 'web viewer'],
    ]) {
      const added = await run([
        'check',
        'add',
        '--agent',
        agent!,
        '--name',
        name!,
        '--plugin',
        'tcp',
        '--config',
        '{"host":"pacs","port":104}',
        '--interval',
        '5m',
      ]);
      assert.equal(added.code, 0, added.output);
    }
  });
  after(() => db.close());

  it('lists the checks as a table, of one agent with --agent', async () => {
    const all = await run(['check', 'list']);
    assert.equal(all.code, 0, all.output);
    const lines = all.output.trim().split('\n');
    assert.match(lines[0]!, /^STATE\s+CHECK\s+PLUGIN\s+EVERY\s+SUMMARY$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4)),
      [
        ['PENDING', 'pacs-01/DICOM port', 'tcp', '5m'],
        ['PENDING', 'pacs-02/DICOM port', 'tcp', '5m'],
        ['PENDING', 'pacs-02/web viewer', 'tcp', '5m'],
      ],
    );
    const one = await run(['check', 'list', '--agent', 'pacs-01']);
    assert.equal(one.output.trim().split('\n').length, 2);
  });

  it('removes a check named as a person would, refusing an ambiguous or unknown name with what to write instead', async () => {
    const ambiguous = await run(['check', 'remove', 'DICOM port']);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.output, /2 checks are named "DICOM port" \(on pacs-01, pacs-02\): name one as <agent>\/DICOM port, or by its id/);
    const unknown = await run(['check', 'remove', 'pacs-09/x']);
    assert.match(unknown.output, /no agent with id or name "pacs-09"/);
    const removed = await run(['check', 'remove', 'pacs-02/DICOM port']);
    assert.equal(removed.code, 0, removed.output);
    assert.match(removed.output, /^removed check pacs-02\/DICOM port \([0-9a-f-]{36}\) with its results$/m);
    const byName = await run(['check', 'remove', 'web viewer']);
    assert.equal(byName.code, 0, byName.output);
    const left = await run(['check', 'list']);
    assert.deepEqual(
      left.output
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s{2,}/)[1]),
      ['pacs-01/DICOM port'],
    );
  });
});

describe('rounds-collector secrets rotate-key', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  const run = (args: string[]) => runCollectorCli(db.dataDir, args);

  before(async () => {
    db = await openTestDatabase();
    await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 9, token: 'agent-token-for-rotation', fingerprint: 'f' });
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
    const list = await run(['agent', 'list']);
    assert.equal(list.code, 0, list.output);
    assert.match(list.output, /pacs-01/);
  });

  it('a command run with the wrong key stops, naming the key ids and what to do', async () => {
    const file = join(db.dataDir, SECRET_KEY_FILE_NAME);
    const right = readFileSync(file);
    writeKeyFile(file, randomBytes(32), false);
    try {
      const res = await run(['agent', 'list']);
      assert.equal(res.code, 1, res.output);
      assert.match(
        res.output,
        /the token of agent "pacs-01" was encrypted with secret key \S+, but the key in use is \S+ \(from .*secret\.key\) — put back the key/,
      );
    } finally {
      writeFileSync(file, right, { mode: 0o600 });
    }
  });

  it('answers an unknown subcommand with its usage', async () => {
    const res = await run(['secrets', 'rotate']);
    assert.equal(res.code, 1);
    assert.match(res.output, /usage: rounds-collector secrets rotate-key/);
  });
});
