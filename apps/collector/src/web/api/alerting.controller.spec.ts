import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentsRepository } from '../../inventory/agents.repository.js';
import { ChecksRepository } from '../../inventory/checks.repository.js';
import { openTestDatabase } from '../../storage/testing.js';
import { AlertingService } from '../../alerting/alerting.service.js';
import { alertingProviders } from '../../alerting/testing.js';
import { AlertingController } from './alerting.controller.js';
import { HISTORY_KINDS } from '../../alerting/alerting.dto.js';
import { CONTROL_CHARACTERS_MESSAGE } from '#rounds/plugins';
import { startApiTestApp, type ApiErrorBody, type ApiTestApp } from './testing.js';
import { problem } from './problem.js';

/** The parts of the API's answers these specs read. */
interface SilenceBody {
  id: string;
  active: boolean;
  createdBy: string;
  matchers: unknown;
}
interface WindowBody {
  id: string;
  open: boolean;
  next: { start: number };
}
interface PolicyBody {
  override: { failuresBeforeHard: number } | null;
  policy: { failuresBeforeHard: number };
}
interface AlertBody {
  name: string;
  state: string;
  fingerprint: string;
  mutedBy: unknown;
}
interface HistoryLine {
  transition: string;
  by: string | null;
}
interface FullHistoryLine extends HistoryLine {
  id: number;
  at: number;
  fingerprint: string;
  details: { labels?: Record<string, string>; severity?: unknown };
}

