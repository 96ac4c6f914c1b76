import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { alertRules, PROMETHEUS_DIR, recordingRules, RULES_FILE, signalQuery } from './observability.js';

const run = promisify(execFile);

async function promtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: PROMETHEUS_DIR });
    return `${stdout}${stderr}`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new Error('promtool is not installed: apt-get install prometheus (test/install-peers.sh does it)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** The unit tests in rounds.rules.test.yml: each fires alerts, evaluates expressions (recording rules), or both. */
function ruleTests(): {
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  promql_expr_test?: { expr: string; exp_samples: unknown[] }[];
}[] {
  return (parse(readFileSync(join(PROMETHEUS_DIR, 'rounds.rules.test.yml'), 'utf8')) as { tests: ReturnType<typeof ruleTests> }).tests;
}

describe('deploy/prometheus', () => {
  it('promtool check config accepts the scrape config and the rule file it loads', async () => {
    assert.match(await promtool(['check', 'config', 'prometheus.yml']), new RegExp(`SUCCESS: ${alertRules().length + recordingRules().length} rules found`));
  });

  it('promtool test rules passes the committed rule unit tests', async () => {
    assert.match(await promtool(['test', 'rules', 'rounds.rules.test.yml']), /SUCCESS/);
  });

  it('has a unit test firing every alert rule', () => {
    const fired = new Set(ruleTests().flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    for (const rule of alertRules()) assert.ok(fired.has(rule.alert), `no test in rounds.rules.test.yml expects ${rule.alert} to fire`);
  });

  it('has a unit test evaluating every recording rule', () => {
    const evaluated = ruleTests().flatMap((t) => (t.promql_expr_test ?? []).filter((e) => e.exp_samples.length > 0).map((e) => e.expr));
    for (const rule of recordingRules()) {
      assert.ok(
        evaluated.some((expr) => expr.includes(rule.record)),
        `no promql_expr_test in rounds.rules.test.yml expects samples of ${rule.record}`,
      );
    }
  });

  it('writes every alert as one signal compared with a threshold, so the e2e can evaluate the signal', () => {
    for (const rule of alertRules()) {
      assert.ok(signalQuery(rule.expr), `${rule.alert}: "${rule.expr}" is not "<signal> <comparison> <threshold>" with one top-level comparison`);
    }
  });

  it('gives every alert a severity, a summary and a description', () => {
    for (const rule of alertRules()) {
      assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, `${rule.alert} severity`);
      assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert} annotations`);
    }
  });

  it('names the rule file the scrape config loads', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: { job_name: string }[] };
    assert.deepEqual(
      config.rule_files.map((f) => join(PROMETHEUS_DIR, f)),
      [RULES_FILE],
    );
    assert.deepEqual(
      config.scrape_configs.map((s) => s.job_name),
      ['rounds-collector'],
    );
  });
});

describe('signalQuery', () => {
  const cases: [string, string | undefined][] = [
    ['rounds_agent_up == 0', 'rounds_agent_up == bool 0'],
    ['rounds_check_status{status="CRITICAL"} == 1', 'rounds_check_status{status="CRITICAL"} == bool 1'],
    ['{__name__=~"a|b"} < 14 * 86400', '{__name__=~"a|b"} < bool 14 * 86400'],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket{le!="1"}[5m]))) > 5', 'histogram_quantile(0.9, sum by (le) (rate(x_bucket{le!="1"}[5m]))) > bool 5'],
    ['rounds_agent_up', undefined],
    ['a > 1 and b < 2', undefined],
  ];
  for (const [expr, expected] of cases) {
    it(`turns ${expr} into ${expected ?? 'nothing'}`, () => assert.equal(signalQuery(expr), expected));
  }
});
