import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CollectorMetrics } from '../../apps/collector/src/metrics/collector-metrics.service.js';
import { FIXTURES } from '../e2e/harness.js';
import { alertRules, dashboardQueries, dashboards, GRAFANA_DIR, metricNames, panelsOf, recordingRules } from './observability.js';

/** Sample names in the golden exposition, plus the process metrics it leaves out. */
async function exportedNames(): Promise<Set<string>> {
  const golden = readFileSync(join(FIXTURES, 'metrics', 'collector.prom'), 'utf8');
  const names = new Set<string>(['up']);
  for (const line of golden.split('\n')) {
    const m = /^# TYPE (\S+)|^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (m) names.add((m[1] ?? m[2])!);
  }
  for (const family of await new CollectorMetrics({ processMetrics: true }).families()) {
    names.add(family.name);
    for (const s of family.samples) if (s.name) names.add(s.name);
  }
  return names;
}

describe('deploy/grafana', () => {
  it('ships the Overview, Host, PACS and Collector dashboards with unique uids', () => {
    const all = dashboards();
    assert.deepEqual(all.map((d) => d.title).sort(), ['Rounds / Collector', 'Rounds / Host', 'Rounds / Overview', 'Rounds / PACS']);
    assert.equal(new Set(all.map((d) => d.uid)).size, all.length);
  });

  it('points every panel and query at the datasource variable, which defaults to the provisioned data source', () => {
    const provisioned = parse(readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'rounds-prometheus.yml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    const uid = provisioned.datasources[0]!.uid;
    for (const d of dashboards()) {
      const variable = d.templating.list.find((v) => v.name === 'datasource');
      assert.equal(variable?.type, 'datasource', `${d.title} lacks the datasource variable`);
      assert.equal(variable?.current?.value, uid, `${d.title}: datasource default`);
      for (const p of panelsOf(d).filter((x) => x.type !== 'row')) {
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${d.title} / ${p.title}`);
        assert.ok(p.targets && p.targets.length > 0, `${d.title} / ${p.title} has no query`);
        for (const t of p.targets) assert.ok(t.expr.trim(), `${d.title} / ${p.title} ${t.refId} has an empty expression`);
      }
    }
  });

  it('lays out every dashboard on the 24-column grid with unique panel ids', () => {
    for (const d of dashboards()) {
      const panels = panelsOf(d);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${d.title} panel ids`);
      for (const p of panels) assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `${d.title} / ${p.title} is off the grid`);
    }
  });

  it('filters every Host panel by the agent variable', () => {
    const host = dashboards().find((d) => d.title === 'Rounds / Host')!;
    assert.ok(host.templating.list.some((v) => v.name === 'agent' && v.type === 'query'));
    for (const q of dashboardQueries().filter((x) => x.dashboard === 'Rounds / Host')) assert.match(q.expr, /agent=~"\$agent"/, `${q.panel} ${q.refId}`);
  });

  it('names only metrics the collector exports or the rule file records, in every dashboard query and rule (checked against the golden exposition)', async () => {
    const exported = await exportedNames();
    for (const rule of recordingRules()) exported.add(rule.record);
    const sources = [
      ...dashboardQueries().map((q) => ({ where: `${q.dashboard} / ${q.panel} ${q.refId}`, expr: q.expr })),
      ...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...recordingRules().map((r) => ({ where: `record ${r.record}`, expr: r.expr })),
    ];
    const unknown: string[] = [];
    for (const { where, expr } of sources) {
      const { names, patterns } = metricNames(expr);
      assert.ok(names.length + patterns.length > 0, `${where}: no metric found in ${expr}`);
      for (const name of names) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
      for (const pattern of patterns) if (![...exported].some((n) => pattern.test(n))) unknown.push(`${where}: ${pattern}`);
    }
    assert.deepEqual(unknown, []);
  });

  it('provisions a dashboard provider reading a folder of JSON files', () => {
    const provider = parse(readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'rounds.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    assert.equal(provider.providers[0]!.type, 'file');
    assert.ok(readFileSync(join(GRAFANA_DIR, 'README.md'), 'utf8').includes(provider.providers[0]!.options.path), 'README names the dashboard folder');
  });
});
