import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '#rounds/common';
import type { FieldError } from '#rounds/plugins';
import type { AuditContext, AuditDraft } from '../audit/audit.types.js';
import { ChannelsRepository } from '../notifications/channels.repository.js';
import type { OnCallAnswer, OnCallDirectory } from '../notifications/on-call.js';
import { byText, nameContains, type Matchers } from '../shared/dto.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../shared/errors.js';
import { CLOCK } from '../shared/tokens.js';
import { UsersService } from '../users/users.service.js';
import type { ListSchedulesQuery, OverrideDto, SCHEDULE_SORT_KEYS, ScheduleDto } from './on-call.dto.js';
import { OnCallOverrideEntity, OnCallScheduleEntity } from './on-call.entity.js';
import { OnCallRepository } from './on-call.repository.js';
import { MAX_TIMELINE_MS, onCallAt, shiftAt, timeline, type OnCallSource, type Rotation, type Schedule } from './rotation.js';

export interface OverrideView {
  id: string;
  user: string;
  start: number;
  end: number;
  comment: string | null;
  createdBy: string;
  createdAt: number;
}

export interface ScheduleView {
  id: string;
  name: string;
  timeZone: string;
  rotations: Rotation[];
  /** Per user name, the ids of the channels that reach them. */
  contacts: Record<string, string[]>;
  overrides: OverrideView[];
  createdAt: number;
  updatedAt: number;
}

export interface ChannelRef {
  id: string;
  name: string;
}

export interface OnCallPerson {
  name: string;
  source: OnCallSource;
  channels: ChannelRef[];
}

export interface NowView {
  schedule: string;
  at: number;
  users: OnCallPerson[];
  /** When these people took over; null beyond the look-back (the same people all along). */
  since: number | null;
  /** The next change (handoff, end of restricted hours, an override); null beyond the look-ahead. */
  until: number | null;
}

export interface TimelineView {
  schedule: string;
  from: number;
  to: number;
  shifts: { start: number; end: number; users: { name: string; source: OnCallSource }[] }[];
}

export const SCHEDULE_ORDER: Record<(typeof SCHEDULE_SORT_KEYS)[number], (a: ScheduleView, b: ScheduleView) => number> = {
  name: byText((s) => s.name),
  timeZone: byText((s) => s.timeZone),
};

export const SCHEDULE_FILTERS: Matchers<ScheduleView, ListSchedulesQuery> = {
  name: (s, name) => nameContains(s.name, name),
};

/**
 * On-call schedules: CRUD with users and channels checked against what exists, overrides, and
 * "who is on call" at any instant — also as the {@link OnCallDirectory} routing asks.
 */
