import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PluginRegistry } from '#rounds/plugins';
import { WinePrefix } from '../peers/wine.js';
import { FIXTURES, freePort, ROOT, runProgram, startAgent, startCollector, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';

const LINUX_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-linux-x64');
const WINDOWS_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface CheckView {
  id: string;
  state: { status: string; reason: string; summary: string } | null;
}

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/**
 * The agent as one executable (`npm run build:agent`, scripts/build-agent.mjs): the Linux binary
 * enrolled and polled by a real collector, and the Windows .exe run under wine.
 */
describe('the single-file agent', { timeout: 280_000 }, () => {
  before(async () => {
    // Rebuilds only when the bundle, the embedded files, the Node versions or the script changed (~20 s), else ~2 s.
    const started = Date.now();
    const built = await runProgram(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs'), '--if-changed']);
    assert.equal(built.code, 0, `scripts/build-agent.mjs failed:\n${built.output}`);
    console.log(`build-agent --if-changed: ${Date.now() - started} ms — ${built.output.trim().split('\n').pop()}`);
  });

  describe('Linux x64 binary', () => {
    let target: Server;
    let targetPort = 0;
    let collector: CollectorHandle;
    let agent: AgentHandle;

    before(async () => {
      target = createTcpServer((socket) => socket.end());
      targetPort = await listen(target);
      collector = await startCollector();
      agent = await startAgent('single-file', { executable: LINUX_BINARY, pluginDir: join(FIXTURES, 'plugins') });
    });
    after(async () => {
      await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
      await new Promise((resolve) => target?.close(resolve));
    });

    test('a collector enrols it, and its tcp check against a local server turns OK', async () => {
      const added = await collector.api<{ name: string }>('POST', '/api/v1/agents', { name: 'single-file', enrol: agent.enrolment });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const created = await collector.api<CheckView>('POST', '/api/v1/checks', {
        agent: 'single-file',
        name: 'port',
        plugin: 'tcp',
        config: { host: '127.0.0.1', port: targetPort },
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));

      const state = await waitFor(
        'the tcp check on the single-file agent to report',
        async () => (await collector.api<CheckView>('GET', `/api/v1/checks/${created.body.id}`)).body.state ?? undefined,
      );

      assert.equal(state.status, 'OK', JSON.stringify(state));
      assert.match(state.summary, new RegExp(`connected to 127\\.0\\.0\\.1:${targetPort}`));
      const view = (await collector.api<{ state: string; agent: { version: string } | null }>('GET', '/api/v1/agents/single-file')).body;
      assert.equal(view.state, 'UP');
      assert.equal(view.agent?.version, VERSION);
    });

    test('refuses the custom plugin folder at start, saying to run the agent from the package, and keeps the built-in plugins', () => {
      assert.match(
        agent.proc.output,
        /custom plugins \(\S+\) are not loaded: the single-file agent runs built-in plugins only — run the agent from the npm package/,
      );
      // Every built-in, as the registry names them: a new plugin needs no edit here.
      assert.match(agent.proc.output, new RegExp(`listening on .* plugins: ${PluginRegistry.withBuiltins().names().join(', ')}\\s*$`, 'm'));
    });

    test('health exits 0 while it serves (the container HEALTHCHECK runs this)', async () => {
      const r = await runProgram(LINUX_BINARY, ['health', '--config', agent.configPath]);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, /rounds-agent at 127\.0\.0\.1:\d+ is serving \(certificate sha256 [0-9a-f]{64}\)/);
    });

    test('stops on SIGTERM with exit code 0, like the node build, and health then exits 1 saying nothing listens', async () => {
      assert.equal(await agent.proc.stop(), 0, agent.proc.output.slice(-2000));
      assert.match(agent.proc.output, /\bstopped\b/);
      const r = await runProgram(LINUX_BINARY, ['health', '--config', agent.configPath]);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /is not listening — is the agent running/);
    });
  });

  describe('Windows x64 .exe under wine64', () => {
    let wine: WinePrefix;
    let n = 0;

    const runExe = (args: string[]) => wine.run(WINDOWS_BINARY, args);
    /** A check config in the prefix's folder, where the .exe runs, named relatively (wine maps the Unix path). */
    const checkConfig = (yaml: string): string => {
      const name = `check-${++n}.yaml`;
      writeFileSync(join(wine.dir, name), yaml);
      return name;
    };

    before(async () => {
      wine = await WinePrefix.create();
      console.log(`new wine prefix (Windows 10) made in ${wine.createdInMs.toFixed(0)} ms`);
    });
    after(() => wine?.close());

    test('--version names the version, Windows x64 and the single-file build', async () => {
      const r = await runExe(['--version']);

      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^rounds-agent ${VERSION.replaceAll('.', '\\.')} \\(Node\\.js v[\\d.]+, win32-x64, single file\\)\\r?\\n$`));
      console.log(`--version under wine: ${r.ms.toFixed(0)} ms`);
    });

    test('run-once tcp against a listening port exits 0 and prints OK', async () => {
      const target = createTcpServer((socket) => socket.end());
      const port = await listen(target);
      try {
        const r = await runExe(['run-once', 'tcp', '--config', checkConfig(`host: 127.0.0.1\nport: ${port}\n`)]);

        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^OK \\(ok\\) connected to 127\\.0\\.0\\.1:${port} in \\d+ ms\\r?$`, 'm'));
        assert.match(r.stdout, /^ {2}connect_seconds = [\d.e-]+ seconds\r?$/m);
      } finally {
        target.close();
      }
    });

    test('run-once tcp against a closed port exits 2 and prints CRITICAL with reason refused', async () => {
      const port = await freePort();

      const r = await runExe(['run-once', 'tcp', '--config', checkConfig(`host: 127.0.0.1\nport: ${port}\n`)]);

      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^CRITICAL \\(refused\\) connection to 127\\.0\\.0\\.1:${port} refused`, 'm'));
    });

    test('run-once http against a local HTTP server exits 0 and prints the status and body size', async () => {
      const body = 'PACS web ready';
      const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body));
      const port = await listen(server);
      try {
        const r = await runExe(['run-once', 'http', '--config', checkConfig(`url: http://127.0.0.1:${port}/\n`)]);

        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^OK \\(ok\\) HTTP 200 in \\d+ ms, ${body.length} bytes\\r?$`, 'm'));
        assert.match(r.stdout, /^ {2}status_code = 200 *\r?$/m);
      } finally {
        server.close();
      }
    });
  });
});
