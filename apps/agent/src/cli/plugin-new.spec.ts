import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLUGIN_API_VERSION } from '#rounds/plugins';
import { newPlugin } from './plugin-new.js';

// The written plugin installing, passing its tests and running is test/e2e/plugin-new.e2e.spec.ts; these are the rules.
describe('newPlugin', () => {
  let root: string;
  let sdk: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'rounds-plugin-new-'));
    sdk = join(root, 'sdk', 'rounds-plugin-sdk-1.0.0.tgz');
    mkdirSync(join(root, 'sdk'));
    writeFileSync(sdk, 'a tarball');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes every file with the name and API version filled in, and the SDK as a relative file: dependency', () => {
    const lines = newPlugin({ name: 'film-printer', parentDir: join(root, 'plugins'), sdk });
    const dir = join(root, 'plugins', 'film-printer');
    assert.deepEqual(readdirSync(dir).sort(), [
      '.gitignore',
      'README.md',
      'package.json',
      'plugin.js',
      'plugin.spec.js',
      'sample.yaml',
      'schema.js',
      'tsconfig.json',
    ]);
    for (const file of readdirSync(dir)) assert.doesNotMatch(readFileSync(join(dir, file), 'utf8'), /__[A-Z_]+__/, `${file} keeps a placeholder`);
    assert.match(readFileSync(join(dir, 'plugin.js'), 'utf8'), new RegExp(`name: 'film-printer',\\n  version: '0.1.0',[^]*apiVersion: ${PLUGIN_API_VERSION},`));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; main: string; dependencies: Record<string, string> };
    assert.equal(pkg.name, 'film-printer');
    assert.equal(pkg.main, 'plugin.js');
    assert.deepEqual(pkg.dependencies, { '@rounds/plugin-sdk': 'file:../../sdk/rounds-plugin-sdk-1.0.0.tgz' });
    assert.match(lines[0]!, /^wrote plugin film-printer in .*film-printer: /);
  });

  it('refuses a name that is not kebab-case, saying what the rule is', () => {
    for (const name of ['FilmPrinter', 'film_printer', '-film', 'film-', '3d-printer', '']) {
      assert.throws(() => newPlugin({ name, parentDir: root, sdk }), {
        message: `plugin name "${name}" must be kebab-case — lower-case letters and digits in words joined by "-", starting with a letter (e.g. "modality-disk")`,
      });
    }
  });

  it("refuses a built-in plugin's name", () => {
    assert.throws(() => newPlugin({ name: 'dicom-echo', parentDir: root, sdk }), /"dicom-echo" is a built-in plugin of this agent: choose another name/);
  });

  it('refuses a folder that exists and writes nothing into it', () => {
    mkdirSync(join(root, 'taken'));
    assert.throws(() => newPlugin({ name: 'taken', parentDir: root, sdk }), /taken already exists: choose another name or --dir/);
    assert.deepEqual(readdirSync(join(root, 'taken')), []);
  });

  it('refuses an SDK tarball that is not there, before writing anything', () => {
    assert.throws(() => newPlugin({ name: 'no-sdk', parentDir: root, sdk: join(root, 'missing.tgz') }), /no SDK tarball at .*missing\.tgz: pass --sdk/);
    assert.equal(existsSync(join(root, 'no-sdk')), false);
  });
});
