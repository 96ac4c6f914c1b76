import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_UNIT, systemdUnit } from '../../apps/agent/src/service/systemd.linux.js';
import { ROOT } from '../e2e/harness.js';

const run = promisify(execFile);
const units = ['rounds-agent.service', 'rounds-collector.service'].map((u) => join(ROOT, 'deploy', 'systemd', u));

test('systemd-analyze verify accepts both unit files without a warning', async () => {
  const { stdout, stderr } = await run('systemd-analyze', ['verify', ...units]);
  assert.equal(`${stdout}${stderr}`.trim(), '');
});

test('both units run unprivileged in a sandbox and stop with SIGTERM', () => {
  for (const unit of units) {
    const text = readFileSync(unit, 'utf8');
    for (const line of ['User=rounds', 'NoNewPrivileges=true', 'ProtectSystem=strict', 'KillSignal=SIGTERM']) {
      assert.ok(text.includes(line), `${unit} lacks ${line}`);
    }
    assert.match(text, /^ExecStart=\/usr\/bin\/node \/opt\/rounds\/bin\/rounds-(agent|collector)\.js start$/m);
  }
});

test('the agent unit in deploy/systemd is what `rounds-agent service install` generates for the package layout, byte for byte', () => {
  const file = join(ROOT, 'deploy', 'systemd', 'rounds-agent.service');

  assert.equal(
    readFileSync(file, 'utf8'),
    systemdUnit(PACKAGE_UNIT),
    `${file} and systemdUnit(PACKAGE_UNIT) in apps/agent/src/service/systemd.linux.ts differ: change the generator, then write its output to the file`,
  );
});
