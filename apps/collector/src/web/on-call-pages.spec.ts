import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localDateTime, zonedToUtc } from '#rounds/common';
import { AuditService } from '../audit/audit.service.js';
import { SPEC_AUDIT } from '../audit/testing.js';
import { scheduleDto } from '../on-call/on-call.dto.js';
import { OnCallService } from '../on-call/on-call.service.js';
import { localInputValue } from './page-range.js';
import { startWebTestApp, type FakeBrowser, type WebTestApp } from './testing.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** No DST: the expected handoffs are 08:00 local = 02:30 UTC every day, whatever the date the spec runs. */
const ZONE = 'Asia/Kolkata';
const TEAM = ['alice', 'bob', 'carol'];

const iso = (ms: number) => new Date(ms).toISOString();
const two = (n: number) => String(n).padStart(2, '0');

/** The page's section of one schedule (its name as the page escapes it). */
function section(page: string, escapedName: string): string {
  const found = page.split('<section class="card on-call"').find((s) => s.includes(`>${escapedName}</h2>`));
  assert.ok(found, `no section for ${escapedName}`);
  return found.split('</section>')[0]!;
}

/** The rows of a section's table of shifts: start, end (ISO) and the names on call. */
function shiftRows(html: string): { start: string; end: string; users: string[] }[] {
  const table = /<table class="shifts">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  return [...table.matchAll(/<tr><td><time datetime="([^"]+)">[^<]*<\/time><\/td><td><time datetime="([^"]+)">[^<]*<\/time><\/td><td>(.*?)<\/td><\/tr>/g)].map(
    (m) => ({ start: m[1]!, end: m[2]!, users: [...m[3]!.matchAll(/<strong>([^<]*)<\/strong>/g)].map((u) => u[1]!) }),
  );
}

/** The "On call now" line: the names, and the since/until instants. */
function nowLine(html: string): { users: string[]; since: string | undefined; until: string | undefined; text: string } {
  const line = /<p class="on-call-now">([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
  return {
    users: [...line.matchAll(/<strong>([^<]*)<\/strong>/g)].map((u) => u[1]!),
    since: /since <time datetime="([^"]+)"/.exec(line)?.[1],
    until: /until <time datetime="([^"]+)"/.exec(line)?.[1],
    text: line,
  };
}

