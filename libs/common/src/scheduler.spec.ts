import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.js';
import { Scheduler, nextOnCadence, type ScheduledTask } from './scheduler.js';

/** A promise the test resolves by hand, to hold a task "running" for as long as it likes. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every pending promise continuation run (a macrotask turn drains all microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Run {
  key: string;
  at: number;
  lateBy: number;
}

describe('Scheduler', () => {
  it('refuses a concurrency below 1', () => {
    assert.throws(() => new Scheduler(new ManualClock(), 0), { name: 'RangeError', message: 'concurrency must be at least 1, got 0' });
    assert.throws(() => new Scheduler(new ManualClock(), Number.NaN), {
      name: 'RangeError',
      message: 'concurrency must be at least 1, got NaN',
    });
  });

  it('runs jobs in the order they fall due, at their due time, whatever order they were added in', async () => {
    const clock = new ManualClock(1000);
    const scheduler = new Scheduler(clock, 4);
    const runs: Run[] = [];
    const record =
      (key: string): ScheduledTask =>
      async (lateBy) => {
        runs.push({ key, at: clock.now(), lateBy });
        return undefined;
      };
    scheduler.add('c', 1300, record('c'));
    scheduler.add('a', 1100, record('a'));
    scheduler.add('d', 1400, record('d'));
    scheduler.add('b', 1200, record('b'));

    await clock.advance(1000);

    assert.deepEqual(runs, [
      { key: 'a', at: 1100, lateBy: 0 },
      { key: 'b', at: 1200, lateBy: 0 },
      { key: 'c', at: 1300, lateBy: 0 },
      { key: 'd', at: 1400, lateBy: 0 },
    ]);
  });

  it('reschedules a job at the time its task returns and stops when it returns undefined', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const at: number[] = [];
    scheduler.add('every-100', 100, async () => {
      at.push(clock.now());
      return at.length < 3 ? clock.now() + 100 : undefined;
    });

    await clock.advance(1000);

    assert.deepEqual(at, [100, 200, 300]);
  });

  it('keeps a single timer armed however many jobs are queued', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 8);
    let runs = 0;
    const every =
      (interval: number): ScheduledTask =>
      async () => {
        runs++;
        return clock.now() + interval;
      };
    for (let i = 0; i < 500; i++) scheduler.add(`job-${i}`, 1 + ((i * 7919) % 1000), every(50 + (i % 97)));
    assert.equal(clock.pendingTimers, 1);

    // An earlier job replaces the armed timer rather than adding a second one.
    scheduler.add('early', 0, every(10));
    assert.equal(clock.pendingTimers, 1);

    for (let step = 0; step < 20; step++) {
      await clock.advance(37);
      assert.equal(clock.pendingTimers, 1, `after ${clock.now()} ms`);
    }
    assert.ok(runs > 500, `expected the jobs to have run repeatedly, ran ${runs} times`);
  });

  it('disarms its timer once no job is left to run', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 2);
    scheduler.add('once-a', 10, async () => undefined);
    scheduler.add('once-b', 20, async () => undefined);
    assert.equal(clock.pendingTimers, 1);

    await clock.advance(100);

    assert.equal(clock.pendingTimers, 0);
    assert.equal(scheduler.active, 0);
  });

  it('never runs more tasks at once than its concurrency, and starts waiting jobs as slots free up', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 2);
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      gates.set(key, gate());
      scheduler.add(key, 10 + i, async () => {
        started.push(key);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gates.get(key)!.promise;
        inFlight--;
        return undefined;
      });
    }

    await clock.advance(20);
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(scheduler.active, 2);
    assert.equal(scheduler.backlog, 3);

    gates.get('a')!.open();
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c']);
    assert.equal(scheduler.backlog, 2);

    for (const key of ['b', 'c', 'd', 'e']) {
      gates.get(key)!.open();
      await settle();
    }
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(maxInFlight, 2);
    assert.equal(scheduler.active, 0);
    assert.equal(scheduler.backlog, 0);
  });

  it('reports how late a job started when it had to wait for a busy slot', async () => {
    const clock = new ManualClock(1000);
    const lags: number[] = [];
    const scheduler = new Scheduler(clock, 1, (lateBy) => lags.push(lateBy));
    const slow = gate();
    const runs: Run[] = [];
    scheduler.add('slow', 1000, async (lateBy) => {
      runs.push({ key: 'slow', at: clock.now(), lateBy });
      await slow.promise;
      return undefined;
    });
    scheduler.add('waiting', 1000, async (lateBy) => {
      runs.push({ key: 'waiting', at: clock.now(), lateBy });
      return undefined;
    });

    await clock.advance(0);
    await clock.advance(250);
    assert.deepEqual(runs, [{ key: 'slow', at: 1000, lateBy: 0 }]);

    slow.open();
    await settle();

    assert.deepEqual(runs, [
      { key: 'slow', at: 1000, lateBy: 0 },
      { key: 'waiting', at: 1250, lateBy: 250 },
    ]);
    assert.deepEqual(lags, [0, 250]);
  });

  it('add() with an existing key replaces the job: the old definition is not run again', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const runs: string[] = [];
    scheduler.add('check', 100, async () => {
      runs.push(`old@${clock.now()}`);
      return clock.now() + 100;
    });
    await clock.advance(100);

    scheduler.add('check', 150, async () => {
      runs.push(`new@${clock.now()}`);
      return clock.now() + 300;
    });
    await clock.advance(900);

    assert.deepEqual(runs, ['old@100', 'new@150', 'new@450', 'new@750']);
    assert.equal(scheduler.size, 1);
  });

  it('remove() stops a job from being rescheduled', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const at: number[] = [];
    scheduler.add('check', 100, async () => {
      at.push(clock.now());
      return clock.now() + 100;
    });
    await clock.advance(250);
    assert.deepEqual(at, [100, 200]);

    scheduler.remove('check');
    await clock.advance(1000);

    assert.deepEqual(at, [100, 200]);
    assert.equal(scheduler.has('check'), false);
    assert.equal(scheduler.size, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('remove() during a run lets that run finish but does not reschedule it', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const hold = gate();
    let finished = 0;
    let started = 0;
    scheduler.add('check', 100, async () => {
      started++;
      await hold.promise;
      finished++;
      return clock.now() + 100;
    });
    await clock.advance(100);
    assert.equal(started, 1);

    scheduler.remove('check');
    hold.open();
    await settle();
    await clock.advance(1000);

    assert.equal(finished, 1);
    assert.equal(started, 1);
  });

  it('never runs the same job twice at once when it is replaced while a run is in flight', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 4);
    const hold = gate();
    let inFlight = 0;
    let maxInFlight = 0;
    const runs: string[] = [];
    const task =
      (label: string, wait: Promise<void> | undefined): ScheduledTask =>
      async () => {
        runs.push(`${label}@${clock.now()}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (wait) await wait;
        inFlight--;
        return undefined;
      };
    scheduler.add('check', 100, task('v1', hold.promise));
    await clock.advance(100);

    // The new definition is due now, but v1 still holds the job: it must wait, even with free slots.
    scheduler.add('check', 100, task('v2', undefined));
    await clock.advance(200);
    assert.deepEqual(runs, ['v1@100']);
    assert.equal(scheduler.active, 1);

    hold.open();
    await settle();

    assert.deepEqual(runs, ['v1@100', 'v2@300']);
    assert.equal(maxInFlight, 1);
    assert.equal(scheduler.active, 0);
  });

  it('keeps running other jobs, and the thrower is not rescheduled, when a task throws', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const healthy: number[] = [];
    let asyncThrows = 0;
    let syncThrows = 0;
    scheduler.add('async-thrower', 50, async () => {
      asyncThrows++;
      throw new Error('bug in a task');
    });
    scheduler.add('sync-thrower', 60, () => {
      syncThrows++;
      throw new Error('bug before the first await');
    });
    scheduler.add('healthy', 100, async () => {
      healthy.push(clock.now());
      return clock.now() + 100;
    });

    await clock.advance(350);

    assert.deepEqual(healthy, [100, 200, 300]);
    assert.equal(asyncThrows, 1);
    assert.equal(syncThrows, 1);
    assert.equal(scheduler.active, 0);
  });

  it('stop() waits for the runs in progress and starts nothing more', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    const hold = gate();
    const started: string[] = [];
    scheduler.add('running', 10, async () => {
      started.push('running');
      await hold.promise;
      return clock.now() + 10;
    });
    scheduler.add('queued', 10, async () => {
      started.push('queued');
      return undefined;
    });
    scheduler.add('later', 500, async () => {
      started.push('later');
      return undefined;
    });
    await clock.advance(10);
    assert.equal(scheduler.backlog, 1);

    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'stop() resolved while a task was still running');

    hold.open();
    await stopping;
    assert.equal(stopped, true);

    await clock.advance(1000);
    assert.deepEqual(started, ['running']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('stop() resolves at once when nothing is running', async () => {
    const clock = new ManualClock(0);
    const scheduler = new Scheduler(clock, 1);
    let ran = false;
    scheduler.add('later', 100, async () => {
      ran = true;
      return undefined;
    });

    await scheduler.stop();
    assert.equal(clock.pendingTimers, 0);
    scheduler.add('after-stop', 0, async () => {
      ran = true;
      return undefined;
    });
    await clock.advance(1000);

    assert.equal(ran, false);
  });
});

describe('nextOnCadence', () => {
  it('returns one interval after the planned time when the run ended before then', () => {
    assert.equal(nextOnCadence(10_000, 1000, 10_400), 11_000);
  });

  it('keeps the cadence when a run started late, so lateness does not accumulate', () => {
    assert.equal(nextOnCadence(10_000, 1000, 10_900), 11_000);
  });

  it('skips the runs an overrun missed and lands on the next beat of the cadence', () => {
    assert.equal(nextOnCadence(10_000, 1000, 13_250), 14_000);
    assert.equal(nextOnCadence(10_000, 1000, 11_000), 12_000);
  });
});
