import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import { configFrom, fieldsOf, formFieldOf, secretTexts, valuesOf, type FormField } from './schema-form.js';

const registry = PluginRegistry.withBuiltins({ nagiosCommands: {} });
const flat = (fields: readonly FormField[]): FormField[] => fields.flatMap((f) => [f, ...flat(f.fields)]);
const kinds = (plugin: string) => Object.fromEntries(flat(fieldsOf(registry.get(plugin)!.jsonSchema)).map((f) => [f.name, f.kind]));

describe('forms made from plugin schemas', () => {
  it('gives every built-in plugin a field per setting, each of the plainest kind that holds it', () => {
    const http = kinds('http');
    assert.equal(http['config.url'], 'text');
    assert.equal(http['config.method'], 'select');
    assert.equal(http['config.headers'], 'pairs');
    assert.equal(http['config.json'], 'json');
    assert.equal(http['config.followRedirects'], 'boolean');
    assert.equal(http['config.maxRedirects'], 'integer');
    assert.equal(http['config.basicAuth'], 'group');
    assert.equal(http['config.basicAuth.password'], 'secret');
    assert.equal(kinds('orthanc')['config.modalities'], 'lines');
    assert.equal(kinds('smb-share')['config.password'], 'secret');
    for (const name of registry.names()) assert.ok(fieldsOf(registry.get(name)!.jsonSchema).length > 0, `${name} has no fields`);
  });

  it('labels a field from its key, says its default and marks what is required', () => {
    const [url, method] = fieldsOf(registry.get('http')!.jsonSchema);
    assert.deepEqual([url!.label, url!.required, url!.defaultText], ['URL', true, null]);
    assert.deepEqual([method!.label, method!.required, method!.defaultText], ['Method', false, 'GET']);
  });

  it('reads a posted form back into the config the schema accepts, leaving empty fields to the defaults', () => {
    const fields = fieldsOf(registry.get('http')!.jsonSchema);
    const { config, errors } = configFrom(fields, {
      'config.url': 'https://pacs.example/dicom-web',
      'config.method': '',
      'config.headers': 'Accept: application/dicom+json\nX-Site: north',
      'config.expectedStatus': '200',
      'config.followRedirects': ['false', 'true'],
      'config.maxRedirects': '3',
      'config.json': '[{"path": "$.status", "equals": "UP"}]',
      'config.basicAuth.username': 'svc',
      'config.basicAuth.password': 's3cret',
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(config, {
      url: 'https://pacs.example/dicom-web',
      headers: { Accept: 'application/dicom+json', 'X-Site': 'north' },
      expectedStatus: 200,
      followRedirects: true,
      maxRedirects: 3,
      json: [{ path: '$.status', equals: 'UP' }],
      basicAuth: { username: 'svc', password: 's3cret' },
    });
    assert.equal(registry.validate('http', config).ok, true);
  });

  it('names each field it cannot read, with what to write instead', () => {
    const fields = fieldsOf(registry.get('http')!.jsonSchema);
    const { errors } = configFrom(fields, { 'config.maxRedirects': '2.5', 'config.headers': 'no colon here', 'config.json': '[{path}]' });
    assert.match(errors['config.maxRedirects']!, /whole number/);
    assert.match(errors['config.headers']!, /"Name: value"/);
    assert.match(errors['config.json']!, /is not JSON/);
  });

  it('never returns a stored secret to the form; an empty one keeps the stored one, or is left out when none is stored', () => {
    const fields = fieldsOf(registry.get('orthanc')!.jsonSchema);
    const { values, secretsSet } = valuesOf(fields, { url: 'http://o:8042', username: 'rounds', password: 'p4ss' });
    assert.equal(values['config.username'], 'rounds');
    assert.ok(!Object.values(values).includes('p4ss'));
    assert.deepEqual([...secretsSet], ['config.password']);
    const view = { url: 'http://o:8042', username: 'rounds', password: REDACTED };
    assert.equal(configFrom(fields, { 'config.password': '' }, undefined, view).config['password'], REDACTED);
    assert.equal('password' in configFrom(fields, { 'config.password': '' }).config, false);
    assert.equal(configFrom(fields, { 'config.password': '' }, () => 'carried').config['password'], 'carried');
  });

  it('gives back what was typed in a secret only to be carried sealed, never among the values a page shows', () => {
    const fields = fieldsOf(registry.get('orthanc')!.jsonSchema);
    const typed = configFrom(fields, { 'config.username': 'rounds', 'config.password': 'p4ss' });
    assert.deepEqual(typed.secrets, { 'config.password': 'p4ss' });
    assert.equal('config.password' in typed.values, false);
    assert.deepEqual(configFrom(fields, { 'config.password': '' }, () => 'carried').secrets, { 'config.password': 'carried' });
    assert.deepEqual(configFrom(fields, { 'config.password': '' }, undefined, { password: REDACTED }).secrets, {}, 'a kept secret is not typed');
    assert.deepEqual(secretTexts(fields, { url: 'http://o:8042', username: 'rounds', password: 'p4ss' }), { 'config.password': 'p4ss' });
  });

  it('shows an error beside the deepest field that holds it, or beside the whole config', () => {
    const fields = fieldsOf(registry.get('http')!.jsonSchema);
    assert.equal(formFieldOf(fields, 'config.json.0.path'), 'config.json');
    assert.equal(formFieldOf(fields, 'config.basicAuth.password'), 'config.basicAuth.password');
    assert.equal(formFieldOf(fields, 'config.nonsense'), 'config');
    assert.equal(formFieldOf(fields, 'config'), 'config');
    assert.equal(formFieldOf(fields, 'name'), 'name');
  });

  it('makes a form from a custom plugin’s schema as its agent sent it', () => {
    const schema = {
      type: 'object',
      properties: { ris: { type: 'string', description: 'RIS host' }, retries: { type: 'integer', default: 2 }, token: { type: 'string', 'x-secret': true } },
      required: ['ris'],
    };
    const fields = fieldsOf(schema);
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.required, f.defaultText]),
      [
        ['config.ris', 'text', true, null],
        ['config.retries', 'integer', false, '2'],
        ['config.token', 'secret', false, null],
      ],
    );
  });
});
