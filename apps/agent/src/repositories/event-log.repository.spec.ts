import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RoundsLogger } from '#rounds/common';
import { WindowsEventLog } from './event-log.repository.js';

/** The event log's arguments as eventcreate would receive them, with a clock the test moves. */
function recorder() {
  const events: string[][] = [];
  let now = 1_000_000;
  const log = new WindowsEventLog(
    'rounds-agent',
    'C:\\ProgramData\\Rounds\\logs',
    () => now,
    (args) => events.push(args),
  );
  return { events, log, advance: (ms: number) => (now += ms) };
}
const description = (args: string[]) => args[args.indexOf('/D') + 1];

describe('WindowsEventLog', () => {
  it('writes an error as an ERROR event of its source in the Application log', () => {
    const { events, log } = recorder();

    log.error('[Spool] cannot write C:\\ProgramData\\Rounds\\spool: disk full');

    assert.deepEqual(events, [
      ['/L', 'APPLICATION', '/T', 'ERROR', '/SO', 'rounds-agent', '/ID', '100', '/D', '[Spool] cannot write C:\\ProgramData\\Rounds\\spool: disk full'],
    ]);
  });

  it('sends at most 10 errors a minute, then one event saying how many were left out and where they are', () => {
    const { events, log, advance } = recorder();

    for (let i = 1; i <= 25; i++) log.error(`error ${i}`);
    advance(60_000);
    log.error('error 26');

    assert.deepEqual(events.map(description), [
      ...Array.from({ length: 10 }, (_, i) => `error ${i + 1}`),
      "15 more error(s) in the last minute were not sent to the event log: see the agent's log in C:\\ProgramData\\Rounds\\logs",
      'error 26',
    ]);
  });

  it('cuts a long message to 1,000 characters', () => {
    const { events, log } = recorder();

    log.error('x'.repeat(5000));

    assert.equal(description(events[0]!)?.length, 1000);
    assert.ok(description(events[0]!)?.endsWith('…'));
  });
});

describe('RoundsLogger with an error sink', () => {
  it('hands error and fatal lines with their context to the sink, and nothing below', () => {
    const lines: string[] = [];
    const logger = new RoundsLogger('error', (line) => lines.push(line));
    logger.log('listening', 'Agent');
    logger.warn('slow', 'Agent');
    logger.error('cannot read the TLS key', 'Agent');
    logger.error(new Error('spool is full'), 'stack…', 'Spool');
    logger.fatal('out of memory');

    assert.deepEqual(lines, ['[Agent] cannot read the TLS key', '[Spool] spool is full', 'out of memory']);
  });
});
