import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startReceiver, type HttpReceiver } from '../notifications/notifiers/notifier-testing.js';
import { readCliCredentials } from './credentials.store.js';
import { COLLECTOR_BIN, runCollectorCli } from './testing.js';

/** The real collector, started on a port the OS picks; stopped with SIGTERM. */
class Collector {
  output = '';
  url = '';
  private child: ChildProcess | undefined;

  constructor(private readonly dataDir: string) {}

  async start(): Promise<this> {
    this.output = '';
    const child = spawn(process.execPath, [COLLECTOR_BIN, 'start'], {
      env: { PATH: process.env['PATH'], NO_COLOR: '1', ROUNDS_DATA_DIR: this.dataDir, ROUNDS_HTTP_HOST: '127.0.0.1', ROUNDS_HTTP_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the collector did not get ready:\n${this.output}`)), 60_000);
      const seen = (chunk: Buffer) => {
        this.output += chunk.toString();
        const ready = /ready: (http:\/\/127\.0\.0\.1:\d+)\//.exec(this.output);
        if (ready) {
          clearTimeout(timer);
          resolve(ready[1]!);
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.once('exit', (code) => reject(new Error(`the collector exited (${code}):\n${this.output}`)));
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * `<data dir>/cli-credentials.json`, as the local admin meets it: the first start writes the URL
 * and the first admin's token; every start rewrites the URL (the port may be 0 or changed) and
 * keeps the token; commands on the machine need nothing but ROUNDS_DATA_DIR.
 */
describe('the collector’s credentials file for the commands on its machine', { timeout: 240_000 }, () => {
  let root: string;
  let dataDir: string;
  let collector: Collector;
  let receiver: HttpReceiver;
  let firstToken = '';
  const file = () => join(dataDir, 'cli-credentials.json');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'rounds-credentials-'));
    dataDir = join(root, 'data');
    collector = new Collector(dataDir);
    receiver = await startReceiver();
  });
  after(async () => {
    await collector?.stop();
    await receiver?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('holds, after the first start, the URL it serves and the token it printed once, readable by its owner only; a command needs only ROUNDS_DATA_DIR', async () => {
    await collector.start();
    const saved = readCliCredentials(file());
    const printed = /API token "first token" of admin \(shown once; .*\): (rnd_\S+)/.exec(collector.output)?.[1];
    assert.ok(printed, collector.output);
    assert.deepEqual([saved?.url, saved?.token, saved?.user], [collector.url, printed, 'admin']);
    assert.equal(statSync(file()).mode & 0o777, 0o600);
    firstToken = printed;
    const list = await runCollectorCli(dataDir, ['agent', 'list']);
    assert.equal(list.code, 0, list.output);
    assert.match(list.output, /^no agents yet/);
  });

  it('leads a command to say no collector answers there once it is stopped, naming the file the address came from', async () => {
    await collector.stop();
    const res = await runCollectorCli(dataDir, ['agent', 'list']);
    assert.equal(res.code, 1);
    assert.equal(
      res.output.trim(),
      `rounds-collector: no collector answers at ${collector.url}: is it running (rounds-collector start)? (ECONNREFUSED) — the address is from ${file()}, written at the collector's last start`,
    );
  });

  it('gets the new URL at the next start and keeps the token, which still works', async () => {
    await collector.start();
    assert.doesNotMatch(collector.output, /API token "first token"/);
    const saved = readCliCredentials(file());
    assert.deepEqual([saved?.url, saved?.token], [collector.url, firstToken]);
    const added = await runCollectorCli(dataDir, [
      'agent',
      'add',
      '--name',
      'pacs-01',
      '--enrol',
      `rounds://${'t'.repeat(40)}@127.0.0.1:9?fp=${'ab'.repeat(32)}`,
    ]);
    assert.equal(added.code, 0, added.output);
    const audit = await runCollectorCli(dataDir, ['audit', 'list', '--limit', '1']);
    assert.match(audit.output, /^#\d+ \S+ admin \(api 127\.0\.0\.1 rounds-collector\/\S+ \(cli; os user \S+\)\) agent\.enrol agent pacs-01$/m);
  });

  it('sends its token only to the collector it names: another URL needs a token of its own', async () => {
    const res = await runCollectorCli(dataDir, ['agent', 'list', '--url', receiver.url]);
    assert.equal(res.code, 1);
    assert.match(
      res.output,
      new RegExp(
        `^rounds-collector: no API token for ${receiver.url}: the token in ${file()} is only sent to the collector it names \\(${collector.url}\\) — pass --token`,
      ),
    );
    assert.deepEqual(receiver.received, []);
  });
});
