import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sdk from '../../libs/plugin-sdk/src/index.js';
import * as testing from '../../libs/plugin-sdk/src/testing.js';
import { ROOT } from '../e2e/harness.js';

const readme = readFileSync(join(ROOT, 'libs', 'plugin-sdk', 'README.md'), 'utf8');

test("the SDK's README names everything the SDK exports, and the package's major version is the plugin API version", () => {
  const missing = [...Object.keys(sdk), ...Object.keys(testing)].filter((name) => !readme.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'libs/plugin-sdk/README.md does not name these exports');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'libs', 'plugin-sdk', 'package.json'), 'utf8')) as { version: string };
  assert.equal(pkg.version.split('.')[0], String(sdk.PLUGIN_API_VERSION));
});

test('the example plugin depends on the tarball `npm run build:plugin-sdk` makes of this SDK version', () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'libs', 'plugin-sdk', 'package.json'), 'utf8')) as { version: string };
  const example = JSON.parse(readFileSync(join(ROOT, 'examples', 'plugins', 'modality-disk', 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.deepEqual(example.dependencies, { '@rounds/plugin-sdk': `file:../../../build/plugin-sdk/rounds-plugin-sdk-${version}.tgz` });
});
