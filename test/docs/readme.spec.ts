import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLLECT_LIMITS, RESULT_LIMITS } from '#rounds/common';
import { pluginTable, PLUGIN_TABLE_END, PLUGIN_TABLE_START } from '#rounds/plugins/docs';
import { ROOT } from '../e2e/harness.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('the README plugin table matches the registry (run `npm run docs:plugins` after adding a plugin)', () => {
  const start = readme.indexOf(PLUGIN_TABLE_START);
  const end = readme.indexOf(PLUGIN_TABLE_END);
  assert.ok(start >= 0 && end > start, 'README.md lacks the plugin table markers');
  assert.equal(readme.slice(start, end + PLUGIN_TABLE_END.length), pluginTable());
});

test('the README names the two commands a newcomer needs, and CI runs the same test command', () => {
  assert.match(readme, /npm run quickstart/);
  assert.match(readme, /npm test/);
  assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /^npm test$/m);
});

test('every collector setting read by config/env.ts is documented in the README', () => {
  const env = readFileSync(join(ROOT, 'apps', 'collector', 'src', 'config', 'env.ts'), 'utf8');
  const names = [...env.matchAll(/^\s+(ROUNDS_[A-Z_]+):/gm)].map((m) => m[1]!);
  assert.ok(names.length >= 10, `found only ${names.length} settings in env.ts`);
  for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README does not document ${name}`);
});

test('the README Limits table states the limits the code enforces', () => {
  const section = readme.slice(readme.indexOf('### Limits'), readme.indexOf('## Command line'));
  const L = RESULT_LIMITS;
  for (const row of [
    `| summary | ${L.summaryChars} characters |`,
    `| reason | ${L.reasonChars} characters |`,
    `| metrics per result | ${L.metricsPerResult} |`,
    `| metric name / unit | ${L.metricNameChars} / ${L.metricUnitChars} characters |`,
    `| labels per metric | ${L.labelsPerMetric} |`,
    `| label name / value | ${L.labelKeyChars} / ${L.labelValueChars} characters |`,
    `| results in one Collect answer | ${COLLECT_LIMITS.resultBytes / 1024 / 1024} MiB`,
    `| one Collect answer | ${COLLECT_LIMITS.answerBytes / 1024 / 1024} MiB |`,
  ]) {
    assert.ok(section.includes(row), `README Limits lacks "${row}"`);
  }
});
