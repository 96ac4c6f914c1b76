import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { builtinPlugins, PluginRegistry, PluginRejectedError } from './registry.js';
import type { Plugin } from './plugin.js';
import { PLUGIN_API_VERSION } from './api-version.js';
import { declarationProblem, metricLabelNames, RESERVED_METRIC_LABELS } from './metrics.js';
import { describePlugin } from './describe.js';
import { runCheck } from './testing/harness.js';
import { formatFieldErrors } from './schema.js';

/** This file runs as dist/libs/plugins/src/registry.spec.js; the sources live under the repo root. */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const pluginFolder = (name: string) => `${repoRoot}libs/plugins/src/${name}`;

const queueDepth = { name: 'queue_depth', unit: 'count', help: 'Messages waiting in a queue.', labels: ['queue'] };

/** The candidate with one metric declaration changed: a fixture per rule the declarations must keep. */
function declaring(overrides: Record<string, unknown>): Record<string, unknown> {
  return candidate({ metrics: [{ ...queueDepth, ...overrides }] });
}

function candidate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'pacs-queue',
    version: '1.2.3',
    apiVersion: PLUGIN_API_VERSION,
    description: 'Checks the depth of the PACS inbound queue.',
    configSchema: z.strictObject({ host: z.string(), port: z.number().int().default(104) }),
    metrics: [queueDepth],
    run: async () => ({ status: 'OK', reason: 'ok', summary: 'queue empty', metrics: [] }),
    ...overrides,
  };
}

