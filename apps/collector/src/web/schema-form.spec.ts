import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import { CHANNEL_JSON_SCHEMAS, CHANNEL_TYPES, validateChannelConfig } from '../notifications/channel-config.js';
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

const channelFields = (type: keyof typeof CHANNEL_JSON_SCHEMAS) => fieldsOf(CHANNEL_JSON_SCHEMAS[type]);

describe('forms made from notification channel schemas', () => {
  it('gives every field of a type its kind and marks the secrets write-only', () => {
    const smtp = Object.fromEntries(channelFields('smtp').map((f) => [f.name.replace('config.', ''), f]));
    assert.deepEqual(Object.keys(smtp), ['host', 'port', 'security', 'username', 'password', 'from', 'to', 'verifyCertificate', 'caCertificate', 'template']);
    assert.equal(smtp['template']?.kind, 'group', 'the message template is a group of the form');
    assert.deepEqual(
      smtp['template']?.fields.map((f) => [f.name, f.kind]),
      [
        ['config.template.subject', 'text'],
        ['config.template.body', 'multiline'],
        ['config.template.html', 'multiline'],
      ],
    );
    const typed = configFrom(channelFields('smtp'), { 'config.template.body': 'Site {{labels.site}}\r\n{{summary}}' }).config;
    assert.deepEqual(typed['template'], { body: 'Site {{labels.site}}\n{{summary}}' }, 'a template body keeps its line breaks');
    assert.equal(smtp['port']?.kind, 'integer');
    assert.equal(smtp['port']?.defaultText, '587');
    assert.deepEqual(smtp['security']?.options, ['starttls', 'tls', 'none']);
    assert.equal(smtp['to']?.kind, 'lines');
    assert.equal(smtp['verifyCertificate']?.kind, 'boolean');
    assert.deepEqual(
      CHANNEL_TYPES.flatMap((t) => channelFields(t))
        .filter((f) => f.secret)
        .map((f) => f.name),
      ['config.password', 'config.botToken', 'config.url', 'config.hmacSecret', 'config.headers', 'config.password'],
    );
    const webhook = Object.fromEntries(channelFields('webhook').map((f) => [f.name, f]));
    assert.deepEqual([webhook['config.headers']?.kind, webhook['config.url']?.kind], ['pairs', 'secret'], 'header values are secrets in a Name: value box');
    const chatId = channelFields('telegram').find((f) => f.name === 'config.chatId');
    assert.deepEqual([chatId?.kind, chatId?.numberOrText], ['text', true], 'a chat id is a number or an @name');
  });

  it('turns a filled SMTP form into a config its schema accepts', () => {
    const { config, errors } = configFrom(channelFields('smtp'), {
      'config.host': 'relay.hospital.example',
      'config.port': '25',
      'config.security': 'none',
      'config.username': 'rounds',
      'config.password': 'pw-1234',
      'config.from': 'rounds@hospital.example',
      'config.to': 'it@hospital.example\r\n\r\n  oncall@hospital.example ',
      'config.verifyCertificate': ['false', 'true'],
      'config.caCertificate': '',
    });
    assert.deepEqual(errors, {});
    assert.deepEqual(config, {
      host: 'relay.hospital.example',
      port: 25,
      security: 'none',
      username: 'rounds',
      password: 'pw-1234',
      from: 'rounds@hospital.example',
      to: ['it@hospital.example', 'oncall@hospital.example'],
      verifyCertificate: true,
    });
    assert.equal(validateChannelConfig('smtp', config).ok, true);
  });

  it('sends the redacted placeholder back for an empty secret field on edit, a new value when one is typed, and never shows a secret', () => {
    const fields = channelFields('webhook');
    const stored = { url: REDACTED, headers: { Authorization: REDACTED }, signatureHeader: 'X-Sig' };
    const shown = valuesOf(fields, stored);
    assert.deepEqual(shown.values, { 'config.signatureHeader': 'X-Sig' });
    assert.deepEqual([...shown.secretsSet], ['config.url', 'config.headers']);
    assert.deepEqual([...valuesOf(fields, { url: REDACTED, headers: {} }).secretsSet], ['config.url'], 'no headers is not a set secret');
    const empty = { 'config.url': '', 'config.hmacSecret': '', 'config.signatureHeader': 'X-Sig', 'config.headers': '  ' };
    assert.deepEqual(configFrom(fields, empty, undefined, stored).config, {
      url: REDACTED,
      signatureHeader: 'X-Sig',
      headers: { Authorization: REDACTED },
    });
    const typed = configFrom(fields, { 'config.url': 'https://new.example/h', 'config.headers': 'X-Token: abc' }, undefined, stored);
    assert.deepEqual(typed.config, { url: 'https://new.example/h', headers: { 'X-Token': 'abc' } });
    assert.ok(!JSON.stringify(typed.values).includes('abc') && !JSON.stringify(typed.values).includes('new.example'), 'secrets are not shown again');
    assert.deepEqual(
      configFrom(channelFields('telegram'), { 'config.botToken': '', 'config.chatId': '-1001' }).config,
      { chatId: -1001 },
      'on create an empty secret is left out',
    );
    assert.deepEqual(configFrom(channelFields('telegram'), { 'config.chatId': '@rounds_alerts' }).config, { chatId: '@rounds_alerts' });
  });

  it('names a secret header line without a colon by its number, never quoting what may be the secret', () => {
    const { errors } = configFrom(channelFields('webhook'), { 'config.headers': 'X-Site: north\nBearer s3cret-token' });
    assert.equal(errors['config.headers'], 'write one "Name: value" a line (line 2 has no colon)');
  });
});
