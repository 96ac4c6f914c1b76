import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, ROOT, startAgent, tempDir, waitFor, type AgentHandle } from './harness.js';

/**
 * The README's shell examples, pasted in order on a fresh quickstart (issue 18, item 6). Every
 * ```sh block of README.md carries a marker on the line before it: `<!-- test: run -->` (or
 * `<!-- test: run, expect: <text> -->`, the text its output must contain), or
 * `<!-- test: skip — why -->`. A block without one fails the first test, so a new example is
 * either run here or excused in words a reader can judge.
 */
interface Example {
  line: number;
  code: string;
  run: boolean;
  expect?: string;
  why?: string;
}

const MARKER = /^<!-- test: (run(?:, expect: (.+?))?|skip — (.+?)) -->$/;

function examples(readme: string): Example[] {
  const lines = readme.split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    const marker = MARKER.exec(lines[i - 1] ?? '');
    const code = lines.slice(i + 1, end).join('\n');
    found.push(marker ? { line: i + 1, code, run: marker[1]!.startsWith('run'), expect: marker[2], why: marker[3] } : { line: i + 1, code, run: false });
    i = end;
  }
  return found;
}

/**
 * One bash, as a person's terminal: blocks are sourced in turn so what one defines (API, TOKEN,
 * H) the next uses. A command that fails (the ERR trap) fails its block; curl is given
 * `--fail-with-body` and `-sS`, so a 4xx answer is a failure here too (a person would read it).
 */
class Terminal {
  private readonly bash: ChildProcess;
  private stdout = '';

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.bash = spawn('bash', ['--norc', '--noprofile'], { cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
    this.bash.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.bash.stdin!.write('curl() { command curl -sS --fail-with-body "$@"; }\n');
  }

  async run(file: string, output: string, timeoutMs = 120_000): Promise<{ ok: boolean; output: string }> {
    const done = `__block_done_${Date.now()}`;
    this.bash.stdin!.write(
      `__failed=0; trap '__failed=1; echo "FAILED: $BASH_COMMAND" >&2' ERR; source ${file} > ${output} 2>&1; trap - ERR; echo "${done} $__failed"\n`,
    );
    const status = await waitFor(`the README block in ${file} to finish`, () => new RegExp(`${done} (\\d)`).exec(this.stdout)?.[1], timeoutMs);
    return { ok: status === '0', output: readFileSync(output, 'utf8') };
  }

  close(): void {
    this.bash.kill();
  }
}

describe('the README examples, pasted in order on a fresh quickstart', { timeout: 600_000 }, () => {
  const dir = tempDir('readme');
  const all = examples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  let quickstart: ChildProcess;
  let quickstartOutput = '';
  const agents: AgentHandle[] = [];
  let terminal: Terminal;

  before(async () => {
    // The quickstart script itself, in a folder and on a port of its own (it honours both).
    const env: NodeJS.ProcessEnv = { ...process.env, ROUNDS_QUICKSTART_DIR: join(dir, '.quickstart'), ROUNDS_HTTP_PORT: String(await freePort()) };
    quickstart = spawn('bash', [join(ROOT, 'deploy', 'quickstart.sh')], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    quickstart.stdout!.on('data', (d: Buffer) => (quickstartOutput += d.toString()));
    quickstart.stderr!.on('data', (d: Buffer) => (quickstartOutput += d.toString()));
    // The machines the README enrols: agents started as "Watching another machine" says, in folders of their own.
    const [pacs, ris] = await Promise.all([startAgent('readme-pacs-01'), startAgent('readme-ris-01')]);
    agents.push(pacs, ris);
    await waitFor(
      'the quickstart to say Rounds runs',
      () => quickstartOutput.includes('==> Rounds runs:') || (quickstart.exitCode !== null && 'exited'),
      300_000,
    );
    assert.equal(quickstart.exitCode, null, `the quickstart stopped:\n${quickstartOutput}`);
    // A person's shell on the collector's machine: no ROUNDS_URL/ROUNDS_TOKEN of the test runner's own.
    const { ROUNDS_URL: _url, ROUNDS_TOKEN: _token, ...shellEnv } = env;
    terminal = new Terminal(ROOT, { ...shellEnv, ENROLMENT: pacs.enrolment, NEXT_ENROLMENT: ris.enrolment });
  });

  after(async () => {
    terminal?.close();
    // The quickstart's process group: the script, its collector and its agent.
    if (quickstart?.pid && quickstart.exitCode === null) process.kill(-quickstart.pid, 'SIGTERM');
    await Promise.all(agents.map((a) => a.proc.stop()));
  });

  it('every sh block says whether it is run here, and why not when it is not', (t) => {
    const unmarked = all.filter((e) => !e.run && e.why === undefined).map((e) => `README.md:${e.line}`);
    assert.deepEqual(unmarked, [], 'add <!-- test: run --> or <!-- test: skip — why --> before these blocks');
    assert.ok(all.filter((e) => e.run).length >= 4, 'the API and CLI examples are run');
    for (const e of all.filter((x) => !x.run)) t.diagnostic(`skipped README.md:${e.line}: ${e.why}`);
  });

  it('each runnable block exits 0 in order, and shows what the README says it shows', async () => {
    for (const [i, e] of all.filter((x) => x.run).entries()) {
      const file = join(dir, `block-${i}.sh`);
      writeFileSync(file, `${e.code}\n`);
      const { ok, output } = await terminal.run(file, join(dir, `block-${i}.out`));
      assert.ok(ok, `README.md:${e.line} failed:\n${e.code}\n--- output ---\n${output}`);
      if (e.expect !== undefined) assert.ok(output.includes(e.expect), `README.md:${e.line}: the output lacks ${e.expect}:\n${output}`);
    }
  });

  it('what the examples did is in the collector: the agents, the checks, and the audit log names the admin', async () => {
    const creds = JSON.parse(readFileSync(join(dir, '.quickstart', 'data', 'cli-credentials.json'), 'utf8')) as { url: string; token: string };
    const get = async <T>(path: string) =>
      (await (await fetch(`${creds.url}/api/v1${path}`, { headers: { authorization: `Bearer ${creds.token}` } })).json()) as T;
    const agentNames = (await get<{ name: string }[]>('/agents?sort=name')).map((a) => a.name);
    assert.deepEqual(agentNames, ['local', 'pacs-01', 'ris-01']);
    const checks = (await get<{ name: string }[]>('/checks?agent=pacs-01&sort=name')).map((c) => c.name);
    assert.deepEqual(checks, ['DICOM echo', 'PACS web']);
    const actions = (await get<{ action: string; actor: string }[]>('/audit?action=silence.*')).map((r) => `${r.action} by ${r.actor}`);
    assert.deepEqual(actions, ['silence.expire by admin', 'silence.add by admin']);
  });
});
