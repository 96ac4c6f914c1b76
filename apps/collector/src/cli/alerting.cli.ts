import { UsageError } from '#rounds/common';
import type { AlertView } from '../alerting/alert-views.js';
import type { MuteReason } from '../alerting/alerts.js';
import { suppressedText } from '../alerting/engine-dependencies.js';
import type { MaintenanceWindow } from '../alerting/maintenance.js';
import { formatMatcher, type Matcher } from '../alerting/matchers.js';
import type { Silence } from '../alerting/silences.js';
import { parseDuration } from './parse-duration.js';
import { ago, cell, flag, flags, iso, need, seg, type CommandArgs, type Operator } from './operator.js';

/*
 * `alert`, `silence` and `maintenance`: the alerting API's operator actions. Who acknowledges or
 * silences is the token's user (as the UI records its signed-in user); times are ISO 8601 with a
 * zone or epoch milliseconds, as the API takes them; lengths are durations ("2h").
 */

const ALERT_USAGE = `usage: rounds-collector alert list
       rounds-collector alert ack <fingerprint> --comment <text> [--for 4h | --until <time>]
                                                 (no --for/--until: until it resolves or changes severity)`;

export async function alertCommand(op: Operator, { positionals, values }: CommandArgs): Promise<number> {
  const [sub, fingerprint] = positionals;
  if (sub === 'list') {
    const alerts = await op.call<AlertView[]>('GET', '/alerts');
    const now = op.now();
    op.show(
      alerts,
      ['FINGERPRINT', 'STATE', 'SEVERITY', 'ALERT', 'ON', 'SINCE', 'QUIET', 'SUMMARY'],
      alerts.map((a) => [
        a.fingerprint,
        a.state,
        a.severity,
        cell(a.name),
        cell([a.labels['agent'], a.labels['check']].filter(Boolean).join('/')),
        ago(a.firedAt ?? a.activeAt, now),
        cell(a.mutedBy.map(quiet).join(', '), 60),
        cell(a.summary),
      ]),
      'no alerts pending or firing',
    );
    return 0;
  }
  if (sub !== 'ack') throw new UsageError(ALERT_USAGE);
  if (!fingerprint) throw new UsageError(`alert ack needs the alert's fingerprint (\`rounds-collector alert list\`)\n${ALERT_USAGE}`);
  const comment = need(values, 'comment', 'rounds-collector alert ack <fingerprint> --comment <who is on it, or why it can wait> [--for 4h | --until <time>]');
  const expiresAt = until(op, values, 'the acknowledgement');
  const { name } = await op.me();
  const alert = await op.call<AlertView>('POST', `/alerts/${seg(fingerprint)}/ack`, { comment, by: name, ...(expiresAt === undefined ? {} : { expiresAt }) });
  const term = alert.ack?.expiresAt ? `until ${iso(alert.ack.expiresAt)}` : 'until it resolves or changes severity';
  op.done(alert, `acknowledged ${alert.name} (${alert.fingerprint}) as ${name}, ${term}: no reminders meanwhile`);
  return 0;
}

/** Why an alert is quiet, in a few words. */
function quiet(m: MuteReason): string {
  switch (m.type) {
    case 'acknowledged':
      return `acked by ${m.by}${m.expiresAt ? ` until ${iso(m.expiresAt)}` : ''}`;
    case 'silence':
      return `silenced by ${m.createdBy}`;
    case 'maintenance':
      return `maintenance "${m.name}"`;
    case 'flapping':
      return 'flapping';
    case 'agent_unreachable':
      return 'its agent is down';
    case 'dependency':
      return suppressedText(m);
  }
}

/** `--for 4h` (from now) or `--until <time>`; undefined when neither is given. */
function until(op: Operator, values: CommandArgs['values'], what: string): number | string | undefined {
  const length = flag(values, 'for');
  const end = flag(values, 'until');
  if (length && end) throw new UsageError(`give ${what} --for or --until, not both`);
  if (length) return op.now() + lengthOf(length, '--for');
  return end;
}

