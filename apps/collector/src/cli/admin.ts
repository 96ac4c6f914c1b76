import { readFileSync } from 'node:fs';
import { CommandFailed, formatInterval, nagiosExitCode, UsageError } from '#rounds/common';
import type { AgentView } from '../inventory/agents.service.js';
import type { CheckWithStateView, RunResult } from '../inventory/checks.service.js';
import { ago, cell, flag, flags, need, seg, tagsFlag, type CommandArgs, type Operator } from './operator.js';
import { labelText } from '../shared/labels.js';

/*
 * `agent …` and `check …`: changes go to the running collector's API (so they are checked,
 * applied at once and audited as the token's user, from any machine), never to a database
 * file. The API names a check as a person would — its id, agent/name, or a name only one check
 * has — and an agent by id or name; the commands pass what they are given on.
 */

const AGENT_USAGE = `usage: rounds-collector agent list
       rounds-collector agent add --name <name> --enrol <enrolment string> [--tag key=value …]
       rounds-collector agent remove <agent>
       rounds-collector agent rotate <agent>          a new bearer token for the agent`;

export async function agentCommand(op: Operator, { positionals, values }: CommandArgs): Promise<number> {
  const [sub, ref, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected "${rest.join(' ')}"\n${AGENT_USAGE}`);
  switch (sub) {
    case 'list': {
      const agents = await op.call<AgentView[]>('GET', '/agents');
      const now = op.now();
      op.show(
        agents,
        ['NAME', 'STATE', 'ADDRESS', 'VERSION', 'LAST SEEN', 'LAST ERROR'],
        agents.map((a) => [
          cell(a.name),
          a.state,
          `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`,
          a.agent?.version ?? '',
          ago(a.lastSeenAt, now),
          cell(a.lastError),
        ]),
        'no agents yet: `rounds-collector agent add --name <name> --enrol <the string rounds-agent init printed>`',
      );
      return 0;
    }
    case 'add': {
      const usage = 'rounds-collector agent add --name <name> --enrol <enrolment string> [--tag key=value …]';
      const tags = tagsFlag(values);
      const body = { name: need(values, 'name', usage), enrol: need(values, 'enrol', usage), ...(tags ? { tags } : {}) };
      const agent = await op.call<AgentView & { warning?: string }>('POST', '/agents', body);
      op.done(
        agent,
        `added agent ${agent.name} (${agent.id}) at ${agent.host}:${agent.port}, certificate sha256 ${agent.fingerprint} pinned`,
        agent.warning === undefined ? undefined : `warning: ${agent.warning}`,
      );
      return 0;
    }
    case 'remove': {
      if (!ref) throw new UsageError(`agent remove needs the agent's name or id\n${AGENT_USAGE}`);
      const agent = await op.call<AgentView>('GET', `/agents/${seg(ref)}`);
      await op.call('DELETE', `/agents/${seg(agent.id)}`);
      op.done(undefined, `removed agent ${agent.name} (${agent.id}) with its checks and results`);
      return 0;
    }
    case 'rotate': {
      if (!ref) throw new UsageError(`agent rotate needs the agent's name or id\n${AGENT_USAGE}`);
      const agent = await op.call<AgentView & { warning?: string }>('POST', `/agents/${seg(ref)}/rotate-token`);
      op.done(
        agent,
        `rotated the token of agent ${agent.name}: the agent has the new one's hash, and the old one stops at its first call with the new one`,
        agent.warning === undefined ? undefined : `warning: ${agent.warning}`,
      );
      return 0;
    }
    default:
      throw new UsageError(AGENT_USAGE);
  }
}

const CHECK_USAGE = `usage: rounds-collector check list [--agent <agent>] [--tag key=value]
       rounds-collector check add --agent <agent> --name <name> --plugin <plugin> --config <json or @file> [--interval 60s] [--timeout 10s] [--tag key=value …]
       rounds-collector check edit <check> [--name <name>] [--config <json or @file>] [--interval 5m] [--timeout 10s] [--tag key=value …]
       rounds-collector check pause|resume|remove|run <check>
  <check> is its id, <agent>/<name>, or a name only one check has
  check run exits as a Nagios plugin does: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also when it could not be run)`;

