import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { runPlugin } from '../runner.js';
import { builtinPlugins } from '../registry.js';
import { sampleOutcome, sampleOutcomes } from './sample-outcomes.js';

describe('sampleOutcome', () => {
  it('reports one metric per declaration, with every declared label set to a sample value', () => {
    const outcome = sampleOutcome({
      name: 'pacs-queue',
      metrics: [
        { name: 'depth', unit: 'count', help: 'Messages waiting.', labels: ['queue', 'host'] },
        { name: 'oldest_seconds', unit: 'seconds', help: 'Age of the oldest message.' },
      ],
    });
    assert.deepEqual(outcome, {
      status: 'OK',
      reason: 'ok',
      summary: 'sample outcome of pacs-queue',
      metrics: [
        { name: 'depth', value: 1, unit: 'count', labels: { queue: 'sample-queue', host: 'sample-host' } },
        { name: 'oldest_seconds', value: 2, unit: 'seconds' },
      ],
    });
  });

  it('gives one outcome per built-in, keyed by plugin name', () => {
    assert.deepEqual(
      [...sampleOutcomes().keys()],
      builtinPlugins()
        .map((p) => p.name)
        .sort(),
    );
  });

  for (const plugin of builtinPlugins()) {
    it(`the ${plugin.name} sample outcome passes the runner unchanged: it is as the plugin declares`, async () => {
      const sample = sampleOutcome(plugin);
      const report = await runPlugin({ ...plugin, configSchema: z.strictObject({}), run: async () => sample }, {}, { timeoutMs: 1000 });
      assert.deepEqual(report.outcome, sample);
      assert.equal(sample.metrics.length, plugin.metrics.length);
    });
  }
});
