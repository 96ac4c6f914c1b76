import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removePidFile, runningCollector, writePidFile } from './pid-file.js';

describe('the collector pid file', () => {
  const root = mkdtempSync(join(tmpdir(), 'rounds-pid-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is written into a data dir that does not exist yet (a collector on PostgreSQL has no SQLite file to make it), private to the owner', () => {
    const dataDir = join(root, 'new', 'data');
    writePidFile(dataDir);
    assert.equal(readFileSync(join(dataDir, 'collector.pid'), 'utf8'), `${process.pid}\n`);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir, 'collector.pid')).mode & 0o777, 0o600);
    removePidFile(dataDir);
    assert.equal(runningCollector(dataDir), null);
  });

  it('names a live process and forgets a dead one', async () => {
    const dataDir = join(root, 'other');
    writePidFile(dataDir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dataDir, 'collector.pid'), `${child.pid}\n`);
      assert.equal(runningCollector(dataDir), child.pid);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    assert.equal(runningCollector(dataDir), null, 'a pid file left by a killed collector');
  });
});
