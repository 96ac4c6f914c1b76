import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDto } from '../shared/dto.js';
import { DEFAULT_ROUTING, policyDto, type NotificationPolicy, type RoutingSettings } from './policy.js';
import { DEFAULT_ROUTE_NAME, selectRoutes } from './router.js';

let seq = 0;
function policy(input: Record<string, unknown>): NotificationPolicy {
  const dto = parseDto(policyDto, { steps: [{ after: '0s', targets: [{ channel: 'ops' }] }], ...input }, 'invalid');
  return { ...dto, id: `p${++seq}`, position: seq };
}

const labels = { alertname: 'CheckStatus', site: 'north', department: 'radiology', modality: 'CT', check: 'PACS web' };
const berlin: RoutingSettings = {
  ...DEFAULT_ROUTING,
  workingHours: { timeZone: 'Europe/Berlin', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00' },
};

const names = (r: ReturnType<typeof selectRoutes>) => r.routes.map((x) => x.policyName);

describe('notification policies: which routes an alert takes', () => {
  it('takes the first policy whose matchers and severities hold, and no later one without continue', () => {
    const policies = [
      policy({ name: 'south', matchers: ['site="south"'] }),
      policy({ name: 'radiology critical', matchers: ['department="radiology"'], severities: ['critical'] }),
      policy({ name: 'radiology', matchers: ['department=~"radio.*"'] }),
    ];
    const critical = selectRoutes(policies, DEFAULT_ROUTING, labels, 'critical', 0);
    assert.deepEqual(names(critical), ['radiology critical']);
    assert.deepEqual(critical.verdicts, [
      { policy: 'south', matched: false, why: 'labels do not match site="south"' },
      { policy: 'radiology critical', matched: true, why: 'labels match department="radiology"; severity is critical' },
      { policy: 'radiology', matched: false, why: 'not considered: "radiology critical" took the alert and does not continue' },
    ]);
    const warning = selectRoutes(policies, DEFAULT_ROUTING, labels, 'warning', 0);
    assert.deepEqual(names(warning), ['radiology']);
    assert.equal(warning.verdicts[1]!.why, 'severity warning is not critical');
  });

  it('a policy with continue lets later policies take the alert too', () => {
    const policies = [policy({ name: 'audit trail', continue: true }), policy({ name: 'CT', matchers: ['modality="CT"'] }), policy({ name: 'all' })];
    assert.deepEqual(names(selectRoutes(policies, DEFAULT_ROUTING, labels, 'warning', 0)), ['audit trail', 'CT']);
  });

  it('the default route takes what no policy does: every enabled channel unless configured', () => {
    const none = selectRoutes([policy({ name: 'south', matchers: ['site="south"'] })], DEFAULT_ROUTING, labels, 'info', 0);
    assert.deepEqual(names(none), [DEFAULT_ROUTE_NAME]);
    assert.deepEqual(none.routes[0]!.steps, [{ afterMs: 0, targets: [{ allChannels: true }] }]);
    const configured = selectRoutes([], { ...DEFAULT_ROUTING, defaultRoute: [{ afterMs: 0, targets: [{ channel: 'c1' }] }] }, labels, 'info', 0);
    assert.deepEqual(configured.routes[0]!.steps, [{ afterMs: 0, targets: [{ channel: 'c1' }] }]);
  });

  it('working hours route to the day team and nights and weekends to on-call, in the zone, across the spring DST change', () => {
    const policies = [
      policy({ name: 'day', time: { active: 'working-hours' } }),
      policy({ name: 'night', time: { active: 'off-hours' }, steps: [{ after: 0, targets: [{ schedule: 'radiology' }] }] }),
    ];
    const at = (iso: string) => names(selectRoutes(policies, berlin, labels, 'critical', Date.parse(iso)));
    // Friday 2025-03-28 is CET (UTC+1): 08:00 local is 07:00Z.
    assert.deepEqual(at('2025-03-28T06:59:00Z'), ['night']);
    assert.deepEqual(at('2025-03-28T07:00:00Z'), ['day']);
    assert.deepEqual(at('2025-03-28T16:59:00Z'), ['day']);
    assert.deepEqual(at('2025-03-28T17:00:00Z'), ['night']);
    // Sunday 2025-03-30 the clocks go forward; Saturday and Sunday are nights all day.
    assert.deepEqual(at('2025-03-29T10:00:00Z'), ['night']);
    assert.deepEqual(at('2025-03-30T10:00:00Z'), ['night']);
    // Monday 2025-03-31 is CEST (UTC+2): 08:00 local is 06:00Z, 18:00 local is 16:00Z.
    assert.deepEqual(at('2025-03-31T05:59:00Z'), ['night']);
    assert.deepEqual(at('2025-03-31T06:00:00Z'), ['day']);
    assert.deepEqual(at('2025-03-31T16:00:00Z'), ['night']);
    const why = selectRoutes(policies, berlin, labels, 'critical', Date.parse('2025-03-31T05:59:00Z')).verdicts[0]!.why;
    assert.equal(why, 'outside working hours mon–fri 08:00–18:00 Europe/Berlin');
  });

  it('a policy with its own hours across midnight belongs to the day it opened on', () => {
    const policies = [policy({ name: 'night shift', time: { timeZone: 'UTC', days: ['fri'], from: '22:00', to: '06:00' } })];
    const at = (iso: string) => names(selectRoutes(policies, DEFAULT_ROUTING, labels, 'critical', Date.parse(iso)));
    assert.deepEqual(at('2025-03-28T23:00:00Z'), ['night shift'], 'Friday night');
    assert.deepEqual(at('2025-03-29T05:59:00Z'), ['night shift'], 'still Friday night on Saturday morning');
    assert.deepEqual(at('2025-03-29T23:00:00Z'), [DEFAULT_ROUTE_NAME], 'Saturday night is not a Friday');
  });
});

describe('notification policy validation', () => {
  const errors = (input: Record<string, unknown>) => {
    try {
      parseDto(policyDto, { name: 'p', steps: [{ after: '0s', targets: [{ channel: 'ops' }] }], ...input }, 'invalid');
      return [];
    } catch (e) {
      return (e as { errors: { field: string; message: string }[] }).errors;
    }
  };

  it('names the step whose after is not later than the one before', () => {
    assert.deepEqual(
      errors({
        steps: [
          { after: '0s', targets: [{ channel: 'a' }] },
          { after: '15m', targets: [{ channel: 'b' }] },
          { after: '10m', targets: [{ channel: 'c' }] },
        ],
      }),
      [{ field: 'steps.2.after', message: "must be later than step 1's after (each step escalates after the one before)" }],
    );
  });

  it('refuses an unknown time zone, a bad time of day and an unknown severity with their fields', () => {
    const found = errors({ time: { timeZone: 'Mars/Olympus', days: ['mon'], from: '25:00', to: '06:00' }, severities: ['fatal'] });
    assert.deepEqual(
      found.map((e) => e.field),
      ['severities.0', 'time.timeZone', 'time.from'],
    );
    assert.match(found[1]!.message, /"Mars\/Olympus" is not an IANA time zone name/);
  });
});
