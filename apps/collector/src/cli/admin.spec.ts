import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closedPort } from '#rounds/plugins/testing';
import { AlertingService } from '../alerting/alerting.service.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { CurrentState } from '../state/current-state.js';
import { startReceiver, type HttpReceiver } from '../notifications/notifiers/notifier-testing.js';
import { startWebTestApp, type WebTestApp } from '../web/testing.js';
import { runCollectorCli } from './testing.js';
import { startAgent, type AgentHandle } from '../../../../test/e2e/harness.js';

const FINGERPRINT = 'ab'.repeat(32);
/** An enrolment string for an agent that does not answer (yet): the collector registers it with a warning. */
const enrolment = (port: number) => `rounds://${'t'.repeat(40)}@127.0.0.1:${port}?fp=${FINGERPRINT}`;

/**
 * The operator commands as an operator runs them: the real `rounds-collector` binary, talking to
 * the whole serving collector (every module, the access guard, the error filter) over HTTP on
 * a loopback port, with ROUNDS_URL and ROUNDS_TOKEN — and a data folder of its own with no
 * database in it, so nothing can be done but through the API.
 */
describe('rounds-collector operator commands, over the running collector’s API', { timeout: 240_000 }, () => {
  let web: WebTestApp;
  let cliDir: string;
  let token: string;
  let deadPort: number;
  let receiver: HttpReceiver;
  const env = () => ({ ROUNDS_URL: web.base, ROUNDS_TOKEN: token });
  const cli = (args: string[], extra: Record<string, string> = {}) => runCollectorCli(cliDir, args, { env: { ...env(), ...extra } });
  /** The API's JSON as `--output json` prints it. */
  const json = async <T>(args: string[]): Promise<T> => {
    const res = await cli([...args, '--output', 'json']);
    assert.equal(res.code, 0, res.output);
    return JSON.parse(res.output) as T;
  };
  /** A table's rows (header left out), cut into columns at two or more spaces. */
  const rows = (output: string) =>
    output
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s{2,}/));

  before(async () => {
    web = await startWebTestApp({ ROUNDS_POLL_TIMEOUT_MS: '1000' });
    await web.addUser('maria', 'operator');
    token = await web.token('maria');
    cliDir = await mkdtemp(join(tmpdir(), 'rounds-cli-'));
    deadPort = await closedPort();
    receiver = await startReceiver();
    // Channels are an admin's to add; operators list and test them.
    const admin = await web.token('admin');
    for (const [name, url] of [
      ['ward-hook', `${receiver.url}/hooks/rounds`],
      ['dead-hook', `http://127.0.0.1:${deadPort}/`],
    ]) {
      const res = await fetch(`${web.base}/api/v1/channels`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, type: 'webhook', config: { url } }),
      });
      assert.equal(res.status, 201, await res.text());
    }
  });
  after(async () => {
    await web?.close();
    await receiver?.close();
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
  });

  it('enrols agents, warning about one that does not answer yet, and lists them as a table and as the API’s JSON', async () => {
    for (const name of ['pacs-01', 'pacs-02']) {
      const added = await cli(['agent', 'add', '--name', name, '--enrol', enrolment(deadPort), '--tag', 'site=north']);
      assert.equal(added.code, 0, added.output);
      assert.match(
        added.output,
        new RegExp(`^added agent ${name} \\([0-9a-f-]{36}\\) at 127\\.0\\.0\\.1:${deadPort}, certificate sha256 ${FINGERPRINT} pinned$`, 'm'),
      );
      assert.match(added.output, /^warning: .*refused the connection.*registered anyway/m);
    }
    const list = await cli(['agent', 'list']);
    assert.equal(list.code, 0, list.output);
    assert.match(list.output.split('\n')[0]!, /^NAME\s+STATE\s+ADDRESS\s+VERSION\s+LAST SEEN\s+LAST ERROR$/);
    assert.deepEqual(
      rows(list.output).map((r) => [r[0], r[2]]),
      [
        ['pacs-01', `127.0.0.1:${deadPort}`],
        ['pacs-02', `127.0.0.1:${deadPort}`],
      ],
    );
    const agents = await json<{ name: string; tags: Record<string, string>; token?: unknown }[]>(['agent', 'list']);
    assert.deepEqual(
      agents.map((a) => [a.name, a.tags]),
      [
        ['pacs-01', { site: 'north' }],
        ['pacs-02', { site: 'north' }],
      ],
    );
  });

  it('refuses a bad enrolment or a taken name with the API’s detail and the field at fault, exit 1', async () => {
    const bad = await cli(['agent', 'add', '--name', 'pacs-03', '--enrol', 'pacs-03:7443']);
    assert.equal(bad.code, 1, bad.output);
    assert.equal(
      bad.output.trim(),
      'rounds-collector: invalid agent: enrol: enrolment string must start with rounds:// — copy the whole last line printed by `rounds-agent init` (it starts with rounds://)',
    );
    const taken = await cli(['agent', 'add', '--name', 'pacs-01', '--enrol', enrolment(deadPort)]);
    assert.equal(taken.code, 1, taken.output);
    assert.equal(taken.output.trim(), 'rounds-collector: name: an agent named "pacs-01" already exists — pick another name or remove it first');
  });

  it('refuses a check the API refuses, printing the problem’s detail and every field error by name', async () => {
    const fast = await cli([
      'check',
      'add',
      '--agent',
      'pacs-01',
      '--name',
      'fast',
      '--plugin',
      'tcp',
      '--config',
      '{"host":"pacs","port":104}',
      '--interval',
      '200ms',
    ]);
    assert.equal(fast.code, 1, fast.output);
    assert.equal(
      fast.output.trim(),
      'rounds-collector: invalid check: intervalMs: interval 200ms is below the minimum of 1s — set ROUNDS_MIN_CHECK_INTERVAL_MS on the collector to allow shorter intervals',
    );
    const both = await cli([
      'check',
      'add',
      '--agent',
      'pacs-01',
      '--name',
      'x',
      '--plugin',
      'tcp',
      '--config',
      '{"port":0}',
      '--interval',
      '5s',
      '--timeout',
      'soon',
    ]);
    assert.equal(both.code, 1, both.output);
    assert.match(both.output, /^rounds-collector: invalid check: .*timeoutMs: must be a duration like 30s, 5m, 1h or 1d/m);
    const json = await cli([
      'check',
      'add',
      '--agent',
      'pacs-01',
      '--name',
      'fast',
      '--plugin',
      'tcp',
      '--config',
      '{"host":"pacs","port":104}',
      '--interval',
      '200ms',
      '-o',
      'json',
    ]);
    assert.equal(json.code, 1);
    const problem = JSON.parse(json.output.slice(0, json.output.lastIndexOf('}') + 1)) as { status: number; errors: { field: string }[] };
    assert.equal(problem.status, 400);
    assert.deepEqual(
      problem.errors.map((e) => e.field),
      ['intervalMs'],
    );
  });

  it('adds, lists, edits, pauses, resumes and removes checks named as a person would', async () => {
    const config = join(cliDir, 'port.json');
    await writeFile(config, '{"host":"pacs","port":104}');
    for (const [agent, name] of [
      ['pacs-01', 'DICOM port'],
      ['pacs-02', 'DICOM port'],
      ['pacs-02', 'web viewer'],
    ]) {
      const added = await cli(['check', 'add', '--agent', agent!, '--name', name!, '--plugin', 'tcp', '--config', `@${config}`, '--interval', '5m']);
      assert.equal(added.code, 0, added.output);
      assert.match(added.output, new RegExp(`^added check ${agent}/${name} \\([0-9a-f-]{36}\\): tcp every 5m, timeout 10s$`, 'm'));
    }
    const list = await cli(['check', 'list']);
    assert.match(list.output.split('\n')[0]!, /^STATE\s+CHECK\s+PLUGIN\s+EVERY\s+SUMMARY$/);
    assert.deepEqual(
      rows(list.output).map((r) => r.slice(0, 4)),
      [
        ['PENDING', 'pacs-01/DICOM port', 'tcp', '5m'],
        ['PENDING', 'pacs-02/DICOM port', 'tcp', '5m'],
        ['PENDING', 'pacs-02/web viewer', 'tcp', '5m'],
      ],
    );
    assert.equal(rows((await cli(['check', 'list', '--agent', 'pacs-01'])).output).length, 1);

    const edited = await cli(['check', 'edit', 'web viewer', '--interval', '30s', '--tag', 'modality=CT']);
    assert.equal(edited.code, 0, edited.output);
    assert.match(edited.output, /^changed check web viewer: intervalMs, tags \(tcp every 30s, timeout 10s\)$/m);
    const paused = await cli(['check', 'pause', 'pacs-02/web viewer']);
    assert.equal(paused.code, 0, paused.output);
    const [viewer] = await json<{ name: string; enabled: boolean; intervalMs: number; tags: Record<string, string> }[]>([
      'check',
      'list',
      '--tag',
      'modality=CT',
    ]);
    assert.deepEqual(viewer, { ...viewer, name: 'web viewer', enabled: false, intervalMs: 30_000, tags: { modality: 'CT' } });
    assert.match((await cli(['check', 'list'])).output, /pacs-02\/web viewer\s+tcp\s+30s\s+\(paused\)/);
    assert.equal((await cli(['check', 'resume', 'web viewer'])).code, 0);

    const ambiguous = await cli(['check', 'remove', 'DICOM port']);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.output, /2 checks are named "DICOM port" \(on pacs-01, pacs-02\): name one as <agent>\/DICOM port, or by its id/);
    const unknown = await cli(['check', 'remove', 'pacs-09/x']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /no agent with id or name "pacs-09"/);
    const removed = await cli(['check', 'remove', 'pacs-02/DICOM port']);
    assert.equal(removed.code, 0, removed.output);
    assert.match(removed.output, /^removed check pacs-02\/DICOM port \([0-9a-f-]{36}\) with its results$/m);
    assert.deepEqual(
      rows((await cli(['check', 'list'])).output).map((r) => r[1]),
      ['pacs-01/DICOM port', 'pacs-02/web viewer'],
    );
  });

  it('runs a check now on its agent, saying what kept the agent from answering, and exits UNKNOWN (3) as a Nagios plugin would', async () => {
    const run = await cli(['check', 'run', 'pacs-01/DICOM port']);
    assert.equal(run.code, 3, run.output);
    assert.match(run.output, /^rounds-collector: agent pacs-01 at 127\.0\.0\.1:\d+: refused the connection — is rounds-agent running there/m);
  });

  it('silences, lists and expires a silence, as the token’s user', async () => {
    const added = await cli(['silence', 'add', '--match', 'agent="pacs-01"', '--match', 'site=~"north|south"', '--for', '2h', '--comment', 'moving racks']);
    assert.equal(added.code, 0, added.output);
    const id = /^added silence ([0-9a-f-]{36}) \(agent="pacs-01", site=~"north\|south"\) from \S+ until \S+: /m.exec(added.output)?.[1];
    assert.ok(id, added.output);
    const [silence] = await json<{ id: string; createdBy: string; endsAt: number; startsAt: number; active: boolean }[]>(['silence', 'list']);
    assert.deepEqual([silence?.id, silence?.createdBy, silence?.active, silence!.endsAt - silence!.startsAt], [id, 'maria', true, 2 * 3_600_000]);
    assert.deepEqual(rows((await cli(['silence', 'list'])).output)[0]?.slice(0, 3), [id, 'active', 'agent="pacs-01", site=~"north|south"']);
    const refused = await cli(['silence', 'add', '--match', 'agent="pacs-01"', '--match', 'check=~"(PACS"', '--for', '2h', '--comment', 'x']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.output,
      /^rounds-collector: invalid silence: matchers\.1: `check=~"\(PACS"` is not a matcher: \/\(PACS\/ is not a valid regular expression/m,
    );
    const expired = await cli(['silence', 'expire', id]);
    assert.equal(expired.code, 0, expired.output);
    assert.equal((await json<{ active: boolean }[]>(['silence', 'list']))[0]?.active, false);
  });

  it('adds maintenance windows once or recurring, lists them, and removes one by name', async () => {
    const once = await cli(['maintenance', 'add', '--name', 'reboot', '--match', 'agent="pacs-01"', '--from', '2031-01-05T22:00:00Z', '--for', '2h']);
    assert.equal(once.code, 0, once.output);
    assert.match(once.output, /^added maintenance window "reboot" \([0-9a-f-]{36}\): 2031-01-05T22:00:00Z to 2031-01-06T00:00:00Z$/m);
    // Days two and three days ahead: never open while the spec runs — a window open now would show
    // 'open' here and put the next test's alert in maintenance. Given out of order, shown in week order.
    const week = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const [two, three] = [2, 3].map((n) => (new Date().getUTCDay() + n) % 7) as [number, number];
    const given = `${week[three]},${week[two]}`;
    const days = two < three ? `${week[two]},${week[three]}` : given;
    const weekly = await cli(['maintenance', 'add', '--name', 'PACS backup', '--at', '02:00-04:00', '--days', given, '--tz', 'Europe/Berlin']);
    assert.equal(weekly.code, 0, weekly.output);
    assert.match(weekly.output, new RegExp(`: ${days} 02:00-04:00 Europe/Berlin$`, 'm'));
    const badZone = await cli(['maintenance', 'add', '--name', 'x', '--at', '02:00-04:00', '--tz', 'Mars/Olympus']);
    assert.equal(badZone.code, 1);
    assert.match(badZone.output, /^rounds-collector: invalid maintenance window: timeZone: /m);
    assert.deepEqual(
      rows((await cli(['maintenance', 'list'])).output).map((r) => [r[1], r[2], r[3]]),
      [
        ['reboot', '2031-01-05T22:00:00Z to 2031-01-06T00:00:00Z', 'next 2031-01-05T22:00:00Z'],
        ['PACS backup', `${days} 02:00-04:00 Europe/Berlin`, r3((await json<{ next: { start: number } }[]>(['maintenance', 'list']))[1]!.next.start)],
      ],
    );
    const removed = await cli(['maintenance', 'remove', 'reboot']);
    assert.equal(removed.code, 0, removed.output);
    assert.equal((await json<unknown[]>(['maintenance', 'list'])).length, 1);
  });

  it('lists alerts and acknowledges one as the token’s user, refusing one that does not exist with the API’s 404 detail', async () => {
    const none = await cli(['alert', 'list']);
    assert.equal(none.code, 0, none.output);
    assert.equal(none.output.trim(), 'no alerts pending or firing');
    const alerting = web.app.get(AlertingService);
    const agent = web.app.get(CurrentState).findAgent('pacs-02')!.agent;
    alerting.agentDown({ id: agent.id, name: agent.name }, 'connection refused');
    await alerting.tick();
    const [firing] = rows((await cli(['alert', 'list'])).output);
    assert.deepEqual(firing?.slice(1, 5), ['firing', 'critical', 'AgentUnreachable', 'pacs-02']);
    const fingerprint = String(firing?.[0]);
    const ack = await cli(['alert', 'ack', fingerprint, '--comment', 'network team is on it', '--for', '4h']);
    assert.equal(ack.code, 0, ack.output);
    assert.match(ack.output, new RegExp(`^acknowledged AgentUnreachable \\(${fingerprint}\\) as maria, until \\S+Z: no reminders meanwhile$`, 'm'));
    const [acked] = await json<{ ack: { by: string; comment: string; expiresAt: number } }[]>(['alert', 'list']);
    assert.deepEqual([acked?.ack.by, acked?.ack.comment], ['maria', 'network team is on it']);
    assert.match(rows((await cli(['alert', 'list'])).output)[0]![6]!, /^acked by maria until \S+Z$/);
    const unknown = await cli(['alert', 'ack', '0123456789abcdef', '--comment', 'on it']);
    assert.equal(unknown.code, 1, unknown.output);
    assert.match(unknown.output, /^rounds-collector: .*0123456789abcdef/m);
  });

  it('lists channels and sends a test through one, exit 1 with the channel’s words when it refuses', async () => {
    assert.deepEqual(
      rows((await cli(['channel', 'list'])).output).map((r) => [r[0], r[1]]),
      [
        ['dead-hook', 'webhook'],
        ['ward-hook', 'webhook'],
      ],
    );
    const sent = await cli(['channel', 'test', 'ward-hook']);
    assert.equal(sent.code, 0, sent.output);
    assert.match(sent.output, /^sent a test message through ward-hook \(\d+ ms\): check that it arrived$/m);
    assert.equal(receiver.received.at(-1)?.path, '/hooks/rounds');
    const refused = await cli(['channel', 'test', 'dead-hook']);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, new RegExp(`^rounds-collector: dead-hook refused the test message: cannot reach http://127\\.0\\.0\\.1:${deadPort}`, 'm'));
  });

  it('is audited as the token’s user, through the API, with the command as the user agent', async () => {
    const res = await cli(['agent', 'add', '--name', 'audited', '--enrol', enrolment(deadPort)]);
    assert.equal(res.code, 0, res.output);
    const [row] = await new AuditRepository(web.dataSource).find({ action: 'agent.enrol', target: 'audited', limit: 1 });
    assert.deepEqual([row?.actor, row?.source, row?.target.name, row?.address], ['maria', 'api', 'audited', '127.0.0.1']);
    assert.match(row?.userAgent ?? '', /^rounds-collector\/\S+ \(cli; os user \S+\)$/);
  });

  it('refuses a viewer’s change with the API’s 403 detail, and lets them read', async () => {
    await web.addUser('vera', 'viewer');
    const viewer = await web.token('vera');
    assert.equal((await cli(['agent', 'list'], { ROUNDS_TOKEN: viewer })).code, 0);
    const refused = await cli(['check', 'pause', 'web viewer'], { ROUNDS_TOKEN: viewer });
    assert.equal(refused.code, 1);
    assert.equal(refused.output.trim(), 'rounds-collector: your role (viewer) cannot do this: it needs operator or above — ask an admin to change your role');
  });

  it('says which token was refused, what the collector said, and what to do', async () => {
    const res = await cli(['agent', 'list'], { ROUNDS_TOKEN: 'rnd_not-a-token-of-this-collector' });
    assert.equal(res.code, 1);
    assert.equal(
      res.output.trim(),
      `rounds-collector: the collector at ${web.base} refused the API token from ROUNDS_TOKEN: this API token is not known here (mistyped, or from another collector?) — ` +
        'create one under Account → API tokens, or with `rounds-collector token add <user> --name <what uses it>` — give a valid one with --token or ROUNDS_TOKEN',
    );
  });

  it('names the three ways to say which collector when none is given', async () => {
    const res = await runCollectorCli(cliDir, ['agent', 'list']);
    assert.equal(res.code, 1);
    assert.equal(
      res.output.trim(),
      'rounds-collector: no collector to talk to: pass --url <address> --token <API token>, or set ROUNDS_URL and ROUNDS_TOKEN, or run this on the collector’s machine ' +
        `with ROUNDS_DATA_DIR set to its data folder (the collector writes cli-credentials.json there at every start; there is none at ${join(cliDir, 'cli-credentials.json')})`,
    );
    const noToken = await runCollectorCli(cliDir, ['agent', 'list', '--url', web.base]);
    assert.equal(noToken.code, 1);
    assert.match(noToken.output, new RegExp(`^rounds-collector: no API token for ${web.base}: no token was given — pass --token or set ROUNDS_TOKEN; `, 'm'));
  });

  it('says no collector answers at a URL where none runs, and asks whether it is running', async () => {
    const res = await cli(['agent', 'list'], { ROUNDS_URL: `http://127.0.0.1:${deadPort}` });
    assert.equal(res.code, 1);
    assert.equal(
      res.output.trim(),
      `rounds-collector: no collector answers at http://127.0.0.1:${deadPort}: is it running (rounds-collector start)? (ECONNREFUSED)`,
    );
    const https = await cli(['agent', 'list'], { ROUNDS_URL: web.base.replace('http:', 'https:') });
    assert.equal(https.code, 1);
    assert.match(https.output, /does not answer HTTPS — is the collector serving plain HTTP\? Use http:\/\/ in the URL/);
  });

  it('follows no redirect, and says where a proxy sends it; an answer that is not the API’s JSON is said to be no collector', async () => {
    const reply = receiver.reply;
    try {
      receiver.reply = () => ({ status: 308, headers: { location: 'https://rounds.ward.example/api/v1/agents' } });
      const moved = await cli(['agent', 'list'], { ROUNDS_URL: receiver.url });
      assert.equal(moved.code, 1);
      assert.equal(
        moved.output.trim(),
        `rounds-collector: ${receiver.url} (from ROUNDS_URL) redirects to https://rounds.ward.example/api/v1/agents — give that address as the URL`,
      );
      receiver.reply = () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>a router</html>' });
      const other = await cli(['agent', 'list'], { ROUNDS_URL: receiver.url });
      assert.equal(other.code, 1);
      assert.equal(
        other.output.trim(),
        `rounds-collector: ${receiver.url} (from ROUNDS_URL) answered 200 with text/html, not the collector's JSON API — is the URL the collector's?`,
      );
    } finally {
      receiver.reply = reply;
    }
  });

  it('answers a wrong call with its usage and exit 64, before looking for a collector', async () => {
    for (const args of [
      ['agent', 'frob'],
      ['check', 'add', '--name', 'x'],
      ['check', 'edit', 'web viewer'],
      ['check', 'add', '--agent', 'a', '--name', 'n', '--plugin', 'tcp', '--config', '{not json'],
      ['silence', 'add', '--match', 'agent="x"', '--comment', 'c'],
      ['maintenance', 'add', '--name', 'x', '--at', '2am'],
      ['agent', 'list', '--output', 'yaml'],
    ]) {
      const res = await runCollectorCli(cliDir, args);
      assert.equal(res.code, 64, `${args.join(' ')}: ${res.output}`);
      assert.doesNotMatch(res.output, /no collector to talk to/, args.join(' '));
    }
  });
});

