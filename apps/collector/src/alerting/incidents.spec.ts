import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryLine } from './alerting.repository.js';
import { incidentsOf } from './incidents.js';

let id = 0;
const line = (at: number, fingerprint: string, transition: string, extra: Partial<HistoryLine> = {}): HistoryLine => ({
  id: ++id,
  at,
  fingerprint,
  alertName: 'CheckFailing',
  transition,
  by: null,
  comment: null,
  details: { severity: 'critical', labels: { check_id: 'c1' } },
  ...extra,
});

describe('incidentsOf', () => {
  const history = [
    line(100, 'a', 'pending'),
    line(160, 'a', 'firing'),
    line(161, 'a', 'notified', { details: { summary: 'C-ECHO refused: association rejected' } }),
    line(200, 'a', 'acknowledged', { by: 'night-shift' }),
    line(260, 'a', 'acknowledged', { by: 'someone-later' }),
    line(400, 'a', 'resolved'),
    line(500, 'b', 'firing', { details: { severity: 'warning', detail: 'disk 91 % full' } }),
    line(900, 'a', 'firing'),
  ];

  it('pairs firing with resolved per alert, with the reason, the first acknowledgement and the duration', () => {
    assert.deepEqual(incidentsOf(history, 0, 1000, 1000), [
      {
        alert: 'CheckFailing',
        fingerprint: 'a',
        severity: 'critical',
        startedAt: 160,
        endedAt: 400,
        durationMs: 240,
        reason: 'C-ECHO refused: association rejected',
        acknowledgedBy: 'night-shift',
        acknowledgedAt: 200,
      },
      {
        alert: 'CheckFailing',
        fingerprint: 'b',
        severity: 'warning',
        startedAt: 500,
        endedAt: null,
        durationMs: 500,
        reason: 'disk 91 % full',
        acknowledgedBy: null,
        acknowledgedAt: null,
      },
      {
        alert: 'CheckFailing',
        fingerprint: 'a',
        severity: 'critical',
        startedAt: 900,
        endedAt: null,
        durationMs: 100,
        reason: null,
        acknowledgedBy: null,
        acknowledgedAt: null,
      },
    ]);
  });

  it('keeps only the incidents that overlap the range; one still firing runs until now', () => {
    assert.deepEqual(
      incidentsOf(history, 401, 499, 1000).map((i) => i.startedAt),
      [],
    );
    assert.deepEqual(
      incidentsOf(history, 399, 501, 1000).map((i) => i.startedAt),
      [160, 500],
    );
    assert.deepEqual(
      incidentsOf(history, 950, 2000, 1000).map((i) => [i.startedAt, i.durationMs]),
      [
        [500, 500],
        [900, 100],
      ],
    );
  });
});
