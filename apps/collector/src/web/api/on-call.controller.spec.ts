import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import { SPEC_AUDIT } from '../../audit/testing.js';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import { ChannelsRepository } from '../../notifications/channels.repository.js';
import { CHANNEL_PROVIDERS } from '../../notifications/notifications.module.js';
import { ON_CALL_DIRECTORY, type OnCallDirectory } from '../../notifications/on-call.js';
import { OnCallRepository } from '../../on-call/on-call.repository.js';
import { OnCallService, type NowView, type ScheduleView, type TimelineView } from '../../on-call/on-call.service.js';
import { CLOCK } from '../../shared/tokens.js';
import { openTestDatabase } from '../../storage/testing.js';
import { UsersService } from '../../users/users.service.js';
import { PasswordHasher } from '../../users/passwords.js';
import { UsersRepository } from '../../users/users.repository.js';
import { OnCallController } from './on-call.controller.js';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';

const BASE = '/api/v1/on-call/schedules';

describe('OnCallController (/api/v1/on-call/schedules)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let viewer = '';
  const clock = new ManualClock(Date.parse('2026-04-01T12:00:00Z'));
  const channels: Record<string, string> = {};
  const call = <T = unknown>(method: string, path: string, body?: unknown, token?: string | null) => api.call<T>(method, path, body, token);

  const pacs = () => ({
    name: 'pacs-team',
    timeZone: 'Europe/Berlin',
    rotations: [
      { name: 'primary', users: ['alice', 'bob'], handoff: { interval: 'weekly', day: 'mon', at: '08:00' }, start: '2026-03-23' },
      {
        name: 'nights',
        users: ['carol'],
        handoff: { interval: 'daily' },
        start: '2026-03-01',
        restrict: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '20:00', end: '07:00' },
      },
    ],
    contacts: { alice: ['alice-mail', channels.pager!], bob: ['bob-mail'], carol: [channels.pager!] },
  });

  before(async () => {
    db = await openTestDatabase();
    api = await startApiTestApp({
      controllers: [OnCallController],
      dataSource: db.dataSource,
      providers: [
        { provide: CLOCK, useValue: clock },
        // For OnCallService: the test app's AuthModule keeps its UsersService to itself. Both read the same table.
        UsersRepository,
        PasswordHasher,
        UsersService,
        ...CHANNEL_PROVIDERS,
        OnCallRepository,
        OnCallService,
        { provide: ON_CALL_DIRECTORY, useExisting: OnCallService },
      ],
    });
    const users = api.app.get(UsersService);
    for (const name of ['alice', 'bob', 'carol']) await users.add({ name, role: 'operator' }, SPEC_AUDIT);
    await users.add({ name: 'reader', role: 'viewer' }, SPEC_AUDIT);
    viewer = (await api.app.get(ApiTokensService).create('reader', { name: 'spec' }, SPEC_AUDIT)).token;
    const repo = api.app.get(ChannelsRepository);
    for (const name of ['alice-mail', 'bob-mail', 'pager'])
      channels[name] = (await repo.create({ name, type: 'webhook', config: { url: `http://127.0.0.1:9/${name}` } })).id;
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  const auditRows = async (): Promise<{ action: string; target_id: string; actor: string }[]> =>
    db.dataSource.query("SELECT action, target_id, actor FROM audit_log WHERE action LIKE 'on-call.%' ORDER BY id");

  it('POST answers 400 naming each field: a bad zone, an empty rotation, an unknown user and an unknown channel', async () => {
    const shape = await call<ApiErrorBody>('POST', BASE, {
      name: 'x',
      timeZone: 'Mars/Olympus',
      rotations: [{ users: [], handoff: { interval: 'hourly' }, start: '2026-02-30' }],
    });
    assert.equal(shape.status, 400);
    assert.deepEqual(shape.json.errors, [
      { field: 'timeZone', message: '"Mars/Olympus" is not an IANA time zone name: write one like Europe/Berlin or UTC' },
      { field: 'rotations.0.users', message: 'needs at least one user' },
      { field: 'rotations.0.handoff.interval', message: 'must be daily or weekly' },
      { field: 'rotations.0.start', message: 'is not a calendar date' },
    ]);
    const none = await call<ApiErrorBody>('POST', BASE, { name: 'x', timeZone: 'UTC', rotations: [] });
    assert.deepEqual(none.json.errors, [{ field: 'rotations', message: 'needs at least one rotation' }]);

    const names = await call<ApiErrorBody>('POST', BASE, {
      ...pacs(),
      rotations: [{ ...pacs().rotations[0], users: ['alice', 'mallory'] }],
      contacts: { bob: ['nope'], eve: [] },
    });
    assert.equal(names.status, 400);
    assert.deepEqual(names.json.errors, [
      { field: 'rotations.0.users.1', message: 'no user named "mallory"' },
      { field: 'contacts.bob.0', message: 'no notification channel with id or name "nope"' },
      { field: 'contacts.eve', message: 'no user named "eve"' },
    ]);
    assert.deepEqual((await call<ScheduleView[]>('GET', BASE)).json, [], 'nothing stored');
  });

  it('POST stores the schedule with channels by id and defaults filled in, audited; a taken name is 409', async () => {
    const res = await call<ScheduleView>('POST', BASE, pacs());
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.rotations[1], {
      name: 'nights',
      users: ['carol'],
      handoff: { interval: 'daily', at: '08:00', every: 1 },
      start: '2026-03-01',
      restrict: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '20:00', end: '07:00' },
    });
    assert.deepEqual(res.json.contacts.alice, [channels['alice-mail'], channels.pager]);
    assert.equal((await call<ScheduleView>('GET', `${BASE}/pacs-team`)).json.id, res.json.id, 'by name');
    assert.equal((await call<ScheduleView>('GET', `${BASE}/${res.json.id}`)).json.name, 'pacs-team', 'by id');
    assert.equal((await call('POST', BASE, pacs())).status, 409);
    assert.deepEqual((await auditRows()).at(-1), { action: 'on-call.create', target_id: res.json.id, actor: 'admin' });
  });

  it('a viewer reads schedules and who is on call, and may not change them (403)', async () => {
    assert.equal((await call('GET', BASE, undefined, viewer)).status, 200);
    assert.equal((await call('GET', `${BASE}/pacs-team/now`, undefined, viewer)).status, 200);
    assert.equal((await call('POST', BASE, { ...pacs(), name: 'other' }, viewer)).status, 403);
    assert.equal((await call('PUT', `${BASE}/pacs-team`, pacs(), viewer)).status, 403);
    assert.equal((await call('POST', `${BASE}/pacs-team/overrides`, { user: 'bob', start: 0, end: 1 }, viewer)).status, 403);
    assert.equal((await call('DELETE', `${BASE}/pacs-team`, undefined, viewer)).status, 403);
    assert.equal((await call('GET', BASE, undefined, null)).status, 401);
  });

  it('GET …/now answers who is on call at the clock (or ?at=), since when, until the next change, and their channels', async () => {
    // Wednesday 1 April 14:00 CEST: the second week, bob's; carol's night ended at 07:00.
    const now = await call<NowView>('GET', `${BASE}/pacs-team/now`);
    assert.deepEqual(now.json, {
      schedule: 'pacs-team',
      at: clock.now(),
      users: [{ name: 'bob', source: { rotation: 'primary' }, channels: [{ id: channels['bob-mail'], name: 'bob-mail' }] }],
      since: Date.parse('2026-04-01T05:00:00Z'),
      until: Date.parse('2026-04-01T18:00:00Z'),
    });
    const night = await call<NowView>('GET', `${BASE}/pacs-team/now?at=2026-04-01T22:00:00Z`);
    assert.deepEqual(
      night.json.users.map((u) => [u.name, u.source]),
      [
        ['bob', { rotation: 'primary' }],
        ['carol', { rotation: 'nights' }],
      ],
    );
    assert.equal(night.json.until, Date.parse('2026-04-02T05:00:00Z'), 'the night ends at 07:00 CEST');
    assert.equal((await call<ApiErrorBody>('GET', `${BASE}/pacs-team/now?at=yesterday`)).status, 400);
    assert.equal((await call('GET', `${BASE}/no-such/now`)).status, 404);
  });

  it('an override wins while it lasts, shows in the timeline, reaches the directory, and is removed again — each step audited', async () => {
    const bad = await call<ApiErrorBody>('POST', `${BASE}/pacs-team/overrides`, {
      user: 'mallory',
      start: '2026-04-02T00:00:00Z',
      end: '2026-04-01T00:00:00Z',
    });
    assert.deepEqual(bad.json.errors, [{ field: 'end', message: 'must be after start' }]);
    const unknown = await call<ApiErrorBody>('POST', `${BASE}/pacs-team/overrides`, {
      user: 'mallory',
      start: '2026-04-01T10:00:00Z',
      end: '2026-04-01T16:00:00Z',
    });
    assert.deepEqual(unknown.json.errors, [{ field: 'user', message: 'no user named "mallory"' }]);

    const added = await call<{ id: string }>('POST', `${BASE}/pacs-team/overrides`, {
      user: 'Alice',
      start: '2026-04-01T10:00:00Z',
      end: '2026-04-01T16:00:00Z',
      comment: 'bob at the dentist',
    });
    assert.equal(added.status, 201, added.text);
    const now = await call<NowView>('GET', `${BASE}/pacs-team/now`);
    assert.deepEqual(
      now.json.users.map((u) => [u.name, u.source]),
      [['alice', { override: added.json.id }]],
    );
    assert.equal(now.json.until, Date.parse('2026-04-01T16:00:00Z'));

    const directory = api.app.get<OnCallDirectory>(ON_CALL_DIRECTORY);
    assert.deepEqual(await directory.onCall('pacs-team', clock.now()), {
      schedule: 'pacs-team',
      users: ['alice'],
      channelIds: [channels['alice-mail'], channels.pager],
      disabled: [],
    });
    assert.deepEqual(await directory.onCall('pacs-team', Date.parse('2026-04-01T22:00:00Z')), {
      schedule: 'pacs-team',
      users: ['bob', 'carol'],
      channelIds: [channels['bob-mail'], channels.pager],
      disabled: [],
    });
    assert.equal(await directory.onCall('no-such-schedule', clock.now()), undefined);

    const t = await call<TimelineView>('GET', `${BASE}/pacs-team/timeline?from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z`);
    assert.deepEqual(
      t.json.shifts.map((s) => [new Date(s.start).toISOString().slice(11, 16), s.users.map((u) => u.name).join('+')]),
      [
        ['00:00', 'bob+carol'],
        ['05:00', 'bob'],
        ['10:00', 'alice'],
        ['16:00', 'bob'],
        ['18:00', 'bob+carol'],
      ],
    );

    assert.equal((await call('DELETE', `${BASE}/pacs-team/overrides/${added.json.id}`)).status, 204);
    assert.equal((await call('DELETE', `${BASE}/pacs-team/overrides/${added.json.id}`)).status, 404);
    assert.deepEqual(
      (await call<NowView>('GET', `${BASE}/pacs-team/now`)).json.users.map((u) => u.name),
      ['bob'],
    );
    assert.deepEqual(
      (await auditRows()).slice(-2).map((r) => r.action),
      ['on-call.override-add', 'on-call.override-remove'],
    );
  });

  it('GET …/timeline needs from and to, in order, at most 400 days apart', async () => {
    const missing = await call<ApiErrorBody>('GET', `${BASE}/pacs-team/timeline`);
    assert.deepEqual(missing.json.errors, [
      { field: 'from', message: 'is required' },
      { field: 'to', message: 'is required' },
    ]);
    const reversed = await call<ApiErrorBody>('GET', `${BASE}/pacs-team/timeline?from=2026-04-02T00:00:00Z&to=2026-04-01T00:00:00Z`);
    assert.deepEqual(reversed.json.errors, [{ field: 'to', message: 'must be after from' }]);
    const long = await call<ApiErrorBody>('GET', `${BASE}/pacs-team/timeline?from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z`);
    assert.deepEqual(long.json.errors, [{ field: 'to', message: 'must be at most 400 days after from' }]);
  });

  it('PUT replaces the settings (a channel renamed later still reaches its user), DELETE removes the schedule; both audited', async () => {
    const put = await call<ScheduleView>('PUT', `${BASE}/pacs-team`, { ...pacs(), name: 'pacs', timeZone: 'UTC' });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.timeZone, 'UTC');
    await api.app.get(ChannelsRepository).update(channels['bob-mail']!, { name: 'bob-sms' });
    assert.deepEqual((await call<NowView>('GET', `${BASE}/pacs/now`)).json.users[0]!.channels, [{ id: channels['bob-mail'], name: 'bob-sms' }]);
    assert.equal((await call('DELETE', `${BASE}/pacs`)).status, 204);
    assert.equal((await call('GET', `${BASE}/pacs`)).status, 404);
    assert.deepEqual(
      (await auditRows()).slice(-2).map((r) => r.action),
      ['on-call.update', 'on-call.delete'],
    );
  });
});