describe('AlertingController (/api/v1 alerts, rules, silences, maintenance, check policy)', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let api: ApiTestApp;
  let agentId: string;
  let checkId: string;
  let service: AlertingService;

  const call = <T = unknown>(method: string, path: string, body?: unknown, token?: string | null) => api.call<T>(method, path, body, token);

  before(async () => {
    db = await openTestDatabase();
    const agent = await new AgentsRepository(db.dataSource).create({ name: 'pacs-01', host: '127.0.0.1', port: 7443, token: 't', fingerprint: 'f' });
    agentId = agent.id;
    checkId = (await new ChecksRepository(db.dataSource).create({ agentId, name: 'PACS web', plugin: 'http', config: {}, intervalMs: 15_000, timeoutMs: 5000 }))
      .id;
    api = await startApiTestApp({
      controllers: [AlertingController],
      dataSource: db.dataSource,
      providers: [...alertingProviders()],
    });
    service = api.app.get(AlertingService);
  });
  after(async () => {
    await api.close();
    await db.close();
  });

  it('refuses every route without the API token (401)', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/alerts'],
      ['GET', '/api/v1/alerts/history'],
      ['POST', '/api/v1/alerts/abc/ack'],
      ['PUT', '/api/v1/alert-rules'],
      ['POST', '/api/v1/silences'],
      ['DELETE', '/api/v1/maintenance-windows/x'],
      ['PUT', `/api/v1/checks/${checkId}/policy`],
    ] as const) {
      assert.equal((await call(method, path, undefined, null)).status, 401, `${method} ${path}`);
      assert.equal((await call(method, path, undefined, 'wrong-token')).status, 401, `${method} ${path}`);
    }
  });

  it('PUT /alert-rules answers 400 naming each field of each rule, and keeps the old list', async () => {
    const res = await call<ApiErrorBody>('PUT', '/api/v1/alert-rules', [
      { name: 'DiskFull', metric: 'filesystem_used_ratio', op: '>', value: 0.9, for: '10m' },
      { name: 'DiskFull', metric: 'bad metric', op: '~', value: 'high', for: 'soon', extra: 1 },
    ]);
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.errors, [
      { field: '1.metric', message: 'must be a metric name like filesystem_used_ratio (letters, digits, "_" and ":")' },
      { field: '1.op', message: 'must be one of > >= < <= == !=' },
      { field: '1.value', message: 'must be a number' },
      { field: '1.for', message: 'must be a duration like 30s, 5m, 1h or 1d, got "soon"' },
      { field: '1.extra', message: 'unknown field' },
    ]);
    assert.deepEqual((await call('GET', '/api/v1/alert-rules')).json, []);
  });

  it('PUT /alert-rules stores the list and GET gives it back in the same form', async () => {
    const rules = [
      { name: 'DiskFull', metric: 'filesystem_used_ratio', matchers: ['mount="/"'], op: '>', value: 0.9, for: '10m', severity: 'critical', repeat: '1h' },
    ];
    const put = await call('PUT', '/api/v1/alert-rules', rules);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json, rules);
    assert.deepEqual((await call('GET', '/api/v1/alert-rules')).json, rules);
    const dup = await call<ApiErrorBody>('PUT', '/api/v1/alert-rules', [...rules, ...rules]);
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.json.errors, [{ field: '1.name', message: '"DiskFull" is already the name of rule 0: rule names must be unique' }]);
  });

  it('POST /silences answers 400 with field errors, and 201 with the silence (created by "api" by default)', async () => {
    const bad = await call<ApiErrorBody>('POST', '/api/v1/silences', { matchers: [], comment: '' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'matchers', message: 'needs at least one matcher: a silence that matches everything would mute every alert' },
      { field: 'comment', message: 'must not be empty' },
      { field: 'endsAt', message: 'give either endsAt or duration (one of them, not both)' },
    ]);
    const badMatcher = await call<ApiErrorBody>('POST', '/api/v1/silences', { matchers: ['agent'], comment: 'x', duration: '1h' });
    assert.deepEqual(badMatcher.json.errors, [
      { field: 'matchers.0', message: '`agent` is not a matcher: write label="value", label!="value", label=~"regex" or label!~"regex"' },
    ]);

    const ok = await call<SilenceBody>('POST', '/api/v1/silences', { matchers: ['agent="pacs-01"'], comment: 'moving racks', duration: '2h' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.createdBy, 'api');
    assert.deepEqual(ok.json.matchers, [{ label: 'agent', op: '=', value: 'pacs-01' }]);
    const list = await call<SilenceBody[]>('GET', '/api/v1/silences');
    assert.deepEqual(
      list.json.map((s) => [s.id, s.active]),
      [[ok.json.id, true]],
    );
    assert.equal((await call('DELETE', `/api/v1/silences/${ok.json.id}`)).status, 204);
    assert.equal((await call<SilenceBody[]>('GET', '/api/v1/silences')).json[0]?.active, false);
    assert.equal((await call('DELETE', '/api/v1/silences/nope')).status, 404);
  });

  it('POST /maintenance-windows answers 400 with field errors and accepts a recurring window in a named zone', async () => {
    const bad = await call<ApiErrorBody>('POST', '/api/v1/maintenance-windows', {
      name: 'backup',
      kind: 'weekly',
      timeZone: 'Mars/Olympus',
      start: '25:00',
      end: '04:00',
      days: [],
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'timeZone', message: '"Mars/Olympus" is not an IANA time zone name: write one like Europe/Berlin or UTC' },
      { field: 'start', message: 'must be a time of day like 02:00 (24-hour HH:MM)' },
      { field: 'days', message: 'needs at least one weekday, e.g. ["sun"]' },
    ]);
    const ok = await call<WindowBody>('POST', '/api/v1/maintenance-windows', {
      name: 'backup',
      kind: 'weekly',
      timeZone: 'Europe/Berlin',
      start: '02:00',
      end: '04:00',
      days: ['sun'],
      matchers: ['agent="pacs-01"'],
    });
    assert.equal(ok.status, 201, ok.text);
    const [listed] = (await call<WindowBody[]>('GET', '/api/v1/maintenance-windows')).json;
    assert.ok(listed, 'the window is listed');
    assert.equal(listed.id, ok.json.id);
    assert.equal(typeof listed.open, 'boolean');
    assert.ok(listed.next.start > Date.now() - 7 * 86_400_000);
    assert.equal((await call('DELETE', `/api/v1/maintenance-windows/${ok.json.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/v1/maintenance-windows/${ok.json.id}`)).status, 404);
  });

  it('PUT /checks/{id}/policy answers 400 with field errors, 404 for an unknown check, and sets the counts', async () => {
    const bad = await call<ApiErrorBody>('PUT', `/api/v1/checks/${checkId}/policy`, { failuresBeforeHard: 0, flap: { low: 60, high: 40 }, colour: 'red' });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.json.errors?.map((e) => e.field),
      ['failuresBeforeHard', 'flap.low', 'colour'],
    );
    assert.equal((await call('PUT', '/api/v1/checks/nope/policy', { failuresBeforeHard: 2 })).status, 404);
    const ok = await call<PolicyBody>('PUT', `/api/v1/checks/${checkId}/policy`, { failuresBeforeHard: 5, successesBeforeRecovery: 2 });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.override, { failuresBeforeHard: 5, successesBeforeRecovery: 2 });
    assert.equal(ok.json.policy.failuresBeforeHard, 5);
    const reset = await call<PolicyBody>('PUT', `/api/v1/checks/${checkId}/policy`, {});
    assert.equal(reset.json.override, null);
    assert.equal(reset.json.policy.failuresBeforeHard, 3);
  });

  it('POST /alerts/{fingerprint}/ack: 400 without a comment, 404 for an unknown alert, 409 when not firing, 200 when firing', async () => {
    assert.equal((await call('POST', '/api/v1/alerts/0000000000000000/ack', { comment: 'on it' })).status, 404);
    service.agentDown({ id: agentId, name: 'pacs-01' }, 'connection refused');
    await service.tick();
    const [alert] = (await call<AlertBody[]>('GET', '/api/v1/alerts')).json;
    assert.ok(alert, 'an alert is listed');
    assert.equal(alert.name, 'AgentUnreachable');
    assert.equal(alert.state, 'firing');

    const bad = await call<ApiErrorBody>('POST', `/api/v1/alerts/${alert.fingerprint}/ack`, { comment: ' ', expiresAt: 'tomorrow' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, [
      { field: 'comment', message: 'must not be empty' },
      { field: 'expiresAt', message: 'must be a time like 2025-03-30T01:00:00Z (with Z or an offset) or epoch milliseconds, got "tomorrow"' },
    ]);
    const ok = await call<AlertBody>('POST', `/api/v1/alerts/${alert.fingerprint}/ack`, { comment: 'network team is on it', by: 'jan' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.mutedBy, [{ type: 'acknowledged', by: 'jan', expiresAt: null }]);
    assert.equal((await call('DELETE', `/api/v1/alerts/${alert.fingerprint}/ack`)).status, 204);
    assert.equal((await call('DELETE', `/api/v1/alerts/${alert.fingerprint}/ack`)).status, 409, 'not acknowledged any more');

    const history = await call<HistoryLine[]>('GET', `/api/v1/alerts/history?limit=3&fingerprint=${alert.fingerprint}`);
    assert.deepEqual(
      history.json.map((h) => [h.transition, h.by]),
      [
        ['unacknowledged', 'api'],
        ['acknowledged', 'jan'],
        ['notified', null],
      ],
    );
    assert.deepEqual((await call<ApiErrorBody>('GET', '/api/v1/alerts/history?limit=0')).json.errors, [
      { field: 'limit', message: 'must be a whole number from 1 to 10000' },
    ]);
  });

  it('GET /alerts/history filters by agent, label, kind, severity and time, sorts either way and pages, with X-Total-Count', async () => {
    const other = await new AgentsRepository(db.dataSource).create({ name: 'pacs-02', host: '127.0.0.2', port: 7443, token: 't', fingerprint: 'f2' });
    service.agentDown({ id: other.id, name: 'pacs-02' }, 'connection refused');
    await service.tick();
    const mine = await call<FullHistoryLine[]>('GET', '/api/v1/alerts/history?agent=pacs-02');
    assert.equal(mine.status, 200, mine.text);
    assert.ok(mine.json.length >= 2, 'firing and its notification at least');
    assert.equal(mine.headers.get('x-total-count'), String(mine.json.length));
    assert.ok(
      mine.json.every((h) => h.details.labels?.agent === 'pacs-02'),
      'only the lines about pacs-02',
    );
    const all = await call<FullHistoryLine[]>('GET', '/api/v1/alerts/history');
    assert.ok(Number(all.headers.get('x-total-count')) > mine.json.length, 'the other agent has lines too');
    const ids = (path: string) => call<FullHistoryLine[]>('GET', path).then((r) => r.json.map((h) => h.id));
    const expected = mine.json.map((h) => h.id);
    assert.deepEqual(await ids(`/api/v1/alerts/history?agent=${other.id}`), expected, 'the agent by id');
    assert.deepEqual(await ids(`/api/v1/alerts/history?label=${encodeURIComponent('agent="pacs-02"')}`), expected, 'a label matcher');
    assert.deepEqual(await ids(`/api/v1/alerts/history?fingerprint=${mine.json[0]!.fingerprint}`), expected, 'the alert by fingerprint');
    assert.deepEqual(await ids('/api/v1/alerts/history?agent=pacs-02&sort=at'), [...expected].reverse(), 'oldest first');
    const page = await call<FullHistoryLine[]>('GET', '/api/v1/alerts/history?agent=pacs-02&limit=1&offset=1');
    assert.deepEqual([page.json.map((h) => h.id), page.headers.get('x-total-count')], [[expected[1]], String(expected.length)]);
    assert.deepEqual(await ids(`/api/v1/alerts/history?agent=pacs-02&before=${expected[0]}`), expected.slice(1), 'the old cursor still pages back');

    const firing = await call<FullHistoryLine[]>('GET', '/api/v1/alerts/history?agent=pacs-02&kind=firing');
    assert.deepEqual(
      firing.json.map((h) => h.transition),
      ['firing'],
    );
    const severity = mine.json[0]!.details.severity as string;
    assert.deepEqual(await ids(`/api/v1/alerts/history?agent=pacs-02&severity=${severity}`), expected);
    const otherSeverity = severity === 'info' ? 'critical' : 'info';
    assert.deepEqual(await ids(`/api/v1/alerts/history?agent=pacs-02&severity=${otherSeverity}`), []);
    const newest = Math.max(...mine.json.map((h) => h.at));
    assert.deepEqual(
      await ids(`/api/v1/alerts/history?agent=pacs-02&from=${newest}`),
      expected.filter((_, i) => mine.json[i]!.at >= newest),
    );
    const later = await call<FullHistoryLine[]>('GET', `/api/v1/alerts/history?agent=pacs-02&from=${newest + 1}`);
    assert.deepEqual([later.json, later.headers.get('x-total-count')], [[], '0']);
    assert.deepEqual(await ids('/api/v1/alerts/history?agent=pacs-0'), [], 'a name is matched whole, not in part');
  });

  it('GET /alerts/history refuses an unknown sort key, kind or filter, and a label matcher it cannot search with', async () => {
    const errors = async (query: string) => (await call<ApiErrorBody>('GET', `/api/v1/alerts/history?${query}`)).json.errors;
    assert.deepEqual(await errors('sort=name'), [{ field: 'sort', message: 'must be one of at, -at' }]);
    assert.deepEqual(await errors('kind=exploded'), [{ field: 'kind', message: `must be one of ${HISTORY_KINDS.join(', ')}` }]);
    assert.deepEqual(await errors(`label=${encodeURIComponent('agent=~"pacs.*"')}`), [
      { field: 'label', message: 'must be one label and its value, e.g. team="pacs": the history cannot be searched with !=, =~ or !~' },
    ]);
    assert.equal((await errors('label=pacs'))?.[0]?.field, 'label');
    assert.equal((await errors('state=firing'))?.[0]?.field, 'state', 'a filter the history does not take');
  });

  it('GET /alerts/history answers 400 naming each query parameter of the wrong type', async () => {
    const res = await call('GET', '/api/v1/alerts/history?limit=many&before=yesterday');
    assert.deepEqual(
      [res.status, res.json],
      [
        400,
        problem(400, 'invalid query', '/api/v1/alerts/history', [
          { field: 'before', message: 'must be the id of a history line' },
          { field: 'limit', message: 'must be a whole number from 1 to 10000' },
        ]),
      ],
    );
  });

  it('PUT /checks/{id}/policy with a count of the wrong type answers 400 naming the field, and no body goes back to the defaults', async () => {
    const res = await call('PUT', `/api/v1/checks/${checkId}/policy`, { failuresBeforeHard: '5' });
    assert.deepEqual(
      [res.status, res.json],
      [
        400,
        problem(400, 'invalid check policy', `/api/v1/checks/${checkId}/policy`, [
          { field: 'failuresBeforeHard', message: 'must be a whole number of results from 1 to 100' },
        ]),
      ],
    );
    assert.equal((await call<PolicyBody>('PUT', `/api/v1/checks/${checkId}/policy`, { failuresBeforeHard: 4 })).json.override?.failuresBeforeHard, 4);
    const reset = await call<PolicyBody>('PUT', `/api/v1/checks/${checkId}/policy`);
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.json.override, null);
  });
  it('refuses control characters in maintenance window names and ids, silence authors and ack authors with a 400 naming the field', async () => {
    const once = { kind: 'once', startsAt: '2030-01-01T00:00:00Z', endsAt: '2030-01-01T02:00:00Z' };
    const refused: [string, string, unknown, string][] = [
      ['POST', '/api/v1/maintenance-windows', { ...once, name: 'backup\nnight' }, 'name'],
      ['POST', '/api/v1/maintenance-windows', { ...once, name: 'backup\u0000' }, 'name'],
      ['POST', '/api/v1/maintenance-windows', { ...once, name: 'backup', id: 'mw\u001b[2J' }, 'id'],
      ['POST', '/api/v1/silences', { matchers: ['agent="pacs-01"'], comment: 'racks', duration: '1h', createdBy: 'jan\r\nX-Forged: 1' }, 'createdBy'],
    ];
    const [alert] = (await call<AlertBody[]>('GET', '/api/v1/alerts')).json;
    assert.ok(alert, 'the test above leaves AgentUnreachable firing');
    assert.equal(alert.state, 'firing', 'the test above leaves AgentUnreachable firing');
    refused.push(['POST', `/api/v1/alerts/${alert.fingerprint}/ack`, { comment: 'on it', by: 'jan\u0085' }, 'by']);
    refused.push(['DELETE', `/api/v1/alerts/${alert.fingerprint}/ack?by=${encodeURIComponent('jan\u0000')}`, undefined, 'by']);
    for (const [method, path, body, field] of refused) {
      const res = await call<ApiErrorBody>(method, path, body);
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
      assert.deepEqual(res.json.errors, [{ field, message: CONTROL_CHARACTERS_MESSAGE }], `${method} ${path}`);
    }
    assert.deepEqual((await call('GET', '/api/v1/maintenance-windows')).json, [], 'a window was saved');
    assert.ok(!(await call<SilenceBody[]>('GET', '/api/v1/silences')).json.some((s) => s.createdBy.includes('X-Forged')), 'the silence was saved');
  });
});
