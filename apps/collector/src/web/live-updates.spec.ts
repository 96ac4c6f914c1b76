import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '#rounds/common';
import type { CurrentState } from '../state/current-state.js';
import { LiveUpdates, type LiveClient } from './live-updates.service.js';

class Client implements LiveClient {
  readonly got: string[] = [];
  ended = false;
  full = false;
  write(chunk: string): boolean {
    if (this.full) return false;
    this.got.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  events(): string[] {
    return this.got.filter((c) => c.startsWith('event:'));
  }
}

function setUp() {
  const model = { version: 1 };
  const clock = new ManualClock(1_000_000);
  const live = new LiveUpdates(model as unknown as CurrentState, clock);
  live.configure({ tickEveryMs: 30_000, maxConnectionMs: 600_000, maxClients: 3 });
  return { model, clock, live };
}

describe('LiveUpdates', () => {
  it('greets a new connection with the reconnect delay, then sends one status event per change of the model to every connection', () => {
    const { model, live } = setUp();
    const a = new Client();
    const b = new Client();
    live.add(a);
    live.add(b);
    assert.match(a.got[0]!, /^retry: 3000\n/);
    live.poll();
    assert.deepEqual(a.events(), ['event: status\ndata: 1\n\n']);
    live.poll();
    assert.equal(a.events().length, 1, 'nothing changed: nothing sent');
    model.version = 7;
    live.poll();
    assert.deepEqual(b.events(), ['event: status\ndata: 1\n\n', 'event: status\ndata: 7\n\n']);
    live.onModuleDestroy();
  });

  it('sends an event every tick even without a change, so ages on the board move on', async () => {
    const { clock, live } = setUp();
    const a = new Client();
    live.add(a);
    live.poll();
    await clock.advance(29_000);
    live.poll();
    assert.equal(a.events().length, 1);
    await clock.advance(1_000);
    live.poll();
    assert.equal(a.events().length, 2);
    live.onModuleDestroy();
  });

  it('drops an event for a connection whose buffer is full and keeps the others going', () => {
    const { model, live } = setUp();
    const slow = new Client();
    const fast = new Client();
    live.add(slow);
    live.add(fast);
    slow.full = true;
    live.poll();
    model.version = 2;
    live.poll();
    assert.equal(fast.events().length, 2);
    assert.equal(slow.events().length, 0);
    assert.deepEqual(live.counters, { events: 2, dropped: 2 });
    live.onModuleDestroy();
  });

  it('closes a connection after its time (the browser comes back through the access guard), and the oldest past the cap', async () => {
    const { clock, live } = setUp();
    const old = new Client();
    live.add(old);
    await clock.advance(300_000);
    const others = [new Client(), new Client()];
    for (const c of others) live.add(c);
    const fourth = new Client();
    live.add(fourth);
    assert.equal(old.ended, true, 'past three connections the oldest goes');
    assert.equal(live.size, 3);
    await clock.advance(600_000);
    live.poll();
    assert.ok(others.every((c) => c.ended));
    assert.equal(fourth.ended, true);
    assert.equal(live.size, 0);
  });

  it('forgets a connection that closed', () => {
    const { live } = setUp();
    const a = new Client();
    const closed = live.add(a);
    closed();
    assert.equal(live.size, 0);
    live.poll();
    assert.equal(a.events().length, 0);
  });
});