function refusal(registry: PluginRegistry, value: unknown, source: string): string {
  try {
    registry.register(value, source);
  } catch (e) {
    assert.ok(e instanceof PluginRejectedError, `expected a PluginRejectedError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('register() accepted the plugin');
}

describe('PluginRegistry.withBuiltins', () => {
  it('has the http and tcp plugins, with names listed in order', () => {
    const names = PluginRegistry.withBuiltins().names();
    assert.ok(names.includes('http'), `names: ${names.join(', ')}`);
    assert.ok(names.includes('tcp'), `names: ${names.join(', ')}`);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(
      names,
      builtinPlugins()
        .map((p) => p.name)
        .sort(),
    );
  });

  it('records every built-in as coming from "builtin" with an object JSON Schema of its config', () => {
    for (const entry of PluginRegistry.withBuiltins().list()) {
      assert.equal(entry.source, 'builtin', entry.plugin.name);
      assert.equal(entry.jsonSchema['type'], 'object', entry.plugin.name);
      assert.ok(entry.jsonSchema['properties'], `${entry.plugin.name} has no properties in its JSON Schema`);
    }
  });

  for (const plugin of builtinPlugins()) {
    it(`the ${plugin.name} plugin folder has its plugin code, schema, README.md and sample.yaml`, () => {
      const missing = [`${plugin.name}.plugin.ts`, `${plugin.name}.schema.ts`, 'README.md', 'sample.yaml'].filter(
        (file) => !existsSync(`${pluginFolder(plugin.name)}/${file}`),
      );
      assert.deepEqual(missing, [], `libs/plugins/src/${plugin.name}/ lacks ${missing.join(', ')}`);
    });

    it(`the ${plugin.name} plugin declares the metrics it reports, each with a unit and help`, () => {
      assert.ok(plugin.metrics.length > 0, `${plugin.name} declares no metrics`);
      assert.equal(declarationProblem(plugin.metrics), undefined);
    });

    it(`the ${plugin.name} sample.yaml is a valid config for the plugin`, () => {
      const sample: unknown = parseYaml(readFileSync(`${pluginFolder(plugin.name)}/sample.yaml`, 'utf8'));
      const v = PluginRegistry.withBuiltins().validate(plugin.name, sample);
      assert.equal(v.ok ? '' : formatFieldErrors(v.errors), '');
    });
  }
});

describe('PluginRegistry.register', () => {
  it('accepts a well-formed plugin and returns its entry', () => {
    const registry = new PluginRegistry();
    const entry = registry.register(candidate(), '/opt/rounds/plugins/pacs-queue');
    assert.equal(entry.source, '/opt/rounds/plugins/pacs-queue');
    assert.equal(registry.get('pacs-queue'), entry);
    assert.deepEqual(registry.names(), ['pacs-queue']);
    // Input side: a field with a default is optional in the schema sent to the collector.
    assert.deepEqual(entry.jsonSchema['required'], ['host']);
  });

  const refusals: [string, unknown, string][] = [
    ['a module that exports no object', 42, 'plugin from /opt/p refused: it does not export a plugin object (use definePlugin from libs/plugins)'],
    ['null', null, 'plugin from /opt/p refused: it does not export a plugin object (use definePlugin from libs/plugins)'],
    ['a name that is not kebab-case', candidate({ name: 'Bad_Name' }), 'plugin from /opt/p refused: name "Bad_Name" must be kebab-case (e.g. "pacs-queue")'],
    ['a name with a trailing dash', candidate({ name: 'pacs-' }), 'plugin from /opt/p refused: name "pacs-" must be kebab-case (e.g. "pacs-queue")'],
    ['no name', candidate({ name: undefined }), 'plugin from /opt/p refused: name undefined must be kebab-case (e.g. "pacs-queue")'],
    ['a version that is not semver', candidate({ version: '1.0' }), 'plugin "pacs-queue" from /opt/p refused: version "1.0" must be semver (e.g. "1.0.0")'],
    ['no version', candidate({ version: undefined }), 'plugin "pacs-queue" from /opt/p refused: version undefined must be semver (e.g. "1.0.0")'],
    [
      'a plugin built for another major version of the plugin API',
      candidate({ apiVersion: 2 }),
      'plugin "pacs-queue" from /opt/p refused: it is built for plugin API 2, this agent runs plugin API 1 — set apiVersion: 1 and build it against @rounds/plugin-sdk 1.x',
    ],
    [
      'a plugin that says nothing of the plugin API it is built for',
      candidate({ apiVersion: undefined }),
      'plugin "pacs-queue" from /opt/p refused: it has no apiVersion, this agent runs plugin API 1 — set apiVersion: 1 and build it against @rounds/plugin-sdk 1.x',
    ],
    ['no description', candidate({ description: undefined }), 'plugin "pacs-queue" from /opt/p refused: description is missing'],
    ['a blank description', candidate({ description: '   ' }), 'plugin "pacs-queue" from /opt/p refused: description is missing'],
    ['no configSchema', candidate({ configSchema: undefined }), 'plugin "pacs-queue" from /opt/p refused: configSchema is missing or is not a zod schema'],
    [
      'a JSON Schema instead of a zod schema',
      candidate({ configSchema: { type: 'object', properties: {} } }),
      'plugin "pacs-queue" from /opt/p refused: configSchema is missing or is not a zod schema',
    ],
    ['no run function', candidate({ run: undefined }), 'plugin "pacs-queue" from /opt/p refused: run(config, ctx) is missing'],
    ['a run that is not a function', candidate({ run: 'run' }), 'plugin "pacs-queue" from /opt/p refused: run(config, ctx) is missing'],
    [
      'no metrics declarations',
      candidate({ metrics: undefined }),
      'plugin "pacs-queue" from /opt/p refused: metrics is missing — declare every metric run() reports (an empty list when it reports none)',
    ],
    [
      'a declaration that is not an object',
      candidate({ metrics: ['queue_depth'] }),
      'plugin "pacs-queue" from /opt/p refused: metrics[0] is not a declaration ({ name, unit, help, labels? })',
    ],
    [
      'a metric name that is not snake_case',
      declaring({ name: 'QueueDepth' }),
      'plugin "pacs-queue" from /opt/p refused: metric name "QueueDepth" must be snake_case (e.g. "queue_depth")',
    ],
    [
      'a metric without a name',
      declaring({ name: undefined }),
      'plugin "pacs-queue" from /opt/p refused: metric name undefined must be snake_case (e.g. "queue_depth")',
    ],
    [
      'a metric name over the result limit',
      declaring({ name: 'q'.repeat(129) }),
      `plugin "pacs-queue" from /opt/p refused: metric name "${'q'.repeat(129)}" is longer than 128 characters`,
    ],
    [
      'a metric declared twice',
      candidate({ metrics: [queueDepth, { ...queueDepth, unit: 'counter' }] }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" is declared twice',
    ],
    [
      'a unit outside METRIC_UNITS',
      declaring({ unit: 'ms' }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" has unit "ms", not one of: seconds, bytes, ratio, percent, days, bytes_per_second, count, counter, "" (unitless)',
    ],
    [
      'a gauge named like a counter',
      declaring({ name: 'queue_depth_total' }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth_total" ends in _total, which Prometheus reads as a counter or histogram part — rename it, or declare unit "counter" for a count that only goes up',
    ],
    [
      'a metric without help',
      declaring({ help: undefined }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" has no help (one sentence saying what it measures)',
    ],
    [
      'a metric with blank help',
      declaring({ help: ' ' }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" has no help (one sentence saying what it measures)',
    ],
    [
      'labels that are not a list',
      declaring({ labels: 'queue' }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" labels must be a list of label names',
    ],
    [
      'a label that is not an identifier',
      declaring({ labels: ['queue-name'] }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" label "queue-name" must be snake_case (e.g. "queue")',
    ],
    [
      'a label the collector reserves',
      declaring({ labels: ['queue', 'check'] }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" label "check" is reserved: the collector adds agent, check, plugin, status itself — rename it',
    ],
    [
      'a label declared twice',
      declaring({ labels: ['queue', 'queue'] }),
      'plugin "pacs-queue" from /opt/p refused: metric "queue_depth" declares label "queue" twice',
    ],
  ];
  for (const [what, value, message] of refusals) {
    it(`refuses ${what} with a message naming the source and the problem`, () => {
      const registry = new PluginRegistry();
      assert.equal(refusal(registry, value, '/opt/p'), message);
      assert.deepEqual(registry.names(), []);
    });
  }

  for (const label of RESERVED_METRIC_LABELS) {
    it(`refuses a metric label "${label}", which the collector adds itself`, () => {
      assert.match(refusal(new PluginRegistry(), declaring({ labels: [label] }), '/opt/p'), new RegExp(`label "${label}" is reserved`));
    });
  }

  it('asks no apiVersion of a built-in, which follows the contract it ships with', () => {
    const { apiVersion: _, ...unversioned } = candidate();
    assert.equal(new PluginRegistry().register(unversioned, 'builtin').plugin.name, 'pacs-queue');
  });

  it('asks for an out-of-thread runner only once a plugin is accepted, and keeps it on the entry', () => {
    const registry = new PluginRegistry();
    const asked: string[] = [];
    const runner = { run: () => Promise.reject(new Error('not run here')), close: () => Promise.resolve() };
    const isolate = (plugin: Plugin) => (asked.push(plugin.name), runner);
    refusal(registry, candidate({ version: 'x' }), '/opt/p');
    assert.equal(registry.register(candidate(), '/opt/p', isolate).isolated, runner);
    assert.deepEqual(asked, ['pacs-queue']);
  });

  it('accepts a plugin that declares no metrics with an empty list', () => {
    assert.deepEqual(new PluginRegistry().register(candidate({ metrics: [] }), '/opt/p').plugin.metrics, []);
  });

  it('refuses a configSchema that only looks like zod, saying it cannot become JSON Schema', () => {
    const message = refusal(new PluginRegistry(), candidate({ configSchema: { safeParse: () => ({ success: true }) } }), '/opt/p');
    assert.match(message, /^plugin "pacs-queue" from \/opt\/p refused: its configSchema cannot be expressed as JSON Schema \(.+\)$/);
  });

  it('refuses a duplicate name with a message naming both sources, and keeps the first', () => {
    const registry = new PluginRegistry();
    const first = registry.register(candidate(), '/opt/rounds/plugins/pacs-queue');
    assert.equal(
      refusal(registry, candidate({ version: '2.0.0' }), '/opt/rounds/plugins/pacs-queue-v2'),
      'plugin "pacs-queue" from /opt/rounds/plugins/pacs-queue-v2 refused: the name is already taken by the plugin from /opt/rounds/plugins/pacs-queue — rename one of them',
    );
    assert.equal(registry.get('pacs-queue'), first);
  });

  it('refuses a custom plugin that takes the name of a built-in', () => {
    const registry = PluginRegistry.withBuiltins();
    assert.equal(
      refusal(registry, candidate({ name: 'http' }), '/opt/rounds/plugins/my-http'),
      'plugin "http" from /opt/rounds/plugins/my-http refused: the name is already taken by the plugin from builtin — rename one of them',
    );
    assert.equal(registry.get('http')!.source, 'builtin');
  });

  it('keeps the other plugins when one is refused', () => {
    const registry = new PluginRegistry();
    registry.register(candidate({ name: 'alpha' }), 'a');
    assert.throws(() => registry.register(candidate({ name: 'beta', run: undefined }), 'b'), PluginRejectedError);
    registry.register(candidate({ name: 'gamma' }), 'c');
    assert.deepEqual(registry.names(), ['alpha', 'gamma']);
  });
});

describe("PluginRegistry's metric declarations", () => {
  it('gives the declarations of a plugin by name, and undefined for one it does not have', () => {
    const registry = PluginRegistry.withBuiltins();
    assert.equal(registry.metricDeclarations('nagios'), registry.get('nagios')!.plugin.metrics);
    assert.ok(registry.metricDeclarations('http')!.some((m) => m.name === 'connect_seconds' && m.unit === 'seconds'));
    assert.equal(registry.metricDeclarations('smtp'), undefined);
  });

  it("gives the union of the built-ins' label names, sorted: the collector's label allow-list", () => {
    assert.deepEqual(PluginRegistry.withBuiltins().metricLabelNames(), ['core', 'fstype', 'interface', 'label', 'modality', 'mount', 'uom']);
  });

  it("takes a custom plugin's labels into the union, and takes wire descriptions alike", () => {
    const registry = PluginRegistry.withBuiltins();
    registry.register(candidate(), '/opt/p');
    assert.ok(registry.metricLabelNames().includes('queue'));
    assert.deepEqual(metricLabelNames(registry.list().map(describePlugin)), registry.metricLabelNames());
  });

  it('describes a registered plugin for the wire with its config schema, source and metric declarations', () => {
    const registry = new PluginRegistry();
    const entry = registry.register(
      candidate({ metrics: [queueDepth, { name: 'oldest_seconds', unit: 'seconds', help: 'Age of the oldest message.' }] }),
      '/opt/p',
    );
    assert.deepEqual(describePlugin(entry), {
      name: 'pacs-queue',
      version: '1.2.3',
      description: 'Checks the depth of the PACS inbound queue.',
      configSchemaJson: JSON.stringify(entry.jsonSchema),
      source: '/opt/p',
      metrics: [
        { name: 'queue_depth', unit: 'count', help: 'Messages waiting in a queue.', labels: ['queue'] },
        { name: 'oldest_seconds', unit: 'seconds', help: 'Age of the oldest message.', labels: [] },
      ],
    });
  });

  it('checks declarations an agent described over the wire with the same rules', () => {
    const wire = describePlugin(PluginRegistry.withBuiltins().get('host-metrics')!);
    assert.equal(declarationProblem(wire.metrics), undefined);
    assert.equal(
      declarationProblem([{ ...wire.metrics[0]!, labels: ['agent'] }]),
      `metric "${wire.metrics[0]!.name}" label "agent" is reserved: the collector adds agent, check, plugin, status itself — rename it`,
    );
  });
});

describe('the fixture-queue custom plugin (test/fixtures/plugins)', () => {
  it('loads as one folder, declares two metrics, one with a label, and reports both as declared', async () => {
    const mod = (await import(pathToFileURL(`${repoRoot}test/fixtures/plugins/fixture-queue/index.js`).href)) as { default: unknown };
    const registry = PluginRegistry.withBuiltins();
    const entry = registry.register(mod.default, 'test/fixtures/plugins/fixture-queue');
    assert.deepEqual(
      entry.plugin.metrics.map((m) => [m.name, m.labels ?? []]),
      [
        ['depth', ['queue']],
        ['oldest_message_age_seconds', []],
      ],
    );
    const report = await runCheck(entry.plugin, { queue: 'inbound', depth: 7 });
    assert.equal(report.outcome.summary, '7 messages waiting in inbound, the oldest for 1.5 s');
    assert.deepEqual(report.outcome.metrics, [
      { name: 'depth', value: 7, unit: 'count', labels: { queue: 'inbound' } },
      { name: 'oldest_message_age_seconds', value: 1.5, unit: 'seconds' },
    ]);
  });
});

describe('PluginRegistry.validate', () => {
  function twoPlugins(): PluginRegistry {
    const registry = new PluginRegistry();
    registry.register(candidate({ name: 'beta' }), 'b');
    registry.register(candidate({ name: 'alpha' }), 'a');
    return registry;
  }

  it('names the plugins this agent has when asked about an unknown one', () => {
    assert.deepEqual(twoPlugins().validate('smtp', {}), {
      ok: false,
      errors: [{ field: 'plugin', message: 'unknown plugin "smtp" (this agent has: alpha, beta)' }],
    });
  });

  it('names the built-ins when a built-in registry is asked about an unknown plugin', () => {
    const v = PluginRegistry.withBuiltins().validate('smtp', {});
    assert.equal(v.ok, false);
    assert.match(v.ok ? '' : v.errors[0]!.message, /^unknown plugin "smtp" \(this agent has: .*\bhttp\b.*\btcp\b.*\)$/);
  });

  it("applies the plugin's defaults to a valid config", () => {
    assert.deepEqual(twoPlugins().validate('alpha', { host: 'pacs' }), { ok: true, value: { host: 'pacs', port: 104 } });
  });

  it('returns field-named errors, unknown keys included, for an invalid config', () => {
    const v = twoPlugins().validate('alpha', { host: 'pacs', prot: 104 });
    assert.deepEqual(v, { ok: false, errors: [{ field: 'prot', message: 'unknown field' }] });
  });

  it('parseConfig throws one readable error naming the plugin and the fields', () => {
    assert.throws(() => twoPlugins().parseConfig('alpha', { prot: 104 }), {
      message: 'invalid alpha config: host: Invalid input: expected string, received undefined; prot: unknown field',
    });
    assert.deepEqual(twoPlugins().parseConfig('alpha', { host: 'h', port: 11112 }), { host: 'h', port: 11112 });
  });
});