function lengthOf(text: string, name: string): number {
  try {
    const ms = parseDuration(text, name);
    if (ms > 0) return ms;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  throw new UsageError(`${name} must be longer than 0`);
}

const SILENCE_USAGE = `usage: rounds-collector silence add --match <label="value"> [--match …] (--for 2h | --until <time>) [--from <time>] --comment <why>
       rounds-collector silence list
       rounds-collector silence expire <id>             ends it now`;

export async function silenceCommand(op: Operator, { positionals, values }: CommandArgs): Promise<number> {
  const [sub, id] = positionals;
  if (sub === 'list') {
    const silences = await op.call<(Silence & { active: boolean })[]>('GET', '/silences');
    const now = op.now();
    op.show(
      silences,
      ['ID', 'STATE', 'MATCHERS', 'FROM', 'UNTIL', 'BY', 'COMMENT'],
      silences.map((s) => [
        s.id,
        s.active ? 'active' : s.endsAt <= now ? 'expired' : 'pending',
        cell(s.matchers.map(formatMatcher).join(', '), 80),
        iso(s.startsAt),
        iso(s.endsAt),
        cell(s.createdBy, 40),
        cell(s.comment, 80),
      ]),
      'no silences',
    );
    return 0;
  }
  if (sub === 'add') {
    const matchers = flags(values, 'match');
    if (matchers.length === 0) throw new UsageError(`silence add needs at least one --match, e.g. --match 'agent="pacs-01"'\n${SILENCE_USAGE}`);
    const comment = need(values, 'comment', 'rounds-collector silence add … --comment <why>');
    const length = flag(values, 'for');
    const end = flag(values, 'until');
    if ((length === undefined) === (end === undefined))
      throw new UsageError(`silence add needs --for <duration> or --until <time> (one of them)\n${SILENCE_USAGE}`);
    const from = flag(values, 'from');
    const { name } = await op.me();
    const body = {
      matchers,
      comment,
      createdBy: name,
      ...(from ? { startsAt: from } : {}),
      ...(length ? { duration: length } : { endsAt: end }),
    };
    const silence = await op.call<Silence>('POST', '/silences', body);
    op.done(
      silence,
      `added silence ${silence.id} (${silence.matchers.map(formatMatcher).join(', ')}) from ${iso(silence.startsAt)} until ${iso(silence.endsAt)}: ` +
        'matching alerts are recorded but not notified',
    );
    return 0;
  }
  if (sub === 'expire') {
    if (!id) throw new UsageError(`silence expire needs the silence's id (\`rounds-collector silence list\`)\n${SILENCE_USAGE}`);
    await op.call('DELETE', `/silences/${seg(id)}`);
    op.done(undefined, `expired silence ${id}: what it muted notifies again`);
    return 0;
  }
  throw new UsageError(SILENCE_USAGE);
}

const MAINTENANCE_USAGE = `usage: rounds-collector maintenance add --name <name> [--match <label="value"> …] [--comment <text>] <when>
         <when>: --from <time> (--until <time> | --for 2h)   once (--from defaults to now)
                 --at 02:00-04:00 [--days sun,sat] [--tz Europe/Berlin]   daily, or weekly on those days (zone: this machine's)
       rounds-collector maintenance list
       rounds-collector maintenance remove <id or name>`;

type WindowView = MaintenanceWindow & { open: boolean; next: { start: number; end: number } | null };

export async function maintenanceCommand(op: Operator, { positionals, values }: CommandArgs): Promise<number> {
  const [sub, ref] = positionals;
  if (sub === 'list') {
    const windows = await op.call<WindowView[]>('GET', '/maintenance-windows');
    op.show(
      windows,
      ['ID', 'NAME', 'WHEN', 'NOW', 'APPLIES TO'],
      windows.map((w) => [
        w.id,
        cell(w.name, 60),
        when(w),
        w.open ? 'open' : w.next ? `next ${iso(w.next.start)}` : 'over',
        cell(w.matchers.length === 0 ? 'every alert' : w.matchers.map((m: Matcher) => formatMatcher(m)).join(', '), 80),
      ]),
      'no maintenance windows',
    );
    return 0;
  }
  if (sub === 'add') {
    const name = need(values, 'name', 'rounds-collector maintenance add --name <name> … (see `rounds-collector help`)');
    const comment = flag(values, 'comment');
    const common = { name, matchers: flags(values, 'match'), ...(comment ? { comment } : {}) };
    const window = await op.call<MaintenanceWindow>('POST', '/maintenance-windows', { ...common, ...schedule(op, values) });
    op.done(window, `added maintenance window "${window.name}" (${window.id}): ${when(window)}`);
    return 0;
  }
  if (sub === 'remove') {
    if (!ref) throw new UsageError(`maintenance remove needs the window's id or name (\`rounds-collector maintenance list\`)\n${MAINTENANCE_USAGE}`);
    // The API takes the id or a name only one window has, and says which when several share it.
    await op.call('DELETE', `/maintenance-windows/${seg(ref)}`);
    op.done(undefined, `removed maintenance window "${ref}"`);
    return 0;
  }
  throw new UsageError(MAINTENANCE_USAGE);
}

/** The window's schedule from the flags: once (`--from`/`--until`/`--for`) or recurring (`--at`, `--days`, `--tz`). */
function schedule(op: Operator, values: CommandArgs['values']): Record<string, unknown> {
  const at = flag(values, 'at');
  const once = ['from', 'until', 'for'].filter((k) => flag(values, k) !== undefined);
  if (at && once.length > 0) throw new UsageError(`a window is once (--from/--until/--for) or recurring (--at), not both\n${MAINTENANCE_USAGE}`);
  if (at) {
    const m = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(at);
    if (!m) throw new UsageError(`--at must be start-end in 24-hour local time, e.g. --at 02:00-04:00 — got "${at}"`);
    const days = flag(values, 'days');
    // The machine's own zone unless told: times typed here are read as the clock on the wall here.
    const timeZone = flag(values, 'tz') ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    return {
      kind: days ? 'weekly' : 'daily',
      start: m[1],
      end: m[2],
      timeZone,
      ...(days ? { days: days.split(',').map((d) => d.trim().toLowerCase()) } : {}),
    };
  }
  if (flag(values, 'days') || flag(values, 'tz')) throw new UsageError(`--days and --tz go with --at\n${MAINTENANCE_USAGE}`);
  const length = flag(values, 'for');
  const end = flag(values, 'until');
  if ((length === undefined) === (end === undefined))
    throw new UsageError(`maintenance add needs --until <time> or --for <duration>, or --at for a recurring window\n${MAINTENANCE_USAGE}`);
  const from = flag(values, 'from');
  if (length) {
    // An end is start + length: the start must be known here (now, or a time that reads as an instant).
    const startsAt = from === undefined ? op.now() : instant(from, '--from');
    return { kind: 'once', startsAt, endsAt: startsAt + lengthOf(length, '--for') };
  }
  return { kind: 'once', startsAt: from ?? op.now(), endsAt: end };
}

/** An instant as the API reads one: ISO 8601 with Z or an offset, or epoch milliseconds. */
function instant(text: string, name: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = /(?:Z|[+-]\d\d:\d\d)$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${name} must be a time like 2026-12-01T02:00:00Z (with Z or an offset) or epoch milliseconds — got "${text}"`);
  return ms;
}

/** A window's schedule in words. */
function when(w: MaintenanceWindow): string {
  if (w.kind === 'once') return `${iso(w.startsAt)} to ${iso(w.endsAt)}`;
  return `${w.kind === 'daily' ? 'daily' : w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}`;
}