/** The next start of a weekly window as `list` shows it. */
const r3 = (ms: number) => `next ${new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

/** `agent rotate` needs an agent that answers: one of its own, so the suite above keeps its pace. */
describe('rounds-collector agent rotate | remove, with a live agent', { timeout: 240_000 }, () => {
  let web: WebTestApp;
  let cliDir: string;
  let token: string;
  let live: AgentHandle;
  const cli = (args: string[]) => runCollectorCli(cliDir, args, { env: { ROUNDS_URL: web.base, ROUNDS_TOKEN: token } });

  before(async () => {
    [web, live] = await Promise.all([startWebTestApp({ ROUNDS_POLL_TIMEOUT_MS: '1000' }), startAgent('cli-rotate')]);
    await web.addUser('maria', 'operator');
    token = await web.token('maria');
    cliDir = await mkdtemp(join(tmpdir(), 'rounds-cli-'));
  });
  after(async () => {
    await live?.proc.stop();
    await web?.close();
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
  });

  it('rotates the token of an agent that answers, refuses while one cannot take it, and removes one — each audited as the token’s user', async () => {
    for (const [name, enrol] of [
      ['ct-01', live.enrolment],
      ['mr-01', enrolment(await closedPort())],
    ]) {
      const added = await cli(['agent', 'add', '--name', name!, '--enrol', enrol!]);
      assert.equal(added.code, 0, added.output);
    }
    const rotated = await cli(['agent', 'rotate', 'ct-01']);
    assert.equal(rotated.code, 0, rotated.output);
    assert.equal(
      rotated.output.trim(),
      "rotated the token of agent ct-01: the agent has the new one's hash, and the old one stops at its first call with the new one",
    );
    const down = await cli(['agent', 'rotate', 'mr-01']);
    assert.equal(down.code, 1, down.output);
    assert.match(down.output, /^rounds-collector: .*the token was not changed; try again once the agent answers$/m);

    const removed = await cli(['agent', 'remove', 'ct-01']);
    assert.equal(removed.code, 0, removed.output);
    assert.match(removed.output, /^removed agent ct-01 \([0-9a-f-]{36}\) with its checks and results$/m);
    const again = await cli(['agent', 'remove', 'ct-01']);
    assert.equal(again.code, 1, again.output);
    assert.equal(again.output.trim(), 'rounds-collector: no agent with id or name "ct-01"');

    const audit = new AuditRepository(web.dataSource);
    for (const action of ['agent.rotate-token', 'agent.remove'] as const) {
      const [row] = await audit.find({ action, target: 'ct-01', limit: 1 });
      assert.deepEqual([row?.actor, row?.target.name], ['maria', 'ct-01'], action);
    }
    assert.deepEqual(await audit.find({ action: 'agent.rotate-token', target: 'mr-01', limit: 1 }), [], 'a refused rotation is not audited');
  });
});

describe('rounds-collector local commands on a folder without a database', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rounds-cli-nodb-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuse to create an empty database, naming the path and ROUNDS_DATA_DIR, and leave nothing behind', async () => {
    const dataDir = join(dir, 'data');
    for (const args of [
      ['token', 'list'],
      ['user', 'reset-password', 'admin'],
      ['audit', 'verify'],
      ['backup', join(dir, 'b.tar.gz')],
      ['secrets', 'rotate-key'],
    ]) {
      const res = await runCollectorCli(dataDir, args);
      assert.equal(res.code, 1, `${args.join(' ')}: ${res.output}`);
      assert.equal(
        res.output.trim(),
        `rounds-collector: no database at ${join(dataDir, 'rounds.sqlite')} — is ROUNDS_DATA_DIR the running collector's? Set it to the collector's data folder ` +
          '(e.g. ROUNDS_DATA_DIR=/var/lib/rounds/collector, or .quickstart/data for the quick start); `rounds-collector start` creates the database on its first start. Nothing was created.',
        args.join(' '),
      );
    }
    assert.equal(existsSync(dataDir), false, 'the data folder was created');
  });
});
