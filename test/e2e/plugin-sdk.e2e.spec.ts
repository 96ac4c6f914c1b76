import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN_API_VERSION } from '#rounds/plugins';
import { runProgram, tempDir } from './harness.js';
import { npmOffline, packPluginSdk, typecheck } from './plugin-sdk.js';

const TSCONFIG = {
  compilerOptions: { strict: true, noEmit: true, target: 'ES2023', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] },
  include: ['plugin.ts'],
};

/** A plugin in TypeScript against the installed SDK's types; `unit` and `reason` are what the test varies. */
const pluginSource = (unit: string, reason: string) => `import { definePlugin, outcome, secret, z } from '@rounds/plugin-sdk';
export default definePlugin({
  name: 'typed-plugin',
  version: '1.0.0',
  apiVersion: 1,
  description: 'Checks nothing, with types.',
  configSchema: z.strictObject({ host: z.string(), password: secret('a password') }),
  metrics: [{ name: 'answer_seconds', unit: '${unit}', help: 'How long it took.' }],
  async run(config, ctx) {
    const host: string = config.host;
    ctx.signal.throwIfAborted();
    return outcome('OK', '${reason}', host, [{ name: 'answer_seconds', value: 1, unit: '${unit}' }]);
  },
});
`;

/**
 * The SDK as a plugin author gets it: \`npm pack\` of libs/plugin-sdk installs into a project of
 * its own without a registry, imports, and its types hold a plugin to the contract.
 */
describe('@rounds/plugin-sdk packed', { timeout: 240_000 }, () => {
  let dir: string;
  let tarball: string;
  let project: string;

  before(async () => {
    dir = tempDir('plugin-sdk');
    tarball = await packPluginSdk(join(dir, 'pack'));
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'project', private: true, type: 'module' }));
    const install = await npmOffline(project, ['install', tarball]);
    assert.equal(install.code, 0, install.output);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the tarball holds JS and .d.ts, zod bundled, and none of the agent’s gRPC code; its major version is the plugin API version', async () => {
    const { output } = await runProgram('tar', ['tzf', tarball]);
    const files = output.trim().split('\n');
    for (const file of [
      'package/dist/libs/plugin-sdk/src/index.js',
      'package/dist/libs/plugin-sdk/src/index.d.ts',
      'package/dist/libs/plugin-sdk/src/testing.d.ts',
    ]) {
      assert.ok(files.includes(file), `${file} missing from the tarball`);
    }
    assert.ok(files.includes('package/node_modules/zod/package.json'), 'zod is bundled');
    assert.deepEqual(
      files.filter((f) => /generated|agent-service|grpc/.test(f)),
      [],
    );
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', '@rounds', 'plugin-sdk', 'package.json'), 'utf8')) as { version: string };
    assert.equal(Number(pkg.version.split('.')[0]), PLUGIN_API_VERSION);
  });

  test('the installed package imports: the contract, the schema helpers and the harness', async () => {
    const script = `
      import { PLUGIN_API_VERSION, toJsonSchema, secret, z } from '@rounds/plugin-sdk';
      import { runCheck, ManualClock } from '@rounds/plugin-sdk/testing';
      const schema = toJsonSchema(z.strictObject({ password: secret() }));
      console.log(PLUGIN_API_VERSION, JSON.stringify(schema.properties.password), typeof runCheck, typeof ManualClock);`;
    writeFileSync(join(project, 'imports.js'), script);
    const { code, output } = await runProgram(process.execPath, [join(project, 'imports.js')]);
    assert.equal(code, 0, output);
    assert.equal(output.trim(), `${PLUGIN_API_VERSION} {"type":"string","minLength":1,"x-secret":true} function function`);
  });

  test('tsc accepts a plugin that keeps the contract against the installed types', async () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(project, 'plugin.ts'), pluginSource('seconds', 'ok'));
    const { code, output } = await typecheck(project);
    assert.equal(code, 0, output);
  });

  test('tsc refuses a plugin with a unit and a reason outside the closed sets, naming them', async () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(project, 'plugin.ts'), pluginSource('secs', 'fine'));
    const { code, output } = await typecheck(project);
    assert.equal(code, 2, output);
    assert.match(output, /"secs"/);
    assert.match(output, /"fine"/);
  });
});
