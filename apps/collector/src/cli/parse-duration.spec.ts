import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './parse-duration.js';

describe('parseDuration', () => {
  const cases: [string, number][] = [
    ['1500ms', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['90d', 90 * 86_400_000],
    ['2500', 2500],
    ['0', 0],
    ['1.5s', 1500],
    ['0.25m', 15_000],
    ['0.0015s', 2],
    [' 10s\n', 10_000],
  ];
  for (const [text, ms] of cases) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text, '--interval'), ms);
    });
  }

  const invalid = ['', '10 s', '-5s', '5w', '5D', '1h30m', 's', '.5s', '1e3', 'ten'];
  for (const text of invalid) {
    it(`refuses ${JSON.stringify(text)} with a message naming the option and the value`, () => {
      assert.throws(() => parseDuration(text, '--interval'), {
        message: `--interval must be a duration like 30s, 5m, 1h, 90d or 1500ms, got "${text}"`,
      });
    });
  }
});