describe('the on-call page', () => {
  let web: WebTestApp;
  let admin: FakeBrowser;
  let viewer: FakeBrowser;
  let operator: FakeBrowser;
  let scheduleId = '';
  /** The first handoff (08:00 local, three days before the app's clock) and the shift under way now. */
  let firstHandoff = 0;
  let current = 0;

  before(async () => {
    web = await startWebTestApp();
    admin = await web.browserAs('admin', 'duty-admin');
    viewer = await web.browserAs('viewer', 'alice');
    operator = await web.browserAs('operator', 'bob');
    await web.addUser('carol', 'viewer');
    const start = localDateTime(web.clock.now() - 3 * DAY, ZONE);
    firstHandoff = zonedToUtc({ year: start.year, month: start.month, day: start.day, hour: 8, minute: 0 }, ZONE);
    current = Math.floor((web.clock.now() - firstHandoff) / DAY);
    const dto = scheduleDto.parse({
      name: 'pacs-team',
      timeZone: ZONE,
      rotations: [{ name: 'days', users: TEAM, handoff: { interval: 'daily', at: '08:00' }, start: `${start.year}-${two(start.month)}-${two(start.day)}` }],
    });
    scheduleId = (await web.app.get(OnCallService).create(dto, SPEC_AUDIT)).id;
    await admin.get('/on-call');
  });
  after(() => web.close());

  const handoff = (k: number) => firstHandoff + k * DAY;
  const onDuty = (k: number) => TEAM[k % TEAM.length]!;

  it('shows who is on call now, since and until when, and the shifts of the next 7 days as the rotation gives them', async () => {
    const now = web.clock.now();
    const page = await viewer.get('/on-call');
    assert.equal(page.status, 200);
    assert.match(page.text, /<a href="\/on-call" aria-current="page">On call<\/a>/);
    const team = section(page.text, 'pacs-team');
    assert.match(team, new RegExp(`Time zone: ${ZONE}`));
    const line = nowLine(team);
    assert.deepEqual(line.users, [onDuty(current)]);
    assert.equal(line.since, iso(handoff(current)));
    assert.equal(line.until, iso(handoff(current + 1)));

    // From now (the shift under way, clipped) to a week ahead: one shift per daily handoff.
    const expected = [{ start: iso(now), end: iso(handoff(current + 1)), users: [onDuty(current)] }];
    for (let k = current + 1; handoff(k) < now + 7 * DAY; k++)
      expected.push({ start: iso(handoff(k)), end: iso(Math.min(handoff(k + 1), now + 7 * DAY)), users: [onDuty(k)] });
    assert.deepEqual(shiftRows(team), expected);
    assert.ok(expected.length >= 7);
  });

  it('says how schedules are made, with the endpoint and a link to the API docs, when there are none', async () => {
    const other = await startWebTestApp();
    try {
      const empty = await (await other.browserAs('viewer')).get('/on-call');
      assert.equal(empty.status, 200);
      assert.match(empty.text, /No on-call schedules yet\. Schedules are created through the API with <code>POST \/api\/v1\/on-call\/schedules<\/code>/);
      assert.match(empty.text, /<a href="\/api\/docs">API docs<\/a>/);
    } finally {
      await other.close();
    }
  });

  it('adds an override from the form in the schedule’s time zone: it is on call now, listed, and audited; removing it hands back to the rotation', async () => {
    const now = web.clock.now();
    const cover = onDuty(current + 1);
    // Local times in the schedule's zone, to the minute, as a datetime-local input sends them.
    const start = localInputValue(now - HOUR, ZONE);
    const end = localInputValue(now + 2 * HOUR, ZONE);
    const added = await admin.post(`/on-call/${scheduleId}/overrides`, { user: cover, start, end, comment: 'swapped with the day shift' });
    assert.equal(added.status, 303, added.text.slice(0, 800));
    assert.equal(added.location, '/on-call?done=override-added');

    const [override] = (await web.app.get(OnCallService).get(scheduleId)).overrides;
    assert.ok(override);
    assert.equal(override.user, cover);
    assert.equal(override.start, Math.floor((now - HOUR) / 60_000) * 60_000, 'the local time read in Asia/Kolkata');
    assert.equal(override.end, Math.floor((now + 2 * HOUR) / 60_000) * 60_000);

    const page = await admin.get(added.location);
    assert.match(page.text, /<p class="notice ok" role="status">Override added\.<\/p>/);
    const team = section(page.text, 'pacs-team');
    const line = nowLine(team);
    assert.deepEqual(line.users, [cover]);
    assert.match(line.text, /\(override\)/);
    assert.equal(line.since, iso(override.start));
    assert.equal(line.until, iso(override.end));
    const overrides = /<table class="overrides">([\s\S]*?)<\/table>/.exec(team)?.[1] ?? '';
    assert.match(
      overrides,
      new RegExp(
        `<td>${cover}</td><td><time datetime="${iso(override.start)}">[^<]*</time></td><td><time datetime="${iso(override.end)}">[^<]*</time></td><td class="summary">swapped with the day shift</td><td>duty-admin</td>`,
      ),
    );

    const rows = await web.app.get(AuditService).list({ limit: 20 });
    const row = rows.find((r) => r.action === 'on-call.override-add');
    assert.equal(row?.actor, 'duty-admin');
    assert.equal(row.source, 'ui');
    assert.equal(row.target.id, scheduleId);

    const removed = await admin.post(`/on-call/${scheduleId}/overrides/${override.id}/delete`);
    assert.equal(removed.status, 303);
    assert.equal(removed.location, '/on-call?done=override-removed');
    const after = await admin.get(removed.location);
    assert.match(after.text, /Override removed\./);
    assert.deepEqual(nowLine(section(after.text, 'pacs-team')).users, [onDuty(current)]);
    assert.match(section(after.text, 'pacs-team'), /No overrides ahead\./);
    assert.ok((await web.app.get(AuditService).list({ limit: 20 })).some((r) => r.action === 'on-call.override-remove' && r.actor === 'duty-admin'));
  });

  it('refuses a bad override with 400, each error beside its field and the form as typed, and adds nothing', async () => {
    const id = (field: string) => `override-${scheduleId}-${field}-error`;
    const backwards = await admin.post(`/on-call/${scheduleId}/overrides`, {
      user: 'carol',
      start: '2030-01-02T10:00',
      end: '2030-01-02T09:00',
      comment: 'kept <as typed>',
    });
    assert.equal(backwards.status, 400);
    assert.match(backwards.text, /The override was not added: correct the fields marked below\./);
    assert.match(backwards.text, new RegExp(`id="${id('end')}">must be after start<`));
    assert.match(backwards.text, /name="end" value="2030-01-02T09:00" aria-invalid="true"/);
    assert.match(backwards.text, /name="start" value="2030-01-02T10:00"/);
    assert.match(backwards.text, /<option value="carol" selected>carol<\/option>/);
    assert.match(backwards.text, /name="comment" value="kept &lt;as typed>"/);
    assert.match(backwards.text, /<details class="add-override" open>/, 'the posted form is open');

    const stranger = await admin.post(`/on-call/${scheduleId}/overrides`, { user: 'mallory', start: '2030-01-02T10:00', end: '2030-01-02T12:00', comment: '' });
    assert.equal(stranger.status, 400);
    assert.match(stranger.text, new RegExp(`id="${id('user')}">no user named &quot;mallory&quot;<`));
    assert.match(stranger.text, /name="end" value="2030-01-02T12:00"/);

    const garbled = await admin.post(`/on-call/${scheduleId}/overrides`, { user: '', start: 'tomorrow', end: '', comment: '' });
    assert.equal(garbled.status, 400);
    assert.match(garbled.text, new RegExp(`id="${id('user')}">choose who is on call instead<`));
    assert.match(garbled.text, new RegExp(`id="${id('start')}">must be a date and time, like 2026-12-24T08:00<`));
    assert.match(garbled.text, new RegExp(`id="${id('end')}">is required<`));
    assert.match(garbled.text, /name="start" value="tomorrow"/);

    assert.equal((await web.app.get(OnCallService).get(scheduleId)).overrides.length, 0);
  });

  it('shows viewers and operators the schedules without the forms, and refuses their posts', async () => {
    const added = await web.app
      .get(OnCallService)
      .addOverride(scheduleId, { user: 'carol', start: web.clock.now() + DAY, end: web.clock.now() + 2 * DAY }, SPEC_AUDIT);
    try {
      for (const browser of [viewer, operator]) {
        const page = await browser.get('/on-call');
        assert.equal(page.status, 200);
        assert.deepEqual(nowLine(section(page.text, 'pacs-team')).users, [onDuty(current)]);
        assert.match(page.text, /<td>carol<\/td>/, 'the override is listed');
        assert.doesNotMatch(page.text, /Add an override|\/overrides"|\/delete"/);
        const post = await browser.post(`/on-call/${scheduleId}/overrides`, { user: 'carol', start: '2030-01-02T10:00', end: '2030-01-02T12:00' });
        assert.equal(post.status, 403);
        assert.equal((await browser.post(`/on-call/${scheduleId}/overrides/${added.id}/delete`)).status, 403);
      }
      assert.equal((await web.app.get(OnCallService).get(scheduleId)).overrides.length, 1);
    } finally {
      await web.app.get(OnCallService).removeOverride(scheduleId, added.id, SPEC_AUDIT);
    }
  });

  it('refuses an admin’s post without the CSRF token', async () => {
    const refused = await admin.post(
      `/on-call/${scheduleId}/overrides`,
      { user: 'carol', start: '2030-01-02T10:00', end: '2030-01-02T12:00' },
      { csrf: false },
    );
    assert.equal(refused.status, 403);
    assert.match(refused.text, /CSRF token missing or wrong/);
    assert.equal((await web.app.get(OnCallService).get(scheduleId)).overrides.length, 0);
  });

  it('escapes names and comments: a schedule and a comment with markup are text (user names cannot hold markup)', async () => {
    const evil = '<script>alert(1)</script>';
    const service = web.app.get(OnCallService);
    const { id } = await service.create(
      scheduleDto.parse({
        name: `${evil} team`,
        timeZone: 'UTC',
        rotations: [{ users: ['carol'], handoff: { interval: 'weekly' }, start: '2026-01-05' }],
      }),
      SPEC_AUDIT,
    );
    await service.addOverride(id, { user: 'carol', start: web.clock.now() + DAY, end: web.clock.now() + 2 * DAY, comment: evil }, SPEC_AUDIT);
    const page = await admin.get('/on-call');
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes(evil), 'a <script> from a name or comment is in the page');
    assert.match(page.text, /<h2 id="schedule-[^"]+">&lt;script>alert\(1\)&lt;\/script> team<\/h2>/);
    assert.match(page.text, /<td class="summary">&lt;script>alert\(1\)&lt;\/script><\/td>/);
    // Sorted by name: "<" before letters.
    assert.ok(page.text.indexOf('&lt;script>alert(1)&lt;/script> team') < page.text.indexOf('>pacs-team</h2>'));
  });
});