@Injectable()
export class OnCallService implements OnCallDirectory {
  constructor(
    private readonly schedules: OnCallRepository,
    private readonly users: UsersService,
    private readonly channels: ChannelsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(): Promise<ScheduleView[]> {
    const [rows, overrides] = await Promise.all([this.schedules.findAll(), this.schedules.allOverrides()]);
    return rows.map((s) => scheduleView(s, overrides));
  }

  async get(idOrName: string): Promise<ScheduleView> {
    const row = await this.find(idOrName);
    return scheduleView(row, await this.schedules.overrides(row.id));
  }

  async create(dto: ScheduleDto, context: AuditContext): Promise<ScheduleView> {
    if (await this.schedules.findByName(dto.name))
      throw new ConflictError(`an on-call schedule named "${dto.name}" exists already — choose another name`, 'name');
    const now = this.clock.now();
    const row = await this.entity(dto, randomUUID(), now, now);
    const view = scheduleView(row, []);
    await this.schedules.insert(row, audit(context, 'on-call.create', row, null, view));
    return view;
  }

  /** Replaces the schedule's settings (its overrides stay). */
  async replace(idOrName: string, dto: ScheduleDto, context: AuditContext): Promise<ScheduleView> {
    const existing = await this.find(idOrName);
    if (dto.name !== existing.name) {
      const clash = await this.schedules.findByName(dto.name);
      if (clash) throw new ConflictError(`an on-call schedule named "${dto.name}" exists already — choose another name`, 'name');
    }
    const overrides = await this.schedules.overrides(existing.id);
    const row = await this.entity(dto, existing.id, existing.createdAt, this.clock.now());
    const view = scheduleView(row, overrides);
    if (!(await this.schedules.replace(row, audit(context, 'on-call.update', row, settings(scheduleView(existing, [])), view))))
      throw new NotFoundError(`no on-call schedule with id "${existing.id}"`);
    return view;
  }

  async remove(idOrName: string, context: AuditContext): Promise<void> {
    const existing = await this.find(idOrName);
    if (!(await this.schedules.delete(existing.id, audit(context, 'on-call.delete', existing, settings(scheduleView(existing, [])), null), this.clock.now())))
      throw new NotFoundError(`no on-call schedule with id "${existing.id}"`);
  }

  async addOverride(idOrName: string, dto: OverrideDto, context: AuditContext): Promise<OverrideView> {
    const schedule = await this.find(idOrName);
    const user = (await this.userNames()).get(dto.user.toLowerCase());
    if (!user) throw new ValidationFailedError('invalid override', [{ field: 'user', message: `no user named "${dto.user}"` }]);
    const row: OnCallOverrideEntity = {
      id: randomUUID(),
      scheduleId: schedule.id,
      userName: user,
      startsAt: dto.start,
      endsAt: dto.end,
      comment: dto.comment ?? null,
      createdBy: context.actor,
      createdAt: this.clock.now(),
    };
    const view = overrideView(row);
    await this.schedules.insertOverride(row, {
      context,
      action: 'on-call.override-add',
      target: { kind: 'on-call-schedule', id: schedule.id, name: schedule.name },
      before: null,
      after: view,
    });
    return view;
  }

  async removeOverride(idOrName: string, overrideId: string, context: AuditContext): Promise<void> {
    const schedule = await this.find(idOrName);
    const existing = (await this.schedules.overrides(schedule.id)).find((o) => o.id === overrideId);
    if (!existing) throw new NotFoundError(`on-call schedule "${schedule.name}" has no override with id "${overrideId}"`);
    const draft: AuditDraft = {
      context,
      action: 'on-call.override-remove',
      target: { kind: 'on-call-schedule', id: schedule.id, name: schedule.name },
      before: overrideView(existing),
      after: null,
    };
    if (!(await this.schedules.deleteOverride(schedule.id, overrideId, draft, this.clock.now())))
      throw new NotFoundError(`on-call schedule "${schedule.name}" has no override with id "${overrideId}"`);
  }

  /** Who is on call at `at` (now when absent), since when, until the next change, and their channels. */
  async now(idOrName: string, at: number = this.clock.now()): Promise<NowView> {
    const row = await this.find(idOrName);
    const shift = shiftAt(await this.schedule(row), at);
    const contacts = parseContacts(row);
    const names = await this.channelNames();
    return {
      schedule: row.name,
      at,
      users: shift.users.map((u) => ({
        name: u.user,
        source: u.source,
        channels: (contacts[u.user] ?? []).flatMap((id) => (names.has(id) ? [{ id, name: names.get(id)! }] : [])),
      })),
      since: shift.since,
      until: shift.until,
    };
  }

  async timeline(idOrName: string, from: number, to: number): Promise<TimelineView> {
    if (to - from > MAX_TIMELINE_MS)
      throw new ValidationFailedError('invalid query', [{ field: 'to', message: `must be at most ${MAX_TIMELINE_MS / 86_400_000} days after from` }]);
    const row = await this.find(idOrName);
    return {
      schedule: row.name,
      from,
      to,
      shifts: timeline(await this.schedule(row), from, to).map((s) => ({
        start: s.start,
        end: s.end,
        users: s.users.map((u) => ({ name: u.user, source: u.source })),
      })),
    };
  }

  /** OnCallDirectory: by name, as routing names a schedule; channels that were removed since reach nobody and are left out. */
  async onCall(scheduleName: string, at: number): Promise<OnCallAnswer | undefined> {
    const row = await this.schedules.findByName(scheduleName);
    if (!row) return undefined;
    // Only who, not since or until: routing asks for every alert, and a timeline costs more.
    const onCall = onCallAt(await this.schedule(row), at).map((u) => u.user);
    // A disabled account is someone who left or may not be reached now: paging their channels
    // (a personal Telegram, a mailbox) would send alerts to a person who should not get them.
    const disabled = new Set((await this.users.list()).filter((u) => u.disabled).map((u) => u.name.toLowerCase()));
    const users = onCall.filter((u) => !disabled.has(u.toLowerCase()));
    const contacts = parseContacts(row);
    const existing = await this.channelNames();
    const channelIds = [...new Set(users.flatMap((u) => contacts[u] ?? []))].filter((id) => existing.has(id));
    return { schedule: row.name, users, channelIds, disabled: onCall.filter((u) => disabled.has(u.toLowerCase())) };
  }

  private async find(idOrName: string): Promise<OnCallScheduleEntity> {
    const row = (await this.schedules.findById(idOrName)) ?? (await this.schedules.findByName(idOrName));
    if (!row) throw new NotFoundError(`no on-call schedule with id or name "${idOrName}"`);
    return row;
  }

  private async schedule(row: OnCallScheduleEntity): Promise<Schedule> {
    const overrides = await this.schedules.overrides(row.id);
    return {
      timeZone: row.timeZone,
      rotations: JSON.parse(row.rotationsJson) as Rotation[],
      overrides: overrides.map((o) => ({ id: o.id, user: o.userName, start: o.startsAt, end: o.endsAt })),
    };
  }

  /** User names by their lower-case form: names are unique regardless of case. */
  private async userNames(): Promise<Map<string, string>> {
    return new Map((await this.users.list()).map((u) => [u.name.toLowerCase(), u.name]));
  }

  private async channelNames(): Promise<Map<string, string>> {
    return new Map((await this.channels.findAll()).map((c) => [c.id, c.name]));
  }

  /**
   * The row for a schedule as written, with users as the users table spells them and channels
   * by id; every user or channel that does not exist is named with its field path.
   */
  private async entity(dto: ScheduleDto, id: string, createdAt: number, updatedAt: number): Promise<OnCallScheduleEntity> {
    const users = await this.userNames();
    const channels = await this.channels.findAll();
    const errors: FieldError[] = [];
    const user = (name: string, field: string) => {
      const found = users.get(name.toLowerCase());
      if (!found) errors.push({ field, message: `no user named "${name}"` });
      return found ?? name;
    };
    const rotations: Rotation[] = dto.rotations.map((r, i) => ({
      name: r.name ?? `rotation ${i + 1}`,
      users: r.users.map((u, j) => user(u, `rotations.${i}.users.${j}`)),
      handoff: {
        interval: r.handoff.interval,
        at: r.handoff.at,
        ...(r.handoff.interval === 'weekly' ? { day: r.handoff.day ?? 'mon' } : {}),
        every: r.handoff.every,
      },
      start: r.start,
      ...(r.restrict ? { restrict: r.restrict } : {}),
    }));
    const contacts: Record<string, string[]> = {};
    for (const [name, refs] of Object.entries(dto.contacts)) {
      const canonical = user(name, `contacts.${name}`);
      contacts[canonical] = refs.map((ref, j) => {
        const channel = channels.find((c) => c.id === ref) ?? channels.find((c) => c.name === ref);
        if (!channel) errors.push({ field: `contacts.${name}.${j}`, message: `no notification channel with id or name "${ref}"` });
        return channel?.id ?? ref;
      });
    }
    if (errors.length > 0) throw new ValidationFailedError('invalid on-call schedule', errors);
    return {
      id,
      name: dto.name,
      timeZone: dto.timeZone,
      rotationsJson: JSON.stringify(rotations),
      contactsJson: JSON.stringify(contacts),
      createdAt,
      updatedAt,
    };
  }
}

function parseContacts(row: OnCallScheduleEntity): Record<string, string[]> {
  return JSON.parse(row.contactsJson) as Record<string, string[]>;
}

function overrideView(o: OnCallOverrideEntity): OverrideView {
  return { id: o.id, user: o.userName, start: o.startsAt, end: o.endsAt, comment: o.comment, createdBy: o.createdBy, createdAt: o.createdAt };
}

export function scheduleView(row: OnCallScheduleEntity, overrides: readonly OnCallOverrideEntity[]): ScheduleView {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.timeZone,
    rotations: JSON.parse(row.rotationsJson) as Rotation[],
    contacts: parseContacts(row),
    overrides: overrides.filter((o) => o.scheduleId === row.id).map(overrideView),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What the audit log keeps of a schedule: its settings, without overrides (audited on their own) or times. */
function settings(view: ScheduleView) {
  const { id, name, timeZone, rotations, contacts } = view;
  return { id, name, timeZone, rotations, contacts };
}

function audit(
  context: AuditContext,
  action: AuditDraft['action'],
  target: OnCallScheduleEntity,
  before: ReturnType<typeof settings> | null,
  after: ScheduleView | null,
): AuditDraft {
  return { context, action, target: { kind: 'on-call-schedule', id: target.id, name: target.name }, before, after: after && settings(after) };
}
