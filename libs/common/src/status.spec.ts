import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from './generated/rounds/agent/v1/agent.js';
import { CHECK_STATUSES, nagiosExitCode, statusFromProto, statusToProto, worstStatus } from './status.js';

describe('status', () => {
  it('maps each status to its wire value and back', () => {
    assert.deepEqual(
      CHECK_STATUSES.map((s) => statusToProto(s)),
      [Status.STATUS_OK, Status.STATUS_WARNING, Status.STATUS_CRITICAL, Status.STATUS_UNKNOWN],
    );
    for (const s of CHECK_STATUSES) assert.equal(statusFromProto(statusToProto(s)), s);
  });

  it('reads an unrecognised wire value as UNKNOWN', () => {
    assert.equal(statusFromProto(Status.UNRECOGNIZED), 'UNKNOWN');
    assert.equal(statusFromProto(42 as Status), 'UNKNOWN');
  });

  it('gives the Nagios plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN', () => {
    assert.deepEqual(
      CHECK_STATUSES.map((s) => [s, nagiosExitCode(s)]),
      [
        ['OK', 0],
        ['WARNING', 1],
        ['CRITICAL', 2],
        ['UNKNOWN', 3],
      ],
    );
  });

  it('worstStatus ranks CRITICAL over WARNING over UNKNOWN over OK', () => {
    assert.equal(worstStatus('OK', 'UNKNOWN', 'WARNING', 'CRITICAL'), 'CRITICAL');
    assert.equal(worstStatus('CRITICAL', 'WARNING'), 'CRITICAL');
    assert.equal(worstStatus('UNKNOWN', 'WARNING', 'OK'), 'WARNING');
    assert.equal(worstStatus('OK', 'UNKNOWN'), 'UNKNOWN');
    assert.equal(worstStatus('OK', 'OK'), 'OK');
  });

  it('worstStatus of nothing is OK', () => {
    assert.equal(worstStatus(), 'OK');
  });
});