export async function checkCommand(op: Operator, { positionals, values }: CommandArgs): Promise<number> {
  const [sub, ref, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected "${rest.join(' ')}" (quote a check name with spaces)\n${CHECK_USAGE}`);
  if (sub === 'list') {
    const query = new URLSearchParams();
    const agent = flag(values, 'agent');
    if (agent) query.set('agent', agent);
    const [tag, ...more] = flags(values, 'tag');
    if (more.length > 0) throw new UsageError(`check list takes one --tag (key=value or key); got ${more.length + 1}`);
    if (tag) query.set('tag', tag);
    const [checks, agents] = await Promise.all([
      op.call<CheckWithStateView[]>('GET', `/checks${query.size > 0 ? `?${query.toString()}` : ''}`),
      op.call<AgentView[]>('GET', '/agents'),
    ]);
    const names = new Map(agents.map((a) => [a.id, a.name]));
    op.show(
      checks,
      ['STATE', 'CHECK', 'PLUGIN', 'EVERY', 'SUMMARY'],
      checks.map((c) => [
        c.state?.stale ? 'STALE' : (c.state?.status ?? 'PENDING'),
        cell(`${names.get(c.agentId) ?? c.agentId}/${c.name}`),
        c.plugin,
        formatInterval(c.intervalMs),
        c.enabled ? cell(c.state?.summary) : '(paused)',
      ]),
      agent || tag ? 'no checks match' : 'no checks yet: `rounds-collector check add --agent <agent> --name <name> --plugin <plugin> --config <json>`',
    );
    return 0;
  }
  if (sub === 'add') {
    const usage = 'rounds-collector check add --agent <agent> --name <name> --plugin <plugin> --config <json or @file> [--interval 60s] [--timeout 10s]';
    const agent = need(values, 'agent', usage);
    const tags = tagsFlag(values);
    // Durations go as written ("30s"): the API reads them and names the field when one is wrong.
    const body = {
      agent,
      name: need(values, 'name', usage),
      plugin: need(values, 'plugin', usage),
      config: configFlag(need(values, 'config', usage)),
      ...durations(values),
      ...(tags ? { tags } : {}),
    };
    const check = await op.call<CheckWithStateView>('POST', '/checks', body);
    op.done(
      check,
      `added check ${agent}/${check.name} (${check.id}): ${check.plugin} every ${formatInterval(check.intervalMs)}, timeout ${formatInterval(check.timeoutMs)}`,
    );
    return 0;
  }
  if (!ref || !['edit', 'pause', 'resume', 'remove', 'run'].includes(sub ?? '')) {
    throw new UsageError(sub && ['edit', 'pause', 'resume', 'remove', 'run'].includes(sub) ? `check ${sub} needs the check\n${CHECK_USAGE}` : CHECK_USAGE);
  }
  const path = `/checks/${seg(ref)}`;
  switch (sub) {
    case 'edit': {
      const config = flag(values, 'config');
      const name = flag(values, 'name');
      const tags = tagsFlag(values);
      const body = { ...(name ? { name } : {}), ...(config ? { config: configFlag(config) } : {}), ...durations(values), ...(tags ? { tags } : {}) };
      if (Object.keys(body).length === 0)
        throw new UsageError(`check edit: nothing to change — give --name, --config, --interval, --timeout or --tag\n${CHECK_USAGE}`);
      const check = await op.call<CheckWithStateView>('PATCH', path, body);
      op.done(
        check,
        `changed check ${ref}: ${Object.keys(body).join(', ')} (${check.plugin} every ${formatInterval(check.intervalMs)}, timeout ${formatInterval(check.timeoutMs)})`,
      );
      return 0;
    }
    case 'pause':
    case 'resume': {
      const check = await op.call<CheckWithStateView>('PATCH', path, { enabled: sub === 'resume' });
      op.done(
        check,
        sub === 'pause'
          ? `paused check ${ref}: its agent stops running it (\`rounds-collector check resume\` undoes it)`
          : `resumed check ${ref}: its agent runs it again every ${formatInterval(check.intervalMs)}`,
      );
      return 0;
    }
    case 'remove': {
      const check = await op.call<CheckWithStateView>('GET', path);
      await op.call('DELETE', `/checks/${seg(check.id)}`);
      op.done(undefined, `removed check ${ref} (${check.id}) with its results`);
      return 0;
    }
    default: {
      // Nagios plugins' exit codes, so a script or another monitor can act on the answer:
      // 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN — and UNKNOWN when the check could not be run.
      let result: RunResult;
      try {
        result = await op.call<RunResult>('POST', `${path}/run`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new CommandFailed(e instanceof Error ? e.message : String(e), nagiosExitCode('UNKNOWN'));
      }
      op.done(
        result,
        `${result.status} ${result.reason} in ${result.durationMs} ms: ${result.summary}`,
        ...result.metrics.map((m) => `  ${m.name}${labelText(m.labels)} = ${m.value}${m.unit ? ` ${m.unit}` : ''}`),
        '(run now on its agent; not stored — the next scheduled run is)',
      );
      return nagiosExitCode(result.status);
    }
  }
}

/** `--interval` and `--timeout` as the API's `intervalMs` and `timeoutMs`, in the words they were given. */
function durations(values: CommandArgs['values']): { intervalMs?: string; timeoutMs?: string } {
  const interval = flag(values, 'interval');
  const timeout = flag(values, 'timeout');
  return { ...(interval ? { intervalMs: interval } : {}), ...(timeout ? { timeoutMs: timeout } : {}) };
}

/** `--config '{"url":"…"}'` or `--config @check.json`. */
function configFlag(text: string): unknown {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (e) {
      throw new UsageError(`--config ${text}: cannot read ${text.slice(1)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (e) {
    throw new UsageError(`--config must be a JSON object or @file.json: ${(e as Error).message}`);
  }
}
