import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { ChannelsRepository } from '../../apps/collector/src/notifications/channels.repository.js';
import { createDataSource } from '../../apps/collector/src/storage/data-source.js';
import { sqliteOnly } from '../../apps/collector/src/storage/testing.js';
import { mountSmallDisk } from '../peers/small-disk.js';
import { runBin, startCollector, tempDir, type CollectorHandle } from './harness.js';

const HMAC = `hmac-${Math.random().toString(36).slice(2)}-secret`;

describe('backup and restore of the embedded database', { skip: sqliteOnly('backup and restore copy the SQLite file (PostgreSQL: pg_dump)') }, () => {
  let collector: CollectorHandle;
  const backups = tempDir('backups');
  const file = join(backups, 'rounds.tar.gz');

  before(async () => {
    collector = await startCollector();
    const channel = await collector.api('POST', '/api/v1/channels', {
      name: 'ward-hook',
      type: 'webhook',
      config: { url: 'http://127.0.0.1:9/hook', hmacSecret: HMAC },
    });
    assert.equal(channel.status, 201, JSON.stringify(channel.body));
    assert.equal((await collector.api('POST', '/api/v1/users', { name: 'night-nurse', role: 'viewer' })).status, 201);
  });
  after(() => collector.proc.stop());

  it('backs up while the collector runs, with progress, into one 0600 file holding the database and its key', async () => {
    const run = await runBin('rounds-collector', ['backup', file], collector.env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /backing up: 100%/);
    assert.match(run.output, /^wrote .*rounds\.tar\.gz \(database [\d.]+ MiB, integrity checked, key [A-Za-z0-9_-]+\)$/m);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const names: string[] = [];
    await tar.t({ file, onReadEntry: (e) => names.push(e.path) });
    assert.deepEqual(names.sort(), ['manifest.json', 'rounds.sqlite', 'secret.key']);
    assert.deepEqual(
      readdirSync(backups).filter((f) => f !== 'rounds.tar.gz'),
      [],
      'no staging folder or partial file is left',
    );
    assert.ok(collector.proc.running, 'the collector ran on');
  });

  it('refuses to restore while the collector serves from that folder, changing nothing', async () => {
    const run = await runBin('rounds-collector', ['restore', file], collector.env);
    assert.notEqual(run.code, 0);
    assert.match(run.output, /a collector \(pid \d+\) is serving from .*: stop it first, then restore — nothing was changed/);
  });

  it('restores into a stopped collector: users, API tokens and sealed channel secrets come back, the old files are kept aside', async () => {
    await collector.proc.stop();
    const elsewhere = tempDir('restored');
    const env = { ...collector.env, ROUNDS_DATA_DIR: elsewhere };
    const run = await runBin('rounds-collector', ['restore', file], env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /restored the backup of \S+ \(collector [\d.]+, key \S+\) into /);
    const restored = await createDataSource({ dataDir: elsewhere }).initialize();
    try {
      const channel = await new ChannelsRepository(restored).findByName('ward-hook');
      assert.equal((JSON.parse(channel!.configJson) as { hmacSecret: string }).hmacSecret, HMAC, 'the restored key opens the restored secrets');
      const users = await restored.query<{ name: string }[]>('SELECT name FROM users ORDER BY name');
      assert.deepEqual(
        users.map((u) => u.name),
        ['admin', 'night-nurse'],
      );
    } finally {
      await restored.destroy();
    }
    // Over the folder it came from: what was there is moved aside, not lost.
    const back = await runBin('rounds-collector', ['restore', file], collector.env);
    assert.equal(back.code, 0, back.output);
    const kept = readdirSync(collector.dataDir).find((f) => f.startsWith('before-restore-'));
    assert.ok(kept, back.output);
    assert.ok(readdirSync(join(collector.dataDir, kept)).includes('rounds.sqlite'));
    await collector.start();
    const me = await collector.api<{ name: string }>('GET', '/api/v1/me');
    assert.equal(me.body.name, 'admin', 'the API token the scripts use works after the restore');
  });

  it('refuses a damaged or foreign file with a clear message, changing nothing', async () => {
    const target = tempDir('restore-target');
    const env = { ...collector.env, ROUNDS_DATA_DIR: target };
    const truncated = join(backups, 'truncated.tar.gz');
    const bytes = readFileSync(file);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const cut = await runBin('rounds-collector', ['restore', truncated], env);
    assert.notEqual(cut.code, 0);
    assert.match(cut.output, /is not a Rounds backup or it is damaged .* — nothing was changed/);

    const forged = tempDir('forged');
    writeFileSync(join(forged, 'manifest.json'), JSON.stringify({ format: 'rounds-backup/1', keyId: 'abcdefgh' }));
    writeFileSync(join(forged, 'rounds.sqlite'), 'this is not a database at all, just text that pretends');
    const junk = join(backups, 'junk.tar.gz');
    await tar.c({ gzip: true, file: junk, cwd: forged }, ['manifest.json', 'rounds.sqlite']);
    const bad = await runBin('rounds-collector', ['restore', junk], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /the database in .*junk\.tar\.gz cannot be read as a database .* — nothing was changed/);
    assert.deepEqual(
      readdirSync(target).filter((f) => !f.startsWith('.')),
      [],
      'the target folder holds nothing new',
    );
    assert.equal(existsSync(join(target, 'rounds.sqlite')), false);
  });

  it('a backup onto a full disk says so and leaves no partial file', async () => {
    const disk = mountSmallDisk(1024 * 1024);
    try {
      const dir = join(disk.dir, 'backups');
      mkdirSync(dir);
      disk.fill(16 * 1024);
      const run = await runBin('rounds-collector', ['backup', join(dir, 'rounds.tar.gz')], collector.env);
      assert.notEqual(run.code, 0);
      assert.match(run.output, /no space left in .* for the backup — nothing was written; free space there or give another place/);
      assert.deepEqual(readdirSync(dir), []);
      disk.release();
      assert.equal((await runBin('rounds-collector', ['backup', join(dir, 'rounds.tar.gz')], collector.env)).code, 0, 'with space again it works');
    } finally {
      disk.unmount();
    }
  });
});
