import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METRICS_TABLE_END, METRICS_TABLE_START, metricsTable, withMetricsTable } from './docs.js';
import { builtinPlugins } from './registry.js';

/** This file runs as dist/libs/plugins/src/docs.spec.js; the sources live under the repo root. */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

describe('plugin README metrics tables', () => {
  for (const plugin of builtinPlugins()) {
    it(`the ${plugin.name} README's metrics table matches its declarations (run \`npm run docs:plugins\` after changing them)`, () => {
      const readme = readFileSync(`${repoRoot}libs/plugins/src/${plugin.name}/README.md`, 'utf8');
      const start = readme.indexOf(METRICS_TABLE_START);
      const end = readme.indexOf(METRICS_TABLE_END);
      assert.ok(start >= 0 && end > start, `libs/plugins/src/${plugin.name}/README.md lacks the metrics table markers`);
      assert.equal(readme.slice(start, end + METRICS_TABLE_END.length), metricsTable(plugin));
    });
  }

  it('names each metric as exported and as in results, with units converted for export, labels and help', () => {
    const table = metricsTable({
      name: 'pacs-queue',
      metrics: [
        { name: 'depth', unit: 'count', help: 'Messages waiting | queued.', labels: ['queue', 'host'] },
        { name: 'cert_expiry_days', unit: 'days', help: 'Time left.' },
        { name: 'retries', unit: 'counter', help: 'Retries since start.' },
      ],
    });
    assert.deepEqual(table.split('\n').slice(1, -1), [
      '| exported as | in results | unit | labels | what it is |',
      '|---|---|---|---|---|',
      '| `rounds_pacs_queue_depth` | `depth` | count | `queue`, `host` | Messages waiting \\| queued. |',
      '| `rounds_pacs_queue_cert_expiry_seconds` | `cert_expiry_days` | days (exported as seconds) | — | Time left. |',
      '| `rounds_pacs_queue_retries_total` | `retries` | counter | — | Retries since start. |',
    ]);
  });

  it('replaces only what lies between the markers, and refuses a README without them', () => {
    const plugin = { name: 'pacs-queue', metrics: [] };
    const readme = `# pacs-queue\n\n## Metrics\n\n${METRICS_TABLE_START}\nold\n${METRICS_TABLE_END}\n\nMore.\n`;
    assert.equal(withMetricsTable(readme, plugin), `# pacs-queue\n\n## Metrics\n\n${metricsTable(plugin)}\n\nMore.\n`);
    assert.throws(() => withMetricsTable('# pacs-queue\n', plugin), { message: 'the pacs-queue README lacks the metrics table markers' });
  });
});
