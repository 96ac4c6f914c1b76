import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { join } from 'node:path';
import { PluginRegistry } from '#rounds/plugins';
import { WinePrefix } from '../peers/wine.js';
import { freePort, ROOT, runProgram, startAgent, startCollector, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './harness.js';
import { copyModalityDisk, MODALITY_API, npmOffline, packPluginSdk, startModalityApi } from './plugin-sdk.js';

const LINUX_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-linux-x64');
const WINDOWS_BINARY = join(ROOT, 'build', 'agent', 'rounds-agent-win-x64.exe');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface CheckView {
  id: string;
  state: { status: string; reason: string; summary: string } | null;
}
interface ResultView {
  status: string;
  reason: string;
  summary: string;
  metrics: { name: string; value: number; labels?: Record<string, string> }[];
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
  /** Plugin folders and the packed SDK their plugins install from. */
  let dir: string;
  let tarball: string;

  before(async () => {
    dir = tempDir('agent-binary');
    tarball = await packPluginSdk(join(dir, 'pack'));
    // Rebuilds only when the bundle, the embedded files, the Node versions or the script changed (~20 s), else ~2 s.
    const started = Date.now();
    const built = await runProgram(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs'), '--if-changed']);
    assert.equal(built.code, 0, `scripts/build-agent.mjs failed:\n${built.output}`);
    console.log(`build-agent --if-changed: ${Date.now() - started} ms — ${built.output.trim().split('\n').pop()}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('Linux x64 binary', () => {
    let target: Server;
    let targetPort = 0;
    let modalityApi: Server;
    let modalityPort = 0;
    let collector: CollectorHandle;
    let agent: AgentHandle;

    before(async () => {
      target = createTcpServer((socket) => socket.end());
      targetPort = await listen(target);
      ({ server: modalityApi, port: modalityPort } = await startModalityApi());
      const plugins = join(dir, 'linux-plugins');
      const installed = await npmOffline(copyModalityDisk(plugins, tarball), ['install']);
      assert.equal(installed.code, 0, installed.output);
      collector = await startCollector();
      agent = await startAgent('single-file', { executable: LINUX_BINARY, pluginDir: plugins });
    });
    after(async () => {
      await Promise.all([collector?.proc.stop(), agent?.proc.stop()]);
      await Promise.all([target, modalityApi].map((server) => new Promise((resolve) => server?.close(resolve))));
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

    test('loads the example plugin modality-disk from its plugin folder, with its own zod and SDK, and a collector gets its results', async () => {
      assert.match(agent.proc.output, /loaded plugin modality-disk 1\.0\.0 from /);
      // Every built-in, as the registry names them, and the custom one: a new plugin needs no edit here.
      const names = [...PluginRegistry.withBuiltins().names(), 'modality-disk'].sort();
      assert.match(agent.proc.output, new RegExp(`listening on .* plugins: ${names.join(', ')}\\s*$`, 'm'));
      const created = await collector.api<CheckView>('POST', '/api/v1/checks', {
        agent: 'single-file',
        name: 'ct1-disk',
        plugin: 'modality-disk',
        config: { host: '127.0.0.1', port: modalityPort, tls: false, username: MODALITY_API.username, password: MODALITY_API.password },
        intervalMs: 2000,
        timeoutMs: 1500,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));

      const [last] = await waitFor('a result of modality-disk from the single-file agent', async () => {
        const res = await collector.api<ResultView[]>('GET', `/api/v1/checks/${created.body.id}/results?limit=1`);
        return res.body.length > 0 ? res.body : undefined;
      });

      assert.equal(last!.status, 'WARNING', last!.summary);
      assert.equal(last!.summary, 'images 85.0% used (150.0 GiB free); system 40.0% used (60.0 GiB free)');
      assert.equal(last!.metrics.find((m) => m.name === 'used_ratio' && m.labels?.volume === 'system')?.value, 0.4);
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

  /**
   * A custom plugin as an author writes one with the SDK: counts the files waiting in a modality's
   * export folder. Only node:fs — wine runs Node's fetch no further than connect (UNKNOWN), so the
   * fetching example plugin cannot report there; on Linux it does, above.
   */
  const EXPORT_FOLDER_PLUGIN = `import { readdir } from 'node:fs/promises';
import { definePlugin, outcome, z } from '@rounds/plugin-sdk';

export default definePlugin({
  name: 'export-folder',
  version: '1.2.0',
  apiVersion: 1,
  description: "Counts the files waiting in a modality's export folder.",
  configSchema: z.strictObject({ folder: z.string().min(1) }),
  metrics: [{ name: 'waiting_files', unit: 'count', help: 'Files in the export folder.' }],
  async run(config) {
    const waiting = (await readdir(config.folder)).length;
    return outcome(waiting > 2 ? 'WARNING' : 'OK', waiting > 2 ? 'threshold' : 'ok', \`\${waiting} files waiting in \${config.folder}\`, [
      { name: 'waiting_files', value: waiting, unit: 'count' },
    ]);
  },
});
`;

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

    /** An agent config naming the plugin folder `plugins` beside it (run-once reads no more of it). */
    const agentConfig = (extra = ''): string => {
      const name = `agent-${++n}.yaml`;
      writeFileSync(
        join(wine.dir, name),
        'id: 3b241101-e2bb-4255-8caf-4136c566a962\ntokenSha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n' +
          `tls: { cert: agent.crt, key: agent.key }\nplugins:\n  dir: plugins\n${extra}`,
      );
      return name;
    };

    before(async () => {
      wine = await WinePrefix.create();
      console.log(`new wine prefix (Windows 10) made in ${wine.createdInMs.toFixed(0)} ms`);
      const plugin = join(wine.dir, 'plugins', 'export-folder');
      mkdirSync(plugin, { recursive: true });
      writeFileSync(
        join(plugin, 'package.json'),
        JSON.stringify({
          name: 'export-folder',
          version: '1.2.0',
          type: 'module',
          main: 'plugin.js',
          dependencies: { '@rounds/plugin-sdk': `file:${tarball}` },
        }),
      );
      writeFileSync(join(plugin, 'plugin.js'), EXPORT_FOLDER_PLUGIN);
      const installed = await npmOffline(plugin, ['install']);
      assert.equal(installed.code, 0, installed.output);
      mkdirSync(join(wine.dir, 'exports'));
      for (const study of ['1.dcm', '2.dcm', '3.dcm']) writeFileSync(join(wine.dir, 'exports', study), 'DICM');
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
    test("refuses the plugin folder by default, because wine's icacls prints no access list to check", async () => {
      const r = await runExe(['run-once', 'export-folder', '--config', checkConfig('folder: exports\n'), '--agent-config', agentConfig()]);

      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^plugin folder: plugin folder Z:\\.*\\plugins refused: who may write Z:\\.*\\plugins cannot be told: icacls printed no access list for it — .*; none of its plugins is loaded\r?$/m,
      );
      assert.match(r.stdout, /^UNKNOWN: no plugin "export-folder" — this agent has: /m);
    });

    test('run-once runs a custom plugin from the plugin folder, with the SDK from its node_modules, when plugins.checkWriters is false', async () => {
      const r = await runExe([
        'run-once',
        'export-folder',
        '--config',
        checkConfig('folder: exports\n'),
        '--agent-config',
        agentConfig('  checkWriters: false\n'),
      ]);

      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^plugin folder: plugins\.checkWriters is false: custom plugins are loaded without checking who may write them\r?$/m);
      assert.match(r.stdout, /^WARNING \(threshold\) 3 files waiting in exports\r?$/m);
      assert.match(r.stdout, /^ {2}waiting_files = 3 count\r?$/m);
    });

    test("run-once names the custom plugin's config error from the plugin's own schema", async () => {
      const r = await runExe([
        'run-once',
        'export-folder',
        '--config',
        checkConfig('folder: exports\nfoldr: typo\n'),
        '--agent-config',
        agentConfig('  checkWriters: false\n'),
      ]);

      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /is not a valid export-folder config: foldr: unknown field/);
    });
  });
});
