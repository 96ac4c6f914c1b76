import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('starts at the time it is given and only moves when advanced', async () => {
    const clock = new ManualClock(5000);
    assert.equal(clock.now(), 5000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(clock.now(), 5000);
    await clock.advance(250);
    assert.equal(clock.now(), 5250);
  });

  it('starts at 0 by default', () => {
    assert.equal(new ManualClock().now(), 0);
  });

  it('fires timers in due order during advance, each seeing its own due time as now', async () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);

    await clock.advance(25);
    assert.deepEqual(fired, ['a@110', 'b@120']);
    assert.equal(clock.now(), 125);

    await clock.advance(5);
    assert.deepEqual(fired, ['a@110', 'b@120', 'c@130']);
  });

  it('fires timers due at the same time in the order they were set', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10);
    await clock.advance(10);
    assert.deepEqual(fired, [0, 1, 2, 3, 4]);
  });

  it('treats a negative delay as zero', async () => {
    const clock = new ManualClock(50);
    let firedAt: number | undefined;
    clock.setTimeout(() => (firedAt = clock.now()), -100);
    await clock.advance(0);
    assert.equal(firedAt, 50);
  });

  it('does not fire a cleared timer', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('kept'), 10);
    assert.equal(clock.pendingTimers, 2);

    clock.clearTimeout(handle);
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(100);

    assert.deepEqual(fired, ['kept']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('fires, within the same advance, timers set by timers that fall inside it', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      clock.setTimeout(tick, 40);
    };
    clock.setTimeout(tick, 40);

    await clock.advance(130);

    assert.deepEqual(fired, [40, 80, 120]);
    assert.equal(clock.pendingTimers, 1);
  });

  it('lets promise continuations of a fired timer run before the next timer fires', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => order.push('continuation of first'));
      order.push('first');
    }, 10);
    clock.setTimeout(() => order.push('second'), 10);

    await clock.advance(10);

    assert.deepEqual(order, ['first', 'continuation of first', 'second']);
  });
});

describe('systemClock', () => {
  it('reads wall-clock time and fires a real timer that can be cleared', async () => {
    const before = Date.now();
    assert.ok(Math.abs(systemClock.now() - before) < 1000);
    let cleared = false;
    const handle = systemClock.setTimeout(() => (cleared = true), 1);
    systemClock.clearTimeout(handle);
    const fired = await new Promise<boolean>((resolve) => systemClock.setTimeout(() => resolve(true), 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(fired, true);
    assert.equal(cleared, false);
  });
});
