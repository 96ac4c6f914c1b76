import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { runBin, tempDir } from './harness.js';
import { installTestTypecheck, packPluginSdk } from './plugin-sdk.js';

/**
 * `rounds-agent plugin new` as a plugin author uses it: scaffold, install (from the SDK tarball,
 * no registry), test, type-check, and run the plugin with `run-once` the way the agent loads it.
 */
describe('rounds-agent plugin new', { timeout: 300_000 }, () => {
  let dir: string;
  let tarball: string;
  let plugins: string;
  let page: Server;
  let pagePort = 0;

  const scaffold = (name: string, extra: string[] = []) => runBin('rounds-agent', ['plugin', 'new', name, '--dir', plugins, '--sdk', tarball, ...extra]);

  before(async () => {
    dir = tempDir('plugin-new');
    plugins = join(dir, 'plugins');
    mkdirSync(plugins);
    tarball = await packPluginSdk(join(dir, 'pack'));
    page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('PACS ready'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pagePort = (page.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => page.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a name that is not kebab-case is refused with the rule, and nothing is written', async () => {
    for (const name of ['Film_Printer', '9-lives', 'film--printer']) {
      const { code, output } = await scaffold(name);
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`plugin name "${name}" must be kebab-case`));
    }
    assert.deepEqual(readdirSync(plugins), []);
  });

  test('the name of a built-in plugin is refused', async () => {
    const { code, output } = await scaffold('http');
    assert.equal(code, 1, output);
    assert.match(output, /"http" is a built-in plugin of this agent: choose another name/);
    assert.deepEqual(readdirSync(plugins), []);
  });

  test('a folder that exists is refused and left as it was', async () => {
    mkdirSync(join(plugins, 'taken'));
    writeFileSync(join(plugins, 'taken', 'notes.txt'), 'mine');
    const { code, output } = await scaffold('taken');
    assert.equal(code, 1, output);
    assert.match(output, /taken already exists: choose another name or --dir, or remove the folder first \(nothing was written\)/);
    assert.deepEqual(readdirSync(join(plugins, 'taken')), ['notes.txt']);
    rmSync(join(plugins, 'taken'), { recursive: true });
  });

  test('the plugin it writes installs offline, passes its own tests, type-checks and runs with run-once', async () => {
    const made = await scaffold('film-printer');
    assert.equal(made.code, 0, made.output);
    const folder = join(plugins, 'film-printer');
    for (const file of ['package.json', 'plugin.js', 'schema.js', 'plugin.spec.js', 'sample.yaml', 'README.md', 'tsconfig.json']) {
      assert.ok(existsSync(join(folder, file)), `${file} not written`);
    }
    assert.match(readFileSync(join(folder, 'plugin.js'), 'utf8'), /apiVersion: 1,/);

    await installTestTypecheck(folder, 6);

    // The author's first edit: point the sample at a real page. The agent config names the folder that holds the plugin.
    const sample = join(folder, 'sample.yaml');
    // Its warning (1 s) is widened too: on a busy shared machine a loopback answer once took 1.2 s, and this test is about the plugin running, not its threshold.
    writeFileSync(
      sample,
      readFileSync(sample, 'utf8')
        .replace(/^url: .*$/m, `url: http://127.0.0.1:${pagePort}/`)
        .replace(/^warning: 1$/m, 'warning: 60'),
    );
    const agentConfig = join(dir, 'agent', 'agent.yaml');
    const init = await runBin('rounds-agent', ['init', '--config', agentConfig, '--listen', '127.0.0.1:7443']);
    assert.equal(init.code, 0, init.output);
    appendFileSync(agentConfig, `plugins:\n  dir: ${plugins}\n`);

    const run = await runBin('rounds-agent', ['run-once', 'film-printer', '--config', sample, '--agent-config', agentConfig]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, new RegExp(`^OK \\(ok\\) http://127\\.0\\.0\\.1:${pagePort}/ answered HTTP 200 in \\d+ ms$`, 'm'));
    assert.match(run.output, /^ {2}status_code = 200 $/m);
    assert.match(run.output, /^ {2}response_seconds = [\d.e-]+ seconds$/m);
  });
});
